/**
 * The congress view on three real nodes over loopback.
 *
 * oak-street (node A) and elm-row (node B) follow each other through the steward API: they
 * are neighbours. ash-lane (node C) follows oak-street one way: it is NOT a neighbour. B
 * publishes its charter and its offers and needs for real (they reach A by federation); A
 * holds a lunar summary of B's, an expired copy of an offer of B's and a copy of an offer
 * of C's (written through the repositories, as if received). Checked on A:
 *   - neighbours both ways, never the one-way follower;
 *   - congressView: B's charter, open offers and needs (expired ones hidden), urgent needs
 *     first, matches both ways with unit conversion and coverage, the claim command with the
 *     local id of our copy, charters side by side (partners, gaps), the lunar totals from
 *     B's published summary (A listed without one), the discrepancy A flagged;
 *   - the page (HTML at 360 px, no script; JSON on application/json: the same data), the pod
 *     page's congress section, the neighbours collection (paged above 100), the CLI text;
 *   - nothing private (member names, contacts, private memos) anywhere.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertClaim } from "../../src/db/repos/claims.ts";
import { upsertRemoteProposal } from "../../src/db/repos/proposals.ts";
import { insertRemoteSummaryIfNew } from "../../src/db/repos/summaries.ts";
import { flagTransfer, insertTransfer } from "../../src/db/repos/transfers.ts";
import { periodOf } from "../../src/domain/books/periods.ts";
import { summaryDigest, type SummaryContent } from "../../src/domain/books/summary.ts";
import { congressText } from "../../src/cli/congress.ts";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { congressGlance, congressView, listNeighbours, type CongressView } from "../../src/services/congress.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod } from "../../src/services/pods.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { listRemoteProposals } from "../../src/services/proposals.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row";
const C = "ash-lane";
const AP = "application/activity+json";
const WAIT = 60_000;
const TIMEOUT = 120_000;
const DAY = 86_400_000;
const EXAMPLE = JSON.parse(fs.readFileSync(new URL("../../docs/charter.example.json", import.meta.url), "utf8")) as Record<string, unknown>;
const MEMBER = { name: "Philippa Quenby", contact: "philippa@private.example" };
const PRIVATE_MEMO = "insulin for the flat above the bakery";

let a: TestNode;
let b: TestNode;
let c: TestNode;
let view: CongressView;
const ids: Record<string, string> = {};

async function api(node: TestNode, method: string, path: string, body?: unknown, slug?: string) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await node.token(slug)}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

async function follow(from: TestNode, fromSlug: string, to: TestNode) {
  expect((await api(from, "POST", `/pods/${fromSlug}/following`, { target: to.handle() }, fromSlug)).status).toBe(202);
  await waitFor(
    async () => (await api(from, "GET", `/pods/${fromSlug}/following`, undefined, fromSlug)).body.items.some((i: any) => i.actor === to.actorUrl() && i.status === "accepted"),
    WAIT,
    `${fromSlug}'s follow of ${to.actorUrl()} to be accepted`,
  );
}

function expectNothingPrivate(text: string) {
  for (const part of MEMBER.name.split(" ")) expect(text).not.toContain(part);
  expect(text).not.toContain(MEMBER.contact);
  expect(text).not.toContain("insulin");
}

const lunar = periodOf("lunar", new Date());

function bSummary(): SummaryContent {
  return {
    currency: "EUR",
    participants: 7,
    entries: 12,
    lateEntries: 0,
    totals: [
      { resource: "care", name: "Care", unit: "hour", kind: "transfer_out", fund: "capacity_building", quantity: "14", marketValue: "252", suppressed: false },
      { resource: "squash", name: "Squash", unit: "kilogram", kind: "draw", fund: "survival", quantity: "fewer than 3", marketValue: "fewer than 3", suppressed: true },
      { resource: "squash", name: "Squash", unit: "kilogram", kind: "transfer_out", fund: "survival", quantity: "120", marketValue: "288", suppressed: false },
    ],
    valueReclaimed: "540",
    indicators: [{ key: "food_self_reliance", name: "Food self-reliance", value: "0.42", previous: null, trend: null }],
    firstSeq: 1,
    headSeq: 12,
    headHash: "a".repeat(64),
  };
}

beforeAll(async () => {
  [a, b, c] = await Promise.all([
    startTestNode({ podSlug: A, podName: "Oak Street" }),
    startTestNode({ podSlug: B, podName: "Elm Row" }),
    startTestNode({ podSlug: C, podName: "Ash Lane" }),
  ]);
  // Private data on A that must never show.
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2.40" });
  const member = await addMember(a.deps, A, MEMBER);
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "40", counterpartyLabel: "allotment" });
  await recordEntry(a.deps, A, { kind: "draw", resource: "squash", quantity: "2", fund: "survival", member: member.pseudonym, privateMemo: PRIVATE_MEMO });

  await Promise.all([follow(a, A, b), follow(b, B, a), follow(c, C, a)]);

  await publishCharterRevision(a.deps, A, EXAMPLE);
  await publishCharterRevision(b.deps, B, {
    ...EXAMPLE,
    title: "Elm Row charter",
    services: [{ name: "Veg boxes", description: "Boxes from the allotments.", category: "food", since: "2025-01-01", figure: null }],
    nextServices: [{ name: "Solar co-op", why: "Bills.", targetDate: "2027-02-01" }],
  });

  ids.ourNeed = (await createProposal(a.deps, A, "need", { name: "Squash", quantity: "20", unit: "kilogram", category: "food", minimum: "5", urgent: true })).url;
  ids.ourOffer = (await createProposal(a.deps, A, "offer", { name: "Childcare", quantity: "10", unit: "hour", category: "care" })).url;
  ids.theirOffer = (await createProposal(b.deps, B, "offer", { name: "Squash", quantity: "25000", unit: "gram", category: "Food" })).url;
  ids.theirNeed = (await createProposal(b.deps, B, "need", { name: "Babysitting", quantity: "30", unit: "hour", category: "care" })).url;
  ids.blankets = (await createProposal(b.deps, B, "need", { name: "Blankets", quantity: "40", unit: "one", category: "housing", urgent: true })).url;

  await waitFor(async () => (await listRemoteProposals(a.deps, [b.actorUrl()])).length === 3, WAIT, "A to hold B's three proposals");
  await waitFor(async () => (await a.deps.db.selectFrom("remote_charters").select("actor_iri").where("actor_iri", "=", b.actorUrl()).executeTakeFirst()) ?? null, WAIT, "A to hold B's charter");

  // Copies written as if received: an expired offer of B's, an offer of C's (not a neighbour).
  const now = new Date();
  const copy = (actor: string, name: string, over: Record<string, unknown> = {}) => ({
    actorIri: actor,
    objectIri: `${actor}/offers/${900 + name.length}`,
    intentIri: `${actor}/offers/${900 + name.length}#primary`,
    purpose: "offer" as const,
    action: "transfer",
    name,
    description: "",
    unit: "kilogram",
    category: "food",
    specificationUri: null,
    quantity: "100",
    remaining: "100",
    minimum: null,
    unitBased: null,
    reciprocal: null,
    location: null,
    availableFrom: null,
    availableUntil: null,
    expiresAt: new Date(now.getTime() + 7 * DAY),
    urgent: false,
    status: "open" as const,
    remoteUpdatedAt: now,
    ...over,
  });
  await upsertRemoteProposal(a.deps.db, copy(b.actorUrl(), "Stale bread", { expiresAt: new Date(now.getTime() - DAY) }), now);
  await upsertRemoteProposal(a.deps.db, copy(c.actorUrl(), "Ash potatoes"), now);

  const content = bSummary();
  await insertRemoteSummaryIfNew(a.deps.db, {
    id: randomUUID(),
    actorIri: b.actorUrl(),
    objectIri: `${b.actorUrl()}/summaries/lunar/${lunar.start.toISOString().slice(0, 10)}`,
    periodKind: "lunar",
    periodStart: lunar.start,
    periodEnd: lunar.end,
    version: 1,
    headSeq: 12,
    headHash: content.headHash,
    content: content as unknown as Record<string, unknown>,
    digest: summaryDigest(content),
    receivedAt: now,
  });

  // A transfer A flagged as a discrepancy.
  const claim = await insertClaim(a.deps.db, {
    id: randomUUID(),
    podId: (await a.deps.db.selectFrom("pods").select("id").where("slug", "=", A).executeTakeFirstOrThrow()).id,
    direction: "incoming",
    offerIri: `${b.actorUrl()}/claims/${randomUUID()}`,
    counterpartIri: b.actorUrl(),
    proposalId: null,
    remoteProposalId: null,
    proposalIri: ids.ourOffer,
    intentIri: `${ids.ourOffer}#primary`,
    purpose: "offer",
    quantity: "4",
    unit: "hour",
    resourceId: null,
    createdAt: now,
  });
  const transfer = await insertTransfer(a.deps.db, {
    id: randomUUID(),
    podId: claim!.podId,
    claimId: claim!.id,
    agreementIri: `${a.actorUrl()}/agreements/${claim!.id}`,
    direction: "out",
    eventIri: `${a.actorUrl()}/transfers/${randomUUID()}`,
    counterpartEventIri: null,
    counterpartIri: b.actorUrl(),
    quantity: "4",
    unit: "hour",
    ledgerSeq: 3,
    occurredAt: now,
    createdAt: now,
  });
  await flagTransfer(a.deps.db, transfer!.id, "them", "only 3 hours were given", now);

  view = await congressView(a.deps, A);
}, TIMEOUT);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

describe("congress neighbours", () => {
  it("pods that follow each other are neighbours; a one-way follower is not", async () => {
    expect((await listNeighbours(a.deps, A)).map((n) => n.actorIri)).toEqual([b.actorUrl()]);
    expect((await listNeighbours(b.deps, B)).map((n) => n.actorIri)).toEqual([a.actorUrl()]);
    expect(await listNeighbours(c.deps, C)).toEqual([]);
    const n = (await listNeighbours(a.deps, A))[0]!;
    expect(n.handle).toBe(b.handle());
    expect(n.since.getTime()).toBeLessThanOrEqual(Date.now());
    await expect(listNeighbours(a.deps, "no-such-pod")).rejects.toMatchObject({ code: "POD_NOT_FOUND" });
  });
});

describe("congressView", () => {
  it("shows the neighbour's charter, open offers and needs (expired and non-neighbours' hidden), urgent first", () => {
    expect(view.neighbours).toHaveLength(1);
    const nb = view.neighbours[0]!;
    expect(nb.actor).toBe(b.actorUrl());
    expect(nb.charter).toMatchObject({ title: "Elm Row charter", services: [{ name: "Veg boxes", category: "food" }], next: [{ name: "Solar co-op", targetDate: "2027-02-01" }] });
    expect(nb.offers.map((p) => p.name)).toEqual(["Squash"]);
    expect(nb.needs.map((p) => p.name)).toEqual(["Blankets", "Babysitting"]);
    const all = JSON.stringify(view);
    expect(all).not.toContain("Stale bread");
    expect(all).not.toContain("Ash potatoes");
    expect(all).not.toContain(c.actorUrl());
    expect(view.ours.needs.map((p) => [p.name, p.urgent])).toEqual([["Squash", true]]);
    expect(view.ours.offers.map((p) => p.name)).toEqual(["Childcare"]);
    expect(view.urgentNeeds.map((p) => [p.name, p.ours])).toEqual([
      ["Squash", true],
      ["Blankets", false],
    ]);
  });

  it("matches both ways, converting grams to kilograms and saying how much is covered; the claim names our copy's id", () => {
    expect(view.matches.forOurNeeds).toHaveLength(1);
    const m = view.matches.forOurNeeds[0]!;
    expect(m).toMatchObject({ direction: "for_our_need", by: "category", urgent: true, fit: "full", enough: true, covers: "20", unit: "kilogram", text: "covers all 20 kg" });
    expect(m.offer.url).toBe(ids.theirOffer);
    expect(m.need.url).toBe(ids.ourNeed);
    expect(m.offer.id).toMatch(/^\d+$/);
    expect(m.offer.claim!.command).toBe(`hyphae claim ${m.offer.id} --pod ${A} --quantity 25000`);
    expect(m.offer.claim!.api).toEqual({ method: "POST", path: `/api/hyphae/v1/pods/${A}/claims`, body: { proposal: m.offer.id, quantity: "25000" } });
    // The match's claim takes what covers the need, in the offer's unit (20 kg = 20000 g).
    expect(m.claim).toBe(`hyphae claim ${m.offer.id} --pod ${A} --quantity 20000`);

    expect(view.matches.forTheirNeeds).toHaveLength(1);
    const t = view.matches.forTheirNeeds[0]!;
    expect(t).toMatchObject({ fit: "partial", enough: false, covers: "10", unit: "hour", text: "covers 10 hours of 30 hours (less than the need's minimum)" });
    expect(t.share).toBeCloseTo(1 / 3);
    expect(t.offer.claim).toBeNull();
    // Our offer, their need: the claim is on their need (our pod gives), in hours.
    expect(t.claim).toBe(`hyphae claim ${t.need.id} --pod ${A} --quantity 10`);
  });

  it("compares charters: partners on food and on the solar co-op, a gap for housing", () => {
    const s = view.sideBySide;
    expect(s.categories.find((x) => x.category === "food")!.providers.map((p) => p.pod)).toEqual([a.actorUrl(), b.actorUrl()]);
    expect(s.partners).toContainEqual({ kind: "category", category: "food", pods: [a.actorUrl(), b.actorUrl()] });
    expect(s.partners).toContainEqual({ kind: "next", name: "Solar co-op", pods: [b.actorUrl(), a.actorUrl()] });
    expect(s.gaps.map((g) => [g.category, g.needs.map((n) => n.name)])).toEqual([["housing", ["Blankets"]]]);
    expect(s.upcoming.map((u) => u.targetDate)).toEqual(["2027-02-01", "2027-04-01"]);
  });

  it("totals this lunar cycle from published summaries only; says who published none", () => {
    expect(view.totals.text).toBe("our congress moved 14 hours and 120 kg between pods this lunar cycle");
    expect(view.totals.counted.map((x) => x.pod)).toEqual([b.actorUrl()]);
    expect(view.totals.withoutSummary.map((x) => x.pod)).toEqual([a.actorUrl()]);
    expect(view.totals.periodStart.getTime()).toBe(lunar.start.getTime());
    const s = view.neighbours[0]!.summaries[0]!;
    expect(s).toMatchObject({ periodKind: "lunar", valueReclaimed: "540", participants: 7 });
    expect(s.funds).toEqual([
      { fund: "capacity_building", marketValue: "252", withheld: 0 },
      { fund: "survival", marketValue: "288", withheld: 1 },
    ]);
    expect(s.sent.map((x) => x.text)).toEqual(["14 hours", "120 kg"]);
  });

  it("lists the open discrepancy", () => {
    expect(view.discrepancies).toHaveLength(1);
    expect(view.discrepancies[0]).toMatchObject({ direction: "out", counterpart: b.actorUrl(), quantity: "4", unit: "hour", flaggedBy: "them", reason: "only 3 hours were given" });
  });

  it("an injected clock past the expiries hides and unmatches everything", async () => {
    const later = new Date(Date.now() + 60 * DAY);
    const v = await congressView({ ...a.deps, clock: { now: () => later } }, A, later);
    expect(v.neighbours[0]!.offers).toEqual([]);
    expect(v.ours.needs).toEqual([]);
    expect(v.matches.forOurNeeds).toEqual([]);
    expect(v.matches.forTheirNeeds).toEqual([]);
    expect(v.urgentNeeds).toEqual([]);
    const g = await congressGlance(a.deps, A, later);
    expect(g.urgentNeeds).toEqual([]);
  });
});

describe("the congress page", () => {
  it("HTML: urgent needs first and marked, claim commands, totals, the neighbours link; no script; nothing private", async () => {
    const r = await fetch(`${a.origin}/pods/${A}/congress`, { headers: { accept: "text/html" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/text\/html/);
    const body = await r.text();
    expect(body).toContain('name="viewport" content="width=device-width, initial-scale=1"');
    expect(body).not.toMatch(/<script|<table/i);
    const urgentAt = body.indexOf("URGENT</span> needs");
    expect(urgentAt).toBeGreaterThan(0);
    expect(urgentAt).toBeLessThan(body.indexOf("Matches"));
    expect(body).toContain(`hyphae claim ${view.matches.forOurNeeds[0]!.offer.id} --pod ${A} --quantity 20000`);
    expect(body).toContain(`Claim it: <code>hyphae claim ${view.matches.forOurNeeds[0]!.offer.id} --pod ${A} --quantity 25000</code>`);
    expect(body).toContain("Our congress moved 14 hours and 120 kg between pods this lunar cycle");
    expect(body).toContain(`href="${a.origin}/pods/${A}/neighbours"`);
    expect(body).toContain("Elm Row charter");
    expect(body).toContain("only 3 hours were given");
    expectNothingPrivate(body);
  });

  it("JSON on application/json: the same view; unknown pods are 404 in either form", async () => {
    const r = await fetch(`${a.origin}/pods/${A}/congress`, { headers: { accept: "application/json" } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/application\/json/);
    expect(r.headers.get("vary")).toMatch(/Accept/);
    const text = await r.text();
    const json = JSON.parse(text);
    expect(json.pod).toEqual({ slug: A, name: "Oak Street", actor: a.actorUrl(), url: `${a.origin}/pods/${A}/congress`, neighbours: `${a.origin}/pods/${A}/neighbours` });
    expect(json.neighbours.map((n: any) => n.actor)).toEqual([b.actorUrl()]);
    expect(json.matches.forOurNeeds[0].covers).toBe("20");
    expect(json.totals.text).toBe(view.totals.text);
    expect(json.urgentNeeds.map((p: any) => p.name)).toEqual(["Squash", "Blankets"]);
    expectNothingPrivate(text);
    expect((await fetch(`${a.origin}/pods/${A}/congress?format=json`)).headers.get("content-type")).toMatch(/application\/json/);
    const missing = await fetch(`${a.origin}/pods/no-such/congress`, { headers: { accept: "application/json" } });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe("POD_NOT_FOUND");
    expect((await fetch(`${a.origin}/pods/no-such/congress`)).status).toBe(404);
  });

  it("the pod page has a congress section with urgent needs first and a link; a pod with nothing to show has none", async () => {
    const page = await (await fetch(`${a.origin}/pods/${A}`, { headers: { accept: "text/html" } })).text();
    const section = page.slice(page.indexOf("<h2 style=\"margin-top:0\">Congress</h2>"));
    expect(section.indexOf("URGENT")).toBeGreaterThan(0);
    expect(section).toContain("Blankets");
    expect(section).toContain("This pod: 1 open offer, 1 open need. Its 1 neighbour: 1 open offer, 2 open needs.");
    expect(section).toContain(`href="${a.origin}/pods/${A}/congress"`);
    expectNothingPrivate(page);
    const quiet = await (await fetch(`${c.origin}/pods/${C}`, { headers: { accept: "text/html" } })).text();
    expect(quiet).not.toContain(">Congress</h2>");
  });
});

describe("the neighbours collection", () => {
  it("an OrderedCollection of the neighbours' actor IRIs, public; pages; bad pages are 404; browsers get a list", async () => {
    const r = await fetch(`${a.origin}/pods/${A}/neighbours`, { headers: { accept: AP } });
    expect(r.status).toBe(200);
    const doc = (await r.json()) as any;
    expect(doc).toMatchObject({ id: `${a.origin}/pods/${A}/neighbours`, type: "OrderedCollection", totalItems: 1, orderedItems: [b.actorUrl()], first: `${a.origin}/pods/${A}/neighbours?page=1` });
    const p1 = (await (await fetch(doc.first, { headers: { accept: AP } })).json()) as any;
    expect(p1).toMatchObject({ type: "OrderedCollectionPage", partOf: doc.id, orderedItems: [b.actorUrl()] });
    expect(p1.next).toBeUndefined();
    for (const bad of ["2", "0", "abc", "-1"]) expect((await fetch(`${a.origin}/pods/${A}/neighbours?page=${bad}`, { headers: { accept: AP } })).status).toBe(404);
    const cDoc = (await (await fetch(`${c.origin}/pods/${C}/neighbours`, { headers: { accept: AP } })).json()) as any;
    expect(cDoc.totalItems).toBe(0);
    expect((await fetch(`${a.origin}/pods/no-such/neighbours`, { headers: { accept: AP } })).status).toBe(404);
    const html = await (await fetch(`${a.origin}/pods/${A}/neighbours`, { headers: { accept: "text/html" } })).text();
    expect(html).toContain(b.handle());
    expect(html).not.toContain(c.actorUrl());
  });

  it("pages of 100 above 100 neighbours", async () => {
    const pod = await createPod(a.deps, { slug: "big-congress", name: "Big Congress" });
    const now = new Date();
    const actors = Array.from({ length: 150 }, (_, i) => `http://127.0.0.1:9/pods/p${String(i).padStart(3, "0")}`);
    await a.deps.db.insertInto("remote_actors").values(actors.map((iri, i) => ({ iri, handle: `@p${String(i).padStart(3, "0")}@far.example`, name: null, url: null, inbox: `${iri}/inbox`, shared_inbox: null, actor_type: "Group", updated_at: now }))).execute();
    await a.deps.db.insertInto("following").values(actors.map((iri) => ({ pod_id: pod.id, actor_iri: iri, follow_iri: `${iri}#f-out`, status: "accepted" as const, created_at: now, updated_at: now }))).execute();
    // The last 10 follow back only while pending: not neighbours.
    await a.deps.db.insertInto("followers").values(actors.map((iri, i) => ({ pod_id: pod.id, actor_iri: iri, follow_iri: `${iri}#f-in`, status: i >= 140 ? ("pending" as const) : ("accepted" as const), created_at: now, updated_at: now }))).execute();
    const base = `${a.origin}/pods/big-congress/neighbours`;
    const top = (await (await fetch(base, { headers: { accept: AP } })).json()) as any;
    expect(top.totalItems).toBe(140);
    expect(top.orderedItems).toBeUndefined();
    expect(top.last).toBe(`${base}?page=2`);
    const p1 = (await (await fetch(top.first, { headers: { accept: AP } })).json()) as any;
    expect(p1.orderedItems).toHaveLength(100);
    expect(p1.next).toBe(`${base}?page=2`);
    const p2 = (await (await fetch(p1.next, { headers: { accept: AP } })).json()) as any;
    expect(p2.orderedItems).toHaveLength(40);
    expect(p2.prev).toBe(`${base}?page=1`);
    expect(new Set([...p1.orderedItems, ...p2.orderedItems])).toEqual(new Set(actors.slice(0, 140)));
  });
});

describe("hyphae congress", () => {
  it("congress.show and congress.neighbours run the same service; the text names neighbours, urgent needs, matches and totals", async () => {
    const v = (await runAdminOp(a.deps, "congress.show", { pod: A })) as CongressView;
    expect(v.matches.forOurNeeds[0]!.covers).toBe("20");
    const text = congressText(JSON.parse(JSON.stringify(v)));
    expect(text).toContain(`Neighbours (1):\n  ${b.handle()} — Elm Row`);
    expect(text).toContain("URGENT Need Squash — 20 kilogram, food (ours)");
    expect(text).toContain(`hyphae claim ${v.matches.forOurNeeds[0]!.offer.id} --pod ${A} --quantity 20000`);
    expect(text).toContain(`hyphae claim ${v.matches.forTheirNeeds[0]!.need.id} --pod ${A} --quantity 10`);
    expect(text).toContain("our congress moved 14 hours and 120 kg between pods this lunar cycle.");
    expect(text).toContain("No summary yet from: @oak-street@");
    expect(text).toContain("Gaps (needs no charter covers): housing (Blankets)");
    expectNothingPrivate(text);
    const rows = (await runAdminOp(a.deps, "congress.neighbours", { pod: A })) as Array<{ actorIri: string }>;
    expect(rows.map((r) => r.actorIri)).toEqual([b.actorUrl()]);
    await expect(runAdminOp(a.deps, "congress.show", { pod: "no-such-pod" })).rejects.toMatchObject({ code: "POD_NOT_FOUND" });
    await expect(runAdminOp(a.deps, "congress.show", { pod: "Not A Slug!" })).rejects.toMatchObject({ kind: "invalid" });
    await expect(runAdminOp(a.deps, "congress.neighbours", {})).rejects.toMatchObject({ kind: "invalid" });
  });
});
