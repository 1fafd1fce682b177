/**
 * Period summaries and sovereignty indicators: the SQL that sums a period of the ledger,
 * the published summaries (append-only, one row per version), indicators and their dated
 * counts, and the copies of followed pods' summaries.
 *
 * A period covers the entries RECORDED in [start, end) (index ledger_entries
 * (pod_id, recorded_at, seq)). A correction counts under the kind of the entry it
 * corrects (its fund and resource are the corrected entry's), so totals are net.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../schema.ts";
import type { FlowKind, PeriodAggregate, TotalsCellInput } from "../../domain/books/summary.ts";
import type { Fund, PeriodKind } from "../../domain/books/model.ts";
import { GENESIS_HASH } from "../../domain/books/chain.ts";

type Db = Kysely<Database> | Transaction<Database>;

// ---------------------------------------------------------------------------------------
// Settings and pods

export interface SummarySettings {
  currency: string;
  autoPeriods: PeriodKind[];
}

const DEFAULT_SETTINGS: SummarySettings = { currency: "EUR", autoPeriods: ["week"] };

export async function getSummarySettings(db: Db, podId: string): Promise<SummarySettings> {
  const row = await db.selectFrom("book_settings").select(["currency", "auto_periods"]).where("pod_id", "=", podId).executeTakeFirst();
  if (!row) return DEFAULT_SETTINGS;
  return { currency: row.currency, autoPeriods: Array.isArray(row.auto_periods) ? row.auto_periods : DEFAULT_SETTINGS.autoPeriods };
}

export interface AutoCloseCandidate {
  podId: string;
  slug: string;
  autoPeriods: PeriodKind[];
  /** When the pod's earliest-recorded entry was recorded. */
  firstRecordedAt: Date;
}

/** Active pods that have at least one ledger entry, with the periods they close automatically. */
export async function listAutoCloseCandidates(db: Db): Promise<AutoCloseCandidate[]> {
  const rows = await sql<{ id: string; slug: string; auto_periods: PeriodKind[] | null; first_recorded_at: Date | string }>`
    select p.id, p.slug, s.auto_periods, f.recorded_at as first_recorded_at
    from pods p
    left join book_settings s on s.pod_id = p.id
    cross join lateral (
      select e.recorded_at from ledger_entries e where e.pod_id = p.id order by e.recorded_at limit 1
    ) f
    where p.retired_at is null
    order by p.created_at`.execute(db);
  return rows.rows.map((r) => ({
    podId: r.id,
    slug: r.slug,
    autoPeriods: Array.isArray(r.auto_periods) ? r.auto_periods : DEFAULT_SETTINGS.autoPeriods,
    firstRecordedAt: new Date(r.first_recorded_at),
  }));
}

// ---------------------------------------------------------------------------------------
// Aggregation of a period

/** The entry kind a row counts under: a correction under the kind of the entry it corrects. */
const FLOW_KIND = sql`coalesce(c.kind, e.kind)`;
const RECLAIMING = sql`${FLOW_KIND} in ('draw', 'transfer_out')`;

/** The chain head at `end`: the last entry recorded before it, or (0, genesis) when none was. */
export async function headBefore(db: Db, podId: string, end: Date): Promise<{ seq: number; hash: string }> {
  const row = await db
    .selectFrom("ledger_entries")
    .select(["seq", "hash"])
    .where("pod_id", "=", podId)
    .where("recorded_at", "<", end)
    .orderBy("recorded_at", "desc")
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

/** Sums the entries recorded in [start, end): totals per resource × unit × kind × fund, and the period's counts. */
export async function aggregatePeriod(db: Db, podId: string, start: Date, end: Date): Promise<Omit<PeriodAggregate, "currency">> {
  const range = sql`e.pod_id = ${podId} and e.recorded_at >= ${start} and e.recorded_at < ${end}`;
  const from = sql`ledger_entries e left join ledger_entries c on c.pod_id = e.pod_id and c.seq = e.corrects_seq`;
  // One after the other: `db` may be a transaction (one connection).
  const cells = await sql<{ resource: string; name: string; unit: string; kind: FlowKind; fund: Fund | null; quantity: string; market_value: string; members: number }>`
      select e.resource_key as resource, r.name, e.unit, ${FLOW_KIND} as kind, e.fund,
        sum(e.quantity)::text as quantity, sum(e.market_value)::text as market_value,
        count(distinct e.member_id)::int as members
      from ${from} join book_resources r on r.id = e.resource_id
      where ${range}
      group by e.resource_key, r.name, e.unit, ${FLOW_KIND}, e.fund`.execute(db);
  const stats = await sql<{ entries: number; late: number; participants: number; first_seq: string | null; reclaimed: string; reclaimed_members: number }>`
      select count(*)::int as entries,
        (count(*) filter (where e.occurred_at < ${start}))::int as late,
        count(distinct e.member_id)::int as participants,
        min(e.seq)::text as first_seq,
        coalesce(sum(e.market_value - e.charged) filter (where ${RECLAIMING}), 0)::text as reclaimed,
        (count(distinct e.member_id) filter (where ${RECLAIMING}))::int as reclaimed_members
      from ${from}
      where ${range}`.execute(db);
  const head = await headBefore(db, podId, end);
  const s = stats.rows[0]!;
  return {
    entries: s.entries,
    lateEntries: s.late,
    participants: s.participants,
    firstSeq: s.first_seq === null ? null : Number(s.first_seq),
    headSeq: head.seq,
    headHash: head.hash,
    cells: cells.rows.map(
      (r): TotalsCellInput => ({
        resource: r.resource,
        name: r.name,
        unit: r.unit,
        kind: r.kind,
        fund: r.fund,
        quantity: r.quantity,
        marketValue: r.market_value,
        members: r.members,
      }),
    ),
    valueReclaimed: { value: s.reclaimed, members: s.reclaimed_members },
  };
}

// ---------------------------------------------------------------------------------------
// Published summaries

export interface SummaryRecord {
  id: string;
  podId: string;
  periodKind: PeriodKind;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  headSeq: number;
  headHash: string;
  entryCount: number;
  content: Record<string, unknown>;
  digest: string;
  publishedAt: Date;
}

type SummaryRow = {
  id: string;
  pod_id: string;
  period_kind: PeriodKind;
  period_start: Date;
  period_end: Date;
  version: number;
  head_seq: string;
  head_hash: string;
  entry_count: number;
  content: Record<string, unknown>;
  digest: string;
  published_at: Date;
};

const summaryFromRow = (r: SummaryRow): SummaryRecord => ({
  id: r.id,
  podId: r.pod_id,
  periodKind: r.period_kind,
  periodStart: new Date(r.period_start),
  periodEnd: new Date(r.period_end),
  version: r.version,
  headSeq: Number(r.head_seq),
  headHash: r.head_hash,
  entryCount: r.entry_count,
  content: r.content,
  digest: r.digest,
  publishedAt: new Date(r.published_at),
});

/** The latest version of a period's summary, or a given version. */
export async function getSummaryRecord(db: Db, podId: string, kind: PeriodKind, start: Date, version?: number): Promise<SummaryRecord | null> {
  let q = db.selectFrom("book_summaries").selectAll().where("pod_id", "=", podId).where("period_kind", "=", kind).where("period_start", "=", start);
  q = version === undefined ? q.orderBy("version", "desc").limit(1) : q.where("version", "=", version);
  const row = await q.executeTakeFirst();
  return row ? summaryFromRow(row as SummaryRow) : null;
}

export async function getSummaryRecordById(db: Db, podId: string, id: string): Promise<SummaryRecord | null> {
  const row = await db.selectFrom("book_summaries").selectAll().where("pod_id", "=", podId).where("id", "=", id).executeTakeFirst();
  return row ? summaryFromRow(row as SummaryRow) : null;
}

/** The first publication of a period (its `published` date on the fediverse). */
export async function firstPublishedAt(db: Db, podId: string, kind: PeriodKind, start: Date): Promise<Date | null> {
  const row = await db
    .selectFrom("book_summaries")
    .select("published_at")
    .where("pod_id", "=", podId)
    .where("period_kind", "=", kind)
    .where("period_start", "=", start)
    .where("version", "=", 1)
    .executeTakeFirst();
  return row ? new Date(row.published_at) : null;
}

/** Inserts a version unless that (pod, kind, start, version) exists: true when this call inserted it. */
export async function insertSummaryIfAbsent(trx: Db, record: SummaryRecord): Promise<boolean> {
  const result = await trx
    .insertInto("book_summaries")
    .values({
      id: record.id,
      pod_id: record.podId,
      period_kind: record.periodKind,
      period_start: record.periodStart,
      period_end: record.periodEnd,
      version: record.version,
      head_seq: record.headSeq,
      head_hash: record.headHash,
      entry_count: record.entryCount,
      content: JSON.stringify(record.content),
      digest: record.digest,
      published_at: record.publishedAt,
    })
    .onConflict((oc) => oc.columns(["pod_id", "period_kind", "period_start", "version"]).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The latest version of each period's summary, newest period first. */
export async function listLatestSummaries(db: Db, podId: string, limit: number): Promise<SummaryRecord[]> {
  const rows = await sql<SummaryRow>`
    select * from (
      select distinct on (period_kind, period_start) *
      from book_summaries where pod_id = ${podId}
      order by period_kind, period_start, version desc
    ) latest
    order by period_start desc, period_kind
    limit ${limit}`.execute(db);
  return rows.rows.map(summaryFromRow);
}

// ---------------------------------------------------------------------------------------
// Indicators

export interface IndicatorRecord {
  id: string;
  podId: string;
  key: string;
  name: string;
  description: string;
  source: "ledger" | "count";
  resourceId: string | null;
  /** The resource's key (ledger indicators). */
  resource: string | null;
  entryKind: FlowKind | null;
  createdAt: Date;
}

export async function listIndicatorRecords(db: Db, podId: string): Promise<IndicatorRecord[]> {
  const rows = await db
    .selectFrom("book_indicators as i")
    .leftJoin("book_resources as r", "r.id", "i.resource_id")
    .select(["i.id", "i.pod_id", "i.key", "i.name", "i.description", "i.source", "i.resource_id", "r.key as resource", "i.entry_kind", "i.created_at"])
    .where("i.pod_id", "=", podId)
    .orderBy("i.key")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    podId: r.pod_id,
    key: r.key,
    name: r.name,
    description: r.description,
    source: r.source,
    resourceId: r.resource_id,
    resource: r.resource,
    entryKind: r.entry_kind,
    createdAt: new Date(r.created_at),
  }));
}

export async function getIndicatorRecord(db: Db, podId: string, key: string): Promise<IndicatorRecord | null> {
  return (await listIndicatorRecords(db, podId)).find((i) => i.key === key) ?? null;
}

export async function findResourceId(db: Db, podId: string, key: string): Promise<string | null> {
  const row = await db.selectFrom("book_resources").select("id").where("pod_id", "=", podId).where("key", "=", key).executeTakeFirst();
  return row?.id ?? null;
}

/** Inserts an indicator; false when the pod already has one with that key. */
export async function insertIndicator(db: Db, record: Omit<IndicatorRecord, "resource">): Promise<boolean> {
  const result = await db
    .insertInto("book_indicators")
    .values({
      id: record.id,
      pod_id: record.podId,
      key: record.key,
      name: record.name,
      description: record.description,
      source: record.source,
      resource_id: record.resourceId,
      entry_kind: record.entryKind,
      created_at: record.createdAt,
    })
    .onConflict((oc) => oc.columns(["pod_id", "key"]).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export interface IndicatorCountRecord {
  id: string;
  podId: string;
  indicatorId: string;
  countedOn: string;
  count: string;
  publicNote: string;
  recordedAt: Date;
}

export async function insertIndicatorCount(db: Db, record: IndicatorCountRecord): Promise<void> {
  await db
    .insertInto("book_indicator_counts")
    .values({
      id: record.id,
      pod_id: record.podId,
      indicator_id: record.indicatorId,
      counted_on: record.countedOn,
      count: record.count,
      public_note: record.publicNote,
      recorded_at: record.recordedAt,
    })
    .execute();
}

export async function listIndicatorCounts(db: Db, indicatorId: string, limit: number): Promise<IndicatorCountRecord[]> {
  const rows = await db
    .selectFrom("book_indicator_counts")
    .selectAll()
    .where("indicator_id", "=", indicatorId)
    .orderBy("counted_on", "desc")
    .orderBy("recorded_at", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    podId: r.pod_id,
    indicatorId: r.indicator_id,
    countedOn: r.counted_on,
    count: r.count,
    publicNote: r.public_note,
    recordedAt: new Date(r.recorded_at),
  }));
}

/**
 * For each ledger indicator (resource + kind): the quantity of its entries recorded in
 * [start, end) (corrections of such entries included) and how many distinct members they name.
 */
export async function sumLedgerIndicators(db: Db, podId: string, start: Date, end: Date): Promise<Map<string, { quantity: string; members: number }>> {
  const rows = await sql<{ id: string; quantity: string; members: number }>`
    select i.id, coalesce(sum(e.quantity), 0)::text as quantity, count(distinct e.member_id)::int as members
    from book_indicators i
    left join (
      ledger_entries e left join ledger_entries c on c.pod_id = e.pod_id and c.seq = e.corrects_seq
    ) on e.pod_id = i.pod_id and e.resource_id = i.resource_id and coalesce(c.kind, e.kind) = i.entry_kind
      and e.recorded_at >= ${start} and e.recorded_at < ${end}
    where i.pod_id = ${podId} and i.source = 'ledger'
    group by i.id`.execute(db);
  return new Map(rows.rows.map((r) => [r.id, { quantity: r.quantity, members: r.members }]));
}

/** For each counted indicator: the sum of its counts dated in [fromDate, toDate) and their public notes (oldest first). */
export async function sumCountedIndicators(
  db: Db,
  podId: string,
  fromDate: string,
  toDate: string,
): Promise<Map<string, { count: string; notes: string[] }>> {
  const rows = await sql<{ id: string; total: string; notes: string[] | null }>`
    select i.id, coalesce(sum(n.count), 0)::text as total,
      array_agg(n.public_note order by n.counted_on, n.recorded_at) filter (where n.public_note <> '') as notes
    from book_indicators i
    left join book_indicator_counts n on n.indicator_id = i.id and n.counted_on >= ${fromDate} and n.counted_on < ${toDate}
    where i.pod_id = ${podId} and i.source = 'count'
    group by i.id`.execute(db);
  return new Map(rows.rows.map((r) => [r.id, { count: r.total, notes: r.notes ?? [] }]));
}

// ---------------------------------------------------------------------------------------
// Copies of followed pods' summaries

export interface RemoteSummaryInput {
  id: string;
  actorIri: string;
  objectIri: string;
  periodKind: PeriodKind;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  headSeq: number;
  headHash: string;
  content: Record<string, unknown>;
  digest: string;
  receivedAt: Date;
}

/**
 * Locks the remote actor's row for the rest of the transaction, so copies of one actor's
 * summaries are stored one at a time (two different copies arriving at once both see each other).
 */
export async function lockRemoteActor(trx: Transaction<Database>, actorIri: string): Promise<boolean> {
  const row = await trx.selectFrom("remote_actors").select("iri").where("iri", "=", actorIri).forUpdate().executeTakeFirst();
  return row !== undefined;
}

/** Stores a copy unless the same copy (actor, period, digest) is held: true when stored. */
export async function insertRemoteSummaryIfNew(trx: Db, input: RemoteSummaryInput): Promise<boolean> {
  const result = await trx
    .insertInto("remote_summaries")
    .values({
      id: input.id,
      actor_iri: input.actorIri,
      object_iri: input.objectIri,
      period_kind: input.periodKind,
      period_start: input.periodStart,
      period_end: input.periodEnd,
      version: input.version,
      head_seq: input.headSeq,
      head_hash: input.headHash,
      content: JSON.stringify(input.content),
      digest: input.digest,
      received_at: input.receivedAt,
    })
    .onConflict((oc) => oc.columns(["actor_iri", "period_kind", "period_start", "digest"]).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * When an actor's copies of one period differ (more than one digest), flags every copy of
 * that period "changed after publication". Returns how many copies the period has.
 */
export async function flagChangedPeriod(trx: Db, actorIri: string, kind: string, start: Date): Promise<number> {
  const copies = await trx
    .selectFrom("remote_summaries")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("actor_iri", "=", actorIri)
    .where("period_kind", "=", kind)
    .where("period_start", "=", start)
    .executeTakeFirstOrThrow();
  const n = Number(copies.n);
  if (n > 1) {
    await trx
      .updateTable("remote_summaries")
      .set({ changed_after_publication: true })
      .where("actor_iri", "=", actorIri)
      .where("period_kind", "=", kind)
      .where("period_start", "=", start)
      .where("changed_after_publication", "=", false)
      .execute();
  }
  return n;
}

export interface RemoteSummaryRecord {
  actorIri: string;
  handle: string | null;
  objectIri: string;
  periodKind: PeriodKind;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  headSeq: number;
  headHash: string;
  content: Record<string, unknown>;
  digest: string;
  changedAfterPublication: boolean;
  receivedAt: Date;
}

/** Copies held of the summaries of the actors `podId` follows (accepted), newest period first. */
export async function listFollowedSummaries(db: Db, podId: string, limit: number): Promise<RemoteSummaryRecord[]> {
  const rows = await db
    .selectFrom("following as f")
    .innerJoin("remote_summaries as s", "s.actor_iri", "f.actor_iri")
    .innerJoin("remote_actors as a", "a.iri", "f.actor_iri")
    .select([
      "s.actor_iri",
      "a.handle",
      "s.object_iri",
      "s.period_kind",
      "s.period_start",
      "s.period_end",
      "s.version",
      "s.head_seq",
      "s.head_hash",
      "s.content",
      "s.digest",
      "s.changed_after_publication",
      "s.received_at",
    ])
    .where("f.pod_id", "=", podId)
    .where("f.status", "=", "accepted")
    .orderBy("s.period_start", "desc")
    .orderBy("s.actor_iri")
    .orderBy("s.received_at")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    actorIri: r.actor_iri,
    handle: r.handle,
    objectIri: r.object_iri,
    periodKind: r.period_kind as PeriodKind,
    periodStart: new Date(r.period_start),
    periodEnd: new Date(r.period_end),
    version: r.version,
    headSeq: Number(r.head_seq),
    headHash: r.head_hash,
    content: r.content,
    digest: r.digest,
    changedAfterPublication: r.changed_after_publication,
    receivedAt: new Date(r.received_at),
  }));
}
