/**
 * Reading other pods' EconomicEvents (pure: no nodes): ours, FEP-3264 as written, Bonfire's
 * `ValueFlows:` spelling; what a transfer needs and the code when it is missing; resource
 * keys made from names; who gives under a claim.
 */
import { describe, expect, it } from "vitest";
import { economicEventFacts, isEconomicEventDocument } from "../../src/federation/inbox/transfers.ts";
import { keyOfName, ourPodGives } from "../../src/services/transfers.ts";

const ACTOR = "https://oak.example/pods/oak-street";
const EVENT = "https://oak.example/pods/oak-street/transfers/7a0c6b1e-3d6f-4c39-9f7c-2f1d5f0e9a11";
const AGREEMENT = "https://oak.example/pods/oak-street/agreements/0d3c7a52-1c9b-4a8e-8d35-6a4f3c2b1e00";
const RECEIVER = "https://elm.example/pods/elm-row";

const ours = {
  "@context": ["https://www.w3.org/ns/activitystreams", { vf: "https://w3id.org/valueflows/ont/vf#", hyphae: "https://hyphae-pods.github.io/ns#" }],
  id: EVENT,
  type: "EconomicEvent",
  attributedTo: ACTOR,
  action: "transfer",
  provider: ACTOR,
  receiver: RECEIVER,
  resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "15" },
  hasPointInTime: "2026-11-28T10:00:00.000Z",
  fulfills: `${AGREEMENT}#primary`,
  context: AGREEMENT,
  realizationOf: AGREEMENT,
  claim: "https://elm.example/pods/elm-row/claims/5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b",
  acknowledges: "https://elm.example/pods/elm-row/transfers/1",
};

describe("EconomicEvent documents", () => {
  it("reads ours", () => {
    expect(isEconomicEventDocument(ours)).toBe(true);
    expect(economicEventFacts(ours, ACTOR, EVENT)).toEqual({
      actorIri: ACTOR,
      eventIri: EVENT,
      agreementIri: AGREEMENT,
      claimOfferIri: ours.claim,
      providerIri: ACTOR,
      receiverIri: RECEIVER,
      quantity: "15",
      unit: "kilogram",
      occurredAt: new Date("2026-11-28T10:00:00.000Z"),
      acknowledges: ours.acknowledges,
    });
  });

  it("reads Bonfire's spelling (ValueFlows: prefix, om2: units, objects with ids) and FEP-3264's realizationOf without context", () => {
    const bonfire = {
      id: EVENT,
      type: "ValueFlows:EconomicEvent",
      "ValueFlows:action": "transfer-custody",
      "ValueFlows:provider": { id: ACTOR },
      "ValueFlows:receiver": RECEIVER,
      "ValueFlows:resourceQuantity": { "om2:hasUnit": "om2:kilogram", "om2:hasNumericalValue": 4 },
      "ValueFlows:realizationOf": AGREEMENT,
    };
    expect(isEconomicEventDocument(bonfire)).toBe(true);
    expect(economicEventFacts(bonfire, ACTOR, EVENT)).toMatchObject({ agreementIri: AGREEMENT, providerIri: ACTOR, quantity: "4", unit: "kilogram", claimOfferIri: null, occurredAt: null });
  });

  it("other documents are not events", () => {
    for (const doc of [null, "EconomicEvent", [], { type: "Note" }, { type: ["Note", "Proposal"] }]) expect(isEconomicEventDocument(doc)).toBe(false);
  });

  it("refuses an event without what a transfer needs, each with its code", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ id: "https://oak.example/other" }, "NOT_THE_OBJECT"],
      [{ attributedTo: RECEIVER }, "NOT_AUTHOR"],
      [{ context: undefined, realizationOf: undefined }, "NO_AGREEMENT"],
      [{ receiver: undefined }, "NO_PARTIES"],
      [{ resourceQuantity: { hasUnit: "kilogram" } }, "NO_QUANTITY"],
      [{ resourceQuantity: undefined }, "NO_QUANTITY"],
    ];
    for (const [patch, code] of cases) {
      expect(() => economicEventFacts({ ...ours, ...patch }, ACTOR, EVENT)).toThrow(expect.objectContaining({ kind: "invalid", code }));
    }
  });
});

describe("transfer rules", () => {
  it("the giver is the proposer of an offer or the claimant of a need", () => {
    expect(ourPodGives({ direction: "incoming", purpose: "offer" })).toBe(true);
    expect(ourPodGives({ direction: "outgoing", purpose: "request" })).toBe(true);
    expect(ourPodGives({ direction: "outgoing", purpose: "offer" })).toBe(false);
    expect(ourPodGives({ direction: "incoming", purpose: "request" })).toBe(false);
  });

  it("resource keys from names", () => {
    expect(keyOfName("Winter Squash (Crown Prince)")).toBe("winter-squash-crown-prince");
    expect(keyOfName("Crème fraîche")).toBe("creme-fraiche");
    expect(keyOfName("  --Care hours--  ")).toBe("care-hours");
    expect(keyOfName("日本米")).toBe("");
    expect(keyOfName("Åland butter")).toBe("aland-butter");
    expect(keyOfName("a".repeat(60))).toHaveLength(40);
    expect(keyOfName(`${"x".repeat(39)} y`)).toBe("x".repeat(39));
  });
});
