/**
 * The rules a claim on an offer or a need must meet (FEP-0837): the proposal is open and
 * not past its expiry or window, the unit is the proposal's, the quantity is positive, no
 * more than what is left, at least the minimum, and, with `unitBased`, a whole multiple of
 * the lot (true) or exactly the lot (false). Pure: `now` is passed in. Each refusal is a
 * DomainError (kind invalid) with a stable code naming the field.
 */
import { Dec, QUANTITY_SCALE, normalizeDecimal, parseDecimal } from "../books/decimal.ts";
import { invalid } from "../errors.ts";
import type { ProposalStatus } from "./model.ts";
import { hasVfType, normalizeUnit, OM2_UNIT_NAMESPACE, vfProperty } from "./vf.ts";

export const CLAIM_LIMITS = { reason: 500 } as const;

/** What the rules need of a proposal (ours, or our copy of a neighbour's). */
export interface ClaimableProposal {
  status: ProposalStatus;
  unit: string;
  /** resourceQuantity (one lot when unitBased); null: any amount. */
  quantity: string | null;
  /** availableQuantity now; null: not said. */
  remaining: string | null;
  minimum: string | null;
  unitBased: boolean | null;
  expiresAt: Date | null;
  availableUntil: Date | null;
}

/**
 * Checks a claim of `quantity` `unit` on the proposal at `now`; returns the quantity in
 * normal form. Throws DomainError (invalid) with one of CLAIM_CLOSED, CLAIM_EXPIRED,
 * CLAIM_UNIT_MISMATCH, INVALID_QUANTITY, CLAIM_EXCEEDS_AVAILABLE, CLAIM_BELOW_MINIMUM,
 * CLAIM_NOT_MULTIPLE, CLAIM_NOT_WHOLE.
 */
export function checkClaim(p: ClaimableProposal, claim: { quantity: unknown; unit?: string | null }, now: Date): string {
  if (p.status !== "open") throw invalid("CLAIM_CLOSED", `This proposal is ${p.status}: it takes no more claims`, { field: "proposal" });
  const end = [p.expiresAt, p.availableUntil].filter((d): d is Date => d !== null).sort((a, b) => a.getTime() - b.getTime())[0];
  if (end && end.getTime() <= now.getTime()) throw invalid("CLAIM_EXPIRED", `This proposal closed at ${end.toISOString()}`, { field: "proposal" });
  if (claim.unit !== undefined && claim.unit !== null && claim.unit !== p.unit) {
    throw invalid("CLAIM_UNIT_MISMATCH", `This proposal is counted in ${p.unit}, not ${claim.unit}`, { field: "unit" });
  }
  if (typeof claim.quantity !== "string" && typeof claim.quantity !== "number") {
    throw invalid("INVALID_QUANTITY", "quantity must be a positive decimal number such as 15 or 2.5", { field: "quantity" });
  }
  let q: Dec;
  try {
    q = parseDecimal(claim.quantity, "quantity", { scale: QUANTITY_SCALE, sign: "positive" });
  } catch {
    throw invalid("INVALID_QUANTITY", `quantity must be a positive decimal number such as 15 or 2.5; got ${JSON.stringify(claim.quantity)}`, { field: "quantity" });
  }
  if (p.remaining !== null && q.gt(new Dec(p.remaining))) {
    throw invalid("CLAIM_EXCEEDS_AVAILABLE", `Only ${p.remaining} ${p.unit} are left; the claim asks for ${normalizeDecimal(q)}`, { field: "quantity", available: p.remaining });
  }
  if (p.minimum !== null && q.lt(new Dec(p.minimum))) {
    throw invalid("CLAIM_BELOW_MINIMUM", `A claim takes at least ${p.minimum} ${p.unit}`, { field: "quantity", minimum: p.minimum });
  }
  if (p.unitBased === true && p.quantity !== null) {
    const lot = new Dec(p.quantity);
    if (!q.mod(lot).isZero()) throw invalid("CLAIM_NOT_MULTIPLE", `This proposal comes in lots of ${p.quantity} ${p.unit}: claim a whole number of lots`, { field: "quantity", lot: p.quantity });
  }
  if (p.unitBased === false && p.quantity !== null && !q.eq(new Dec(p.quantity))) {
    throw invalid("CLAIM_NOT_WHOLE", `This proposal is taken whole: claim exactly ${p.quantity} ${p.unit}`, { field: "quantity", whole: p.quantity });
  }
  return normalizeDecimal(q);
}

/** A steward's reason for a rejection: plain text, at most 500 characters. */
export function parseReason(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  if (typeof value !== "string") throw invalid("INVALID_FIELD", "reason must be text", { field: "reason" });
  const text = value.trim();
  if (text.length > CLAIM_LIMITS.reason) throw invalid("TOO_LONG", `reason: must be at most ${CLAIM_LIMITS.reason} characters`, { field: "reason" });
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text) || /<\s*[a-zA-Z/!?]/.test(text)) {
    throw invalid("INVALID_TEXT", "reason must be plain text (no HTML, no control characters)", { field: "reason" });
  }
  return text;
}

// ---------------------------------------------------------------------------------------
// Reading a claim as it arrives (the raw JSON of an Offer's object, or an Accept's result)


/** What a claim's Agreement asks: the intent it satisfies and how much, in which unit. */
export interface ClaimTerms {
  intentIri: string;
  /** As sent (a string): the service checks it. */
  quantity: string;
  /** OM2 local id, or null when the Measure names none (the proposal's unit is meant). */
  unit: string | null;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
/** JSON-LD lets any value be an array (expanded form): the first item counts. */
const one = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);

/** An IRI given as a string, `{id}` or `{"@id"}` (possibly in an array). */
export function iriOf(value: unknown): string | null {
  const v = one(value);
  if (typeof v === "string") return v.trim() || null;
  if (isObject(v)) {
    const id = v.id ?? v["@id"];
    return typeof id === "string" && id.trim() ? id.trim() : null;
  }
  return null;
}

/** A literal given as a string, a number, or `{"@value"}` / `{value}`. */
function literalOf(value: unknown): string | number | null {
  const v = one(value);
  if (typeof v === "string" || typeof v === "number") return v;
  if (isObject(v)) return literalOf(v["@value"] ?? v.value);
  return null;
}

const OM2_PREFIXES = ["", "om2:", "om:", OM2_UNIT_NAMESPACE, "https://www.ontology-of-units-of-measure.org/resource/om-2/"];
/** An OM2 property (`hasUnit`, `om2:hasUnit`, the full IRI) or its VF sub-property (`vf:hasUnit`). */
function om2Property(m: Json, name: string): unknown {
  for (const prefix of OM2_PREFIXES) if (`${prefix}${name}` in m) return m[`${prefix}${name}`];
  return vfProperty(m, name);
}

/**
 * Reads the claim an `Offer` carries, from its `object` as received: an Agreement (typed
 * `Agreement`, `vf:Agreement`, `ValueFlows:Agreement` or the full IRI) that `stipulates` a
 * Commitment which `satisfies` an intent with a `resourceQuantity` Measure (`hasUnit` +
 * `hasNumericalValue`, in any of their spellings; Fedify's `{"@value"}` literals too).
 * Null when the object is not an Agreement (an Offer of something else is not a claim).
 * Throws CLAIM_INCOMPLETE (invalid) when the Agreement lacks the Commitment, its intent or
 * its quantity.
 */
export function readClaimAgreement(object: unknown): ClaimTerms | null {
  const agreement = one(object);
  if (!isObject(agreement) || !hasVfType(agreement.type ?? agreement["@type"], "Agreement")) return null;
  const commitment = one(vfProperty(agreement, "stipulates"));
  if (!isObject(commitment)) throw invalid("CLAIM_INCOMPLETE", "The Agreement stipulates no Commitment", { field: "stipulates" });
  const intentIri = iriOf(vfProperty(commitment, "satisfies"));
  if (!intentIri) throw invalid("CLAIM_INCOMPLETE", "The Commitment satisfies no intent", { field: "satisfies" });
  const measure = one(vfProperty(commitment, "resourceQuantity"));
  if (!isObject(measure)) throw invalid("CLAIM_INCOMPLETE", "The Commitment has no resourceQuantity", { field: "resourceQuantity" });
  const value = literalOf(om2Property(measure, "hasNumericalValue") ?? measure.numericalValue);
  if (value === null) throw invalid("CLAIM_INCOMPLETE", "The resourceQuantity has no hasNumericalValue", { field: "resourceQuantity" });
  const unitValue = one(om2Property(measure, "hasUnit") ?? measure.unit);
  const unit = normalizeUnit(isObject(unitValue) ? unitValue : (literalOf(unitValue) ?? null));
  return { intentIri, quantity: String(value), unit: unit === null ? null : unit.slice(0, 200) };
}

/** The Agreement an Accept carries as `result` (embedded or by id): its id and its Commitment's. */
export function readAcceptedAgreement(result: unknown): { agreementIri: string | null; commitmentIri: string | null } {
  const r = one(result);
  if (!isObject(r)) return { agreementIri: iriOf(r), commitmentIri: null };
  return { agreementIri: iriOf(r), commitmentIri: iriOf(vfProperty(r, "stipulates")) };
}
