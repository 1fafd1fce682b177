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
  /** remaining (or quantity) in base units; null: any amount. */
  amount: number | null;
  /** What the need wants at least (its minimum, or the whole need), in base units. */
  wanted: number | null;
  factor: number;
  /** Position in the input (the last tie-break). */
  order: number;
  /** The exact amount text, for the exact pass. */
  amountText: string | null;
  /** `amount` is exact (a plain whole number): two exact amounts compare as floats. */
  exact: boolean;
}

/** Factors to the dimension's SMALLEST unit, so they are whole numbers. */
const SMALL_FACTORS: Readonly<Record<string, number>> = { gram: 1, kilogram: 1000, tonne: 1_000_000, litre: 1, cubicMetre: 1000, hour: 1, day: 24 };

/** A negative amount counts as zero. */
function nonNegative(v: string | null): string | null {
  if (v === null) return null;
  const first = v.charCodeAt(0);
  if (first >= 48 && first <= 57) return v; // a digit first: the usual case, no copy
  return v.trim().startsWith("-") ? "0" : v;
}

/** A whole number written plainly ("0", "42"), small enough to stay exact as a float, times any unit factor. */
const PLAIN_INTEGER = /^(?:0|[1-9]\d{0,8})$/;

/** The category as compared (trimmed, lower case), or null when there is none. */
function categoryOf(c: string | null): string | null {
  if (!c) return null;
  let key = categories.get(c);
  if (key === undefined) {
    key = c.trim().toLowerCase() || null;
    if (categories.size < 1000 && c.length <= 100) categories.set(c, key); // bounded: categories come from other pods
  }
  return key;
}

const categories = new Map<string, string | null>();

function prepare(p: MatchProposal, order: number): Prepared {
  const factor = SMALL_FACTORS[p.unit] ?? 1;
  const amountText = nonNegative(p.remaining ?? p.quantity);
  const amount = amountText === null ? null : Number(amountText) * factor;
  let wanted = amount;
  if (p.minimum !== null && amount !== null) {
    const minimum = Number(nonNegative(p.minimum)) * factor;
    if (minimum < amount) wanted = minimum;
  }
  return { p, order, amount, wanted, factor, amountText, exact: amountText !== null && PLAIN_INTEGER.test(amountText) };
}

/** a ≥ b, exactly: floats decide unless they are within rounding of each other. */
function gte(a: Prepared, aValue: number, aText: string, b: Prepared, bValue: number, bText: string): boolean {
  const diff = aValue - bValue;
  if (Math.abs(diff) > 1e-9 * Math.max(1, Math.abs(aValue), Math.abs(bValue))) return diff > 0;
  return new Dec(aText).times(a.factor).gte(new Dec(bText).times(b.factor));
}

/** A kept pair, scored. */
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

/** `text` × from / to in normal form, rounded down to 6 places (the covered quantity). */
function scaled(text: string, from: number, to: number): string {
  // Whole numbers into the same or a smaller unit (5 kg → 5000 g) are exact as floats.
  if (from % to === 0 && PLAIN_INTEGER.test(text)) return String(Number(text) * (from / to));
  const d = new Dec(text).times(from).div(to).toDecimalPlaces(6, Dec.ROUND_DOWN);
  return d.isZero() ? "0" : d.toFixed();
}

function toMatch(c: Candidate): Match {
  const { offer, need, full } = c;
  const by: Match["by"] = offer.p.specificationUri && need.p.specificationUri ? "specification" : "category";
  // Exact covered quantity, in the need's unit.
  const source = need.amount === null ? offer : full ? need : offer;
  const covers = source.amountText === null ? null : scaled(source.amountText, source.factor, need.factor);
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
 * Live offers of one unit key (a dimension, a currency, a unit): their positions in the
 * input, ascending, by specification, and by category (those without a specification apart,
 * since a need with a specification only meets those by category).
 */
interface UnitGroup {
  bySpec: Map<string, number[]>;
  byCategory: Map<string, number[]>;
  byCategorySpecified: Map<string, number[]>;
}

/**
 * As matchProposals, with the number of matches before `limit`.
 *
 * Candidates are scored with floats, without allocating, into the need's best `perNeed`;
 * only those that beat the worst of the best `limit` so far become objects, and exact
 * quantities are worked out only for the matches returned. Two shortcuts, both exact:
 *  - offers are visited in input order, so once a need's best `perNeed` are all full, no
 *    later offer can beat them (a full match's share is 1; the earlier offer wins a tie);
 *  - once the best `limit` so far all rank as high as a need's best possible match (urgent
 *    and full, or calm and full), that need only counts its matches, up to `perNeed`.
 * Offers are prepared (amounts parsed) when a need first looks at them.
 */
export function matchProposalsCounted(
  offers: readonly MatchProposal[],
  needs: readonly MatchProposal[],
  now: Date,
  options: MatchOptions = {},
): { matches: Match[]; total: number } {
  const skipSamePod = options.skipSamePod ?? true;
  const perNeed = options.perNeed ?? Infinity;
  const limit = options.limit ?? Infinity;
  if (perNeed <= 0) return { matches: [], total: 0 };
  const groups = new Map<string, UnitGroup>();
  for (let i = 0; i < offers.length; i++) {
    const o = offers[i]!;
    if (o.purpose !== "offer" || !isLive(o, now)) continue;
    const category = categoryOf(o.category);
    if (!o.specificationUri && category === null) continue; // nothing to match it by
    const key = unitKey(o.unit);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { bySpec: new Map(), byCategory: new Map(), byCategorySpecified: new Map() }));
    if (o.specificationUri) {
      push(group.bySpec, o.specificationUri, i);
      if (category !== null) push(group.byCategorySpecified, category, i);
    } else push(group.byCategory, category!, i);
  }
  const prepared = new Array<Prepared | null>(offers.length).fill(null);

  // One need's best, sorted (full first, larger share, earlier offer): parallel arrays.
  const topOffer: Prepared[] = [];
  const topFull: boolean[] = [];
  const topShare: number[] = [];
  let count = 0;
  let need!: Prepared;

  /** Scores the offers at `list` (ascending positions) against `need` into the need's best. */
  const scan = (list: readonly number[]) => {
    const needAmount = need.amount;
    const needPod = need.p.pod;
    for (let x = 0; x < list.length; x++) {
      const at = list[x]!;
      if (count >= perNeed && topFull[count - 1] && at > topOffer[count - 1]!.order) return;
      const o = offers[at]!;
      if (skipSamePod && o.pod === needPod) continue;
      const offer = prepared[at] ?? (prepared[at] = prepare(o, at));
      const amount = offer.amount;
      let full = true;
      let share = 1;
      if (needAmount !== null && amount !== null) {
        full = offer.exact && need.exact ? amount >= needAmount : gte(offer, amount, offer.amountText!, need, needAmount, need.amountText!);
        if (!full && needAmount !== 0) share = amount / needAmount;
      }
      // Within one need the order is: full first, then the larger share, then the earlier offer.
      let i = count;
      if (count >= perNeed) {
        i = count - 1;
        if (!(full !== topFull[i] ? full : share !== topShare[i] ? share > topShare[i]! : at < topOffer[i]!.order)) continue;
      } else count++;
      while (i > 0) {
        const j = i - 1;
        if (!(full !== topFull[j] ? full : share !== topShare[j] ? share > topShare[j]! : at < topOffer[j]!.order)) break;
        topOffer[i] = topOffer[j]!;
        topFull[i] = topFull[j]!;
        topShare[i] = topShare[j]!;
        i = j;
      }
      topOffer[i] = offer;
      topFull[i] = full;
      topShare[i] = share;
    }
  };
  /** Counts the offers at `list` that `pod`'s need would match, up to perNeed in all. */
  const tally = (list: readonly number[], pod: string) => {
    for (let x = 0; x < list.length && count < perNeed; x++) if (!(skipSamePod && offers[list[x]!]!.pod === pod)) count++;
  };

  // The best `limit` of all (sorted), and how many there are in all.
  const best: Candidate[] = [];
  let total = 0;
  for (let j = 0; j < needs.length; j++) {
    const n = needs[j]!;
    if (n.purpose !== "request" || !isLive(n, now)) continue;
    const group = groups.get(unitKey(n.unit));
    if (group === undefined) continue;
    const specList = n.specificationUri ? group.bySpec.get(n.specificationUri) : undefined;
    const category = categoryOf(n.category);
    const plainList = category === null ? undefined : group.byCategory.get(category);
    // Two specifications given: they decide (above), the category does not.
    const specifiedList = category === null || n.specificationUri ? undefined : group.byCategorySpecified.get(category);
    if (specList === undefined && plainList === undefined && specifiedList === undefined) continue;
    count = 0;
    const rankBase = n.urgent ? 0 : 2;
    if (best.length >= limit && (limit <= 0 || best[best.length - 1]!.rank <= rankBase)) {
      // Nothing of this need can make the list: count its matches only.
      if (specList !== undefined) tally(specList, n.pod);
      if (plainList !== undefined) tally(plainList, n.pod);
      if (specifiedList !== undefined) tally(specifiedList, n.pod);
      total += count;
      continue;
    }
    need = prepare(n, j);
    if (specList !== undefined) scan(specList);
    if (plainList !== undefined) scan(plainList);
    if (specifiedList !== undefined) scan(specifiedList);
    total += count;
    for (let k = 0; k < count; k++) {
      const full = topFull[k]!;
      const rank = rankBase + (full ? 0 : 1);
      const share = topShare[k]!;
      const offer = topOffer[k]!;
      if (best.length >= limit) {
        // Against the worst kept so far. It comes from an earlier need, or is an earlier offer
        // of this one: on equal rank and share it stays.
        const w = best[best.length - 1]!;
        if (rank !== w.rank ? rank > w.rank : share <= w.share) break; // the rest of this need's best are worse still
      }
      const c: Candidate = { offer, need, full, share, rank, needOrder: j, offerOrder: offer.order };
      if (limit === Infinity) {
        best.push(c);
        continue;
      }
      // Insert in order (binary search), dropping the worst beyond the limit.
      let lo = 0;
      let hi = best.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareCandidates(best[mid]!, c) < 0) lo = mid + 1;
        else hi = mid;
      }
      best.splice(lo, 0, c);
      if (best.length > limit) best.pop();
    }
  }
  if (limit === Infinity) best.sort(compareCandidates);
  return { matches: best.map(toMatch), total };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
