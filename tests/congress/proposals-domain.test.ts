/**
 * Offers and needs, pure rules: every bad input gets its own stable code naming the field,
 * defaults come from the resource, patches never go below what was claimed; and the one
 * parser of incoming proposal JSON reads our own document, a FEP-0837 Proposal (the FEP's
 * example shape, field by field) and a Bonfire-spelled offer and need.
 */
import { describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.ts";
import { isProposalJson, parseProposalJson } from "../../src/domain/congress/proposal-json.ts";
import {
  parseNewProposal,
  parseProposalPatch,
  proposalHashtags,
  proposalHeadline,
  proposalNoteHtml,
  resolveNewProposal,
  type ProposalState,
} from "../../src/domain/congress/proposals.ts";
import { proposalJson } from "../../src/federation/proposal.ts";
import type { Pod } from "../../src/domain/pods.ts";
import type { ProposalView } from "../../src/services/proposals.ts";

const NOW = new Date("2026-11-28T12:00:00Z");
const SQUASH = { id: "00000000-0000-4000-8000-000000000001", key: "squash", name: "Squash", unit: "kilogram", category: "food", specificationUri: "https://www.wikidata.org/wiki/Q7533" };

function codeOf(work: () => unknown): { code: string; field: unknown } {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const e = error as DomainError;
    expect(e.kind).toBe("invalid");
    return { code: e.code, field: e.details?.field };
  }
  throw new Error("expected a refusal");
}

const offer = (input: Record<string, unknown>, resource: typeof SQUASH | null = SQUASH) =>
  resolveNewProposal(parseNewProposal("offer", { name: "Squash", quantity: "40", ...input }), resource, NOW);

describe("a new offer or need", () => {
  it("takes unit, category and specification from the resource; defaults total, fund, action and expiry", () => {
    const v = offer({ resource: "squash" });
    expect(v).toMatchObject({ unit: "kilogram", category: "food", specificationUri: SQUASH.specificationUri, quantity: "40", total: "40", fund: "survival", action: "transfer", urgent: false });
    expect(v.expiresAt.toISOString()).toBe("2026-12-12T12:00:00.000Z");
    const until = offer({ availableUntil: "2026-12-05" });
    // A bare date includes that day: the window (and the default expiry) ends at the next midnight.
    expect(until.availableUntil?.toISOString()).toBe("2026-12-06T00:00:00.000Z");
    expect(until.expiresAt.toISOString()).toBe("2026-12-06T00:00:00.000Z");
    const hours = resolveNewProposal(parseNewProposal("request", { name: "Childcare", quantity: "6", unit: "hour", category: "care", urgent: true }), null, NOW);
    expect(hours).toMatchObject({ action: "deliverService", fund: null, urgent: true });
  });

  it("lots: a total of whole lots, a minimum within the total", () => {
    expect(offer({ unitBased: true, quantity: "5", total: "40", minimum: "10" })).toMatchObject({ quantity: "5", total: "40", minimum: "10", unitBased: true });
    expect(offer({ quantity: "12.500", total: "40" }).quantity).toBe("12.5");
  });

  it.each([
    [{ quantity: "0" }, "NOT_POSITIVE", "quantity"],
    [{ quantity: "-3" }, "NOT_POSITIVE", "quantity"],
    [{ quantity: "lots" }, "INVALID_DECIMAL", "quantity"],
    [{ quantity: true }, "INVALID_DECIMAL", "quantity"],
    [{ quantity: "1.1234567" }, "TOO_PRECISE", "quantity"],
    [{ total: "0" }, "NOT_POSITIVE", "total"],
    [{ minimum: "abc" }, "INVALID_DECIMAL", "minimum"],
    [{ unit: "furlong" }, "UNKNOWN_UNIT", "unit"],
    [{ unit: "litre", resource: "squash" }, "UNIT_MISMATCH", "unit"],
    [{ availableFrom: "2026-12-10", availableUntil: "2026-12-05" }, "WINDOW_ENDS_BEFORE_START", "availableUntil"],
    [{ availableUntil: "2026-11-01" }, "WINDOW_IN_PAST", "availableUntil"],
    [{ expiresAt: "2026-11-28T11:00:00Z" }, "EXPIRY_IN_PAST", "expiresAt"],
    [{ expiresAt: "next week" }, "INVALID_DATE", "expiresAt"],
    [{ expiresAt: "2026-02-30" }, "INVALID_DATE", "expiresAt"],
    [{ minimum: "41" }, "MINIMUM_ABOVE_TOTAL", "minimum"],
    [{ total: "30" }, "TOTAL_BELOW_QUANTITY", "total"],
    [{ unitBased: true, quantity: "15", total: "40" }, "TOTAL_NOT_WHOLE_LOTS", "total"],
    [{ unitBased: false, quantity: "5", total: "40", minimum: "10" }, "MINIMUM_NOT_QUANTITY", "minimum"],
    [{ unitBased: "yes" }, "INVALID_UNIT_BASED", "unitBased"],
    [{ urgent: true }, "URGENT_OFFER", "urgent"],
    [{ fund: "party" }, "INVALID_FUND", "fund"],
    [{ action: "produce" }, "INVALID_ACTION", "action"],
    [{ name: "" }, "FIELD_REQUIRED", "name"],
    [{ name: "<b>Squash</b>" }, "INVALID_TEXT", "name"],
    [{ name: "Squash\u0007" }, "INVALID_TEXT", "name"],
    [{ name: "Squash\u0000" }, "INVALID_TEXT", "name"],
    [{ location: "x".repeat(121) }, "TOO_LONG", "location"],
    [{ description: "<script>alert(1)</script>" }, "INVALID_TEXT", "description"],
    [{ specificationUri: "javascript:alert(1)" }, "INVALID_URI", "specificationUri"],
    [{ colour: "orange" }, "UNKNOWN_FIELD", "colour"],
    [{ reciprocal: { name: "Jam", unit: "furlong" } }, "UNKNOWN_UNIT", "reciprocal.unit"],
    [{ reciprocal: { name: "Jam", unit: "one", price: 3 } }, "UNKNOWN_FIELD", "reciprocal.price"],
  ])("refuses %j with %s naming %s", (input, code, field) => {
    expect(codeOf(() => offer(input))).toEqual({ code, field });
  });

  it("needs: no fund; unit and category required without a resource", () => {
    expect(codeOf(() => parseNewProposal("request", { name: "Water", quantity: "1", unit: "litre", category: "water", fund: "survival" }))).toEqual({ code: "FUND_ON_NEED", field: "fund" });
    expect(codeOf(() => resolveNewProposal(parseNewProposal("request", { name: "Water", quantity: "1", category: "water" }), null, NOW))).toEqual({ code: "FIELD_REQUIRED", field: "unit" });
    expect(codeOf(() => resolveNewProposal(parseNewProposal("request", { name: "Water", quantity: "1", unit: "litre" }), null, NOW))).toEqual({ code: "FIELD_REQUIRED", field: "category" });
    expect(codeOf(() => parseNewProposal("request", null))).toEqual({ code: "INVALID_INPUT", field: "(root)" });
    expect(codeOf(() => parseNewProposal("request", { name: "Water" }))).toEqual({ code: "FIELD_REQUIRED", field: "quantity" });
  });
});

describe("a change", () => {
  const state: ProposalState = {
    purpose: "offer",
    status: "open",
    quantity: "40",
    total: "40",
    remaining: "25",
    minimum: null,
    unitBased: null,
    availableFrom: null,
    availableUntil: new Date("2026-12-06T00:00:00Z"),
    expiresAt: new Date("2026-12-06T00:00:00Z"),
  };

  it("moves the total and what is left, never below what was claimed; a total equal to it fulfils", () => {
    expect(parseProposalPatch(state, { quantity: "50" }, NOW)).toEqual({ quantity: "50", total: "50", remaining: "35" });
    expect(parseProposalPatch(state, { total: "15" }, NOW)).toMatchObject({ quantity: "15", total: "15", remaining: "0", status: "fulfilled", closedAt: NOW });
    expect(codeOf(() => parseProposalPatch(state, { total: "14" }, NOW))).toEqual({ code: "TOTAL_BELOW_CLAIMED", field: "total" });
    expect(codeOf(() => parseProposalPatch({ ...state, unitBased: true, quantity: "5" }, { quantity: "10" }, NOW))).toEqual({ code: "LOTS_CLAIMED", field: "quantity" });
  });

  it("moves an expiry that followed the window; refuses what a new proposal would", () => {
    const moved = parseProposalPatch(state, { availableUntil: "2026-12-12" }, NOW);
    expect(moved.expiresAt?.toISOString()).toBe("2026-12-13T00:00:00.000Z");
    expect(parseProposalPatch(state, { name: "Squash (big ones)", location: null }, NOW)).toEqual({ name: "Squash (big ones)", location: null });
    expect(parseProposalPatch(state, {}, NOW)).toEqual({});
    expect(codeOf(() => parseProposalPatch(state, { expiresAt: "2026-11-01" }, NOW))).toEqual({ code: "EXPIRY_IN_PAST", field: "expiresAt" });
    expect(codeOf(() => parseProposalPatch(state, { urgent: true }, NOW))).toEqual({ code: "URGENT_OFFER", field: "urgent" });
    expect(codeOf(() => parseProposalPatch(state, { unit: "litre" }, NOW))).toEqual({ code: "FIELD_IMMUTABLE", field: "unit" });
    expect(codeOf(() => parseProposalPatch(state, { availableFrom: "2026-12-20" }, NOW))).toEqual({ code: "WINDOW_ENDS_BEFORE_START", field: "availableFrom" });
    expect(codeOf(() => parseProposalPatch(state, { minimum: "26", total: "25" }, NOW))).toEqual({ code: "MINIMUM_ABOVE_TOTAL", field: "minimum" });
    expect(codeOf(() => parseProposalPatch(state, { size: 3 }, NOW))).toEqual({ code: "UNKNOWN_FIELD", field: "size" });
  });
});

// ---------------------------------------------------------------------------------------

const ORIGIN = new URL("https://oak.example");
const ACTOR = "https://oak.example/pods/oak-street";
const POD: Pod = { id: "p", slug: "oak-street", name: "Oak Street", summary: "", iconUrl: null, manuallyApprovesFollowers: false, networkVisibility: "hidden", createdAt: NOW, updatedAt: NOW, retiredAt: null };

function view(over: Partial<ProposalView> = {}): ProposalView {
  return {
    id: "x", pod: "oak-street", number: 1, purpose: "offer", kind: "offer", url: `${ACTOR}/offers/1`, intent: `${ACTOR}/offers/1#primary`,
    name: "squash", description: "Butternut, from the allotments.\nBring a bag.", resource: "squash", action: "transfer", unit: "kilogram", category: "food",
    specificationUri: SQUASH.specificationUri, quantity: "40", total: "40", remaining: "25", minimum: "5", unitBased: null,
    reciprocal: { name: "Jam", unit: "one", quantity: "2", specificationUri: null }, location: "Oak Street allotments",
    availableFrom: null, availableUntil: new Date("2026-12-06T00:00:00Z"), expiresAt: new Date("2026-12-06T00:00:00Z"),
    urgent: false, fund: "survival", status: "open", version: 2, createdAt: NOW, updatedAt: new Date("2026-11-29T08:00:00Z"), closedAt: null,
    ...over,
  };
}

describe("the readable post", () => {
  it("says what, how much, until when; what is left; tags; only tags Mastodon keeps", () => {
    const p = view();
    expect(proposalHeadline(p)).toBe("Offer: 40 kg squash, until Saturday 5 December");
    const htmlText = proposalNoteHtml(p, { podName: "Oak Street", pageUrl: p.url, tagUrl: (t) => `https://oak.example/tags/${t}` });
    expect(htmlText).toContain("25 kg of 40 kg left");
    expect(htmlText).toContain("Where: Oak Street allotments");
    expect(htmlText).toContain("#<span>MutualAid</span>");
    expect(htmlText).toContain("#<span>Offer</span>");
    const tags = new Set([...htmlText.matchAll(/<\s*\/?\s*([a-z0-9]+)/gi)].map((m) => m[1]!.toLowerCase()));
    for (const tag of tags) expect(["p", "br", "a", "span", "strong", "em", "ul", "li"]).toContain(tag);
    const need = view({ purpose: "request", kind: "need", urgent: true, status: "withdrawn", fund: null });
    expect(proposalHashtags(need)).toEqual(["MutualAidUrgent", "MutualAid", "Need"]);
    expect(proposalNoteHtml(need, { podName: "Oak", pageUrl: need.url, tagUrl: (t) => t })).toMatch(/^<p><strong>Withdrawn: this need is no longer open.<\/strong><\/p><p><strong>URGENT need: /);
  });
});

describe("parseProposalJson", () => {
  it("reads our own document back as it was published (round trip), and recognises it", () => {
    const doc = proposalJson(ORIGIN, POD, view());
    expect(isProposalJson(doc)).toBe(true);
    expect(doc.type).toEqual(["Note", "Proposal"]);
    const read = parseProposalJson(JSON.parse(JSON.stringify(doc)), { actorIri: ACTOR, objectIri: `${ACTOR}/offers/1`, now: NOW });
    expect(read).toEqual({
      actorIri: ACTOR,
      objectIri: `${ACTOR}/offers/1`,
      intentIri: `${ACTOR}/offers/1#primary`,
      purpose: "offer",
      action: "transfer",
      name: "squash",
      description: "Butternut, from the allotments.\nBring a bag.",
      unit: "kilogram",
      category: "food",
      specificationUri: SQUASH.specificationUri,
      quantity: "40",
      remaining: "25",
      minimum: "5",
      unitBased: null,
      reciprocal: { name: "Jam", unit: "one", quantity: "2", specificationUri: null },
      location: "Oak Street allotments",
      availableFrom: null,
      availableUntil: new Date("2026-12-06T00:00:00Z"),
      expiresAt: new Date("2026-12-06T00:00:00Z"),
      urgent: false,
      status: "open",
      remoteUpdatedAt: new Date("2026-11-29T08:00:00Z"),
    });
    // An urgent need keeps its urgency; a closed one its status.
    const need = parseProposalJson(proposalJson(ORIGIN, POD, view({ purpose: "request", kind: "need", number: 2, urgent: true, status: "expired", fund: null })), { actorIri: ACTOR, now: NOW });
    expect(need).toMatchObject({ purpose: "request", urgent: true, status: "expired" });
  });

  it("our document carries the FEP-0837 shape field by field", () => {
    const doc = proposalJson(ORIGIN, POD, view({ unitBased: true, quantity: "5" })) as any;
    const context = doc["@context"][1];
    expect(context.vf).toBe("https://w3id.org/valueflows/ont/vf#");
    expect(context.om2).toBe("http://www.ontology-of-units-of-measure.org/resource/om-2/");
    for (const term of ["Proposal", "Intent", "purpose", "publishes", "reciprocal", "unitBased", "action", "resourceConformsTo", "resourceQuantity", "availableQuantity", "minimumQuantity"]) {
      expect(JSON.stringify(context[term])).toContain("vf:");
    }
    for (const term of ["hasUnit", "hasNumericalValue"]) expect(context[term]).toBe(`om2:${term}`);
    for (const term of ["expiresAt", "status", "urgent", "category", "fund"]) expect(JSON.stringify(context[term])).toContain("hyphae:");
    expect(doc).toMatchObject({
      purpose: "offer",
      attributedTo: ACTOR,
      location: { type: "Place", name: "Oak Street allotments" },
      unitBased: true,
      publishes: {
        id: `${ACTOR}/offers/1#primary`,
        type: "Intent",
        action: "transfer",
        resourceConformsTo: SQUASH.specificationUri,
        resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "5" },
        availableQuantity: { hasUnit: "kilogram", hasNumericalValue: "25" },
        minimumQuantity: { hasUnit: "kilogram", hasNumericalValue: "5" },
        provider: ACTOR,
      },
      reciprocal: { id: `${ACTOR}/offers/1#reciprocal`, type: "Intent", receiver: ACTOR, resourceQuantity: { hasUnit: "one", hasNumericalValue: "2" } },
    });
    expect(doc.to).toContain("https://www.w3.org/ns/activitystreams#Public");
  });

  it("reads a FEP-0837 Proposal (the FEP's example shape)", () => {
    const actor = "https://market.example/users/alice";
    const fep = {
      "@context": [
        "https://www.w3.org/ns/activitystreams",
        { om2: "http://www.ontology-of-units-of-measure.org/resource/om-2/", vf: "https://w3id.org/valueflows/ont/vf#", Proposal: "vf:Proposal", Intent: "vf:Intent", purpose: "vf:purpose", publishes: "vf:publishes", reciprocal: "vf:reciprocal", unitBased: "vf:unitBased", action: "vf:action", resourceConformsTo: "vf:resourceConformsTo", resourceQuantity: "vf:resourceQuantity", availableQuantity: "vf:availableQuantity", hasUnit: "om2:hasUnit", hasNumericalValue: "om2:hasNumericalValue" },
      ],
      type: "Proposal",
      id: "https://market.example/proposals/1",
      attributedTo: actor,
      name: "Used bike",
      content: "<p>Used bike, good condition</p>",
      published: "2023-06-01T00:00:00Z",
      location: { type: "Place", name: "Helsinki", latitude: 60.1, longitude: 24.9 },
      purpose: "offer",
      publishes: {
        id: "https://market.example/proposals/1#primary",
        type: "Intent",
        action: "transfer",
        resourceConformsTo: "https://www.wikidata.org/wiki/Q11442",
        resourceQuantity: { hasUnit: "one", hasNumericalValue: "1" },
        availableQuantity: { hasUnit: "one", hasNumericalValue: "1" },
      },
      reciprocal: {
        id: "https://market.example/proposals/1#reciprocal",
        type: "Intent",
        action: "transfer",
        resourceQuantity: { hasUnit: "one", hasNumericalValue: "30" },
        resourceConformsTo: "https://www.wikidata.org/wiki/Q4916",
      },
      unitBased: false,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
    };
    expect(isProposalJson(fep)).toBe(true);
    expect(parseProposalJson(fep, { actorIri: actor, objectIri: fep.id, now: NOW })).toMatchObject({
      objectIri: fep.id,
      intentIri: `${fep.id}#primary`,
      purpose: "offer",
      action: "transfer",
      name: "Used bike",
      description: "Used bike, good condition",
      unit: "one",
      quantity: "1",
      remaining: "1",
      unitBased: false,
      location: "Helsinki",
      specificationUri: "https://www.wikidata.org/wiki/Q11442",
      reciprocal: { unit: "one", quantity: "30", specificationUri: "https://www.wikidata.org/wiki/Q4916" },
      status: "open",
      remoteUpdatedAt: new Date("2023-06-01T00:00:00Z"),
    });
    // The rules hold for others' documents too.
    expect(codeOf(() => parseProposalJson(fep, { actorIri: "https://market.example/users/bob", now: NOW }))).toMatchObject({ code: "NOT_AUTHOR" });
    expect(codeOf(() => parseProposalJson(fep, { actorIri: actor, objectIri: "https://market.example/proposals/2", now: NOW }))).toMatchObject({ code: "PROPOSAL_MISMATCH" });
    expect(codeOf(() => parseProposalJson({ ...fep, id: "https://evil.example/p/1" }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "FOREIGN_OBJECT" });
    expect(codeOf(() => parseProposalJson({ ...fep, publishes: { ...fep.publishes, resourceQuantity: { hasNumericalValue: "1" } } }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "NO_UNIT" });
    expect(codeOf(() => parseProposalJson({ ...fep, publishes: { ...fep.publishes, resourceQuantity: { hasUnit: "one", hasNumericalValue: "-1" } } }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "NOT_POSITIVE" });
    expect(codeOf(() => parseProposalJson({ ...fep, publishes: { ...fep.publishes, availableQuantity: { hasUnit: "kilogram", hasNumericalValue: "1" } } }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "UNIT_MISMATCH" });
    expect(codeOf(() => parseProposalJson({ ...fep, purpose: "barter" }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "INVALID_PURPOSE" });
    expect(codeOf(() => parseProposalJson({ ...fep, publishes: { ...fep.publishes, action: "fly" } }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "INVALID_ACTION" });
    expect(isProposalJson({ type: "Note", content: "hello" })).toBe(false);
  });

  it("reads Bonfire's spellings: ValueFlows: types, hyphenated action IRIs, a lone Intent as an offer or a need", () => {
    const actor = "https://bonfire.example/pub/actors/commons";
    const proposal = {
      "@context": ["https://www.w3.org/ns/activitystreams", { ValueFlows: "https://w3id.org/valueflows#", om2: "http://www.ontology-of-units-of-measure.org/resource/om-2/" }],
      id: "https://bonfire.example/pub/objects/01HPROPOSAL",
      type: "ValueFlows:Proposal",
      attributedTo: actor,
      name: "Bike repair",
      summary: "Two hours of bike repair at the workshop",
      "ValueFlows:purpose": "ValueFlows:offer",
      published: "2026-11-20T10:00:00Z",
      publishes: {
        id: "https://bonfire.example/pub/objects/01HINTENT",
        type: "ValueFlows:Intent",
        action: "https://w3id.org/valueflows#deliver-service",
        resourceQuantity: { type: "om2:Measure", "om2:hasUnit": { type: "om2:Unit", label: "hour", symbol: "h" }, "om2:hasNumericalValue": 2 },
        resourceClassifiedAs: ["repair"],
        provider: { id: actor, type: "Group" },
      },
    };
    expect(isProposalJson(proposal)).toBe(true);
    expect(parseProposalJson(proposal, { actorIri: actor, now: NOW })).toMatchObject({
      purpose: "offer",
      action: "deliverService",
      intentIri: "https://bonfire.example/pub/objects/01HINTENT",
      unit: "hour",
      quantity: "2",
      remaining: "2",
      category: "repair",
      name: "Bike repair",
      description: "Two hours of bike repair at the workshop",
    });

    const intent = {
      id: "https://bonfire.example/pub/objects/01HNEED",
      type: "ValueFlows:Intent",
      name: "Sandbags",
      summary: "For the flood wall",
      action: { id: "transfer-custody" },
      receiver: actor,
      resourceQuantity: { hasUnit: "om2:one", hasNumericalValue: "50" },
      atLocation: { type: "Place", name: "River Lane" },
      hasEnd: "2026-12-01T00:00:00Z",
      published: "2026-11-27T10:00:00Z",
    };
    expect(isProposalJson(intent)).toBe(true);
    expect(parseProposalJson(intent, { actorIri: actor, now: NOW })).toMatchObject({
      purpose: "request",
      objectIri: intent.id,
      intentIri: intent.id,
      action: "transferCustody",
      unit: "one",
      quantity: "50",
      name: "Sandbags",
      location: "River Lane",
      availableUntil: new Date("2026-12-01T00:00:00Z"),
      expiresAt: new Date("2026-12-01T00:00:00Z"),
    });
    const asProvider = { ...intent, receiver: undefined, provider: actor };
    expect(parseProposalJson(asProvider, { actorIri: actor, now: NOW }).purpose).toBe("offer");
    expect(codeOf(() => parseProposalJson({ ...intent, receiver: "https://bonfire.example/pub/actors/other" }, { actorIri: actor, now: NOW }))).toMatchObject({ code: "NOT_AUTHOR" });
  });
});
