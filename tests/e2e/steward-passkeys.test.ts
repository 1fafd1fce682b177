/**
 * Passkeys in a real Chromium, with its virtual authenticator (a platform authenticator that
 * holds discoverable credentials and verifies the user): a steward signed in by link adds a
 * passkey on the Stewards page, signs out, signs in with the passkey and is back on the
 * Stewards page as the same steward; axe finds nothing serious on either page with the passkey
 * parts shown, and the strict CSP reports nothing. Without JavaScript the buttons do not appear.
 *
 * The node listens on 127.0.0.1 but its PUBLIC_URL is http://localhost:PORT: Chromium refuses
 * an IP address as a WebAuthn relying party ID, and treats localhost as a secure context.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInvite } from "../../src/services/steward-sessions.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { describeViolations, seriousViolations } from "../helpers/browser-a11y.ts";
import { freePort, startTestNode, type TestNode } from "../helpers/node.ts";

let node: TestNode;
let browser: Browser;
const POD = "oak-street";
const BASE = `/pods/${POD}/steward`;

beforeAll(async () => {
  const port = await freePort();
  [node, browser] = await Promise.all([
    startTestNode({ podSlug: POD, podName: "Oak Street", env: { PORT: String(port), PUBLIC_URL: `http://localhost:${port}` } }),
    launchBrowser(),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await node?.stop();
});

describe("passkeys in Chromium", () => {
  it("add a passkey while signed in, sign out, sign in with it, see the Stewards page", async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    try {
      const page = await context.newPage();
      context.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      const cdp = await context.newCDPSession(page);
      await cdp.send("WebAuthn.enable");
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
      });

      // Signed in with a link first.
      const invite = await createInvite(node.deps, { podSlug: POD });
      await page.goto(invite.url!);
      await page.getByRole("button", { name: /Sign in to Oak Street/ }).click();
      await page.waitForURL(`**${BASE}/?done=signed-in`);
      const me = (await page.locator(".stewardbar").textContent())!.match(/Signed in as Steward (\d+)/)![1];

      // The Stewards page: the script reveals the form, the authenticator makes the passkey.
      const response = await page.goto(`${node.origin}${BASE}/stewards`);
      expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
      const form = page.locator("#passkey-add");
      await form.waitFor({ state: "visible" });
      await expect.poll(() => page.locator("#passkey-needs").isHidden()).toBe(true);
      const onStewards = await seriousViolations(page);
      expect(onStewards, describeViolations(onStewards)).toEqual([]);
      await page.getByLabel(/^Name of the new passkey/).fill("my phone");
      await page.getByRole("button", { name: "Add a passkey on this device" }).click();
      await page.waitForURL(`**${BASE}/stewards?done=passkey-added#passkeys`);
      await expect.poll(() => page.locator("main").textContent()).toContain("The passkey was added.");
      expect(await page.locator("#passkeys + p + ul li").first().textContent()).toMatch(/^my phone\s*added \d{4}-\d\d-\d\d, not used yet/);
      const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.isResidentCredential).toBe(true);
      expect(credentials[0]!.rpId).toBe("localhost");

      // Sign out: back on the sign-in page, where the passkey button is shown.
      await page.locator(".stewardbar").getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`**${BASE}/sign-in?done=signed-out`);
      const button = page.getByRole("button", { name: "Sign in with a passkey" });
      await button.waitFor({ state: "visible" });
      const onSignIn = await seriousViolations(page);
      expect(onSignIn, describeViolations(onSignIn)).toEqual([]);
      await button.click();
      await page.waitForURL(`**${BASE}/?done=signed-in`);
      expect(await page.locator(".stewardbar").textContent()).toContain(`Signed in as Steward ${me}`);

      // The Stewards page, as the same steward, with the passkey now used.
      await page.goto(`${node.origin}${BASE}/stewards`);
      expect(await page.locator("h1").textContent()).toBe("Stewards");
      expect(await page.locator("#passkeys + p + ul li").first().textContent()).toMatch(/^my phone\s*added [\d-]+, last used [\d-]+ [\d:]+ UTC/);
      const { credentials: after } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      expect(after[0]!.signCount).toBeGreaterThan(credentials[0]!.signCount);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("without JavaScript, no passkey button appears and the sign-in link still works", async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      context.setDefaultTimeout(15_000);
      await page.goto(`${node.origin}${BASE}/sign-in`);
      expect(await page.getByRole("button", { name: "Sign in with a passkey" }).count()).toBe(0);
      expect(await page.locator("#passkey-sign-in").isHidden()).toBe(true);
      const invite = await createInvite(node.deps, { podSlug: POD });
      await page.goto(invite.url!);
      await page.getByRole("button", { name: /Sign in to Oak Street/ }).click();
      await page.waitForURL(`**${BASE}/?done=signed-in`);
      await page.goto(`${node.origin}${BASE}/stewards`);
      expect(await page.locator("#passkey-add").isHidden()).toBe(true);
      expect(await page.locator("#passkey-needs").isVisible()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
