/**
 * The steward web app's Books pages on a real node, continued: importing a CSV file (the
 * count imported; a bad row shown with its number, column and reason and nothing imported;
 * the same form twice imports once; the same file again, a workbook, an empty or oversize
 * upload refused next to the file input), sovereignty indicators and their counts, and
 * publishing a period's summary.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as books from "../../src/services/books.ts";
import * as indicators from "../../src/services/indicators.ts";
import * as ledger from "../../src/services/ledger.ts";
import * as summaries from "../../src/services/summaries.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { onlyOwnScripts, formOf, StewardClient } from "../helpers/steward-web.ts";

let node: TestNode;
let client: StewardClient;
const POD = "oak-street";
const BOOKS = `/pods/${POD}/steward/books`;
const IMPORT = `${BOOKS}/import`;

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name}-error">([^<]*)</span>`).exec(page)?.[1];
const headSeq = async () => (await ledger.getLedgerHead(node.deps, POD)).seq;
const bytes = (text: string) => new Uint8Array(Buffer.from(text)) as Uint8Array<ArrayBuffer>;
const upload = (file: { name: string; type: string; bytes: Uint8Array<ArrayBuffer> }) => client.upload(IMPORT, IMPORT, {}, { file });
const csvFile = (text: string, name = "books.csv") => ({ name, type: "text/csv", bytes: bytes(text) });

const GOOD = ["kind,resource,quantity,fund,public_memo", "contribution,rice,10,,sacks from the co-op", "draw,rice,2,survival,", "contribution,rice,1.5,,"].join("\n") + "\n";

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD, podName: "Oak Street" });
  client = await StewardClient.signIn(node, POD);
  await books.addResource(node.deps, POD, { key: "rice", name: "Rice", unit: "kilogram", category: "food", referencePrice: "2" });
});

afterAll(async () => {
  await node?.stop();
});

describe("importing a CSV file", () => {
  it("shows a labelled file input on a multipart form, and says the import is all or nothing", async () => {
    const page = await client.get(IMPORT);
    expect(page.status).toBe(200);
    expect(page.text).toContain('enctype="multipart/form-data"');
    expect(page.text).toContain('<label for="f-file">CSV file');
    expect(page.text).toMatch(/<input type="file" id="f-file" name="file" required[^>]* accept="\.csv,text\/csv"/);
    expect(page.text).toContain("All or nothing.");
    expect(onlyOwnScripts(page.text)).toBe(true);
  });

  it("imports every row and says how many", async () => {
    const r = await upload(csvFile(GOOD));
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${IMPORT}?done=imported&rows=3&first=1&last=3`);
    expect(await headSeq()).toBe(3);
    const entries = await ledger.listEntries(node.deps, POD);
    expect(entries.map((e) => [e.kind, e.quantity])).toEqual([["contribution", "10"], ["draw", "2"], ["contribution", "1.5"]]);
    expect(entries[1]!.receipt).toMatch(/^R1-/);
    const page = await client.get(r.location!);
    expect(page.text).toContain("Imported <strong>3 rows</strong>");
    expect(page.text).toContain("the node read 3 rows");
    expect(page.text).toContain(`<a href="${BOOKS}/entries/1">1</a> to <a href="${BOOKS}/entries/3">3</a>`);
  });

  it("a file with a bad row shows that row's number, column and reason, and imports nothing", async () => {
    const bad = ["kind,resource,quantity,fund", "contribution,rice,1,", "draw,rice,abc,survival", "contribution,rice,2,", ""].join("\n");
    const r = await upload(csvFile(bad, "bad.csv"));
    expect(r.status).toBe(400);
    expect(r.text).toContain("Nothing was imported");
    expect(r.text).toContain("The node read 3 rows, and the file has 1 problem in 1 row.");
    const table = r.text.slice(r.text.indexOf('<table id="row-errors">'));
    const rows = [...table.matchAll(/<tr><td>(Row \d+ \(line \d+\))<\/td><td><code>([a-z_]+)<\/code><\/td><td>([^<]+)<\/td><td><code>([A-Z_]+)<\/code><\/td><\/tr>/g)].map((m) => [m[1], m[2], m[3], m[4]]);
    expect(rows).toEqual([["Row 2 (line 3)", "quantity", expect.stringMatching(/^Quantity must be a decimal number/), "INVALID_DECIMAL"]]);
    expect(await headSeq()).toBe(3);
    // Many bad rows: each listed.
    const worse = ["kind,resource,quantity,fund", "draw,rice,1,", "contribution,nowhere,1,", "draw,rice,100,survival"].join("\n");
    const w = await upload(csvFile(worse, "worse.csv"));
    expect(w.status).toBe(400);
    const codes = [...w.text.matchAll(/<tr><td>Row (\d+) \(line \d+\)<\/td><td><code>([a-z_]+)<\/code><\/td><td>[^<]+<\/td><td><code>([A-Z_]+)<\/code>/g)].map((m) => [Number(m[1]), m[2], m[3]]);
    expect(codes).toEqual([[1, "fund", "FUND_REQUIRED"], [2, "resource", "UNKNOWN_RESOURCE"], [3, "quantity", "INSUFFICIENT_STOCK"]]);
    expect(await headSeq()).toBe(3);
  });

  it("a header error names the header line", async () => {
    const r = await upload(csvFile("kind,resource,quantity,colour\ncontribution,rice,1,red\n", "odd.csv"));
    expect(r.status).toBe(400);
    expect(r.text).toContain("The header (line 1)");
    expect(r.text).toContain("CSV_UNKNOWN_COLUMN");
    expect(await headSeq()).toBe(3);
  });

  it("the same form sent twice imports once, and both answers say so", async () => {
    const text = "kind,resource,quantity\ncontribution,rice,7\n";
    const page = await client.get(IMPORT);
    const hidden = formOf(page.text, IMPORT);
    const send = () => {
      const form = new FormData();
      for (const [name, value] of Object.entries(hidden)) form.append(name, value);
      form.append("file", new Blob([bytes(text)], { type: "text/csv" }), "twice.csv");
      return client.request("POST", IMPORT, { body: form, headers: { origin: node.origin } });
    };
    const first = await send();
    const second = await send();
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect(first.location).toBe(`${IMPORT}?done=imported&rows=1&first=4&last=4`);
    expect(await headSeq()).toBe(4);
    // The same file from a new form is refused: the node remembers each file it imported.
    const again = await upload(csvFile(text, "twice-again.csv"));
    expect(again.status).toBe(409);
    expect(codeOn(again.text)).toBe("LEDGER_IMPORT_DUPLICATE");
    expect(errorNextTo(again.text, "file")).toMatch(/already imported/);
    expect(await headSeq()).toBe(4);
  });

  it("refuses a workbook, a picture, an empty file and no file, next to the file input", async () => {
    const xlsx = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, ...Buffer.from("[Content_Types].xml")]) as Uint8Array<ArrayBuffer>;
    const workbook = await upload({ name: "books.xlsx", type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", bytes: xlsx });
    expect(workbook.status).toBe(400);
    expect(codeOn(workbook.text)).toBe("NOT_CSV");
    expect(errorNextTo(workbook.text, "file")).toMatch(/^This is a spreadsheet workbook .* not a CSV file\. In your spreadsheet, save or download the sheet as “CSV/);
    // Named .csv, but the bytes are a PNG.
    const png = await upload({ name: "books.csv", type: "text/csv", bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]) as Uint8Array<ArrayBuffer> });
    expect(codeOn(png.text)).toBe("NOT_CSV");
    const utf16 = await upload({ name: "books.csv", type: "text/csv", bytes: new Uint8Array(Buffer.from("\ufeffkind,resource,quantity\n", "utf16le")) as Uint8Array<ArrayBuffer> });
    expect(codeOn(utf16.text)).toBe("NOT_CSV");
    const empty = await upload({ name: "empty.csv", type: "text/csv", bytes: new Uint8Array(0) as Uint8Array<ArrayBuffer> });
    expect(empty.status).toBe(400);
    expect(codeOn(empty.text)).toBe("FILE_EMPTY");
    const none = await client.upload(IMPORT, IMPORT, {}, {});
    expect(none.status).toBe(400);
    expect(codeOn(none.text)).toBe("FILE_REQUIRED");
    expect(errorNextTo(none.text, "file")).toBe("Choose a CSV file to import.");
    expect(await headSeq()).toBe(4);
  });

  it("refuses a file over the limit with a clear error, importing nothing", async () => {
    const line = "contribution,rice,1,,padding padding padding padding padding padding\n";
    const big = "kind,resource,quantity,fund,public_memo\n" + line.repeat(Math.ceil((12 * 1024 * 1024) / line.length));
    const r = await upload(csvFile(big, "huge.csv"));
    expect(r.status).toBe(413);
    expect(codeOn(r.text)).toBe("FILE_TOO_LARGE");
    expect(errorNextTo(r.text, "file")).toBe("The file is too large: at most 10 MB here. Import bigger files with the hyphae command.");
    expect(r.text).toContain('<input type="file" id="f-file"');
    expect(await headSeq()).toBe(4);
  });
});

describe("sovereignty indicators", () => {
  it("adds a counted indicator and records a dated count", async () => {
    const r = await client.post(`${BOOKS}/indicators`, { key: "disputes", name: "Disputes resolved without outside authority", description: "", source: "count", resource: "", entryKind: "" }, { from: `${BOOKS}/indicators` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BOOKS}/indicators/disputes?done=indicator-added`);
    expect(await indicators.listIndicators(node.deps, POD)).toMatchObject([{ key: "disputes", source: "count", resource: null, entryKind: null }]);
    const page = await client.get(r.location!);
    expect(page.text).toContain("Record a count");
    const today = node.deps.clock.now().toISOString().slice(0, 10);
    expect(page.text).toMatch(new RegExp(`id="f-countedOn" name="countedOn"[^>]* value="${today}"`));
    const count = await client.post(`${BOOKS}/indicators/disputes/counts`, { countedOn: "2026-01-20", count: "3", publicNote: "two neighbours, one landlord" }, { from: `${BOOKS}/indicators/disputes` });
    expect(count.status).toBe(303);
    expect(count.location).toBe(`${BOOKS}/indicators/disputes?done=count-recorded`);
    expect(await indicators.listIndicatorCounts(node.deps, POD, "disputes")).toMatchObject([{ countedOn: "2026-01-20", count: "3", publicNote: "two neighbours, one landlord" }]);
  });

  it("refuses a negative count and a ledger indicator without a resource, next to the field", async () => {
    const negative = await client.post(`${BOOKS}/indicators/disputes/counts`, { countedOn: "2026-01-21", count: "-1", publicNote: "" }, { from: `${BOOKS}/indicators/disputes` });
    expect(negative.status).toBe(400);
    expect(codeOn(negative.text)).toBe("NEGATIVE");
    expect(errorNextTo(negative.text, "count")).toBe("This cannot be negative.");
    expect(await indicators.listIndicatorCounts(node.deps, POD, "disputes")).toHaveLength(1);
    const noResource = await client.post(`${BOOKS}/indicators`, { key: "meals", name: "Meals", source: "ledger", resource: "", entryKind: "draw" }, { from: `${BOOKS}/indicators` });
    expect(noResource.status).toBe(400);
    expect(codeOn(noResource.text)).toBe("INDICATOR_FIELDS");
    expect(errorNextTo(noResource.text, "resource")).toBeTruthy();
    const ok = await client.post(`${BOOKS}/indicators`, { key: "rice-drawn", name: "Rice drawn", source: "ledger", resource: "rice", entryKind: "draw" }, { from: `${BOOKS}/indicators` });
    expect(ok.status).toBe(303);
    expect((await indicators.listIndicators(node.deps, POD)).map((i) => i.key).sort()).toEqual(["disputes", "rice-drawn"]);
    const list = await client.get(`${BOOKS}/indicators`);
    expect(list.text).toContain("Rice drawn");
    expect(list.text.match(/<h1>/g)).toHaveLength(1);
  });
});

describe("summaries", () => {
  it("publishes the summary of the last ended week, and links to its public page", async () => {
    const r = await client.post(`${BOOKS}/summaries`, { period: "week", at: "" }, { from: `${BOOKS}/summaries` });
    expect(r.status).toBe(303);
    const list = await summaries.listSummaries(node.deps, POD);
    expect(list).toHaveLength(1);
    const s = list[0]!;
    expect(s.periodKind).toBe("week");
    const period = `week-${s.periodStart.toISOString().slice(0, 10)}`;
    expect(r.location).toBe(`${BOOKS}/summaries?done=summary-published&period=${period}`);
    const page = await client.get(r.location!);
    expect(page.text).toContain(`The summary of the ${s.label} was published (version 1)`);
    expect(page.text).toContain(`<a href="${s.url}">See the summary</a>`);
    expect((await fetch(s.url)).status).toBe(200);
    // The same period again changes nothing.
    const again = await client.post(`${BOOKS}/summaries`, { period: "week", at: "" }, { from: `${BOOKS}/summaries` });
    expect(again.location).toBe(`${BOOKS}/summaries?done=summary-unchanged&period=${period}`);
    expect(await summaries.listSummaries(node.deps, POD)).toHaveLength(1);
  });

  it("refuses a period that has not ended, next to the day", async () => {
    const next = new Date(node.deps.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
    const r = await client.post(`${BOOKS}/summaries`, { period: "month", at: next }, { from: `${BOOKS}/summaries` });
    expect(r.status).toBe(422);
    expect(codeOn(r.text)).toBe("PERIOD_NOT_ENDED");
    expect(errorNextTo(r.text, "at")).toMatch(/a period is summarised once it has ended/);
    const bad = await client.post(`${BOOKS}/summaries`, { period: "fortnight", at: "" }, { from: `${BOOKS}/summaries` });
    expect(bad.status).toBe(400);
    expect(codeOn(bad.text)).toBe("INVALID_PERIOD");
    expect(errorNextTo(bad.text, "period")).toBeTruthy();
    expect(await summaries.listSummaries(node.deps, POD)).toHaveLength(1);
  });
});
