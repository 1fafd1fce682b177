/**
 * The public timeline read by a real browser from another origin, as Elk and Phanpy do: a
 * page served by a plain node:http server on another loopback port fetches
 * /api/v1/timelines/public with a header that is not CORS-safelisted, so headless Chromium
 * (Debian's, driven by playwright-core) must first send an OPTIONS preflight. The page
 * renders the statuses; the test reads the rendered page, and watches the network through
 * the DevTools protocol, which reports preflights (Playwright's own request events do not).
 *
 * The other side: the same page cannot read a pod's HTML page, which is outside the CORS
 * paths — the browser's fetch rejects with a TypeError.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProposal } from "../../src/services/proposals.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const A = "oak-street";

/** The app page: fetches the timeline and renders it; records what each fetch gave. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Timeline</title></head>
<body>
<ul id="statuses"></ul>
<p id="link"></p>
<p id="html-page"></p>
<script>
  const params = new URLSearchParams(location.search);
  const node = params.get("node");
  const textOf = (html) => new DOMParser().parseFromString(html, "text/html").body.textContent.replace(/\\s+/g, " ").trim();
  async function timeline() {
    const response = await fetch(node + "/api/v1/timelines/public?limit=5", {
      headers: { "X-Requested-With": "hyphae-browser-test", Accept: "application/json" },
    });
    for (const status of await response.json()) {
      const li = document.createElement("li");
      li.dataset.id = status.id;
      li.dataset.acct = status.account.acct;
      li.textContent = textOf(status.content);
      document.getElementById("statuses").append(li);
    }
    document.getElementById("link").textContent = response.headers.get("link") || "(no link header)";
  }
  async function htmlPage() {
    try {
      const response = await fetch(node + "/pods/${A}");
      return "read " + response.status;
    } catch (error) {
      return error.name + ": " + error.message;
    }
  }
  Promise.all([
    timeline().catch((error) => { document.getElementById("link").textContent = "timeline failed: " + error; }),
    htmlPage().then((outcome) => { document.getElementById("html-page").textContent = outcome; }),
  ]).then(() => { document.body.dataset.done = "yes"; });
</script>
</body></html>`;

let node: TestNode;
let deps: ServiceDeps;
let app: Server;
let appOrigin = "";
let browser: Browser;
const at = (iso: string): ServiceDeps => ({ ...deps, clock: { now: () => new Date(iso) } });

beforeAll(async () => {
  node = await startTestNode({ podSlug: A, podName: "Oak Street" });
  deps = node.deps;
  await createProposal(at("2027-05-01T09:00:00Z"), A, "offer", { name: "Squash", quantity: "4", unit: "kilogram", category: "food" });
  await createProposal(at("2027-05-02T09:00:00Z"), A, "need", { name: "Rain barrels", quantity: "2", unit: "one", category: "water" });

  app = createServer((request, response) => {
    if ((request.url ?? "").startsWith("/app")) {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appOrigin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
  await node?.stop();
});

interface Seen {
  method: string;
  url: string;
  type?: string;
  status?: number;
  headers?: Record<string, string>;
  /** What the network layer received, even when CORS kept it from the page. */
  rawStatus?: number;
  rawHeaders?: Record<string, string>;
  corsError?: string;
}

/** Opens the app page and records every request the DevTools protocol reports, preflights included. */
async function openApp(page: Page): Promise<Seen[]> {
  const seen = new Map<string, Seen>();
  const cdp = await page.context().newCDPSession(page);
  cdp.on("Network.requestWillBeSent", (e) => {
    seen.set(e.requestId, { method: e.request.method, url: e.request.url, ...(e.type && { type: e.type }) });
  });
  cdp.on("Network.responseReceived", (e) => {
    const entry = seen.get(e.requestId);
    if (entry) Object.assign(entry, { status: e.response.status, headers: lower(e.response.headers) });
  });
  cdp.on("Network.responseReceivedExtraInfo", (e) => {
    const entry = seen.get(e.requestId);
    if (entry) Object.assign(entry, { rawStatus: e.statusCode, rawHeaders: lower(e.headers) });
  });
  cdp.on("Network.loadingFailed", (e) => {
    const entry = seen.get(e.requestId);
    if (entry && e.corsErrorStatus) entry.corsError = e.corsErrorStatus.corsError;
  });
  await cdp.send("Network.enable");
  await page.goto(`${appOrigin}/app?node=${encodeURIComponent(node.origin)}`);
  await page.waitForSelector("body[data-done=yes]");
  return [...seen.values()];
}

const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

describe("a page on another origin", () => {
  let page: Page;
  let seen: Seen[] = [];

  beforeAll(async () => {
    page = await browser.newPage();
    seen = await openApp(page);
  }, 60_000);

  afterAll(async () => {
    await page?.close();
  });

  it("reads the public timeline and renders the offers and needs", async () => {
    expect(new URL(appOrigin).origin).not.toBe(node.origin);
    const items = page.locator("#statuses li");
    const texts = (await items.allTextContents()).map((t) => t.trim());
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain("Rain barrels");
    expect(texts[1]).toContain("Squash");
    expect(await items.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.acct))).toEqual([A, A]);
    const ids = await items.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.id ?? ""));
    for (const id of ids) expect(id).toMatch(/^[0-9]+$/);
    // The Link header is exposed to the page, so a browser app can page.
    expect(await page.locator("#link").textContent()).toContain(`${node.origin}/api/v1/timelines/public?limit=5&max_id=${ids[1]}`);
  });

  it("went through a CORS preflight that allowed the extra header", () => {
    const timelineUrl = `${node.origin}/api/v1/timelines/public?limit=5`;
    const preflight = seen.find((r) => r.method === "OPTIONS" && r.url === timelineUrl);
    expect(preflight, JSON.stringify(seen, null, 2)).toBeDefined();
    expect(preflight!.status).toBe(204);
    expect(preflight!.headers?.["access-control-allow-origin"]).toBe("*");
    expect(preflight!.headers?.["access-control-allow-headers"]?.toLowerCase()).toContain("x-requested-with");
    const get = seen.find((r) => r.method === "GET" && r.url === timelineUrl);
    expect(get?.status).toBe(200);
    expect(get?.headers?.["access-control-allow-origin"]).toBe("*");
  });

  it("cannot read a pod's HTML page, outside the CORS paths", async () => {
    expect(await page.locator("#html-page").textContent()).toMatch(/^TypeError: /);
    // The node answered; the browser withheld the answer for want of an allow-origin header.
    const htmlGet = seen.find((r) => r.method === "GET" && r.url === `${node.origin}/pods/${A}`);
    expect(htmlGet, JSON.stringify(seen, null, 2)).toBeDefined();
    expect(htmlGet!.corsError).toBe("MissingAllowOriginHeader");
    expect(htmlGet!.rawStatus).toBe(200);
    expect(htmlGet!.rawHeaders?.["content-type"]).toMatch(/^text\/html/);
    expect(htmlGet!.rawHeaders?.["access-control-allow-origin"]).toBeUndefined();
  });
});
