// Dead letters for Fedify's message queue: a message whose handler failed, timed out or
// took its worker down more than QUEUE_MAX_ATTEMPTS times moves here (deleted from
// fedify_queue and inserted here in one statement). `hyphae queue retry` moves it back.
// fedify_queue.last_error keeps the latest failure, so the dead letter can show it.
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("fedify_queue").addColumn("last_error", "text").execute();
  await db.schema
    .createTable("fedify_queue_dead")
    // The id the message had in fedify_queue.
    .addColumn("id", "bigint", (c) => c.primaryKey())
    .addColumn("message", "jsonb", (c) => c.notNull())
    .addColumn("ordering_key", "text")
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("last_error", "text")
    // When it was first enqueued.
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("dead_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("fedify_queue_dead_dead_at_idx").on("fedify_queue_dead").column("dead_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("fedify_queue_dead").ifExists().execute();
  await db.schema.alterTable("fedify_queue").dropColumn("last_error").execute();
}
