/**
 * The queue's stronger guarantees, on the database the run selects (PGlite or PostgreSQL):
 * a handler past its timeout is fenced (its database writes are refused) and its message
 * is not run elsewhere until it settles (or its hard cap passes); a message over the
 * maximum attempts becomes a dead letter, and retrying it runs it again; a crash loop ends
 * in a dead letter too; the counts operators see. The embedded-restart reclaim uses a
 * PGlite data directory in both modes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { otherHandle as sharedOtherHandle, recordingLog } from "../helpers/queue.ts";
import { loadConfig } from "../../src/config.ts";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { queueStats } from "../../src/db/repos/queue.ts";
import { QueueRunAbortedError, runFenced } from "../../src/db/run-fence.ts";
import { currentQueueSignal, KyselyMessageQueue, type KyselyMessageQueueOptions } from "../../src/federation/storage/message-queue.ts";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let testDb: TestDatabase;
const extraHandles: DatabaseHandle[] = [];
const tempDirs: string[] = [];
/** Stops every listener a test started, even when the test fails half-way. */
const stops: AbortController[] = [];
const listening: Promise<void>[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  await sql`create table queue_probe (note text not null)`.execute(testDb.handle.db);
});
afterAll(async () => {
  for (const h of extraHandles.splice(0)) await h.close().catch(() => {});
  await testDb?.drop();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  for (const s of stops.splice(0)) s.abort();
  await Promise.all(listening.splice(0));
  await testDb.handle.db.deleteFrom("fedify_queue").execute();
  await testDb.handle.db.deleteFrom("fedify_queue_dead").execute();
  await sql`delete from queue_probe`.execute(testDb.handle.db);
});

const otherHandle = () => sharedOtherHandle(testDb, extraHandles);


function queue(handle: DatabaseHandle, options: Partial<KyselyMessageQueueOptions> = {}): KyselyMessageQueue {
  return new KyselyMessageQueue(handle, { leaseSeconds: 30, pollSeconds: 0.2, concurrency: 2, log: recordingLog(), exclusiveDatabase: false, ...options });
}

function listen(q: KyselyMessageQueue, handler: (message: any) => Promise<void> | void): AbortController {
  const stop = new AbortController();
  stops.push(stop);
  listening.push(q.listen(handler, { signal: stop.signal }));
  return stop;
}

async function waitFor(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(50);
  }
}
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const queueRows = () => testDb.handle.db.selectFrom("fedify_queue").selectAll().orderBy("id").execute();
const deadRows = () => testDb.handle.db.selectFrom("fedify_queue_dead").selectAll().orderBy("id").execute();
const probeNotes = async () => (await sql<{ note: string }>`select note from queue_probe order by note`.execute(testDb.handle.db)).rows.map((r) => r.note);
/** A write the handler makes through the shared database, as a service would. */
const writeProbe = (db: DatabaseHandle["db"], note: string) => sql`insert into queue_probe (note) values (${note})`.execute(db);

describe("the run fence", () => {
  it("refuses statements and commits of a run once its signal aborts, and nothing else", async () => {
    const db = testDb.handle.db;
    const controller = new AbortController();
    await runFenced(controller.signal, () => writeProbe(db, "before the abort"));
    // A transaction open when the run is given up on cannot commit.
    const late = runFenced(controller.signal, () =>
      db.transaction().execute(async (trx) => {
        await writeProbe(trx, "inside a transaction");
        controller.abort();
      }),
    );
    await expect(late).rejects.toBeInstanceOf(QueueRunAbortedError);
    await expect(runFenced(controller.signal, () => writeProbe(db, "after the abort"))).rejects.toMatchObject({ code: "QUEUE_RUN_ABORTED" });
    // Outside the run, the same database works as usual.
    await writeProbe(db, "outside");
    expect(await probeNotes()).toEqual(["before the abort", "outside"]);
  });
});

describe("handler timeouts", () => {
  it("keeps a timed-out message from every other worker until its handler settles, refuses its late writes, then retries it", { timeout: 60_000 }, async () => {
    const db = testDb.handle.db;
    const logA = recordingLog();
    // Short leases: without the heartbeat going on after the timeout, B would take it within a second.
    const a = queue(testDb.handle, { leaseSeconds: 1, handlerTimeoutSeconds: 0.3, handlerHardCapSeconds: 60, concurrency: 1, log: logA, workerId: "A" });
    const b = queue(await otherHandle(), { leaseSeconds: 1, handlerTimeoutSeconds: 30, workerId: "B" });
    const hang = latch();
    const runs: string[] = [];
    let running = 0;
    let overlaps = 0;
    let lateWrite: unknown = null;
    let signalSeen: AbortSignal | undefined;
    const handler = (worker: string) => async (m: string) => {
      runs.push(`${worker}:${m}`);
      if (m !== "slow") return;
      if (running++ > 0) overlaps++;
      try {
        if (runs.filter((r) => r.endsWith(":slow")).length === 1) {
          signalSeen = currentQueueSignal();
          await hang.promise;
          lateWrite = await writeProbe(db, "late").then(() => null, (error: unknown) => error);
        } else {
          await writeProbe(db, `retry by ${worker}`);
        }
      } finally {
        running--;
      }
    };
    listen(a, handler("A"));
    await a.enqueue("slow");
    await waitFor(() => runs.length === 1, "the first run");
    expect(runs).toEqual(["A:slow"]);
    await waitFor(() => logA.entries.some((e) => e.message.startsWith("Queue handler passed its timeout")), "the timeout");
    expect(signalSeen?.aborted).toBe(true);

    // A's only slot is free: another message runs on A although the slow handler still hangs.
    await a.enqueue("quick");
    await waitFor(() => runs.includes("A:quick"), "the quick message");
    listen(b, handler("B"));
    // Three leases later the slow message is still A's, run nowhere else.
    await sleep(3_000);
    expect(runs.filter((r) => r.endsWith(":slow"))).toEqual(["A:slow"]);
    const [held] = await queueRows();
    expect(held).toMatchObject({ leased_by: "A", attempts: 1 });
    expect(held!.lease_until!.getTime()).toBeGreaterThan(Date.now());

    // The handler settles: its late write is refused, and only now is the message retried.
    hang.open();
    await waitFor(() => runs.filter((r) => r.endsWith(":slow")).length === 2, "the retry");
    await waitFor(async () => (await queueRows()).length === 0, "the retry to finish");
    expect(lateWrite).toBeInstanceOf(QueueRunAbortedError);
    expect(overlaps).toBe(0);
    const notes = await probeNotes();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^retry by [AB]$/);
  });

  it("releases a handler that never settles at its hard cap; its writes stay refused while the message runs again", { timeout: 60_000 }, async () => {
    const db = testDb.handle.db;
    const logA = recordingLog();
    const a = queue(testDb.handle, { leaseSeconds: 1, handlerTimeoutSeconds: 0.2, handlerHardCapSeconds: 1.5, log: logA, workerId: "A" });
    const b = queue(await otherHandle(), { leaseSeconds: 1, workerId: "B" });
    const never = latch();
    const runs: string[] = [];
    let lateWrite: unknown = null;
    const handler = (worker: string) => async (m: string) => {
      runs.push(`${worker}:${m}`);
      if (runs.length === 1) {
        await never.promise;
        lateWrite = await writeProbe(db, "late").then(() => null, (error: unknown) => error);
      } else {
        await writeProbe(db, `retry by ${worker}`);
      }
    };
    listen(a, handler("A"));
    await a.enqueue("stuck");
    await waitFor(() => runs.length === 1, "A to start");
    listen(b, handler("B"));
    await waitFor(() => runs.length === 2, "the message to run again after the hard cap");
    await waitFor(async () => (await queueRows()).length === 0, "the second run to finish");
    expect(logA.entries.some((e) => e.message.startsWith("Queue handler still running at its hard cap"))).toBe(true);
    // The first handler is still stuck; when it wakes up, it can no longer write.
    never.open();
    await waitFor(() => lateWrite !== null, "the first handler's late write");
    expect(lateWrite).toBeInstanceOf(QueueRunAbortedError);
    const notes = await probeNotes();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^retry by [AB]$/);
  });
});

describe("maximum attempts and dead letters", () => {
  const deps = (): ServiceDeps =>
    ({ db: testDb.handle.db, config: loadConfig({ PUBLIC_URL: "http://127.0.0.1:1", ...(testDb.url ? { DATABASE_URL: testDb.url } : {}) }) }) as ServiceDeps;

  it("moves a message that always fails to the dead letters after maxAttempts, and `queue.retry` runs it again", { timeout: 60_000 }, async () => {
    const log = recordingLog();
    const q = queue(testDb.handle, { maxAttempts: 2, log });
    let fail = true;
    const runs: string[] = [];
    listen(q, (m: { n: number }) => {
      runs.push(`run ${m.n}`);
      if (fail) throw new Error(`always fails (${m.n})`);
    });
    await q.enqueue({ n: 7, type: "outbox", activityType: "Follow", activityId: "https://example.test/a/1", inbox: "https://remote.example/users/x/inbox", keys: ["secret"] });
    await waitFor(async () => (await deadRows()).length === 1, "the dead letter");
    expect(runs).toEqual(["run 7", "run 7"]);
    expect(await queueRows()).toEqual([]);
    const [dead] = await deadRows();
    expect(dead).toMatchObject({ attempts: 2, last_error: "Error: always fails (7)" });
    expect(log.entries.some((e) => e.level === "error" && e.message.includes("dead letter"))).toBe(true);
    expect(await q.getDepth()).toMatchObject({ queued: 0, leased: 0, dead: 1 });

    // Listings show what the message is, never its content (outbox messages carry keys).
    const listed = (await runAdminOp(deps(), "queue.list", { dead: true })) as any[];
    expect(listed).toEqual([
      expect.objectContaining({ id: dead!.id, type: "outbox", activityType: "Follow", activityId: "https://example.test/a/1", inboxOrigin: "https://remote.example", attempts: 2 }),
    ]);
    expect(JSON.stringify(listed)).not.toContain("secret");

    await expect(runAdminOp(deps(), "queue.retry", { id: "999999" })).rejects.toMatchObject({ code: "QUEUE_DEAD_LETTER_NOT_FOUND" });
    await expect(runAdminOp(deps(), "queue.retry", {})).rejects.toMatchObject({ code: "QUEUE_RETRY_TARGET" });
    await expect(runAdminOp(deps(), "queue.retry", { id: "1; drop table x" })).rejects.toMatchObject({ code: "QUEUE_DEAD_LETTER_ID" });
    expect(await deadRows()).toHaveLength(1);

    fail = false;
    const retried = (await runAdminOp(deps(), "queue.retry", { id: dead!.id })) as { retried: Array<{ deadId: string; queueId: string }> };
    expect(retried.retried).toHaveLength(1);
    expect(retried.retried[0]!.deadId).toBe(dead!.id);
    await waitFor(() => runs.length === 3, "the retried run");
    await waitFor(async () => (await queueRows()).length === 0, "the retried message to finish");
    expect(await deadRows()).toEqual([]);
    // Retrying again finds nothing: the dead letter moved exactly once.
    await expect(runAdminOp(deps(), "queue.retry", { id: dead!.id })).rejects.toMatchObject({ code: "QUEUE_DEAD_LETTER_NOT_FOUND" });
  });

  it("dead-letters a message whose workers keep dying, without running it again", { timeout: 60_000 }, async () => {
    // As a crash loop leaves it: claimed maxAttempts times, the last lease ran out.
    await sql`insert into fedify_queue (message, lease_until, leased_by, attempts)
              values ('"poison"', now() - interval '1 second', 'host:4242:dead', 3)`.execute(testDb.handle.db);
    const q = queue(testDb.handle, { maxAttempts: 3 });
    const runs: unknown[] = [];
    listen(q, (m) => void runs.push(m));
    await waitFor(async () => (await deadRows()).length === 1, "the dead letter");
    expect(runs).toEqual([]);
    const [dead] = await deadRows();
    expect(dead!.attempts).toBe(4);
    expect(dead!.last_error).toContain("the lease of host:4242:dead ran out");
  });

  it("`queue.retry --all` re-enqueues every dead letter in one go and `status` counts them", async () => {
    await sql`insert into fedify_queue_dead (id, message, attempts, last_error, created_at)
              values (101, '"x"', 25, 'e', now()), (102, '{"big": 12345678901234567890}', 25, 'e', now())`.execute(testDb.handle.db);
    expect(((await runAdminOp(deps(), "status", {})) as any).queue).toMatchObject({ dead: 2 });
    const { retried } = (await runAdminOp(deps(), "queue.retry", { all: true })) as { retried: Array<{ deadId: string }> };
    expect(retried.map((r) => r.deadId)).toEqual(["101", "102"]);
    expect(await deadRows()).toEqual([]);
    const rows = await sql<{ message: string; attempts: number }>`select message::text as message, attempts from fedify_queue order by id`.execute(testDb.handle.db);
    // Exact numbers survive the round trip; attempts start again.
    expect(rows.rows).toEqual([
      { message: '"x"', attempts: 0 },
      { message: '{"big": 12345678901234567890}', attempts: 0 },
    ]);
    expect(((await runAdminOp(deps(), "status", {})) as any).queue).toMatchObject({ dead: 0, ready: 2 });
  });
});

describe("queue counts", () => {
  it("counts leased rows, dead letters and the age of the oldest due message", async () => {
    await sql`insert into fedify_queue (message, available_at, lease_until, leased_by, attempts)
              values ('"running since long"', now() - interval '95 seconds', now() + interval '1 minute', 'w', 1),
                     ('"ready"', now() - interval '5 seconds', null, null, 0),
                     ('"later"', now() + interval '1 hour', null, null, 0)`.execute(testDb.handle.db);
    await sql`insert into fedify_queue_dead (id, message, attempts, created_at) values (1, '"dead"', 25, now())`.execute(testDb.handle.db);
    const stats = await queueStats(testDb.handle.db);
    expect(stats).toMatchObject({ queued: 2, ready: 1, delayed: 1, leased: 1, dead: 1 });
    expect(stats.oldestPendingSeconds).toBeGreaterThanOrEqual(95);
    expect(stats.oldestPendingSeconds).toBeLessThan(95 + 60);
  });
});

describe("restart on the embedded database", () => {
  it("releases the leases a previous run left at once, so the message runs without waiting for them", { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-queue-restart-"));
    tempDirs.push(dir);
    const dataDir = path.join(dir, "data");
    // The previous run: it leased a message for an hour and was killed.
    const before = await openDatabase({ dataDir });
    await migrateToLatest(before.db);
    await sql`insert into fedify_queue (message, lease_until, leased_by, attempts)
              values ('"interrupted delivery"', now() + interval '1 hour', 'host:999999:gone', 1)`.execute(before.db);
    await before.close();

    const after = await openDatabase({ dataDir });
    try {
      expect(await queueStats(after.db)).toMatchObject({ leased: 1, queued: 0 });
      const log = recordingLog();
      // Long lease and poll: only the reclaim at start explains a prompt run.
      const q = new KyselyMessageQueue(after, { leaseSeconds: 3600, pollSeconds: 300, concurrency: 1, log });
      const runs: unknown[] = [];
      const stop = new AbortController();
      const done = q.listen((m) => void runs.push(m), { signal: stop.signal });
      await waitFor(() => runs.length === 1, "the interrupted message", 10_000);
      await waitFor(async () => (await queueStats(after.db)).leased === 0 && (await queueStats(after.db)).queued === 0, "it to finish", 10_000);
      stop.abort();
      await done;
      expect(runs).toEqual(["interrupted delivery"]);
      expect(log.entries.filter((e) => e.message.startsWith("Released queue messages left leased by the previous run"))).toHaveLength(1);
    } finally {
      await after.close();
    }
  });
});
