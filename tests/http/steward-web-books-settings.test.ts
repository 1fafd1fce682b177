/**
 * The Books settings form and the chain check on a real node: every setting saved through
 * the form (the books service stores it), refusals next to their field in plain words with
 * nothing stored, the currency locked once the ledger holds entries, a form sent twice
 * applied once; the check says "Chain OK" with the count and head, and after a row is
 * tampered with through raw SQL it names the first bad entry in plain words.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as books from "../../src/services/books.ts";
import * as ledger from "../../src/services/ledger.ts";
import { getPod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { expectAccessible, formOf, StewardClient } from "../helpers/steward-web.ts";

let node: TestNode;
let client: StewardClient;
const POD = "oak-street";
const BOOKS = `/pods/${POD}/steward/books`;
const SETTINGS = `${BOOKS}/settings`;
const VERIFY = `${BOOKS}/verify`;
const MEMBER_NAME = "Ada Quietwater";

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name}-error">([^<]*)</span>`).exec(page)?.[1];
const all = { currency: "EUR", allowOverdraw: "", "period-week": "on", invoiceAddressee: "" };

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD, podName: "Oak Street" });
  client = await StewardClient.signIn(node, POD);
});

afterAll(async () => {
  await node?.stop();
});

describe("books settings", () => {
  it("shows the current settings in a form linked from the books' navigation", async () => {
    const overview = await client.get(BOOKS);
    expect(overview.text).toContain(`<a href="${SETTINGS}">Settings</a>`);
    const page = await client.get(SETTINGS);
    expect(page.status).toBe(200);
    expectAccessible(page.text);
    expect(page.text).toContain(`<a href="${SETTINGS}" aria-current="page">Settings</a>`);
    expect(page.text).toMatch(/id="f-currency" name="currency" required[^>]* value="EUR"/);
    expect(page.text).toMatch(/<input type="checkbox" id="f-allowOverdraw" name="allowOverdraw"[^>]*>/);
    expect(page.text).not.toMatch(/name="allowOverdraw"[^>]* checked/);
    expect(page.text).toMatch(/name="period-week" checked>/);
    expect(page.text).toMatch(/name="period-month">/);
  });

  it("saves every setting through the books service", async () => {
    const r = await client.post(SETTINGS, { currency: "GBP", allowOverdraw: "on", "period-lunar": "on", "period-month": "on", invoiceAddressee: "Borough Council" }, { from: SETTINGS });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${SETTINGS}?done=settings-saved`);
    expect(await books.getBookSettings(node.deps, POD)).toEqual({ currency: "GBP", allowOverdraw: true, autoPeriods: ["lunar", "month"], invoiceAddressee: "Borough Council" });
    const page = await client.get(r.location!);
    expect(page.text).toContain("The settings were saved.");
    expect(page.text).toMatch(/name="allowOverdraw"[^>]* checked/);
    expect(page.text).toMatch(/name="period-week">/);
    expect(page.text).toMatch(/name="period-lunar" checked>/);
    expect(page.text).toMatch(/id="f-invoiceAddressee" name="invoiceAddressee"[^>]* value="Borough Council"/);
    // Unticked boxes and an emptied field turn the settings off.
    const off = await client.post(SETTINGS, { ...all, currency: "GBP" }, { from: SETTINGS });
    expect(off.status).toBe(303);
    expect(await books.getBookSettings(node.deps, POD)).toEqual({ currency: "GBP", allowOverdraw: false, autoPeriods: ["week"], invoiceAddressee: null });
  });

  it("refuses a bad currency, an over-long addressee and markup next to their fields, in plain words, storing nothing", async () => {
    const before = await books.getBookSettings(node.deps, POD);
    const bad = await client.post(SETTINGS, { ...all, currency: "pounds", invoiceAddressee: "Someone" }, { from: SETTINGS });
    expect(bad.status).toBe(400);
    expect(codeOn(bad.text)).toBe("INVALID_CURRENCY");
    expect(errorNextTo(bad.text, "currency")).toBe("This must be an ISO 4217 code of three capitals, e.g. EUR.");
    expect(bad.text).toContain("Nothing was saved");
    expect(bad.text).toMatch(/id="f-invoiceAddressee" name="invoiceAddressee"[^>]* value="Someone"/);
    expectAccessible(bad.text);
    const long = await client.post(SETTINGS, { ...all, invoiceAddressee: "x".repeat(501) }, { from: SETTINGS });
    expect(long.status).toBe(400);
    expect(errorNextTo(long.text, "invoiceAddressee")).toBe("This must be at most 500 characters.");
    const markup = await client.post(SETTINGS, { ...all, invoiceAddressee: "<b>Council</b>" }, { from: SETTINGS });
    expect(markup.status).toBe(400);
    expect(codeOn(markup.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(markup.text, "invoiceAddressee")).toBeTruthy();
    expect(await books.getBookSettings(node.deps, POD)).toEqual(before);
  });

  it("locks the currency once the ledger holds an entry (409 next to the field)", async () => {
    await books.addResource(node.deps, POD, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2" });
    await ledger.recordEntry(node.deps, POD, { kind: "contribution", resource: "squash", quantity: "5" });
    const page = await client.get(SETTINGS);
    expect(page.text).toContain("The books already hold 1 entry valued in GBP, so it cannot change now.");
    const r = await client.post(SETTINGS, { ...all, currency: "EUR" }, { from: SETTINGS });
    expect(r.status).toBe(409);
    expect(codeOn(r.text)).toBe("CURRENCY_IN_USE");
    expect(errorNextTo(r.text, "currency")).toBe("The books already hold entries valued in GBP; the currency cannot change now.");
    expect((await books.getBookSettings(node.deps, POD)).currency).toBe("GBP");
    // The same currency with other changes is fine.
    const same = await client.post(SETTINGS, { ...all, currency: "GBP", invoiceAddressee: "Ward office" }, { from: SETTINGS });
    expect(same.status).toBe(303);
    expect((await books.getBookSettings(node.deps, POD)).invoiceAddressee).toBe("Ward office");
  });

  it("a form sent twice applies once: the second answer replays the first without writing again", async () => {
    const page = await client.get(SETTINGS);
    const fields = { ...formOf(page.text, SETTINGS), ...all, currency: "GBP", invoiceAddressee: "Sent twice" };
    const first = await client.post(SETTINGS, fields, { csrf: false });
    expect(first.status).toBe(303);
    expect((await books.getBookSettings(node.deps, POD)).invoiceAddressee).toBe("Sent twice");
    // Changed in between (another steward, the CLI): the replayed form must not undo it.
    await books.updateBookSettings(node.deps, POD, { invoiceAddressee: "Changed since" });
    const second = await client.post(SETTINGS, fields, { csrf: false });
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect((await books.getBookSettings(node.deps, POD)).invoiceAddressee).toBe("Changed since");
  });
});

describe("verify the chain", () => {
  it("the overview links to the check; it says Chain OK with the count and the head", async () => {
    await books.addMember(node.deps, POD, { name: MEMBER_NAME });
    const member = (await books.listMembers(node.deps, POD))[0]!.pseudonym;
    await ledger.recordEntry(node.deps, POD, { kind: "draw", resource: "squash", quantity: "1", fund: "survival", member, privateMemo: "for the twins" });
    await ledger.recordEntry(node.deps, POD, { kind: "contribution", resource: "squash", quantity: "2" });
    const overview = await client.get(BOOKS);
    expect(overview.text).toContain(`href="${VERIFY}">Verify the chain</a>`);
    const head = await ledger.getLedgerHead(node.deps, POD);
    const page = await client.get(VERIFY);
    expect(page.status).toBe(200);
    expectAccessible(page.text);
    expect(page.text).toContain(`Chain OK: 3 entries, head <span class="hash">${head.hash}</span>`);
    expect(page.text).toContain("(entry 3)");
    expect(page.text).not.toContain(MEMBER_NAME);
  });

  it("names the first bad entry in plain words after a row was changed behind the node's back", async () => {
    const pod = await getPod(node.deps, POD);
    await sql`alter table ledger_entries disable trigger ledger_entries_append_only`.execute(node.deps.db);
    try {
      await sql`update ledger_entries set quantity = 7 where pod_id = ${pod.id} and seq = 2`.execute(node.deps.db);
    } finally {
      await sql`alter table ledger_entries enable trigger ledger_entries_append_only`.execute(node.deps.db);
    }
    const first = (await ledger.listEntries(node.deps, POD, { afterSeq: 0, limit: 1 }))[0]!;
    const page = await client.get(VERIFY);
    expect(page.status).toBe(200);
    expectAccessible(page.text);
    expect(page.text).toContain("The chain is broken");
    expect(page.text).toContain("Entry 2 was changed after it was recorded: its content no longer matches its hash.");
    expect(page.text).toContain(`The entry before it verifies (up to entry 1, head <span class="hash">${first.hash}</span>)`);
    expect(page.text).toContain(`<a href="${BOOKS}/entries/2">Open entry 2</a>`);
    expect(page.text).not.toContain("Chain OK");
    expect(page.text).not.toContain(MEMBER_NAME);
  });
});
