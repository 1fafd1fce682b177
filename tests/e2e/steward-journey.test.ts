/**
 * A steward's journey through the web app in a real browser (Debian's Chromium driven by
 * playwright-core), against two real nodes federating over loopback:
 *
 * sign in from an invite link; edit the charter, preview it and publish it; follow the second
 * node's pod (whose steward follows back in a browser of their own); record a draw for a
 * member and print its receipt; import a CSV file with one bad row and see its error; add an
 * offer; claim the neighbour's offer from the congress page, the neighbour's steward accepts
 * it in their browser, and ours sees it accepted; invite the next steward (who signs in with
 * the link), and sign out.
 *
 * Every page on the way is checked where it stands: axe-core finds no serious or critical
 * violation, the page reports no CSP violation or script error, the browser asks nothing of
 * any other origin, the HTML is under 100 kB. Each page is checked in a phone-sized context
 * (360 px, light) and again, the very same document, in a desktop-sized one (1280 px, dark
 * colours); both are saved as screenshots in test-results/steward-web/.
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { createInvite } from "../../src/services/steward-sessions.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { ARTEFACTS, checkPage, replay, Watcher } from "../helpers/browser-a11y.ts";
import { TEST_DATABASE } from "../helpers/db.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const STEP_TIMEOUT = 60_000;

/** One person at one node: a phone-sized browser they use, and a desktop one that re-shows each page. */
interface Steward {
  readonly label: string;
  readonly node: TestNode;
  readonly phone: Page;
  readonly desktop: Page;
  readonly watchers: { phone: Watcher; desktop: Watcher };
}

let a: TestNode;
let b: TestNode;
let browser: Browser;
const contexts: BrowserContext[] = [];
let step = 0;

async function openSteward(label: string, node: TestNode): Promise<Steward> {
  const phoneContext = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1, colorScheme: "light", locale: "en-GB" });
  const desktopContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, colorScheme: "dark", locale: "en-GB" });
  contexts.push(phoneContext, desktopContext);
  // A missing element fails its step in seconds, not at the test's own limit.
  for (const context of [phoneContext, desktopContext]) context.setDefaultTimeout(10_000);
  const watchers = { phone: new Watcher(phoneContext, node.origin), desktop: new Watcher(desktopContext, node.origin) };
  return { label, node, phone: await phoneContext.newPage(), desktop: await desktopContext.newPage(), watchers };
}

/**
 * The checks of one journey step on the page the steward sees now, at 360 px and at 1280 px.
 * `ready` waits for what the page's script adds by itself, so that is checked too.
 */
async function check(s: Steward, name: string, ready?: (page: Page) => Promise<void>): Promise<void> {
  step += 1;
  const id = `${String(step).padStart(2, "0")}-${s.label}-${name}`;
  await ready?.(s.phone);
  const seen = await checkPage(s.phone, s.watchers.phone, id);
  // The desktop browser holds the same session, so whatever the page fetches by itself works there too.
  const desktop = s.desktop.context();
  await desktop.clearCookies();
  await desktop.addCookies(await s.phone.context().cookies());
  await replay(s.desktop, seen);
  await ready?.(s.desktop);
  await checkPage(s.desktop, s.watchers.desktop, id);
}

/** The charter form's live preview (the pages' script) has shown the post. */
const livePreviewShown = async (page: Page) => {
  await expect.poll(() => page.locator("#live-preview .live .post").count(), { timeout: 10_000 }).toBe(1);
};

/** Presses a button (or follows a link) and waits for the page it leads to. */
async function press(page: Page, target: Locator): Promise<void> {
  const loaded = page.waitForEvent("load");
  await target.click();
  await loaded;
}

async function open(s: Steward, path: string): Promise<void> {
  await s.phone.goto(new URL(path, s.node.origin).href);
}

/** Reloads the page until `ready` holds (another node's answer arrives over federation). */
async function reloadUntil(page: Page, ready: () => Promise<boolean>, what: string): Promise<void> {
  await waitFor(
    async () => {
      if (await ready()) return true;
      await page.reload();
      return false;
    },
    20_000,
    what,
  );
}

const base = (node: TestNode) => `/pods/${node.config.podSlug}/steward`;
const main = (page: Page) => page.locator("main");

let ours: Steward;
let theirs: Steward;

beforeAll(async () => {
  rmSync(ARTEFACTS, { recursive: true, force: true });
  [a, b, browser] = await Promise.all([
    startTestNode({ podSlug: "oak-street", podName: "Oak Street" }),
    startTestNode({ podSlug: "elm-row", podName: "Elm Row" }),
    launchBrowser(),
  ]);
  // The pod has a charter already: the steward edits it.
  await publishCharterRevision(a.deps, "oak-street", {
    title: "Oak Street Service Charter",
    changeNote: "First charter, agreed at the assembly.",
    services: [{ name: "Meal distribution", description: "Hot meals from the parish hall.", category: "food", since: "2025-03-01" }],
  });
  ours = await openSteward("oak", a);
  theirs = await openSteward("elm", b);
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await Promise.all([a?.stop(), b?.stop()]);
});

/** Opens a one-time link in the steward's browser and presses its button. */
async function signIn(s: Steward, link: string, podName: string, name: string): Promise<void> {
  await s.phone.goto(link);
  await expect.poll(() => s.phone.getByRole("heading", { level: 1 }).textContent()).toBe(`Sign in as a steward of ${podName}`);
  await check(s, `${name}-link`);
  await press(s.phone, s.phone.getByRole("button", { name: `Sign in to ${podName}` }));
  expect(new URL(s.phone.url()).pathname).toBe(`${base(s.node)}/`);
  await expect.poll(() => main(s.phone).textContent()).toContain("You are signed in.");
  await check(s, `${name}-overview`);
}

describe("a steward's journey in a real browser", { timeout: STEP_TIMEOUT }, () => {
  it("the page checks catch a serious violation, a CSP breach and an outside request (so a clean page means something)", async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    contexts.push(context);
    const watcher = new Watcher(context, a.origin);
    const page = await context.newPage();
    const url = `${a.origin}/pods/oak-street/steward/checker-canary`;
    const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' http://127.0.0.2:9";
    const body = `<!doctype html><html lang="en"><head><title>Canary</title></head><body><main><h1>Canary</h1>
<form><input type="text" name="unlabelled"></form><script>document.title = "ran"</script><img src="http://127.0.0.2:9/x.png" alt="x"></main></body></html>`;
    await replay(page, { url, status: 200, headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": csp }, body: Buffer.from(body) });
    const failure = await checkPage(page, watcher, "canary").then(() => null, (error: Error) => error.message);
    expect(failure).toMatch(/Content Security Policy/);
    expect(failure).toContain("request outside");
    // Once those are reported, axe's own finding shows: a text input without a label.
    await expect(checkPage(page, watcher, "canary")).rejects.toThrow(/\[critical\] label: Form elements must have labels/);
    await context.close();
  });

  it("signs in from an invite link (both nodes' stewards)", async () => {
    const ourLink = await createInvite(a.deps, { podSlug: "oak-street" });
    await signIn(ours, ourLink.url!, "Oak Street", "sign-in");
    await expect.poll(() => ours.phone.locator(".stewardbar").textContent()).toMatch(/Signed in as Steward 1/);

    const theirLink = await createInvite(b.deps, { podSlug: "elm-row" });
    await signIn(theirs, theirLink.url!, "Elm Row", "sign-in");
  });

  it("edits the charter, previews the post and the changes, and publishes it", async () => {
    await press(ours.phone, ours.phone.getByRole("navigation", { name: "Steward pages" }).getByRole("link", { name: "Charter" }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("Revision 1");
    await check(ours, "charter", livePreviewShown);
    const form = ours.phone.getByRole("form", { name: "The charter" });
    // A second service, in the empty row the form keeps for it.
    const row = form.getByRole("group", { name: "Service 2" });
    await row.getByLabel("Name", { exact: true }).fill("Tool library");
    await row.getByLabel("What it is").fill("Drills and ladders to borrow.");
    await row.getByLabel("Category").selectOption("repair");
    await row.getByLabel("Provided since").fill("2026-01-10");
    await form.getByLabel("What changed, and why").fill("The tool library joins the charter.");
    // The live preview follows the typing.
    await expect.poll(() => ours.phone.locator("#live-preview .live").textContent(), { timeout: 10_000 }).toContain("Tool library");
    await press(ours.phone, form.getByRole("button", { name: "Preview the post and the changes" }));
    await expect.poll(() => ours.phone.getByRole("heading", { level: 1 }).textContent()).toBe("Preview of revision 2");
    await expect.poll(() => main(ours.phone).textContent()).toContain("Tool library");
    await check(ours, "charter-preview");
    // The preview stored nothing: publishing is its own step.
    await press(ours.phone, ours.phone.getByRole("button", { name: "Publish revision 2" }));
    expect(new URL(ours.phone.url()).pathname).toBe(`${base(a)}/charter`);
    await expect.poll(() => main(ours.phone).textContent()).toContain("The new revision is published.");
    await expect.poll(() => main(ours.phone).textContent()).toContain("Revision 2");
    await check(ours, "charter-published");
    // The public charter page says so too.
    const publicPage = await (await fetch(`${a.origin}/pods/oak-street/charter`)).text();
    expect(publicPage).toContain("Tool library");
  });

  it("follows the second node's pod by its handle, and that pod's steward follows back", async () => {
    await open(ours, `${base(a)}/follows`);
    await check(ours, "follows");
    await ours.phone.getByLabel("Handle or address").fill(b.handle());
    await press(ours.phone, ours.phone.getByRole("button", { name: "Follow", exact: true }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("A follow request was sent.");
    await check(ours, "follow-sent");

    await open(theirs, `${base(b)}/follows`);
    await theirs.phone.getByLabel("Handle or address").fill(a.handle());
    await press(theirs.phone, theirs.phone.getByRole("button", { name: "Follow", exact: true }));

    // Each node answers the other's Follow by itself (no approval asked): both read "Following".
    const following = (s: Steward, other: string) => async () => {
      const row = s.phone.locator("#following + div table tbody tr", { hasText: other });
      return (await row.count()) === 1 && (await row.locator("td").nth(1).textContent()) === "Following";
    };
    await reloadUntil(theirs.phone, following(theirs, "Oak Street"), "Elm Row to follow Oak Street");
    await check(theirs, "follows-back");
    await reloadUntil(ours.phone, following(ours, "Elm Row"), "Oak Street to follow Elm Row");
    // Oak Street is followed back: Elm Row is both followed and a follower.
    await expect.poll(() => ours.phone.locator("#followers + div table").textContent()).toContain("Elm Row");
    await check(ours, "following");
  });

  it("records a draw for a member and prints its receipt", async () => {
    await open(ours, `${base(a)}/books`);
    await check(ours, "books");
    const booksNav = ours.phone.getByRole("navigation", { name: "Books pages" });

    await press(ours.phone, booksNav.getByRole("link", { name: "Resources" }));
    const resource = ours.phone.getByRole("form", { name: "Add a resource" });
    await resource.getByLabel("Key").fill("squash");
    await resource.getByLabel("Name").fill("Winter squash");
    await resource.getByLabel("Unit").selectOption("kilogram");
    await resource.getByLabel("Category").fill("food");
    await resource.getByLabel("Reference price (optional)").fill("2.5");
    await check(ours, "resources");
    await press(ours.phone, resource.getByRole("button", { name: "Add the resource" }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("The resource was added");
    await check(ours, "resource-added");

    await press(ours.phone, booksNav.getByRole("link", { name: "Members" }));
    const member = ours.phone.getByRole("form", { name: "Register a member" });
    await member.getByLabel("Name").fill("Ada Greenwood");
    await member.getByLabel("Contact (optional)").fill("07700 900123");
    await press(ours.phone, member.getByRole("button", { name: "Register the member" }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("Ada Greenwood");
    await check(ours, "member-added");

    // Stock first: a contribution of 10 kg.
    await press(ours.phone, booksNav.getByRole("link", { name: "Add an entry" }));
    await check(ours, "add-entry");
    await press(ours.phone, main(ours.phone).getByRole("link", { name: "Contribution", exact: true }));
    const contribution = ours.phone.getByRole("form", { name: "Contribution" });
    await contribution.getByLabel("Resource").selectOption("squash");
    await contribution.getByLabel("Quantity").fill("10");
    await press(ours.phone, contribution.getByRole("button", { name: "Record the entry" }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("no. 1");

    // The draw, for the member.
    await open(ours, `${base(a)}/books/entries/new?kind=draw`);
    const draw = ours.phone.getByRole("form", { name: "Draw" });
    await draw.getByLabel("Resource").selectOption("squash");
    await draw.getByLabel("Quantity").fill("3");
    await draw.getByRole("combobox", { name: /^Fund\b/ }).selectOption("survival");
    const memberOption = draw.getByLabel("Member", { exact: true }).locator("option", { hasText: "Ada Greenwood" });
    const pseudonym = (await memberOption.getAttribute("value")) ?? "";
    expect(pseudonym).toMatch(/^m-[0-9a-f]{4,12}$/);
    await draw.getByLabel("Member", { exact: true }).selectOption(pseudonym);
    await draw.getByLabel("Public memo (optional)").fill("winter box");
    await check(ours, "draw-form");
    await press(ours.phone, draw.getByRole("button", { name: "Record the draw and issue its receipt" }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("The draw was recorded and its commons receipt issued.");
    await check(ours, "draw-recorded");

    await press(ours.phone, ours.phone.getByRole("link", { name: "Open the receipt to print it" }));
    expect(new URL(ours.phone.url()).pathname).toMatch(/^\/pods\/oak-street\/receipts\/R1-[A-Z2-9]{6}$/);
    const receipt = await main(ours.phone).textContent();
    expect(receipt).toContain("Commons receipt");
    expect(receipt).toContain(pseudonym);
    // The receipt names the member by pseudonym only.
    expect(receipt).not.toContain("Ada Greenwood");
    expect(receipt).not.toContain("07700");
    await check(ours, "receipt");

    // Printed: the print stylesheet's view, and the PDF Chromium's print makes of it.
    for (const page of [ours.phone, ours.desktop]) await page.emulateMedia({ media: "print" });
    await check(ours, "receipt-print");
    mkdirSync(ARTEFACTS, { recursive: true });
    const pdf = path.join(ARTEFACTS, `receipt-${TEST_DATABASE}.pdf`);
    await ours.desktop.pdf({ path: pdf, format: "A4" });
    expect(readFileSync(pdf).subarray(0, 5).toString()).toBe("%PDF-");
    for (const page of [ours.phone, ours.desktop]) await page.emulateMedia({ media: "screen" });
  });

  it("imports a CSV file with one bad row and sees that row's error; nothing is imported", async () => {
    await open(ours, `${base(a)}/books/import`);
    await check(ours, "import");
    const csv = ["kind,resource,quantity,fund,public_memo", "contribution,squash,4,,from the allotment", "draw,squash,two,survival,", "contribution,squash,1.5,,"].join("\n") + "\n";
    const form = ours.phone.getByRole("form", { name: "Import a CSV file" });
    await form.getByLabel("CSV file").setInputFiles({ name: "books.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    // Not `press`: with the pages' script, the upload goes by XMLHttpRequest (with a progress
    // bar) and its answer is written into the page, without a navigation.
    await form.getByRole("button", { name: "Check and import" }).click();
    await expect.poll(() => ours.phone.locator("#error-summary").textContent(), { timeout: 15_000 }).toContain("Nothing was imported");
    const rows = ours.phone.locator("#row-errors tbody tr");
    await expect(rows.count()).resolves.toBe(1);
    expect(await rows.locator("td").allTextContents()).toEqual(["Row 2 (line 3)", "quantity", expect.stringMatching(/^Quantity must be a decimal number/), "INVALID_DECIMAL"]);
    await check(ours, "import-refused");
    // The books still hold the contribution and the draw only.
    await open(ours, `${base(a)}/books/entries`);
    await expect.poll(() => main(ours.phone).textContent()).toContain("The books hold 2 entries.");
  });

  it("adds an offer", async () => {
    await open(ours, `${base(a)}/offers`);
    await check(ours, "offers");
    await press(ours.phone, ours.phone.getByRole("link", { name: "Add an offer" }));
    await check(ours, "add-offer");
    const form = ours.phone.getByRole("form", { name: "New offer" });
    await form.getByLabel("What it is").fill("Ladders to lend");
    await form.getByLabel("Category").fill("tools");
    await form.getByLabel("Unit", { exact: true }).selectOption("one");
    await form.getByLabel("Quantity", { exact: false }).first().fill("3");
    await press(ours.phone, form.getByRole("button", { name: "Publish the offer" }));
    await expect.poll(() => main(ours.phone).textContent()).toContain("The offer is published");
    await expect(main(ours.phone).getByRole("heading", { level: 3 }).filter({ hasText: "Ladders to lend" }).count()).resolves.toBe(1);
    await check(ours, "offer-added");
  });

  it("claims a neighbour's offer from the congress page; the neighbour's steward accepts it in their browser", async () => {
    // Elm Row's steward offers squash in Elm Row's pages.
    await open(theirs, `${base(b)}/offers/add-offer`);
    const form = theirs.phone.getByRole("form", { name: "New offer" });
    await form.getByLabel("What it is").fill("Squash");
    await form.getByLabel("Category").fill("food");
    await form.getByLabel("Unit", { exact: true }).selectOption("kilogram");
    await form.getByLabel("Quantity", { exact: false }).first().fill("20");
    await press(theirs.phone, form.getByRole("button", { name: "Publish the offer" }));
    await expect.poll(() => main(theirs.phone).textContent()).toContain("The offer is published");
    await check(theirs, "offer-added");

    // It reaches Oak Street's congress page, with a claim form filled in beforehand.
    await open(ours, `${base(a)}/congress`);
    const claimForm = ours.phone.getByRole("form", { name: /^Claim Squash \(/ });
    await reloadUntil(ours.phone, async () => (await claimForm.count()) === 1, "Elm Row's offer in Oak Street's congress");
    await check(ours, "congress");
    await claimForm.getByLabel(/Claim how much/).fill("5");
    await press(ours.phone, claimForm.getByRole("button", { name: "Claim" }));
    expect(new URL(ours.phone.url()).pathname).toBe(`${base(a)}/claims`);
    const ourClaim = ours.phone.locator("#outgoing + ul.items > li").filter({ hasText: "Squash" });
    await expect.poll(() => ourClaim.locator(".status").textContent()).toBe("pending");
    await check(ours, "claimed");

    // Elm Row's steward sees it waiting on their Claims page and accepts it.
    await open(theirs, `${base(b)}/claims`);
    const waiting = theirs.phone.locator("li.item").filter({ hasText: "asks for 5 kg of our offer Squash" });
    await reloadUntil(theirs.phone, async () => (await waiting.count()) === 1, "Oak Street's claim at Elm Row");
    await check(theirs, "claims");
    await press(theirs.phone, waiting.getByRole("button", { name: "Accept" }));
    await expect.poll(() => theirs.phone.locator("li.item").filter({ hasText: "Squash" }).first().locator(".status").textContent()).toBe("accepted");
    await check(theirs, "claim-accepted");

    // Oak Street's Claims page shows the answer once Elm Row's Accept has arrived.
    await reloadUntil(ours.phone, async () => (await ourClaim.locator(".status").textContent()) === "accepted", "Elm Row's Accept at Oak Street");
    // Answered by Elm Row's steward, not by any rule of either pod.
    expect(await ourClaim.textContent()).toMatch(/Accepted by (Elm Row|a steward)/);
    await check(ours, "claim-answered");
  });

  it("invites the next steward, who signs in with the link; then signs out", async () => {
    await open(ours, `${base(a)}/stewards`);
    await check(ours, "stewards");
    const invite = ours.phone.getByRole("form", { name: "Invite a steward" });
    await invite.getByLabel("The link works for").selectOption("60");
    await press(ours.phone, invite.getByRole("button", { name: "Make an invitation link" }));
    const link = (await ours.phone.locator("#invite-link").textContent())?.trim() ?? "";
    expect(link).toMatch(new RegExp(`^${a.origin}/pods/oak-street/steward/sign-in\\?link=[\\w-]{43}$`));
    await check(ours, "invited");

    // The next steward opens it in a browser of their own.
    const next = await openSteward("oak2", a);
    await signIn(next, link, "Oak Street", "next-steward");
    await expect.poll(() => next.phone.locator(".stewardbar").textContent()).toMatch(/Signed in as Steward 2/);

    // The first steward signs out: the browser is back at the sign-in page and has no access.
    await open(ours, `${base(a)}/`);
    await press(ours.phone, ours.phone.locator(".stewardbar").getByRole("button", { name: "Sign out" }));
    expect(new URL(ours.phone.url()).pathname).toBe(`${base(a)}/sign-in`);
    await expect.poll(() => main(ours.phone).textContent()).toContain("You have signed out.");
    await check(ours, "signed-out");
    expect((await ours.phone.context().cookies()).filter((c) => c.name === "hyphae_steward")).toEqual([]);
    const refused = await ours.phone.goto(new URL(`${base(a)}/stewards`, a.origin).href);
    expect(refused?.status()).toBe(401);
    await check(ours, "after-sign-out");
    // The next steward is still signed in.
    await open(next, `${base(a)}/stewards`);
    await expect.poll(() => main(next.phone).textContent()).toMatch(/Steward 2 \(you\)/);
  });
});
