/**
 * Claims between two real nodes (loopback, real signatures): oak-street (A) offers squash,
 * elm-row (B) follows it back and claims. Stewards accept and reject by hand when no rule
 * decides; bad claims are refused with codes and write nothing; two claims racing for the
 * last units on the proposer's side never both win; a replayed Offer changes nothing; the
 * claim's Offer and the Agreement dereference in the FEP-0837 shape.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRemoteActor } from "../../src/db/repos/follows.ts";
import { addResource } from "../../src/services/books.ts";
import { acceptClaim, getClaim, listClaims, makeClaim, receiveClaim, rejectClaim, updateClaimRules } from "../../src/services/claims.ts";
import { listFollowing, requestFollow } from "../../src/services/follows.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createProposal, getProposal, getRemoteProposal } from "../../src/services/proposals.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row";
const WAIT = 60_000;
let a: TestNode;
let b: TestNode;
let offerUrl: string;

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error("expected a refusal");
}

const claimsAt = async (deps: ServiceDeps) => Number((await sql<{ n: number }>`select count(*)::int as n from claims`.execute(deps.db)).rows[0]!.n);

async function settled(id: string) {
  return waitFor(async () => {
    const c = await getClaim(b.deps, B, id);
    return c.status !== "pending" ? c : null;
  }, WAIT, `claim ${id} to be answered`);
}

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: A }), startTestNode({ podSlug: B })]);
  await requestFollow(b.deps, B, a.actorUrl());
  await requestFollow(a.deps, A, b.actorUrl());
  await waitFor(async () => (await listFollowing(a.deps, A)).some((f) => f.status === "accepted") && (await listFollowing(b.deps, B)).some((f) => f.status === "accepted"), WAIT, "the follows");
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "60", counterpartyLabel: "allotment" });
  offerUrl = (await createProposal(a.deps, A, "offer", { resource: "squash", name: "Squash", quantity: "40", minimum: "2" })).url;
  await waitFor(() => getRemoteProposal(b.deps, offerUrl), WAIT, "B's copy of the offer");
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("claims between two nodes", () => {
  it("refuses bad claims with codes and writes nothing", async () => {
    const before = await claimsAt(b.deps);
    await addResource(b.deps, B, { key: "water", name: "Water", unit: "litre", category: "water" });
    expect(await codeOf(makeClaim(b.deps, B, { proposal: `${a.origin}/pods/${A}/offers/99`, quantity: "1" }))).toBe("PROPOSAL_NOT_KNOWN");
    expect(await codeOf(makeClaim(b.deps, B, { proposal: offerUrl, quantity: "41" }))).toBe("CLAIM_EXCEEDS_AVAILABLE");
    expect(await codeOf(makeClaim(b.deps, B, { proposal: offerUrl, quantity: "1" }))).toBe("CLAIM_BELOW_MINIMUM");
    expect(await codeOf(makeClaim(b.deps, B, { proposal: offerUrl, quantity: "zero" }))).toBe("INVALID_QUANTITY");
    expect(await codeOf(makeClaim(b.deps, B, { proposal: offerUrl, quantity: "5", resource: "water" }))).toBe("UNIT_MISMATCH");
    expect(await codeOf(makeClaim(b.deps, B, { proposal: offerUrl, quantity: "5", resource: "nothing" }))).toBe("UNKNOWN_RESOURCE");
    expect(await codeOf(makeClaim(b.deps, B, { proposal: offerUrl, quantity: "5", colour: "red" }))).toBe("UNKNOWN_FIELD");
    expect(await codeOf(makeClaim(b.deps, B, { quantity: "5" }))).toBe("FIELD_REQUIRED");
    expect(await codeOf(updateClaimRules(a.deps, A, { strangers: "maybe" }))).toBe("INVALID_FIELD");
    expect(await codeOf(updateClaimRules(a.deps, A, { autoAcceptUpTo: "-1" }))).toBe("NEGATIVE");
    expect(await claimsAt(b.deps)).toBe(before);
  });

  it("without a rule, a claim waits for a steward, who accepts it; a second decision is refused", async () => {
    const claim = await makeClaim(b.deps, B, { proposal: offerUrl, quantity: "10" });
    const incoming = await waitFor(async () => (await listClaims(a.deps, A, { direction: "incoming" })).find((c) => c.offer === claim.offer), WAIT, "A to hold the claim");
    expect(incoming.status).toBe("pending");
    const accepted = await acceptClaim(a.deps, A, incoming.id);
    expect(accepted).toMatchObject({ status: "accepted", decidedBy: "steward", agreement: `${a.actorUrl()}/agreements/${incoming.id}` });
    expect(await codeOf(acceptClaim(a.deps, A, incoming.id))).toBe("CLAIM_NOT_PENDING");
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("30");
    const atB = await settled(claim.id);
    expect(atB).toMatchObject({ status: "accepted", agreement: accepted.agreement, commitment: `${accepted.agreement}#primary` });

    // The claim's Offer and the Agreement dereference in the FEP-0837 shape.
    const ap = { accept: "application/activity+json" };
    const offerDoc = (await (await fetch(claim.offer, { headers: ap })).json()) as any;
    expect(offerDoc).toMatchObject({ id: claim.offer, type: "Offer", actor: b.actorUrl(), object: { type: "Agreement", stipulates: { type: "Commitment", satisfies: `${offerUrl}#primary`, resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "10" } } } });
    const agreementDoc = (await (await fetch(accepted.agreement!, { headers: ap })).json()) as any;
    expect(agreementDoc).toMatchObject({ id: accepted.agreement, type: "Agreement", attributedTo: a.actorUrl(), stipulates: { id: `${accepted.agreement}#primary`, satisfies: `${offerUrl}#primary` } });
  });

  it("a steward rejects with a reason the claimant reads", async () => {
    const claim = await makeClaim(b.deps, B, { proposal: offerUrl, quantity: "3" });
    const incoming = await waitFor(async () => (await listClaims(a.deps, A, { direction: "incoming", status: "pending" })).find((c) => c.offer === claim.offer), WAIT, "A to hold the claim");
    expect(await codeOf(rejectClaim(a.deps, A, incoming.id, "<script>x</script>"))).toBe("INVALID_TEXT");
    await rejectClaim(a.deps, A, incoming.id, "Kept for the soup kitchen");
    expect(await settled(claim.id)).toMatchObject({ status: "rejected", reason: "Kept for the soup kitchen" });
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("30");
  });

  it("two claims racing for the last units: exactly one is accepted, remaining never below zero; a replay changes nothing", async () => {
    await updateClaimRules(a.deps, A, { autoAcceptUpTo: "100" });
    const actor = (await getRemoteActor(a.deps.db, b.actorUrl()))!;
    const info = { iri: actor.iri, handle: actor.handle, name: actor.name, url: actor.url, inbox: actor.inbox, sharedInbox: actor.shared_inbox, actorType: actor.actor_type };
    const claim = (n: number) => ({
      actor: info,
      offerIri: `${b.actorUrl()}/claims/00000000-0000-4000-8000-00000000000${n}`,
      intentIri: `${offerUrl}#primary`,
      quantity: "30",
      unit: "kilogram",
      activity: { key: `${b.actorUrl()}/claims/00000000-0000-4000-8000-00000000000${n}`, actorIri: b.actorUrl(), type: "Offer" },
    });
    const outcomes = await Promise.all([receiveClaim(a.deps, claim(1)), receiveClaim(a.deps, claim(2))]);
    expect(outcomes.sort()).toEqual(["accepted", "rejected"]);
    const proposal = await getProposal(a.deps, A, "offer", 1);
    expect(proposal.remaining).toBe("0");
    expect(proposal.status).toBe("fulfilled");
    // The same Offer again: nothing new.
    expect(await receiveClaim(a.deps, claim(1))).toBe("duplicate");
    // A claim on a fulfilled offer is rejected with the rule's message.
    const late = await receiveClaim(a.deps, { ...claim(3), quantity: "2" });
    expect(late).toBe("rejected");
    const rejected = (await listClaims(a.deps, A, { direction: "incoming", status: "rejected" })).find((c) => c.offer === claim(3).offerIri)!;
    expect(rejected.reason).toMatch(/fulfilled/);
  });

  it("an Offer naming something that is not one of our proposals is refused", async () => {
    const actor = (await getRemoteActor(a.deps.db, b.actorUrl()))!;
    const info = { iri: actor.iri, handle: actor.handle, name: actor.name, url: actor.url, inbox: actor.inbox, sharedInbox: actor.shared_inbox };
    expect(await codeOf(receiveClaim(a.deps, { actor: info, offerIri: `${b.actorUrl()}/claims/x`, intentIri: "https://elsewhere.example/offers/1#primary", quantity: "1", unit: "kilogram" }))).toBe("CLAIM_UNKNOWN_PROPOSAL");
    expect(await codeOf(receiveClaim(a.deps, { actor: info, offerIri: `${b.actorUrl()}/claims/y`, intentIri: `${offerUrl}#primary`, quantity: "-1", unit: "kilogram" }))).toBe("INVALID_QUANTITY");
  });
});
