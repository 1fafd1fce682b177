/**
 * The pod's ledger: one write path (a session validates entries against the books' state,
 * `appendPrepared` chains and inserts them under the head lock) shared by single entries
 * (recordEntry, API and CLI) and CSV imports; and the read side: listings, balances,
 * series for charts, provided value, receipts, the public entries and verification.
 *
 * The chain rules are in src/domain/books/chain.ts; the input rules in
 * src/domain/books/entries.ts.
 */
import { randomBytes } from "node:crypto";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { conflict, invalid, notFound } from "../domain/errors.ts";
import { assertPodActive, type Pod } from "../domain/pods.ts";
import { entryHash, GENESIS_HASH, newSalt, privateDigest, verifyChain, type ChainFault, type PrivatePart, type PublicEntry } from "../domain/books/chain.ts";
import { Dec, normalizeDecimal, sumDecimals } from "../domain/books/decimal.ts";
import { validateEntry, type EntryContext, type EntryFacts, type EntryInput, type ValidEntry } from "../domain/books/entries.ts";
import { FUNDS, type CounterpartyKind, type EntryKind, type Fund } from "../domain/books/model.ts";
import * as books from "../db/repos/books.ts";
import * as ledger from "../db/repos/ledger.ts";
import { getPodBySlug } from "../db/repos/pods.ts";
import type { BookSettings } from "./books.ts";
import { getPod } from "./pods.ts";
import { writeOnce } from "./idempotency.ts";
import type { ServiceDeps } from "./ports.ts";

export type { EntryInput } from "../domain/books/entries.ts";

// ---------------------------------------------------------------------------
// Sessions: the one write path

/** A validated entry, ready to chain. Opaque to callers. */
export interface PreparedEntry {
  readonly id: string;
  readonly kind: EntryKind;
  /** The seq it gets when this session's entries are appended in order right after the head it saw. */
  readonly expectedSeq: number;
}

export interface LedgerSession {
  readonly podId: string;
  readonly podSlug: string;
  readonly settings: BookSettings;
  /**
   * Validates one input against resources, members and the running stock (which it
   * updates). Throws DomainError (kind invalid) with details.field naming the input field.
   */
  prepare(input: EntryInput | unknown): PreparedEntry;
}

interface SessionState {
  pod: Pod;
  baseSeq: number;
  prepared: number;
  appended: number;
  /** A prepared correction corrects an entry prepared in this session: seqs must come out as expected. */
  needsExpectedSeqs: boolean;
  resourcesById: Map<string, books.ResourceRecord>;
  valid: WeakMap<PreparedEntry, ValidEntry>;
}

const sessions = new WeakMap<LedgerSession, SessionState>();

export interface OpenSessionOptions {
  /**
   * The seqs that inputs may correct, when known in advance (recordEntry knows its one
   * target). Without it, the facts of every entry are loaded.
   */
  corrects?: readonly number[];
  /**
   * The keys of the resources whose stock the inputs draw on, when known in advance.
   * Without it, the stock of every resource is loaded. The stock check of an outflow of
   * another resource would see 0.
   */
  stockOf?: readonly string[];
}

/**
 * Preloads resources, members and current stock. Pass `trx` to read inside your
 * transaction: the chain head is then locked first, so the stock it reads cannot change
 * before your entries are appended in that transaction.
 */
export async function openLedgerSession(
  deps: ServiceDeps,
  podSlug: string,
  trx?: Transaction<Database>,
  options: OpenSessionOptions = {},
): Promise<LedgerSession> {
  const db = trx ?? deps.db;
  const found = await getPodBySlug(db, podSlug);
  if (!found) throw notFound("POD_NOT_FOUND", `No pod named ${podSlug} on this node`);
  const pod = assertPodActive(found);
  const head = trx ? await ledger.lockHead(trx, pod.id, deps.clock.now()) : ((await ledger.getHead(db, pod.id)) ?? { seq: 0, hash: GENESIS_HASH, receipts: 0 });
  const resources = await books.listResources(db, pod.id);
  const stockIds = options.stockOf?.flatMap((key) => resources.filter((r) => r.key === key).map((r) => r.id));
  const [settingsRecord, members, stockRows, factRows] = await Promise.all([
    books.getSettings(db, pod.id),
    books.listMemberIds(db, pod.id),
    ledger.stockByResource(db, pod.id, undefined, stockIds),
    ledger.entryFacts(db, pod.id, options.corrects),
  ]);
  const settings: BookSettings = {
    currency: settingsRecord.currency,
    allowOverdraw: settingsRecord.allowOverdraw,
    autoPeriods: settingsRecord.autoPeriods,
    invoiceAddressee: settingsRecord.invoiceAddressee,
  };
  const resourcesByKey = new Map(resources.map((r) => [r.key, r]));
  const resourcesById = new Map(resources.map((r) => [r.id, r]));
  const membersByPseudonym = new Map(members.map((m) => [m.pseudonym, m]));
  const membersById = new Map(members.map((m) => [m.id, m]));
  const stock = new Map<string, Dec>([...stockRows].map(([id, q]) => [id, new Dec(q)]));
  const facts = new Map<number, EntryFacts>(factRows.map((f) => [f.seq, f]));
  // Only the entries that inputs may correct are remembered (memory stays flat on imports).
  const wanted = options.corrects ? new Set(options.corrects) : null;
  const now = deps.clock.now();
  const ctx: EntryContext = {
    now,
    currency: settings.currency,
    allowOverdraw: settings.allowOverdraw,
    resourceByKey: (key) => resourcesByKey.get(key),
    resourceById: (id) => resourcesById.get(id),
    memberByPseudonym: (p) => membersByPseudonym.get(p),
    memberById: (id) => membersById.get(id),
    stockOf: (id) => stock.get(id) ?? new Dec(0),
    entryBySeq: (seq) => facts.get(seq),
  };
  const state: SessionState = {
    pod,
    baseSeq: head.seq,
    prepared: 0,
    appended: 0,
    needsExpectedSeqs: false,
    resourcesById,
    valid: new WeakMap(),
  };
  const session: LedgerSession = {
    podId: pod.id,
    podSlug: pod.slug,
    settings,
    prepare(input: unknown): PreparedEntry {
      const entry = validateEntry(input, ctx);
      const expectedSeq = state.baseSeq + state.prepared + 1;
      if (entry.correctsSeq !== null && entry.correctsSeq > state.baseSeq) state.needsExpectedSeqs = true;
      stock.set(entry.resourceId, ctx.stockOf(entry.resourceId).plus(entry.stockEffect));
      if (entry.correctsSeq !== null) {
        const target = facts.get(entry.correctsSeq)!;
        facts.set(target.seq, { ...target, corrected: normalizeDecimal(new Dec(target.corrected).plus(entry.quantity)) });
      } else if (wanted === null || wanted.has(expectedSeq)) {
        facts.set(expectedSeq, {
          seq: expectedSeq,
          kind: entry.kind,
          resourceId: entry.resourceId,
          fund: entry.fund,
          counterpartyKind: entry.counterpartyKind,
          memberId: entry.memberId,
          counterparty: entry.counterparty,
          quantity: entry.quantity,
          marketValue: entry.marketValue,
          charged: entry.charged,
          corrected: "0",
        });
      }
      state.prepared++;
      const prepared: PreparedEntry = Object.freeze({ id: deps.ids.uuid(), kind: entry.kind, expectedSeq });
      state.valid.set(prepared, entry);
      return prepared;
    },
  };
  sessions.set(session, state);
  return session;
}

const RECEIPT_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789";

/** `R<n>-` and 6 random characters of [A-Z2-9] (34 symbols, unbiased). */
export function newReceiptNumber(n: number): string {
  let suffix = "";
  while (suffix.length < 6) {
    for (const byte of randomBytes(12)) {
      if (byte < 238 && suffix.length < 6) suffix += RECEIPT_ALPHABET[byte % 34];
    }
  }
  return `R${n}-${suffix}`;
}

/** The fields of an entry, stored or new, that its public side is made of. */
type PublicFields = Pick<
  ledger.ChainRow,
  "seq" | "id" | "kind" | "resourceKey" | "unit" | "quantity" | "fund" | "marketValue" | "charged" | "currency" | "counterpartyKind" | "counterparty" | "publicMemo" | "correctsSeq" | "privateDigest" | "agreementIri"
>;

/** The public side of an entry (what is hashed and exported); times as ISO text. */
function toPublicEntry(row: PublicFields, occurredAt: string, recordedAt: string): PublicEntry {
  return {
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    resource: row.resourceKey,
    unit: row.unit,
    quantity: row.quantity,
    fund: row.fund,
    marketValue: row.marketValue,
    charged: row.charged,
    currency: row.currency,
    counterpartyKind: row.counterpartyKind,
    counterparty: row.counterpartyKind === "member" ? null : row.counterparty,
    publicMemo: row.publicMemo,
    occurredAt,
    recordedAt,
    corrects: row.correctsSeq,
    privateDigest: row.privateDigest,
    // Only transfers under a congress agreement carry it: other entries hash as they always did.
    ...(row.agreementIri !== null && { agreement: row.agreementIri }),
  };
}

export const publicEntryOf = (row: ledger.LedgerRow): PublicEntry => toPublicEntry(row, row.occurredAt.toISOString(), row.recordedAt.toISOString());
/** As verification reads an entry (times already ISO text from the database). */
const chainEntryOf = (row: ledger.ChainRow): PublicEntry => toPublicEntry(row, row.occurredAt, row.recordedAt);

/** Locks the chain head (if not yet locked in this trx), chains and inserts the entries in order. */
export async function appendPrepared(
  deps: ServiceDeps,
  trx: Transaction<Database>,
  session: LedgerSession,
  entries: readonly PreparedEntry[],
  opts: { importId?: string } = {},
): Promise<{ firstSeq: number; lastSeq: number }> {
  const state = sessions.get(session);
  if (!state) throw new TypeError("appendPrepared: not a session from openLedgerSession");
  const head = await ledger.lockHead(trx, state.pod.id, deps.clock.now());
  // After the lock: an append waiting for another gets a later time than it.
  const now = deps.clock.now();
  if (entries.length === 0) return { firstSeq: head.seq + 1, lastSeq: head.seq };
  if (state.needsExpectedSeqs && entries.some((e, i) => e.expectedSeq !== head.seq + i + 1)) {
    throw conflict("LEDGER_CHANGED", "The ledger changed while these entries were prepared (a correction refers to one of them); prepare them again");
  }
  const rows: ledger.LedgerRow[] = [];
  const stockChanges = new Map<string, Dec>();
  let prev = head.hash;
  let seq = head.seq;
  let receipts = head.receipts;
  for (const prepared of entries) {
    const e = state.valid.get(prepared);
    if (!e) throw new TypeError("appendPrepared: entry was not prepared by this session");
    const salt = newSalt();
    seq += 1;
    const receiptNumber = e.needsReceipt ? newReceiptNumber(++receipts) : null;
    const part: PrivatePart = { salt, member: e.member, privateMemo: e.privateMemo, receipt: receiptNumber };
    const row: ledger.LedgerRow = {
      podId: state.pod.id,
      seq,
      id: prepared.id,
      kind: e.kind,
      resourceId: e.resourceId,
      resourceKey: e.resourceKey,
      unit: e.unit,
      currency: e.currency,
      quantity: e.quantity,
      fund: e.fund,
      marketValue: e.marketValue,
      charged: e.charged,
      counterpartyKind: e.counterpartyKind,
      memberId: e.memberId,
      counterparty: e.counterpartyKind === "member" ? null : e.counterparty,
      publicMemo: e.publicMemo,
      privateMemo: e.privateMemo,
      occurredAt: e.occurredAt,
      // Taken under the head lock, so recording order is seq order on one clock.
      recordedAt: now,
      correctsSeq: e.correctsSeq,
      receiptNumber,
      privateSalt: salt,
      privateDigest: privateDigest(part),
      prevHash: prev,
      hash: "",
      importId: opts.importId ?? null,
      agreementIri: e.agreement,
    };
    row.hash = entryHash(prev, publicEntryOf(row));
    prev = row.hash;
    rows.push(row);
    stockChanges.set(e.resourceId, (stockChanges.get(e.resourceId) ?? new Dec(0)).plus(e.stockEffect));
    state.valid.delete(prepared);
  }
  await ledger.insertEntries(trx, rows);
  await ledger.addStock(trx, state.pod.id, new Map([...stockChanges].map(([id, q]) => [id, normalizeDecimal(q)])));
  await ledger.updateHead(trx, state.pod.id, { seq, hash: prev, receipts }, now);
  state.appended += rows.length;
  return { firstSeq: head.seq + 1, lastSeq: seq };
}

// ---------------------------------------------------------------------------
// Steward views

/** An entry as stewards see it (with the member's pseudonym, the private memo and the receipt). */
export interface EntryView {
  seq: number;
  id: string;
  kind: EntryKind;
  resource: string;
  resourceName: string;
  unit: string;
  quantity: string;
  fund: Fund | null;
  marketValue: string;
  charged: string;
  currency: string;
  counterpartyKind: CounterpartyKind;
  /** Another pod's actor URI or an outside label; null for a member or none. */
  counterparty: string | null;
  /** The member's pseudonym. */
  member: string | null;
  publicMemo: string;
  privateMemo: string;
  occurredAt: Date;
  recordedAt: Date;
  corrects: number | null;
  receipt: string | null;
  /** The congress agreement a transfer fulfils, or null. */
  agreement: string | null;
  hash: string;
  prevHash: string;
}

function entryView(e: ledger.StoredEntry): EntryView {
  return {
    seq: e.seq,
    id: e.id,
    kind: e.kind,
    resource: e.resourceKey,
    resourceName: e.resourceName,
    unit: e.unit,
    quantity: e.quantity,
    fund: e.fund,
    marketValue: e.marketValue,
    charged: e.charged,
    currency: e.currency,
    counterpartyKind: e.counterpartyKind,
    counterparty: e.counterpartyKind === "member" ? null : e.counterparty,
    member: e.member,
    publicMemo: e.publicMemo,
    privateMemo: e.privateMemo,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
    corrects: e.correctsSeq,
    agreement: e.agreementIri,
    receipt: e.receiptNumber,
    hash: e.hash,
    prevHash: e.prevHash,
  };
}

/** What one input needs preloaded: the entry it corrects, the stock of the resource it draws on. */
function sessionHints(input: unknown): OpenSessionOptions {
  if (input === null || typeof input !== "object") return {};
  const { corrects: c, resource, kind } = input as { corrects?: unknown; resource?: unknown; kind?: unknown };
  const n = typeof c === "string" && /^\d+$/.test(c.trim()) ? Number(c.trim()) : c;
  const stockOf = typeof resource === "string" && kind !== "correction" ? [resource.trim()] : [];
  return { corrects: typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? [n] : [], stockOf };
}

/** Records one entry (validated, chained, with a receipt number for a draw); under an Idempotency-Key it is written once. */
export async function recordEntry(deps: ServiceDeps, podSlug: string, input: unknown): Promise<EntryView> {
  const pod = assertPodActive(await getPod(deps, podSlug));
  const hints = sessionHints(input);
  const view = await writeOnce(deps, async (trx) => {
    const session = await openLedgerSession(deps, pod.slug, trx, hints);
    const prepared = session.prepare(input);
    const { lastSeq } = await appendPrepared(deps, trx, session, [prepared]);
    const [stored] = await ledger.getEntriesBySeq(trx, pod.id, lastSeq, lastSeq);
    return entryView(stored!);
  });
  deps.log.info("Ledger entry recorded", { pod: pod.slug, seq: view.seq, kind: view.kind });
  return view;
}

export async function listEntries(deps: ServiceDeps, podSlug: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<EntryView[]> {
  const pod = await getPod(deps, podSlug);
  const afterSeq = opts.afterSeq ?? 0;
  const limit = opts.limit ?? 100;
  if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw invalid("INVALID_CURSOR", "afterSeq must be a whole number ≥ 0", { field: "afterSeq" });
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw invalid("INVALID_LIMIT", "limit must be between 1 and 1000", { field: "limit" });
  return (await ledger.listEntriesAfter(deps.db, pod.id, afterSeq, limit)).map(entryView);
}

export async function getEntry(deps: ServiceDeps, podSlug: string, seq: number): Promise<EntryView> {
  const pod = await getPod(deps, podSlug);
  const [stored] = Number.isSafeInteger(seq) && seq > 0 ? await ledger.getEntriesBySeq(deps.db, pod.id, seq, seq) : [];
  if (!stored) throw notFound("ENTRY_NOT_FOUND", `${pod.slug}'s ledger has no entry ${seq}`);
  return entryView(stored);
}

// ---------------------------------------------------------------------------
// Receipts

/** A commons receipt (a draw). Found only by its unguessable number. */
export interface ReceiptView {
  number: string;
  podSlug: string;
  podName: string;
  seq: number;
  issuedAt: Date;
  occurredAt: Date;
  resource: string;
  resourceName: string;
  unit: string;
  quantity: string;
  fund: Fund;
  marketValue: string;
  charged: string;
  currency: string;
  /** marketValue − charged. */
  valueReclaimed: string;
  /** The member's pseudonym (or "" when the draw named no member). */
  member: string;
}

export async function findReceipt(deps: ServiceDeps, podSlug: string, number: string): Promise<ReceiptView | null> {
  const pod = await getPod(deps, podSlug);
  if (typeof number !== "string" || !/^R\d{1,18}-[A-Z2-9]{6}$/.test(number)) return null;
  const e = await ledger.getEntryByReceipt(deps.db, pod.id, number);
  if (!e || e.kind !== "draw" || e.fund === null) return null;
  return {
    number,
    podSlug: pod.slug,
    podName: pod.name,
    seq: e.seq,
    issuedAt: e.recordedAt,
    occurredAt: e.occurredAt,
    resource: e.resourceKey,
    resourceName: e.resourceName,
    unit: e.unit,
    quantity: e.quantity,
    fund: e.fund,
    marketValue: e.marketValue,
    charged: e.charged,
    currency: e.currency,
    valueReclaimed: normalizeDecimal(new Dec(e.marketValue).minus(e.charged)),
    member: e.member ?? "",
  };
}

// ---------------------------------------------------------------------------
// Balances, series, provided value

export interface Balances {
  at: Date;
  currency: string;
  stock: Array<{ resource: string; name: string; unit: string; category: string; quantity: string }>;
  funds: Array<{ fund: Fund; inflowValue: string; outflowValue: string; entries: number }>;
  valueReclaimed: string;
  entries: number;
}

/** The books as they stood at `at` (entries that occurred at or before it; default now). */
export async function getBalances(deps: ServiceDeps, podSlug: string, at?: Date): Promise<Balances> {
  const pod = await getPod(deps, podSlug);
  const when = at ?? deps.clock.now();
  const [settings, resources, stock, flows, totals] = await Promise.all([
    books.getSettings(deps.db, pod.id),
    books.listResources(deps.db, pod.id),
    ledger.stockByResource(deps.db, pod.id, when),
    ledger.fundFlows(deps.db, pod.id, when),
    ledger.totals(deps.db, pod.id, when),
  ]);
  const byFund = new Map(flows.map((f) => [f.fund, f]));
  return {
    at: when,
    currency: settings.currency,
    stock: resources.map((r) => ({ resource: r.key, name: r.name, unit: r.unit, category: r.category, quantity: stock.get(r.id) ?? "0" })),
    funds: FUNDS.map((fund) => byFund.get(fund) ?? { fund, inflowValue: "0", outflowValue: "0", entries: 0 }),
    valueReclaimed: totals.valueReclaimed,
    entries: totals.entries,
  };
}

export interface SeriesPoint {
  start: Date;
  valueReclaimed: string;
  cumulativeValueReclaimed: string;
  outflowByFund: Record<Fund, string>;
}

const MAX_BUCKETS = 5000;

/** The UTC start of the week (Monday) or month that contains `at`. */
export function bucketStart(at: Date, bucket: "week" | "month"): Date {
  if (bucket === "month") return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * 86_400_000);
}

function nextBucket(start: Date, bucket: "week" | "month"): Date {
  return bucket === "month" ? new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)) : new Date(start.getTime() + 7 * 86_400_000);
}

/**
 * Value reclaimed and outflow value per fund, one point per week or month (by occurred_at)
 * from the bucket of `from` (default: the first entry's) up to `to` (default now).
 * The cumulative figure includes everything before `from`.
 */
export async function getBookSeries(deps: ServiceDeps, podSlug: string, opts: { bucket: "week" | "month"; from?: Date; to?: Date }): Promise<SeriesPoint[]> {
  const pod = await getPod(deps, podSlug);
  const { bucket } = opts;
  if (bucket !== "week" && bucket !== "month") throw invalid("INVALID_BUCKET", "bucket must be week or month", { field: "bucket" });
  const to = opts.to ?? deps.clock.now();
  const rows = await ledger.seriesRows(deps.db, pod.id, bucket, to);
  const firstStart = opts.from ? bucketStart(opts.from, bucket) : rows[0]?.start;
  if (!firstStart) return [];
  const points = new Map<number, SeriesPoint>();
  let before = new Dec(0);
  for (let s = firstStart, n = 0; s.getTime() < to.getTime(); s = nextBucket(s, bucket), n++) {
    if (n >= MAX_BUCKETS) throw invalid("RANGE_TOO_LONG", `At most ${MAX_BUCKETS} ${bucket}s at a time`, { field: "from" });
    points.set(s.getTime(), {
      start: s,
      valueReclaimed: "0",
      cumulativeValueReclaimed: "0",
      outflowByFund: Object.fromEntries(FUNDS.map((f) => [f, "0"])) as Record<Fund, string>,
    });
  }
  for (const r of rows) {
    const p = points.get(r.start.getTime());
    if (!p) {
      if (r.start.getTime() < firstStart.getTime()) before = before.plus(r.reclaimed);
      continue;
    }
    p.valueReclaimed = normalizeDecimal(new Dec(p.valueReclaimed).plus(r.reclaimed));
    if (r.fund) p.outflowByFund[r.fund] = normalizeDecimal(new Dec(p.outflowByFund[r.fund]).plus(r.outflow));
  }
  let running = before;
  const out = [...points.values()];
  for (const p of out) {
    running = running.plus(p.valueReclaimed);
    p.cumulativeValueReclaimed = normalizeDecimal(running);
  }
  return out;
}

export interface ProvidedValue {
  currency: string;
  total: string;
  byCategory: Array<{ category: string; value: string; lines: Array<{ resource: string; name: string; unit: string; quantity: string; value: string }> }>;
}

/**
 * "What the city would have charged us": the market value of what the commons provided —
 * draws and transfers out, with their corrections — that occurred in [from, to), by category.
 */
export async function getProvidedValue(deps: ServiceDeps, podSlug: string, from: Date, to: Date): Promise<ProvidedValue> {
  const pod = await getPod(deps, podSlug);
  const [settings, rows] = await Promise.all([books.getSettings(deps.db, pod.id), ledger.providedRows(deps.db, pod.id, from, to)]);
  const categories = new Map<string, ProvidedValue["byCategory"][number]>();
  for (const r of rows) {
    let c = categories.get(r.category);
    if (!c) categories.set(r.category, (c = { category: r.category, value: "0", lines: [] }));
    c.lines.push({ resource: r.resourceKey, name: r.name, unit: r.unit, quantity: r.quantity, value: r.value });
    c.value = normalizeDecimal(new Dec(c.value).plus(r.value));
  }
  const byCategory = [...categories.values()];
  return { currency: settings.currency, total: normalizeDecimal(sumDecimals(byCategory.map((c) => c.value))), byCategory };
}

// ---------------------------------------------------------------------------
// The chain: head, public entries, verification

export async function getLedgerHead(deps: ServiceDeps, podSlug: string): Promise<{ seq: number; hash: string }> {
  const pod = await getPod(deps, podSlug);
  const head = await ledger.getHead(deps.db, pod.id);
  return head ? { seq: head.seq, hash: head.hash } : { seq: 0, hash: GENESIS_HASH };
}

/**
 * The public side of every entry with its hash, in seq order, read in batches (never the
 * whole ledger at once). `untilSeq` stops at a head read earlier, so an export whose header
 * names that head lists exactly the entries up to it even while others are appended.
 */
export async function* publicEntries(
  deps: ServiceDeps,
  podSlug: string,
  opts: { batch?: number; untilSeq?: number } = {},
): AsyncIterable<PublicEntry & { hash: string }> {
  const pod = await getPod(deps, podSlug);
  const batch = Math.max(1, Math.min(opts.batch ?? 1000, 10_000));
  const until = opts.untilSeq ?? Number.MAX_SAFE_INTEGER;
  for (let after = 0; after < until; ) {
    const rows = await ledger.listEntriesAfter(deps.db, pod.id, after, Math.min(batch, until - after));
    for (const r of rows) yield { ...publicEntryOf(r), hash: r.hash };
    if (rows.length < Math.min(batch, until - after)) return;
    after = rows[rows.length - 1]!.seq;
  }
}

/** A break in the chain, a private part that no longer matches its digest, or a head that does not match the last entry. */
export type LedgerFault =
  | ChainFault
  | { seq: number; reason: "private_digest_mismatch" | "head_mismatch"; expected: string; found: string };

export interface VerifyReport {
  ok: boolean;
  entries: number;
  headSeq: number;
  headHash: string;
  fault: LedgerFault | null;
}

/**
 * Recomputes every hash from the database rows (in batches) and every private digest
 * from the row's salt, member pseudonym, private memo and receipt; names the first bad seq.
 */
export async function verifyLedger(deps: ServiceDeps, podSlug: string, opts: { batch?: number } = {}): Promise<VerifyReport> {
  const pod = await getPod(deps, podSlug);
  const batch = Math.max(1, Math.min(opts.batch ?? 2000, 10_000));
  const head = (await ledger.getHead(deps.db, pod.id)) ?? { seq: 0, hash: GENESIS_HASH, receipts: 0 };
  let prevSeq = 0;
  let prevHash = GENESIS_HASH;
  let entries = 0;
  const fail = (fault: LedgerFault): VerifyReport => {
    deps.log.warn("Ledger verification failed", { pod: pod.slug, seq: fault.seq, reason: fault.reason });
    return { ok: false, entries, headSeq: prevSeq, headHash: prevHash, fault };
  };
  const fetch = (from: number) => {
    const rows = ledger.chainRowsInRange(deps.db, pod.id, from, from + batch);
    rows.catch(() => {}); // awaited below, or abandoned when a fault ends the walk
    return rows;
  };
  // Ranges of seqs up to the head, and one past it (entries beyond the head are a fault).
  // The next ranges are fetched while this one is hashed (on PostgreSQL, by other
  // connections of the pool at the same time).
  const AHEAD = 3;
  const pending = Array.from({ length: AHEAD }, (_, i) => fetch(i * batch));
  for (let from = 0; ; from += batch) {
    const rows = await pending.shift()!;
    if (rows.length === 0 && from >= head.seq) break;
    pending.push(fetch(from + AHEAD * batch));
    const chain = verifyChain(
      rows.map((r) => ({ ...chainEntryOf(r), hash: r.hash, prevHash: r.prevHash })),
      { prevSeq, prevHash },
    );
    const chainFaultSeq = chain.fault?.seq ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.seq >= chainFaultSeq) break;
      const digest = privateDigest({ salt: r.privateSalt, member: r.member, privateMemo: r.privateMemo, receipt: r.receiptNumber });
      if (digest !== r.privateDigest) {
        entries += i;
        if (i > 0) {
          prevSeq = rows[i - 1]!.seq;
          prevHash = rows[i - 1]!.hash;
        }
        return fail({ seq: r.seq, reason: "private_digest_mismatch", expected: digest, found: r.privateDigest });
      }
    }
    if (chain.fault) {
      entries += chain.headSeq - prevSeq;
      prevSeq = chain.headSeq;
      prevHash = chain.headHash;
      return fail(chain.fault);
    }
    entries += rows.length;
    prevSeq = chain.headSeq;
    prevHash = chain.headHash;
  }
  // Read again: entries appended while we walked were walked too.
  const end = (await ledger.getHead(deps.db, pod.id)) ?? head;
  if (end.seq !== prevSeq || end.hash !== prevHash) {
    return fail({ seq: end.seq, reason: "head_mismatch", expected: `${prevSeq}:${prevHash}`, found: `${end.seq}:${end.hash}` });
  }
  return { ok: true, entries, headSeq: prevSeq, headHash: prevHash, fault: null };
}
