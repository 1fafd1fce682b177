// Retiring a pod: the pod keeps its rows (charter revisions, followers, the outbox) for
// the books, and `retired_at` records when it stopped. A retired pod's actor answers
// 410 Gone with a Tombstone; null means the pod is active.
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("pods").addColumn("retired_at", "timestamptz").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("pods").dropColumn("retired_at").execute();
}
