/** Stored results of steward API writes, by (scope, key). */
import { sql, type Kysely } from "kysely";
import type { Database } from "../schema.ts";

export interface IdempotencyRecord {
  fingerprint: string;
  result: unknown;
  createdAt: Date;
}

export async function getIdempotencyRecord(db: Kysely<Database>, scope: string, key: string, notBefore: Date): Promise<IdempotencyRecord | null> {
  const row = await db
    .selectFrom("idempotency_keys")
    .select(["fingerprint", "result", "created_at"])
    .where("scope", "=", scope)
    .where("key", "=", key)
    .where("created_at", ">=", notBefore)
    .executeTakeFirst();
  return row ? { fingerprint: row.fingerprint, result: row.result, createdAt: row.created_at } : null;
}

/** Inserts the record; a concurrent request with the same key makes this fail with a unique violation (23505). */
export async function insertIdempotencyRecord(
  db: Kysely<Database>,
  record: { scope: string; key: string; fingerprint: string; result: string; createdAt: Date },
): Promise<void> {
  // An expired record of the same key is replaced: keys are only promised for a day.
  await db.deleteFrom("idempotency_keys").where("scope", "=", record.scope).where("key", "=", record.key).where("created_at", "<", sql<Date>`${record.createdAt}::timestamptz - interval '1 day'`).execute();
  await db
    .insertInto("idempotency_keys")
    .values({ scope: record.scope, key: record.key, fingerprint: record.fingerprint, result: record.result, created_at: record.createdAt })
    .execute();
}

export async function deleteIdempotencyRecordsBefore(db: Kysely<Database>, before: Date): Promise<number> {
  const r = await db.deleteFrom("idempotency_keys").where("created_at", "<", before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
