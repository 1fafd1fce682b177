import { testMessageQueue } from "@fedify/testing";
import { sql, type KyselyPlugin } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { otherHandle as sharedOtherHandle, recordingLog } from "../helpers/queue.ts";
import type { DatabaseHandle } from "../../src/db/connect.ts";
import { duration } from "../../src/federation/storage/duration.ts";
import { KyselyMessageQueue, type KyselyMessageQueueOptions } from "../../src/federation/storage/message-queue.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let testDb: TestDatabase;
/** Extra handles opened by tests (PostgreSQL: separate pools, like separate processes). */
const extraHandles: DatabaseHandle[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  for (const h of extraHandles.splice(0)) await h.close().catch(() => {});
  await testDb?.drop();
});
beforeEach(async () => {
  await testDb.handle.db.deleteFrom("fedify_queue").execute();
});

const otherHandle = () => sharedOtherHandle(testDb, extraHandles);


function queue(handle: DatabaseHandle, options: Partial<KyselyMessageQueueOptions> = {}): KyselyMessageQueue {
  return new KyselyMessageQueue(handle, { leaseSeconds: 30, pollSeconds: 1, concurrency: 2, log: recordingLog(), ...options });
}

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A promise plus the function that resolves it. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function queueRows() {
  return testDb.handle.db.selectFrom("fedify_queue").selectAll().orderBy("id").execute();
}

describe("KyselyMessageQueue conformance", () => {
  it("passes Fedify's testMessageQueue suite (two instances, ordering keys)", { timeout: 180_000 }, async () => {
    const handles = [testDb.handle, await otherHandle()];
    let made = 0;
    await testMessageQueue(
      () => queue(handles[made++ % 2]!, { concurrency: 2, pollSeconds: 2 }),
      async ({ controller }) => {
        controller.abort();
      },
      { testOrderingKey: true },
    );
    expect(made).toBe(2);
    expect(await queueRows()).toEqual([]);
  });
});

describe("KyselyMessageQueue", () => {
  it("enqueues JSON messages as jsonb, with delay and ordering key", async () => {
    const q = queue(testDb.handle);
    await q.enqueue({ type: "outbox", list: [1, 2] }, { orderingKey: "k" });
    await q.enqueueMany(["a", "b"], { delay: duration({ hours: 1 }) });
    const rows = await sql<{ message: unknown; ordering_key: string | null; type: string; delayed: boolean }>`
      select message, ordering_key, jsonb_typeof(message) as type, available_at > now() + interval '50 minutes' as delayed
        from fedify_queue order by id`.execute(testDb.handle.db);
    expect(rows.rows).toEqual([
      { message: { type: "outbox", list: [1, 2] }, ordering_key: "k", type: "object", delayed: false },
      { message: "a", ordering_key: null, type: "string", delayed: true },
      { message: "b", ordering_key: null, type: "string", delayed: true },
    ]);
  });

  it("reports depth without in-flight messages, and leased rows separately", async () => {
    const q = queue(testDb.handle);
    expect(await q.getDepth()).toEqual({ queued: 0, ready: 0, delayed: 0, leased: 0, dead: 0, oldestPendingSeconds: 0 });
    await q.enqueueMany(["r1", "r2"]);
    await q.enqueue("d1", { delay: duration({ hours: 1 }) });
    // Leased by a live worker: not counted. Lease expired: waiting again, counted as ready.
    await sql`insert into fedify_queue (message, lease_until, leased_by, attempts)
              values ('"live"', now() + interval '1 hour', 'w', 1),
                     ('"expired"', now() - interval '1 second', 'w', 1)`.execute(testDb.handle.db);
    expect(await q.getDepth()).toMatchObject({ queued: 4, ready: 3, delayed: 1, leased: 1, dead: 0 });
  });

  it("delivers a message whose worker died once its lease expires", { timeout: 60_000 }, async () => {
    // A row as a dead worker leaves it: leased, never finished.
    await sql`insert into fedify_queue (message, lease_until, leased_by, attempts)
              values ('"orphan"', now() + interval '2 seconds', 'dead-worker', 1)`.execute(testDb.handle.db);
    // Not exclusive: this test is about expiry, not about the embedded database's restart reclaim.
    const q = queue(await otherHandle(), { pollSeconds: 0.5, exclusiveDatabase: false });
    expect(await q.getDepth()).toMatchObject({ queued: 0, ready: 0, delayed: 0, leased: 1 });
    const handled: unknown[] = [];
    const controller = new AbortController();
    const listening = q.listen((m) => void handled.push(m), { signal: controller.signal });
    await waitFor(() => handled.length > 0, 20_000, "redelivery");
    await waitFor(async () => (await queueRows()).length === 0, 10_000, "row deletion");
    controller.abort();
    await listening;
    expect(handled).toEqual(["orphan"]);
  });

  it("redelivers a message claimed by a listener that stopped without releasing it", { timeout: 60_000 }, async () => {
    // Worker A claims and hangs; its loop is aborted with no grace, and its lease
    // release is prevented (as if the process had died), so only expiry frees it.
    const a = queue(testDb.handle, { leaseSeconds: 2, shutdownGraceSeconds: 0 });
    const hang = latch();
    let startedA = 0;
    const stopA = new AbortController();
    const listeningA = a.listen(
      async () => {
        startedA++;
        await hang.promise;
      },
      { signal: stopA.signal },
    );
    await a.enqueue("fragile");
    await waitFor(() => startedA === 1, 20_000, "worker A to start");
    // Simulate the crash: A's heartbeats and shutdown release can no longer reach its row.
    await sql`update fedify_queue set leased_by = 'crashed', attempts = attempts + 1`.execute(testDb.handle.db);
    stopA.abort();
    await listeningA;
    const [row] = await queueRows();
    expect(row?.lease_until).not.toBeNull();

    const b = queue(await otherHandle(), { pollSeconds: 0.5, leaseSeconds: 2, exclusiveDatabase: false });
    const handledB: unknown[] = [];
    const stopB = new AbortController();
    const listeningB = b.listen((m) => void handledB.push(m), { signal: stopB.signal });
    await waitFor(() => handledB.length === 1, 20_000, "redelivery to B");
    await waitFor(async () => (await queueRows()).length === 0, 10_000, "row deletion");
    stopB.abort();
    await listeningB;
    hang.open();
    expect(handledB).toEqual(["fragile"]);
    expect(startedA).toBe(1);
  });

  it("keeps the message with a slow but alive worker (lease heartbeat)", { timeout: 60_000 }, async () => {
    const calls: string[] = [];
    const stop = new AbortController();
    // Heartbeat every second; a lease lapses only if renewals stall for two seconds.
    const slow = queue(testDb.handle, { leaseSeconds: 3, pollSeconds: 0.5 });
    const other = queue(await otherHandle(), { leaseSeconds: 3, pollSeconds: 0.5 });
    const listeningSlow = slow.listen(
      async (m: string) => {
        calls.push(`slow:${m}`);
        await sleep(7_500); // 2.5 leases
      },
      { signal: stop.signal },
    );
    await slow.enqueue("long job");
    await waitFor(() => calls.length === 1, 20_000, "slow worker to start");
    const listeningOther = other.listen((m: string) => void calls.push(`other:${m}`), { signal: stop.signal });
    await waitFor(async () => (await queueRows()).length === 0, 30_000, "row deletion");
    stop.abort();
    await Promise.all([listeningSlow, listeningOther]);
    expect(calls).toEqual(["slow:long job"]);
  });

  it("does not lose a message whose handler throws", { timeout: 60_000 }, async () => {
    const log = recordingLog();
    const q = queue(testDb.handle, { log });
    const calls: string[] = [];
    const stop = new AbortController();
    const listening = q.listen(
      (m: string) => {
        calls.push(m);
        if (calls.length === 1) throw new Error("boom");
      },
      { signal: stop.signal },
    );
    await q.enqueue("retry me");
    await waitFor(() => calls.length === 2, 20_000, "second attempt");
    await waitFor(async () => (await queueRows()).length === 0, 10_000, "row deletion");
    stop.abort();
    await listening;
    expect(calls).toEqual(["retry me", "retry me"]);
    const failure = log.entries.find((e) => e.level === "error");
    expect((failure?.properties?.error as Error | undefined)?.message).toBe("boom");
  });

  it("frees the slot of a hung handler at its timeout and retries its message after the hard cap", { timeout: 60_000 }, async () => {
    const log = recordingLog();
    const q = queue(testDb.handle, { log, handlerTimeoutSeconds: 0.5, handlerHardCapSeconds: 1, concurrency: 1 });
    const hang = latch();
    const calls: string[] = [];
    const stop = new AbortController();
    const listening = q.listen(
      async (m: string) => {
        calls.push(m);
        if (m === "hangs once" && calls.filter((c) => c === m).length === 1) await hang.promise;
      },
      { signal: stop.signal },
    );
    await q.enqueue("hangs once");
    await q.enqueue("behind it");
    // With concurrency 1 the hung handler would block everything without the timeout.
    await waitFor(() => calls.filter((c) => c === "hangs once").length === 2 && calls.includes("behind it"), 20_000, "both");
    await waitFor(async () => (await queueRows()).length === 0, 10_000, "row deletion");
    stop.abort();
    await listening;
    hang.open();
    expect(log.entries.some((e) => e.level === "error" && (e.properties?.error as Error | undefined)?.name === "HandlerTimeoutError")).toBe(true);
  });

  it("on shutdown waits for running handlers to finish", { timeout: 60_000 }, async () => {
    const q = queue(testDb.handle, { shutdownGraceSeconds: 30 });
    let started = false;
    let finished = false;
    const stop = new AbortController();
    const listening = q.listen(
      async () => {
        started = true;
        await sleep(500);
        finished = true;
      },
      { signal: stop.signal },
    );
    await q.enqueue("short");
    await waitFor(() => started, 20_000, "handler start");
    stop.abort();
    await listening;
    expect(finished).toBe(true);
    expect(await queueRows()).toEqual([]);
  });

  it("on shutdown releases a still-running message to another listener at once", { timeout: 60_000 }, async () => {
    // Long lease: if B gets the message, it was released, not expired.
    const a = queue(testDb.handle, { leaseSeconds: 600, shutdownGraceSeconds: 0.5 });
    const hang = latch();
    let startedA = false;
    const stopA = new AbortController();
    const listeningA = a.listen(
      async () => {
        startedA = true;
        await hang.promise;
      },
      { signal: stopA.signal },
    );
    await a.enqueue("handover");
    await waitFor(() => startedA, 20_000, "worker A to start");
    stopA.abort();
    await listeningA;
    const [row] = await queueRows();
    expect(row?.lease_until).toBeNull();
    expect(row?.attempts).toBe(1);

    const b = queue(await otherHandle(), { leaseSeconds: 600 });
    const handledB: unknown[] = [];
    const stopB = new AbortController();
    const listeningB = b.listen((m) => void handledB.push(m), { signal: stopB.signal });
    await waitFor(() => handledB.length === 1, 20_000, "worker B to take over");
    await waitFor(async () => (await queueRows()).length === 0, 10_000, "row deletion");
    stopB.abort();
    await listeningB;
    // A's handler finishing late must not disturb anything.
    hang.open();
    await sleep(100);
    expect(handledB).toEqual(["handover"]);
  });

  it("keeps per-key order and never overlaps a key while running others in parallel", { timeout: 60_000 }, async () => {
    const q = queue(testDb.handle, { concurrency: 4 });
    const running = new Map<string, number>();
    const seen: Record<string, number[]> = { a: [], b: [], c: [] };
    let overlaps = 0;
    let maxParallel = 0;
    let active = 0;
    const stop = new AbortController();
    const listening = q.listen(
      async (m: { key: string; n: number }) => {
        if ((running.get(m.key) ?? 0) > 0) overlaps++;
        running.set(m.key, (running.get(m.key) ?? 0) + 1);
        maxParallel = Math.max(maxParallel, ++active);
        seen[m.key]!.push(m.n);
        await sleep(30);
        active--;
        running.set(m.key, running.get(m.key)! - 1);
      },
      { signal: stop.signal },
    );
    for (let n = 0; n < 10; n++) {
      for (const key of ["a", "b", "c"]) await q.enqueue({ key, n }, { orderingKey: key });
    }
    await waitFor(() => Object.values(seen).every((list) => list.length === 10), 30_000, "all keyed messages");
    stop.abort();
    await listening;
    const inOrder = Array.from({ length: 10 }, (_, n) => n);
    expect(seen).toEqual({ a: inOrder, b: inOrder, c: inOrder });
    expect(overlaps).toBe(0);
    // Three keys can run side by side (at most one handler per key).
    expect(maxParallel).toBeGreaterThan(1);
    expect(maxParallel).toBeLessThanOrEqual(3);
  });

  it("two queues with concurrency > 1 handle each of 200 messages exactly once, never overlapping", { timeout: 120_000 }, async () => {
    const logs = [recordingLog(), recordingLog()];
    const q1 = queue(testDb.handle, { concurrency: 4, workerId: "one", log: logs[0] });
    const q2 = queue(await otherHandle(), { concurrency: 4, workerId: "two", log: logs[1] });
    const starts = new Map<number, number>();
    const ends = new Map<number, number>();
    const active = new Set<number>();
    let overlaps = 0;
    const handler = async (m: { id: number }) => {
      if (active.has(m.id)) overlaps++;
      active.add(m.id);
      starts.set(m.id, (starts.get(m.id) ?? 0) + 1);
      await sleep(m.id % 7);
      active.delete(m.id);
      ends.set(m.id, (ends.get(m.id) ?? 0) + 1);
    };
    const stop = new AbortController();
    const listening = [q1.listen(handler, { signal: stop.signal }), q2.listen(handler, { signal: stop.signal })];
    const ids = Array.from({ length: 200 }, (_, i) => i);
    // Half in one batch, half one by one from the other queue, while both listen.
    await q1.enqueueMany(ids.slice(0, 100).map((id) => ({ id })));
    for (const id of ids.slice(100)) await q2.enqueue({ id });
    await waitFor(() => ends.size === 200, 60_000, "all 200 messages");
    await waitFor(async () => (await queueRows()).length === 0, 10_000, "row deletion");
    // Give any duplicate delivery a chance to show up before stopping.
    await sleep(1_500);
    stop.abort();
    await Promise.all(listening);
    expect(overlaps).toBe(0);
    expect([...starts.keys()].sort((a, b) => a - b)).toEqual(ids);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    expect([...ends.values()].every((n) => n === 1)).toBe(true);
    // Nothing went wrong along the way (no failed polls, no lost leases).
    expect(logs.flatMap((l) => l.entries)).toEqual([]);
  });

  it("logs poll errors and keeps going once the database answers again", { timeout: 60_000 }, async () => {
    let failuresLeft = 3;
    // Fails the next few queries, like a database that is briefly unreachable.
    const flaky: KyselyPlugin = {
      transformQuery(args) {
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error("database unreachable");
        }
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    await testDb.handle.db.insertInto("fedify_queue").values({ message: JSON.stringify("survivor") }).execute();
    const log = recordingLog();
    const q = new KyselyMessageQueue(
      { ...testDb.handle, db: testDb.handle.db.withPlugin(flaky) },
      { leaseSeconds: 30, pollSeconds: 0.2, concurrency: 1, log },
    );
    const handled: unknown[] = [];
    const stop = new AbortController();
    const listening = q.listen((m) => void handled.push(m), { signal: stop.signal });
    await waitFor(() => handled.length === 1, 20_000, "delivery after recovery");
    stop.abort();
    await listening;
    expect(handled).toEqual(["survivor"]);
    expect(log.entries.filter((e) => e.message.startsWith("Queue poll failed")).length).toBeGreaterThanOrEqual(1);
  });

  it("resolves listen() at once for an already aborted signal", async () => {
    const q = queue(testDb.handle);
    await q.enqueue("untouched");
    await q.listen(() => {
      throw new Error("must not run");
    }, { signal: AbortSignal.abort() });
    expect((await queueRows()).map((r) => r.message)).toEqual(["untouched"]);
  });
});
