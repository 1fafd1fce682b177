/**
 * Keeping the books from a terminal: the real `hyphae` CLI beside a real node on an
 * embedded data directory. Resources, members and entries go through the node's admin
 * socket; an import streams its progress back (plain lines: stderr is not a terminal
 * here); exports stream back piece by piece; a row tampered with through raw SQL (node
 * stopped, trigger disabled) makes `ledger verify`, run without a node, exit 1 naming it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/connect.ts";
import { freePort } from "../helpers/node.ts";
import { ProcessGroup, type ProcessResult } from "../helpers/processes.ts";

let dataDir: string;
let workDir: string;
let port: number;
let origin: string;

const procs = new ProcessGroup(() => ({
  HOME: os.tmpdir(),
  DATA_DIR: dataDir,
  LOG_LEVEL: "error",
  HOST: "127.0.0.1",
  PORT: String(port),
  PUBLIC_URL: origin,
  POD_SLUG: "oak-street",
  POD_NAME: "Oak Street",
}));
const hyphae = (args: string[]): Promise<ProcessResult> => procs.hyphae(args);
const POD = ["--pod", "oak-street"];

async function ok(args: string[]): Promise<string> {
  const r = await hyphae(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

let member = "";
let node: ReturnType<typeof procs.node>;

/** `rows` rows: a contribution of 4 kg rice, then three draws of 1 kg by the member, and so on. */
function csvOf(rows: number, memberPseudonym: string): string {
  const lines = ["kind,resource,quantity,fund,member,public_memo,private_memo,occurred_at"];
  for (let i = 0; i < rows; i++) {
    const day = `2026-10-${String(1 + (i % 28)).padStart(2, "0")}`;
    lines.push(i % 4 === 0 ? `contribution,rice,4,,,Sack ${i},,${day}` : `draw,rice,1,survival,${memberPseudonym},Pantry bag ${i},Secret note ${i},${day}`);
  }
  return lines.join("\r\n") + "\r\n";
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-books-cli-"));
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-books-files-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  node = procs.node();
  await node.ready;
}, 120_000);

afterAll(() => {
  procs.killAll();
  for (const dir of [dataDir, workDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("hyphae resource, member and ledger add through the node's admin socket", () => {
  it("adds a resource with a reference price and lists it", { timeout: 60_000 }, async () => {
    const added = await ok(["resource", "add", ...POD, "rice", "--name", "Rice", "--unit", "kilogram", "--category", "food", "--price", "1.90", "--price-source", "Corner shop", "--price-date", "2026-10-01"]);
    expect(added).toBe("Added rice             Rice — kilogram, food; reference price 1.9 EUR per kilogram (Corner shop, 2026-10-01)\n");
    const listed = JSON.parse(await ok(["--json", "resource", "list", ...POD]));
    expect(listed).toEqual([expect.objectContaining({ key: "rice", unit: "kilogram", referencePrice: "1.9", currency: "EUR" })]);

    const bad = await hyphae(["resource", "add", ...POD, "beans", "--name", "Beans", "--unit", "furlong", "--category", "food"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^hyphae: .*unit/);
  });

  it("member add prints the pseudonym; member list shows the name to the steward", { timeout: 60_000 }, async () => {
    const out = await ok(["member", "add", ...POD, "--name", "Ada Lovelace", "--contact", "ada@example.org"]);
    member = out.split("\n")[0]!;
    expect(member).toMatch(/^m-[0-9a-f]{4}$/);
    expect(out).toContain(`Registered Ada Lovelace as ${member}`);
    expect(await ok(["member", "list", ...POD])).toMatch(new RegExp(`^${member}\\s+Ada Lovelace  <ada@example.org>  since \\d{4}-\\d{2}-\\d{2}\\n$`));
  });

  it("member update changes the contact or the name (one left out keeps its value); bad input exits 1 naming the code", { timeout: 60_000 }, async () => {
    expect(await ok(["member", "update", member, ...POD, "--contact", "flat 3"])).toBe(`Updated ${member}: Ada Lovelace  <flat 3>. The name stays private.\n`);
    expect(await ok(["member", "update", member, ...POD, "--name", "Ada King", "--contact", ""])).toBe(`Updated ${member}: Ada King (no contact). The name stays private.\n`);
    const json = JSON.parse(await ok(["--json", "member", "update", member, ...POD, "--name", "Ada Lovelace", "--contact", "ada@example.org"]));
    expect(json).toEqual({ pseudonym: member, name: "Ada Lovelace", contact: "ada@example.org", joinedAt: expect.any(String) });

    const empty = await hyphae(["member", "update", member, ...POD, "--name", " "]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("(FIELD_REQUIRED)");
    const unknown = await hyphae(["member", "update", member === "m-0000" ? "m-ffff" : "m-0000", ...POD, "--name", "Nobody"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("(UNKNOWN_MEMBER)");
    const nothing = await hyphae(["member", "update", member, ...POD]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toBe("hyphae: Give --name, --contact or both.\n");
    expect(await ok(["member", "list", ...POD])).toMatch(new RegExp(`^${member}\\s+Ada Lovelace  <ada@example.org>  since `));
  });

  it("ledger add records a contribution, then a draw that prints its receipt number and URL", { timeout: 60_000 }, async () => {
    const contribution = await ok(["ledger", "add", ...POD, "--kind", "contribution", "--resource", "rice", "--quantity", "10", "--member", member, "--occurred", "2026-09-30"]);
    expect(contribution).toMatch(/^Recorded Entry 1: contribution of 10 kilogram rice, market value 19 EUR, charged 0, member m-[0-9a-f]{4}\n  hash [0-9a-f]{64}\n$/);

    const draw = await ok(["ledger", "add", ...POD, "--kind", "draw", "--resource", "rice", "--quantity", "2.5", "--fund", "survival", "--member", member, "--charged", "0", "--memo", "Pantry bag", "--private-memo", "Collected by her son", "--occurred", "2026-09-30"]);
    const receipt = /\nReceipt (R1-[A-Z2-9]{6}): (\S+)\n$/.exec(draw);
    expect(receipt, draw).not.toBeNull();
    expect(receipt![2]).toBe(`${origin}/pods/oak-street/receipts/${receipt![1]}`);
    expect(draw).toContain("Entry 2: draw of 2.5 kilogram rice (survival fund), market value 4.75 EUR, charged 0");
  });

  it("ledger add refuses an outflow without a fund and a draw larger than the stock, naming the code", { timeout: 60_000 }, async () => {
    const noFund = await hyphae(["ledger", "add", ...POD, "--kind", "draw", "--resource", "rice", "--quantity", "1"]);
    expect(noFund.code).toBe(1);
    expect(noFund.stderr).toContain("(FUND_REQUIRED)");
    const tooMuch = await hyphae(["ledger", "add", ...POD, "--kind", "draw", "--resource", "rice", "--quantity", "100", "--fund", "survival"]);
    expect(tooMuch.code).toBe(1);
    expect(tooMuch.stderr).toContain("(INSUFFICIENT_STOCK)");
  });

  it("ledger verify says Chain OK with the count and head", { timeout: 60_000 }, async () => {
    const out = await ok(["ledger", "verify", ...POD]);
    expect(out).toMatch(/^Chain OK: 2 entries, head [0-9a-f]{64} \(entry 2\)\n$/);
  });
});

describe("hyphae ledger import and export", () => {
  let goodFile: string;

  it("imports 2500 rows with plain progress lines when stderr is not a terminal", { timeout: 120_000 }, async () => {
    goodFile = path.join(workDir, "pantry.csv");
    fs.writeFileSync(goodFile, csvOf(2500, member));
    // A relative path: the CLI hands the node the absolute one.
    const r = await procs.hyphae(["ledger", "import", ...POD, path.relative(process.cwd(), goodFile)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(
      [
        "Checking every row before writing anything…",
        "Checked 2500 rows: no errors.",
        "Writing 2500 rows in one transaction…",
        "Written 40% (1000 of 2500 rows)",
        "Written 80% (2000 of 2500 rows)",
        "Written 100% (2500 of 2500 rows)",
        "",
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/^Imported 2500 entries \(3–2502\) from .*pantry\.csv\. Import [0-9a-f-]{36}; the same file is refused if imported again\.\n$/);
    expect(await ok(["ledger", "verify", ...POD])).toMatch(/^Chain OK: 2502 entries, head [0-9a-f]{64} \(entry 2502\)\n$/);
  });

  it("refuses the same file again (LEDGER_IMPORT_DUPLICATE)", { timeout: 60_000 }, async () => {
    const r = await hyphae(["ledger", "import", ...POD, goodFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("(LEDGER_IMPORT_DUPLICATE)");
  });

  it("a bad file lists its errors by row and column, exits 1 and writes nothing", { timeout: 60_000 }, async () => {
    const bad = path.join(workDir, "bad.csv");
    fs.writeFileSync(
      bad,
      [
        "kind,resource,quantity,fund,member",
        "contribution,rice,2,,",
        "draw,rice,-1,survival,",
        "draw,beans,1,survival,",
        "draw,rice,1,,",
        `draw,rice,1.1234567,survival,${member}`,
        "",
      ].join("\n"),
    );
    const r = await hyphae(["ledger", "import", ...POD, bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n");
    expect(lines.slice(0, 2)).toEqual(["Checking every row before writing anything…", "hyphae: The CSV has 4 errors in 4 rows; nothing was imported (CSV_INVALID)"]);
    expect(lines[2]).toMatch(/^ {2}row 2, column quantity: \S.* \(NOT_POSITIVE\)$/);
    expect(lines.filter((l) => l.startsWith("  row ")).map((l) => l.replace(/: .*\((\w+)\)$/, ": ($1)"))).toEqual([
      "  row 2, column quantity: (NOT_POSITIVE)",
      "  row 3, column resource: (UNKNOWN_RESOURCE)",
      "  row 4, column fund: (FUND_REQUIRED)",
      "  row 5, column quantity: (TOO_PRECISE)",
    ]);
    expect(await ok(["ledger", "verify", ...POD])).toMatch(/^Chain OK: 2502 entries/);
  });

  it("a missing file is refused by the CLI before the node is asked", { timeout: 60_000 }, async () => {
    const r = await hyphae(["ledger", "import", ...POD, path.join(workDir, "nope.csv")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^hyphae: Cannot read .*nope\.csv/);
  });

  it("exports CSV to standard output without private fields, and a private JSON file (0600) with them", { timeout: 60_000 }, async () => {
    const csv = await ok(["ledger", "export", ...POD]);
    const lines = csv.trimEnd().split(/\r?\n/);
    expect(lines).toHaveLength(2503);
    expect(csv).toContain("Pantry bag 7");
    expect(csv).not.toContain("Secret note");
    expect(csv).not.toContain(member);

    const file = path.join(workDir, "private.json");
    const out = await ok(["ledger", "export", ...POD, "--format", "json", "--private", "--output", file]);
    expect(out).toMatch(/^Wrote \d+ bytes of private JSON to .*private\.json \(head: entry 2502, [0-9a-f]{64}\)\.\n$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(doc.entries).toHaveLength(2502);
    expect(doc.head.seq).toBe(2502);
    expect(JSON.stringify(doc)).toContain("Secret note 7");
    expect(JSON.stringify(doc)).toContain("Collected by her son");
  });
});

describe("hyphae ledger verify after tampering (node stopped)", () => {
  it("exits 1 naming the first bad entry", { timeout: 120_000 }, async () => {
    node.child.kill("SIGTERM");
    expect((await node.done).code).toBe(0);
    const handle = await openDatabase({ dataDir });
    try {
      await sql.raw("alter table ledger_entries disable trigger ledger_entries_append_only").execute(handle.db);
      await sql.raw("update ledger_entries set quantity = 3 where seq = 17").execute(handle.db);
      await sql.raw("alter table ledger_entries enable trigger ledger_entries_append_only").execute(handle.db);
    } finally {
      await handle.close();
    }
    const r = await hyphae(["ledger", "verify", ...POD]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^hyphae: Entry 17 does not match its hash: its content hashes to [0-9a-f]{64}, the ledger stores [0-9a-f]{64}\. It was changed after it was recorded\.\n  The 16 entries before it verify \(up to entry 16, [0-9a-f]{64}\)\.\n$/);
  });
});
