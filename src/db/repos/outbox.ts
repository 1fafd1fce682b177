/**
 * The transactional outbox table (`outbox_events`). Every read and write of it goes
 * through here.
 *
 * - An event is *live* while it is neither sent nor dead.
 * - Any process may claim due live events: `FOR UPDATE SKIP LOCKED` plus a lease
 *   (`lease_until`, `leased_by` = a token unique to the claim), so no event is handed to
 *   Fedify by two processes at once. A claim whose process died is taken again once its
 *   lease runs out. Outcomes are recorded only by the claim that holds the lease.
 * - Ordering: an event is claimable only when no older live event has the same
 *   `ordering_key`. For keys of one remote actor (`actor …`) it must also wait until the
 *   older events' deliveries have left Fedify's queue (Fedify's own key for them is ours
 *   plus `\n` and the inbox origin), because Fedify retries a failed delivery by
 *   enqueueing it again, behind anything enqueued meanwhile.
 * - `next_attempt_at`, `created_at`, `retried_at`, `dead_at` and `sent_at` follow the
 *   services' clock (tests inject one); leases follow the database clock, since they
 *   are about processes being alive.
 */
import { sql, type Kysely, type Selectable } from "kysely";
import type { Database, OutboxEventsTable } from "../schema.ts";

/** Ordering keys of events addressed to one remote actor start with this. */
export const ACTOR_KEY_PREFIX = "actor ";

export type OutboxEventRow = Selectable<OutboxEventsTable>;

export interface NewOutboxEvent {
  podId: string;
  kind: string;
  /** The event as JSON text. */
  payload: string;
  orderingKey: string;
  now: Date;
}

export async function insertOutboxEvent(db: Kysely<Database>, event: NewOutboxEvent): Promise<string> {
  const row = await db
    .insertInto("outbox_events")
    .values({
      pod_id: event.podId,
      kind: event.kind,
      payload: event.payload,
      ordering_key: event.orderingKey,
      created_at: event.now,
      next_attempt_at: event.now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface ClaimOptions {
  /** Services' clock: events whose next attempt is at or before this are due. */
  now: Date;
  limit: number;
  leaseSeconds: number;
  /** Unique to this claim; recorded in `leased_by`. */
  claimer: string;
}

/** Leases up to `limit` due, claimable events to `claimer`, oldest first. */
export async function claimDueOutboxEvents(db: Kysely<Database>, o: ClaimOptions): Promise<OutboxEventRow[]> {
  const { rows } = await sql<OutboxEventRow>`
    with candidates as materialized (
      select e.id
        from outbox_events e
       where e.sent_at is null and e.dead_at is null
         and e.next_attempt_at <= ${o.now}
         and (e.lease_until is null or e.lease_until < now())
         and not exists (
               select 1 from outbox_events older
                where older.ordering_key = e.ordering_key and older.id < e.id
                  and older.sent_at is null and older.dead_at is null)
         and (left(e.ordering_key, ${ACTOR_KEY_PREFIX.length}) <> ${ACTOR_KEY_PREFIX} or not exists (
               select 1 from fedify_queue q
                where q.ordering_key is not null
                  and left(q.ordering_key, length(e.ordering_key) + 1) = e.ordering_key || chr(10)))
       order by e.id
       limit ${o.limit}
         for update skip locked
    )
    update outbox_events o
       set lease_until = now() + ${o.leaseSeconds}::float8 * interval '1 second',
           leased_by = ${o.claimer},
           attempts = o.attempts + 1
      from candidates
     where o.id = candidates.id
    returning o.*`.execute(db);
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * Extends the lease of the claim's unsent events (all of them, or one). Returns the ids
 * still held: an event missing from it was taken over after the lease ran out.
 */
export async function renewOutboxClaim(db: Kysely<Database>, claimer: string, leaseSeconds: number, id?: string): Promise<string[]> {
  let query = db
    .updateTable("outbox_events")
    .set({ lease_until: sql<Date>`now() + ${leaseSeconds}::float8 * interval '1 second'` })
    .where("leased_by", "=", claimer)
    .where("sent_at", "is", null)
    .where("lease_until", ">", sql<Date>`now()`);
  if (id !== undefined) query = query.where("id", "=", id);
  return (await query.returning("id").execute()).map((r) => r.id);
}

/** The claim handed the event over: it is sent. False if the claim had lost its lease. */
export async function markOutboxEventSent(db: Kysely<Database>, id: string, claimer: string, now: Date, note: string | null = null): Promise<boolean> {
  const result = await db
    .updateTable("outbox_events")
    .set({ sent_at: now, lease_until: null, leased_by: null, last_error: note })
    .where("id", "=", id)
    .where("leased_by", "=", claimer)
    .where("sent_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The claim failed: try again at `nextAttemptAt`, or, when `deadAt` is given, give up. */
export async function recordOutboxFailure(
  db: Kysely<Database>,
  id: string,
  claimer: string,
  outcome: { error: string; nextAttemptAt: Date; deadAt: Date | null },
): Promise<boolean> {
  const result = await db
    .updateTable("outbox_events")
    .set({ lease_until: null, leased_by: null, last_error: outcome.error.slice(0, 2000), next_attempt_at: outcome.nextAttemptAt, dead_at: outcome.deadAt })
    .where("id", "=", id)
    .where("leased_by", "=", claimer)
    .where("sent_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export type OutboxListFilter = "pending" | "failed";

export interface OutboxListEntry extends OutboxEventRow {
  pod_slug: string;
}

/** Live events (`pending`, oldest first) or dead letters (`failed`, oldest first). */
export async function listOutboxEvents(db: Kysely<Database>, filter: OutboxListFilter, limit: number): Promise<OutboxListEntry[]> {
  let query = db
    .selectFrom("outbox_events as e")
    .innerJoin("pods as p", "p.id", "e.pod_id")
    .selectAll("e")
    .select("p.slug as pod_slug")
    .where("e.sent_at", "is", null);
  query = filter === "failed" ? query.where("e.dead_at", "is not", null) : query.where("e.dead_at", "is", null);
  return query.orderBy("e.id").limit(limit).execute();
}

export async function getOutboxEvent(db: Kysely<Database>, id: string): Promise<OutboxEventRow | undefined> {
  return db.selectFrom("outbox_events").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Brings dead letters back: due now, attempts from zero, and the give-up age counted
 * from `now`. `ids` null = every dead letter. Returns the ids revived.
 */
export async function reviveDeadOutboxEvents(db: Kysely<Database>, ids: readonly string[] | null, now: Date): Promise<string[]> {
  if (ids !== null && ids.length === 0) return [];
  let query = db
    .updateTable("outbox_events")
    .set({ dead_at: null, retried_at: now, next_attempt_at: now, attempts: 0, lease_until: null, leased_by: null })
    .where("dead_at", "is not", null)
    .where("sent_at", "is", null);
  if (ids !== null) query = query.where("id", "in", ids);
  const rows = await query.returning("id").execute();
  return rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
}

export interface OutboxSummary {
  pending: number;
  dead: number;
  oldestPendingAt: Date | null;
  oldestDeadAt: Date | null;
}

export async function summarizeOutbox(db: Kysely<Database>): Promise<OutboxSummary> {
  const row = await db
    .selectFrom("outbox_events")
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere("dead_at", "is", null).as("pending"),
      eb.fn.countAll<string>().filterWhere("dead_at", "is not", null).as("dead"),
      eb.fn.min<Date | null>("created_at").filterWhere("dead_at", "is", null).as("oldest_pending"),
      eb.fn.min<Date | null>("dead_at").filterWhere("dead_at", "is not", null).as("oldest_dead"),
    ])
    .where("sent_at", "is", null)
    .executeTakeFirstOrThrow();
  return {
    pending: Number(row.pending),
    dead: Number(row.dead),
    oldestPendingAt: row.oldest_pending ? new Date(row.oldest_pending) : null,
    oldestDeadAt: row.oldest_dead ? new Date(row.oldest_dead) : null,
  };
}
