/**
 * The ledger's CSV form, for books kept in spreadsheets: reading (CSV → entry fields, with
 * row and column errors) and writing (the export uses the same columns).
 *
 * Reading is streamed: bytes go through a UTF-8 check and csv-parse chunk by chunk, and
 * rows come out one at a time, so a file of a million rows never sits in memory.
 *
 * - The first record is the header. Names are case-insensitive and in any order; kind,
 *   resource and quantity are required; an unknown, unnamed or repeated column is an error.
 * - UTF-8 only (a UTF-8 BOM is accepted); bytes that are not UTF-8, and NUL characters, are
 *   CSV_ENCODING, named by row and column. CRLF and LF line ends (even mixed). RFC 4180
 *   quoting: a field with a comma, a quote or a line break is quoted, quotes inside doubled.
 * - Rows are numbered from the header: row 1 is the first record after the header (row 0
 *   is the header itself). Blank lines count as rows (and are skipped), so in a file without
 *   line breaks inside quoted cells, row n is line n + 1: the spreadsheet's row n + 1.
 * - Nothing is relaxed silently: a row with more or fewer cells than the header is
 *   CSV_COLUMN_COUNT; bad quoting is CSV_QUOTING, and reading stops there (after a broken
 *   quote the rest of the file cannot be read reliably).
 *
 * This file checks the CSV's shape only; what an entry means (kinds, decimals, dates, funds,
 * resources, stock) is checked by the ledger session, the same rules as one entry at a time.
 */
import { Readable, pipeline } from "node:stream";
import { parse, type CsvError, type Options } from "csv-parse";

/** The columns of an import, in the order the export writes them. */
export const CSV_COLUMNS = [
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
  "occurred_at",
  "corrects",
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];

/**
 * Columns the export adds. The import accepts them so that an export can be imported again:
 * `seq` is checked (each row must land at that seq, so `corrects` keeps pointing at the
 * entry the file means); `recorded_at` and `hash` are ignored (an import records its rows
 * now, and the chain computes new hashes).
 */
export const CSV_EXPORT_COLUMNS = ["seq", "recorded_at", "hash"] as const;
export type CsvExportColumn = (typeof CSV_EXPORT_COLUMNS)[number];

export const CSV_REQUIRED_COLUMNS: readonly CsvColumn[] = ["kind", "resource", "quantity"];

/** Memo columns are kept exactly as written; every other cell is trimmed of spaces and tabs. */
const VERBATIM_COLUMNS: ReadonlySet<string> = new Set(["public_memo", "private_memo"]);

/** The longest record the reader holds (characters): far above any real row, low enough that an unclosed quote cannot swallow the file. */
export const CSV_MAX_RECORD_CHARS = 100_000;

/** One row's fields, named like the ledger's entry input (camelCase); empty cells are absent. */
export interface CsvEntryFields {
  kind: string;
  /** Absent only when the cell is empty (allowed for a correction). */
  resource?: string;
  quantity: string;
  unit?: string;
  fund?: string;
  marketValue?: string;
  charged?: string;
  member?: string;
  counterpartyPod?: string;
  counterpartyLabel?: string;
  publicMemo?: string;
  privateMemo?: string;
  occurredAt?: string;
  corrects?: number;
}

export interface CsvRowError {
  /** 0 = the header, 1 = the first record after it. */
  row: number;
  /** The column's name as in CSV_COLUMNS (lowercase), `cell N` for a cell beyond the header, or null for the whole row. */
  column: string | null;
  code: string;
  message: string;
}

export type CsvItem =
  | { row: number; entry: CsvEntryFields; seq: number | null }
  | { row: number; error: CsvRowError };

const FIELD_OF_COLUMN: Readonly<Record<CsvColumn, keyof CsvEntryFields>> = {
  kind: "kind",
  resource: "resource",
  quantity: "quantity",
  unit: "unit",
  fund: "fund",
  market_value: "marketValue",
  charged: "charged",
  member: "member",
  counterparty_pod: "counterpartyPod",
  counterparty_label: "counterpartyLabel",
  public_memo: "publicMemo",
  private_memo: "privateMemo",
  occurred_at: "occurredAt",
  corrects: "corrects",
};

/** The CSV column of an entry input field ("marketValue" → "market_value"); unknown fields map to themselves. */
export function columnOfField(field: string): string {
  for (const [column, f] of Object.entries(FIELD_OF_COLUMN)) if (f === field) return column;
  return field;
}

// ---------------------------------------------------------------------------------------
// UTF-8

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Stands for bytes that are not UTF-8 in the decoded text; a NUL in the input means the same. */
const BAD = "\u0000";

/** How many bytes at the end of `b` start a multi-byte sequence that the next chunk completes. */
function incompleteTail(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= Math.min(3, n); k++) {
    const c = b[n - k]!;
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return need > k ? k : 0;
    }
  }
  return 0;
}

/** Length of the well-formed UTF-8 sequence at b[i] (Unicode table 3-7), or 0 if ill-formed. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => i + j < b.length && b[i + j]! >= lo && b[i + j]! <= hi;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Decodes complete UTF-8; each ill-formed byte becomes BAD (the fast path when all is well). */
function decodeMarked(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    const parts: string[] = [];
    let runStart = 0;
    let i = 0;
    while (i < b.length) {
      const len = sequenceLength(b, i);
      if (len > 0) {
        i += len;
        continue;
      }
      if (i > runStart) parts.push(utf8.decode(b.subarray(runStart, i)));
      parts.push(BAD);
      i += 1;
      runStart = i;
    }
    if (runStart < b.length) parts.push(utf8.decode(b.subarray(runStart)));
    return parts.join("");
  }
}

/**
 * Decodes a stream of byte chunks as UTF-8, carrying a sequence split across two chunks to
 * the next one. Ill-formed bytes become BAD, so the parser places them in a row and a
 * column; a sequence left incomplete at the end of the input is ill-formed too.
 */
export async function* decodeUtf8Chunks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<string> {
  let carry: Uint8Array = new Uint8Array(0);
  let first = true;
  for await (const chunk of chunks) {
    let bytes = chunk;
    if (carry.length > 0) {
      bytes = new Uint8Array(carry.length + chunk.length);
      bytes.set(carry, 0);
      bytes.set(chunk, carry.length);
    }
    if (first && bytes.length >= 2) {
      first = false;
      if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) throw new Utf16Error();
    }
    const tail = incompleteTail(bytes);
    carry = bytes.slice(bytes.length - tail);
    const text = decodeMarked(bytes.subarray(0, bytes.length - tail));
    if (text.length > 0) yield text;
  }
  if (carry.length > 0) yield decodeMarked(carry);
}

class Utf16Error extends Error {}

// ---------------------------------------------------------------------------------------
// Reading

const QUOTING_ERRORS = new Set([
  "CSV_INVALID_CLOSING_QUOTE",
  "CSV_QUOTE_NOT_CLOSED",
  "CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE",
  "INVALID_OPENING_QUOTE",
  "CSV_INVALID_OPENING_QUOTE",
]);

type Parsed = { ordinal: number; cells: string[] } | { ordinal: number; skipped: CsvError };

interface Header {
  /** For each cell position, the known column it holds. */
  columns: Array<CsvColumn | CsvExportColumn>;
}

function readHeader(cells: string[]): { header: Header } | { errors: CsvRowError[] } {
  const errors: CsvRowError[] = [];
  const columns: Array<CsvColumn | CsvExportColumn> = [];
  const seen = new Set<string>();
  const known = new Set<string>([...CSV_COLUMNS, ...CSV_EXPORT_COLUMNS]);
  cells.forEach((cell, i) => {
    if (cell.includes(BAD)) {
      errors.push({ row: 0, column: `cell ${i + 1}`, code: "CSV_ENCODING", message: `the header's cell ${i + 1} is not valid UTF-8 text (save the file as UTF-8)` });
      return;
    }
    const name = cell.trim().toLowerCase();
    if (name === "") {
      errors.push({ row: 0, column: `cell ${i + 1}`, code: "CSV_UNKNOWN_COLUMN", message: `the header's cell ${i + 1} is empty: every column needs a name (remove empty columns)` });
    } else if (!known.has(name)) {
      errors.push({ row: 0, column: name, code: "CSV_UNKNOWN_COLUMN", message: `unknown column "${cell.trim()}"; the columns are ${CSV_COLUMNS.join(", ")}` });
    } else if (seen.has(name)) {
      errors.push({ row: 0, column: name, code: "CSV_DUPLICATE_COLUMN", message: `column "${name}" appears twice in the header` });
    }
    seen.add(name);
    columns.push(name as CsvColumn);
  });
  // A header cell that could not be decoded may be the missing column: that error says enough.
  if (errors.some((e) => e.code === "CSV_ENCODING")) return { errors };
  for (const required of CSV_REQUIRED_COLUMNS) {
    if (!seen.has(required)) errors.push({ row: 0, column: required, code: "CSV_MISSING_COLUMN", message: `the header has no "${required}" column (required: ${CSV_REQUIRED_COLUMNS.join(", ")})` });
  }
  return errors.length > 0 ? { errors } : { header: { columns } };
}

const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;

function readRow(row: number, cells: string[], header: Header): CsvItem[] {
  const errors: CsvItem[] = [];
  const fields: Partial<Record<keyof CsvEntryFields, string | number>> = {};
  let seq: number | null = null;
  let empty = true;
  for (let i = 0; i < cells.length; i++) {
    const column = header.columns[i]!;
    const raw = cells[i]!;
    if (raw !== "") empty = false;
    if (raw.includes(BAD)) {
      errors.push({ row, error: { row, column, code: "CSV_ENCODING", message: `row ${row}, ${column}: not valid UTF-8 text, or a NUL character (save the file as UTF-8)` } });
      continue;
    }
    const value = VERBATIM_COLUMNS.has(column) ? raw : raw.trim();
    if (value === "" || column === "recorded_at" || column === "hash") continue;
    if (column === "seq" || column === "corrects") {
      if (!POSITIVE_INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
        errors.push({ row, error: { row, column, code: "INVALID_INTEGER", message: `row ${row}, ${column}: "${value}" is not an entry number (a whole number from 1)` } });
        continue;
      }
      if (column === "seq") seq = Number(value);
      else fields.corrects = Number(value);
      continue;
    }
    fields[FIELD_OF_COLUMN[column]] = value;
  }
  // A record whose cells are all empty (a blank line, or a cleared spreadsheet row) is no entry.
  if (empty) return [];
  if (errors.length > 0) return errors;
  // The resource of a correction may be left empty (it is the corrected entry's); the ledger's rules check it.
  for (const required of ["kind", "quantity"] as const) {
    if (fields[FIELD_OF_COLUMN[required]] === undefined) {
      errors.push({ row, error: { row, column: required, code: "FIELD_REQUIRED", message: `row ${row}: ${required} is empty` } });
    }
  }
  if (errors.length > 0) return errors;
  return [{ row, entry: fields as unknown as CsvEntryFields, seq }];
}

function skippedError(row: number, err: CsvError, header: Header | null): { error: CsvRowError; blank: boolean; stop: boolean } {
  const code = String(err.code);
  if (code === "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH") {
    const record = (err as unknown as { record?: unknown }).record;
    const cells = Array.isArray(record) ? (record as unknown[]) : null;
    const blank = cells !== null && cells.every((c) => c === "");
    const count = cells?.length ?? 0;
    const expected = header?.columns.length ?? 0;
    const column = count > expected ? `cell ${expected + 1}` : count < expected && header ? header.columns[count]! : null;
    const message = count > expected
      ? `row ${row} has ${count} cells but the header has ${expected} columns (an extra cell, or a comma in a value that is not quoted)`
      : `row ${row} has ${count} cells but the header has ${expected} columns (${column ?? "a column"} and after are missing)`;
    return { error: { row, column, code: "CSV_COLUMN_COUNT", message }, blank, stop: false };
  }
  if (code === "CSV_MAX_RECORD_SIZE") {
    return {
      error: { row, column: null, code: "CSV_ROW_TOO_LARGE", message: `row ${row} is longer than ${CSV_MAX_RECORD_CHARS} characters (a quote that is never closed?); reading stopped there` },
      blank: false,
      stop: true,
    };
  }
  if (QUOTING_ERRORS.has(code)) {
    const field = (err as { column?: unknown }).column;
    const column = typeof field === "number" && header ? (header.columns[field] ?? `cell ${field + 1}`) : null;
    const reason = code === "CSV_QUOTE_NOT_CLOSED"
      ? "a quoted value is never closed"
      : code === "INVALID_OPENING_QUOTE" || code === "CSV_INVALID_OPENING_QUOTE"
        ? "a quote inside a value that does not start with a quote (quote the whole value and double the quotes inside it)"
        : "a quoted value is followed by something other than a comma or the end of the line (double the quotes inside a quoted value)";
    return { error: { row, column, code: "CSV_QUOTING", message: `row ${row}${column ? `, ${column}` : ""}: ${reason}; reading stopped there` }, blank: false, stop: true };
  }
  return { error: { row, column: null, code: "CSV_MALFORMED", message: `row ${row}: ${err.message}` }, blank: false, stop: true };
}

/**
 * Reads a ledger CSV from byte chunks: yields each data row's fields (with its row number
 * and the `seq` it claims, if the file has that column) or its errors, in file order. After
 * a header error, an encoding that is not UTF-8, bad quoting or an overlong row, the reader
 * yields that error and stops. `onHeader` sees a valid header's columns and may stop there.
 */
export async function* readLedgerCsv(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { onHeader?: (columns: ReadonlyArray<CsvColumn | CsvExportColumn>) => "continue" | "stop" } = {},
): AsyncGenerator<CsvItem> {
  let ordinal = 0;
  // Set at a fatal error, so the source is no longer read (the parser may not emit another record to notice).
  let fatal = false;
  const skipped: Array<{ ordinal: number; skipped: CsvError }> = [];
  const options: Options<{ ordinal: number; cells: string[] }, string[]> = {
    bom: true,
    record_delimiter: ["\r\n", "\n"],
    skip_records_with_error: true,
    max_record_size: CSV_MAX_RECORD_CHARS,
    on_record: (cells) => ({ ordinal: ordinal++, cells }),
    on_skip: (err) => {
      if (!err) return undefined;
      skipped.push({ ordinal: ordinal++, skipped: err });
      // Only a wrong cell count leaves the parser in step with the file.
      if (String(err.code) !== "CSV_RECORD_INCONSISTENT_FIELDS_LENGTH") fatal = true;
      return undefined;
    },
  };
  const parser = parse(options as unknown as Options);
  let utf16 = false;
  const text = async function* () {
    try {
      for await (const t of decodeUtf8Chunks(chunks)) {
        if (fatal) return;
        yield t;
      }
    } catch (e) {
      if (!(e instanceof Utf16Error)) throw e;
      utf16 = true;
    }
  };
  // pipeline passes a failure of the source (a read error) on to the parser, so iterating
  // the parser throws it; breaking out of the iteration destroys both.
  const records = pipeline(Readable.from(text()), parser, () => {});
  let header: Header | null = null;
  let sawHeader = false;

  // Records and skipped records come back in file order by their ordinal.
  const handle = function* (item: Parsed): Generator<CsvItem, boolean> {
    if ("skipped" in item) {
      const { error, blank, stop } = skippedError(item.ordinal, item.skipped, header);
      if (item.ordinal === 0) {
        sawHeader = true;
        yield { row: 0, error: { ...error, row: 0, message: error.message.replace(/^row 0/, "the header") } };
        return true;
      }
      if (!blank) yield { row: item.ordinal, error };
      return stop;
    }
    if (item.ordinal === 0) {
      sawHeader = true;
      const h = readHeader(item.cells);
      if ("errors" in h) {
        for (const error of h.errors) yield { row: 0, error };
        return true;
      }
      header = h.header;
      // A caller that only wanted the columns stops here.
      return opts.onHeader?.(h.header.columns) === "stop";
    }
    yield* readRow(item.ordinal, item.cells, header!);
    return false;
  };

  try {
    for await (const record of records as AsyncIterable<{ ordinal: number; cells: string[] }>) {
      while (skipped.length > 0 && skipped[0]!.ordinal < record.ordinal) {
        if (yield* handle(skipped.shift()!)) return;
      }
      if (yield* handle(record)) return;
    }
    while (skipped.length > 0) {
      if (yield* handle(skipped.shift()!)) return;
    }
  } finally {
    records.destroy();
  }
  if (utf16) {
    yield { row: 0, error: { row: 0, column: null, code: "CSV_ENCODING", message: "the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)" } };
  } else if (!sawHeader) {
    yield { row: 0, error: { row: 0, column: null, code: "CSV_EMPTY", message: "the file is empty: the first line must name the columns (kind, resource, quantity, …)" } };
  }
}

// ---------------------------------------------------------------------------------------
// Writing

/** One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces (RFC 4180). */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]|^[ \t]|[ \t]$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record with its CRLF line end (RFC 4180). */
export function csvRecord(values: ReadonlyArray<string | number | null | undefined>): string {
  return values.map(csvField).join(",") + "\r\n";
}
