/**
 * Checks a real browser runs on each page of a journey through the steward web app:
 *
 * - axe-core in the page, failing on any violation of impact "serious" or "critical". The
 *   pages' CSP allows no script but the node's own file; axe goes in through the DevTools
 *   protocol (`page.evaluate`), which CSP does not govern, so the policy stays as served.
 * - no CSP violation and no script error reported by the page, no request to anything but
 *   the one origin the browser context is meant to talk to, every HTML document under
 *   100 kB;
 * - full-page screenshots saved under `test-results/steward-web/` as artefacts.
 *
 * A `Watcher` listens to one browser context from its start; `checkPage` runs the checks on
 * the page as it stands now.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { AxeResults, Result as AxeResult } from "axe-core";
import type { BrowserContext, Page, Response } from "playwright-core";

export const ARTEFACTS = path.resolve(import.meta.dirname, "../../test-results/steward-web");

/** The largest HTML document a steward page may be (the budget). */
export const MAX_PAGE_BYTES = 100 * 1024;

const FAILING_IMPACTS = new Set(["serious", "critical"]);

/** What a page loads to show itself: any of these failing is the page's fault. */
const SUBRESOURCES = new Set(["stylesheet", "image", "media", "font", "script", "texttrack", "manifest"]);

let axeSource: string | undefined;
function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  return axeSource;
}

/** An HTML document as the server sent it (not a redirect). */
export interface DocumentSeen {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Everything one browser context did that a page check looks at: documents, requests,
 * console errors (CSP reports land there) and page errors. Attach it before the first page
 * opens.
 */
export class Watcher {
  readonly origin: string;
  readonly problems: string[] = [];
  readonly requests: string[] = [];
  /** The latest HTML document of each page, as the server sent it. */
  readonly #documents = new Map<Page, Promise<DocumentSeen | null>>();

  constructor(context: BrowserContext, origin: string) {
    this.origin = origin;
    context.on("request", (request) => {
      const url = request.url();
      this.requests.push(`${request.method()} ${url}`);
      // Only our own node: a page that makes the browser fetch a font, a script or a
      // tracker elsewhere (or even another loopback port) fails here.
      if (new URL(url).origin !== origin) this.problems.push(`request outside ${origin}: ${request.method()} ${url}`);
    });
    context.on("page", (page) => this.#watchPage(page));
    for (const page of context.pages()) this.#watchPage(page);
  }

  #watchPage(page: Page): void {
    page.on("console", (message) => {
      // A failed load is reported by the response listener below, with its status and URL.
      if (/^Failed to load resource/.test(message.text())) return;
      if (message.type() === "error" || message.type() === "warning" || /Content[- ]Security[- ]Policy/i.test(message.text())) {
        this.problems.push(`console ${message.type()} on ${page.url()}: ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => this.problems.push(`script error on ${page.url()}: ${error.message}`));
    page.on("response", (response) => {
      const request = response.request();
      const type = request.resourceType();
      const status = response.status();
      if (type === "document" && response.frame() === page.mainFrame()) {
        if (status < 300 || status >= 400) this.#documents.set(page, readDocument(response));
        return;
      }
      // A form sent by script (an upload with a progress bar) whose HTML answer the script
      // writes into the page as it is: that answer is the page shown now.
      if (type === "xhr" && request.method() === "POST" && /^text\/html\b/.test(response.headers()["content-type"] ?? "")) {
        this.#documents.set(page, readDocument(response));
        return;
      }
      if (SUBRESOURCES.has(type)) {
        // /favicon.ico too, which browsers ask for by themselves: the node answers it (204).
        if (status >= 400) this.problems.push(`${status} for ${type} ${response.url()} on ${page.url()}`);
      } else if ((type === "fetch" || type === "xhr") && (status === 401 || status === 403 || status >= 500)) {
        // A page's script was refused or failed (a refused form answers 400, 409 or 422: no fault).
        this.problems.push(`${status} for ${request.method()} ${response.url()} (${type}) on ${page.url()}`);
      }
    });
  }

  /** The HTML the page shows now, as it came from the server. */
  async document(page: Page): Promise<DocumentSeen> {
    const seen = await this.#documents.get(page);
    if (!seen) throw new Error(`no HTML document was seen for ${page.url()}`);
    return seen;
  }

  /** Fails (with every problem) when anything went wrong since the last call. */
  assertClean(where: string): void {
    if (this.problems.length === 0) return;
    const list = this.problems.splice(0).map((p) => `  - ${p}`).join("\n");
    throw new Error(`${where}: the browser reported problems:\n${list}`);
  }
}

async function readDocument(response: Response): Promise<DocumentSeen | null> {
  try {
    return { url: response.url(), status: response.status(), headers: await response.allHeaders(), body: await response.body() };
  } catch {
    // The page navigated on before its body was read: a later document replaces it.
    return null;
  }
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeResult[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === "object");
  if (!loaded) await page.evaluate(axeScript());
  const results = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<AxeResults> } }).axe;
    return axe.run(document, { resultTypes: ["violations"] });
  });
  return results.violations.filter((v) => FAILING_IMPACTS.has(v.impact ?? ""));
}

/** Violations as a reader wants them: rule, impact, what to fix, and each element with axe's summary. */
export function describeViolations(violations: AxeResult[]): string {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 8)
        .map((n) => `    at ${n.target.join(" ")}\n      ${n.html.slice(0, 200)}\n      ${(n.failureSummary ?? "").replace(/\n/g, "\n      ")}`)
        .join("\n");
      const more = v.nodes.length > 8 ? `\n    … and ${v.nodes.length - 8} more elements` : "";
      return `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes}${more}`;
    })
    .join("\n");
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTEFACTS, { recursive: true });
  const file = path.join(ARTEFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The width the page is laid out at, for artefact names. */
const widthOf = (page: Page) => page.viewportSize()?.width ?? 0;

/**
 * One step's checks on a page as it stands: the page's document is under budget, axe finds
 * nothing serious, the browser reported no CSP violation, script error or outside request;
 * then a full-page screenshot `<step>-<width>.png`.
 */
export async function checkPage(page: Page, watcher: Watcher, step: string): Promise<DocumentSeen> {
  const seen = await watcher.document(page);
  if (seen.body.length > MAX_PAGE_BYTES) throw new Error(`${step}: ${seen.url} is ${seen.body.length} bytes of HTML, more than ${MAX_PAGE_BYTES}`);
  if (!/^text\/html\b/.test(seen.headers["content-type"] ?? "")) throw new Error(`${step}: ${seen.url} is not HTML (${seen.headers["content-type"]})`);
  // What the page did by itself, before axe is added to it.
  watcher.assertClean(`${step} (${widthOf(page)} px, ${seen.url})`);
  const violations = await seriousViolations(page);
  if (violations.length) {
    throw new Error(`${step} (${widthOf(page)} px, ${seen.url}): axe-core found ${violations.length} serious or critical violation(s):\n${describeViolations(violations)}`);
  }
  await screenshot(page, `${step}-${widthOf(page)}`);
  watcher.assertClean(`${step} (${widthOf(page)} px, after the accessibility check)`);
  return seen;
}

/**
 * Shows another page (in a context of another size) exactly the document `seen`: the same
 * URL, status, headers (CSP included) and bytes, without asking the server again. A page
 * that answered a form (a shown link, a refused import) can then be checked at a second width
 * without sending the form twice. Everything the document loads still comes from the server.
 */
export async function replay(page: Page, seen: DocumentSeen): Promise<void> {
  const headers = Object.fromEntries(Object.entries(seen.headers).filter(([name]) => !["content-length", "content-encoding", "transfer-encoding", "set-cookie"].includes(name)));
  let served = false;
  await page.route(
    (url) => !served && url.href === seen.url,
    async (route) => {
      served = true;
      await route.fulfill({ status: seen.status, headers, body: seen.body });
    },
  );
  await page.goto(seen.url);
  await page.unrouteAll();
}
