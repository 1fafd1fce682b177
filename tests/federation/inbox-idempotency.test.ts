/**
 * The idempotent inbox against a real node and the Mastodon-shaped peer (real HTTP on
 * loopback, real draft-cavage signatures):
 *   - a Follow received again has no second effect: sequentially, and as five
 *     byte-identical signed copies posted at the same moment (one follower row, one
 *     accept_follow event, one Accept at the peer);
 *   - a replayed Undo does not end a newer follow, and a Follow arriving after its own
 *     Undo changes nothing;
 *   - Add, Like and Announce from a follower are answered 202 and logged at debug only,
 *     by type and id, never at warn or above and never with the body.
 *
 * Fedify keeps its own "already processed" mark for a day, written after the listener
 * returns; a replay after that day, or after a process died between our commit and that
 * mark, reaches our handlers. `forgetFedifyMarks()` deletes the marks to reproduce it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { configure, reset, type LogRecord } from "@logtape/logtape";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AS_CONTEXT, mastodonPostHeaders, postRaw, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const SLUG = "rowan-court";
const WAIT = 30_000;

let node: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let bob: FakeUser;
let carol: FakeUser;
let dave: FakeUser;
let pod: string;
let podInbox: string;
const records: LogRecord[] = [];

beforeAll(async () => {
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category: ["fedify"], sinks: ["capture"], lowestLevel: "debug" },
      { category: ["hyphae"], sinks: ["capture"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" },
    ],
  });
  [node, masto] = await Promise.all([startTestNode({ podSlug: SLUG }), startFakeMastodon({ users: ["alice", "bob", "carol", "dave"] })]);
  [alice, bob, carol, dave] = ["alice", "bob", "carol", "dave"].map((n) => masto.user(n)) as [FakeUser, FakeUser, FakeUser, FakeUser];
  pod = node.actorUrl(SLUG);
  podInbox = `${pod}/inbox`;
});

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
  await reset();
});

function follow(user: FakeUser) {
  return { "@context": AS_CONTEXT, id: `${user.actorUrl}#follows/${randomUUID()}`, type: "Follow", actor: user.actorUrl, object: pod };
}

/** Accepts the peer received (answered 202) for this Follow id. */
function acceptsOf(followId: string): number {
  return masto.inbox
    .filter((r) => r.status === 202)
    .map(recordedJson)
    .filter((a) => a?.type === "Accept" && (typeof a.object === "string" ? a.object : a.object?.id) === followId).length;
}

async function followerRows(actor: string) {
  return node.deps.db.selectFrom("followers").select(["follow_iri", "status"]).where("actor_iri", "=", actor).execute();
}

async function acceptEvents(followId: string): Promise<number> {
  const rows = await node.deps.db.selectFrom("outbox_events").select("payload").where("kind", "=", "accept_follow").execute();
  return rows.filter((r) => (r.payload as { followIri?: string }).followIri === followId).length;
}

async function queueDepth(): Promise<number> {
  const row = await node.deps.db.selectFrom("fedify_queue").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function recorded(key: string) {
  return node.deps.db.selectFrom("inbox_activities").selectAll().where("key", "=", key).executeTakeFirst();
}

/** Fedify's own one-day "already processed" marks, which would hide a replay from our handlers. */
async function forgetFedifyMarks(): Promise<void> {
  await node.deps.db.deleteFrom("fedify_kv").where("key", "like", '["_fedify","activityIdempotence",%').execute();
}

/** Waits until the queue is empty and every outbox event is sent, then a little longer for stragglers. */
async function settle(): Promise<void> {
  await waitFor(async () => (await queueDepth()) === 0, WAIT, "the queue to drain");
  await waitFor(
    async () => !(await node.deps.db.selectFrom("outbox_events").select("id").where("sent_at", "is", null).executeTakeFirst()),
    WAIT,
    "the outbox to be sent",
  );
  await new Promise((r) => setTimeout(r, 1_500));
  await waitFor(async () => (await queueDepth()) === 0, WAIT, "the queue to drain");
}

describe("inbox: an activity received again has no second effect", () => {
  it("a replayed Follow (the same id, re-signed) changes nothing and is not answered again", async () => {
    const f = follow(alice);
    expect((await postSigned(podInbox, f, { signer: alice })).status).toBe(202);
    await waitFor(() => acceptsOf(f.id) === 1, WAIT, "the Accept");
    await settle();
    expect(await recorded(f.id)).toMatchObject({ actor_iri: alice.actorUrl, activity_type: "Follow", outcome: "processed" });

    // Replay 1: Fedify's mark still stands. Replay 2: it is gone (a day later, or the
    // process died after our commit): our record is what stops it.
    expect((await postSigned(podInbox, f, { signer: alice })).status).toBe(202);
    await settle();
    await forgetFedifyMarks();
    expect((await postSigned(podInbox, f, { signer: alice })).status).toBe(202);
    await waitFor(async () => (await queueDepth()) === 0, WAIT, "the replay to be handled");
    await settle();

    expect(acceptsOf(f.id)).toBe(1);
    expect(await acceptEvents(f.id)).toBe(1);
    expect(await followerRows(alice.actorUrl)).toEqual([{ follow_iri: f.id, status: "accepted" }]);
  });

  it("five byte-identical signed copies posted at once: one follower row, one Accept event, one Accept received", async () => {
    const f = follow(bob);
    const body = JSON.stringify(f);
    const headers = mastodonPostHeaders(podInbox, body, { signer: bob });
    const results = await Promise.all(Array.from({ length: 5 }, () => postRaw(podInbox, headers, body)));
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    await waitFor(() => acceptsOf(f.id) >= 1, WAIT, "the Accept");
    await settle();
    expect(acceptsOf(f.id)).toBe(1);
    expect(await acceptEvents(f.id)).toBe(1);
    expect(await followerRows(bob.actorUrl)).toEqual([{ follow_iri: f.id, status: "accepted" }]);
    expect(await recorded(f.id)).toMatchObject({ outcome: "processed" });
    // Every copy but one was stopped: by our record (in the service's transaction or before
    // the handler) or, for a copy that started after the winner finished, by Fedify's mark.
    const about = records.filter((r) => JSON.stringify(r.properties).includes(f.id)).map((r) => r.message.join(""));
    const stoppedByUs = about.filter((m) => m === "Follow already received" || m === "Inbox activity already received").length;
    const stoppedByFedify = about.filter((m) => m.endsWith("has already been processed.")).length;
    expect(stoppedByUs + stoppedByFedify).toBe(4);
  });

  it("a replayed Undo does not end the follow that came after it", async () => {
    const first = follow(carol);
    expect((await postSigned(podInbox, first, { signer: carol })).status).toBe(202);
    await waitFor(() => acceptsOf(first.id) === 1, WAIT, "the Accept of the first Follow");
    const undo = { "@context": AS_CONTEXT, id: `${carol.actorUrl}#undo/${randomUUID()}`, type: "Undo", actor: carol.actorUrl, object: { ...first, "@context": undefined } };
    expect((await postSigned(podInbox, undo, { signer: carol })).status).toBe(202);
    await waitFor(async () => (await followerRows(carol.actorUrl)).length === 0, WAIT, "carol to be removed");

    // Carol follows again; then the old Undo arrives once more (a replay or a late retry).
    const second = follow(carol);
    expect((await postSigned(podInbox, second, { signer: carol })).status).toBe(202);
    await waitFor(() => acceptsOf(second.id) === 1, WAIT, "the Accept of the second Follow");
    await settle();
    await forgetFedifyMarks();
    expect((await postSigned(podInbox, undo, { signer: carol })).status).toBe(202);
    // The same Undo in a new activity (new id) names the old Follow: it ends nothing either.
    const undoAgain = { ...undo, id: `${carol.actorUrl}#undo/${randomUUID()}` };
    expect((await postSigned(podInbox, undoAgain, { signer: carol })).status).toBe(202);
    await waitFor(async () => (await recorded(undoAgain.id))?.outcome === "processed", WAIT, "the second Undo to be handled");
    await settle();
    expect(await followerRows(carol.actorUrl)).toEqual([{ follow_iri: second.id, status: "accepted" }]);
    expect(await recorded(undo.id)).toMatchObject({ activity_type: "Undo", outcome: "processed" });
  });

  it("a Follow that arrives after its own Undo (out of order) changes nothing and is not answered", async () => {
    const f = follow(dave);
    const undo = { "@context": AS_CONTEXT, id: `${dave.actorUrl}#undo/${randomUUID()}`, type: "Undo", actor: dave.actorUrl, object: f.id };
    expect((await postSigned(podInbox, undo, { signer: dave })).status).toBe(202);
    await waitFor(async () => (await recorded(f.id))?.outcome === "undone", WAIT, "the Follow to be recorded as undone");
    expect((await postSigned(podInbox, f, { signer: dave })).status).toBe(202);
    await settle();
    expect(await followerRows(dave.actorUrl)).toEqual([]);
    expect(acceptsOf(f.id)).toBe(0);
    expect(await acceptEvents(f.id)).toBe(0);
  });
});

describe("inbox: activities we do not act on are answered quietly", () => {
  it("Add (Mastodon pinning), Like and Announce from a follower: 202, nothing at warn or above, no body in any log", async () => {
    await settle();
    const from = records.length;
    const marker = `secret-${randomUUID()}`;
    const activities = [
      { id: `${alice.actorUrl}#add/${randomUUID()}`, type: "Add", object: pod, target: `${alice.actorUrl}/following`, summary: marker },
      { id: `${alice.actorUrl}#like/${randomUUID()}`, type: "Like", object: `${pod}/charter`, summary: marker },
      { id: `${alice.actorUrl}#announce/${randomUUID()}`, type: "Announce", object: `${pod}/charter`, to: ["https://www.w3.org/ns/activitystreams#Public"], summary: marker },
    ].map((a) => ({ "@context": AS_CONTEXT, actor: alice.actorUrl, ...a }));
    for (const activity of activities) expect((await postSigned(podInbox, activity, { signer: alice })).status).toBe(202);
    await waitFor(
      () => activities.every((a) => records.slice(from).some((r) => r.message.join("").includes("not acted on") && r.properties.id === a.id)),
      WAIT,
      "each activity to be handled",
    );
    await settle();
    const mine = records.slice(from);
    const loud = mine.filter((r) => r.level === "warning" || r.level === "error" || r.level === "fatal");
    expect(loud.map((r) => `${r.level} ${r.category.join(".")} ${r.message.join("")}`)).toEqual([]);
    const notActedOn = mine.filter((r) => r.category[0] === "hyphae" && r.message.join("").includes("not acted on"));
    // Fedify adds its request/message ids as context; ours are the type and the id only.
    expect(notActedOn.map((r) => ({ level: r.level, type: r.properties.type, id: r.properties.id }))).toEqual(
      activities.map((a) => ({ level: "debug", type: a.type, id: a.id })),
    );
    for (const r of notActedOn) expect(Object.keys(r.properties).filter((k) => !["messageId", "requestId", "spanId", "traceId"].includes(k)).sort()).toEqual(["id", "type"]);
    // Our own log lines never carry the body (Fedify's debug/info lines are its own).
    for (const r of mine.filter((r) => r.category[0] === "hyphae")) expect(JSON.stringify(r.properties)).not.toContain(marker);
    // Nothing changed: alice still follows once, nothing was recorded for these activities.
    expect(await followerRows(alice.actorUrl)).toHaveLength(1);
    for (const a of activities) expect(await recorded(a.id)).toBeUndefined();
  });
});
