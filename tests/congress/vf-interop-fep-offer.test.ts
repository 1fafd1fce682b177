/**
 * A FEP-0837 claim spelled exactly as the FEP's example: `Offer{object: Agreement{stipulates:
 * Commitment{satisfies: "<intent id>"}}}` under the FEP's context, where `satisfies` is a
 * plain term, so its string expands to a literal. Fedify 2.3.6's parser crashes on it (a
 * TypeError it does not treat as bad input: without the divert the inbox answered 500 and
 * the sender would retry for days). The divert (federation/inbox/vf-divert.ts) verifies the
 * signature, reads the string as the id it names and hands the Offer to the same claim
 * handler as any other: the claim is stored once, and answered by Accept or Reject.
 *
 * One real node (pod "oak-street", an offer of 40 kg squash); alice and bob on a
 * Mastodon-shaped server (not neighbours: the pod leaves strangers' claims to its stewards).
 */
import { Offer } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVfDivertCandidate } from "../../src/federation/inbox/vf-divert.ts";
import { addResource } from "../../src/services/books.ts";
import { acceptClaim, listClaims, updateClaimRules } from "../../src/services/claims.ts";
import { findReceivedActivity, inboxActivityRef } from "../../src/services/inbox.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createProposal, getProposal } from "../../src/services/proposals.ts";
import { postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { fep0837Offer } from "./fixtures/fep-references.ts";

const SLUG = "oak-street";
const WAIT = 30_000;
const TEST_TIMEOUT = 60_000;

let node: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let bob: FakeUser;
let inbox: string;
let intent: string;

/** The FEP's example Offer, from `who`, claiming `quantity` kg of our offer. */
function fepOffer(who: FakeUser, n: string, quantity: string): Record<string, unknown> {
  return {
    "@context": fep0837Offer["@context"],
    type: "Offer",
    id: `${masto.origin}/objects/${n}/offer`,
    actor: who.actorUrl,
    object: { type: "Agreement", stipulates: { type: "Commitment", satisfies: intent, resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: quantity } } },
    to: node.actorUrl(),
  };
}

const claimsFrom = async (actor: string) => (await listClaims(node.deps, SLUG, { direction: "incoming" })).filter((c) => c.counterpart.actor === actor);
const answersTo = (offerId: string) => masto.inbox.map(recordedJson).filter((x) => (x?.type === "Accept" || x?.type === "Reject") && x.object === offerId);

beforeAll(async () => {
  [node, masto] = await Promise.all([startTestNode({ podSlug: SLUG }), startFakeMastodon({ users: ["alice", "bob"] })]);
  alice = masto.user("alice");
  bob = masto.user("bob");
  inbox = `${node.actorUrl()}/inbox`;
  await addResource(node.deps, SLUG, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  await recordEntry(node.deps, SLUG, { kind: "contribution", resource: "squash", quantity: "60", counterpartyLabel: "allotment" });
  intent = `${(await createProposal(node.deps, SLUG, "offer", { resource: "squash", name: "Squash", quantity: "40" })).url}#primary`;
  await updateClaimRules(node.deps, SLUG, { strangers: "review" });
}, TEST_TIMEOUT);

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
});

describe("a claim spelled as FEP-0837's example", () => {
  it("Fedify alone cannot read it; the divert takes Offers of an embedded ValueFlows Agreement only", async () => {
    await expect(Offer.fromJsonLd(fepOffer(alice, "x", "1"))).rejects.toThrow(TypeError);
    expect(isVfDivertCandidate(fepOffer(alice, "x", "1"))).toBe(true);
    expect(isVfDivertCandidate({ ...fepOffer(alice, "x", "1"), object: "https://elsewhere.example/agreements/1" })).toBe(false);
    expect(isVfDivertCandidate({ ...fepOffer(alice, "x", "1"), object: { type: "Note", content: "hi" } })).toBe(false);
    expect(isVfDivertCandidate({ ...fepOffer(alice, "x", "1"), type: "Accept" })).toBe(false);
  });

  it("→ 202, stored once as a claim on our offer; the same Offer again changes nothing; the steward's Accept reaches alice", async () => {
    const offer = fepOffer(alice, "1", "5");
    const first = await postSigned(inbox, offer, { signer: alice });
    expect(first.status).toBe(202);
    const [claim, ...more] = await claimsFrom(alice.actorUrl);
    expect(more).toHaveLength(0);
    expect(claim).toMatchObject({ offer: offer.id, status: "pending", quantity: "5", unit: "kilogram" });
    expect((await findReceivedActivity(node.deps, offer.id as string))?.outcome).toBe("processed");

    expect((await postSigned(inbox, offer, { signer: alice })).status).toBe(202);
    expect(await claimsFrom(alice.actorUrl)).toHaveLength(1);

    const accepted = await acceptClaim(node.deps, SLUG, claim!.id);
    expect((await getProposal(node.deps, SLUG, "offer", 1)).remaining).toBe("35");
    const [answer] = await waitFor(() => (answersTo(offer.id as string).length ? answersTo(offer.id as string) : null), WAIT, "the Accept at alice's server");
    expect(answer).toMatchObject({ type: "Accept", actor: node.actorUrl(), object: offer.id });
    expect(answer.result.id).toBe(accepted.agreement);
  }, TEST_TIMEOUT);

  it("a claim for more than is available → 202, stored rejected, and alice gets a Reject with the reason", async () => {
    const offer = fepOffer(alice, "2", "100");
    expect((await postSigned(inbox, offer, { signer: alice })).status).toBe(202);
    const claim = (await claimsFrom(alice.actorUrl)).find((c) => c.offer === offer.id);
    expect(claim?.status).toBe("rejected");
    const [answer] = await waitFor(() => (answersTo(offer.id as string).length ? answersTo(offer.id as string) : null), WAIT, "the Reject at alice's server");
    expect(answer).toMatchObject({ type: "Reject", object: offer.id });
    expect(String(answer.content)).toMatch(/\S/);
    expect((await getProposal(node.deps, SLUG, "offer", 1)).remaining).toBe("35");
  }, TEST_TIMEOUT);

  it("unsigned, signed by someone else, or tampered → 401 and no claim", async () => {
    const offer = fepOffer(alice, "3", "2");
    expect((await postSigned(inbox, offer)).status).toBe(401);
    const impostor = await postSigned(inbox, offer, { signer: bob });
    expect([impostor.status, JSON.parse(impostor.text).error]).toEqual([401, "KEY_NOT_ACTORS"]);
    const tampered = await postSigned(inbox, offer, { signer: alice, digestOf: JSON.stringify(fepOffer(alice, "3", "1")) });
    expect([tampered.status, JSON.parse(tampered.text).error]).toEqual([401, "INVALID_SIGNATURE"]);
    expect((await claimsFrom(alice.actorUrl)).some((c) => c.offer === offer.id)).toBe(false);
    expect(await findReceivedActivity(node.deps, offer.id as string)).toBeNull();
  }, TEST_TIMEOUT);

  it("refused input (an Offer id on another server) → 202, recorded refused, no claim; no actor → 400", async () => {
    const foreign = { ...fepOffer(alice, "4", "2"), id: "https://elsewhere.example/objects/4/offer" };
    expect((await postSigned(inbox, foreign, { signer: alice })).status).toBe(202);
    // An id on another server is not trusted as a key: the activity is recorded under a digest.
    const key = inboxActivityRef({ id: foreign.id, actorIri: alice.actorUrl, type: "Offer", body: foreign }).key;
    expect(key).toMatch(/^sha256:/);
    expect(await findReceivedActivity(node.deps, key)).toMatchObject({ outcome: "refused", reason: "FOREIGN_OBJECT" });
    expect((await claimsFrom(alice.actorUrl)).some((c) => c.offer === foreign.id)).toBe(false);

    const { actor: _actor, ...noActor } = fepOffer(alice, "5", "2");
    const malformed = await postSigned(inbox, noActor, { signer: alice });
    expect([malformed.status, JSON.parse(malformed.text).error]).toEqual([400, "INCOMPLETE_ACTIVITY"]);
  }, TEST_TIMEOUT);
});
