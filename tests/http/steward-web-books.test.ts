/**
 * The steward web app's Books pages on a real node: resources and members (add, edit), an
 * entry of every kind, a draw with its receipt page, a correction, refusals next to their
 * fields with nothing stored, a form sent twice recording once, markup refused, and members'
 * names kept off the public pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as books from "../../src/services/books.ts";
import * as ledger from "../../src/services/ledger.ts";
import { createPod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { onlyOwnScripts, formOf, StewardClient } from "../helpers/steward-web.ts";

let node: TestNode;
let client: StewardClient;
const POD = "oak-street";
const BOOKS = `/pods/${POD}/steward/books`;
const ENTRIES = `${BOOKS}/entries`;
const NEW = `${ENTRIES}/new`;
const MEMBER_NAME = "Ada Quietwater";

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name}-error">([^<]*)</span>`).exec(page)?.[1];
const headSeq = async () => (await ledger.getLedgerHead(node.deps, POD)).seq;
const seqOf = (location: string | null) => Number(/\/entries\/(\d+)\?/.exec(location ?? "")?.[1]);
const stockOf = async (key: string) => (await ledger.getBalances(node.deps, POD)).stock.find((s) => s.resource === key)?.quantity;

let pseudonym = "";

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD, podName: "Oak Street" });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
  client = await StewardClient.signIn(node, POD);
});

afterAll(async () => {
  await node?.stop();
});

describe("resources", () => {
  it("adds a resource through the form (the books service stores it)", async () => {
    const r = await client.post(`${BOOKS}/resources`, {
      key: "squash",
      name: "Winter squash",
      unit: "kilogram",
      category: "food",
      referencePrice: "2.5",
      referencePriceSource: "market stall",
      referencePriceOn: "2026-01-10",
      specificationUri: "",
    }, { from: `${BOOKS}/resources` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BOOKS}/resources/squash?done=resource-added`);
    expect(await books.getResource(node.deps, POD, "squash")).toMatchObject({ name: "Winter squash", unit: "kilogram", category: "food", referencePrice: "2.5", referencePriceSource: "market stall", referencePriceOn: "2026-01-10", specificationUri: null });
    const page = await client.get(r.location!);
    expect(page.status).toBe(200);
    expect(page.text).toContain("The resource was added");
    expect(page.text).toMatch(/<input type="text" id="f-name" name="name" required[^>]* value="Winter squash"/);
  });

  it("refuses a bad key next to the field, in plain words, storing nothing", async () => {
    const r = await client.post(`${BOOKS}/resources`, { key: "Bad Key!", name: "Rice", unit: "kilogram", category: "food" }, { from: `${BOOKS}/resources` });
    expect(r.status).toBe(400);
    expect(codeOn(r.text)).toBe("INVALID_RESOURCE_KEY");
    expect(errorNextTo(r.text, "key")).toMatch(/^This must be 1–40 of a-z/);
    expect(r.text).toContain("Nothing was saved");
    // The values sent come back in the form.
    expect(r.text).toMatch(/id="f-name" name="name"[^>]* value="Rice"/);
    expect((await books.listResources(node.deps, POD)).map((x) => x.key)).toEqual(["squash"]);
    const taken = await client.post(`${BOOKS}/resources`, { key: "squash", name: "Again", unit: "kilogram", category: "food" }, { from: `${BOOKS}/resources` });
    expect(taken.status).toBe(409);
    expect(codeOn(taken.text)).toBe("RESOURCE_EXISTS");
    expect(errorNextTo(taken.text, "key")).toBeTruthy();
  });

  it("edits a resource's name and price; an empty optional field clears it", async () => {
    const r = await client.post(`${BOOKS}/resources/squash`, { name: "Squash", unit: "kilogram", category: "food", referencePrice: "3", referencePriceSource: "", referencePriceOn: "", specificationUri: "https://example.org/squash" }, { from: `${BOOKS}/resources/squash` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BOOKS}/resources/squash?done=resource-saved`);
    expect(await books.getResource(node.deps, POD, "squash")).toMatchObject({ name: "Squash", referencePrice: "3", referencePriceSource: null, referencePriceOn: null, specificationUri: "https://example.org/squash" });
    const list = await client.get(`${BOOKS}/resources`);
    expect(list.text).toContain(`href="${BOOKS}/resources/squash"`);
  });

  it("an unknown resource's page is a 404", async () => {
    const r = await client.get(`${BOOKS}/resources/nowhere`);
    expect(r.status).toBe(404);
    expect(codeOn(r.text)).toBe("UNKNOWN_RESOURCE");
  });
});

describe("members", () => {
  it("registers a member under a pseudonym; the name shows on the steward pages", async () => {
    const r = await client.post(`${BOOKS}/members`, { name: MEMBER_NAME, contact: "flat 3" }, { from: `${BOOKS}/members` });
    expect(r.status).toBe(303);
    const members = await books.listMembers(node.deps, POD);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ name: MEMBER_NAME, contact: "flat 3" });
    pseudonym = members[0]!.pseudonym;
    expect(r.location).toBe(`${BOOKS}/members?done=member-added#mem-${pseudonym}`);
    const page = await client.get(`${BOOKS}/members`);
    expect(page.text).toContain(MEMBER_NAME);
    expect(page.text).toContain(pseudonym);
  });

  it("edits a member's name and contact; the pseudonym stays", async () => {
    const r = await client.post(`${BOOKS}/members/${pseudonym}`, { name: `${MEMBER_NAME} Jr`, contact: "" }, { from: `${BOOKS}/members/${pseudonym}` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BOOKS}/members/${pseudonym}?done=member-saved`);
    expect(await books.listMembers(node.deps, POD)).toMatchObject([{ pseudonym, name: `${MEMBER_NAME} Jr`, contact: null }]);
    const back = await client.post(`${BOOKS}/members/${pseudonym}`, { name: MEMBER_NAME, contact: "flat 3" }, { from: `${BOOKS}/members/${pseudonym}` });
    expect(back.status).toBe(303);
    const unknown = await client.get(`${BOOKS}/members/m-0000`);
    expect(unknown.status).toBe(404);
  });

  it("refuses an empty name and a name with HTML, storing nothing", async () => {
    const empty = await client.post(`${BOOKS}/members`, { name: "  ", contact: "" }, { from: `${BOOKS}/members` });
    expect(empty.status).toBe(400);
    expect(errorNextTo(empty.text, "name")).toBe("This cannot be empty.");
    const markup = await client.post(`${BOOKS}/members`, { name: "<b>Bold</b> Bob", contact: "" }, { from: `${BOOKS}/members` });
    expect(markup.status).toBe(400);
    expect(codeOn(markup.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(markup.text, "name")).toMatch(/plain text/);
    expect(markup.text).not.toContain("<b>Bold</b>");
    const edit = await client.post(`${BOOKS}/members/${pseudonym}`, { name: "<script>x</script>", contact: "" }, { from: `${BOOKS}/members/${pseudonym}` });
    expect(codeOn(edit.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(await books.listMembers(node.deps, POD)).toMatchObject([{ pseudonym, name: MEMBER_NAME }]);
  });
});

describe("entries", () => {
  it("the new-entry page offers every kind, and each kind's form has a label for every input", async () => {
    const choose = await client.get(NEW);
    expect(choose.status).toBe(200);
    for (const kind of ["contribution", "draw", "expenditure", "transfer_out", "transfer_in", "correction"]) {
      expect(choose.text).toContain(`href="${NEW}?kind=${kind}"`);
      const page = await client.get(`${NEW}?kind=${kind}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(`<input type="hidden" name="kind" value="${kind}">`);
      const ids = [...page.text.matchAll(/<(?:input|select|textarea) (?:type="(?!hidden)[^"]*" )?id="([^"]+)"/g)].map((m) => m[1]!);
      expect(ids.length).toBeGreaterThan(3);
      for (const id of ids) expect(page.text).toContain(`<label for="${id}">`);
      expect(page.text.match(/<h1>/g)).toHaveLength(1);
      expect(onlyOwnScripts(page.text)).toBe(true);
      expect(Buffer.byteLength(page.text)).toBeLessThan(100_000);
    }
    // Members are chosen from the pod's list.
    const draw = await client.get(`${NEW}?kind=draw`);
    expect(draw.text).toContain(`<option value="${pseudonym}">${pseudonym} — ${MEMBER_NAME}</option>`);
  });

  it("records a contribution, and the entry page shows it", async () => {
    const r = await client.post(ENTRIES, { resource: "squash", quantity: "20", fund: "", publicMemo: "from the allotment", privateMemo: "left at the back door", occurredAt: "" }, { from: `${NEW}?kind=contribution` });
    expect(r.status).toBe(303);
    const seq = seqOf(r.location);
    expect(r.location).toBe(`${ENTRIES}/${seq}?done=entry-recorded`);
    expect(await ledger.getEntry(node.deps, POD, seq)).toMatchObject({ kind: "contribution", resource: "squash", quantity: "20", fund: null, marketValue: "60", publicMemo: "from the allotment", privateMemo: "left at the back door", counterpartyKind: "none" });
    const page = await client.get(r.location!);
    expect(page.status).toBe(200);
    expect(page.text).toContain("The entry was recorded");
    expect(page.text).toContain("left at the back door");
    expect(await stockOf("squash")).toBe("20");
  });

  it("records an expenditure, a transfer out and a transfer in with their counterparties", async () => {
    const elm = node.actorUrl("elm-row");
    const out = await client.post(ENTRIES, { resource: "squash", quantity: "2", fund: "capacity_building", counterpartyPod: elm, marketValue: "7.5", charged: "" }, { from: `${NEW}?kind=transfer_out` });
    expect(out.status).toBe(303);
    expect(await ledger.getEntry(node.deps, POD, seqOf(out.location))).toMatchObject({ kind: "transfer_out", fund: "capacity_building", counterpartyKind: "pod", counterparty: elm, marketValue: "7.5", charged: "0" });
    const inn = await client.post(ENTRIES, { resource: "squash", quantity: "1.25", fund: "survival", counterpartyPod: elm, occurredAt: "2026-01-15" }, { from: `${NEW}?kind=transfer_in` });
    expect(inn.status).toBe(303);
    const inEntry = await ledger.getEntry(node.deps, POD, seqOf(inn.location));
    expect(inEntry).toMatchObject({ kind: "transfer_in", quantity: "1.25", fund: "survival", counterparty: elm });
    expect(inEntry.occurredAt.toISOString()).toBe("2026-01-15T00:00:00.000Z");
    const spent = await client.post(ENTRIES, { resource: "squash", quantity: "1", fund: "survival", counterpartyLabel: "Corner shop", charged: "1.2" }, { from: `${NEW}?kind=expenditure` });
    expect(spent.status).toBe(303);
    expect(await ledger.getEntry(node.deps, POD, seqOf(spent.location))).toMatchObject({ kind: "expenditure", counterpartyKind: "outside", counterparty: "Corner shop", charged: "1.2" });
    expect(await stockOf("squash")).toBe("18.25");
  });

  it("records a draw for a member and links to its receipt page, which answers 200 and prints", async () => {
    const r = await client.post(ENTRIES, { resource: "squash", quantity: "3", fund: "survival", member: pseudonym, charged: "0", publicMemo: "winter box" }, { from: `${NEW}?kind=draw` });
    expect(r.status).toBe(303);
    const seq = seqOf(r.location);
    expect(r.location).toBe(`${ENTRIES}/${seq}?done=draw-recorded`);
    const entry = await ledger.getEntry(node.deps, POD, seq);
    expect(entry).toMatchObject({ kind: "draw", member: pseudonym, counterpartyKind: "member", quantity: "3", marketValue: "9" });
    expect(entry.receipt).toMatch(/^R1-[A-Z2-9]{6}$/);
    const page = await client.get(r.location!);
    expect(page.text).toContain("its commons receipt issued");
    const link = /<a href="([^"]+)" id="receipt-link">/.exec(page.text)?.[1];
    expect(link).toBe(`${node.origin}/pods/${POD}/receipts/${entry.receipt}`);
    const receipt = await fetch(link!);
    expect(receipt.status).toBe(200);
    const text = await receipt.text();
    expect(text).toContain("VOID BY SOLIDARITY");
    expect(text).toContain(entry.receipt!);
    expect(text).toContain(pseudonym);
    expect(text).toContain("@media print");
    expect(text).not.toContain(MEMBER_NAME);
    expect(await stockOf("squash")).toBe("15.25");
  });

  it("refuses a draw without a fund or larger than the stock, next to the field, storing nothing", async () => {
    const before = await headSeq();
    const noFund = await client.post(ENTRIES, { resource: "squash", quantity: "1", fund: "", member: pseudonym }, { from: `${NEW}?kind=draw` });
    expect(noFund.status).toBe(400);
    expect(codeOn(noFund.text)).toBe("FUND_REQUIRED");
    expect(errorNextTo(noFund.text, "fund")).toMatch(/^A draw names the fund it comes from/);
    // The form comes back for the same kind, with what was chosen.
    expect(noFund.text).toContain('<input type="hidden" name="kind" value="draw">');
    expect(noFund.text).toContain(`<option value="${pseudonym}" selected>`);
    const tooMuch = await client.post(ENTRIES, { resource: "squash", quantity: "1000", fund: "survival" }, { from: `${NEW}?kind=draw` });
    expect(tooMuch.status).toBe(400);
    expect(codeOn(tooMuch.text)).toBe("INSUFFICIENT_STOCK");
    expect(errorNextTo(tooMuch.text, "quantity")).toMatch(/15\.25 kilogram of squash, less than 1000/);
    const badNumber = await client.post(ENTRIES, { resource: "squash", quantity: "1,5", fund: "survival" }, { from: `${NEW}?kind=draw` });
    expect(errorNextTo(badNumber.text, "quantity")).toMatch(/^This must be a decimal number/);
    const twoParties = await client.post(ENTRIES, { resource: "squash", quantity: "1", member: pseudonym, counterpartyLabel: "Someone" }, { from: `${NEW}?kind=contribution` });
    expect(codeOn(twoParties.text)).toBe("COUNTERPARTY_CONFLICT");
    expect(errorNextTo(twoParties.text, "counterpartyLabel")).toBeTruthy();
    expect(await headSeq()).toBe(before);
  });

  it("records a correction of an earlier entry from its page", async () => {
    const draw = (await ledger.listEntries(node.deps, POD)).find((e) => e.kind === "draw")!;
    const entryPage = await client.get(`${ENTRIES}/${draw.seq}`);
    expect(entryPage.text).toContain(`href="${NEW}?kind=correction&amp;corrects=${draw.seq}"`);
    const form = await client.get(`${NEW}?kind=correction&corrects=${draw.seq}`);
    expect(form.text).toContain("The entry it corrects");
    expect(form.text).toMatch(new RegExp(`id="f-corrects" name="corrects"[^>]* value="${draw.seq}"`));
    const r = await client.post(ENTRIES, { corrects: String(draw.seq), quantity: "-1", publicMemo: "one was returned" }, { from: `${NEW}?kind=correction&corrects=${draw.seq}` });
    expect(r.status).toBe(303);
    expect(r.location).toMatch(/\?done=correction-recorded$/);
    expect(await ledger.getEntry(node.deps, POD, seqOf(r.location))).toMatchObject({ kind: "correction", corrects: draw.seq, quantity: "-1", marketValue: "-3", fund: "survival", member: pseudonym });
    expect(await stockOf("squash")).toBe("16.25");
  });

  it("refuses a correction of no entry, or one too large, next to the field", async () => {
    const before = await headSeq();
    const none = await client.post(ENTRIES, { corrects: "999", quantity: "-1" }, { from: `${NEW}?kind=correction` });
    expect(none.status).toBe(400);
    expect(codeOn(none.text)).toBe("CORRECTION_TARGET");
    expect(errorNextTo(none.text, "corrects")).toBe("There is no entry 999 to correct.");
    const tooLarge = await client.post(ENTRIES, { corrects: "1", quantity: "-100" }, { from: `${NEW}?kind=correction` });
    expect(codeOn(tooLarge.text)).toBe("CORRECTION_TOO_LARGE");
    expect(errorNextTo(tooLarge.text, "quantity")).toBeTruthy();
    expect(await headSeq()).toBe(before);
  });

  it("a form sent twice records one entry, and both answers lead to it", async () => {
    const before = await headSeq();
    const page = await client.get(`${NEW}?kind=contribution`);
    const fields = { ...formOf(page.text, ENTRIES), resource: "squash", quantity: "4", publicMemo: "sent twice" };
    const first = await client.post(ENTRIES, fields, { csrf: false });
    const second = await client.post(ENTRIES, fields, { csrf: false });
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect(await headSeq()).toBe(before + 1);
    expect((await ledger.listEntries(node.deps, POD)).filter((e) => e.publicMemo === "sent twice")).toHaveLength(1);
  });

  it("refuses HTML in a memo (MARKUP_NOT_ALLOWED) and stores nothing", async () => {
    const before = await headSeq();
    const r = await client.post(ENTRIES, { resource: "squash", quantity: "1", publicMemo: 'thanks <img src=x onerror="alert(1)">' }, { from: `${NEW}?kind=contribution` });
    expect(r.status).toBe(400);
    expect(codeOn(r.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(r.text, "publicMemo")).toMatch(/plain text/);
    expect(r.text).not.toContain("<img src=x");
    const hidden = await client.post(ENTRIES, { resource: "squash", quantity: "1", privateMemo: "<script>alert(1)</script>" }, { from: `${NEW}?kind=contribution` });
    expect(codeOn(hidden.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(hidden.text, "privateMemo")).toBeTruthy();
    expect(await headSeq()).toBe(before);
  });

  it("the entries list and the overview show the books, a page at a time", async () => {
    const list = await client.get(ENTRIES);
    expect(list.status).toBe(200);
    const seqs = [...list.text.matchAll(new RegExp(`<td><a href="${ENTRIES}/(\\d+)">`, "g"))].map((m) => Number(m[1]));
    expect(seqs[0]).toBe(await headSeq());
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(list.text).toContain(`${pseudonym}</code> (${MEMBER_NAME})`);
    const overview = await client.get(BOOKS);
    expect(overview.status).toBe(200);
    expect(overview.text).toContain("Value reclaimed from the market");
    expect(overview.text).toContain(`href="${node.origin}/pods/${POD}/books"`);
    expect(overview.text).toContain(`href="${node.origin}/pods/${POD}/books/export.json"`);
    expect(await stockOf("squash")).toBe("20.25");
    expect(overview.text).toContain('<td class="num">20.25 kg</td>');
    expect(overview.text.match(/<h1>/g)).toHaveLength(1);
    expect(Buffer.byteLength(overview.text)).toBeLessThan(100_000);
    const missing = await client.get(`${ENTRIES}/9999`);
    expect(missing.status).toBe(404);
  });

  it("keeps members' names, contacts and private memos off the public pages", async () => {
    for (const path of [`/pods/${POD}/books`, `/pods/${POD}/books/export.json`, `/pods/${POD}`]) {
      const r = await fetch(node.origin + path);
      expect(r.status).toBe(200);
      const text = await r.text();
      expect(text).not.toContain(MEMBER_NAME);
      expect(text).not.toContain("flat 3");
      expect(text).not.toContain("left at the back door");
      expect(text).not.toContain(pseudonym);
    }
  });

  it("the steward pages need a session", async () => {
    const stranger = new StewardClient(node.origin, POD);
    expect((await stranger.get(BOOKS)).status).toBe(401);
    expect((await stranger.get(`${ENTRIES}/1`)).status).toBe(401);
    const r = await stranger.post(ENTRIES, { kind: "contribution", resource: "squash", quantity: "1" }, { csrf: false, headers: { origin: node.origin } });
    expect(r.status).toBe(401);
  });
});
