/**
 * The steward pages' one script, in a real Chromium: the charter form's live preview follows
 * what is typed; a CSV upload shows its progress and then the node's answer (a bad row's
 * error, or the count imported); the strict CSP reports nothing. With JavaScript off, the
 * same forms work as plain HTML.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as books from "../../src/services/books.ts";
import * as ledger from "../../src/services/ledger.ts";
import { createInvite } from "../../src/services/steward-sessions.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

let node: TestNode;
let browser: Browser;
let dir: string;
const POD = "oak-street";
const BASE = `/pods/${POD}/steward`;

beforeAll(async () => {
  [node, browser] = await Promise.all([startTestNode({ podSlug: POD, podName: "Oak Street" }), launchBrowser()]);
  await books.addResource(node.deps, POD, { key: "rice", name: "Rice", unit: "kilogram", category: "food", referencePrice: "2" });
  dir = mkdtempSync(path.join(os.tmpdir(), "hyphae-enhance-"));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A signed-in context; `problems` collects console errors (CSP reports land there) and page errors. */
async function signedIn(javaScriptEnabled: boolean): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  const invite = await createInvite(node.deps, { podSlug: POD });
  await page.goto(invite.url!);
  await page.getByRole("button", { name: /Sign in to Oak Street/ }).click();
  await page.waitForURL(`**${BASE}/?done=signed-in`);
  return { context, page, problems };
}

function csv(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("with JavaScript", () => {
  it("the charter form previews the post and the page live, as the steward types", async () => {
    const { context, page, problems } = await signedIn(true);
    try {
      const response = await page.goto(node.origin + `${BASE}/charter`);
      expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
      expect(response!.headers()["content-security-policy"]).not.toContain("unsafe-inline' 'unsafe-eval");
      await page.locator("#live-preview").waitFor();
      await page.getByLabel(/^Title/).fill("Oak Street Mutual Aid Charter");
      await page.locator('[name="services.0.name"]').fill("Tool library");
      await page.locator('[name="services.0.category"]').selectOption({ index: 1 });
      await page.locator('[name="services.0.since"]').fill("2026-01-10");
      const live = page.locator("#live-preview .live");
      await live.locator(".post").filter({ hasText: "Tool library" }).waitFor({ timeout: 15_000 });
      await expect.poll(async () => live.locator(".page-preview").textContent(), { timeout: 15_000 }).toContain("Oak Street Mutual Aid Charter");
      // Typing more updates it; nothing is published by previewing.
      await page.getByLabel(/^Title/).fill("Oak Street Charter, second draft");
      await expect.poll(async () => live.locator(".page-preview").textContent(), { timeout: 15_000 }).toContain("second draft");
      expect(await node.deps.db.selectFrom("charter_revisions").select("number").execute()).toEqual([]);
      expect(problems.filter((p) => !p.startsWith("Failed to load resource"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a CSV uploaded by the script gets the node's answer as its page: the bad row, then the count imported", async () => {
    const { context, page, problems } = await signedIn(true);
    try {
      await page.goto(node.origin + `${BASE}/books/import`);
      await page.locator('input[type="file"]').setInputFiles(csv("bad.csv", "kind,resource,quantity,fund\ncontribution,rice,1,\ndraw,rice,abc,survival\n"));
      await page.getByRole("button", { name: "Check and import" }).click();
      await page.locator("#row-errors").waitFor({ timeout: 15_000 });
      expect(await page.locator("#row-errors").textContent()).toContain("INVALID_DECIMAL");
      expect((await ledger.getLedgerHead(node.deps, POD)).seq).toBe(0);

      await page.locator('input[type="file"]').setInputFiles(csv("good.csv", "kind,resource,quantity,fund\ncontribution,rice,10,\ndraw,rice,2,survival\n"));
      await page.getByRole("button", { name: "Check and import" }).click();
      await page.waitForURL(/done=imported/, { timeout: 15_000 });
      expect(await page.content()).toContain("Imported <strong>2 rows</strong>");
      await waitFor(async () => (await ledger.getLedgerHead(node.deps, POD)).seq === 2, 5_000, "two entries");
      expect(problems.filter((p) => !p.startsWith("Failed to load resource"))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("the upload shows a progress bar while it is sent", async () => {
    const { context, page } = await signedIn(true);
    try {
      await page.goto(node.origin + `${BASE}/books/import`);
      // Hold the upload's answer back so the bar can be seen, then let it through.
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route(`**${BASE}/books/import`, async (route) => {
        if (route.request().method() === "POST") await held;
        await route.continue();
      });
      await page.locator('input[type="file"]').setInputFiles(csv("later.csv", "kind,resource,quantity,fund\ncontribution,rice,1,\n"));
      await page.getByRole("button", { name: "Check and import" }).click();
      await page.locator(".upload-status progress").waitFor({ timeout: 10_000 });
      expect(await page.locator(".upload-status").textContent()).toMatch(/Sending the file|The node is checking it/);
      expect(await page.getByRole("button", { name: "Check and import" }).isDisabled()).toBe(true);
      release();
      await page.waitForURL(/done=imported/, { timeout: 15_000 });
    } finally {
      await context.close();
    }
  });
});

describe("without JavaScript", () => {
  it("the charter preview and the CSV import work as plain forms", async () => {
    const { context, page } = await signedIn(false);
    try {
      await page.goto(node.origin + `${BASE}/charter`);
      expect(await page.locator("#live-preview").count()).toBe(0);
      await page.getByLabel(/^Title/).fill("Plain charter");
      await page.locator('[name="services.0.name"]').fill("Soup kitchen");
      await page.locator('[name="services.0.category"]').selectOption({ index: 1 });
      await page.locator('[name="services.0.since"]').fill("2026-02-01");
      await page.getByRole("button", { name: /Preview the post/ }).click();
      expect(await page.locator(".post").textContent()).toContain("Soup kitchen");

      await page.goto(node.origin + `${BASE}/books/import`);
      await page.locator('input[type="file"]').setInputFiles(csv("plain.csv", "kind,resource,quantity,fund\ncontribution,rice,3,\n"));
      await page.getByRole("button", { name: "Check and import" }).click();
      await page.waitForURL(/done=imported/, { timeout: 15_000 });
      expect(await page.content()).toContain("Imported <strong>1 row");
    } finally {
      await context.close();
    }
  });
});
