/** CSV imports of a pod's ledger: one row per file, keyed by the SHA-256 of its bytes. */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../schema.ts";

export interface LedgerImportRecord {
  id: string;
  podId: string;
  fileSha256: string;
  rows: number;
  firstSeq: number | null;
  lastSeq: number | null;
  createdAt: Date;
}

export async function getLedgerImportBySha(db: Kysely<Database>, podId: string, fileSha256: string): Promise<LedgerImportRecord | null> {
  const row = await db.selectFrom("ledger_imports").selectAll().where("pod_id", "=", podId).where("file_sha256", "=", fileSha256).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    podId: row.pod_id,
    fileSha256: row.file_sha256,
    rows: row.rows,
    firstSeq: row.first_seq === null ? null : Number(row.first_seq),
    lastSeq: row.last_seq === null ? null : Number(row.last_seq),
    createdAt: row.created_at,
  };
}

/**
 * Inserts the import's row before its entries (they reference it). A concurrent import of
 * the same file meets the (pod_id, file_sha256) unique constraint (23505).
 */
export async function insertLedgerImport(trx: Transaction<Database>, record: Omit<LedgerImportRecord, "firstSeq" | "lastSeq">): Promise<void> {
  await trx
    .insertInto("ledger_imports")
    .values({ id: record.id, pod_id: record.podId, file_sha256: record.fileSha256, rows: record.rows, first_seq: null, last_seq: null, created_at: record.createdAt })
    .execute();
}

/** Records the seq range the import's entries took, once they are appended (same transaction). */
export async function setLedgerImportRange(trx: Transaction<Database>, id: string, range: { rows: number; firstSeq: number; lastSeq: number }): Promise<void> {
  await trx
    .updateTable("ledger_imports")
    .set({ rows: range.rows, first_seq: String(range.firstSeq), last_seq: String(range.lastSeq) })
    .where("id", "=", id)
    .execute();
}
