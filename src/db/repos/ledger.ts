/**
 * The append-only ledger: the chain head (locked for every append), batch inserts, and
 * the queries behind stock, balances, series, provided value, listings and receipts.
 *
 * A correction counts in the direction of the entry it corrects: its "effective kind" is
 * that entry's kind (a self-join on corrects_seq). All sums are numeric in SQL and come
 * back as decimal strings.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from "kysely";
import type { CounterpartyKind, Database, EntryKind, Fund } from "../schema.ts";
import { trimDecimal } from "./books.ts";
import type { EntryFacts } from "../../domain/books/entries.ts";

export const GENESIS = "0".repeat(64);

export interface HeadRecord {
  seq: number;
  hash: string;
  receipts: number;
}

/**
 * Locks the pod's chain head for the rest of the transaction, creating it at the genesis
 * when missing. Every append goes through this lock, so two writers never fork the chain.
 */
export async function lockHead(trx: Transaction<Database>, podId: string, now: Date): Promise<HeadRecord> {
  await trx
    .insertInto("ledger_heads")
    .values({ pod_id: podId, seq: 0, hash: GENESIS, receipts: 0, updated_at: now })
    .onConflict((oc) => oc.column("pod_id").doNothing())
    .execute();
  const row = await trx.selectFrom("ledger_heads").select(["seq", "hash", "receipts"]).where("pod_id", "=", podId).forUpdate().executeTakeFirstOrThrow();
  return { seq: Number(row.seq), hash: row.hash, receipts: Number(row.receipts) };
}

export async function updateHead(trx: Transaction<Database>, podId: string, head: HeadRecord, now: Date): Promise<void> {
  await trx
    .updateTable("ledger_heads")
    .set({ seq: head.seq, hash: head.hash, receipts: head.receipts, updated_at: now })
    .where("pod_id", "=", podId)
    .execute();
}

export async function getHead(db: Kysely<Database>, podId: string): Promise<HeadRecord | null> {
  const row = await db.selectFrom("ledger_heads").select(["seq", "hash", "receipts"]).where("pod_id", "=", podId).executeTakeFirst();
  return row ? { seq: Number(row.seq), hash: row.hash, receipts: Number(row.receipts) } : null;
}

export interface LedgerRow {
  podId: string;
  seq: number;
  id: string;
  kind: EntryKind;
  resourceId: string;
  resourceKey: string;
  unit: string;
  currency: string;
  quantity: string;
  fund: Fund | null;
  marketValue: string;
  charged: string;
  counterpartyKind: CounterpartyKind;
  memberId: string | null;
  counterparty: string | null;
  publicMemo: string;
  privateMemo: string;
  occurredAt: Date;
  recordedAt: Date;
  correctsSeq: number | null;
  receiptNumber: string | null;
  privateSalt: string;
  privateDigest: string;
  prevHash: string;
  hash: string;
  importId: string | null;
  /** The congress agreement a transfer fulfils. */
  agreementIri: string | null;
}

/** 27 columns a row: 500 rows stay well under the 65 535 parameters of one statement. */
const INSERT_BATCH = 500;

export async function insertEntries(trx: Transaction<Database>, rows: readonly LedgerRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    await trx
      .insertInto("ledger_entries")
      .values(
        rows.slice(i, i + INSERT_BATCH).map((r) => ({
          pod_id: r.podId,
          seq: r.seq,
          id: r.id,
          kind: r.kind,
          resource_id: r.resourceId,
          resource_key: r.resourceKey,
          unit: r.unit,
          currency: r.currency,
          quantity: r.quantity,
          fund: r.fund,
          market_value: r.marketValue,
          charged: r.charged,
          counterparty_kind: r.counterpartyKind,
          member_id: r.memberId,
          counterparty: r.counterparty,
          public_memo: r.publicMemo,
          private_memo: r.privateMemo,
          occurred_at: r.occurredAt,
          recorded_at: r.recordedAt,
          corrects_seq: r.correctsSeq,
          receipt_number: r.receiptNumber,
          private_salt: r.privateSalt,
          private_digest: r.privateDigest,
          prev_hash: r.prevHash,
          hash: r.hash,
          import_id: r.importId,
          agreement_iri: r.agreementIri,
        })),
      )
      .execute();
  }
}

export async function countEntries(db: Kysely<Database>, podId: string): Promise<number> {
  const row = await db.selectFrom("ledger_entries").select((eb) => eb.fn.countAll<string>().as("n")).where("pod_id", "=", podId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function resourceHasEntries(db: Kysely<Database>, resourceId: string): Promise<boolean> {
  const row = await db.selectFrom("ledger_entries").select("seq").where("resource_id", "=", resourceId).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** +1 when the entry (or the entry a correction corrects) brings something in, -1 when it takes out. */
const SIGN = sql<number>`(case when coalesce(t.kind, e.kind) in ('contribution', 'transfer_in') then 1 else -1 end)`;
const EFFECTIVE_KIND = sql<EntryKind>`coalesce(t.kind, e.kind)`;
/** Value taken out without being paid for: draws and transfers out (and their corrections). */
const RECLAIMED = sql<string>`coalesce(sum(case when coalesce(t.kind, e.kind) in ('draw', 'transfer_out') then e.market_value - e.charged else 0 end), 0)`;

function atOrBefore(at: Date | undefined): RawBuilder<unknown> {
  return at ? sql`and e.occurred_at <= ${at}` : sql``;
}

/** Adds each resource's stock change of an append (same transaction, under the head lock). */
export async function addStock(trx: Transaction<Database>, podId: string, changes: ReadonlyMap<string, string>): Promise<void> {
  if (changes.size === 0) return;
  await trx
    .insertInto("ledger_stock")
    .values([...changes].map(([resourceId, quantity]) => ({ pod_id: podId, resource_id: resourceId, quantity })))
    .onConflict((oc) => oc.columns(["pod_id", "resource_id"]).doUpdateSet({ quantity: sql`ledger_stock.quantity + excluded.quantity` }))
    .execute();
}

/** Stock per resource id (all entries, or those that occurred at or before `at`). */
export async function stockByResource(db: Kysely<Database>, podId: string, at?: Date, resourceIds?: readonly string[]): Promise<Map<string, string>> {
  if (resourceIds && resourceIds.length === 0) return new Map();
  if (!at) {
    // The running stock kept by every append.
    let query = db.selectFrom("ledger_stock").select(["resource_id", "quantity"]).where("pod_id", "=", podId);
    if (resourceIds) query = query.where("resource_id", "in", resourceIds);
    const rows = await query.execute();
    return new Map(rows.map((r) => [r.resource_id, trimDecimal(String(r.quantity))]));
  }
  const only = resourceIds ? sql`and e.resource_id in (${sql.join(resourceIds.map((id) => sql`${id}`))})` : sql``;
  const { rows } = await sql<{ resource_id: string; stock: string }>`
    select e.resource_id, sum(e.quantity * ${SIGN}) as stock
    from ledger_entries e
    left join ledger_entries t on t.pod_id = e.pod_id and t.seq = e.corrects_seq
    where e.pod_id = ${podId} ${atOrBefore(at)} ${only}
    group by e.resource_id`.execute(db);
  return new Map(rows.map((r) => [r.resource_id, trimDecimal(String(r.stock))]));
}

export interface FundFlowRow {
  fund: Fund;
  inflowValue: string;
  outflowValue: string;
  entries: number;
}

export async function fundFlows(db: Kysely<Database>, podId: string, at?: Date): Promise<FundFlowRow[]> {
  const { rows } = await sql<{ fund: Fund; inflow: string; outflow: string; n: string }>`
    select e.fund,
      coalesce(sum(case when ${SIGN} > 0 then e.market_value else 0 end), 0) as inflow,
      coalesce(sum(case when ${SIGN} < 0 then e.market_value else 0 end), 0) as outflow,
      count(*) as n
    from ledger_entries e
    left join ledger_entries t on t.pod_id = e.pod_id and t.seq = e.corrects_seq
    where e.pod_id = ${podId} and e.fund is not null ${atOrBefore(at)}
    group by e.fund`.execute(db);
  return rows.map((r) => ({ fund: r.fund, inflowValue: trimDecimal(String(r.inflow)), outflowValue: trimDecimal(String(r.outflow)), entries: Number(r.n) }));
}

export async function totals(db: Kysely<Database>, podId: string, at?: Date): Promise<{ valueReclaimed: string; entries: number }> {
  const { rows } = await sql<{ reclaimed: string; n: string }>`
    select ${RECLAIMED} as reclaimed, count(*) as n
    from ledger_entries e
    left join ledger_entries t on t.pod_id = e.pod_id and t.seq = e.corrects_seq
    where e.pod_id = ${podId} ${atOrBefore(at)}`.execute(db);
  return { valueReclaimed: trimDecimal(String(rows[0]!.reclaimed)), entries: Number(rows[0]!.n) };
}

export interface SeriesRow {
  start: Date;
  fund: Fund | null;
  reclaimed: string;
  outflow: string;
}

/** Per bucket (UTC week from Monday, or calendar month) and fund: value reclaimed and outflow value, for entries before `to`. */
export async function seriesRows(db: Kysely<Database>, podId: string, bucket: "week" | "month", to: Date): Promise<SeriesRow[]> {
  const unit = bucket === "week" ? sql.lit("week") : sql.lit("month");
  const { rows } = await sql<{ start: Date | string; fund: Fund | null; reclaimed: string; outflow: string }>`
    select (date_trunc(${unit}, e.occurred_at at time zone 'UTC') at time zone 'UTC') as start, e.fund,
      ${RECLAIMED} as reclaimed,
      coalesce(sum(case when ${SIGN} < 0 then e.market_value else 0 end), 0) as outflow
    from ledger_entries e
    left join ledger_entries t on t.pod_id = e.pod_id and t.seq = e.corrects_seq
    where e.pod_id = ${podId} and e.occurred_at < ${to}
    group by 1, 2
    order by 1`.execute(db);
  return rows.map((r) => ({ start: new Date(r.start), fund: r.fund, reclaimed: trimDecimal(String(r.reclaimed)), outflow: trimDecimal(String(r.outflow)) }));
}

export interface ProvidedRow {
  resourceKey: string;
  name: string;
  unit: string;
  category: string;
  quantity: string;
  value: string;
}

/** Net quantity and market value of what went out to people and pods (draws, transfers out and their corrections) in [from, to). */
export async function providedRows(db: Kysely<Database>, podId: string, from: Date, to: Date): Promise<ProvidedRow[]> {
  const { rows } = await sql<{ key: string; name: string; unit: string; category: string; quantity: string; value: string }>`
    select r.key, r.name, r.unit, r.category, sum(e.quantity) as quantity, sum(e.market_value) as value
    from ledger_entries e
    left join ledger_entries t on t.pod_id = e.pod_id and t.seq = e.corrects_seq
    join book_resources r on r.id = e.resource_id
    where e.pod_id = ${podId} and ${EFFECTIVE_KIND} in ('draw', 'transfer_out')
      and e.occurred_at >= ${from} and e.occurred_at < ${to}
    group by r.key, r.name, r.unit, r.category
    order by r.category, r.key`.execute(db);
  return rows.map((r) => ({
    resourceKey: r.key,
    name: r.name,
    unit: r.unit,
    category: r.category,
    quantity: trimDecimal(String(r.quantity)),
    value: trimDecimal(String(r.value)),
  }));
}

export async function entryFacts(db: Kysely<Database>, podId: string, seqs?: readonly number[]): Promise<EntryFacts[]> {
  if (seqs && seqs.length === 0) return [];
  const only = seqs ? sql`and e.seq in (${sql.join(seqs.map((s) => sql`${s}`))})` : sql`and e.kind <> 'correction'`;
  const { rows } = await sql<{
    seq: string;
    kind: EntryKind;
    resource_id: string;
    fund: Fund | null;
    counterparty_kind: CounterpartyKind;
    member_id: string | null;
    counterparty: string | null;
    quantity: string;
    market_value: string;
    charged: string;
    corrected: string | null;
  }>`
    select e.seq, e.kind, e.resource_id, e.fund, e.counterparty_kind, e.member_id, e.counterparty, e.quantity, e.market_value, e.charged,
      c.corrected
    from ledger_entries e
    left join (
      select corrects_seq, sum(quantity) as corrected from ledger_entries
      where pod_id = ${podId} and corrects_seq is not null group by corrects_seq
    ) c on c.corrects_seq = e.seq
    where e.pod_id = ${podId} ${only}
    order by e.seq`.execute(db);
  return rows.map((r) => ({
    seq: Number(r.seq),
    kind: r.kind,
    resourceId: r.resource_id,
    fund: r.fund,
    counterpartyKind: r.counterparty_kind,
    memberId: r.member_id,
    counterparty: r.counterparty,
    quantity: trimDecimal(String(r.quantity)),
    marketValue: trimDecimal(String(r.market_value)),
    charged: trimDecimal(String(r.charged)),
    corrected: r.corrected === null ? "0" : trimDecimal(String(r.corrected)),
  }));
}

/** A stored entry with the resource's current name and the member's pseudonym. */
export interface StoredEntry extends LedgerRow {
  resourceName: string;
  member: string | null;
}

function baseQuery(db: Kysely<Database>, podId: string) {
  return db
    .selectFrom("ledger_entries as e")
    .innerJoin("book_resources as r", "r.id", "e.resource_id")
    .leftJoin("book_members as m", "m.id", "e.member_id")
    .selectAll("e")
    .select(["r.name as resource_name", "m.pseudonym as member_pseudonym"])
    .where("e.pod_id", "=", podId);
}

type StoredRow = Awaited<ReturnType<ReturnType<typeof baseQuery>["execute"]>>[number];

function storedFromRow(r: StoredRow): StoredEntry {
  return {
    podId: r.pod_id,
    seq: Number(r.seq),
    id: r.id,
    kind: r.kind,
    resourceId: r.resource_id,
    resourceKey: r.resource_key,
    unit: r.unit,
    currency: r.currency,
    quantity: trimDecimal(r.quantity),
    fund: r.fund,
    marketValue: trimDecimal(r.market_value),
    charged: trimDecimal(r.charged),
    counterpartyKind: r.counterparty_kind,
    memberId: r.member_id,
    counterparty: r.counterparty,
    publicMemo: r.public_memo,
    privateMemo: r.private_memo,
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
    correctsSeq: r.corrects_seq === null ? null : Number(r.corrects_seq),
    receiptNumber: r.receipt_number,
    privateSalt: r.private_salt,
    privateDigest: r.private_digest,
    prevHash: r.prev_hash,
    hash: r.hash,
    importId: r.import_id,
    agreementIri: r.agreement_iri,
    resourceName: r.resource_name,
    member: r.member_pseudonym,
  };
}

/** Entries with seq > afterSeq, in seq order, at most `limit`. */
export async function listEntriesAfter(db: Kysely<Database>, podId: string, afterSeq: number, limit: number): Promise<StoredEntry[]> {
  // The page is cut from ledger_entries alone (a primary-key range scan), then joined: a
  // join before the limit made the planner join every remaining row for each page.
  const rows = await db
    .selectFrom((eb) =>
      eb
        .selectFrom("ledger_entries")
        .selectAll()
        .where("pod_id", "=", podId)
        .where("seq", ">", String(afterSeq))
        .orderBy("seq")
        .limit(limit)
        .as("e"),
    )
    .innerJoin("book_resources as r", "r.id", "e.resource_id")
    .leftJoin("book_members as m", "m.id", "e.member_id")
    .selectAll("e")
    .select(["r.name as resource_name", "m.pseudonym as member_pseudonym"])
    .orderBy("e.seq")
    .execute();
  return rows.map(storedFromRow);
}

export async function getEntriesBySeq(db: Kysely<Database>, podId: string, first: number, last: number): Promise<StoredEntry[]> {
  const rows = await baseQuery(db, podId).where("e.seq", ">=", String(first)).where("e.seq", "<=", String(last)).orderBy("e.seq").execute();
  return rows.map(storedFromRow);
}

export async function getEntryByReceipt(db: Kysely<Database>, podId: string, number: string): Promise<StoredEntry | null> {
  const row = await baseQuery(db, podId).where("e.receipt_number", "=", number).executeTakeFirst();
  return row ? storedFromRow(row) : null;
}

/** What verification reads of an entry: the hashed fields as text, the private part, the hashes. */
export interface ChainRow {
  seq: number;
  id: string;
  kind: EntryKind;
  resourceKey: string;
  unit: string;
  quantity: string;
  fund: Fund | null;
  marketValue: string;
  charged: string;
  currency: string;
  counterpartyKind: CounterpartyKind;
  counterparty: string | null;
  publicMemo: string;
  /** ISO 8601 UTC with milliseconds, formatted by the database (no Date round trip). */
  occurredAt: string;
  recordedAt: string;
  correctsSeq: number | null;
  privateDigest: string;
  privateSalt: string;
  member: string | null;
  privateMemo: string;
  receiptNumber: string | null;
  prevHash: string;
  hash: string;
  agreementIri: string | null;
}

const ISO_MS = sql.lit('YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

/**
 * Entries with afterSeq < seq <= throughSeq, in seq order: only the columns the chain and
 * the private digests need, timestamps already as ISO text. Ranges by seq (not "the next
 * n") let a verifier fetch the next range while it hashes this one.
 */
export async function chainRowsInRange(db: Kysely<Database>, podId: string, afterSeq: number, throughSeq: number): Promise<ChainRow[]> {
  const { rows } = await sql<{
    seq: string;
    id: string;
    kind: EntryKind;
    resource_key: string;
    unit: string;
    quantity: string;
    fund: Fund | null;
    market_value: string;
    charged: string;
    currency: string;
    counterparty_kind: CounterpartyKind;
    counterparty: string | null;
    public_memo: string;
    occurred: string;
    recorded: string;
    corrects_seq: string | null;
    private_digest: string;
    private_salt: string;
    pseudonym: string | null;
    private_memo: string;
    receipt_number: string | null;
    prev_hash: string;
    hash: string;
    agreement_iri: string | null;
  }>`
    select e.seq, e.id, e.kind, e.resource_key, e.unit, e.quantity, e.fund, e.market_value, e.charged, e.currency,
      e.counterparty_kind, e.counterparty, e.public_memo,
      to_char(e.occurred_at at time zone 'UTC', ${ISO_MS}) as occurred,
      to_char(e.recorded_at at time zone 'UTC', ${ISO_MS}) as recorded,
      e.corrects_seq, e.private_digest, e.private_salt, m.pseudonym, e.private_memo, e.receipt_number, e.prev_hash, e.hash, e.agreement_iri
    from ledger_entries e
    left join book_members m on m.id = e.member_id
    where e.pod_id = ${podId} and e.seq > ${afterSeq} and e.seq <= ${throughSeq}
    order by e.seq`.execute(db);
  return rows.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    kind: r.kind,
    resourceKey: r.resource_key,
    unit: r.unit,
    quantity: trimDecimal(r.quantity),
    fund: r.fund,
    marketValue: trimDecimal(r.market_value),
    charged: trimDecimal(r.charged),
    currency: r.currency,
    counterpartyKind: r.counterparty_kind,
    counterparty: r.counterparty,
    publicMemo: r.public_memo,
    occurredAt: r.occurred,
    recordedAt: r.recorded,
    correctsSeq: r.corrects_seq === null ? null : Number(r.corrects_seq),
    privateDigest: r.private_digest,
    privateSalt: r.private_salt,
    member: r.pseudonym,
    privateMemo: r.private_memo,
    receiptNumber: r.receipt_number,
    prevHash: r.prev_hash,
    hash: r.hash,
    agreementIri: r.agreement_iri,
  }));
}
