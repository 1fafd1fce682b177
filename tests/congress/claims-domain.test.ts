/** The rules a claim must meet (pure): each refusal has its code and names its field. */
import { describe, expect, it } from "vitest";
import { checkClaim, parseReason, readAcceptedAgreement, readClaimAgreement, type ClaimableProposal } from "../../src/domain/congress/claims.ts";
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

const INTENT = "https://a.example/pods/oak-street/offers/1#primary";

describe("readClaimAgreement", () => {
  it("reads FEP-0837's spelling", () => {
    const agreement = { type: "Agreement", stipulates: { type: "Commitment", satisfies: INTENT, resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "15" } } };
    expect(readClaimAgreement(agreement)).toEqual({ intentIri: INTENT, quantity: "15", unit: "kilogram" });
  });

  it("reads Fedify's compacted form (full IRIs, {id}, typed literals)", () => {
    const vf = "https://w3id.org/valueflows/ont/vf#";
    const om2 = "http://www.ontology-of-units-of-measure.org/resource/om-2/";
    const agreement = {
      type: `${vf}Agreement`,
      [`${vf}stipulates`]: {
        type: `${vf}Commitment`,
        [`${vf}resourceQuantity`]: { type: `${om2}Measure`, [`${om2}hasNumericalValue`]: { type: "xsd:decimal", "@value": "15" }, [`${om2}hasUnit`]: "kilogram" },
        [`${vf}satisfies`]: { id: INTENT },
      },
    };
    expect(readClaimAgreement(agreement)).toEqual({ intentIri: INTENT, quantity: "15", unit: "kilogram" });
  });

  it("reads Bonfire's ValueFlows: prefix, om2: CURIEs, unit IRIs, numbers and arrays", () => {
    const agreement = [
      {
        "@type": ["ValueFlows:Agreement"],
        "ValueFlows:stipulates": [{ "ValueFlows:satisfies": [{ "@id": INTENT }], "ValueFlows:resourceQuantity": { "om2:hasUnit": { id: "http://www.ontology-of-units-of-measure.org/resource/om-2/litre" }, "om2:hasNumericalValue": 2.5 } }],
      },
    ];
    expect(readClaimAgreement(agreement)).toEqual({ intentIri: INTENT, quantity: "2.5", unit: "litre" });
    expect(readClaimAgreement({ type: "vf:Agreement", "vf:stipulates": { "vf:satisfies": INTENT, "vf:resourceQuantity": { hasNumericalValue: "3" } } })).toEqual({ intentIri: INTENT, quantity: "3", unit: null });
  });

  it("is null for an Offer of something else", () => {
    expect(readClaimAgreement({ type: "Note", content: "hello" })).toBeNull();
    expect(readClaimAgreement("https://b.example/x")).toBeNull();
    expect(readClaimAgreement(undefined)).toBeNull();
  });

  it.each([
    ["no Commitment", { type: "Agreement" }, "stipulates"],
    ["no intent", { type: "Agreement", stipulates: { resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "1" } } }, "satisfies"],
    ["no quantity", { type: "Agreement", stipulates: { satisfies: INTENT } }, "resourceQuantity"],
    ["no numerical value", { type: "Agreement", stipulates: { satisfies: INTENT, resourceQuantity: { hasUnit: "kilogram" } } }, "resourceQuantity"],
  ])("refuses an Agreement with %s (CLAIM_INCOMPLETE)", (_what, agreement, field) => {
    expect(codeOf(() => readClaimAgreement(agreement))).toEqual({ code: "CLAIM_INCOMPLETE", field });
  });
});

describe("readAcceptedAgreement", () => {
  const id = "https://a.example/pods/oak-street/agreements/1";
  it("reads the Agreement's id and its Commitment's, embedded or by reference", () => {
    expect(readAcceptedAgreement({ id, type: "Agreement", stipulates: { id: `${id}#primary` } })).toEqual({ agreementIri: id, commitmentIri: `${id}#primary` });
    expect(readAcceptedAgreement({ "@id": id, "https://w3id.org/valueflows/ont/vf#stipulates": { "@id": `${id}#primary` } })).toEqual({ agreementIri: id, commitmentIri: `${id}#primary` });
    expect(readAcceptedAgreement(id)).toEqual({ agreementIri: id, commitmentIri: null });
    expect(readAcceptedAgreement(undefined)).toEqual({ agreementIri: null, commitmentIri: null });
  });
});
