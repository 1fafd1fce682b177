/**
 * PostgreSQL: the queue's NOTIFY listener survives losing its connection. Its backend is
 * terminated with pg_terminate_backend; the listener reconnects with backoff, LISTENs
 * again, logs the loss once at warn, and a message enqueued afterwards wakes the worker
 * through NOTIFY (the poll interval is five minutes, so polling cannot explain it).
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { KyselyMessageQueue } from "../../src/federation/storage/message-queue.ts";
import { createPostgresDatabase } from "../helpers/db.ts";
import { waitFor } from "../helpers/node.ts";

let database: { url: string; drop: () => Promise<void> };
let worker: DatabaseHandle;
let producer: DatabaseHandle;
const listenerLog: Array<{ level: string; message: string }> = [];

beforeAll(async () => {
  database = await createPostgresDatabase();
  worker = await openDatabase({
    databaseUrl: database.url,
    listenerLog: {
      warn: (message) => listenerLog.push({ level: "warn", message }),
      info: (message) => listenerLog.push({ level: "info", message }),
    },
  });
  await migrateToLatest(worker.db);
  // Another pool, as a web process enqueueing would be.
  producer = await openDatabase({ databaseUrl: database.url });
});

afterAll(async () => {
  await producer?.close();
  await worker?.close();
  await database?.drop();
});

/** Backend pids of this database's NOTIFY listener connections. */
async function listenerPids(): Promise<number[]> {
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity
     where datname = current_database() and application_name = 'hyphae-listen'`.execute(producer.db);
  return rows.map((r) => r.pid);
}

describe("the NOTIFY listener", () => {
  it("reconnects and resubscribes after its backend is terminated, and NOTIFY wakes the worker again", { timeout: 60_000 }, async () => {
    const q = new KyselyMessageQueue(worker, { leaseSeconds: 30, pollSeconds: 300, concurrency: 1, log: { warn: () => {}, error: () => {} } });
    const producerQueue = new KyselyMessageQueue(producer, { leaseSeconds: 30, pollSeconds: 300, concurrency: 1 });
    const handled: unknown[] = [];
    const stop = new AbortController();
    const listening = q.listen((m) => void handled.push(m), { signal: stop.signal });
    try {
      const [first] = await waitFor(async () => ((await listenerPids()).length === 1 ? listenerPids() : null), 10_000, "the listener connection");
      await producerQueue.enqueue("before");
      await waitFor(() => handled.length === 1, 10_000, "the first wake-up");

      const { rows } = await sql<{ ok: boolean }>`select pg_terminate_backend(${first}) as ok`.execute(producer.db);
      expect(rows[0]!.ok).toBe(true);
      // A new backend LISTENs in place of the terminated one.
      await waitFor(async () => {
        const pids = await listenerPids();
        return pids.length === 1 && pids[0] !== first;
      }, 20_000, "a new listener connection");
      await waitFor(() => listenerLog.some((e) => e.level === "info"), 20_000, "the reconnect");

      await producerQueue.enqueue("after");
      await waitFor(() => handled.length === 2, 10_000, "a NOTIFY-driven wake-up after the reconnect");
      expect(handled).toEqual(["before", "after"]);
      expect(listenerLog.filter((e) => e.level === "warn")).toHaveLength(1);
      expect(listenerLog.filter((e) => e.level === "info")).toHaveLength(1);
    } finally {
      stop.abort();
      await listening;
    }
  });
});
