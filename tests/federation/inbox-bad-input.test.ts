/**
 * Bad inbox POSTs against a real node: each gets the right status and leaves nothing behind
 * (no follower, no remote actor, nothing queued, no outbound event, and — checked at the
 * end, after a known-good control — no Accept ever reaches the sender). Every bad request
 * is the good Mastodon-signed request (tests/helpers/mastodon.ts) with one thing broken,
 * and positive controls at the start and end show the good request really is accepted.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort, startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import {
  AS_CONTEXT,
  postSigned,
  recordedJson,
  startFakeMastodon,
  type FakeMastodon,
  type FakeUser,
} from "../helpers/mastodon.ts";

const SLUG = "linden-yard";
const MiB = 1_048_576;
const HOUR = 3_600_000;

let node: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let bob: FakeUser;
let carol: FakeUser;
let pod: string;
let podInbox: string;
let sharedInbox: string;
/** Ids of Follows sent by the bad requests; none of them may ever be answered. */
const badFollowIds: string[] = [];

beforeAll(async () => {
  [node, masto] = await Promise.all([startTestNode({ podSlug: SLUG }), startFakeMastodon({ users: ["alice", "bob", "carol"] })]);
  alice = masto.user("alice");
  bob = masto.user("bob");
  carol = masto.user("carol");
  pod = node.actorUrl(SLUG);
  podInbox = `${pod}/inbox`;
  sharedInbox = `${node.origin}/inbox`;
});

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
});

function follow(actor: string = alice.actorUrl, object: string = pod) {
  return { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor, object };
}

/** A Follow for a bad request, remembered so the final check can prove it was never answered. */
function badFollow(actor?: string, object?: string) {
  const f = follow(actor, object);
  badFollowIds.push(f.id);
  return f;
}

async function count(table: "followers" | "remote_actors" | "fedify_queue" | "outbox_events"): Promise<number> {
  const row = await node.deps.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Ids of activities whose inbox listener ran to completion: Fedify's queue worker writes an
 * idempotence key `["_fedify","activityIdempotence",origin,id]` only after the listener succeeded.
 */
async function processedActivities(): Promise<string[]> {
  const rows = await node.deps.db
    .selectFrom("fedify_kv")
    .select("key")
    .where("key", "like", '["_fedify","activityIdempotence",%')
    .execute();
  return rows.map((r) => (JSON.parse(r.key) as string[]).at(-1)!).sort();
}

/** What a bad request must not change. */
async function snapshot() {
  const db = node.deps.db;
  return {
    processed: await processedActivities(),
    followers: (await db.selectFrom("followers").select("actor_iri").orderBy("actor_iri").execute()).map((r) => r.actor_iri),
    remoteActors: (await db.selectFrom("remote_actors").select("iri").orderBy("iri").execute()).map((r) => r.iri),
    queued: await count("fedify_queue"),
    outboxEvents: await count("outbox_events"),
  };
}

function acceptsAtFake(): string[] {
  return masto.inbox
    .filter((r) => r.status === 202)
    .map(recordedJson)
    .filter((a) => a?.type === "Accept")
    .map((a) => (typeof a.object === "string" ? a.object : a.object?.id));
}

async function waitForAccept(followId: string): Promise<void> {
  await waitFor(() => acceptsAtFake().includes(followId), 20_000, `an Accept of ${followId}`);
}

let before: Awaited<ReturnType<typeof snapshot>>;

/**
 * The activity was accepted for processing: its listener completed (Fedify marked it
 * processed), no retry is left in the queue, and nothing else changed.
 */
async function expectProcessedAndDropped(activityId: string): Promise<void> {
  await waitFor(
    async () => (await processedActivities()).includes(activityId) && (await count("fedify_queue")) === 0,
    20_000,
    `${activityId} to be processed`,
  );
  const after = await snapshot();
  expect(after.processed).toEqual([...before.processed, activityId].sort());
  expect({ ...after, processed: before.processed }).toEqual(before);
}

describe("inbox: bad input is refused and leaves nothing behind", () => {
  beforeEach(async () => {
    // Start each case from a quiet queue so "nothing was enqueued" means something.
    await waitFor(async () => (await count("fedify_queue")) === 0, 20_000, "the queue to drain");
    before = await snapshot();
  });

  it("control: the good request (Mastodon-signed Follow from carol) is accepted and answered", async () => {
    const f = follow(carol.actorUrl);
    const res = await postSigned(podInbox, f, { signer: carol });
    expect(res.status).toBe(202);
    await waitForAccept(f.id);
    const after = await snapshot();
    expect(after.followers).toEqual([carol.actorUrl]);
    expect(after.remoteActors).toEqual([carol.actorUrl]);
    expect(after.outboxEvents).toBe(before.outboxEvents + 1);
    await waitFor(async () => (await processedActivities()).includes(f.id), 20_000, "the control Follow to be marked processed");
  });

  it("unsigned POST → 401", async () => {
    const res = await postSigned(podInbox, badFollow(), { signer: null });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("correctly signed, but Date two hours in the past → 401", async () => {
    const res = await postSigned(podInbox, badFollow(), { signer: alice, date: new Date(Date.now() - 2 * HOUR) });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("correctly signed, but Date two hours in the future → 401", async () => {
    const res = await postSigned(podInbox, badFollow(), { signer: alice, date: new Date(Date.now() + 2 * HOUR) });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("Digest that does not match the body (signature valid over that digest) → 401", async () => {
    const sent = badFollow();
    const other = { ...sent, object: `${node.origin}/pods/elsewhere` };
    const res = await postSigned(podInbox, sent, { signer: alice, digestOf: JSON.stringify(other) });
    // Fedify treats a digest mismatch as an invalid signature: 401, not 400.
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("signature made for another path (replayed to this inbox) → 401", async () => {
    const res = await postSigned(podInbox, badFollow(), { signer: alice, signedPath: "/inbox" });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("body over 1 MiB (signed, with Content-Length) → 413 with a JSON error", async () => {
    const f = badFollow();
    const body = JSON.stringify({ ...f, summary: "x".repeat(MiB + 1) });
    expect(Buffer.byteLength(body)).toBeGreaterThan(MiB);
    const res = await postSigned(podInbox, body, { signer: alice });
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toMatchObject({ error: "PAYLOAD_TOO_LARGE", limit: MiB });
    expect(await snapshot()).toEqual(before);
  });

  it("malformed JSON (correctly signed) → 400", async () => {
    const f = badFollow();
    const body = JSON.stringify(f).slice(0, -1); // drop the closing brace
    const res = await postSigned(podInbox, body, { signer: alice });
    expect(res.status).toBe(400);
    expect(await snapshot()).toEqual(before);
  });

  it("actor is bob but the request is signed with alice's key → 401", async () => {
    const res = await postSigned(podInbox, badFollow(bob.actorUrl), { signer: alice });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("keyId whose actor document does not exist (404 at the sender) → 401", async () => {
    const ghost = `${masto.origin}/users/ghost`;
    const res = await postSigned(podInbox, badFollow(ghost), { signer: { keyId: `${ghost}#main-key`, privateKey: alice.privateKey } });
    expect(res.status).toBe(401);
    expect(masto.requests.some((r) => r.method === "GET" && r.path === "/users/ghost" && r.status === 404)).toBe(true);
    expect(await snapshot()).toEqual(before);
  });

  it("keyId on a host where nothing listens → 401", async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}/users/alice`;
    const res = await postSigned(podInbox, badFollow(nowhere), { signer: { keyId: `${nowhere}#main-key`, privateKey: alice.privateKey } });
    expect(res.status).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it("Follow posted to the personal inbox of a pod that does not exist → 404, nothing stored", async () => {
    const ghostPod = `${node.origin}/pods/no-such-pod`;
    const res = await postSigned(`${ghostPod}/inbox`, badFollow(alice.actorUrl, ghostPod), { signer: alice });
    expect(res.status).toBe(404);
    expect(await snapshot()).toEqual(before);
  });

  it("valid Follow of a pod that does not exist, via the shared inbox → 202, then dropped without retries", async () => {
    const ghostPod = `${node.origin}/pods/no-such-pod`;
    const f = badFollow(alice.actorUrl, ghostPod);
    const res = await postSigned(sharedInbox, f, { signer: alice });
    expect(res.status).toBe(202);
    await expectProcessedAndDropped(f.id);
  });

  it("valid Follow of a pod that does not exist, via an existing pod's inbox → 202, nothing stored", async () => {
    const ghostPod = `${node.origin}/pods/no-such-pod`;
    const f = badFollow(alice.actorUrl, ghostPod);
    const res = await postSigned(podInbox, f, { signer: alice });
    expect(res.status).toBe(202);
    await expectProcessedAndDropped(f.id);
  });

  it("control: afterwards alice's good Follow is accepted, and no bad Follow was ever answered", async () => {
    expect(badFollowIds.length).toBeGreaterThanOrEqual(12);
    const f = follow(alice.actorUrl);
    const res = await postSigned(podInbox, f, { signer: alice });
    expect(res.status).toBe(202);
    await waitForAccept(f.id);
    // Grace period: anything the bad requests had enqueued would have been delivered by now.
    await new Promise((r) => setTimeout(r, 2_000));
    await waitFor(async () => (await count("fedify_queue")) === 0, 20_000, "the queue to drain");
    const answered = acceptsAtFake();
    expect(answered).toContain(f.id);
    // Only the two good Follows and the two Follows of the missing pod reached a listener.
    const processed = await processedActivities();
    expect(processed).toContain(f.id);
    expect(processed.filter((id) => badFollowIds.includes(id))).toHaveLength(2);
    for (const id of badFollowIds) expect(answered).not.toContain(id);
    const after = await snapshot();
    expect(after.followers).toEqual([alice.actorUrl, carol.actorUrl].sort());
    expect(after.remoteActors).toEqual([alice.actorUrl, carol.actorUrl].sort());
    expect(after.outboxEvents).toBe(before.outboxEvents + 1);
    // Every delivery from the pod went to the personal inboxes of the two good followers.
    expect(new Set(masto.inbox.filter((r) => r.status === 202).map((r) => r.path))).toEqual(
      new Set(["/users/carol/inbox", "/users/alice/inbox"]),
    );
  });
});
