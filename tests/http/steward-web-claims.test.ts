/**
 * Claims through the steward web app, between two real nodes on loopback whose pods follow
 * each other (congress neighbours): oak-street (A) offers squash, elm-row (B) needs some.
 *
 * - B's congress page shows A's offer beside B's need, the match first, each with a claim
 *   form filled in beforehand; bad quantities are refused next to the field, nothing sent;
 * - B claims with one click; A's steward sees it waiting and accepts it (twice: once taken);
 *   B sees it accepted; A records the transfer (once, even sent twice), B books it; A flags a
 *   discrepancy and both show it;
 * - A rejects a claim with a reason B reads; the claim rules form; an urgent need of B comes
 *   first on A's congress page, where A offers to give to it.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addResource } from "../../src/services/books.ts";
import { getClaim, getClaimRules, listClaims } from "../../src/services/claims.ts";
import { listFollowing, requestFollow } from "../../src/services/follows.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createProposal, getProposal, getRemoteProposal } from "../../src/services/proposals.ts";
import { listTransfers } from "../../src/services/transfers.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { expectAccessible, formOf, StewardClient } from "../helpers/steward-web.ts";

const A = "oak-street";
const B = "elm-row";
const BASE_A = `/pods/${A}/steward`;
const BASE_B = `/pods/${B}/steward`;
const WAIT = 60_000;

let a: TestNode;
let b: TestNode;
let webA: StewardClient;
let webB: StewardClient;
let offerUrl: string;

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorOf = (page: string, id: string) => new RegExp(`<span class="error" id="${id}-error">([^<]*)</span>`).exec(page)?.[1];
const claimCount = async (deps: ServiceDeps) => Number((await sql<{ n: number }>`select count(*)::int as n from claims`.execute(deps.db)).rows[0]!.n);
const unescape = (v: string) => v.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** The hidden fields and the prefilled quantity of the claim form of one row of the congress page. */
function claimFormOf(page: string, row: string): Record<string, string> {
  const form = page
    .split(/<form\b/)
    .slice(1)
    .map((f) => f.slice(0, f.indexOf("</form>")))
    .find((f) => f.includes(`<input type="hidden" name="row" value="${row}">`));
  if (!form) throw new Error(`no claim form for row ${row}`);
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = unescape(m[2]!);
  fields.quantity = /name="quantity"[^>]* value="([^"]*)"/.exec(form)![1]!;
  return fields;
}

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: A, podName: "Oak Street" }), startTestNode({ podSlug: B, podName: "Elm Row" })]);
  await requestFollow(b.deps, B, a.actorUrl());
  await requestFollow(a.deps, A, b.actorUrl());
  await waitFor(
    async () => (await listFollowing(a.deps, A)).some((f) => f.status === "accepted") && (await listFollowing(b.deps, B)).some((f) => f.status === "accepted"),
    WAIT,
    "the follows both ways",
  );
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "60", counterpartyLabel: "allotment" });
  [webA, webB] = await Promise.all([StewardClient.signIn(a, A), StewardClient.signIn(b, B)]);

  // A offers squash, B needs some: both through the forms.
  const offer = await webA.post(`${BASE_A}/offers/add-offer`, { name: "Squash", resource: "squash", quantity: "40", minimum: "2", fund: "survival" }, { from: `${BASE_A}/offers/add-offer` });
  expect(offer.status).toBe(303);
  offerUrl = (await getProposal(a.deps, A, "offer", 1)).url;
  const need = await webB.post(`${BASE_B}/offers/add-need`, { name: "Squash for the soup kitchen", quantity: "12", unit: "kilogram", category: "food" }, { from: `${BASE_B}/offers/add-need` });
  expect(need.status).toBe(303);
  await waitFor(() => getRemoteProposal(b.deps, offerUrl), WAIT, "B's copy of A's offer");
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("the congress page", () => {
  it("shows A's offer beside B's need, the match first, with claim forms filled in beforehand", async () => {
    const page = await waitFor(async () => {
      const r = await webB.get(`${BASE_B}/congress`);
      return r.text.includes('name="row" value="mo0"') ? r.text : null;
    }, WAIT, "the match on B's congress page");
    expectAccessible(page);
    expect(page).toContain("Neighbours' offers for our needs");
    expect(page).toContain("covers all 12 kg");
    // The match's form claims what covers the need; the neighbour's list suggests the minimum.
    expect(claimFormOf(page, "mo0")).toMatchObject({ quantity: "12" });
    expect(claimFormOf(page, "n0o0")).toMatchObject({ quantity: "2" });
    expect(claimFormOf(page, "mo0").proposal).toBe((await getRemoteProposal(b.deps, offerUrl))!.id);
    // Our own need is listed with a link to edit it, not a claim form.
    expect(page).toMatch(new RegExp(`<a href="${BASE_B}/offers/need/1">Squash for the soup kitchen</a>`));
  });

  it.each([
    ["zero", "0", "INVALID_QUANTITY", "This must be a number more than zero"],
    ["text", "a bagful", "INVALID_QUANTITY", "This must be a number more than zero"],
    ["more than is left", "41", "CLAIM_EXCEEDS_AVAILABLE", "Only 40 kilogram are left"],
    ["less than the minimum", "1", "CLAIM_BELOW_MINIMUM", "at least 2"],
  ])("a claim of %s is refused next to its quantity and nothing is sent", async (_what, quantity, code, message) => {
    const before = await claimCount(b.deps);
    const page = (await webB.get(`${BASE_B}/congress`)).text;
    const r = await webB.post(`${BASE_B}/congress/claim`, { ...claimFormOf(page, "mo0"), quantity }, { csrf: false });
    expect(r.status).toBe(400);
    expect(codeOn(r.text)).toBe(code);
    expect(errorOf(r.text, "q-mo0")).toContain(message);
    expect(r.text).toContain('href="#q-mo0"');
    expectAccessible(r.text);
    expect(await claimCount(b.deps)).toBe(before);
    expect(await claimCount(a.deps)).toBe(0);
  });
});

describe("a claim from one click to a flagged transfer", () => {
  let claimAtB: string;
  let claimAtA: string;
  let transferId: string;

  it("B claims A's offer with the one-click form and sees it waiting", async () => {
    const page = (await webB.get(`${BASE_B}/congress`)).text;
    const fields = claimFormOf(page, "mo0");
    const r = await webB.post(`${BASE_B}/congress/claim`, fields, { csrf: false });
    expect(r.status).toBe(303);
    // Sent twice (a double tap): one claim.
    const again = await webB.post(`${BASE_B}/congress/claim`, fields, { csrf: false });
    expect(again.location).toBe(r.location);
    claimAtB = /^\/pods\/elm-row\/steward\/claims\?done=claimed#claim-([0-9a-f-]{36})$/.exec(r.location!)![1]!;
    expect(await claimCount(b.deps)).toBe(1);
    const claims = (await webB.get(`${BASE_B}/claims?done=claimed`)).text;
    expectAccessible(claims);
    expect(claims).toContain("Your claim is sent.");
    expect(claims).toContain("We asked Oak Street for 12 kg of Squash");
    expect(claims).toContain("Waiting for the other pod&#39;s answer.");
  });

  it("A's steward sees it waiting and accepts it; accepting again takes nothing more", async () => {
    claimAtA = await waitFor(async () => (await listClaims(a.deps, A, { direction: "incoming", status: "pending" }))[0]?.id, WAIT, "A to hold B's claim");
    const page = (await webA.get(`${BASE_A}/claims`)).text;
    expectAccessible(page);
    expect(page).toContain("Elm Row asks for 12 kg of our offer Squash");
    expect(page).toContain("Waiting for your answer.");
    const hidden = formOf(page, `${BASE_A}/claims/${claimAtA}/accept`);
    const first = await webA.post(`${BASE_A}/claims/${claimAtA}/accept`, hidden, { csrf: false });
    const second = await webA.post(`${BASE_A}/claims/${claimAtA}/accept`, hidden, { csrf: false });
    expect(first.status).toBe(303);
    expect(first.location).toBe(`${BASE_A}/claims?done=accepted#claim-${claimAtA}`);
    expect(second.location).toBe(first.location);
    // From another tab (its own one-time key): told it was accepted already, no error.
    const otherTab = await webA.post(`${BASE_A}/claims/${claimAtA}/accept`, { ...hidden, _once: "another-tab" }, { csrf: false });
    expect(otherTab.status).toBe(303);
    expect(otherTab.location).toBe(`${BASE_A}/claims?done=already-accepted#claim-${claimAtA}`);
    expect((await webA.get(otherTab.location!)).text).toContain("This claim had already been accepted");
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("28");
    expect(await getClaim(a.deps, A, claimAtA)).toMatchObject({ status: "accepted", decidedBy: "steward" });
  });

  it("B sees its claim accepted", async () => {
    await waitFor(async () => (await getClaim(b.deps, B, claimAtB)).status === "accepted" || null, WAIT, "B to hear of the acceptance");
    const page = (await webB.get(`${BASE_B}/claims`)).text;
    expect(page).toMatch(/<span class="status">accepted<\/span> Accepted by Oak Street on /);
    // B receives: A records the transfer, B's books follow.
    expect(page).toContain("Oak Street gives: it records the transfer");
    expect(page).not.toContain(`/claims/${claimAtB}/transfer`);
  });

  it("A records the transfer once (bad input refused next to the field), B books it", async () => {
    const page = (await webA.get(`${BASE_A}/claims`)).text;
    expect(page.slice(page.indexOf('id="owed"'), page.indexOf('id="outgoing"'))).toContain(`href="${BASE_A}/claims/${claimAtA}/transfer"`);
    const form = await webA.get(`${BASE_A}/claims/${claimAtA}/transfer`);
    expect(form.status).toBe(200);
    expectAccessible(form.text);
    expect(form.text).toMatch(/id="f-quantity"[^>]* value="12"/);
    const hidden = formOf(form.text, `${BASE_A}/claims/${claimAtA}/transfer`);
    const bad = await webA.post(`${BASE_A}/claims/${claimAtA}/transfer`, { ...hidden, quantity: "twelve" }, { csrf: false });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.text, "f-quantity")).toContain("This must be a number");
    expectAccessible(bad.text);
    const more = await webA.post(`${BASE_A}/claims/${claimAtA}/transfer`, { ...hidden, quantity: "13" }, { csrf: false });
    expect(more.status).toBe(422);
    expect(codeOn(more.text)).toBe("TRANSFER_EXCEEDS_AGREEMENT");
    expect(await listTransfers(a.deps, A)).toHaveLength(0);

    const fields = { ...hidden, quantity: "12", fund: "", occurredAt: a.deps.clock.now().toISOString().slice(0, 10), publicMemo: "" };
    const r = await webA.post(`${BASE_A}/claims/${claimAtA}/transfer`, fields, { csrf: false });
    const twice = await webA.post(`${BASE_A}/claims/${claimAtA}/transfer`, fields, { csrf: false });
    expect(r.status).toBe(303);
    expect(twice.location).toBe(r.location);
    transferId = /#transfer-([0-9a-f-]{36})$/.exec(r.location!)![1]!;
    const recorded = await listTransfers(a.deps, A);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ id: transferId, direction: "out", quantity: "12", unit: "kilogram", resource: "squash", fund: "survival" });
    const after = (await webA.get(r.location!)).text;
    expect(after).toContain("The transfer is recorded");
    expect(after).toContain("Gave 12 kg of Squash to");
    expect(after).not.toContain(`/claims/${claimAtA}/transfer"`);
    expect((await webA.get(`${BASE_A}/claims/${claimAtA}/transfer`)).text).toContain("The transfer under this agreement is recorded");

    const booked = await waitFor(async () => (await listTransfers(b.deps, B)).find((t) => t.direction === "in") ?? null, WAIT, "B to book the transfer in");
    expect(booked).toMatchObject({ quantity: "12", unit: "kilogram" });
  });

  it("A flags a discrepancy (a reason is needed); both pods show it", async () => {
    const page = (await webA.get(`${BASE_A}/claims`)).text;
    const hidden = formOf(page, `${BASE_A}/claims/transfers/${transferId}/flag`);
    const empty = await webA.post(`${BASE_A}/claims/transfers/${transferId}/flag`, { ...hidden, reason: " " }, { csrf: false });
    expect(empty.status).toBe(400);
    expect(errorOf(empty.text, `flag-${transferId}`)).toBe("Say what does not match.");
    const r = await webA.post(`${BASE_A}/claims/transfers/${transferId}/flag`, { ...hidden, reason: "Only 11 kg were weighed at the gate" }, { csrf: false });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${BASE_A}/claims?done=flagged#transfer-${transferId}`);
    const after = (await webA.get(r.location!)).text;
    expect(after).toContain("flagged by us");
    expect(after).toContain("Only 11 kg were weighed at the gate");
    expect(after).not.toContain(`/claims/transfers/${transferId}/flag`);
    await waitFor(async () => (await listTransfers(b.deps, B)).find((t) => t.discrepancy?.by === "them") ?? null, WAIT, "B to hear of the flag");
    const atB = (await webB.get(`${BASE_B}/claims`)).text;
    expect(atB).toContain("flagged by the other pod");
    expect(atB).toContain("Only 11 kg were weighed at the gate");
    expect((await webA.get(`${BASE_A}/congress`)).text).toContain("Transfers with a discrepancy");
  });
});

describe("rejecting, rules and urgent needs", () => {
  it("A rejects a claim with a reason; B reads it", async () => {
    const page = (await webB.get(`${BASE_B}/congress`)).text;
    const r = await webB.post(`${BASE_B}/congress/claim`, { ...claimFormOf(page, "n0o0"), quantity: "3" }, { csrf: false });
    expect(r.status).toBe(303);
    const claimAtB = /#claim-(.+)$/.exec(r.location!)![1]!;
    const pending = await waitFor(async () => (await listClaims(a.deps, A, { direction: "incoming", status: "pending" }))[0] ?? null, WAIT, "A to hold the second claim");
    const hidden = formOf((await webA.get(`${BASE_A}/claims`)).text, `${BASE_A}/claims/${pending.id}/reject`);
    const markup = await webA.post(`${BASE_A}/claims/${pending.id}/reject`, { ...hidden, reason: "<b>No</b>" }, { csrf: false });
    expect(markup.status).toBe(400);
    expect(codeOn(markup.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorOf(markup.text, `r-${pending.id}`)).toContain("plain text");
    const rejected = await webA.post(`${BASE_A}/claims/${pending.id}/reject`, { ...hidden, reason: "Kept for the school lunch" }, { csrf: false });
    expect(rejected.location).toBe(`${BASE_A}/claims?done=rejected#claim-${pending.id}`);
    await waitFor(async () => (await getClaim(b.deps, B, claimAtB)).status === "rejected" || null, WAIT, "B to hear of the rejection");
    const atB = (await webB.get(`${BASE_B}/claims`)).text;
    expect(atB).toMatch(/<span class="status">rejected<\/span> Rejected by Oak Street on [^<]*: Kept for the school lunch/);
    expect((await getProposal(a.deps, A, "offer", 1)).remaining).toBe("28");
  });

  it("the claim rules form: a bad limit is refused next to it; a good one accepts small claims by itself", async () => {
    const before = await getClaimRules(a.deps, A);
    const bad = await webA.post(`${BASE_A}/claims/rules`, { autoAcceptUpTo: "a few", strangers: "review", strangerReason: "Ask us first" }, { from: `${BASE_A}/claims` });
    expect(bad.status).toBe(400);
    expect(errorOf(bad.text, "f-autoAcceptUpTo")).toContain("This must be a number");
    expect(bad.text).toMatch(/<option value="review" selected>/);
    expect(await getClaimRules(a.deps, A)).toEqual(before);
    const ok = await webA.post(`${BASE_A}/claims/rules`, { autoAcceptUpTo: "5", strangers: "review", strangerReason: "Ask us first" }, { from: `${BASE_A}/claims` });
    expect(ok.status).toBe(303);
    expect(await getClaimRules(a.deps, A)).toEqual({ autoAcceptUpTo: "5", strangers: "review", strangerReason: "Ask us first" });
    expect((await webA.get(ok.location!)).text).toMatch(/id="f-autoAcceptUpTo"[^>]* value="5"/);

    const page = (await webB.get(`${BASE_B}/congress`)).text;
    const r = await webB.post(`${BASE_B}/congress/claim`, { ...claimFormOf(page, "n0o0"), quantity: "4" }, { csrf: false });
    const id = /#claim-(.+)$/.exec(r.location!)![1]!;
    await waitFor(async () => (await getClaim(b.deps, B, id)).status === "accepted" || null, WAIT, "the rule to accept the small claim");
    const atA = (await listClaims(a.deps, A, { direction: "incoming", status: "accepted" })).find((c) => c.quantity === "4")!;
    expect(atA.decidedBy).toBe("rule");
    expect((await webA.get(`${BASE_A}/claims`)).text).toContain("Accepted by the pod&#39;s rules");
  });

  it("a claim form sent again after its claim took the last of the offer answers as the first time", async () => {
    expect((await webA.post(`${BASE_A}/claims/rules`, { autoAcceptUpTo: "100", strangers: "review", strangerReason: "Ask us first" }, { from: `${BASE_A}/claims` })).status).toBe(303);
    const page = (await webB.get(`${BASE_B}/congress`)).text;
    const fields = { ...claimFormOf(page, "n0o0"), quantity: "24" };
    const first = await webB.post(`${BASE_B}/congress/claim`, fields, { csrf: false });
    expect(first.status).toBe(303);
    await waitFor(async () => (await getRemoteProposal(b.deps, offerUrl))?.status === "fulfilled" || null, WAIT, "B's copy of the offer to be fulfilled");
    const before = await claimCount(b.deps);
    const again = await webB.post(`${BASE_B}/congress/claim`, fields, { csrf: false });
    expect(again.status).toBe(303);
    expect(again.location).toBe(first.location);
    expect(await claimCount(b.deps)).toBe(before);
    // A new claim on it now is refused, next to its field.
    const late = await webB.post(`${BASE_B}/congress/claim`, { ...fields, _once: "a-new-form" }, { csrf: false });
    expect(late.status).toBe(400);
    expect(codeOn(late.text)).toBe("CLAIM_CLOSED");
  });

  it("B's urgent need comes first on A's congress page, where A offers to give to it", async () => {
    const need = await webB.post(`${BASE_B}/offers/add-need`, { name: "Drinking water", quantity: "100", unit: "litre", category: "water", urgent: "on" }, { from: `${BASE_B}/offers/add-need` });
    expect(need.status).toBe(303);
    const page = await waitFor(async () => {
      const r = (await webA.get(`${BASE_A}/congress`)).text;
      return r.includes('name="row" value="u0"') ? r : null;
    }, WAIT, "B's urgent need on A's congress page");
    expectAccessible(page);
    expect(page.indexOf("<h2>Urgent needs</h2>")).toBeLessThan(page.indexOf("<h2>Matches</h2>"));
    expect(page.slice(page.indexOf("<h2>Urgent needs</h2>"), page.indexOf("<h2>Matches</h2>"))).toContain("Drinking water");
    const fields = claimFormOf(page, "u0");
    expect(fields.quantity).toBe("100");
    expect(page).toContain("Offer to give");
    const r = await webA.post(`${BASE_A}/congress/claim`, { ...fields, quantity: "50" }, { csrf: false });
    expect(r.status).toBe(303);
    const id = /#claim-(.+)$/.exec(r.location!)![1]!;
    expect((await webA.get(`${BASE_A}/claims`)).text).toContain("We offered Elm Row 50 l for their need Drinking water");
    const atB = await waitFor(async () => (await listClaims(b.deps, B, { direction: "incoming", status: "pending" }))[0] ?? null, WAIT, "B to hold A's offer to give");
    expect((await webB.get(`${BASE_B}/claims`)).text).toContain("Oak Street offers 50 l for our need Drinking water");
    const accept = await webB.post(`${BASE_B}/claims/${atB.id}/accept`, {}, { from: `${BASE_B}/claims` });
    expect(accept.status).toBe(303);
    await waitFor(async () => (await getClaim(a.deps, A, id)).status === "accepted" || null, WAIT, "A to hear that B accepted");
    // A gives under this agreement: A's page offers to record the transfer, B's does not.
    expect((await webA.get(`${BASE_A}/claims`)).text).toContain(`href="${BASE_A}/claims/${id}/transfer"`);
    expect((await webA.get(`${BASE_A}/claims/${id}/transfer`)).text).toContain(`action="${BASE_A}/claims/${id}/transfer"`);
    expect((await webB.get(`${BASE_B}/claims`)).text).not.toContain(`/claims/${atB.id}/transfer"`);
    const receiving = (await webB.get(`${BASE_B}/claims/${atB.id}/transfer`)).text;
    expect(receiving).toContain("Under this agreement Elm Row receives");
    expect(receiving).not.toContain("<form method=\"post\" action=\"" + `${BASE_B}/claims/${atB.id}/transfer`);
  });
});

describe("a busy congress", () => {
  it("the congress page stays under 100 kB: a few of each neighbour's, all of them on its own pages", async () => {
    for (let i = 1; i <= 36; i++) {
      await createProposal(a.deps, A, i % 4 === 0 ? "need" : "offer", {
        name: `Seedlings tray ${i} from the community greenhouse`,
        quantity: "10",
        unit: "one",
        category: "food",
        location: "Oak Street greenhouse",
        ...(i % 8 === 0 && { urgent: true }),
      });
    }
    // 27 offers and 9 needs (3 urgent); the squash offer was taken whole before.
    const full = await waitFor(async () => {
      const r = (await webB.get(`${BASE_B}/congress`)).text;
      return r.includes("Offers (27)") && r.includes("Needs (9)") ? r : null;
    }, WAIT, "B to hold A's new offers and needs");
    expectAccessible(full);
    expect(full.match(/<h5>/g)).toHaveLength(12);
    const link = `${BASE_B}/congress?neighbour=${encodeURIComponent(a.actorUrl())}`;
    expect(full).toContain(`href="${link.replace(/&/g, "&amp;")}"`);
    const first = (await webB.get(link)).text;
    expectAccessible(first);
    expect(first.match(/<li class="item/g)).toHaveLength(30);
    expect(first).toContain("Page 1 of 2");
    const second = (await webB.get(`${link}&page=2`)).text;
    expect(second.match(/<li class="item/g)).toHaveLength(27 + 9 - 30);
    // A claim refused on the neighbour's page shows there again, next to its field.
    const r = await webB.post(`${BASE_B}/congress/claim`, { ...claimFormOf(second, "x0"), quantity: "0" }, { csrf: false });
    expect(r.status).toBe(400);
    expect(r.text).toContain("Page 2 of 2");
    expect(errorOf(r.text, "q-x0")).toContain("more than zero");
  });
});
