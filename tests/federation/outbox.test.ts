/**
 * The outbox on a real node (real database, real HTTP on loopback, real signatures) and a
 * recording receiver: per-event retries on an injected clock, dead letters and retrying
 * them, ordering per remote actor at a slow receiver and across a receiver that is down
 * for (simulated) days, failing recipients that do not hold others up, and a follower
 * whose inbox answers 410 Gone.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import { receiveFollow, requestFollow, unfollow, listFollowers } from "../../src/services/follows.ts";
import { listOutboxEvents, outboxHealth, retryOutboxEvents } from "../../src/services/outbox.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort, waitFor } from "../helpers/node.ts";
import { startRecorder, type Recorder } from "../helpers/recorder.ts";

const POD = "oak-street";
const HOUR = 3_600_000;

class ManualClock implements Clock {
  #now = Date.now();
  now = () => new Date(this.#now);
  advance(ms: number) {
    this.#now += ms;
  }
}

interface Node {
  node: RunningNode;
  deps: ServiceDeps;
  database: TestDatabase;
  stop(): Promise<void>;
}

async function start(env: Record<string, string>, clock?: Clock): Promise<Node> {
  const database = await createTestDatabase();
  const port = await freePort();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: POD,
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: process.env.HYPHAE_TEST_LOG_LEVEL ?? "silent",
    QUEUE_POLL_SECONDS: "1",
    ADMIN_SOCKET: "off",
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const node = await startNode(config, { database: database.handle, ...(clock && { clock }) });
  return { node, deps: node.ctx.deps, database, stop: async () => (await node.stop(), await database.drop()) };
}

const row = (deps: ServiceDeps, id: string) => deps.db.selectFrom("outbox_events").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
const lastEventId = async (deps: ServiceDeps) =>
  (await deps.db.selectFrom("outbox_events").select("id").orderBy("id", "desc").limit(1).executeTakeFirstOrThrow()).id;

describe("the outbox with the default give-up age (72 h) and an injected clock", () => {
  const clock = new ManualClock();
  let n: Node;
  let rec: Recorder;
  let podId: string;

  beforeAll(async () => {
    rec = await startRecorder();
    n = await start({}, clock);
    podId = (await n.deps.db.selectFrom("pods").select("id").where("slug", "=", POD).executeTakeFirstOrThrow()).id;
  });
  afterAll(async () => {
    await rec?.close(); // first, so a request held open ends and the node stops promptly
    await n?.stop();
  });

  it("retries an event whose publisher throws with backoff, dead-letters it after 72 h without holding up others, and retries it on request", async () => {
    // A remote actor whose stored inbox is not a URL: the publisher throws on every try.
    const broken = `${rec.origin}/users/broken`;
    await n.deps.db.insertInto("remote_actors").values({ iri: broken, handle: null, name: null, url: null, inbox: "not a url", shared_inbox: null }).execute();
    const record = (kind: "send_follow" | "undo_follow") =>
      n.deps.db.transaction().execute((trx) => n.deps.outbox.record(trx, { kind, podId, actorIri: broken, followIri: `http://127.0.0.1:1/pods/${POD}/follows/broken-1` }));
    await record("send_follow");
    const followId = await lastEventId(n.deps);
    await record("undo_follow");
    const undoId = await lastEventId(n.deps);
    await n.node.ctx.outbox.drain();

    let follow = await row(n.deps, followId);
    expect(follow).toMatchObject({ attempts: 1, sent_at: null, dead_at: null, lease_until: null });
    expect(follow.last_error).toMatch(/Invalid URL/);
    expect(new Date(follow.next_attempt_at).getTime() - clock.now().getTime()).toBe(30_000);
    // The Undo to the same actor waits behind it, untried.
    expect(await row(n.deps, undoId)).toMatchObject({ attempts: 0, sent_at: null });

    // Meanwhile an event to another actor goes out at once.
    await requestFollow(n.deps, POD, rec.actorUrl("healthy"));
    await waitFor(() => rec.inbox("healthy").length === 1, 15_000, "the healthy actor's Follow");

    // Not due yet: nothing happens. Due: tried again, next delay doubled.
    await n.node.ctx.outbox.drain();
    expect((await row(n.deps, followId)).attempts).toBe(1);
    clock.advance(30_000);
    await n.node.ctx.outbox.drain();
    follow = await row(n.deps, followId);
    expect(follow.attempts).toBe(2);
    expect(new Date(follow.next_attempt_at).getTime() - clock.now().getTime()).toBe(60_000);

    // Three days later it is given up on; then the Undo behind it is tried (and fails the same way).
    clock.advance(72 * HOUR);
    await n.node.ctx.outbox.drain();
    expect(await row(n.deps, followId)).toMatchObject({ attempts: 3, sent_at: null });
    expect((await row(n.deps, followId)).dead_at).not.toBeNull();
    expect((await row(n.deps, undoId)).dead_at).not.toBeNull();

    const health = await outboxHealth(n.deps);
    expect(health).toMatchObject({ pending: 0, dead: 2, oldestDeadSeconds: 0 });
    const failed = await listOutboxEvents(n.deps, { failed: true });
    expect(failed.map((e) => [e.id, e.kind, e.to, e.state])).toEqual([
      [followId, "send_follow", broken, "dead"],
      [undoId, "undo_follow", broken, "dead"],
    ]);
    const healthz = await (await fetch(new URL("/healthz", n.deps.config.publicUrl))).json();
    expect(healthz.outbox).toMatchObject({ pending: 0, dead: 2 });

    // The actor is repaired; an operator retries the dead letters: they leave, in order.
    await n.deps.db.updateTable("remote_actors").set({ inbox: rec.inboxUrl("broken") }).where("iri", "=", broken).execute();
    await expect(retryOutboxEvents(n.deps, { id: "999999" })).rejects.toMatchObject({ code: "OUTBOX_EVENT_NOT_FOUND" });
    await expect(retryOutboxEvents(n.deps, { id: "x1" })).rejects.toMatchObject({ code: "INVALID_OUTBOX_EVENT_ID" });
    expect(await retryOutboxEvents(n.deps, { all: true })).toEqual({ retried: [followId, undoId] });
    await waitFor(() => rec.inbox("broken").length === 2, 15_000, "the retried Follow and Undo");
    expect(rec.inbox("broken").map((r) => r.type)).toEqual(["Follow", "Undo"]);
    expect(rec.inbox("broken")[1]!.object).toBe(rec.inbox("broken")[0]!.id);
    expect(await listOutboxEvents(n.deps, { failed: true })).toEqual([]);
    expect((await row(n.deps, followId)).sent_at).not.toBeNull();
    await expect(retryOutboxEvents(n.deps, { id: followId })).rejects.toMatchObject({ code: "OUTBOX_EVENT_SENT" });
  });

  it("delivers a Follow and its Undo in order to a receiver that answers slowly", async () => {
    rec.behave("slow", { status: 202, delayMs: 1500 });
    await requestFollow(n.deps, POD, rec.actorUrl("slow"));
    await unfollow(n.deps, POD, rec.actorUrl("slow"));
    await waitFor(() => rec.inbox("slow").filter((r) => r.answeredAt).length === 2, 20_000, "both deliveries");
    const [follow, undo] = rec.inbox("slow");
    expect([follow!.type, undo!.type]).toEqual(["Follow", "Undo"]);
    expect(undo!.object).toBe(follow!.id);
    // The Undo left only after the Follow had been answered.
    expect(undo!.receivedAt).toBeGreaterThanOrEqual(follow!.answeredAt!);
    expect(follow!.signed && undo!.signed).toBe(true);
  });

  it("keeps delivering to others while recipients answer 500, refuse connections or never answer", async () => {
    rec.behave("err500", { status: 500 });
    rec.behave("hangs", { hang: true });
    rec.setInbox("refuses", `http://127.0.0.1:${await freePort()}/inbox`);
    for (const name of ["err500", "hangs", "refuses"]) await requestFollow(n.deps, POD, rec.actorUrl(name));
    await waitFor(() => rec.inbox("err500").length >= 1 && rec.inbox("hangs").length >= 1, 15_000, "the failing deliveries");
    const before = Date.now();
    await requestFollow(n.deps, POD, rec.actorUrl("after"));
    await waitFor(() => rec.inbox("after").length === 1, 15_000, "the Follow to a healthy actor");
    expect(Date.now() - before).toBeLessThan(10_000);
    // Every event was handed over (their deliveries retry in Fedify's queue); none is dead.
    expect(await outboxHealth(n.deps)).toMatchObject({ pending: 0, dead: 0 });
  });

  it("removes a follower whose own inbox answers 410 Gone", async () => {
    rec.behave("gone", { status: 410 });
    const actor = { iri: rec.actorUrl("gone"), handle: null, name: null, url: null, inbox: rec.inboxUrl("gone"), sharedInbox: null };
    expect(await receiveFollow(n.deps, { podSlug: POD, actor, followIri: `${rec.origin}/follows/gone-1` })).toBe("accepted");
    expect((await listFollowers(n.deps, POD)).map((f) => f.actorIri)).toContain(actor.iri);
    // Our Accept meets 410: Fedify gives up on it at once and the follower is removed.
    await waitFor(async () => !(await listFollowers(n.deps, POD)).some((f) => f.actorIri === actor.iri), 15_000, "the follower's removal");
    // One Accept, never retried (Fedify knocks twice, RFC 9421 then draft-cavage, with the same id).
    await new Promise((r) => setTimeout(r, 1500));
    expect(new Set(rec.inbox("gone").map((r) => `${r.type} ${r.id}`)).size).toBe(1);
    expect(rec.inbox("gone")[0]!.type).toBe("Accept");
    expect(rec.inbox("gone").length).toBeLessThanOrEqual(2);
  });
});

describe("a receiver down for three (simulated) days", () => {
  // The give-up age is scaled down (0.004 h = 14.4 s stands for 96 h), and with it the whole
  // backoff schedule; the code path is the production one.
  const SCALE = 14_400 / 96; // ms per simulated hour
  let n: Node;
  let front: Recorder;
  let inboxHost: Recorder;

  beforeAll(async () => {
    front = await startRecorder();
    inboxHost = await startRecorder();
    front.setInbox("far", inboxHost.inboxUrl("far"));
    n = await start({ OUTBOX_GIVE_UP_HOURS: "0.004" });
  });
  afterAll(async () => {
    await front?.close();
    await inboxHost?.close();
    await n?.stop();
  });

  it("receives Follow, Undo and a new Follow in order when it returns", async () => {
    await inboxHost.goDown();
    await requestFollow(n.deps, POD, front.actorUrl("far"));
    await unfollow(n.deps, POD, front.actorUrl("far"));
    await requestFollow(n.deps, POD, front.actorUrl("far"));
    // While the first Follow is being retried, the later events wait in the outbox.
    await new Promise((r) => setTimeout(r, 72 * SCALE));
    const events = await n.deps.db.selectFrom("outbox_events").select(["kind", "sent_at"]).orderBy("id").execute();
    expect(events.map((e) => [e.kind, e.sent_at !== null])).toEqual([
      ["send_follow", true],
      ["undo_follow", false],
      ["send_follow", false],
    ]);
    await inboxHost.comeBack();
    await waitFor(() => inboxHost.inbox("far").length >= 3, 20_000, "all three activities");
    const got = inboxHost.inbox("far");
    expect(got.map((r) => r.type)).toEqual(["Follow", "Undo", "Follow"]);
    expect(got[1]!.object).toBe(got[0]!.id);
    expect(got[2]!.id).not.toBe(got[0]!.id);
    expect(new Set(got.map((r) => r.id)).size).toBe(3);
    expect(await outboxHealth(n.deps)).toMatchObject({ pending: 0, dead: 0 });
  }, 60_000);
});
