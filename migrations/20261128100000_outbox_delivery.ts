// Claimed, per-event outbox delivery. Each event gets its own attempts, next attempt and
// lease (so any process may claim due events without two of them handing the same event
// to Fedify), an ordering key (an event waits for older unsent events with the same key),
// the last error, and `dead_at` once it has been given up on (a dead letter an operator
// can retry). `retried_at` restarts the give-up clock when an operator retries it.
// Migrations are frozen in time: they never import application code.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("outbox_events")
    .addColumn("ordering_key", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("lease_until", "timestamptz")
    .addColumn("leased_by", "text")
    .addColumn("last_error", "text")
    .addColumn("dead_at", "timestamptz")
    .addColumn("retried_at", "timestamptz")
    .execute();
  // Events recorded before this migration: follow activities go to one remote actor,
  // everything else went to the pod's followers.
  await sql`
    update outbox_events
       set ordering_key = case
             when kind in ('accept_follow', 'reject_follow', 'send_follow', 'undo_follow')
               then 'actor ' || pod_id::text || ' ' || (payload->>'actorIri')
             else 'followers ' || pod_id::text
           end`.execute(db);
  await db.schema.alterTable("outbox_events").alterColumn("ordering_key", (c) => c.setNotNull()).execute();
  await sql`drop index if exists outbox_events_unsent_idx`.execute(db);
  // Claims scan due, live events; the ordering check looks up older live events by key.
  await sql`create index outbox_events_due_idx on outbox_events (next_attempt_at, id) where sent_at is null and dead_at is null`.execute(db);
  await sql`create index outbox_events_key_idx on outbox_events (ordering_key, id) where sent_at is null and dead_at is null`.execute(db);
  await sql`create index outbox_events_dead_idx on outbox_events (dead_at) where dead_at is not null and sent_at is null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists outbox_events_dead_idx`.execute(db);
  await sql`drop index if exists outbox_events_key_idx`.execute(db);
  await sql`drop index if exists outbox_events_due_idx`.execute(db);
  await db.schema
    .alterTable("outbox_events")
    .dropColumn("retried_at")
    .dropColumn("dead_at")
    .dropColumn("last_error")
    .dropColumn("leased_by")
    .dropColumn("lease_until")
    .dropColumn("next_attempt_at")
    .dropColumn("attempts")
    .dropColumn("ordering_key")
    .execute();
  await sql`create index outbox_events_unsent_idx on outbox_events (id) where sent_at is null`.execute(db);
}
