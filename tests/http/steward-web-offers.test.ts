/**
 * The steward web app's offers and needs pages on a real node over real HTTP: adding an offer
 * with every field the API takes and a need marked urgent, editing one (only what changed),
 * marking a need urgent and back, withdrawing; a form sent twice publishes once; bad input
 * (zero, text for a number, a past expiry or window, HTML) is refused next to its field and
 * stores nothing; the pages have a label for every input, no script, and stay small.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addResource } from "../../src/services/books.ts";
import { createProposal, getProposal, listProposals } from "../../src/services/proposals.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { expectAccessible, formOf, StewardClient } from "../helpers/steward-web.ts";

const SLUG = "oak-street";
const BASE = `/pods/${SLUG}/steward`;
let node: TestNode;
let web: StewardClient;
/** Numbers of the needs added below (offers and needs share one numbering per pod). */
let blankets: number;
let water: number;

const DAY = 86_400_000;
const dayFromNow = (days: number) => new Date(node.deps.clock.now().getTime() + days * DAY).toISOString().slice(0, 10);
const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
/** The message shown next to a field (its error span). */
const errorAt = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name.replace(/[^\w-]/g, "-")}-error">([^<]*)</span>`).exec(page)?.[1];
const proposalCount = async () => Number((await sql<{ n: number }>`select count(*)::int as n from proposals`.execute(node.deps.db)).rows[0]!.n);

beforeAll(async () => {
  node = await startTestNode({ podSlug: SLUG, podName: "Oak Street" });
  await addResource(node.deps, SLUG, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  web = await StewardClient.signIn(node, SLUG);
});

afterAll(async () => {
  await node?.stop();
});

describe("offers and needs through the forms", () => {
  it("adds an offer with every field the API takes, and lists it open", async () => {
    const form = await web.get(`${BASE}/offers/add-offer`);
    expect(form.status).toBe(200);
    expectAccessible(form.text);
    expect(form.text).toContain('<option value="squash">Squash (squash, kilogram)</option>');

    const until = dayFromNow(5);
    const r = await web.post(
      `${BASE}/offers/add-offer`,
      {
        name: "Squash from the allotment",
        description: "Butternut and acorn.\r\nBring a bag.",
        resource: "squash",
        unit: "",
        category: "",
        specificationUri: "https://www.wikidata.org/wiki/Q7533",
        quantity: "5",
        unitBased: "true",
        total: "40",
        minimum: "10",
        "reciprocal.name": "Jars",
        "reciprocal.quantity": "4",
        "reciprocal.unit": "one",
        "reciprocal.specificationUri": "https://www.wikidata.org/wiki/Q2578402",
        location: "Oak Street allotments",
        availableFrom: dayFromNow(1),
        availableUntil: until,
        expiresAt: "",
        fund: "capacity_building",
        action: "",
      },
      { from: `${BASE}/offers/add-offer` },
    );
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BASE}/offers?done=offer-added#offer-1`);

    const offer = await getProposal(node.deps, SLUG, "offer", 1);
    expect(offer).toMatchObject({
      name: "Squash from the allotment",
      description: "Butternut and acorn.\nBring a bag.",
      resource: "squash",
      unit: "kilogram",
      category: "food",
      specificationUri: "https://www.wikidata.org/wiki/Q7533",
      quantity: "5",
      total: "40",
      remaining: "40",
      minimum: "10",
      unitBased: true,
      reciprocal: { name: "Jars", unit: "one", quantity: "4", specificationUri: "https://www.wikidata.org/wiki/Q2578402" },
      location: "Oak Street allotments",
      fund: "capacity_building",
      action: "transfer",
      urgent: false,
      status: "open",
      version: 1,
    });
    // A bare last day covers that whole day; the expiry follows it.
    expect(offer.availableUntil!.toISOString()).toBe(new Date(Date.parse(`${until}T00:00:00Z`) + DAY).toISOString());
    expect(offer.expiresAt.toISOString()).toBe(offer.availableUntil!.toISOString());

    const list = await web.get(r.location!);
    expect(list.text).toContain("The offer is published");
    expect(list.text).toContain("Offer: 40 kg Squash from the allotment");
    expect(list.text).toContain("In lots of 5 kg");
    expectAccessible(list.text);
  });

  it("adds a need marked urgent, with defaults for what was left empty; urgent needs come first", async () => {
    const plain = await web.post(`${BASE}/offers/add-need`, { name: "Blankets", quantity: "12", unit: "one", category: "housing" }, { from: `${BASE}/offers/add-need` });
    expect(plain.status).toBe(303);
    blankets = Number(/#need-(\d+)$/.exec(plain.location!)![1]);
    const r = await web.post(
      `${BASE}/offers/add-need`,
      { name: "Drinking water", quantity: "200", unit: "litre", category: "water", location: "Elm corner", urgent: "on", unitBased: "", resource: "", action: "" },
      { from: `${BASE}/offers/add-need` },
    );
    expect(r.status).toBe(303);
    water = Number(/#need-(\d+)$/.exec(r.location!)![1]);
    expect(r.location).toBe(`${BASE}/offers?done=need-added#need-${water}`);
    expect(water).toBe(blankets + 1);
    const need = await getProposal(node.deps, SLUG, "need", water);
    expect(need).toMatchObject({ urgent: true, unit: "litre", quantity: "200", total: "200", fund: null, minimum: null, unitBased: null, reciprocal: null, status: "open" });
    // No window and no expiry: open 14 days.
    expect(need.expiresAt.getTime() - need.createdAt.getTime()).toBe(14 * DAY);

    const list = (await web.get(`${BASE}/offers`)).text;
    expect(list.indexOf("URGENT need: 200 l Drinking water")).toBeGreaterThan(-1);
    expect(list.indexOf("URGENT need: 200 l Drinking water")).toBeLessThan(list.indexOf("Need: 12 items Blankets"));
    expect(list.indexOf("Need: 12 items Blankets")).toBeLessThan(list.indexOf("Offer: 40 kg Squash"));
  });

  it("edits an offer: only what changed is saved, as a new version; untouched dates keep their exact time", async () => {
    const before = await getProposal(node.deps, SLUG, "offer", 1);
    const page = await web.get(`${BASE}/offers/offer/1`);
    expect(page.status).toBe(200);
    expectAccessible(page.text);
    expect(page.text).toContain('value="Squash from the allotment"');
    // Every field as the form shows it, as a browser sends it back, with two changed.
    const shown: Record<string, string> = {};
    for (const m of page.text.matchAll(/<input type="(?:text|number|url|date)" id="f-[^"]+" name="([^"]+)"[^>]*? value="([^"]*)"/g)) shown[m[1]!] = m[2]!;
    for (const m of page.text.matchAll(/<select id="f-[^"]+" name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g)) shown[m[1]!] = /<option value="([^"]*)" selected>/.exec(m[2]!)?.[1] ?? "";
    shown.description = /<textarea[^>]*>([\s\S]*?)<\/textarea>/.exec(page.text)![1]!;
    expect(shown).toMatchObject({ quantity: "5", total: "40", minimum: "10", unitBased: "true", fund: "capacity_building", location: "Oak Street allotments" });
    const r = await web.post(`${BASE}/offers/offer/1`, { ...shown, name: "Squash (butternut)", total: "50", location: "Oak Street allotments, gate B" }, { from: `${BASE}/offers/offer/1` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BASE}/offers/offer/1?done=offer-saved`);
    const after = await getProposal(node.deps, SLUG, "offer", 1);
    expect(after).toMatchObject({ name: "Squash (butternut)", total: "50", remaining: "50", quantity: "5", location: "Oak Street allotments, gate B", version: before.version + 1 });
    expect(after.description).toBe(before.description);
    expect(after.availableFrom!.getTime()).toBe(before.availableFrom!.getTime());
    expect(after.expiresAt.getTime()).toBe(before.expiresAt.getTime());
    expect(after.reciprocal).toEqual(before.reciprocal);
    expect((await web.get(r.location!)).text).toContain("The offer is saved");

    // Clearing an optional field clears it.
    const cleared = await web.post(`${BASE}/offers/offer/1`, { ...shown, name: "Squash (butternut)", total: "50", location: "", minimum: "" }, { from: `${BASE}/offers/offer/1` });
    expect(cleared.status).toBe(303);
    expect(await getProposal(node.deps, SLUG, "offer", 1)).toMatchObject({ location: null, minimum: null, version: before.version + 2 });
  });

  it("marks a need urgent and back with one button", async () => {
    const list = (await web.get(`${BASE}/offers`)).text;
    expect(list).toContain(`action="${BASE}/offers/need/${blankets}/urgent"`);
    const on = await web.post(`${BASE}/offers/need/${blankets}/urgent`, {}, { from: `${BASE}/offers` });
    expect(on.status).toBe(303);
    expect(on.location).toBe(`${BASE}/offers?done=need-urgent#need-${blankets}`);
    expect((await getProposal(node.deps, SLUG, "need", blankets)).urgent).toBe(true);
    const off = await web.post(`${BASE}/offers/need/${blankets}/urgent`, {}, { from: `${BASE}/offers` });
    expect(off.location).toBe(`${BASE}/offers?done=need-not-urgent#need-${blankets}`);
    expect((await getProposal(node.deps, SLUG, "need", blankets)).urgent).toBe(false);
  });

  it("withdraws a need: it is listed closed and takes no more changes", async () => {
    const r = await web.post(`${BASE}/offers/need/${blankets}/withdraw`, {}, { from: `${BASE}/offers/need/${blankets}` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BASE}/offers?done=need-withdrawn#need-${blankets}`);
    expect((await getProposal(node.deps, SLUG, "need", blankets)).status).toBe("withdrawn");
    const list = (await web.get(r.location!)).text;
    expect(list).toContain("The need is withdrawn");
    expect(list.indexOf("Withdrawn: this need is no longer open.")).toBeGreaterThan(list.indexOf("<h2>Closed</h2>"));
    const page = (await web.get(`${BASE}/offers/need/${blankets}`)).text;
    expect(page).toContain("This need is closed");
    expect(page).not.toContain(`action="${BASE}/offers/need/${blankets}"`);
    // A change posted anyway (from a tab opened before) is refused as the API refuses it.
    const hidden = formOf((await web.get(`${BASE}/offers/need/${water}`)).text, `${BASE}/offers/need/${water}`);
    const stale = await web.post(`${BASE}/offers/need/${blankets}`, { ...hidden, name: "Wool blankets", was: JSON.stringify({ name: "Blankets" }) }, { csrf: false });
    expect(stale.status).toBe(409);
    expect(codeOn(stale.text)).toBe("PROPOSAL_CLOSED");
    expect((await getProposal(node.deps, SLUG, "need", blankets)).name).toBe("Blankets");
  });

  it("the same form sent twice publishes one offer", async () => {
    const form = (await web.get(`${BASE}/offers/add-offer`)).text;
    const hidden = formOf(form, `${BASE}/offers/add-offer`);
    const before = await proposalCount();
    const fields = { ...hidden, name: "Ladders to lend", quantity: "2", unit: "one", category: "tools", fund: "survival" };
    const first = await web.post(`${BASE}/offers/add-offer`, fields, { csrf: false });
    const second = await web.post(`${BASE}/offers/add-offer`, fields, { csrf: false });
    expect(first.status).toBe(303);
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect(await proposalCount()).toBe(before + 1);
    expect((await listProposals(node.deps, SLUG, "offer")).filter((p) => p.name === "Ladders to lend")).toHaveLength(1);
  });
});

describe("a pod with many offers and needs", () => {
  it("every page stays under 100 kB: the first ones on the page, each group on pages of its own", async () => {
    for (let i = 1; i <= 45; i++) {
      await createProposal(node.deps, SLUG, "offer", { name: `Jam jar batch ${i} with a long enough name to weigh something`, quantity: String(i), unit: "one", category: "food", location: "Oak Street hall" });
      await createProposal(node.deps, SLUG, "need", { name: `Firewood load ${i}`, quantity: "1", unit: "cubicMetre", category: "fuel", urgent: i % 5 === 0 });
    }
    const offers = (await listProposals(node.deps, SLUG, "offer")).length;
    const page = (await web.get(`${BASE}/offers`)).text;
    expectAccessible(page);
    expect(page).toContain(`<a href="${BASE}/offers?list=offers">All ${offers}: open offers</a>`);
    const first = await web.get(`${BASE}/offers?list=offers`);
    expectAccessible(first.text);
    expect(first.text.match(/<li class="item/g)).toHaveLength(40);
    expect(first.text).toContain(`href="${BASE}/offers?list=offers&amp;page=2"`);
    const second = (await web.get(`${BASE}/offers?list=offers&page=2`)).text;
    expect(second.match(/<li class="item/g)).toHaveLength(offers - 40);
    expect(second).toContain("Page 2 of 2");
    // Urgent needs lead their list.
    const needs = (await web.get(`${BASE}/offers?list=needs`)).text;
    expect(needs.indexOf("URGENT need")).toBeLessThan(needs.indexOf("Need: 1 m³ Firewood"));
  });
});

describe("bad input is refused next to its field and stores nothing", () => {
  const add = (fields: Record<string, string>) =>
    web.post(`${BASE}/offers/add-offer`, { name: "Apples", quantity: "10", unit: "kilogram", category: "food", fund: "survival", ...fields }, { from: `${BASE}/offers/add-offer` });

  it.each([
    ["a quantity of zero", { quantity: "0" }, "quantity", "NOT_POSITIVE", "This must be more than zero."],
    ["text where a number goes", { quantity: "ten" }, "quantity", "INVALID_DECIMAL", "This must be a number"],
    ["a smallest claim that is text", { minimum: "a few" }, "minimum", "INVALID_DECIMAL", "This must be a number"],
    ["an expiry in the past", { expiresAt: "2020-01-01" }, "expiresAt", "EXPIRY_IN_PAST", "This day has passed"],
    ["a last day in the past", { availableUntil: "2020-01-01" }, "availableUntil", "WINDOW_IN_PAST", "This day has passed already"],
    ["a smallest claim above the whole", { minimum: "11" }, "minimum", "MINIMUM_ABOVE_TOTAL", "The smallest claim cannot be more than the whole amount."],
    ["no name", { name: "  " }, "name", "FIELD_REQUIRED", "This cannot be empty."],
    ["HTML in a name", { name: '<img src=x onerror="alert(1)">Apples' }, "name", "MARKUP_NOT_ALLOWED", "Write plain text here"],
    ["a resource in another unit", { resource: "squash", unit: "litre" }, "unit", "UNIT_MISMATCH", "counted in kilogram"],
    ["something in return without a unit", { "reciprocal.name": "Jars" }, "reciprocal.unit", "UNKNOWN_UNIT", "Choose a unit from the list."],
  ])("%s", async (_what, fields, at, code, message) => {
    const before = await proposalCount();
    const r = await add(fields as Record<string, string>);
    expect(r.status).toBe(400);
    expect(codeOn(r.text)).toBe(code);
    expect(errorAt(r.text, at)).toContain(message);
    expect(r.text).toContain("Nothing was saved");
    expectAccessible(r.text);
    // What was typed is kept (escaped), so the steward fixes one field and sends again.
    expect(r.text).toMatch(/name="category"[^>]*value="food"/);
    expect(r.text).not.toContain("<img src=x");
    expect(await proposalCount()).toBe(before);
  });

  it("an urgent need through the offer form is not possible, and an edit with a bad value changes nothing", async () => {
    const page = (await web.get(`${BASE}/offers/add-offer`)).text;
    expect(page).not.toContain('name="urgent"');
    const before = await getProposal(node.deps, SLUG, "need", water);
    const r = await web.post(`${BASE}/offers/need/${water}`, { name: "Drinking water", quantity: "0", urgent: "on" }, { from: `${BASE}/offers/need/${water}` });
    expect(r.status).toBe(400);
    expect(errorAt(r.text, "quantity")).toBe("This must be more than zero.");
    expect(r.text).toContain('value="0"');
    const past = await web.post(`${BASE}/offers/need/${water}`, { name: "Drinking water", expiresAt: "2020-01-01", urgent: "on" }, { from: `${BASE}/offers/need/${water}` });
    expect(past.status).toBe(400);
    expect(codeOn(past.text)).toBe("EXPIRY_IN_PAST");
    expect(errorAt(past.text, "expiresAt")).toContain("This day has passed");
    const html = await web.post(`${BASE}/offers/need/${water}`, { name: "<b>Water</b>", urgent: "on" }, { from: `${BASE}/offers/need/${water}` });
    expect(codeOn(html.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorAt(html.text, "name")).toContain("plain text");
    expect(await getProposal(node.deps, SLUG, "need", water)).toEqual(before);
  });
});
