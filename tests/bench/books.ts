/**
 * The open books under load (issue 9's benchmark), on PGlite and on PostgreSQL:
 *
 *  1. CSV import: N rows generated into a temporary file, imported with the real
 *     `importLedgerCsv` (hash, validate every row, then write in one transaction). Beside
 *     it, in the same run, a raw batched INSERT of the same rows into `ledger_entries`
 *     (1000 rows a statement, one transaction, hashes computed beforehand and not timed):
 *     the floor the database sets. Reported: rows/s of each and import ÷ raw (goal ≥ 0.7).
 *  2. Peak RSS of the import at N/10 and at N rows (goal: flat, the import streams).
 *  3. Weekly summary over ledgers of N/10 and N entries (goal: N ≤ 2× N/10): the raw rows
 *     are recorded one a minute, so every week holds 10 080 entries whatever the ledger's
 *     size, and the figure shows whether a summary costs the week or the whole ledger.
 *     Timed: H3's `publishSummary` (compute, store, outbox) of the last full week, cold.
 *  4. Chain verification of the imported ledger, N entries (`verifyLedger`; goal ≤ 10 s
 *     at 1,000,000).
 *
 * Each measurement runs in a child process of its own on a fresh database (an empty
 * data directory, or a fresh PostgreSQL database dropped afterwards), so one
 * measurement's memory or table size never colours another's; import and raw INSERT
 * therefore both start from an empty table. Peak RSS is the child's maxRSS once the
 * import has finished (everything before it streams or is small), next to its RSS just
 * before the import. On PGlite the database runs inside the child, so its memory counts.
 *
 * Run alone:  node tests/bench/books.ts [--rows N] [--databases pglite,postgres] [--json]
 *   BENCH_BOOKS_ROWS=100000 node tests/bench/books.ts     (default 1,000,000)
 * PostgreSQL: BENCH_DATABASE_URL (as for run.ts), else the local server at
 * postgres://postgres@127.0.0.1:5432/postgres when it answers; skipped otherwise.
 * `npm run bench` runs it too (target `books`; `--only books` for this part alone).
 */
import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../../src/config.ts";
import { entryHash, GENESIS_HASH, newSalt, privateDigest, type PublicEntry } from "../../src/domain/books/chain.ts";
import { marketValueOf, normalizeDecimal } from "../../src/domain/books/decimal.ts";
import { FUNDS, type Fund } from "../../src/domain/books/model.ts";
import { periodOf } from "../../src/domain/books/periods.ts";
import { configureLogging } from "../../src/lib/logging.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { importLedgerCsv } from "../../src/services/ledger-io.ts";
import { newReceiptNumber, verifyLedger } from "../../src/services/ledger.ts";
import { createPod } from "../../src/services/pods.ts";
import { publishSummary } from "../../src/services/summaries.ts";
import { createAppContext, type AppContext } from "../../src/wiring.ts";
import { createPostgresDatabase } from "../helpers/infra.ts";

const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_ROWS = 1_000_000;
const POD = "commons";
const RAW_BATCH = 1000;
const MINUTE = 60_000;
const WEEK = 7 * 24 * 60 * MINUTE;

const note = (message: string) => process.stderr.write(`bench books: ${message}\n`);

// ---------------------------------------------------------------------------------------
// The generated books: 8 priced resources, 200 members; in every group of four rows one
// contribution of 10 then three draws of 2.5 of the same resource, so stock never runs out.

const RESOURCES = [
  { key: "squash", name: "Squash", unit: "kilogram", category: "food", price: "2.40" },
  { key: "rice", name: "Rice", unit: "kilogram", category: "food", price: "1.90" },
  { key: "bread", name: "Bread", unit: "one", category: "food", price: "3.20" },
  { key: "childcare", name: "Childcare", unit: "hour", category: "care", price: "20" },
  { key: "drill-loan", name: "Drill loan", unit: "day", category: "tools", price: "12.50" },
  { key: "milk", name: "Milk", unit: "litre", category: "food", price: "1.15" },
  { key: "nappies", name: "Nappies", unit: "one", category: "care", price: "0.30" },
  { key: "tutoring", name: "Tutoring", unit: "hour", category: "learning", price: "25" },
] as const;
const MEMBERS = 200;

interface GeneratedRow {
  kind: "contribution" | "draw";
  resource: number;
  quantity: string;
  fund: Fund | null;
  member: number;
  publicMemo: string;
  privateMemo: string;
  occurredAt: Date;
}

function rowAt(i: number, start: Date): GeneratedRow {
  const group = Math.floor(i / 4);
  const contribution = i % 4 === 0;
  return {
    kind: contribution ? "contribution" : "draw",
    resource: group % RESOURCES.length,
    quantity: contribution ? "10" : "2.5",
    fund: contribution ? null : FUNDS[i % FUNDS.length]!,
    member: contribution ? group % MEMBERS : (i * 7) % MEMBERS,
    publicMemo: contribution ? "Allotment harvest" : "Weekly pantry bag",
    privateMemo: i % 10 === 0 ? "Left at the back door; ring twice" : "",
    occurredAt: new Date(start.getTime() + i * MINUTE),
  };
}

/** Where the generated rows start: N minutes (one row a minute) ending two weeks ago. */
function startOf(rows: number, now: Date): Date {
  return new Date(now.getTime() - rows * MINUTE - 2 * WEEK);
}

// ---------------------------------------------------------------------------------------
// Worker side: one measurement on one fresh database.

type WorkerTask = { kind: "import" | "raw"; rows: number; env: Record<string, string> };

interface ImportMeasure {
  rows: number;
  csvBytes: number;
  importSeconds: number;
  importRowsPerSecond: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  verifySeconds: number;
  verifyOk: boolean;
  verifiedEntries: number;
}

interface RawMeasure {
  rows: number;
  insertSeconds: number;
  rawRowsPerSecond: number;
  summaryMs: number;
  summaryEntries: number;
  ledgerEntries: number;
}

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

async function setUpBooks(ctx: AppContext): Promise<string[]> {
  const deps = ctx.deps;
  await createPod(deps, { slug: POD, name: "Bench Commons" });
  for (const r of RESOURCES) {
    await addResource(deps, POD, { key: r.key, name: r.name, unit: r.unit, category: r.category, referencePrice: r.price, referencePriceSource: "bench", referencePriceOn: "2026-11-01" });
  }
  const pseudonyms: string[] = [];
  for (let m = 0; m < MEMBERS; m++) pseudonyms.push((await addMember(deps, POD, { name: `Member ${m}` })).pseudonym);
  return pseudonyms;
}

async function writeCsv(file: string, rows: number, start: Date, pseudonyms: string[]): Promise<number> {
  const out = fs.createWriteStream(file);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once("drain", () => resolve())));
  await write("occurred_at,kind,resource,quantity,fund,member,public_memo,private_memo\n");
  let chunk = "";
  for (let i = 0; i < rows; i++) {
    const r = rowAt(i, start);
    chunk += `${r.occurredAt.toISOString()},${r.kind},${RESOURCES[r.resource]!.key},${r.quantity},${r.fund ?? ""},${pseudonyms[r.member]},${r.publicMemo},${r.privateMemo}\n`;
    if (chunk.length > 1 << 16) {
      await write(chunk);
      chunk = "";
    }
  }
  await write(chunk);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return fs.statSync(file).size;
}

async function measureImport(ctx: AppContext, rows: number): Promise<ImportMeasure> {
  const pseudonyms = await setUpBooks(ctx);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-bench-csv-"));
  try {
    const file = path.join(dir, "ledger.csv");
    const csvBytes = await writeCsv(file, rows, startOf(rows, ctx.deps.clock.now()), pseudonyms);
    globalThis.gc?.();
    const rssBefore = process.memoryUsage.rss();
    const t0 = performance.now();
    const result = await importLedgerCsv(ctx.deps, POD, { path: file });
    const importSeconds = (performance.now() - t0) / 1000;
    const peak = process.resourceUsage().maxRSS * 1024;
    if (result.rows !== rows) throw new Error(`imported ${result.rows} rows, expected ${rows}`);
    const t1 = performance.now();
    const report = await verifyLedger(ctx.deps, POD);
    const verifySeconds = (performance.now() - t1) / 1000;
    return {
      rows,
      csvBytes,
      importSeconds,
      importRowsPerSecond: rows / importSeconds,
      rssBeforeMiB: mib(rssBefore),
      peakRssMiB: mib(peak),
      verifySeconds,
      verifyOk: report.ok,
      verifiedEntries: report.entries,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows the import would store, chained, without the import's work (built untimed). */
async function measureRaw(ctx: AppContext, rows: number): Promise<RawMeasure> {
  const deps = ctx.deps;
  const pseudonyms = await setUpBooks(ctx);
  const pod = await deps.db.selectFrom("pods").select("id").where("slug", "=", POD).executeTakeFirstOrThrow();
  const resources = await deps.db.selectFrom("book_resources").select(["id", "key"]).where("pod_id", "=", pod.id).execute();
  const members = await deps.db.selectFrom("book_members").select(["id", "pseudonym"]).where("pod_id", "=", pod.id).execute();
  const resourceId = new Map(resources.map((r) => [r.key, r.id]));
  const memberId = new Map(members.map((m) => [m.pseudonym, m.id]));
  const now = deps.clock.now();
  const start = startOf(rows, now);
  let prev = GENESIS_HASH;
  let receipts = 0;
  const batchAt = (from: number) => {
    const batch = [];
    for (let i = from; i < Math.min(rows, from + RAW_BATCH); i++) {
      const r = rowAt(i, start);
      const res = RESOURCES[r.resource]!;
      const pseudonym = pseudonyms[r.member]!;
      const receipt = r.kind === "draw" ? newReceiptNumber(++receipts) : null;
      const salt = newSalt();
      // One a minute, each recorded a minute after it occurred: 10 080 entries a week.
      const recordedAt = new Date(r.occurredAt.getTime() + MINUTE);
      const entry: PublicEntry = {
        seq: i + 1,
        id: deps.ids.uuid(),
        kind: r.kind,
        resource: res.key,
        unit: res.unit,
        quantity: r.quantity,
        fund: r.fund,
        marketValue: normalizeDecimal(marketValueOf(r.quantity, res.price)),
        charged: "0",
        currency: "EUR",
        counterpartyKind: "member",
        counterparty: null,
        publicMemo: r.publicMemo,
        occurredAt: r.occurredAt.toISOString(),
        recordedAt: recordedAt.toISOString(),
        corrects: null,
        privateDigest: privateDigest({ salt, member: pseudonym, privateMemo: r.privateMemo, receipt }),
      };
      const hash = entryHash(prev, entry);
      batch.push({
        pod_id: pod.id,
        seq: entry.seq,
        id: entry.id,
        kind: entry.kind,
        resource_id: resourceId.get(res.key)!,
        resource_key: res.key,
        unit: res.unit,
        currency: entry.currency,
        quantity: entry.quantity,
        fund: entry.fund,
        market_value: entry.marketValue,
        charged: entry.charged,
        counterparty_kind: entry.counterpartyKind,
        member_id: memberId.get(pseudonym)!,
        counterparty: null,
        public_memo: entry.publicMemo,
        private_memo: r.privateMemo,
        occurred_at: r.occurredAt,
        recorded_at: recordedAt,
        corrects_seq: null,
        receipt_number: receipt,
        private_salt: salt,
        private_digest: entry.privateDigest,
        prev_hash: prev,
        hash,
        import_id: null,
      });
      prev = hash;
    }
    return batch;
  };
  let insertMs = 0;
  let lastRecordedAt = start;
  await deps.db.transaction().execute(async (trx) => {
    for (let from = 0; from < rows; from += RAW_BATCH) {
      const batch = batchAt(from);
      lastRecordedAt = batch[batch.length - 1]!.recorded_at;
      const t = performance.now();
      await trx.insertInto("ledger_entries").values(batch).execute();
      insertMs += performance.now() - t;
    }
  });
  // (The commit is not timed; it is small next to a million inserts. The import's is.)
  await deps.db
    .insertInto("ledger_heads")
    .values({ pod_id: pod.id, seq: rows, hash: prev, receipts, updated_at: now })
    .onConflict((oc) => oc.column("pod_id").doUpdateSet({ seq: rows, hash: prev, receipts, updated_at: now }))
    .execute();

  // The last full week before the last entry: 10 080 entries, whatever the ledger's size.
  const week = periodOf("week", new Date(lastRecordedAt.getTime() - WEEK));
  const t = performance.now();
  const summary = await publishSummary(deps, POD, "week", week.start);
  const summaryMs = performance.now() - t;
  return { rows, insertSeconds: insertMs / 1000, rawRowsPerSecond: rows / (insertMs / 1000), summaryMs, summaryEntries: summary.entryCount, ledgerEntries: rows };
}

async function runWorker(task: WorkerTask): Promise<ImportMeasure | RawMeasure> {
  const config = loadConfig({
    PUBLIC_URL: "http://127.0.0.1:9",
    POD_SLUG: POD,
    LOG_LEVEL: "silent",
    ADMIN_SOCKET: "off",
    ...task.env,
  });
  await configureLogging(config.logLevel);
  const ctx = await createAppContext(config);
  try {
    return task.kind === "import" ? await measureImport(ctx, task.rows) : await measureRaw(ctx, task.rows);
  } finally {
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------------------
// Orchestrator.

interface DatabaseTarget {
  kind: "pglite" | "postgres";
  adminUrl: string | null;
}

function inWorker(task: WorkerTask): Promise<ImportMeasure | RawMeasure> {
  const child = fork(fileURLToPath(import.meta.url), ["--worker"], { execArgv: ["--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on("message", (message: { ok: true; result: ImportMeasure | RawMeasure } | { ok: false; error: string }) => {
      settled = true;
      if (message.ok) resolve(message.result);
      else reject(new Error(message.error));
    });
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`the ${task.kind} worker exited with code ${code} before reporting`));
    });
    child.send(task);
  });
}

async function onFreshDatabase<T>(target: DatabaseTarget, run: (env: Record<string, string>) => Promise<T>): Promise<T> {
  if (target.kind === "postgres") {
    const created = await createPostgresDatabase(target.adminUrl!);
    try {
      return await run({ DATABASE_URL: created.url });
    } finally {
      await created.drop();
    }
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-bench-books-"));
  try {
    return await run({ DATA_DIR: dataDir });
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface BooksSizeResult {
  rows: number;
  import: ImportMeasure;
  raw: RawMeasure;
  /** import rows/s ÷ raw INSERT rows/s (goal ≥ 0.7) */
  ratio: number;
}

export interface BooksDatabaseResult {
  database: "pglite" | "postgres";
  sizes: BooksSizeResult[];
  /** peak RSS at N ÷ at N/10 (goal: about 1) */
  rssGrowth: number | null;
  /** weekly summary ms at N ÷ at N/10 (goal ≤ 2) */
  summaryGrowth: number | null;
}

export interface BooksReport {
  rows: number;
  results: BooksDatabaseResult[];
  skipped: string[];
}

/** N: --rows, else BENCH_BOOKS_ROWS, else 1,000,000. */
function rowsFromEnv(flag?: string): number {
  const raw = flag ?? process.env.BENCH_BOOKS_ROWS?.trim() ?? String(DEFAULT_ROWS);
  const rows = Number(raw);
  if (!Number.isInteger(rows) || rows < 1000 || rows > 100_000_000) throw new Error(`--rows (BENCH_BOOKS_ROWS) must be a whole number from 1000 to 100000000 (got ${raw})`);
  return rows;
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function benchBooks(options: { rows?: number; databases?: Array<"pglite" | "postgres">; postgresAdminUrl?: string | null } = {}): Promise<BooksReport> {
  const rows = options.rows ?? rowsFromEnv();
  const wanted = options.databases ?? ["pglite", "postgres"];
  const targets: DatabaseTarget[] = [];
  const skipped: string[] = [];
  if (wanted.includes("pglite")) targets.push({ kind: "pglite", adminUrl: null });
  if (wanted.includes("postgres")) {
    const adminUrl = options.postgresAdminUrl ?? (process.env.BENCH_DATABASE_URL?.trim() || DEFAULT_POSTGRES_URL);
    if (await postgresReachable(adminUrl)) targets.push({ kind: "postgres", adminUrl });
    else skipped.push(`postgres: no server answered at ${adminUrl.replace(/\/\/[^@/]*@/, "//…@")}`);
  }
  const small = Math.max(1000, Math.round(rows / 10));
  const results: BooksDatabaseResult[] = [];
  for (const target of targets) {
    const sizes: BooksSizeResult[] = [];
    for (const n of [small, rows]) {
      note(`${target.kind}: importing ${n} CSV rows`);
      const imported = (await onFreshDatabase(target, (env) => inWorker({ kind: "import", rows: n, env }))) as ImportMeasure;
      note(`${target.kind}: ${Math.round(imported.importRowsPerSecond)} rows/s; raw batched INSERT of ${n} rows`);
      const raw = (await onFreshDatabase(target, (env) => inWorker({ kind: "raw", rows: n, env }))) as RawMeasure;
      sizes.push({ rows: n, import: imported, raw, ratio: imported.importRowsPerSecond / raw.rawRowsPerSecond });
    }
    const [a, b] = sizes;
    results.push({
      database: target.kind,
      sizes,
      rssGrowth: a && b && a !== b ? b.import.peakRssMiB / a.import.peakRssMiB : null,
      summaryGrowth: a && b && a !== b ? b.raw.summaryMs / a.raw.summaryMs : null,
    });
  }
  return { rows, results, skipped };
}

export function formatBooksReport(report: BooksReport): string {
  const lines = ["", `Open books: CSV import, raw INSERT, weekly summary, chain verification (N = ${report.rows.toLocaleString("en")})`, ""];
  const header = ["database", "rows", "import rows/s", "raw INSERT rows/s", "import/raw", "RSS before MiB", "peak RSS MiB", "weekly summary ms", "verify s"];
  const rows = report.results.flatMap((r) =>
    r.sizes.map((s) => [
      r.database,
      s.rows.toLocaleString("en"),
      s.import.importRowsPerSecond.toFixed(0),
      s.raw.rawRowsPerSecond.toFixed(0),
      s.ratio.toFixed(2),
      s.import.rssBeforeMiB.toFixed(0),
      s.import.peakRssMiB.toFixed(0),
      s.raw.summaryMs.toFixed(0),
      `${s.import.verifySeconds.toFixed(2)}${s.import.verifyOk ? "" : " (FAILED)"}`,
    ]),
  );
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (c < 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  lines.push(line(header), `|${widths.map((w, c) => (c < 1 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`, ...rows.map(line), "");
  for (const r of report.results) {
    const big = r.sizes[r.sizes.length - 1]!;
    lines.push(
      `  ${r.database}: peak RSS at ${big.rows.toLocaleString("en")} ÷ at ${r.sizes[0]!.rows.toLocaleString("en")} = ${r.rssGrowth?.toFixed(2) ?? "—"} (goal ≈ 1); ` +
        `weekly summary (${big.raw.summaryEntries} entries a week) ${r.summaryGrowth?.toFixed(2) ?? "—"}× (goal ≤ 2); ` +
        `import/raw ${big.ratio.toFixed(2)} (goal ≥ 0.7); verify ${big.import.verifySeconds.toFixed(2)} s for ${big.import.verifiedEntries.toLocaleString("en")} entries (goal ≤ 10 s at 1,000,000); CSV ${mib(big.import.csvBytes)} MiB`,
    );
  }
  for (const s of report.skipped) lines.push(`  skipped ${s}`);
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      worker: { type: "boolean", default: false },
      rows: { type: "string" },
      databases: { type: "string", default: "pglite,postgres" },
      json: { type: "boolean", default: false },
    },
  });
  if (values.worker) {
    process.once("message", (task: WorkerTask) => {
      runWorker(task).then(
        (result) => process.send!({ ok: true, result }, () => process.exit(0)),
        (error: unknown) => process.send!({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () => process.exit(1)),
      );
    });
    return;
  }
  const rows = rowsFromEnv(values.rows);
  const databases = values.databases.split(",").map((s) => s.trim());
  for (const d of databases) if (d !== "pglite" && d !== "postgres") throw new Error(`--databases takes pglite and/or postgres (got ${d})`);
  const report = await benchBooks({ rows, databases: databases as Array<"pglite" | "postgres"> });
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : formatBooksReport(report));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench books failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
