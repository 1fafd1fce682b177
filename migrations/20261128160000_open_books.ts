// Open books: a per-pod catalogue of resources, a register of members under pseudonymous
// ids, an append-only hash-chained ledger, sovereignty indicators, period summaries, and
// copies of the summaries of pods we follow. See docs/open-books.md.
import { type Kysely, sql } from "kysely";

const QUANTITY = "numeric(24, 6)";
const MONEY = "numeric(24, 2)";
const ISO_DATE = sql`~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`;

export async function up(db: Kysely<any>): Promise<void> {
  // Per-pod settings of the books; a pod without a row uses the defaults.
  await db.schema
    .createTable("book_settings")
    .addColumn("pod_id", "uuid", (c) => c.primaryKey().references("pods.id").onDelete("cascade"))
    // ISO 4217 code of the pod's currency (market reference prices and values).
    .addColumn("currency", "text", (c) => c.notNull().defaultTo("EUR").check(sql`currency ~ '^[A-Z]{3}$'`))
    // Whether a draw may take more than the stock the books show.
    .addColumn("allow_overdraw", "boolean", (c) => c.notNull().defaultTo(false))
    // Period kinds closed and published automatically: a JSON array of week|lunar|month.
    .addColumn("auto_periods", "jsonb", (c) => c.notNull().defaultTo(sql`'["week"]'::jsonb`))
    // Who the "what the city would have charged us" invoice is addressed to.
    .addColumn("invoice_addressee", "text")
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("book_resources")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    // Short public key used in commands, CSV files and the public export (e.g. `squash`).
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    // An OM2 unit id (kilogram, kilowattHour, hour, litre, one…) or an ISO 4217 currency code.
    .addColumn("unit", "text", (c) => c.notNull())
    // One of the charter's service categories.
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("specification_uri", "text")
    // Market reference price per unit in the pod's currency, with where and when it was seen.
    .addColumn("reference_price", sql.raw(QUANTITY), (c) => c.check(sql`reference_price >= 0`))
    .addColumn("reference_price_source", "text")
    .addColumn("reference_price_on", "text", (c) => c.check(sql`reference_price_on ${ISO_DATE}`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("book_resources_pod_key_unique", ["pod_id", "key"])
    .execute();

  // Members: only the pseudonym ever leaves the steward side; name and contact never do.
  await db.schema
    .createTable("book_members")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("pseudonym", "text", (c) => c.notNull().check(sql`pseudonym ~ '^m-[0-9a-f]{4,12}$'`))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("contact", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("book_members_pod_pseudonym_unique", ["pod_id", "pseudonym"])
    .execute();

  // One row per CSV file imported, so the same file is never imported twice.
  await db.schema
    .createTable("ledger_imports")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("file_sha256", "text", (c) => c.notNull())
    .addColumn("rows", "integer", (c) => c.notNull())
    .addColumn("first_seq", "bigint")
    .addColumn("last_seq", "bigint")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("ledger_imports_pod_file_unique", ["pod_id", "file_sha256"])
    .execute();

  // The append-only ledger. `hash` chains every entry to the one before it (see
  // docs/open-books.md); private fields enter it only through `private_digest`.
  await db.schema
    .createTable("ledger_entries")
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("seq", "bigint", (c) => c.notNull().check(sql`seq > 0`))
    .addColumn("id", "uuid", (c) => c.notNull().unique())
    .addColumn("kind", "text", (c) =>
      c.notNull().check(sql`kind in ('contribution', 'draw', 'expenditure', 'transfer_out', 'transfer_in', 'correction')`),
    )
    .addColumn("resource_id", "uuid", (c) => c.notNull().references("book_resources.id"))
    // Resource key, unit and currency as they were when recorded (they enter the hash).
    .addColumn("resource_key", "text", (c) => c.notNull())
    .addColumn("unit", "text", (c) => c.notNull())
    .addColumn("currency", "text", (c) => c.notNull())
    // Positive, except a correction's signed delta (never zero).
    .addColumn("quantity", sql.raw(QUANTITY), (c) => c.notNull())
    .addColumn("fund", "text", (c) => c.check(sql`fund in ('survival', 'capacity_building', 'power_shifting')`))
    .addColumn("market_value", sql.raw(MONEY), (c) => c.notNull())
    .addColumn("charged", sql.raw(MONEY), (c) => c.notNull())
    .addColumn("counterparty_kind", "text", (c) => c.notNull().check(sql`counterparty_kind in ('member', 'pod', 'outside', 'none')`))
    // Private: which member (only its salted digest is public).
    .addColumn("member_id", "uuid", (c) => c.references("book_members.id"))
    // Public: another pod's actor URI, or an outside label.
    .addColumn("counterparty", "text")
    .addColumn("public_memo", "text", (c) => c.notNull())
    .addColumn("private_memo", "text", (c) => c.notNull())
    .addColumn("occurred_at", "timestamptz", (c) => c.notNull())
    .addColumn("recorded_at", "timestamptz", (c) => c.notNull())
    .addColumn("corrects_seq", "bigint")
    // Private: the commons receipt of a draw (looked up by its holder).
    .addColumn("receipt_number", "text")
    .addColumn("private_salt", "text", (c) => c.notNull())
    .addColumn("private_digest", "text", (c) => c.notNull().check(sql`private_digest ~ '^[0-9a-f]{64}$'`))
    .addColumn("prev_hash", "text", (c) => c.notNull().check(sql`prev_hash ~ '^[0-9a-f]{64}$'`))
    .addColumn("hash", "text", (c) => c.notNull().check(sql`hash ~ '^[0-9a-f]{64}$'`))
    .addColumn("import_id", "uuid", (c) => c.references("ledger_imports.id"))
    .addPrimaryKeyConstraint("ledger_entries_pkey", ["pod_id", "seq"])
    .addUniqueConstraint("ledger_entries_pod_receipt_unique", ["pod_id", "receipt_number"])
    .addForeignKeyConstraint("ledger_entries_corrects_fkey", ["pod_id", "corrects_seq"], "ledger_entries", ["pod_id", "seq"])
    .addCheckConstraint("ledger_entries_quantity_sign", sql`(kind = 'correction' and quantity <> 0) or quantity > 0`)
    .addCheckConstraint("ledger_entries_correction_target", sql`(kind = 'correction') = (corrects_seq is not null)`)
    .addCheckConstraint("ledger_entries_outflow_fund", sql`kind not in ('draw', 'expenditure', 'transfer_out') or fund is not null`)
    .addCheckConstraint("ledger_entries_member", sql`(counterparty_kind = 'member') = (member_id is not null)`)
    .execute();
  await db.schema.createIndex("ledger_entries_pod_recorded_idx").on("ledger_entries").columns(["pod_id", "recorded_at"]).execute();
  await db.schema.createIndex("ledger_entries_pod_occurred_idx").on("ledger_entries").columns(["pod_id", "occurred_at"]).execute();
  await db.schema.createIndex("ledger_entries_pod_resource_idx").on("ledger_entries").columns(["pod_id", "resource_id", "occurred_at"]).execute();

  // The database refuses to rewrite the books, row by row and wholesale.
  await sql`
    create trigger ledger_entries_append_only before update or delete on ledger_entries
    for each row execute function hyphae_refuse_rewrite()`.execute(db);
  await sql`
    create trigger ledger_entries_no_truncate before truncate on ledger_entries
    for each statement execute function hyphae_refuse_rewrite()`.execute(db);

  // Each pod's chain head, locked for every append so concurrent appends never fork it.
  await db.schema
    .createTable("ledger_heads")
    .addColumn("pod_id", "uuid", (c) => c.primaryKey().references("pods.id"))
    .addColumn("seq", "bigint", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("receipts", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();

  // Sovereignty indicators: derived from the ledger (a resource and an entry kind) or
  // counted by stewards as dated counts.
  await db.schema
    .createTable("book_indicators")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull().check(sql`source in ('ledger', 'count')`))
    .addColumn("resource_id", "uuid", (c) => c.references("book_resources.id"))
    .addColumn("entry_kind", "text", (c) =>
      c.check(sql`entry_kind in ('contribution', 'draw', 'expenditure', 'transfer_out', 'transfer_in')`),
    )
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("book_indicators_pod_key_unique", ["pod_id", "key"])
    .addCheckConstraint(
      "book_indicators_source_fields",
      sql`(source = 'ledger') = (resource_id is not null and entry_kind is not null)`,
    )
    .execute();

  await db.schema
    .createTable("book_indicator_counts")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("indicator_id", "uuid", (c) => c.notNull().references("book_indicators.id"))
    .addColumn("counted_on", "text", (c) => c.notNull().check(sql`counted_on ${ISO_DATE}`))
    .addColumn("count", sql.raw(QUANTITY), (c) => c.notNull().check(sql`count >= 0`))
    .addColumn("public_note", "text", (c) => c.notNull())
    .addColumn("recorded_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("book_indicator_counts_idx").on("book_indicator_counts").columns(["indicator_id", "counted_on"]).execute();
  await sql`
    create trigger book_indicator_counts_append_only before update or delete on book_indicator_counts
    for each row execute function hyphae_refuse_rewrite()`.execute(db);

  // Published period summaries. A period is published again only when what it covers
  // changed; each version is kept.
  await db.schema
    .createTable("book_summaries")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("period_kind", "text", (c) => c.notNull().check(sql`period_kind in ('week', 'lunar', 'month')`))
    .addColumn("period_start", "timestamptz", (c) => c.notNull())
    .addColumn("period_end", "timestamptz", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull().check(sql`version > 0`))
    // The chain head at period end: its length and hash.
    .addColumn("head_seq", "bigint", (c) => c.notNull())
    .addColumn("head_hash", "text", (c) => c.notNull())
    .addColumn("entry_count", "integer", (c) => c.notNull())
    // The whole summary as published (totals, value reclaimed, indicators, participants).
    .addColumn("content", "jsonb", (c) => c.notNull())
    // SHA-256 of the content's canonical JSON: equal digests, equal summaries.
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("published_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("book_summaries_period_version_unique", ["pod_id", "period_kind", "period_start", "version"])
    .execute();
  await db.schema.createIndex("book_summaries_pod_published_idx").on("book_summaries").columns(["pod_id", "published_at"]).execute();
  await sql`
    create trigger book_summaries_append_only before update or delete on book_summaries
    for each row execute function hyphae_refuse_rewrite()`.execute(db);

  // Summaries received from pods we follow. Every different version is kept; a period
  // that arrives again with another head or other totals is flagged.
  await db.schema
    .createTable("remote_summaries")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("actor_iri", "text", (c) => c.notNull().references("remote_actors.iri"))
    .addColumn("object_iri", "text", (c) => c.notNull())
    .addColumn("period_kind", "text", (c) => c.notNull())
    .addColumn("period_start", "timestamptz", (c) => c.notNull())
    .addColumn("period_end", "timestamptz", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("head_seq", "bigint", (c) => c.notNull())
    .addColumn("head_hash", "text", (c) => c.notNull())
    .addColumn("content", "jsonb", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    // "Books changed after publication": another copy of this period differs from this one.
    .addColumn("changed_after_publication", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("received_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("remote_summaries_copy_unique", ["actor_iri", "period_kind", "period_start", "digest"])
    .execute();
  await db.schema
    .createIndex("remote_summaries_actor_idx")
    .on("remote_summaries")
    .columns(["actor_iri", "period_start"])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "remote_summaries",
    "book_summaries",
    "book_indicator_counts",
    "book_indicators",
    "ledger_heads",
    "ledger_entries",
    "ledger_imports",
    "book_members",
    "book_resources",
    "book_settings",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
