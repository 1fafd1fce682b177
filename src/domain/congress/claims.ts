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
