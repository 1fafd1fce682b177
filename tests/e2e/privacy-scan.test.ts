/**
 * "Publish numbers, protect people": nothing identifying a member leaves the pod.
 *
 * A real node keeps books for members with distinctive names, contacts and private memos
 * (four past weeks of entries, draws with receipts, a correction), publishes its week
 * summaries to a Mastodon-shaped follower, and serves its public pages. The scan collects
 *   - every request the follower's server received (every federated activity and object),
 *   - every ActivityPub document the node serves publicly (actor, collections, summary Notes),
 *   - every public page (front page, pod page, books page, summaries, invoice, receipts),
 *   - the public export,
 *   - the answers to unauthenticated API requests (the steward API without a token, NodeInfo,
 *     WebFinger, health),
 *   - the node's logs: Fastify's request logs and every LogTape record (ours and Fedify's),
 *     at debug level,
 * and fails if a member's name, contact or private memo appears in any of it. A member's
 * pseudonym and a receipt number may appear only on that receipt's own page.
 */
import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import { configure, reset, type LogRecord } from "@logtape/logtape";
import { formatLogLine } from "../../src/lib/logging.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addIndicator } from "../../src/services/indicators.ts";
import { publishSummary } from "../../src/services/summaries.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { waitFor } from "../helpers/node.ts";
import { DAY, seedBooks, startClockedNode, type ClockedNode, type SeededBooks } from "../books/public-books-fixture.ts";

const A = "oak-street";
const AP = "application/activity+json";
const WAIT = 60_000;

let node: ClockedNode;
let masto: FakeMastodon;
let alice: FakeUser;
let seeded: SeededBooks;
const fastifyLines: string[] = [];
/** The same records as the node's console sink would write them. */
const tapeLines: string[] = [];
const tapeRecords: Array<{ category: readonly string[]; level: LogRecord["level"]; text: string }> = [];
const summaryUrls: string[] = [];

const LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
const atLeast = (level: LogRecord["level"], floor: (typeof LEVELS)[number]) => LEVELS.indexOf(level) >= LEVELS.indexOf(floor);
/**
 * Whether a record is written by a node at the default LOG_LEVEL=info (the rules of
 * src/lib/logging.ts, restated): Fedify's warnings and up, except its per-request HTTP
 * category (errors only), and our own records from info up.
 */
function loggedAtInfo(r: { category: readonly string[]; level: LogRecord["level"] }): boolean {
  const [a, b, c] = r.category;
  if (a === "fedify" && b === "federation" && c === "http") return atLeast(r.level, "error");
  if (a === "fedify") return atLeast(r.level, "warning");
  if (a === "hyphae") return atLeast(r.level, "info");
  return atLeast(r.level, "warning");
}

/** Everything collected, by where it came from. */
interface Collected {
  where: string;
  text: string;
  /** A receipt's own page: its number and its member's pseudonym may be on it. */
  receipt?: { number: string; member: string };
  /** Debug-level logs: request paths (receipt numbers) may be in them. */
  debugLog?: boolean;
}
const collected: Collected[] = [];
const collect = (where: string, text: string, extra: Omit<Collected, "where" | "text"> = {}) => collected.push({ where, text, ...extra });

function recordText(record: LogRecord): string {
  return inspect({ category: record.category, level: record.level, message: record.message, properties: record.properties }, { depth: 8, breakLength: Infinity, maxStringLength: Infinity, maxArrayLength: Infinity });
}

beforeAll(async () => {
  await configure({
    reset: true,
    sinks: {
      capture: (record: LogRecord) => {
        tapeRecords.push({ category: record.category, level: record.level, text: recordText(record) });
        tapeLines.push(formatLogLine(record));
      },
    },
    loggers: [
      { category: [], sinks: ["capture"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" },
    ],
  });
  [node, masto] = await Promise.all([
    startClockedNode({
      podSlug: A,
      podName: "Oak Street",
      env: { LOG_LEVEL: "debug" },
      logger: { level: "debug", stream: { write: (line: string) => void fastifyLines.push(line) } },
    }),
    startFakeMastodon(),
  ]);
  alice = masto.user("alice");

  // alice follows the pod before anything is published.
  const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: node.actorUrl() };
  expect((await postSigned(`${node.actorUrl()}/inbox`, follow, { signer: alice })).status).toBe(202);
  await waitFor(() => masto.inbox.some((r) => recordedJson(r)?.type === "Accept"), WAIT, "the Accept of alice's Follow");

  seeded = await seedBooks(node, A, "scan");
  await addIndicator(node.deps, A, { key: "meals-shared", name: "Meals shared", source: "ledger", resource: "meals", entryKind: "draw" });
  for (const week of seeded.weeks) summaryUrls.push((await publishSummary(node.deps, A, "week", new Date(week.getTime() + DAY))).url);
  await waitFor(
    () => summaryUrls.every((url) => masto.inbox.some((r) => JSON.stringify(recordedJson(r) ?? {}).includes(url))),
    WAIT,
    "the four summary Notes at alice's server",
  );
}, 300_000);

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
  await reset();
});

/** Every place a member's name, contact, private memo, pseudonym or receipt number shows up where it must not. */
function findLeaks(items: Collected[]): string[] {
  const forbidden = [
    ...seeded.members.flatMap((m) => [
      { what: `name of ${m.pseudonym}`, text: m.name },
      { what: `contact of ${m.pseudonym}`, text: m.contact },
      // JSON or HTML may escape non-ASCII letters: look for the plain words of the name too.
      ...m.name
        .split(" ")
        .filter((word) => /^[A-Za-z-]{6,}$/.test(word))
        .map((word) => ({ what: `"${word}" of the name of ${m.pseudonym}`, text: word })),
    ]),
    ...seeded.privateMemos.map((memo) => ({ what: "private memo", text: memo })),
  ];
  const leaks: string[] = [];
  for (const item of items) {
    for (const f of forbidden) if (item.text.includes(f.text)) leaks.push(`${f.what} in ${item.where}`);
    for (const m of seeded.members) {
      if (item.text.includes(m.pseudonym) && item.receipt?.member !== m.pseudonym) leaks.push(`pseudonym ${m.pseudonym} in ${item.where}`);
    }
    for (const r of seeded.receipts) {
      if (item.text.includes(r.number) && item.receipt?.number !== r.number && !item.debugLog) leaks.push(`receipt ${r.number} in ${item.where}`);
    }
  }
  return leaks;
}

async function fetchText(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url.startsWith("http") ? url : `${node.origin}${url}`, init);
  return { status: response.status, text: await response.text() };
}

describe("the privacy scan", () => {
  it("collects what the follower received", () => {
    expect(masto.requests.length).toBeGreaterThan(0);
    for (const r of masto.requests) collect(`follower: ${r.method} ${r.path}`, `${JSON.stringify(r.headers)}\n${r.body.toString("utf8")}`);
    const notes = masto.inbox.map(recordedJson).filter((a) => a && (a.type === "Create" || a.type === "Update") && a.object?.type === "Note");
    expect(notes.length).toBeGreaterThanOrEqual(4);
    // The Notes carry the figures (so the scan looks at something real).
    expect(notes.map((n) => JSON.stringify(n)).join("\n")).toMatch(/OpenBooks/);
  });

  it("collects the public ActivityPub documents", async () => {
    const urls = [
      node.actorUrl(),
      `${node.actorUrl()}/outbox`,
      `${node.actorUrl()}/followers`,
      `${node.actorUrl()}/following`,
      `${node.actorUrl()}/featured`,
      ...summaryUrls,
      ...summaryUrls.map((u) => `${u}?version=1`),
    ];
    for (const url of urls) {
      const r = await fetchText(url, { headers: { accept: AP } });
      collect(`AP ${url}`, r.text);
      if (summaryUrls.includes(url)) expect(r.status).toBe(200);
    }
    const webfinger = await fetchText(`/.well-known/webfinger?resource=acct:${A}@${new URL(node.origin).host}`);
    expect(webfinger.status).toBe(200);
    collect("webfinger", webfinger.text);
  });

  it("collects the public pages, the export and every receipt", async () => {
    const pages = ["/", `/pods/${A}`, `/@${A}`, `/pods/${A}/books`, `/pods/${A}/books/invoice`, `/pods/${A}/books/invoice?from=${seeded.weeks[0]!.toISOString().slice(0, 10)}&to=${new Date().toISOString().slice(0, 10)}`, ...summaryUrls, `/tags/openbooks`];
    for (const path of pages) {
      const r = await fetchText(path, { headers: { accept: "text/html" } });
      collect(`page ${path}`, r.text);
    }
    const books = await fetchText(`/pods/${A}/books`);
    expect(books.text).toContain("Value we reclaimed from the market");
    const exported = await fetchText(`/pods/${A}/books/export.json`);
    expect(exported.status).toBe(200);
    expect(JSON.parse(exported.text).entries).toHaveLength(seeded.entries);
    collect("public export", exported.text);
    expect(seeded.receipts.length).toBeGreaterThanOrEqual(20);
    for (const receipt of seeded.receipts) {
      const r = await fetchText(`/pods/${A}/receipts/${receipt.number}`, { headers: { accept: "text/html" } });
      expect(r.status).toBe(200);
      expect(r.text).toContain(receipt.member);
      collect(`receipt ${receipt.seq}`, r.text, { receipt: { number: receipt.number, member: receipt.member } });
    }
  });

  it("collects unauthenticated API answers", async () => {
    const base = `/api/hyphae/v1/pods/${A}`;
    const gets = [
      "/api/hyphae/v1/openapi.json",
      `${base}`,
      `${base}/members`,
      `${base}/resources`,
      `${base}/ledger/entries`,
      `${base}/ledger/export`,
      `${base}/ledger/export?format=csv`,
      `${base}/ledger/verify`,
      `${base}/books/settings`,
      `${base}/summaries`,
      `${base}/indicators`,
      "/healthz",
      "/nodeinfo/2.1",
      "/.well-known/nodeinfo",
    ];
    for (const path of gets) {
      for (const authorization of [undefined, "Bearer not-a-token"]) {
        const r = await fetchText(path, { headers: authorization ? { authorization } : {} });
        if (path.startsWith(base)) expect(r.status, path).toBeGreaterThanOrEqual(400);
        collect(`API ${path}${authorization ? " (bad token)" : ""}`, r.text);
      }
    }
    const posted = await fetchText(`${base}/members`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Nobody Atall" }) });
    expect(posted.status).toBeGreaterThanOrEqual(400);
    collect("API POST members without token", posted.text);
  });

  it("collects the node's logs", async () => {
    // Let the worker finish deliveries and log what it does.
    await new Promise((r) => setTimeout(r, 1500));
    expect(fastifyLines.length).toBeGreaterThan(20);
    expect(tapeRecords.length).toBeGreaterThan(20);
    collect("fastify logs (debug)", fastifyLines.join("\n"));
    collect("logtape records at info", tapeRecords.filter(loggedAtInfo).map((r) => r.text).join("\n"));
    // At debug level Fedify logs the path of every request it passes on, receipt pages
    // included: the node's log formatter redacts receipt numbers, so what it would print
    // is held to the same rules as everything else.
    collect("logtape lines at debug, as the node prints them", tapeLines.join("\n"));
  });

  it("finds no member's name, contact or private memo anywhere, and pseudonyms and receipt numbers only on their receipt", () => {
    expect(collected.length).toBeGreaterThan(60);
    expect(findLeaks(collected)).toEqual([]);
  });

  it("would notice a leak (the scan is not blind)", () => {
    const [m0, m1] = seeded.members;
    const receipt = seeded.receipts.find((r) => r.member === m0!.pseudonym)!;
    const leaks = findLeaks([
      { where: "probe page", text: `<p>Drawn by ${m0!.name}</p>` },
      { where: "probe log", text: `{"msg":"${seeded.privateMemos[3]}"}` },
      { where: "probe note", text: `reach ${m1!.contact}` },
      { where: "probe summary", text: `member ${m1!.pseudonym}` },
      { where: "probe other receipt", text: `${receipt.number} ${m1!.pseudonym}`, receipt: { number: "R0-XXXXXX", member: m1!.pseudonym } },
      { where: "own receipt", text: `${receipt.number} ${m0!.pseudonym}`, receipt: { number: receipt.number, member: m0!.pseudonym } },
      { where: "probe info log", text: `GET /pods/${A}/receipts/${receipt.number}` },
      { where: "probe debug log", text: `GET /pods/${A}/receipts/${receipt.number} ${m1!.contact}`, debugLog: true },
      { where: "probe printed log", text: formatLogLine({ category: ["fedify"], level: "debug", message: ["", `GET /pods/${A}/receipts/${receipt.number}`, ""], rawMessage: "", timestamp: 0, properties: { url: `http://x/pods/${A}/receipts/${receipt.number}` } } as unknown as LogRecord) },
    ]);
    expect(leaks).toEqual(
      expect.arrayContaining([
        `name of ${m0!.pseudonym} in probe page`,
        `"Quartermaine" of the name of ${m0!.pseudonym} in probe page`,
        "private memo in probe log",
        `contact of ${m1!.pseudonym} in probe note`,
        `pseudonym ${m1!.pseudonym} in probe summary`,
        `receipt ${receipt.number} in probe other receipt`,
        `receipt ${receipt.number} in probe info log`,
        `contact of ${m1!.pseudonym} in probe debug log`,
      ]),
    );
    expect(leaks.filter((l) => l.endsWith(" in own receipt") || l.startsWith("receipt") && l.endsWith("in probe debug log"))).toEqual([]);
    // The node's log formatter prints a receipt path without its number.
    expect(leaks.filter((l) => l.endsWith(" in probe printed log"))).toEqual([]);
    // The log capture sees the services' records (so a leak into a log would be seen too).
    expect(tapeRecords.some((t) => t.text.includes("Indicator defined") && loggedAtInfo(t))).toBe(true);
  });
});
