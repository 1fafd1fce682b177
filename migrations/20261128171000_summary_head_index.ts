// Period summaries read the chain head at a period's end: the last entry recorded before
// an instant. This index answers that with one index probe, also when many entries share
// a recorded_at (an import writes its rows at one instant), and serves the summaries'
// range scans over recorded_at.
import type { Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("ledger_entries_pod_recorded_seq_idx").on("ledger_entries").columns(["pod_id", "recorded_at", "seq"]).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("ledger_entries_pod_recorded_seq_idx").ifExists().execute();
}
