/**
 * CSV import into a pod's books on a real node and database (PGlite, or PostgreSQL with
 * HYPHAE_TEST_DATABASE=postgres): the example file, all or nothing, refusing the same file
 * twice, BOM and CRLF, every kind of bad input named by row and column, exact decimals.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBalances, listEntries, recordEntry, verifyLedger, findReceipt } from "../../src/services/ledger.ts";
import { updateBookSettings } from "../../src/services/books.ts";
import { importLedgerCsv, MAX_LISTED_ERRORS, type ImportProgress } from "../../src/services/ledger-io.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { briefErrors, domainError, fixedDeps, newBookPod, rowErrors } from "./import-books-fixture.ts";

let node: TestNode;
let deps: ServiceDeps;
let tmp: string;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "importer" });
  deps = fixedDeps(node.deps);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-import-"));
});

afterAll(async () => {
  await node?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const HEADER = "kind,resource,quantity,unit,fund,market_value,occurred_at,member,public_memo\n";

async function entryCount(slug: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from ledger_entries e join pods p on p.id = e.pod_id where p.slug = ${slug}`.execute(deps.db);
  return Number(rows[0]!.n);
}

async function importCount(slug: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from ledger_imports i join pods p on p.id = i.pod_id where p.slug = ${slug}`.execute(deps.db);
  return Number(rows[0]!.n);
}

const stockOf = (b: Awaited<ReturnType<typeof getBalances>>, key: string) => b.stock.find((s) => s.resource === key)?.quantity;

describe("importing the example file", () => {
  it("imports every row from a file path in one import, chained, with receipts, progress for both phases", async () => {
    const pod = await newBookPod(deps, "example");
    const file = path.join(tmp, "example.csv");
    fs.writeFileSync(file, pod.example);
    const progress: ImportProgress[] = [];
    const result = await importLedgerCsv(deps, pod.slug, { path: file }, { onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ importId: expect.any(String), rows: 22, firstSeq: 1, lastSeq: 22 });

    const entries = await listEntries(deps, pod.slug, { limit: 1000 });
    expect(entries.map((e) => e.kind)).toEqual([
      "contribution", "contribution", "contribution", "contribution", "transfer_in", "draw", "draw", "draw", "expenditure", "contribution",
      "contribution", "draw", "contribution", "draw", "draw", "correction", "transfer_out", "draw", "expenditure", "draw", "correction", "draw",
    ]);
    const { rows } = await sql<{ n: string }>`select count(*) as n from ledger_entries where import_id = ${result.importId}`.execute(deps.db);
    expect(Number(rows[0]!.n)).toBe(22);
    expect(await importCount(pod.slug)).toBe(1);
    expect((await verifyLedger(deps, pod.slug)).ok).toBe(true);

    // Row 2: squash from a member, corrected by row 16 (-0.5); row 12 drew 3 drill days, row 21 gives one back.
    const squash = entries[1]!;
    expect([squash.member, squash.privateMemo, squash.quantity, squash.marketValue]).toEqual([pod.members.get("m-3f9a"), "Left at the back door on Saturday morning", "12.5", "22.5"]);
    expect(entries[15]).toMatchObject({ kind: "correction", corrects: 2, quantity: "-0.5", resource: "squash", member: pod.members.get("m-3f9a") });
    expect(entries[9]).toMatchObject({ resource: "nappies", marketValue: "18.6", counterpartyKind: "outside", counterparty: "Pharmacy on Mill Lane", publicMemo: 'Bought with the collection ("value" = what we paid)' });
    expect(entries[19]).toMatchObject({ kind: "draw", charged: "1", marketValue: "3.6", occurredAt: new Date("2026-11-12T17:45:00Z") });
    const balances = await getBalances(deps, pod.slug);
    expect(stockOf(balances, "rice")).toBe("16.5");
    expect(stockOf(balances, "squash")).toBe("8.5");
    expect(stockOf(balances, "drill-loan")).toBe("3");
    expect(stockOf(balances, "cash")).toBe("66.4");
    expect(stockOf(balances, "childcare")).toBe("0.5");
    // Every draw has its commons receipt.
    const draws = entries.filter((e) => e.kind === "draw");
    expect(draws.every((d) => d.receipt !== null)).toBe(true);
    expect(await findReceipt(deps, pod.slug, draws[0]!.receipt!)).toMatchObject({ seq: draws[0]!.seq, fund: "survival", member: pod.members.get("m-b71c") });

    expect(progress[0]).toEqual({ phase: "validate", rows: 0, total: null });
    expect(progress).toContainEqual({ phase: "validate", rows: 22, total: 22 });
    expect(progress).toContainEqual({ phase: "write", rows: 0, total: 22 });
    expect(progress.at(-1)).toEqual({ phase: "write", rows: 22, total: 22 });
  });

  it("refuses the same file again (path or text, same bytes) before any work, naming the earlier import", async () => {
    const pod = await newBookPod(deps, "twice");
    const first = await importLedgerCsv(deps, pod.slug, { text: pod.example });
    const file = path.join(tmp, "twice.csv");
    fs.writeFileSync(file, pod.example);
    for (const source of [{ text: pod.example }, { path: file }]) {
      const progress: ImportProgress[] = [];
      const e = await domainError(() => importLedgerCsv(deps, pod.slug, source, { onProgress: (p) => progress.push(p) }));
      expect([e.kind, e.code]).toEqual(["conflict", "LEDGER_IMPORT_DUPLICATE"]);
      expect(e.details).toMatchObject({ importId: first.importId, rows: 22, firstSeq: 1, lastSeq: 22 });
      expect(progress).toEqual([]);
    }
    expect(await entryCount(pod.slug)).toBe(22);
    // The same rows in other bytes (a blank line at the end) are another file.
    const other = await importLedgerCsv(deps, pod.slug, { text: `${pod.example}\n` });
    expect([other.firstSeq, other.lastSeq]).toEqual([23, 44]);
  });

  it("two imports of the same file at once: one writes, the other is refused as a duplicate", async () => {
    const pod = await newBookPod(deps, "race");
    const results = await Promise.allSettled([importLedgerCsv(deps, pod.slug, { text: pod.example }), importLedgerCsv(deps, pod.slug, { text: pod.example })]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(ok).toHaveLength(1);
    expect(refused.map((e) => e.code)).toEqual(["LEDGER_IMPORT_DUPLICATE"]);
    expect(await entryCount(pod.slug)).toBe(22);
  });
});

describe("all or nothing", () => {
  it("one bad row among 50 writes nothing and names the row and column", async () => {
    const pod = await newBookPod(deps, "atomic");
    const lines = Array.from({ length: 50 }, (_, i) => (i === 36 ? "contribution,lentils,1,,,,2026-11-20,," : `contribution,rice,${i + 1},kilogram,,,2026-11-20,,bag ${i + 1}`));
    const bad = HEADER + lines.join("\n") + "\n";
    const e = await domainError(() => importLedgerCsv(deps, pod.slug, { text: bad }));
    expect([e.kind, e.code]).toEqual(["invalid", "CSV_INVALID"]);
    expect(briefErrors(e)).toEqual([[37, "resource", "UNKNOWN_RESOURCE"]]);
    expect(rowErrors(e)[0]!.message).toMatch(/^row 37, resource: .*lentils/);
    expect(e.message).toMatch(/1 error in 1 row; nothing was imported/);
    expect(await entryCount(pod.slug)).toBe(0);
    expect(await importCount(pod.slug)).toBe(0);
    // Fixed, the file is new bytes and imports whole.
    const fixed = bad.replace("contribution,lentils,1,,,,2026-11-20,,", "contribution,rice,37,kilogram,,,2026-11-20,,bag 37");
    expect(await importLedgerCsv(deps, pod.slug, { text: fixed })).toMatchObject({ rows: 50, firstSeq: 1, lastSeq: 50 });
  });

  it("a failure while writing (after batches were appended) rolls everything back", async () => {
    const pod = await newBookPod(deps, "midway");
    const text = HEADER + Array.from({ length: 2500 }, (_, i) => `contribution,rice,1,kilogram,,,2026-11-20,,bag ${i}`).join("\r\n");
    const e = await importLedgerCsv(deps, pod.slug, { text }, {
      onProgress: (p) => {
        if (p.phase === "write" && p.rows >= 2000) throw new Error("the disk is full");
      },
    }).catch((error: unknown) => error as Error);
    expect((e as Error).message).toBe("the disk is full");
    expect(await entryCount(pod.slug)).toBe(0);
    expect(await importCount(pod.slug)).toBe(0);
    expect((await verifyLedger(deps, pod.slug)).headSeq).toBe(0);
    // Nothing left behind: the same file imports afterwards.
    expect(await importLedgerCsv(deps, pod.slug, { text })).toMatchObject({ rows: 2500, firstSeq: 1, lastSeq: 2500 });
    expect((await verifyLedger(deps, pod.slug)).ok).toBe(true);
  });

  it("rows are checked against the books as they are: an entry recorded before the import counts in the running stock", async () => {
    const pod = await newBookPod(deps, "after");
    await recordEntry(deps, pod.slug, { kind: "contribution", resource: "rice", quantity: "3", occurredAt: "2026-11-01" });
    const text = "kind,resource,quantity,fund,occurred_at\ndraw,rice,2,survival,2026-11-02\ndraw,rice,1.5,survival,2026-11-03\n";
    const e = await domainError(() => importLedgerCsv(deps, pod.slug, { text }));
    expect(briefErrors(e)).toEqual([[2, "quantity", "INSUFFICIENT_STOCK"]]);
    expect(rowErrors(e)[0]!.message).toContain("1 kilogram of rice");
    expect(await entryCount(pod.slug)).toBe(1);
  });
});

describe("file formats", () => {
  it("a file with a BOM and Windows line ends imports (as bytes, as from the API)", async () => {
    const pod = await newBookPod(deps, "bom");
    const text = "\uFEFF" + HEADER.trimEnd() + "\r\n" + "contribution,rice,2,kilogram,,,2026-11-20,,Sacks\r\ncontribution,squash,1.25,,,,2026-11-21T08:30:00+01:00,,\"Two, heavy\"\r\n";
    const bytes = new TextEncoder().encode(text);
    expect([bytes[0], bytes[1], bytes[2]]).toEqual([0xef, 0xbb, 0xbf]);
    expect(await importLedgerCsv(deps, pod.slug, { bytes })).toMatchObject({ rows: 2, firstSeq: 1, lastSeq: 2 });
    const entries = await listEntries(deps, pod.slug);
    expect(entries.map((e) => [e.kind, e.resource, e.quantity, e.publicMemo, e.occurredAt.toISOString()])).toEqual([
      ["contribution", "rice", "2", "Sacks", "2026-11-20T00:00:00.000Z"],
      ["contribution", "squash", "1.25", "Two, heavy", "2026-11-21T07:30:00.000Z"],
    ]);
  });

  it("a path that cannot be read is CSV_UNREADABLE", async () => {
    const pod = await newBookPod(deps, "nofile");
    for (const missing of [path.join(tmp, "missing.csv"), tmp]) {
      const e = await domainError(() => importLedgerCsv(deps, pod.slug, { path: missing }));
      expect([e.kind, e.code, e.details?.field]).toEqual(["invalid", "CSV_UNREADABLE", "path"]);
    }
  });

  it("0.1 + 0.2 kg through CSV is exactly 0.3 kg, and exactly 0.3 kg can be drawn", async () => {
    const pod = await newBookPod(deps, "exact");
    const text = "kind,resource,quantity,fund,occurred_at\ncontribution,rice,0.1,,2026-11-20\ncontribution,rice,0.2,,2026-11-20\n";
    await importLedgerCsv(deps, pod.slug, { text });
    expect(stockOf(await getBalances(deps, pod.slug), "rice")).toBe("0.3");
    const entries = await listEntries(deps, pod.slug);
    expect(entries.map((e) => e.marketValue)).toEqual(["0.24", "0.48"]);
    await importLedgerCsv(deps, pod.slug, { text: "kind,resource,quantity,fund,occurred_at\ndraw,rice,0.3,survival,2026-11-21\n" });
    const balances = await getBalances(deps, pod.slug);
    expect(stockOf(balances, "rice")).toBe("0");
    expect(balances.valueReclaimed).toBe("0.72");
    // One thousandth of a gram more than there is would be refused.
    const e = await domainError(() => importLedgerCsv(deps, pod.slug, { text: "kind,resource,quantity,fund\ndraw,rice,0.000001,survival\n" }));
    expect(briefErrors(e)).toEqual([[1, "quantity", "INSUFFICIENT_STOCK"]]);
  });
});

describe("bad input: each a stable code with its row and column, nothing written", () => {
  async function refused(text: string | Uint8Array) {
    const pod = await newBookPod(deps, "bad");
    const e = await domainError(() => importLedgerCsv(deps, pod.slug, typeof text === "string" ? { text } : { bytes: text }));
    expect([e.kind, e.code]).toEqual(["invalid", "CSV_INVALID"]);
    expect(await entryCount(pod.slug)).toBe(0);
    expect(await importCount(pod.slug)).toBe(0);
    return e;
  }

  it("the rules of the books, row by row, with the running stock", async () => {
    const rows = [
      "contribution,rice,2,kilogram,,,2026-11-20,,", // 1 ok
      "contribution,rice,1.0000001,,,,2026-11-20,,", // 2 too precise
      "contribution,rice,1,,,0.001,2026-11-20,,", // 3 value too precise (cents)
      "contribution,rice,1,,,,2027-01-01,,", // 4 far future
      "contribution,beans,1,,,,2026-11-20,,", // 5 unknown resource
      "draw,rice,1,,,,2026-11-20,,", // 6 outflow without fund
      "draw,rice,1.5,kilogram,survival,,2026-11-21,,", // 7 ok (stock 2 → 0.5)
      "draw,rice,1,kilogram,survival,,2026-11-21,,", // 8 overdraw (0.5 left)
      "contribution,rice,1,litre,,,2026-11-20,,", // 9 unit mismatch
      "contribution,rice,0,,,,2026-11-20,,", // 10 zero
      "contribution,rice,-1,,,,2026-11-20,,", // 11 negative
      "draw,rice,0.1,,grain_reserve,,2026-11-21,,", // 12 unknown fund
      "contribution,rice,1,,,,28/11/2026,,", // 13 date format
      "dontation,rice,1,,,,2026-11-20,,", // 14 unknown kind
      "contribution,rice,1,,,,2026-11-20,m-ffffffffffff,", // 15 unknown member
      "contribution,rice,1e3,,,,2026-11-20,,", // 16 exponent
      "contribution,rice,12,,,,2026-11-29,,", // 17 ok: tomorrow is within a day
    ];
    const e = await refused(HEADER + rows.join("\n") + "\n");
    expect(briefErrors(e)).toEqual([
      [2, "quantity", "TOO_PRECISE"],
      [3, "market_value", "TOO_PRECISE"],
      [4, "occurred_at", "FUTURE_DATE"],
      [5, "resource", "UNKNOWN_RESOURCE"],
      [6, "fund", "FUND_REQUIRED"],
      [8, "quantity", "INSUFFICIENT_STOCK"],
      [9, "unit", "UNIT_MISMATCH"],
      [10, "quantity", "NOT_POSITIVE"],
      [11, "quantity", "NOT_POSITIVE"],
      [12, "fund", "INVALID_FUND"],
      [13, "occurred_at", "INVALID_DATE"],
      [14, "kind", "INVALID_KIND"],
      [15, "member", "UNKNOWN_MEMBER"],
      [16, "quantity", "INVALID_DECIMAL"],
    ]);
    for (const r of rowErrors(e)) expect(r.message).toMatch(new RegExp(`^row ${r.row}, ${r.column}: `));
    expect(e.details).toMatchObject({ total: 14, more: 0 });
  });

  it("malformed CSV: bad quoting, an extra cell, an unknown column, a missing column, invalid UTF-8", async () => {
    expect(briefErrors(await refused(HEADER + 'contribution,rice,1,,,,2026-11-20,,ok\ncontribution,rice,1,,,,2026-11-20,,a "quoted" word\n'))).toEqual([[2, "public_memo", "CSV_QUOTING"]]);
    expect(briefErrors(await refused(HEADER + "contribution,rice,1,,,,2026-11-20,,ok,extra\n"))).toEqual([[1, "cell 10", "CSV_COLUMN_COUNT"]]);
    expect(briefErrors(await refused("kind,resource,quantity,colour\ncontribution,rice,1,red\n"))).toEqual([[0, "colour", "CSV_UNKNOWN_COLUMN"]]);
    expect(briefErrors(await refused("kind,resource,fund\ncontribution,rice,\n"))).toEqual([[0, "quantity", "CSV_MISSING_COLUMN"]]);
    const latin1 = new Uint8Array([...new TextEncoder().encode(HEADER + "contribution,rice,1,,,,2026-11-20,,caf"), 0xe9, 0x0a]);
    expect(briefErrors(await refused(latin1))).toEqual([[1, "public_memo", "CSV_ENCODING"]]);
    expect(briefErrors(await refused(""))).toEqual([[0, null, "CSV_EMPTY"]]);
    expect(briefErrors(await refused(HEADER))).toEqual([[0, null, "CSV_NO_ROWS"]]);
  });

  it("lists the first 100 errors and counts the rest", async () => {
    const e = await refused(HEADER + Array.from({ length: 250 }, () => "contribution,beans,1,,,,2026-11-20,,").join("\n"));
    expect(rowErrors(e)).toHaveLength(MAX_LISTED_ERRORS);
    expect(rowErrors(e).map((x) => x.row)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(e.details).toMatchObject({ total: 250, more: 150 });
    expect(e.message).toMatch(/250 errors in 250 rows; nothing was imported.*and 150 more/);
  });

  it("a seq column must match where each row lands", async () => {
    const pod = await newBookPod(deps, "seq");
    await recordEntry(deps, pod.slug, { kind: "contribution", resource: "rice", quantity: "3", occurredAt: "2026-11-01" });
    const text = "seq,kind,resource,quantity,fund,corrects\n2,contribution,rice,1,,\n3,draw,rice,1,survival,\n4,correction,rice,-1,,3\n";
    expect(await importLedgerCsv(deps, pod.slug, { text })).toMatchObject({ firstSeq: 2, lastSeq: 4 });
    const entries = await listEntries(deps, pod.slug);
    expect(entries[3]).toMatchObject({ seq: 4, kind: "correction", corrects: 3, fund: "survival" });
    // The same rows (other bytes) now land at 5–7: refused, since corrects 3 would not mean what the file says.
    const e = await domainError(() => importLedgerCsv(deps, pod.slug, { text: text.replace("\n", "\r\n") }));
    expect(briefErrors(e)).toEqual([
      [1, "seq", "SEQ_MISMATCH"],
      [2, "seq", "SEQ_MISMATCH"],
      [3, "seq", "SEQ_MISMATCH"],
      // Read as the file says, entry 3 is already corrected to nothing.
      [3, "quantity", "CORRECTION_TOO_LARGE"],
    ]);
    expect(await entryCount(pod.slug)).toBe(4);
  });

  it("a correction of a row in the same file, and corrections that break the rules", async () => {
    const pod = await newBookPod(deps, "fix");
    const ok = "kind,resource,quantity,fund,corrects\ncontribution,rice,5,,\ndraw,rice,2,survival,\ncorrection,,-1,,2\n";
    await importLedgerCsv(deps, pod.slug, { text: ok });
    expect(stockOf(await getBalances(deps, pod.slug), "rice")).toBe("4");
    const bad = "kind,resource,quantity,fund,corrects\ncorrection,rice,-1,,99\ncorrection,rice,-1,,\ncorrection,squash,-1,,1\ncorrection,rice,-9,,2\n";
    const e = await domainError(() => importLedgerCsv(deps, pod.slug, { text: bad }));
    expect(briefErrors(e)).toEqual([
      [1, "corrects", "CORRECTION_TARGET"],
      [2, "corrects", "CORRECTION_TARGET"],
      [3, "resource", "CORRECTION_MISMATCH"],
      [4, "quantity", "CORRECTION_TOO_LARGE"],
    ]);
  });

  it("allow_overdraw lets a draw go below zero", async () => {
    const pod = await newBookPod(deps, "overdraw");
    await updateBookSettings(deps, pod.slug, { allowOverdraw: true });
    await importLedgerCsv(deps, pod.slug, { text: "kind,resource,quantity,fund\ndraw,rice,2,survival\n" });
    expect(stockOf(await getBalances(deps, pod.slug), "rice")).toBe("-2");
  });
});
