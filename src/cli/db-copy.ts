/**
 * `hyphae db copy --to <postgres-url>`: moves a node from the embedded database to
 * PostgreSQL with all its data. The target is migrated, must be empty, and receives
 * every row in one transaction, so a failed copy leaves nothing half-written.
 */
import { sql, type Kysely } from "kysely";
import { openDatabase } from "../db/connect.ts";
import { migrateToLatest } from "../db/migrate.ts";

/** Tables in foreign-key order. A table missing here makes the copy refuse to run. */
export const COPY_ORDER = [
  "pods",
  "pod_keys",
  "remote_actors",
  "followers",
  "following",
  "outbox_events",
  "node_secrets",
  "node_settings",
  "idempotency_keys",
  "steward_tokens",
  "stewards",
  "steward_invites",
  "steward_sessions",
  "steward_passkeys",
  "steward_passkey_challenges",
  "pod_icons",
  "fedify_kv",
  "fedify_queue",
  "fedify_queue_dead",
  "inbox_activities",
  "charter_revisions",
  "charters",
  "charter_events",
  "remote_charters",
  "book_settings",
  "book_resources",
  "book_members",
  "ledger_imports",
  "ledger_entries",
  "ledger_heads",
  "ledger_stock",
  "book_indicators",
  "book_indicator_counts",
  "book_summaries",
  "remote_summaries",
  "proposals",
  "remote_proposals",
  "congress_settings",
  "claims",
  "transfers",
] as const;

/**
 * Rows are read in physical order, except where a row names an earlier row of its own table
 * and an update may have moved it: a steward's inviter, who was made first.
 */
const READ_ORDER: Partial<Record<(typeof COPY_ORDER)[number], string>> = { stewards: "created_at, number" };

const BOOKKEEPING = new Set(["hyphae_migrations", "hyphae_migrations_lock"]);
const BATCH = 500;

export class CopyError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

async function tableNames(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
  return r.rows.map((row) => row.table_name).filter((t) => !BOOKKEEPING.has(t));
}

async function columnInfo(db: Kysely<any>, table: string) {
  const r = await sql<{ column_name: string; data_type: string; is_identity: string }>`
    select column_name, data_type, is_identity from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(db);
  return r.rows;
}

export interface CopyReport {
  tables: Record<string, number>;
}

export async function copyDatabase(options: { dataDir: string; targetUrl: string }): Promise<CopyReport> {
  const source = await openDatabase({ dataDir: options.dataDir });
  try {
    await migrateToLatest(source.db);
    const target = await openDatabase({ databaseUrl: options.targetUrl, poolSize: 2 });
    try {
      return await copyBetween(source.db, target.db);
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

export async function copyBetween(from: Kysely<any>, to: Kysely<any>): Promise<CopyReport> {
  const unknown = (await tableNames(from)).filter((t) => !(COPY_ORDER as readonly string[]).includes(t));
  if (unknown.length) throw new CopyError("COPY_UNKNOWN_TABLES", `db copy does not know the tables ${unknown.join(", ")}; refusing to copy part of the data`);
  await migrateToLatest(to);
  const report: CopyReport = { tables: {} };
  await to.transaction().execute(async (trx) => {
    for (const table of COPY_ORDER) {
      const existing = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(trx);
      if (Number(existing.rows[0]?.n) > 0) throw new CopyError("COPY_TARGET_NOT_EMPTY", `The target database already has rows in ${table}; copy only into an empty database`);
    }
    for (const table of COPY_ORDER) {
      const columns = await columnInfo(trx, table);
      const jsonColumns = new Set(columns.filter((c) => c.data_type === "jsonb" || c.data_type === "json").map((c) => c.column_name));
      const identity = columns.find((c) => c.is_identity === "YES")?.column_name;
      let copied = 0;
      for (let offset = 0; ; offset += BATCH) {
        const order = sql.raw(READ_ORDER[table] ?? "ctid");
        const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by ${order} limit ${BATCH} offset ${offset}`.execute(from)).rows;
        if (rows.length === 0) break;
        const names = columns.map((c) => c.column_name);
        const values = rows.map((row) =>
          sql`(${sql.join(names.map((n) => (jsonColumns.has(n) ? sql`${JSON.stringify(row[n])}::jsonb` : sql`${row[n]}`)))})`,
        );
        await sql`insert into ${sql.table(table)} (${sql.join(names.map((n) => sql.ref(n)))}) ${identity ? sql`overriding system value` : sql``} values ${sql.join(values)}`.execute(trx);
        copied += rows.length;
      }
      if (identity) {
        // Continue identity sequences after the copied ids.
        await sql`select setval(pg_get_serial_sequence(${table}, ${identity}), coalesce((select max(${sql.ref(identity)}) from ${sql.table(table)}), 0) + 1, false)`.execute(trx);
      }
      report.tables[table] = copied;
    }
  });
  return report;
}
