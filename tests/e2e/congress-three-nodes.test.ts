/**
 * A congress over real federation on loopback: three Hyphae nodes with real signatures and
 * a Mastodon-shaped server.
 *
 * oak-street (node A) and elm-row (node B) follow each other: congress neighbours.
 * ash-lane (node C) follows oak-street one way. alice, on a Mastodon-shaped server, follows
 * oak-street. Everything goes through the steward API, as stewards and scripts drive it:
 *   - A offers 40 kg of squash: alice gets a readable post, B and C get the offer;
 *   - B claims 15 kg and A's rule accepts it; C's claim is rejected (not a neighbour);
 *     alice's post is updated (25 kg left);
 *   - B sends two claims for the last 25 kg at once: exactly one wins;
 *   - A records the transfer: A books transfer_out, B books transfer_in with the same
 *     quantity and agreement, B's acknowledgement reaches A, both chains verify, and the
 *     next summaries on both sides show it;
 *   - B flags a discrepancy: both sides show it;
 *   - B posts an urgent need: it reaches A at once and is first in A's congress view;
 *   - an offer withdrawn and one expired are updated for alice, never left dangling.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodOf } from "../../src/domain/books/periods.ts";
import { addResource } from "../../src/services/books.ts";
import { recordEntry, verifyLedger } from "../../src/services/ledger.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { expireProposals, getRemoteProposal } from "../../src/services/proposals.ts";
import { publishSummaryOutcome } from "../../src/services/summaries.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row";
const C = "ash-lane";
const WAIT = 60_000;
const TEST_TIMEOUT = 120_000;
const DAY = 86_400_000;

let a: TestNode;
let b: TestNode;
let c: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;

const clocked = (deps: ServiceDeps, when: Date): ServiceDeps => ({ ...deps, clock: { now: () => new Date(when) } });

async function api(node: TestNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await node.token()}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

async function follow(from: TestNode, slug: string, to: TestNode) {
  expect((await api(from, "POST", `/pods/${slug}/following`, { target: to.handle() })).status).toBe(202);
  await waitFor(
    async () => (await api(from, "GET", `/pods/${slug}/following`)).body.items.some((i: any) => i.actor === to.actorUrl() && i.status === "accepted"),
    WAIT,
    `${slug}'s follow of ${to.actorUrl()} to be accepted`,
  );
}

async function congress(node: TestNode, slug: string): Promise<any> {
  const response = await fetch(`${node.origin}/pods/${slug}/congress`, { headers: { accept: "application/json" } });
  expect(response.status).toBe(200);
  return response.json();
}

/** Activities alice's server accepted about an object id. */
function deliveriesAbout(objectId: string): any[] {
  return masto.inbox
    .filter((r) => r.status === 202)
    .map((r) => recordedJson(r))
    .filter((activity) => (activity?.type === "Create" || activity?.type === "Update") && (activity.object?.id ?? activity.object) === objectId);
}

const ledgerOf = async (node: TestNode, slug: string) => (await api(node, "GET", `/pods/${slug}/ledger/entries?limit=500`)).body.items as any[];

beforeAll(async () => {
  [a, b, c, masto] = await Promise.all([
    startTestNode({ podSlug: A, podName: "Oak Street" }),
    startTestNode({ podSlug: B, podName: "Elm Row" }),
    startTestNode({ podSlug: C, podName: "Ash Lane" }),
    startFakeMastodon(),
  ]);
  alice = masto.user("alice");
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2.40" });
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "60", counterpartyLabel: "allotment", publicMemo: "harvest" });
}, TEST_TIMEOUT);

/** Nothing left to deliver or to handle on any node (stopping mid-exchange waits for handlers). */
async function settled(): Promise<boolean> {
  for (const node of [a, b, c]) {
    const { rows } = await sql<{ n: number }>`select (select count(*) from fedify_queue)::int + (select count(*) from outbox_events where sent_at is null and dead_at is null)::int as n`.execute(node.deps.db);
    if (rows[0]!.n > 0) return false;
  }
  return true;
}

afterAll(async () => {
  if (a && b && c) await waitFor(settled, 30_000, "the nodes to finish their exchanges").catch(() => undefined);
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
  await masto?.close();
}, TEST_TIMEOUT);

describe("three pods on three nodes form a congress", () => {
  it("A ⇄ B follow each other, C follows A one way, alice follows A from Mastodon", async () => {
    await follow(b, B, a);
    await follow(a, A, b);
    await follow(c, C, a);
    const followAlice = { "@context": AS_CONTEXT, id: `${masto.origin}/follows/alice-oak`, type: "Follow", actor: alice.actorUrl, object: a.actorUrl() };
    expect((await postSigned(`${a.actorUrl()}/inbox`, followAlice, { signer: alice })).status).toBe(202);
    await waitFor(() => masto.inbox.some((r) => r.status === 202 && recordedJson(r)?.type === "Accept"), WAIT, "the Accept of alice's Follow");
    // Neighbours: each side sees the other; C is not one.
    const neighbours = await (await fetch(`${a.actorUrl()}/neighbours`, { headers: { accept: "application/activity+json" } })).json();
    expect(JSON.stringify(neighbours)).toContain(b.actorUrl());
    expect(JSON.stringify(neighbours)).not.toContain(c.actorUrl());
  }, TEST_TIMEOUT);

  let offer: any;

  it("A offers 40 kg of squash: alice reads a post, B and C hold the offer", async () => {
    // Neighbours' claims up to 30 kg are accepted by rule.
    expect((await api(a, "PATCH", `/pods/${A}/claim-rules`, { autoAcceptUpTo: "30" })).status).toBe(200);
    const created = await api(a, "POST", `/pods/${A}/offers`, {
      resource: "squash",
      name: "Squash",
      quantity: "40",
      unit: "kilogram",
      category: "food",
      location: "Oak Street allotments",
      availableUntil: new Date(Date.now() + 5 * DAY).toISOString().slice(0, 10),
    });
    expect(created.status).toBe(201);
    offer = created.body;
    expect(offer.url).toBe(`${a.actorUrl()}/offers/1`);

    const [create] = await waitFor(() => {
      const found = deliveriesAbout(offer.url).filter((d) => d.type === "Create");
      return found.length ? found : null;
    }, WAIT, "alice's copy of the offer");
    expect(create.object.type).toBe("Note");
    expect(create.object.content).toMatch(/Offer/);
    expect(create.object.content).toMatch(/40\s*kg/);
    expect(JSON.stringify(create.object.tag)).toMatch(/#MutualAid/i);
    expect(JSON.stringify(create.object.tag)).toMatch(/#Offer/i);

    // B sees it in its congress view (a neighbour's offer); C, a one-way follower, holds a copy too.
    await waitFor(async () => JSON.stringify(await congress(b, B)).includes(offer.url), WAIT, "B's congress view to show the offer");
    await waitFor(() => getRemoteProposal(c.deps, offer.url), WAIT, "C to hold the offer");
    expect(JSON.stringify(await congress(c, C))).not.toContain(offer.url);
  }, TEST_TIMEOUT);

  let claimB: any;

  it("B claims 15 kg and A's rule accepts it; C's claim is rejected; alice's post says 25 kg left", async () => {
    const made = await api(b, "POST", `/pods/${B}/claims`, { proposal: offer.url, quantity: "15" });
    expect(made.status).toBe(201);
    claimB = await waitFor(async () => {
      const r = await api(b, "GET", `/pods/${B}/claims/${made.body.id}`);
      return r.body.status === "accepted" ? r.body : null;
    }, WAIT, "B's claim to be accepted");
    expect(claimB.agreement).toMatch(new RegExp(`^${a.actorUrl()}/agreements/`));

    const fromC = await api(c, "POST", `/pods/${C}/claims`, { proposal: offer.url, quantity: "5" });
    expect(fromC.status).toBe(201);
    const rejected = await waitFor(async () => {
      const r = await api(c, "GET", `/pods/${C}/claims/${fromC.body.id}`);
      return r.body.status === "rejected" ? r.body : null;
    }, WAIT, "C's claim to be rejected");
    expect(rejected.reason).toMatch(/neighbour/i);

    const update = await waitFor(() => deliveriesAbout(offer.url).find((d) => d.type === "Update" && /25\s*kg/.test(d.object.content)), WAIT, "alice's update of the offer");
    expect(update.object.id).toBe(offer.url);
    const mine = await api(a, "GET", `/pods/${A}/offers/1`);
    expect(mine.body.remaining).toBe("25");
  }, TEST_TIMEOUT);

  it("two claims racing for the last 25 kg: exactly one wins", async () => {
    expect((await api(a, "PATCH", `/pods/${A}/claim-rules`, { autoAcceptUpTo: "40" })).status).toBe(200);
    const [one, two] = await Promise.all([
      api(b, "POST", `/pods/${B}/claims`, { proposal: offer.url, quantity: "25" }),
      api(b, "POST", `/pods/${B}/claims`, { proposal: offer.url, quantity: "25" }),
    ]);
    expect([one.status, two.status]).toEqual([201, 201]);
    const decided = await waitFor(async () => {
      const rows = await Promise.all([one, two].map(async (m) => (await api(b, "GET", `/pods/${B}/claims/${m.body.id}`)).body));
      return rows.every((r) => r.status !== "pending") ? rows : null;
    }, WAIT, "both racing claims to be answered");
    expect(decided.map((r) => r.status).sort()).toEqual(["accepted", "rejected"]);
    const mine = await api(a, "GET", `/pods/${A}/offers/1`);
    expect(mine.body.remaining).toBe("0");
    expect(mine.body.status).toBe("fulfilled");
  }, TEST_TIMEOUT);

  it("A records the transfer: both ledgers hold matching entries, chains verify, B acknowledges", async () => {
    const recorded = await api(a, "POST", `/pods/${A}/transfers`, { agreement: claimB.agreement }, { "idempotency-key": "transfer-b-1" });
    expect(recorded.status).toBe(201);
    const again = await api(a, "POST", `/pods/${A}/transfers`, { agreement: claimB.agreement }, { "idempotency-key": "transfer-b-1" });
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(recorded.body.id);
    expect((await api(a, "POST", `/pods/${A}/transfers`, { agreement: claimB.agreement })).status).toBe(409);

    const outs = (await ledgerOf(a, A)).filter((e) => e.kind === "transfer_out");
    expect(outs).toHaveLength(1);
    expect(outs[0]).toMatchObject({ quantity: "15", unit: "kilogram", counterparty: b.actorUrl(), agreement: claimB.agreement });

    const ins = await waitFor(async () => {
      const rows = (await ledgerOf(b, B)).filter((e) => e.kind === "transfer_in");
      return rows.length ? rows : null;
    }, WAIT, "B's transfer_in");
    expect(ins).toHaveLength(1);
    expect(ins[0]).toMatchObject({ quantity: "15", unit: "kilogram", counterparty: a.actorUrl(), agreement: claimB.agreement });

    await waitFor(async () => (await api(a, "GET", `/pods/${A}/transfers/${recorded.body.id}`)).body.acknowledgedAt, WAIT, "B's acknowledgement at A");
    for (const [node, slug] of [[a, A], [b, B]] as const) {
      const report = await verifyLedger(node.deps, slug);
      expect(report.ok).toBe(true);
      expect(report.fault).toBeNull();
    }
    // Nothing booked twice.
    expect((await ledgerOf(b, B)).filter((e) => e.kind === "transfer_in")).toHaveLength(1);
  }, TEST_TIMEOUT);

  it("the next summaries on both sides show the transfer", async () => {
    const week = periodOf("week", new Date());
    const after = new Date(week.end.getTime() + 60_000);
    const ofA = await publishSummaryOutcome(clocked(a.deps, after), A, "week", new Date());
    const ofB = await publishSummaryOutcome(clocked(b.deps, after), B, "week", new Date());
    const out = ofA.summary.content.totals.find((t) => t.kind === "transfer_out");
    const into = ofB.summary.content.totals.find((t) => t.kind === "transfer_in");
    expect(out?.quantity).toBe("15");
    expect(into?.quantity).toBe("15");
  }, TEST_TIMEOUT);

  it("B flags a discrepancy: both pods show it", async () => {
    const mine = (await api(b, "GET", `/pods/${B}/transfers`)).body.items[0];
    expect((await api(b, "POST", `/pods/${B}/transfers/${mine.id}/flag`, { reason: "Only 14 kg arrived" })).status).toBe(200);
    const theirs = (await api(a, "GET", `/pods/${A}/transfers`)).body.items[0];
    await waitFor(async () => (await api(a, "GET", `/pods/${A}/transfers/${theirs.id}`)).body.discrepancy?.reason === "Only 14 kg arrived", WAIT, "the flag at A");
    const page = await (await fetch(`${a.actorUrl()}/transfers/${theirs.id}`, { headers: { accept: "text/html" } })).text();
    expect(page).toContain("Only 14 kg arrived");
  }, TEST_TIMEOUT);

  it("B's urgent need reaches A at once and comes first in A's congress view", async () => {
    const created = await api(b, "POST", `/pods/${B}/needs`, { name: "Drinking water", quantity: "200", unit: "litre", category: "water", urgent: true });
    expect(created.status).toBe(201);
    const view = await waitFor(async () => {
      const v = await congress(a, A);
      return JSON.stringify(v).includes(created.body.url) ? v : null;
    }, WAIT, "the urgent need at A");
    const text = JSON.stringify(view);
    // Urgent needs are listed before anything else the view shows of the neighbours.
    expect(text.indexOf(created.body.url)).toBeLessThan(text.indexOf(offer.url) === -1 ? Number.MAX_SAFE_INTEGER : text.indexOf(offer.url));
    const page = await (await fetch(`${a.origin}/pods/${A}/congress`, { headers: { accept: "text/html" } })).text();
    expect(page).toContain("Drinking water");
  }, TEST_TIMEOUT);

  it("an offer withdrawn and an offer expired are updated for alice, never left dangling", async () => {
    const soon = await api(a, "POST", `/pods/${A}/offers`, { resource: "squash", name: "Squash seconds", quantity: "5", unit: "kilogram", expiresAt: new Date(Date.now() + DAY).toISOString() });
    const gone = await api(a, "POST", `/pods/${A}/offers`, { resource: "squash", name: "Squash soup", quantity: "3", unit: "kilogram" });
    expect([soon.status, gone.status]).toEqual([201, 201]);
    expect((await api(a, "POST", `/pods/${A}/offers/${gone.body.number}/withdraw`)).status).toBe(200);
    await waitFor(() => deliveriesAbout(gone.body.url).some((d) => d.type === "Update" && /withdrawn/i.test(d.object.content)), WAIT, "the withdrawal at alice's");
    expect(await expireProposals(clocked(a.deps, new Date(Date.now() + 2 * DAY)))).toBeGreaterThanOrEqual(1);
    await waitFor(() => deliveriesAbout(soon.body.url).some((d) => d.type === "Update" && /expired/i.test(d.object.content)), WAIT, "the expiry at alice's");
  }, TEST_TIMEOUT);
});
