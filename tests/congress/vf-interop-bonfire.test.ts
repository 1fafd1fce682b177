/**
 * Bonfire-spelled offers in our inbox (issue 10, part 8).
 *
 * Fedify's vocabulary refuses an embedded `ValueFlows:Intent`/`ValueFlows:Proposal`
 * (Bonfire's prefix expands to `https://w3id.org/valueflows#…`, not VF 1.0's IRI), so the
 * bridge's inbox guard diverts such a Create/Update to federation/inbox/vf-divert.ts, which
 * verifies the signature itself and stores the offer through the proposals service.
 *
 * A real node (pod "riverside") follows alice on a Mastodon-shaped server that hosts her
 * actor and keys (the Follow is accepted by a signed Accept from alice). Then signed
 * (draft-cavage, Mastodon-style) Bonfire activities arrive in the pod's inbox and the
 * shared inbox.
 */
import { Create } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isVfDivertCandidate } from "../../src/federation/inbox/vf-divert.ts";
import { findReceivedActivity } from "../../src/services/inbox.ts";
import { getRemoteProposal } from "../../src/services/proposals.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { BONFIRE_CONTEXT, bonfireActivity, bonfireGoodsProposal, bonfireServiceIntent } from "./fixtures/bonfire.ts";

const SLUG = "riverside";
const WAIT = 30_000;
const TEST_TIMEOUT = 60_000;

let node: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let bob: FakeUser;
let inbox: string;

/** Every stored copy of a neighbour's proposal, whole rows, in a stable order. */
async function remoteRows(): Promise<unknown[]> {
  return node.deps.db.selectFrom("remote_proposals").selectAll().orderBy("object_iri").execute();
}

async function inboxRecord(key: string) {
  return findReceivedActivity(node.deps, key);
}

beforeAll(async () => {
  [node, masto] = await Promise.all([startTestNode({ podSlug: SLUG, podName: "Riverside" }), startFakeMastodon({ users: ["alice", "bob"] })]);
  alice = masto.user("alice");
  bob = masto.user("bob");
  inbox = `${node.actorUrl()}/inbox`;
  // Our pod follows alice; her server (the fake) records the Follow and alice accepts it.
  const token = await node.token();
  const followed = await fetch(`${node.origin}/api/hyphae/v1/pods/${SLUG}/following`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ target: alice.actorUrl }),
  });
  expect(followed.status).toBe(202);
  const follow = await waitFor(() => masto.inbox.map(recordedJson).find((a) => a?.type === "Follow" && a.object === alice.actorUrl), WAIT, "our Follow at alice's server");
  const accept = { "@context": AS_CONTEXT, id: `${masto.origin}/users/alice#accepts/follows/1`, type: "Accept", actor: alice.actorUrl, object: follow.id };
  expect((await postSigned(inbox, accept, { signer: alice })).status).toBe(202);
  await waitFor(async () => {
    const r = await fetch(`${node.origin}/api/hyphae/v1/pods/${SLUG}/following`, { headers: { authorization: `Bearer ${token}` } });
    return ((await r.json()) as any).items.some((i: any) => i.actor === alice.actorUrl && i.status === "accepted");
  }, WAIT, "the follow of alice to be accepted");
}, TEST_TIMEOUT);

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
});

describe("why the divert exists", () => {
  it("Fedify's own vocabulary refuses a Create of a Bonfire ValueFlows:Intent", async () => {
    const activity = bonfireActivity("Create", "https://bonfire.example/pub/actors/a", bonfireServiceIntent("https://bonfire.example/pub/actors/a", "x"), "x");
    await expect(Create.fromJsonLd(activity)).rejects.toThrow(/Invalid type: https:\/\/w3id\.org\/valueflows#Intent/);
  });

  it("only Create/Update of an embedded ValueFlows Proposal or Intent are candidates", () => {
    const actor = "https://bonfire.example/pub/actors/a";
    const intent = bonfireServiceIntent(actor, "y");
    expect(isVfDivertCandidate(bonfireActivity("Create", actor, intent, "y"))).toBe(true);
    expect(isVfDivertCandidate(bonfireActivity("Update", actor, bonfireGoodsProposal(actor, "y"), "y"))).toBe(true);
    expect(isVfDivertCandidate({ ...bonfireActivity("Create", actor, intent, "y"), type: "https://www.w3.org/ns/activitystreams#Create" })).toBe(true);
    expect(isVfDivertCandidate(bonfireActivity("Create", actor, intent.id, "y"))).toBe(false); // by reference: Fedify reads it
    expect(isVfDivertCandidate({ ...bonfireActivity("Create", actor, intent, "y"), type: "Announce" })).toBe(false);
    expect(isVfDivertCandidate(bonfireActivity("Create", actor, { id: `${actor}/n/1`, type: "Note", content: "hi" }, "y"))).toBe(false);
    expect(isVfDivertCandidate(null)).toBe(false);
    expect(isVfDivertCandidate([bonfireActivity("Create", actor, intent, "y")])).toBe(false);
  });
});

describe("a Bonfire-spelled offer from a pod we follow", () => {
  it("a ValueFlows:Intent with a hyphenated action and om2 units → 202, stored normalised", async () => {
    const object = bonfireServiceIntent(alice.actorUrl, "1");
    const result = await postSigned(inbox, bonfireActivity("Create", alice.actorUrl, object, "1"), { signer: alice });
    expect(result.status).toBe(202);
    const copy = await getRemoteProposal(node.deps, object.id as string);
    expect(copy).toMatchObject({
      actorIri: alice.actorUrl,
      objectIri: object.id,
      intentIri: object.id,
      purpose: "offer",
      action: "deliverService",
      unit: "hour",
      quantity: "6",
      remaining: "6",
      category: "repair",
      name: "Bike repair sessions",
      status: "open",
    });
    expect(copy!.description).toContain("Tuesday workshop");
  }, TEST_TIMEOUT);

  it("a ValueFlows:Proposal publishing an Intent (purpose, kilograms, available and minimum) on the shared inbox → stored normalised", async () => {
    const object = bonfireGoodsProposal(alice.actorUrl, "2");
    const result = await postSigned(`${node.origin}/inbox`, bonfireActivity("Create", alice.actorUrl, object, "2"), { signer: alice });
    expect(result.status).toBe(202);
    expect(await getRemoteProposal(node.deps, object.id as string)).toMatchObject({
      purpose: "offer",
      action: "transferCustody",
      unit: "kilogram",
      quantity: "40",
      remaining: "40",
      minimum: "5",
      unitBased: false,
      location: "Orchard gate",
      intentIri: `${object.id as string}/intent`,
    });
  }, TEST_TIMEOUT);

  it("the same activity again changes nothing; a later Update replaces the copy, an older one does not", async () => {
    const object = bonfireGoodsProposal(alice.actorUrl, "2");
    const before = await remoteRows();
    const again = await postSigned(inbox, bonfireActivity("Create", alice.actorUrl, object, "2"), { signer: alice });
    expect(again.status).toBe(202);
    expect(await remoteRows()).toEqual(before);
    expect((await inboxRecord(`${masto.origin}/pub/activities/create-2`))?.outcome).toBe("processed");

    const publishes = { ...(object["ValueFlows:publishes"] as Record<string, unknown>), "ValueFlows:availableQuantity": { "om2:hasUnit": "om2:kilogram", "om2:hasNumericalValue": "12.5" } };
    const newer = { ...object, "ValueFlows:publishes": publishes, updated: "2026-11-22T08:00:00Z" };
    expect((await postSigned(inbox, bonfireActivity("Update", alice.actorUrl, newer, "2a"), { signer: alice })).status).toBe(202);
    expect((await getRemoteProposal(node.deps, object.id as string))?.remaining).toBe("12.5");

    const older = { ...object, "ValueFlows:publishes": { ...publishes, "ValueFlows:availableQuantity": { "om2:hasUnit": "om2:kilogram", "om2:hasNumericalValue": "30" } }, updated: "2026-11-21T09:00:00Z" };
    expect((await postSigned(inbox, bonfireActivity("Update", alice.actorUrl, older, "2b"), { signer: alice })).status).toBe(202);
    expect((await getRemoteProposal(node.deps, object.id as string))?.remaining).toBe("12.5");
  }, TEST_TIMEOUT);

  it("unsigned, badly signed, tampered or signed by someone else → 401 and nothing stored", async () => {
    const object = bonfireServiceIntent(alice.actorUrl, "3");
    const activity = bonfireActivity("Create", alice.actorUrl, object, "3");
    const before = await remoteRows();

    const unsigned = await postSigned(inbox, activity);
    expect(unsigned.status).toBe(401);
    // bob's key under alice's keyId: the signature does not verify.
    const wrongKey = await postSigned(inbox, activity, { signer: { keyId: alice.keyId, privateKey: bob.privateKey } });
    expect(wrongKey.status).toBe(401);
    expect(JSON.parse(wrongKey.text).error).toBe("INVALID_SIGNATURE");
    // The body changed after signing: the Digest no longer matches.
    const tampered = await postSigned(inbox, activity, { signer: alice, digestOf: JSON.stringify({ ...activity, id: `${activity.id as string}-other` }) });
    expect(tampered.status).toBe(401);
    // A date outside the one-hour window.
    const stale = await postSigned(inbox, activity, { signer: alice, date: new Date(Date.now() - 3 * 3_600_000) });
    expect(stale.status).toBe(401);
    // bob signs (validly, with his own key) an activity that says alice is its actor.
    const impostor = await postSigned(inbox, activity, { signer: bob });
    expect(impostor.status).toBe(401);
    expect(JSON.parse(impostor.text).error).toBe("KEY_NOT_ACTORS");

    expect(await getRemoteProposal(node.deps, object.id as string)).toBeNull();
    expect(await remoteRows()).toEqual(before);
    expect(await inboxRecord(activity.id as string)).toBeNull();
    // The genuine copy still goes through afterwards.
    expect((await postSigned(inbox, activity, { signer: alice })).status).toBe(202);
    expect(await getRemoteProposal(node.deps, object.id as string)).not.toBeNull();
  }, TEST_TIMEOUT);
});

describe("what is not stored", () => {
  it("a Bonfire offer from an actor none of our pods follows → 202, not stored", async () => {
    const object = bonfireServiceIntent(bob.actorUrl, "4");
    const activity = bonfireActivity("Create", bob.actorUrl, object, "4");
    expect((await postSigned(inbox, activity, { signer: bob })).status).toBe(202);
    expect(await getRemoteProposal(node.deps, object.id as string)).toBeNull();
    expect((await inboxRecord(activity.id as string))?.outcome).toBe("processed");
  }, TEST_TIMEOUT);

  it("refused input (no unit, a foreign id, someone else's object, a bad action, a negative or non-numeric quantity) → 202, recorded refused with its code, nothing stored", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["5a", bonfireServiceIntent(alice.actorUrl, "5a", { "ValueFlows:resourceQuantity": { "om2:hasNumericalValue": 3 } }), "NO_UNIT"],
      ["5b", bonfireServiceIntent(alice.actorUrl, "5b", { id: "https://elsewhere.example/pub/objects/intent-5b" }), "FOREIGN_OBJECT"],
      ["5c", bonfireServiceIntent(alice.actorUrl, "5c", { attributedTo: bob.actorUrl }), "NOT_AUTHOR"],
      ["5d", bonfireServiceIntent(alice.actorUrl, "5d", { "ValueFlows:action": "https://w3id.org/valueflows#teleport" }), "INVALID_ACTION"],
      ["5e", bonfireServiceIntent(alice.actorUrl, "5e", { "ValueFlows:resourceQuantity": { "om2:hasUnit": "om2:hour", "om2:hasNumericalValue": "-2" } }), "NOT_POSITIVE"],
      ["5f", bonfireServiceIntent(alice.actorUrl, "5f", { "ValueFlows:resourceQuantity": { "om2:hasUnit": "om2:hour", "om2:hasNumericalValue": "a few" } }), "INVALID_DECIMAL"],
    ];
    const before = await remoteRows();
    for (const [n, object, code] of cases) {
      const activity = bonfireActivity("Create", alice.actorUrl, object, n);
      expect((await postSigned(inbox, activity, { signer: alice })).status).toBe(202);
      const record = await inboxRecord(activity.id as string);
      expect({ n, outcome: record?.outcome, reason: record?.reason }).toEqual({ n, outcome: "refused", reason: code });
      // A second copy is skipped, still refused.
      expect((await postSigned(inbox, activity, { signer: alice })).status).toBe(202);
    }
    expect(await remoteRows()).toEqual(before);
  }, TEST_TIMEOUT);

  it("a malformed Bonfire activity (no actor) → 400; an ordinary Note still goes to Fedify (202)", async () => {
    const object = bonfireServiceIntent(alice.actorUrl, "6");
    const { actor: _actor, ...noActor } = bonfireActivity("Create", alice.actorUrl, object, "6");
    const malformed = await postSigned(inbox, noActor, { signer: alice });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text).error).toBe("INCOMPLETE_ACTIVITY");
    expect(await getRemoteProposal(node.deps, object.id as string)).toBeNull();

    const note = { "@context": BONFIRE_CONTEXT, id: `${masto.origin}/pub/activities/create-7`, type: "Create", actor: alice.actorUrl, object: { id: `${masto.origin}/pub/objects/note-7`, type: "Note", attributedTo: alice.actorUrl, content: "<p>hello</p>" } };
    expect((await postSigned(inbox, note, { signer: alice })).status).toBe(202);
  }, TEST_TIMEOUT);
});
