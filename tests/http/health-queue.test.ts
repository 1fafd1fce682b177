/**
 * /healthz tells the truth about the federation queue: besides `queued` (ready + delayed,
 * as before) it counts messages claimed but unfinished (leased), dead letters, and the
 * age of the oldest due message, so a delivery stuck behind a dead worker shows.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNode, type TestNode } from "../helpers/node.ts";

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  await node?.stop();
});

describe("GET /healthz", () => {
  it("reports queued, leased and dead messages and the oldest due age", async () => {
    const empty = await (await fetch(`${node.origin}/healthz`)).json();
    expect(empty.queue).toMatchObject({ queued: 0, ready: 0, delayed: 0, leased: 0, dead: 0, oldestPendingSeconds: 0 });

    const db = node.deps.db;
    // A delivery held by a worker that died 90 s after it became due (its lease still runs),
    // one waiting for an hour, and one given up on.
    await sql`insert into fedify_queue (message, available_at, lease_until, leased_by, attempts)
              values ('{"type":"noop"}', now() - interval '90 seconds', now() + interval '10 minutes', 'elsewhere:1:dead', 1),
                     ('{"type":"noop"}', now() + interval '1 hour', null, null, 0)`.execute(db);
    await sql`insert into fedify_queue_dead (id, message, attempts, last_error, created_at)
              values (424242, '{"type":"outbox"}', 25, 'Error: 500', now())`.execute(db);

    const response = await fetch(`${node.origin}/healthz`);
    expect(response.status).toBe(200);
    const body = await response.json();
    // `queued` keeps its old meaning (not leased); the leased one is counted on its own.
    expect(body.queue).toMatchObject({ queued: 1, ready: 0, delayed: 1, leased: 1, dead: 1 });
    expect(body.queue.oldestPendingSeconds).toBeGreaterThanOrEqual(90);
    expect(body.queue.oldestPendingSeconds).toBeLessThan(90 + 60);
    expect(body.status).toBe("ok");
  });
});
