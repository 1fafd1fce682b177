/**
 * Claims over real federation on loopback, three Hyphae nodes and a Mastodon-shaped server,
 * all with real signatures, driven through the steward API:
 *
 * oak-street (A) and elm-row (B) follow each other (neighbours); ash-lane (C) follows A one
 * way. A offers squash and accepts neighbours' claims up to 20 kg by rule.
 *   - B claims 15 kg: accepted by rule, B reads the Agreement's id; the claim's Offer and the
 *     Agreement dereference in the FEP-0837 shape;
 *   - C claims: rejected at once with A's reason for strangers;
 *   - bad claims through the API: codes, nothing written;
 *   - signed Offers posted as another server would (Bonfire spelling, another unit, a
 *     withdrawn offer, an unknown proposal, a replay): stored once, answered with a Reject
 *     that carries the reason, or refused; a steward's Accept carries the Agreement;
 *   - two stewards' accepts racing for the last units: exactly one wins.
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRemoteActor } from "../../src/db/repos/follows.ts";
import { addResource } from "../../src/services/books.ts";
import { acceptClaim, receiveClaim } from "../../src/services/claims.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createProposal, getProposal, getRemoteProposal, withdrawProposal } from "../../src/services/proposals.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row";
const C = "ash-lane";
const WAIT = 60_000;
const TEST_TIMEOUT = 120_000;
const STRANGERS = "Neighbours first: follow us back and ask again";

let a: TestNode;
let b: TestNode;
let c: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let squash: string; // offer 1: 40 kg, at least 2
let eggs: string; // offer 2: withdrawn later
let beans: string; // offer 3: 10 kg, for the race

async function api(node: TestNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await node.token()}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

async function follow(from: TestNode, slug: string, to: TestNode) {
  expect((await api(from, "POST", `/pods/${slug}/following`, { target: to.handle() })).status).toBe(202);
  await waitFor(
    async () => (await api(from, "GET", `/pods/${slug}/following`)).body.items.some((i: any) => i.actor === to.actorUrl() && i.status === "accepted"),
    WAIT,
    `${slug}'s follow of ${to.actorUrl()}`,
  );
}

const claimRows = async (deps: ServiceDeps) =>
  (await deps.db.selectFrom("claims").select(["id", "offer_iri", "status", "reason", "quantity", "unit"]).orderBy("id").execute()).map((r) => ({ ...r, quantity: String(Number(r.quantity)) }));

async function answered(node: TestNode, slug: string, id: string) {
  return waitFor(async () => {
    const r = await api(node, "GET", `/pods/${slug}/claims/${id}`);
    return r.body.status !== "pending" ? r.body : null;
  }, WAIT, `claim ${id} to be answered`);
}

/** Alice's signed Offer of an Agreement (any JSON) to A. */
function aliceOffer(agreement: unknown, id = `${masto.origin}/claims/${randomUUID()}`) {
  return { "@context": AS_CONTEXT, id, type: "Offer", actor: alice.actorUrl, to: a.actorUrl(), object: agreement };
}
const fep0837 = (intent: string, quantity: unknown, unit = "kilogram") => ({
  type: "Agreement",
  stipulates: { type: "Commitment", satisfies: intent, resourceQuantity: { hasUnit: unit, hasNumericalValue: quantity } },
});
const sendToA = (activity: object) => postSigned(`${a.actorUrl()}/inbox`, activity, { signer: alice });

/** What alice's server accepted answering one of her Offers. */
const answersTo = (offerId: string) =>
  masto.inbox.filter((r) => r.status === 202).map((r) => recordedJson(r)).filter((x) => (x?.type === "Accept" || x?.type === "Reject") && (x.object?.id ?? x.object) === offerId);

const incomingAt = async (offerId: string) => (await claimRows(a.deps)).filter((r) => r.offer_iri === offerId);

beforeAll(async () => {
  [a, b, c, masto] = await Promise.all([
    startTestNode({ podSlug: A, podName: "Oak Street" }),
    startTestNode({ podSlug: B, podName: "Elm Row" }),
    startTestNode({ podSlug: C, podName: "Ash Lane" }),
    startFakeMastodon(),
  ]);
  alice = masto.user("alice");
  await Promise.all([follow(b, B, a), follow(c, C, a)]);
  await follow(a, A, b);
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "80", counterpartyLabel: "allotment" });
  squash = (await createProposal(a.deps, A, "offer", { resource: "squash", name: "Squash", quantity: "40", minimum: "2" })).url;
  eggs = (await createProposal(a.deps, A, "offer", { resource: "squash", name: "Small squash", quantity: "5" })).url;
  beans = (await createProposal(a.deps, A, "offer", { resource: "squash", name: "Last squash", quantity: "10" })).url;
  await waitFor(async () => (await getRemoteProposal(b.deps, squash)) && (await getRemoteProposal(c.deps, squash)), WAIT, "B's and C's copies");
  expect((await api(a, "PATCH", `/pods/${A}/claim-rules`, { autoAcceptUpTo: "20", strangerReason: STRANGERS })).body).toEqual({ autoAcceptUpTo: "20", strangers: "reject", strangerReason: STRANGERS });
}, TEST_TIMEOUT);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  await masto?.close();
}, TEST_TIMEOUT);

describe("claims over the wire", () => {
  it("B claims 15 kg: A's rule accepts it and B reads the Agreement; both documents dereference in the FEP-0837 shape", { timeout: TEST_TIMEOUT }, async () => {
    const made = await api(b, "POST", `/pods/${B}/claims`, { proposal: squash, quantity: "15" });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ direction: "outgoing", status: "pending", quantity: "15", unit: "kilogram", purpose: "offer", proposal: squash, intent: `${squash}#primary`, counterpart: { actor: a.actorUrl() } });
    const done = await answered(b, B, made.body.id);
    const atA = (await api(a, "GET", `/pods/${A}/claims?direction=incoming&status=accepted`)).body.items.find((x: any) => x.offer === made.body.offer);
    expect(atA).toMatchObject({ decidedBy: "rule", quantity: "15", counterpart: { actor: b.actorUrl(), handle: b.handle() } });
    expect(done).toMatchObject({ status: "accepted", agreement: `${a.actorUrl()}/agreements/${atA.id}`, commitment: `${a.actorUrl()}/agreements/${atA.id}#primary` });
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("25");

    const ap = { accept: "application/activity+json" };
    const offerDoc = (await (await fetch(made.body.offer, { headers: ap })).json()) as any;
    expect(offerDoc["@context"][0]).toBe(AS_CONTEXT);
    expect(offerDoc["@context"][1]).toMatchObject({ vf: "https://w3id.org/valueflows/ont/vf#", om2: "http://www.ontology-of-units-of-measure.org/resource/om-2/", stipulates: "vf:stipulates", hasUnit: "om2:hasUnit" });
    expect(offerDoc).toMatchObject({
      id: made.body.offer,
      type: "Offer",
      actor: b.actorUrl(),
      to: [a.actorUrl()],
      object: { type: "Agreement", stipulates: { type: "Commitment", satisfies: `${squash}#primary`, resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "15" } } },
    });
    const agreement = (await (await fetch(done.agreement, { headers: ap })).json()) as any;
    expect(agreement).toMatchObject({
      id: done.agreement,
      type: "Agreement",
      attributedTo: a.actorUrl(),
      stipulates: { id: done.commitment, type: "Commitment", satisfies: `${squash}#primary`, resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "15" } },
    });
    // Neither side serves the other's document.
    expect((await fetch(`${b.actorUrl()}/agreements/${made.body.id}`, { headers: ap })).status).toBe(404);
    expect((await fetch(`${a.actorUrl()}/claims/${atA.id}`, { headers: ap })).status).toBe(404);
  });

  it("C (not a neighbour) is rejected at once with A's reason for strangers; nothing is taken", { timeout: TEST_TIMEOUT }, async () => {
    const made = await api(c, "POST", `/pods/${C}/claims`, { proposal: squash, quantity: "5" });
    expect(made.status).toBe(201);
    expect(await answered(c, C, made.body.id)).toMatchObject({ status: "rejected", reason: STRANGERS, agreement: null });
    const atA = (await api(a, "GET", `/pods/${A}/claims?direction=incoming&status=rejected`)).body.items.find((x: any) => x.offer === made.body.offer);
    expect(atA).toMatchObject({ decidedBy: "rule", reason: STRANGERS });
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("25");
  });

  it("bad claims and decisions through the API: codes naming the field, nothing written", async () => {
    const before = await claimRows(b.deps);
    const refused = async (node: TestNode, method: string, path: string, body: unknown, status: number, code: string, field?: string) => {
      const r = await api(node, method, path, body);
      expect({ path, status: r.status, error: r.body?.error, ...(field && { field: r.body?.details?.field }) }).toEqual({ path, status, error: code, ...(field && { field }) });
    };
    await refused(b, "POST", `/pods/${B}/claims`, { proposal: squash, quantity: "26" }, 400, "CLAIM_EXCEEDS_AVAILABLE", "quantity");
    await refused(b, "POST", `/pods/${B}/claims`, { proposal: squash, quantity: "1" }, 400, "CLAIM_BELOW_MINIMUM", "quantity");
    await refused(b, "POST", `/pods/${B}/claims`, { proposal: squash, quantity: "-4" }, 400, "INVALID_QUANTITY", "quantity");
    await refused(b, "POST", `/pods/${B}/claims`, { proposal: squash }, 400, "FIELD_REQUIRED", "quantity");
    await refused(b, "POST", `/pods/${B}/claims`, { proposal: `${a.actorUrl()}/offers/77`, quantity: "3" }, 404, "PROPOSAL_NOT_KNOWN");
    await refused(b, "POST", `/pods/${B}/claims`, { proposal: squash, quantity: "3", resource: "nothing" }, 400, "UNKNOWN_RESOURCE", "resource");
    await refused(b, "GET", `/pods/${B}/claims/${randomUUID()}`, undefined, 404, "CLAIM_NOT_FOUND");
    expect(await claimRows(b.deps)).toEqual(before);
    const accepted = (await api(a, "GET", `/pods/${A}/claims?status=accepted`)).body.items[0];
    await refused(a, "POST", `/pods/${A}/claims/${accepted.id}/accept`, undefined, 409, "CLAIM_NOT_PENDING");
    await refused(a, "POST", `/pods/${A}/claims/${accepted.id}/reject`, { reason: "changed our mind" }, 409, "CLAIM_NOT_PENDING");
    await refused(a, "PATCH", `/pods/${A}/claim-rules`, { strangers: "sometimes" }, 400, "INVALID_FIELD", "strangers");
    await refused(a, "PATCH", `/pods/${A}/claim-rules`, { strangerReason: "" }, 400, "FIELD_REQUIRED", "strangerReason");
    await refused(a, "PATCH", `/pods/${A}/claim-rules`, { colour: "red" }, 400, "UNKNOWN_FIELD", "colour");
    expect((await api(a, "GET", `/pods/${A}/claim-rules`)).body).toEqual({ autoAcceptUpTo: "20", strangers: "reject", strangerReason: STRANGERS });
    expect((await fetch(`${b.origin}/api/hyphae/v1/pods/${B}/claims`)).status).toBe(401);
  });

  it("signed Offers from another server: any spelling is read, a replay stored once, bad claims answered with a Reject and its reason", { timeout: TEST_TIMEOUT }, async () => {
    await api(a, "PATCH", `/pods/${A}/claim-rules`, { strangers: "review" });
    // Another software's spelling: the Agreement typed by its full VF IRI, Bonfire's
    // ValueFlows: property names (Fedify does not read them: only the raw JSON has them),
    // om2: properties, the unit's IRI, a number. (An Agreement typed only
    // `ValueFlows:Agreement` is refused 400 by Fedify's parser before any listener runs.)
    const bonfire = aliceOffer({
      "@type": "https://w3id.org/valueflows/ont/vf#Agreement",
      "ValueFlows:stipulates": {
        "@type": "ValueFlows:Commitment",
        "ValueFlows:satisfies": { "@id": `${squash}#primary` },
        "ValueFlows:resourceQuantity": { "om2:hasUnit": "http://www.ontology-of-units-of-measure.org/resource/om-2/kilogram", "om2:hasNumericalValue": 4 },
      },
    });
    expect((await sendToA(bonfire)).status).toBe(202);
    const [stored] = await waitFor(async () => ((await incomingAt(bonfire.id)).length ? incomingAt(bonfire.id) : null), WAIT, "alice's claim at A");
    expect(stored).toMatchObject({ status: "pending", quantity: "4", unit: "kilogram" });
    // The same Offer again, also once Fedify's own mark of it is gone: nothing new.
    expect((await sendToA(bonfire)).status).toBe(202);
    await a.deps.db.deleteFrom("fedify_kv").where("key", "like", '["_fedify","activityIdempotence",%').execute();
    expect((await sendToA(bonfire)).status).toBe(202);
    await waitFor(async () => Number((await sql<{ n: number }>`select count(*)::int as n from fedify_queue`.execute(a.deps.db)).rows[0]!.n) === 0, WAIT, "A's queue to drain");
    expect(await incomingAt(bonfire.id)).toEqual([stored]);

    // A steward rejects it: alice's server gets the Reject with the reason.
    const rejected = await api(a, "POST", `/pods/${A}/claims/${stored!.id}/reject`, { reason: "Promised to the school" });
    expect(rejected.body).toMatchObject({ status: "rejected", decidedBy: "steward", reason: "Promised to the school", counterpart: { actor: alice.actorUrl } });
    const [reject] = await waitFor(() => (answersTo(bonfire.id).length ? answersTo(bonfire.id) : null), WAIT, "the Reject at alice's server");
    expect(reject).toMatchObject({ type: "Reject", id: `${a.actorUrl()}/agreements/${stored!.id}#reject`, actor: a.actorUrl(), object: bonfire.id, content: "Promised to the school" });
    expect(await incomingAt(bonfire.id)).toHaveLength(1);

    // Another unit, and a withdrawn offer: rejected by rule, with the rule's message.
    await withdrawProposal(a.deps, A, "offer", 2);
    const litres = aliceOffer(fep0837(`${squash}#primary`, "3", "litre"));
    const withdrawn = aliceOffer(fep0837(`${eggs}#primary`, "5"));
    for (const offer of [litres, withdrawn]) expect((await sendToA(offer)).status).toBe(202);
    const [litresReject] = await waitFor(() => (answersTo(litres.id).length ? answersTo(litres.id) : null), WAIT, "the Reject of the claim in litres");
    expect(litresReject).toMatchObject({ type: "Reject", content: expect.stringContaining("kilogram") });
    const [withdrawnReject] = await waitFor(() => (answersTo(withdrawn.id).length ? answersTo(withdrawn.id) : null), WAIT, "the Reject of the claim on a withdrawn offer");
    expect(withdrawnReject).toMatchObject({ type: "Reject", content: expect.stringContaining("withdrawn") });
    for (const offer of [litres, withdrawn]) expect(await incomingAt(offer.id)).toMatchObject([{ status: "rejected" }]);

    // An Offer naming no proposal of ours: refused (recorded once), no claim.
    const unknown = aliceOffer(fep0837(`${a.actorUrl()}/offers/404#primary`, "1"));
    expect((await sendToA(unknown)).status).toBe(202);
    const row = await waitFor(() => a.deps.db.selectFrom("inbox_activities").selectAll().where("key", "=", unknown.id).executeTakeFirst(), WAIT, "the refusal to be recorded");
    expect(row).toMatchObject({ outcome: "refused", reason: "CLAIM_UNKNOWN_PROPOSAL" });
    expect(await incomingAt(unknown.id)).toEqual([]);
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("25");

    // A claim arriving after the offer's expiry is rejected by rule.
    const info = await aliceInfo();
    const late = clockAt(new Date(Date.now() + 400 * 86_400_000));
    const lateOffer = `${masto.origin}/claims/${randomUUID()}`;
    expect(await receiveClaim(late, { actor: info, offerIri: lateOffer, intentIri: `${squash}#primary`, quantity: "3", unit: "kilogram" })).toBe("rejected");
    expect((await incomingAt(lateOffer))[0]).toMatchObject({ status: "rejected", reason: expect.stringContaining("closed at") });
  });

  it("a steward's Accept carries the Agreement; two accepts racing for the last units: exactly one wins", { timeout: TEST_TIMEOUT }, async () => {
    const offers = [aliceOffer(fep0837(`${beans}#primary`, "10")), aliceOffer(fep0837(`${beans}#primary`, "10"))];
    for (const offer of offers) expect((await sendToA(offer)).status).toBe(202);
    const ids = await waitFor(async () => {
      const rows = (await Promise.all(offers.map((o) => incomingAt(o.id)))).flat();
      return rows.length === 2 && rows.every((r) => r.status === "pending") ? rows.map((r) => r.id) : null;
    }, WAIT, "both claims pending at A");
    const outcomes = await Promise.allSettled(ids.map((id) => acceptClaim(a.deps, A, id)));
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(DomainError);
    expect(["CLAIM_EXCEEDS_AVAILABLE", "CLAIM_CLOSED"]).toContain((lost[0]!.reason as DomainError).code);
    const beansNow = await getProposal(a.deps, A, "offer", 3);
    expect(beansNow).toMatchObject({ remaining: "0", status: "fulfilled" });
    const statuses = (await Promise.all(offers.map((o) => incomingAt(o.id)))).flat().map((r) => r.status).sort();
    expect(statuses).toEqual(["accepted", "pending"]);

    const winner = offers[ids.indexOf((won[0] as PromiseFulfilledResult<{ id: string }>).value.id)]!;
    const [accept] = await waitFor(() => (answersTo(winner.id).length ? answersTo(winner.id) : null), WAIT, "the Accept at alice's server");
    expect(accept.type).toBe("Accept");
    expect(accept.object).toBe(winner.id);
    expect(JSON.stringify(accept.result)).toContain(`${a.actorUrl()}/agreements/`);
  });
});

async function aliceInfo() {
  const actor = (await getRemoteActor(a.deps.db, alice.actorUrl))!;
  return { iri: actor.iri, handle: actor.handle, name: actor.name, url: actor.url, inbox: actor.inbox, sharedInbox: actor.shared_inbox };
}
const clockAt = (when: Date): ServiceDeps => ({ ...a.deps, clock: { now: () => new Date(when) } });
