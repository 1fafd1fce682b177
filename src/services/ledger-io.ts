/**
 * Import and export of a pod's ledger: CSV in (books kept in spreadsheets), CSV and JSON
 * out. Both directions stream: neither a file nor the ledger is ever held whole in memory.
 *
 * An import reads the file three times (the OS keeps it cached):
 *   0. its SHA-256: the same bytes imported before → LEDGER_IMPORT_DUPLICATE, nothing read;
 *   1. every row checked against the books (resources, members, funds, dates, decimals and
 *      the running stock) without writing; any error → CSV_INVALID listing the first 100
 *      (row, column, code, message), nothing written;
 *   2. one transaction: the chain head locked, the rows checked again against the books as
 *      they are now and appended in batches, each entry carrying the import's id, with the
 *      `ledger_imports` row (keyed by the SHA-256) in the same transaction. The bytes are
 *      hashed again as they are read: a file that changed since step 0 is refused and the
 *      transaction rolls back. All or nothing.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { conflict, DomainError, invalid } from "../domain/errors.ts";
import { columnOfField, csvRecord, readLedgerCsv, type CsvEntryFields, type CsvRowError } from "../domain/books/csv.ts";
import { GENESIS_HASH, type PrivatePart, type PublicEntry } from "../domain/books/chain.ts";
import type { EntryInput } from "../domain/books/entries.ts";
import { getLedgerImportBySha, insertLedgerImport, setLedgerImportRange } from "../db/repos/ledger-imports.ts";
import { listEntriesAfter, lockHead } from "../db/repos/ledger.ts";
import { getBookSettings, listResources } from "./books.ts";
import { appendPrepared, getLedgerHead, openLedgerSession, publicEntries, publicEntryOf, type LedgerSession, type PreparedEntry } from "./ledger.ts";
import { getActivePod, getPod } from "./pods.ts";
import { writeOnce } from "./idempotency.ts";
import type { ServiceDeps } from "./ports.ts";

export type ImportSource = { path: string } | { text: string } | { bytes: Uint8Array };

export interface ImportProgress {
  phase: "validate" | "write";
  /** Data rows done in this phase. */
  rows: number;
  /** Rows in the file: unknown while validating, known when writing. */
  total: number | null;
}

export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportResult {
  importId: string;
  rows: number;
  firstSeq: number;
  lastSeq: number;
}

/** Errors listed in CSV_INVALID; the rest are counted ("and N more"). */
export const MAX_LISTED_ERRORS = 100;
/** Entries appended per appendPrepared call while writing. */
export const WRITE_BATCH = 1000;
const READ_CHUNK = 64 * 1024;
const PROGRESS_EVERY = 1000;

/** A fresh stream of the source's bytes each time it is called. */
function byteChunks(source: ImportSource): () => AsyncIterable<Uint8Array> {
  if ("path" in source) return () => createReadStream(source.path, { highWaterMark: READ_CHUNK });
  const bytes = "text" in source ? Buffer.from(source.text, "utf8") : source.bytes;
  return async function* () {
    for (let i = 0; i < bytes.length; i += READ_CHUNK) yield bytes.subarray(i, i + READ_CHUNK);
  };
}

/** Passes chunks through while hashing them; `digest()` once they are all read. */
function hashing(chunks: AsyncIterable<Uint8Array>) {
  const hash = createHash("sha256");
  return {
    chunks: (async function* () {
      for await (const chunk of chunks) {
        hash.update(chunk);
        yield chunk;
      }
    })(),
    digest: () => hash.digest("hex"),
  };
}

/**
 * The seqs the file's corrections correct. The ledger session then loads (and keeps) the
 * facts of those entries only, not of every entry in the books.
 */
async function correctedSeqs(chunks: AsyncIterable<Uint8Array>): Promise<number[]> {
  const seqs = new Set<number>();
  // Without a corrects column there is nothing to look for past the header.
  const onHeader = (columns: readonly string[]) => (columns.includes("corrects") ? "continue" : "stop");
  for await (const item of readLedgerCsv(chunks, { onHeader })) {
    if ("entry" in item && item.entry.corrects !== undefined) seqs.add(item.entry.corrects);
  }
  return [...seqs];
}

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest("hex");
}

/** Collects row errors: the first MAX_LISTED_ERRORS in file order, and how many in all. */
class ErrorList {
  readonly listed: CsvRowError[] = [];
  count = 0;
  private lastRow = -1;
  /** Distinct rows with at least one error. */
  rows = 0;
  add(error: CsvRowError): void {
    this.count++;
    if (error.row !== this.lastRow) {
      this.rows++;
      this.lastRow = error.row;
    }
    if (this.listed.length < MAX_LISTED_ERRORS) this.listed.push(error);
  }
  /** `rows`: how many data rows were read, when known (the whole file was read). */
  toError(rows?: number): DomainError {
    const more = this.count - this.listed.length;
    const head = `The CSV has ${this.count} error${this.count === 1 ? "" : "s"} in ${this.rows} row${this.rows === 1 ? "" : "s"}; nothing was imported`;
    const first = this.listed[0]!;
    const message = `${head}. First: row ${first.row}${first.column ? `, ${first.column}` : ""}: ${first.code}: ${first.message}${more > 0 ? ` (the first ${this.listed.length} are listed, and ${more} more)` : ""}`;
    return invalid("CSV_INVALID", message, { errors: this.listed, total: this.count, more, ...(rows !== undefined && { rows }) });
  }
}

function entryInputOf(fields: CsvEntryFields): EntryInput {
  return fields as unknown as EntryInput;
}

/** A rule broken by one row, as a row error naming the CSV column. */
function rowError(row: number, error: unknown): CsvRowError {
  if (!(error instanceof DomainError)) throw error;
  const field = typeof error.details?.field === "string" ? error.details.field : null;
  const column = field && field !== "(root)" ? columnOfField(field) : null;
  return { row, column, code: error.code, message: error.message };
}

/**
 * Reads the file once, checking each row with the session (which keeps the running stock),
 * and hands each valid entry to `onEntry`. Row errors go to `errors`; rows that claim a
 * `seq` must land exactly there (head seq + their position among the rows).
 */
async function checkRows(
  chunks: AsyncIterable<Uint8Array>,
  session: LedgerSession,
  headSeq: number,
  errors: ErrorList,
  onEntry: (entry: PreparedEntry) => Promise<void> | void,
  onRows: (rows: number) => void = () => {},
): Promise<number> {
  let rows = 0;
  let lastRow = 0;
  for await (const item of readLedgerCsv(chunks)) {
    if (item.row > lastRow) {
      // Every data row, even a bad one, would take the next seq once it is fixed.
      rows++;
      lastRow = item.row;
      if (rows % PROGRESS_EVERY === 0) onRows(rows);
    }
    if ("error" in item) {
      errors.add(item.error);
      continue;
    }
    const expectedSeq = headSeq + rows;
    if (item.seq !== null && item.seq !== expectedSeq) {
      errors.add({
        row: item.row,
        column: "seq",
        code: "SEQ_MISMATCH",
        message: `row ${item.row} says seq ${item.seq} but would be entry ${expectedSeq}: a file with a seq column imports only where its first row lands on its seq (into books whose last entry is ${item.seq - rows})`,
      });
    }
    let prepared: PreparedEntry;
    try {
      prepared = session.prepare(entryInputOf(item.entry));
    } catch (error) {
      const e = rowError(item.row, error);
      errors.add({ ...e, message: `row ${item.row}${e.column ? `, ${e.column}` : ""}: ${e.message}` });
      continue;
    }
    if (errors.count === 0) await onEntry(prepared);
  }
  return rows;
}

/** Pass 1: every row checked with a session of its own (dropped afterwards: it holds the facts it saw). */
async function validateAll(deps: ServiceDeps, podSlug: string, chunks: AsyncIterable<Uint8Array>, corrects: number[], progress: (p: ImportProgress) => void): Promise<number> {
  const head = await getLedgerHead(deps, podSlug);
  const errors = new ErrorList();
  const session = await openLedgerSession(deps, podSlug, undefined, { corrects });
  const rows = await checkRows(chunks, session, head.seq, errors, () => {}, (n) => progress({ phase: "validate", rows: n, total: null }));
  if (errors.count === 0 && rows === 0) {
    errors.add({ row: 0, column: null, code: "CSV_NO_ROWS", message: "the file has a header but no rows to import" });
  }
  if (errors.count > 0) throw errors.toError(rows);
  return rows;
}

/**
 * Imports a CSV file into the pod's books: every row checked before anything is written,
 * then all rows in one transaction, or none. See the file comment for the steps.
 */
export async function importLedgerCsv(deps: ServiceDeps, podSlug: string, source: ImportSource, opts: ImportOptions = {}): Promise<ImportResult> {
  const pod = await getActivePod(deps, podSlug);
  const chunks = byteChunks(source);
  const progress = opts.onProgress ?? (() => {});

  const sha = await sha256Of(chunks()).catch((error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if ("path" in source && typeof code === "string" && ["ENOENT", "EACCES", "EISDIR", "EPERM"].includes(code)) {
      throw invalid("CSV_UNREADABLE", `Cannot read ${source.path} (${code}): give the path of a readable CSV file`, { field: "path" });
    }
    throw error;
  });
  const earlier = await getLedgerImportBySha(deps.db, pod.id, sha);
  if (earlier) throw duplicate(earlier);

  // 1. Check every row against the books as they are now, writing nothing.
  const corrects = await correctedSeqs(chunks());
  progress({ phase: "validate", rows: 0, total: null });
  const rows = await validateAll(deps, pod.slug, chunks(), corrects, progress);
  progress({ phase: "validate", rows, total: rows });

  // 2. One transaction: lock the head, check again against the books as they are inside it, append in batches.
  const importId = deps.ids.uuid();
  const now = deps.clock.now();
  progress({ phase: "write", rows: 0, total: rows });
  let result: ImportResult;
  try {
    result = await writeOnce(deps, async (trx) => {
      await insertLedgerImport(trx, { id: importId, podId: pod.id, fileSha256: sha, rows, createdAt: now });
      const lockedHead = await lockHead(trx, pod.id, now);
      const inTrx = await openLedgerSession(deps, pod.slug, trx, { corrects });
      const read = hashing(chunks());
      const again = new ErrorList();
      let batch: PreparedEntry[] = [];
      let firstSeq: number | null = null;
      let lastSeq = 0;
      let written = 0;
      // One batch is appended while the next is read and checked: the database and the
      // parsing overlap. The next append starts only once the previous one has finished.
      let inflight: Promise<void> = Promise.resolve();
      const flush = async () => {
        if (batch.length === 0) return;
        const entries = batch;
        batch = [];
        await inflight;
        inflight = appendPrepared(deps, trx, inTrx, entries, { importId }).then((range) => {
          firstSeq ??= range.firstSeq;
          lastSeq = range.lastSeq;
          written += entries.length;
          progress({ phase: "write", rows: written, total: rows });
        });
        // Awaited by the next flush or below; never left unhandled meanwhile.
        inflight.catch(() => {});
      };
      let count: number;
      try {
        count = await checkRows(read.chunks, inTrx, lockedHead.seq, again, async (entry) => {
          batch.push(entry);
          if (batch.length >= WRITE_BATCH) await flush();
        });
      } finally {
        // Settle the append under way before the transaction ends, whatever happened.
        await inflight.catch(() => {});
      }
      // The books changed between the check and the write (another steward's entry): the
      // rows are refused as they would be now, and the transaction rolls back.
      if (again.count > 0) throw again.toError(count);
      await inflight;
      await flush();
      await inflight;
      if (read.digest() !== sha || count !== rows) {
        throw conflict("LEDGER_IMPORT_CHANGED", "The file changed while it was being imported; nothing was imported. Import it again once it is complete.");
      }
      await setLedgerImportRange(trx, importId, { rows, firstSeq: firstSeq!, lastSeq });
      return { importId, rows, firstSeq: firstSeq!, lastSeq };
    });
  } catch (error) {
    // A concurrent import of the same file committed first.
    if ((error as { code?: string }).code === "23505") {
      const winner = await getLedgerImportBySha(deps.db, pod.id, sha);
      if (winner) throw duplicate(winner);
    }
    throw error;
  }
  deps.log.info("Ledger imported", { pod: pod.slug, importId: result.importId, rows: result.rows, firstSeq: result.firstSeq, lastSeq: result.lastSeq });
  return result;
}

function duplicate(earlier: { id: string; rows: number; firstSeq: number | null; lastSeq: number | null; createdAt: Date }): DomainError {
  return conflict(
    "LEDGER_IMPORT_DUPLICATE",
    `This file was already imported on ${earlier.createdAt.toISOString()} (${earlier.rows} rows, entries ${earlier.firstSeq}–${earlier.lastSeq}); it is not imported twice`,
    { importId: earlier.id, rows: earlier.rows, firstSeq: earlier.firstSeq, lastSeq: earlier.lastSeq, importedAt: earlier.createdAt.toISOString() },
  );
}

// ---------------------------------------------------------------------------------------
// Export

export interface ExportOptions {
  /** A steward's export: adds each entry's private side (member, private memo, receipt, salt). */
  private: boolean;
}

/** An exported entry: the public entry and its hash; a steward's export adds the private part whose digest is in the entry. */
export type ExportedEntry = PublicEntry & { hash: string; private?: PrivatePart };

/** Exported strings are gathered into chunks of about this many characters. */
const EXPORT_CHUNK = 64 * 1024;
const EXPORT_BATCH = 1000;

/**
 * The entries up to `upTo` (the head read when the export began, so the document's head and
 * its entries agree even while entries are being added), in batches.
 */
async function* exportedEntries(deps: ServiceDeps, podSlug: string, podId: string, upTo: number, withPrivate: boolean): AsyncGenerator<ExportedEntry> {
  if (!withPrivate) {
    for await (const e of publicEntries(deps, podSlug, { batch: EXPORT_BATCH, untilSeq: upTo })) {
      if (e.seq > upTo) return;
      yield e;
    }
    return;
  }
  for (let after = 0; after < upTo; ) {
    const rows = await listEntriesAfter(deps.db, podId, after, Math.min(EXPORT_BATCH, upTo - after));
    for (const r of rows) {
      if (r.seq > upTo) return;
      yield { ...publicEntryOf(r), hash: r.hash, private: { salt: r.privateSalt, member: r.member, privateMemo: r.privateMemo, receipt: r.receiptNumber } };
    }
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.seq;
  }
}

/** Gathers small strings into chunks of about EXPORT_CHUNK characters. */
async function* chunked(parts: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = "";
  for await (const part of parts) {
    buffer += part;
    if (buffer.length >= EXPORT_CHUNK) {
      yield buffer;
      buffer = "";
    }
  }
  if (buffer.length > 0) yield buffer;
}

/**
 * The ledger as one JSON document, in string chunks (never the whole ledger in memory):
 * `{ format, pod, currency, hash, canonicalization, genesis, head, resources, entries }`.
 * The public export (the `/pods/{slug}/books/export.json` page) holds what anyone needs to
 * recompute the chain and nothing private; a steward's (`private: true`) adds to each entry
 * `private: { salt, member, privateMemo, receipt }`, the part whose SHA-256 over its RFC 8785
 * form is the entry's `privateDigest`.
 */
export function exportLedgerJson(deps: ServiceDeps, podSlug: string, opts: ExportOptions): AsyncIterable<string> {
  return chunked(
    (async function* () {
      const pod = await getPod(deps, podSlug);
      const [head, settings, resources] = await Promise.all([getLedgerHead(deps, pod.slug), getBookSettings(deps, pod.slug), listResources(deps, pod.slug)]);
      const top = {
        format: "hyphae-ledger/1",
        pod: deps.uris.actor(pod.slug).href,
        currency: settings.currency,
        hash: "sha256",
        canonicalization: "RFC 8785 (JCS)",
        genesis: GENESIS_HASH,
        head,
        ...(opts.private && { private: true }),
        resources: resources.map((r) => ({
          key: r.key,
          name: r.name,
          unit: r.unit,
          category: r.category,
          specificationUri: r.specificationUri,
          referencePrice: r.referencePrice,
          referencePriceSource: r.referencePriceSource,
          referencePriceOn: r.referencePriceOn,
        })),
      };
      const opening = JSON.stringify(top);
      yield `${opening.slice(0, -1)},"entries":[`;
      let first = true;
      for await (const entry of exportedEntries(deps, pod.slug, pod.id, head.seq, opts.private)) {
        yield (first ? "\n" : ",\n") + JSON.stringify(entry);
        first = false;
      }
      yield "\n]}\n";
    })(),
  );
}

/** The export's CSV columns: the import's (a steward's export imports again), then seq, recorded_at and hash. */
export const EXPORT_CSV_COLUMNS = [
  "seq",
  "occurred_at",
  "kind",
  "resource",
  "quantity",
  "unit",
  "fund",
  "market_value",
  "charged",
  "member",
  "counterparty_pod",
  "counterparty_label",
  "public_memo",
  "private_memo",
  "corrects",
  "recorded_at",
  "hash",
] as const;
const PRIVATE_CSV_COLUMNS = new Set(["member", "private_memo"]);

/**
 * The ledger as CSV (RFC 4180, CRLF), in string chunks. The public CSV leaves out the
 * `member` and `private_memo` columns; a steward's has them. See docs/examples/ledger-csv.md.
 */
export function exportLedgerCsv(deps: ServiceDeps, podSlug: string, opts: ExportOptions): AsyncIterable<string> {
  const columns = EXPORT_CSV_COLUMNS.filter((c) => opts.private || !PRIVATE_CSV_COLUMNS.has(c));
  return chunked(
    (async function* () {
      const pod = await getPod(deps, podSlug);
      const head = await getLedgerHead(deps, pod.slug);
      yield csvRecord(columns);
      for await (const e of exportedEntries(deps, pod.slug, pod.id, head.seq, opts.private)) {
        const cells: Record<(typeof EXPORT_CSV_COLUMNS)[number], string | number | null> = {
          seq: e.seq,
          occurred_at: e.occurredAt,
          kind: e.kind,
          resource: e.resource,
          quantity: e.quantity,
          unit: e.unit,
          fund: e.fund,
          market_value: e.marketValue,
          charged: e.charged,
          member: e.private?.member ?? null,
          counterparty_pod: e.counterpartyKind === "pod" ? e.counterparty : null,
          counterparty_label: e.counterpartyKind === "outside" ? e.counterparty : null,
          public_memo: e.publicMemo,
          private_memo: e.private?.privateMemo ?? null,
          corrects: e.corrects,
          recorded_at: e.recordedAt,
          hash: e.hash,
        };
        yield csvRecord(columns.map((c) => cells[c]));
      }
    })(),
  );
}
