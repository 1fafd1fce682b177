/**
 * Matches between offers and needs in a congress (pods that follow each other). Pure: no
 * I/O, no clock (`now` is passed in).
 *
 * An offer fits a need when:
 *  - both are open and neither has expired (`expiresAt` or `availableUntil` passed);
 *  - they name the same resource specification (`specificationUri`), or, when either of
 *    them has none, the same category (compared case-insensitively). Two different
 *    specifications never match, whatever their categories;
 *  - their units are compatible: the same unit, or units of one dimension that convert
 *    (gram/kilogram/tonne, litre/cubicMetre, hour/day). A currency matches only the same
 *    currency code; every other unit only itself.
 *
 * Each match says how much of the need the offer covers (in the need's unit): the smaller
 * of the offer's remaining quantity and the quantity still needed. It is `full` when that is
 * the whole need, else `partial`; `enough` tells whether it reaches the need's minimum
 * (the whole need when the need states none). A quantity that is not stated means "any
 * amount": an offer of any amount covers any need in full.
 *
 * Sorted: urgent needs first, then full before partial, then the larger share of the need,
 * then by need and offer key (a stable order).
 */
import { Dec } from "../books/decimal.ts";
import { isCurrencyCode } from "../books/model.ts";
import type { ProposalPurpose, ProposalStatus } from "./model.ts";

/** Units that convert within a dimension: factor to the dimension's base unit. */
export const UNIT_DIMENSIONS: Readonly<Record<string, { dimension: "mass" | "volume" | "time"; factor: string }>> = {
  gram: { dimension: "mass", factor: "0.001" },
  kilogram: { dimension: "mass", factor: "1" },
  tonne: { dimension: "mass", factor: "1000" },
  litre: { dimension: "volume", factor: "1" },
  cubicMetre: { dimension: "volume", factor: "1000" },
  hour: { dimension: "time", factor: "1" },
  day: { dimension: "time", factor: "24" },
};

/** The unit sums of a dimension are shown in (its base unit). */
export const DIMENSION_UNITS: Readonly<Record<"mass" | "volume" | "time", string>> = { mass: "kilogram", volume: "litre", time: "hour" };

/**
 * The key two units must share to be compatible: the dimension for convertible units, the
 * code for a currency, the unit itself otherwise.
 */
export function unitKey(unit: string): string {
  const d = UNIT_DIMENSIONS[unit];
  if (d) return `dim:${d.dimension}`;
  if (isCurrencyCode(unit)) return `cur:${unit}`;
  return `unit:${unit}`;
}

export const unitsCompatible = (a: string, b: string): boolean => unitKey(a) === unitKey(b);

/** How many `to` one `from` is (kilogram → gram: 1000), or null when they do not convert. */
export function conversionFactor(from: string, to: string): Dec | null {
  if (from === to) return new Dec(1);
  const f = UNIT_DIMENSIONS[from];
  const t = UNIT_DIMENSIONS[to];
  if (!f || !t || f.dimension !== t.dimension) return null;
  return new Dec(f.factor).div(t.factor);
}

/** `quantity` of `from` expressed in `to` (normal-form decimal), or null when they do not convert. */
export function convertQuantity(quantity: string, from: string, to: string): string | null {
  const factor = conversionFactor(from, to);
  if (!factor) return null;
  const v = new Dec(quantity).times(factor);
  return v.isZero() ? "0" : v.toFixed();
}

/** What matching reads of an offer or a need (ours or a neighbour's copy). */
export interface MatchProposal {
  /** Unique among the proposals given (e.g. `ours:<id>`, `remote:<id>`). */
  key: string;
  /** Whose it is (the pod's actor IRI). */
  pod: string;
  purpose: ProposalPurpose;
  name: string;
  unit: string;
  category: string | null;
  specificationUri: string | null;
  /** resourceQuantity; null: any amount. */
  quantity: string | null;
  /** What is left (an offer) or still needed (a need); null: not said (then `quantity`). */
  remaining: string | null;
  minimum: string | null;
  urgent: boolean;
  status: ProposalStatus;
  expiresAt: Date | null;
  availableUntil: Date | null;
}

export interface Match {
  offer: string;
  need: string;
  /** The pods of the offer and the need. */
  offerPod: string;
  needPod: string;
  /** How the two fit: the same specification, or the same category. */
  by: "specification" | "category";
  urgent: boolean;
  /** full: covers the whole need; partial: part of it. */
  fit: "full" | "partial";
  /** The covered quantity reaches the need's minimum (the whole need when it has none). */
  enough: boolean;
  /** How much of the need the offer covers, in the need's unit; null: any amount (both unstated). */
  covers: string | null;
  unit: string;
  /** The share of the need covered, 0 to 1 (1 when the need states no quantity). */
  share: number;
}

/** True when the proposal can be matched at `now`: open, not expired, its window not over. */
export function isLive(p: Pick<MatchProposal, "status" | "expiresAt" | "availableUntil">, now: Date): boolean {
  if (p.status !== "open") return false;
  const t = now.getTime();
  if (p.expiresAt && p.expiresAt.getTime() <= t) return false;
  if (p.availableUntil && p.availableUntil.getTime() <= t) return false;
  return true;
}

/** A proposal prepared once: its amounts in its dimension's base unit. */
interface Prepared {
  p: MatchProposal;
  unitKey: string;
  category: string | null;
  /** remaining (or quantity) in base units; null: any amount. */
  amount: Dec | null;
  /** minimum in base units; null: none stated. */
  minimum: Dec | null;
  factor: Dec;
}

const positive = (v: string | null): Dec | null => {
  if (v === null) return null;
  const d = new Dec(v);
  return d.isNegative() ? new Dec(0) : d;
};

function prepare(p: MatchProposal): Prepared {
  const factor = new Dec(UNIT_DIMENSIONS[p.unit]?.factor ?? 1);
  const amount = positive(p.remaining ?? p.quantity);
  const minimum = positive(p.minimum);
  return {
    p,
    unitKey: unitKey(p.unit),
    category: p.category ? p.category.trim().toLowerCase() || null : null,
    amount: amount === null ? null : amount.times(factor),
    minimum: minimum === null ? null : minimum.times(factor),
    factor,
  };
}

function fit(offer: Prepared, need: Prepared): Match {
  const by: Match["by"] = offer.p.specificationUri && need.p.specificationUri ? "specification" : "category";
  let coveredBase: Dec | null;
  let full: boolean;
  if (need.amount === null) {
    coveredBase = offer.amount;
    full = true;
  } else if (offer.amount === null || offer.amount.gte(need.amount)) {
    coveredBase = need.amount;
    full = true;
  } else {
    coveredBase = offer.amount;
    full = false;
  }
  const wanted = need.minimum !== null && need.amount !== null && need.minimum.lt(need.amount) ? need.minimum : need.amount;
  const enough = full || (wanted !== null && coveredBase !== null && coveredBase.gte(wanted));
  const share = need.amount === null || need.amount.isZero() ? 1 : full ? 1 : coveredBase!.div(need.amount).toNumber();
  const covers = coveredBase === null ? null : coveredBase.div(need.factor);
  return {
    offer: offer.p.key,
    need: need.p.key,
    offerPod: offer.p.pod,
    needPod: need.p.pod,
    by,
    urgent: need.p.urgent,
    fit: full ? "full" : "partial",
    enough,
    covers: covers === null ? null : covers.isZero() ? "0" : covers.toDecimalPlaces(6, Dec.ROUND_DOWN).toFixed(),
    unit: need.p.unit,
    share,
  };
}

/** Order of matches: urgent first, full before partial, larger share, then keys. */
export function compareMatches(a: Match, b: Match): number {
  if (a.urgent !== b.urgent) return a.urgent ? -1 : 1;
  if (a.fit !== b.fit) return a.fit === "full" ? -1 : 1;
  if (a.share !== b.share) return b.share - a.share;
  return a.need < b.need ? -1 : a.need > b.need ? 1 : a.offer < b.offer ? -1 : a.offer > b.offer ? 1 : 0;
}

export interface MatchOptions {
  /** Keep at most this many matches per need (the best ones). Default: all. */
  perNeed?: number;
  /** Never match an offer and a need of the same pod (default true). */
  skipSamePod?: boolean;
}

/**
 * Every fitting (offer, need) pair among `offers` and `needs`, sorted (see the module
 * comment). Proposals of the wrong purpose, closed or expired ones are ignored. Candidate
 * pairs come from an index by specification and by category, so the work grows with the
 * pairs that share one, not with offers × needs.
 */
export function matchProposals(offers: readonly MatchProposal[], needs: readonly MatchProposal[], now: Date, options: MatchOptions = {}): Match[] {
  const skipSamePod = options.skipSamePod ?? true;
  const bySpec = new Map<string, Prepared[]>();
  const byCategory = new Map<string, Prepared[]>();
  for (const o of offers) {
    if (o.purpose !== "offer" || !isLive(o, now)) continue;
    const prepared = prepare(o);
    if (o.specificationUri) push(bySpec, `${o.specificationUri}\u0000${prepared.unitKey}`, prepared);
    if (prepared.category) push(byCategory, `${prepared.category}\u0000${prepared.unitKey}`, prepared);
  }
  const out: Match[] = [];
  for (const n of needs) {
    if (n.purpose !== "request" || !isLive(n, now)) continue;
    const need = prepare(n);
    const found: Match[] = [];
    if (n.specificationUri) {
      for (const offer of bySpec.get(`${n.specificationUri}\u0000${need.unitKey}`) ?? []) {
        if (skipSamePod && offer.p.pod === n.pod) continue;
        found.push(fit(offer, need));
      }
    }
    if (need.category) {
      for (const offer of byCategory.get(`${need.category}\u0000${need.unitKey}`) ?? []) {
        // Two specifications given: they decide (above), the category does not.
        if (n.specificationUri && offer.p.specificationUri) continue;
        if (skipSamePod && offer.p.pod === n.pod) continue;
        found.push(fit(offer, need));
      }
    }
    if (options.perNeed !== undefined && found.length > options.perNeed) {
      found.sort(compareMatches);
      found.length = options.perNeed;
    }
    for (const m of found) out.push(m);
  }
  return out.sort(compareMatches);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
