/**
 * The open books' public pages on a real node with real books (four past weeks of entries
 * recorded through the services, week summaries published, indicators): the books page,
 * the public export, commons receipts, summary pages, the city's invoice; 404s and bad
 * input; no script anywhere, charts with text alternatives, no private data.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dec } from "../../src/domain/books/decimal.ts";
import { addResource } from "../../src/services/books.ts";
import { addIndicator, recordIndicatorCount } from "../../src/services/indicators.ts";
import { getBalances, getLedgerHead, getProvidedValue, recordEntry } from "../../src/services/ledger.ts";
import { createPod, retirePod } from "../../src/services/pods.ts";
import { publishSummary } from "../../src/services/summaries.ts";
import { CONTENT_SECURITY_POLICY } from "../../src/http/security.ts";
import { formatMoney } from "../../src/http/pages/books-format.ts";
import { DAY, seedBooks, startClockedNode, weekStart, type ClockedNode, type SeededBooks } from "../books/public-books-fixture.ts";

const A = "oak-street";
const EMPTY = "elm-row";
const AP = "application/activity+json";

let node: ClockedNode;
let seeded: SeededBooks;
const summaryUrls: string[] = [];

beforeAll(async () => {
  node = await startClockedNode({ podSlug: A, podName: "Oak Street" });
  await createPod(node.deps, { slug: EMPTY, name: "Elm Row" });
  seeded = await seedBooks(node, A, "pages");
  await addIndicator(node.deps, A, { key: "meals-shared", name: "Meals shared", source: "ledger", resource: "meals", entryKind: "draw" });
  await addIndicator(node.deps, A, { key: "disputes", name: "Disputes resolved without outside authority", source: "count" });
  await recordIndicatorCount(node.deps, A, "disputes", { countedOn: new Date().toISOString().slice(0, 10), count: "2", publicNote: "Settled at the assembly" });
  for (const week of seeded.weeks) {
    const summary = await publishSummary(node.deps, A, "week", new Date(week.getTime() + DAY));
    summaryUrls.push(summary.url);
  }
}, 240_000);

afterAll(async () => {
  await node?.stop();
});

const visited = new Map<string, string>();

async function get(path: string, accept = "text/html") {
  const response = await fetch(path.startsWith("http") ? path : `${node.origin}${path}`, { headers: { accept } });
  const text = await response.text();
  if ((response.headers.get("content-type") ?? "").startsWith("text/html")) visited.set(path, text);
  return { status: response.status, headers: response.headers, text };
}

/** The text of an HTML fragment, tags dropped and entities decoded (enough for our pages). */
const textOf = (fragment: string) =>
  fragment
    .replace(/<[^>]+>/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/\s+/g, " ")
    .trim();

/** "€1,234.50" → "1234.50" (exact, as text). */
const moneyText = (shown: string) => {
  const m = /^(-?)€([\d,]+\.\d{2})$/.exec(shown.trim());
  expect(m, `a money figure: ${shown}`).not.toBeNull();
  return `${m![1]}${m![2]!.replace(/,/g, "")}`;
};

function expectSafePage(html: string) {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/\son[a-z]+\s*=/i);
  expect(html).not.toMatch(/javascript:/i);
  expect(html).not.toMatch(/<link[^>]+stylesheet|@import|fonts\.googleapis/i);
  // Every chart has a text alternative: role="img" labelled by its title and description, and a table.
  const charts = [...html.matchAll(/<svg [^>]*role="img"[^>]*aria-labelledby="([^"]+)"/g)];
  for (const [, ids] of charts) {
    for (const id of ids!.split(" ")) expect(html).toContain(`id="${id}"`);
  }
  expect(html.match(/<table class="visually-hidden"/g)?.length ?? 0).toBe(charts.length);
}

describe("the books page", () => {
  it("shows balances, funds, the value reclaimed, charts, indicators, summaries and how to verify", async () => {
    const r = await get(`/pods/${A}/books`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(r.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(r.headers.get("cache-control")).toMatch(/max-age/);
    expectSafePage(r.text);
    const balances = await getBalances(node.deps, A);
    expect(balances.valueReclaimed).not.toBe("0");
    expect(textOf(r.text)).toContain(`Value we reclaimed from the market: ${formatMoney(balances.valueReclaimed, "EUR")}`);
    for (const name of ["Winter squash", "Hot meals", "Childcare", "Solar co-op energy", "Solidarity fund"]) expect(r.text).toContain(name);
    for (const fund of ["Survival", "Capacity-building", "Power-shifting"]) expect(r.text).toContain(fund);
    // Three charts: value reclaimed over time, outflows per fund, stock.
    expect(r.text.match(/role="img"/g)).toHaveLength(3);
    expect(r.text).toContain('id="chart-reclaimed"');
    expect(r.text).toContain('id="chart-outflows"');
    expect(r.text).toContain('id="chart-stock"');
    // The running total's last point is the value reclaimed now.
    const table = /<table class="visually-hidden" id="chart-reclaimed-data">([\s\S]*?)<\/table>/.exec(r.text)![1]!;
    const cells = [...table.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]!);
    expect(cells.at(-1)).toBe(formatMoney(balances.valueReclaimed, "EUR"));
    // Indicators, summaries, verification.
    expect(r.text).toContain("Meals shared");
    expect(r.text).toContain("Disputes resolved without outside authority");
    for (const url of summaryUrls) expect(r.text).toContain(`href="${url}"`);
    const head = await getLedgerHead(node.deps, A);
    expect(head.seq).toBe(seeded.entries);
    expect(r.text).toContain(head.hash);
    expect(r.text).toContain(`href="${node.origin}/pods/${A}/books/export.json"`);
    expect(r.text).toContain("docs/open-books.md");
    expect(r.text).toContain(`href="${node.origin}/pods/${A}/books/invoice"`);
  });

  it("shows the stock of each resource exactly (0.1 + 0.2 kg is 0.3 kg)", async () => {
    const balances = await getBalances(node.deps, A);
    const r = await get(`/pods/${A}/books`);
    const table = /<table class="visually-hidden" id="chart-stock-data">([\s\S]*?)<\/table>/.exec(r.text)![1]!;
    const rows = Object.fromEntries([...table.matchAll(/<tr><th scope="row">([^<]*)<\/th><td>([^<]*)<\/td><\/tr>/g)].map((m) => [m[1]!, m[2]!]));
    const squash = balances.stock.find((s) => s.resource === "squash")!;
    // 4 × 40.5 in, 4 × (0.1 + 0.1 + 0.2) drawn, 25 sent to Elm Row.
    expect(squash.quantity).toBe("135.4");
    expect(rows["Winter squash"]).toBe("135.4 kg");
    const meals = balances.stock.find((s) => s.resource === "meals")!;
    // 4 × 60 + 10 in, 4 × (4 + 6) drawn, 7 drawn and 2 of them corrected back.
    expect(meals.quantity).toBe("205");
    expect(rows["Hot meals"]).toBe("205");
  });

  it("says plainly when a pod has no books yet, and shows no charts", async () => {
    const r = await get(`/pods/${EMPTY}/books`);
    expect(r.status).toBe(200);
    expectSafePage(r.text);
    expect(r.text).toContain("Nothing is recorded in these books yet.");
    expect(r.text).not.toContain("<svg");
    expect(r.text).not.toContain("export.json");
    expect(r.text).not.toContain("Value we reclaimed");
  });

  it("stays readable, and linked, when its pod retires", async () => {
    await createPod(node.deps, { slug: "birch-lane", name: "Birch Lane" });
    await addResource(node.deps, "birch-lane", { key: "tools", name: "Tool loans", unit: "day", category: "tools" });
    await recordEntry(node.deps, "birch-lane", { kind: "contribution", resource: "tools", quantity: "3" });
    await retirePod(node.deps, "birch-lane");
    const podPage = await get("/pods/birch-lane");
    expect(podPage.status).toBe(410);
    expect(podPage.text).toContain(`href="${node.origin}/pods/birch-lane/books"`);
    const books = await get("/pods/birch-lane/books");
    expect(books.status).toBe(200);
    expectSafePage(books.text);
    expect(books.text).toContain("This pod has retired");
    expect(books.text).toContain("Tool loans");
  });

  it("is a 404 page for an unknown pod", async () => {
    const r = await get("/pods/no-such-pod/books");
    expect(r.status).toBe(404);
    expect(r.text).toContain("No such pod");
  });

  it("is linked from the pod page only when the pod has entries", async () => {
    const withBooks = await get(`/pods/${A}`);
    expect(withBooks.text).toContain(`href="${node.origin}/pods/${A}/books"`);
    const without = await get(`/pods/${EMPTY}`);
    expect(without.status).toBe(200);
    expect(without.text).not.toContain(`/pods/${EMPTY}/books`);
  });
});

describe("the public export", () => {
  it("is JSON with the whole chain, open to any origin", async () => {
    const r = await get(`/pods/${A}/books/export.json`, "*/*");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const doc = JSON.parse(r.text);
    expect(doc.entries).toHaveLength(seeded.entries);
    expect(doc.head).toEqual(await getLedgerHead(node.deps, A));
  });

  it("of a pod without entries is an empty chain", async () => {
    const doc = JSON.parse((await get(`/pods/${EMPTY}/books/export.json`, "*/*")).text);
    expect(doc.entries).toEqual([]);
    expect(doc.head).toEqual({ seq: 0, hash: "0".repeat(64) });
  });

  it("is a JSON 404 for an unknown pod", async () => {
    const r = await get("/pods/no-such-pod/books/export.json", "*/*");
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).error).toBe("POD_NOT_FOUND");
  });
});

describe("commons receipts", () => {
  it("show the draw's figures, the member's pseudonym and the stamp, and nothing private", async () => {
    expect(seeded.receipts.length).toBeGreaterThanOrEqual(20);
    const charged = seeded.receipts.find((x) => x.charged !== "0")!;
    for (const receipt of [seeded.receipts[0]!, seeded.receipts[5]!, charged]) {
      const r = await get(`/pods/${A}/receipts/${receipt.number}`);
      expect(r.status).toBe(200);
      expectSafePage(r.text);
      expect(r.headers.get("cache-control")).toBe("private, no-store");
      expect(r.text).toContain('<meta name="robots" content="noindex, nofollow">');
      const text = textOf(r.text);
      expect(text).toContain("VOID BY SOLIDARITY");
      expect(text).toContain(receipt.number);
      expect(text).toContain(receipt.member);
      expect(text).toContain(receipt.resource);
      expect(text).toContain(`Market value ${formatMoney(receipt.marketValue, "EUR")}`);
      expect(text).toContain(`Solidarity price ${formatMoney(receipt.charged, "EUR")}`);
      const reclaimed = new Dec(receipt.marketValue).minus(receipt.charged).toFixed();
      expect(text).toContain(`Value reclaimed from the market ${formatMoney(reclaimed, "EUR")}`);
      for (const m of seeded.members) {
        expect(text).not.toContain(m.name);
        expect(text).not.toContain(m.contact);
        if (m.pseudonym !== receipt.member) expect(text).not.toContain(m.pseudonym);
      }
      for (const memo of seeded.privateMemos) expect(r.text).not.toContain(memo);
    }
    expect(new Dec(charged.charged).eq("0.1")).toBe(true);
  });

  it("are 404 pages for an unknown, malformed or other pod's number", async () => {
    const real = seeded.receipts[0]!.number;
    const [n, suffix] = real.split("-") as [string, string];
    const wrongSuffix = `${n}-${suffix === "AAAAAA" ? "BBBBBB" : "AAAAAA"}`;
    for (const path of [`/pods/${A}/receipts/${wrongSuffix}`, `/pods/${A}/receipts/R999-ABCDEF`, `/pods/${A}/receipts/not-a-receipt`, `/pods/${EMPTY}/receipts/${real}`]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.text).toContain("No such receipt");
      expect(r.text).not.toContain("VOID BY SOLIDARITY");
    }
    expect((await get(`/pods/no-such-pod/receipts/${real}`)).status).toBe(404);
  });
});

describe("summary pages", () => {
  it("show a published week with its totals, suppression and head, and answer the Note to ActivityPub clients", async () => {
    expect(summaryUrls).toHaveLength(4);
    for (const url of summaryUrls) {
      const r = await get(url);
      expect(r.status).toBe(200);
      expectSafePage(r.text);
      const text = textOf(r.text);
      expect(text).toMatch(/Oak Street: week of/);
      expect(text).toContain("Winter squash");
      expect(text).toMatch(/Value reclaimed/);
      // Childcare is drawn by one member a week: suppressed; squash by three: shown.
      expect(text).toMatch(/Childcare drawn · Capacity-building fewer than 3 fewer than 3/);
      expect(text).toMatch(/Winter squash drawn · Survival 0\.4 kg €1\.20/);
      for (const m of seeded.members) {
        expect(text).not.toContain(m.name);
        expect(text).not.toContain(m.pseudonym);
      }
      const note = await get(url, AP);
      expect(note.status).toBe(200);
      expect(note.headers.get("content-type")).toMatch(/^application\/activity\+json/);
      expect(JSON.parse(note.text).id).toBe(url);
    }
    // The last week holds the late entry.
    expect(textOf((await get(summaryUrls[3]!)).text)).toContain("of which recorded late: 1");
  });

  it("are 404 pages for periods never published, unknown kinds and versions", async () => {
    const thisWeek = weekStart(new Date()).toISOString().slice(0, 10);
    for (const path of [`/pods/${A}/books/summaries/week-${thisWeek}`, `/pods/${A}/books/summaries/fortnight-2026-11-02`, `/pods/${A}/books/summaries/week-2026-13-45`, `${summaryUrls[0]}?version=7`, `${summaryUrls[0]}?version=x`]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.text).toContain("No such summary");
    }
    const first = await get(`${summaryUrls[0]}?version=1`);
    expect(first.status).toBe(200);
  });
});

describe("the invoice: what the city would have charged us", () => {
  const from = () => seeded.weeks[0]!.toISOString().slice(0, 10);
  const lastDay = () => new Date(weekStart(new Date()).getTime() - DAY).toISOString().slice(0, 10);

  it("lists what the pod provided by category, with totals equal to the sums of their lines", async () => {
    const r = await get(`/pods/${A}/books/invoice?from=${from()}&to=${lastDay()}`);
    expect(r.status).toBe(200);
    expectSafePage(r.text);
    expect(textOf(r.text)).toContain("To The Mayor of Northfield");
    const categories = [...r.text.matchAll(/<tbody class="category">([\s\S]*?)<\/tbody>/g)].map((m) => m[1]!);
    expect(categories.length).toBeGreaterThanOrEqual(3);
    let sumOfCategories = new Dec(0);
    for (const body of categories) {
      const total = moneyText(textOf(/class="num category-total">([^<]*)</.exec(body)![1]!));
      const lines = [...body.matchAll(/class="num line-value">([^<]*)</g)].map((m) => moneyText(textOf(m[1]!)));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.reduce((s, v) => s.plus(v), new Dec(0)).eq(total), `category total ${total} = ${lines.join(" + ")}`).toBe(true);
      sumOfCategories = sumOfCategories.plus(total);
    }
    const invoiceTotal = moneyText(textOf(/class="num invoice-total">([^<]*)</.exec(r.text)![1]!));
    expect(sumOfCategories.eq(invoiceTotal)).toBe(true);
    // And the figures are the service's, exactly.
    const provided = await getProvidedValue(node.deps, A, new Date(`${from()}T00:00:00Z`), weekStart(new Date()));
    expect(new Dec(provided.total).eq(invoiceTotal)).toBe(true);
    expect(new Dec(provided.total).gt(0)).toBe(true);
    for (const c of provided.byCategory) expect(textOf(r.text)).toContain(formatMoney(c.value, "EUR"));
  });

  it("is addressed to to_name when given, and escapes it", async () => {
    const r = await get(`/pods/${A}/books/invoice?from=${from()}&to=${lastDay()}&to_name=${encodeURIComponent("The <b>City</b> Council")}`);
    expect(r.status).toBe(200);
    expect(r.text).toContain("The &lt;b&gt;City&lt;/b&gt; Council");
    expect(r.text).not.toContain("<b>City</b>");
  });

  it("covers the previous calendar month without dates, and says so when nothing was provided", async () => {
    const r = await get(`/pods/${EMPTY}/books/invoice`);
    expect(r.status).toBe(200);
    const now = new Date();
    const firstOfPrevious = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
    expect(r.text).toContain(`name="from" value="${firstOfPrevious}"`);
    expect(r.text).toContain("Nothing was provided in this period");
  });

  it("refuses bad dates with a 400 page", async () => {
    for (const query of ["from=2026-02-30", "from=yesterday", `from=${lastDay()}&to=${from()}`, "from=2026-11-01&to=2026-1-5"]) {
      const r = await get(`/pods/${A}/books/invoice?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.text).toContain("Cannot make this invoice");
    }
  });
});

describe("every page visited", () => {
  it("carried no script and no member's name, contact or private memo", () => {
    expect(visited.size).toBeGreaterThan(15);
    for (const [path, text] of visited) {
      expect(text, path).not.toMatch(/<script/i);
      for (const m of seeded.members) {
        expect(text, path).not.toContain(m.name);
        expect(text, path).not.toContain(m.contact);
      }
      for (const memo of seeded.privateMemos) expect(text, path).not.toContain(memo);
    }
  });
});
