// Activities received in the inbox, recorded by key in the same transaction as their
// effect: a duplicate, a replay or a second copy running at the same moment finds the row
// and changes nothing. Rows are kept for 30 days (a periodic sweep deletes older ones).
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("inbox_activities")
    // The activity id when it is usable (http(s), on its actor's server); otherwise
    // `sha256:` and a digest of the signer and the canonical body.
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("actor_iri", "text", (c) => c.notNull())
    .addColumn("activity_type", "text", (c) => c.notNull())
    // processed: the handler ran (with or without an effect); refused: it can never be
    // applied (bad input), so it is not tried again; undone: an Undo named this Follow
    // before the Follow itself arrived.
    .addColumn("outcome", "text", (c) => c.notNull().check(sql`outcome in ('processed', 'refused', 'undone')`))
    // For a refusal, the stable error code (no body, no member data).
    .addColumn("reason", "text")
    .addColumn("received_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("inbox_activities_received_at_idx").on("inbox_activities").column("received_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("inbox_activities").execute();
}
