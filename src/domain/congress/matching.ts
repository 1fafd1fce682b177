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
 * then in the order the needs and offers were given (a stable order).
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
  let key = unitKeys.get(unit);
  if (key === undefined) {
    key = computeUnitKey(unit);
    if (unitKeys.size < 1000) unitKeys.set(unit, key);
  }
  return key;
}

const unitKeys = new Map<string, string>();

function computeUnitKey(unit: string): string {
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

/**
 * A proposal prepared once: its amounts in its dimension's smallest unit (grams, litres,
 * hours) as floats, for fast comparisons; exact decimals are computed only for the matches
 * kept, and whenever two floats are too close to decide.
 */
interface Prepared {
  p: MatchProposal;
  unitKey: string;
  category: string | null;
  /** remaining (or quantity) in base units; null: any amount. */
  amount: number | null;
  /** What the need wants at least (its minimum, or the whole need), in base units. */
  wanted: number | null;
  factor: number;
  /** Position in the input (the last tie-break). */
  order: number;
  /** A number per distinct pod (compared instead of the IRIs). */
  podId: number;
  /** Index keys: category and unit, specification and unit. */
  categoryKey: string | null;
  specKey: string | null;
  /** The exact amount text and the unit factor, for the exact pass. */
  amountText: string | null;
}

/** Factors to the dimension's SMALLEST unit, so they are whole numbers. */
const SMALL_FACTORS: Readonly<Record<string, number>> = { gram: 1, kilogram: 1000, tonne: 1_000_000, litre: 1, cubicMetre: 1000, hour: 1, day: 24 };

const nonNegative = (v: string | null): string | null => (v === null ? null : v.trim().startsWith("-") ? "0" : v);

function prepare(p: MatchProposal, order: number, podIds: Map<string, number>): Prepared {
  let podId = podIds.get(p.pod);
  if (podId === undefined) podIds.set(p.pod, (podId = podIds.size));
  const factor = SMALL_FACTORS[p.unit] ?? 1;
  const amountText = nonNegative(p.remaining ?? p.quantity);
  const minimumText = nonNegative(p.minimum);
  const amount = amountText === null ? null : Number(amountText) * factor;
  const minimum = minimumText === null ? null : Number(minimumText) * factor;
  const key = unitKey(p.unit);
  const category = p.category ? p.category.trim().toLowerCase() || null : null;
  return {
    p,
    unitKey: key,
    category,
    categoryKey: category === null ? null : `${category}\u0000${key}`,
    specKey: p.specificationUri ? `${p.specificationUri}\u0000${key}` : null,
    order,
    podId,
    amount,
    wanted: minimum !== null && amount !== null && minimum < amount ? minimum : amount,
    factor,
    amountText,
  };
}

/** a ≥ b, exactly: floats decide unless they are within rounding of each other. */
function gte(a: Prepared, aValue: number, aText: string, b: Prepared, bValue: number, bText: string): boolean {
  const diff = aValue - bValue;
  if (Math.abs(diff) > 1e-9 * Math.max(1, Math.abs(aValue), Math.abs(bValue))) return diff > 0;
  return new Dec(aText).times(a.factor).gte(new Dec(bText).times(b.factor));
}

/** A candidate pair, cheaply scored (floats; exact decimals only for near ties). */
interface Candidate {
  offer: Prepared;
  need: Prepared;
  full: boolean;
  share: number;
  /** 0 urgent and full, 1 urgent and partial, 2 full, 3 partial. */
  rank: number;
  needOrder: number;
  offerOrder: number;
}

function toMatch(c: Candidate): Match {
  const { offer, need, full } = c;
  const by: Match["by"] = offer.p.specificationUri && need.p.specificationUri ? "specification" : "category";
  // Exact covered quantity, in the need's unit.
  const source = need.amount === null ? offer : full ? need : offer;
  let covers: string | null = null;
  if (source.amountText !== null) {
    const d = new Dec(source.amountText).times(source.factor).div(need.factor).toDecimalPlaces(6, Dec.ROUND_DOWN);
    covers = d.isZero() ? "0" : d.toFixed();
  }
  let enough = full;
  if (!full && need.wanted !== null && offer.amount !== null) {
    const wantedText = need.wanted === need.amount ? need.amountText! : nonNegative(need.p.minimum)!;
    enough = gte(offer, offer.amount, offer.amountText!, need, need.wanted, wantedText);
  }
  return {
    offer: offer.p.key,
    need: need.p.key,
    offerPod: offer.p.pod,
    needPod: need.p.pod,
    by,
    urgent: need.p.urgent,
    fit: full ? "full" : "partial",
    enough,
    covers,
    unit: need.p.unit,
    share: c.share,
  };
}

/** Order of candidates: urgent needs first, full before partial, larger share, then input order. */
const compareCandidates = (a: Candidate, b: Candidate): number =>
  a.rank !== b.rank ? a.rank - b.rank : a.share !== b.share ? b.share - a.share : a.needOrder - b.needOrder || a.offerOrder - b.offerOrder;

export interface MatchOptions {
  /** Keep at most this many matches per need (the best ones). Default: all. */
  perNeed?: number;
  /** Never match an offer and a need of the same pod (default true). */
  skipSamePod?: boolean;
  /** Return only the best `limit` matches (`total` still counts them all). */
  limit?: number;
}

/**
 * Every fitting (offer, need) pair among `offers` and `needs`, sorted (see the module
 * comment). Proposals of the wrong purpose, closed or expired ones are ignored. Candidate
 * pairs come from an index by specification and by category, so the work grows with the
 * pairs that share one, not with offers × needs.
 */
export function matchProposals(offers: readonly MatchProposal[], needs: readonly MatchProposal[], now: Date, options: MatchOptions = {}): Match[] {
  return matchProposalsCounted(offers, needs, now, options).matches;
}

/**
 * As matchProposals, with the number of matches before `limit`. Candidates are scored with
 * floats first; exact quantities are worked out only for the matches returned.
 */
export function matchProposalsCounted(
  offers: readonly MatchProposal[],
  needs: readonly MatchProposal[],
  now: Date,
  options: MatchOptions = {},
): { matches: Match[]; total: number } {
  const skipSamePod = options.skipSamePod ?? true;
  const perNeed = options.perNeed;
  const bySpec = new Map<string, Prepared[]>();
  const byCategory = new Map<string, Prepared[]>();
  const podIds = new Map<string, number>();
  for (let i = 0; i < offers.length; i++) {
    const o = offers[i]!;
    if (o.purpose !== "offer" || !isLive(o, now)) continue;
    const prepared = prepare(o, i, podIds);
    if (prepared.specKey) push(bySpec, prepared.specKey, prepared);
    if (prepared.categoryKey) push(byCategory, prepared.categoryKey, prepared);
  }
  const out: Candidate[] = [];
  const found: Candidate[] = [];
  /**
   * Keeps `found` sorted and at most perNeed long (a small insertion sort). A pair that
   * would not make it is scored with numbers only: no object is made for it.
   */
  const consider = (offer: Prepared, need: Prepared) => {
    const full = need.amount === null || offer.amount === null || gte(offer, offer.amount, offer.amountText!, need, need.amount, need.amountText!);
    const share = full || need.amount === 0 ? 1 : offer.amount! / need.amount!;
    const rank = (need.p.urgent ? 0 : 2) + (full ? 0 : 1);
    if (perNeed !== undefined && found.length === perNeed) {
      const worst = found[perNeed - 1]!;
      // compareCandidates(new, worst) >= 0, on the numbers (the need is the same).
      if (rank !== worst.rank ? rank > worst.rank : share !== worst.share ? share < worst.share : offer.order >= worst.offerOrder) return;
    }
    const c: Candidate = { offer, need, full, share, rank, needOrder: need.order, offerOrder: offer.order };
    if (perNeed === undefined) {
      found.push(c);
      return;
    }
    let i = found.length < perNeed ? found.length : perNeed - 1;
    found[i] = c;
    while (i > 0 && compareCandidates(found[i]!, found[i - 1]!) < 0) {
      const t = found[i - 1]!;
      found[i - 1] = found[i]!;
      found[i] = t;
      i--;
    }
  };
  for (let j = 0; j < needs.length; j++) {
    const n = needs[j]!;
    if (n.purpose !== "request" || !isLive(n, now)) continue;
    const need = prepare(n, j, podIds);
    found.length = 0;
    if (need.specKey) {
      const list = bySpec.get(need.specKey);
      if (list) {
        for (const offer of list) {
          if (skipSamePod && offer.podId === need.podId) continue;
          consider(offer, need);
        }
      }
    }
    if (need.categoryKey) {
      const list = byCategory.get(need.categoryKey);
      if (list) {
        for (const offer of list) {
          // Two specifications given: they decide (above), the category does not.
          if (need.specKey && offer.specKey) continue;
          if (skipSamePod && offer.podId === need.podId) continue;
          consider(offer, need);
        }
      }
    }
    for (const c of found) out.push(c);
  }
  const limit = options.limit;
  const kept = limit !== undefined && out.length > limit ? best(out, limit) : out.sort(compareCandidates);
  return { matches: kept.map(toMatch), total: out.length };
}

/**
 * The `k` smallest candidates in order, as a full sort would give them (the comparison is a
 * total order), without sorting all of them: a max-heap of k, then one sort of k.
 */
function best(all: readonly Candidate[], k: number): Candidate[] {
  if (k <= 0) return [];
  const heap: Candidate[] = [];
  const up = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareCandidates(heap[i]!, heap[parent]!) <= 0) return;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let largest = i;
      if (l < heap.length && compareCandidates(heap[l]!, heap[largest]!) > 0) largest = l;
      if (r < heap.length && compareCandidates(heap[r]!, heap[largest]!) > 0) largest = r;
      if (largest === i) return;
      [heap[i], heap[largest]] = [heap[largest]!, heap[i]!];
      i = largest;
    }
  };
  for (const c of all) {
    if (heap.length < k) {
      heap.push(c);
      up(heap.length - 1);
    } else if (compareCandidates(c, heap[0]!) < 0) {
      heap[0] = c;
      down(0);
    }
  }
  return heap.sort(compareCandidates);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
