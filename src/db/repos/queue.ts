/**
 * Reading and repairing Fedify's message queue (`fedify_queue`, `fedify_queue_dead`) for
 * health checks and operators. The queue itself (claims, leases, fencing) lives in
 * src/federation/storage/message-queue.ts; both agree on the tables described there.
 *
 * Messages are never returned whole: outbox messages carry the pods' private keys.
 * Listings show the message type, the activity's type and id, and the inbox's origin.
 */
import { sql, type Kysely } from "kysely";
import type { Database } from "../schema.ts";

/** The NOTIFY channel queue listeners wake on. */
export const QUEUE_CHANNEL = "hyphae_queue";

export interface QueueStats {
  /** Waiting to be claimed (ready + delayed); leased rows are not included. */
  queued: number;
  /** Due now and not leased. */
  ready: number;
  /** Not due yet (a delay or a retry backoff). */
  delayed: number;
  /** Claimed by a worker whose lease has not run out: running, or its worker died recently. */
  leased: number;
  /** Given up on after the maximum attempts; see `hyphae queue list --dead`. */
  dead: number;
  /** Seconds since the oldest message that is due (leased or not) became due; 0 when none is. */
  oldestPendingSeconds: number;
}

export async function queueStats(db: Kysely<Database>): Promise<QueueStats> {
  const { rows } = await sql<{ ready: string; delayed: string; leased: string; dead: string; oldest: number | null }>`
    select count(*) filter (where (q.lease_until is null or q.lease_until < now()) and q.available_at <= now()) as ready,
           count(*) filter (where (q.lease_until is null or q.lease_until < now()) and q.available_at > now()) as delayed,
           count(*) filter (where q.lease_until >= now()) as leased,
           (select count(*) from fedify_queue_dead) as dead,
           extract(epoch from now() - min(q.available_at) filter (where q.available_at <= now()))::float8 as oldest
      from fedify_queue q`.execute(db);
  const row = rows[0]!;
  const ready = Number(row.ready);
  const delayed = Number(row.delayed);
  return {
    queued: ready + delayed,
    ready,
    delayed,
    leased: Number(row.leased),
    dead: Number(row.dead),
    oldestPendingSeconds: row.oldest == null ? 0 : Math.max(0, Math.floor(row.oldest)),
  };
}

/** What a listing shows of a message (never its content: outbox messages hold private keys). */
export interface QueueMessageSummary {
  id: string;
  /** Fedify's message type: inbox, outbox or fanout. */
  type: string | null;
  activityType: string | null;
  activityId: string | null;
  /** scheme://host of the inbox an outbox message goes to. */
  inboxOrigin: string | null;
  orderingKey: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

export interface QueuedMessage extends QueueMessageSummary {
  state: "ready" | "delayed" | "leased";
  availableAt: string;
  leasedBy: string | null;
  leaseUntil: string | null;
}

export interface DeadLetter extends QueueMessageSummary {
  deadAt: string;
}

const summaryColumns = sql`
  message->>'type' as type,
  coalesce(message->>'activityType', message->'activity'->>'type') as activity_type,
  coalesce(message->>'activityId', message->'activity'->>'id') as activity_id,
  substring(message->>'inbox' from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+') as inbox_origin,
  ordering_key, attempts, last_error, created_at`;

interface SummaryRow {
  id: string;
  type: string | null;
  activity_type: string | null;
  activity_id: string | null;
  inbox_origin: string | null;
  ordering_key: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
}

const iso = (d: Date | string) => new Date(d).toISOString();

function summary(r: SummaryRow): QueueMessageSummary {
  return {
    id: String(r.id),
    type: r.type,
    activityType: r.activity_type,
    activityId: r.activity_id,
    inboxOrigin: r.inbox_origin,
    orderingKey: r.ordering_key,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: iso(r.created_at),
  };
}

/** Messages in the queue, oldest due first. */
export async function listQueuedMessages(db: Kysely<Database>, limit: number): Promise<QueuedMessage[]> {
  const { rows } = await sql<SummaryRow & { state: QueuedMessage["state"]; available_at: Date; leased_by: string | null; lease_until: Date | null }>`
    select id, ${summaryColumns}, available_at, leased_by, lease_until,
           case when lease_until >= now() then 'leased'
                when available_at > now() then 'delayed'
                else 'ready' end as state
      from fedify_queue
     order by available_at, id
     limit ${limit}`.execute(db);
  return rows.map((r) => ({
    ...summary(r),
    state: r.state,
    availableAt: iso(r.available_at),
    leasedBy: r.state === "leased" ? r.leased_by : null,
    leaseUntil: r.state === "leased" && r.lease_until ? iso(r.lease_until) : null,
  }));
}

/** Dead letters, most recent first. */
export async function listDeadLetters(db: Kysely<Database>, limit: number): Promise<DeadLetter[]> {
  const { rows } = await sql<SummaryRow & { dead_at: Date }>`
    select id, ${summaryColumns}, dead_at
      from fedify_queue_dead
     order by dead_at desc, id desc
     limit ${limit}`.execute(db);
  return rows.map((r) => ({ ...summary(r), deadAt: iso(r.dead_at) }));
}

export interface RetriedDeadLetter {
  /** The dead letter's id (its old queue id). */
  deadId: string;
  /** Its new id in fedify_queue. */
  queueId: string;
}

/**
 * Moves dead letters back into the queue, due now and with a fresh attempt count, in one
 * statement, and wakes the listeners. They get new ids, so they queue behind messages of
 * the same ordering key that are already waiting. `ids: "all"` takes every dead letter.
 * Returns what was moved; an id that is not a dead letter (any more) is simply absent.
 */
export async function retryDeadLetters(db: Kysely<Database>, ids: readonly string[] | "all"): Promise<RetriedDeadLetter[]> {
  if (ids !== "all" && ids.some((id) => !/^\d{1,18}$/.test(id))) throw new RangeError("dead letter ids are digit strings");
  return db.transaction().execute(async (trx) => {
    // The text of the jsonb, not parsed JSON: large numbers in a message stay exact.
    const { rows: moved } = await sql<{ id: string; message: string; ordering_key: string | null; created_at: Date }>`
      delete from fedify_queue_dead
       where ${ids === "all" ? sql`true` : sql`id = any(${`{${ids.join(",")}}`}::bigint[])`}
      returning id, message::text as message, ordering_key, created_at`.execute(trx);
    moved.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const retried: RetriedDeadLetter[] = [];
    for (const row of moved) {
      const { rows } = await sql<{ id: string }>`
        insert into fedify_queue (message, ordering_key, created_at)
        values (${row.message}::jsonb, ${row.ordering_key}, ${row.created_at})
        returning id`.execute(trx);
      retried.push({ deadId: String(row.id), queueId: String(rows[0]!.id) });
    }
    // Delivered at commit; PGlite delivers NOTIFY within its instance too.
    if (retried.length > 0) await sql`select pg_notify(${QUEUE_CHANNEL}, '0')`.execute(trx);
    return retried;
  });
}
