/** The rules a claim must meet (pure): each refusal has its code and names its field. */
import { describe, expect, it } from "vitest";
import { checkClaim, parseReason, type ClaimableProposal } from "../../src/domain/congress/claims.ts";
import { DomainError } from "../../src/domain/errors.ts";

const NOW = new Date("2026-11-28T12:00:00Z");
const offer = (over: Partial<ClaimableProposal> = {}): ClaimableProposal => ({
  status: "open",
  unit: "kilogram",
  quantity: "40",
  remaining: "25",
  minimum: null,
  unitBased: null,
  expiresAt: new Date("2026-12-05T00:00:00Z"),
  availableUntil: null,
  ...over,
});

function codeOf(fn: () => unknown): { code: string; field: unknown } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return { code: (error as DomainError).code, field: (error as DomainError).details?.field };
  }
  throw new Error("expected a refusal");
}

describe("checkClaim", () => {
  it("accepts any amount up to what is left, in normal form", () => {
    expect(checkClaim(offer(), { quantity: "15", unit: "kilogram" }, NOW)).toBe("15");
    expect(checkClaim(offer(), { quantity: 2.5 }, NOW)).toBe("2.5");
    expect(checkClaim(offer(), { quantity: "25.000" }, NOW)).toBe("25");
  });

  it.each([
    ["withdrawn", offer({ status: "withdrawn" }), { quantity: "1" }, "CLAIM_CLOSED", "proposal"],
    ["fulfilled", offer({ status: "fulfilled" }), { quantity: "1" }, "CLAIM_CLOSED", "proposal"],
    ["past its expiry", offer({ expiresAt: new Date("2026-11-28T11:59:59Z") }), { quantity: "1" }, "CLAIM_EXPIRED", "proposal"],
    ["past its window", offer({ availableUntil: new Date("2026-11-27T00:00:00Z") }), { quantity: "1" }, "CLAIM_EXPIRED", "proposal"],
    ["in another unit", offer(), { quantity: "1", unit: "litre" }, "CLAIM_UNIT_MISMATCH", "unit"],
    ["zero", offer(), { quantity: "0" }, "INVALID_QUANTITY", "quantity"],
    ["negative", offer(), { quantity: "-3" }, "INVALID_QUANTITY", "quantity"],
    ["not a number", offer(), { quantity: "lots" }, "INVALID_QUANTITY", "quantity"],
    ["missing", offer(), { quantity: undefined }, "INVALID_QUANTITY", "quantity"],
    ["more than is left", offer(), { quantity: "25.5" }, "CLAIM_EXCEEDS_AVAILABLE", "quantity"],
    ["below the minimum", offer({ minimum: "5" }), { quantity: "4" }, "CLAIM_BELOW_MINIMUM", "quantity"],
    ["not a whole number of lots", offer({ quantity: "5", remaining: "40", unitBased: true }), { quantity: "12" }, "CLAIM_NOT_MULTIPLE", "quantity"],
    ["not the whole of a take-it-whole offer", offer({ quantity: "10", remaining: "10", unitBased: false }), { quantity: "5" }, "CLAIM_NOT_WHOLE", "quantity"],
  ] as const)("refuses a claim %s", (_what, proposal, claim, code, field) => {
    expect(codeOf(() => checkClaim(proposal, claim, NOW))).toEqual({ code, field });
  });

  it("takes lots in whole multiples, and a take-it-whole offer whole", () => {
    expect(checkClaim(offer({ quantity: "5", remaining: "40", unitBased: true }), { quantity: "15" }, NOW)).toBe("15");
    expect(checkClaim(offer({ quantity: "10", remaining: "10", unitBased: false }), { quantity: "10" }, NOW)).toBe("10");
  });

  it("claims on a copy that says nothing of what is left are checked against the rest only", () => {
    expect(checkClaim(offer({ remaining: null, quantity: null }), { quantity: "1000" }, NOW)).toBe("1000");
  });
});

describe("parseReason", () => {
  it("keeps plain text, refuses markup, control characters and length", () => {
    expect(parseReason("  Not this week  ")).toBe("Not this week");
    expect(parseReason(undefined)).toBe("");
    expect(codeOf(() => parseReason("<b>no</b>")).code).toBe("INVALID_TEXT");
    expect(codeOf(() => parseReason("a\u0007b")).code).toBe("INVALID_TEXT");
    expect(codeOf(() => parseReason("x".repeat(501))).code).toBe("TOO_LONG");
    expect(codeOf(() => parseReason(42)).code).toBe("INVALID_FIELD");
  });
});
