/**
 * Offers and needs over real federation on loopback: two Hyphae nodes and a
 * Mastodon-shaped server, real signatures.
 *
 * oak-street (node A) publishes; elm-row (node B) follows it; alice, on a Mastodon-shaped
 * server, follows it too.
 *   - an offer made through the steward API reaches alice as Create(Note) with readable
 *     content (only tags Mastodon keeps) and #MutualAid #Offer, to Public and followers;
 *     B holds it in remote_proposals, read from the dereferenced Note+Proposal;
 *   - a claim taking 15 kg (repo takeRemaining + recordProposalPublished in a transaction,
 *     as the claims service does) reaches alice as an Update of the same Note ("25 kg of
 *     40 kg left") and B's copy says 25 left; a replayed activity or an older copy changes nothing;
 *   - an urgent need carries #MutualAidUrgent and "URGENT" first; B holds it urgent;
 *   - the expiry job on a later clock updates the Note to say Expired, at alice's and at B;
 *   - the same URL serves JSON-LD to ActivityPub clients and HTML to browsers;
 *   - the steward API: each bad input's code, 404s, Idempotency-Key, the token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeRemaining } from "../../src/db/repos/proposals.ts";
import { parseProposalJson } from "../../src/domain/congress/proposal-json.ts";
import { addResource } from "../../src/services/books.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { expireProposals, getRemoteProposal, listRemoteProposals, receiveRemoteProposal, recordProposalPublished } from "../../src/services/proposals.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row";
const WAIT = 60_000;
const TEST_TIMEOUT = 120_000;
const DAY = 86_400_000;
const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
/** Tags Mastodon's sanitizer keeps (mastodon-interop.md §5). */
const MASTODON_TAGS = new Set(["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"]);

let a: TestNode;
let b: TestNode;
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

/** Activities alice's server accepted about an object id. */
function deliveriesAbout(objectId: string): any[] {
  return masto.inbox
    .filter((r) => r.status === 202)
    .map((r) => recordedJson(r))
    .filter((activity) => (activity?.type === "Create" || activity?.type === "Update") && (activity.object?.id ?? activity.object) === objectId);
}

function tagsIn(html: string): string[] {
  return [...html.matchAll(/<\s*\/?\s*([a-zA-Z0-9]+)/g)].map((m) => m[1]!.toLowerCase());
}

beforeAll(async () => {
  [a, b, masto] = await Promise.all([startTestNode({ podSlug: A, podName: "Oak Street" }), startTestNode({ podSlug: B, podName: "Elm Row" }), startFakeMastodon()]);
  alice = masto.user("alice");
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  expect((await api(b, "POST", `/pods/${B}/following`, { target: a.handle() })).status).toBe(202);
  await waitFor(
    async () => (await api(b, "GET", `/pods/${B}/following`)).body.items.some((i: any) => i.actor === a.actorUrl() && i.status === "accepted"),
    WAIT,
    "B's follow of A to be accepted",
  );
  const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/follows/alice-oak`, type: "Follow", actor: alice.actorUrl, object: a.actorUrl() };
  expect((await postSigned(`${a.actorUrl()}/inbox`, follow, { signer: alice })).status).toBe(202);
  await waitFor(() => masto.inbox.some((r) => r.status === 202 && recordedJson(r)?.type === "Accept"), WAIT, "the Accept of alice's Follow");
}, TEST_TIMEOUT);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), masto?.close()]);
});

describe("offers and needs on the fediverse", () => {
  let offer: any;
  let create: any;

  it("an offer reaches alice as a readable Create(Note) and B as a stored copy", async () => {
    const until = new Date(Date.now() + 5 * DAY).toISOString().slice(0, 10);
    const made = await api(a, "POST", `/pods/${A}/offers`, { resource: "squash", name: "squash", quantity: "40", location: "Oak Street allotments", availableUntil: until });
    expect(made.status).toBe(201);
    offer = made.body;
    expect(offer).toMatchObject({ url: `${a.actorUrl()}/offers/1`, number: 1, remaining: "40", version: 1 });

    [create] = await waitFor(() => {
      const found = deliveriesAbout(offer.url).filter((d) => d.type === "Create");
      return found.length ? found : null;
    }, WAIT, "alice's copy of the offer");
    expect(create.actor).toBe(a.actorUrl());
    expect(create.object.type).toBe("Note");
    expect(create.object.attributedTo).toBe(a.actorUrl());
    expect([create.object.to].flat()).toContain(PUBLIC);
    expect([create.object.cc].flat()).toContain(`${a.actorUrl()}/followers`);
    expect(create.object.content).toMatch(/^<p><strong>Offer: 40 kg squash, until \w+day \d{1,2} \w+<\/strong><\/p>/);
    expect(create.object.content).toContain("Oak Street allotments");
    expect(create.object.content).toContain(offer.url);
    for (const tag of tagsIn(create.object.content)) expect(MASTODON_TAGS.has(tag)).toBe(true);
    const hashtags = [create.object.tag].flat().map((t: any) => t.name);
    expect(hashtags).toEqual(expect.arrayContaining(["#MutualAid", "#Offer"]));

    const copy = await waitFor(() => getRemoteProposal(b.deps, offer.url), WAIT, "B's copy of the offer");
    expect(copy).toMatchObject({ actorIri: a.actorUrl(), intentIri: `${offer.url}#primary`, purpose: "offer", action: "transfer", name: "squash", unit: "kilogram", category: "food", quantity: "40", remaining: "40", location: "Oak Street allotments", status: "open", urgent: false });
  }, TEST_TIMEOUT);

  it("the id serves JSON-LD (Note + Proposal) to ActivityPub clients and HTML to browsers", async () => {
    const doc = await (await fetch(offer.url, { headers: { accept: "application/activity+json" } })).json();
    expect(doc.type).toEqual(["Note", "Proposal"]);
    expect(doc.publishes).toMatchObject({ id: `${offer.url}#primary`, type: "Intent", provider: a.actorUrl(), resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "40" } });
    expect(parseProposalJson(doc, { actorIri: a.actorUrl(), objectIri: offer.url, now: new Date() }).remaining).toBe("40");
    const page = await fetch(offer.url, { headers: { accept: "text/html" } });
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const text = await page.text();
    expect(text).toContain("Offer: 40 kg squash");
    expect(text).toContain("How to claim it");
    const list = await (await fetch(`${a.actorUrl()}/offers`, { headers: { accept: "text/html" } })).text();
    expect(list).toContain(`href="${offer.url}"`);
    expect((await fetch(`${a.actorUrl()}/offers/99`, { headers: { accept: "application/activity+json" } })).status).toBe(404);
    expect((await fetch(`${a.actorUrl()}/needs/1`, { headers: { accept: "text/html" } })).status).toBe(404);
  }, TEST_TIMEOUT);

  it("a claim taking 15 kg: alice gets an Update of the same Note, B's copy says 25 left; replays and older copies change nothing", async () => {
    const taken = await a.deps.db.transaction().execute(async (trx) => {
      const record = await takeRemaining(trx, offer.id, "15", a.deps.clock.now());
      if (record) await recordProposalPublished(a.deps, trx, record);
      return record;
    });
    expect(taken).toMatchObject({ remaining: "25", version: 2 });
    await a.deps.outbox.flush();
    const update = await waitFor(() => deliveriesAbout(offer.url).find((d) => d.type === "Update"), WAIT, "alice's Update of the offer");
    expect(update.object.id).toBe(offer.url);
    expect(update.object.content).toContain("25 kg of 40 kg left");
    expect(Date.parse(update.object.updated)).toBeGreaterThan(Date.parse(create.object.published));
    const copy = await waitFor(async () => {
      const c = await getRemoteProposal(b.deps, offer.url);
      return c?.remaining === "25" ? c : null;
    }, WAIT, "B's copy to say 25 left");

    // The Update activity again (a replay) is a duplicate; an older copy (the Create's state) is stale.
    const replay = await receiveRemoteProposal(b.deps, { ...copy, category: copy.category, activity: { key: update.id, actorIri: a.actorUrl(), type: "Update" } });
    expect(replay).toBe("duplicate");
    const older = await receiveRemoteProposal(b.deps, { ...copy, remaining: "40", remoteUpdatedAt: new Date(create.object.published) });
    expect(older).toBe("stale");
    expect((await getRemoteProposal(b.deps, offer.url))?.remaining).toBe("25");
    expect((await getRemoteProposal(b.deps, `${offer.url}#primary`))?.objectIri).toBe(offer.url);
  }, TEST_TIMEOUT);

  let need: any;

  it("an urgent need carries #MutualAidUrgent and URGENT first; B holds it urgent, listed first", async () => {
    const made = await api(a, "POST", `/pods/${A}/needs`, { name: "drinking water", quantity: "200", unit: "litre", category: "water", urgent: true, location: "Riverside" });
    expect(made.status).toBe(201);
    need = made.body;
    const created = await waitFor(() => deliveriesAbout(need.url).find((d) => d.type === "Create"), WAIT, "alice's copy of the urgent need");
    expect(created.object.content).toMatch(/^<p><strong>URGENT need: 200 l drinking water<\/strong><\/p>/);
    expect([created.object.tag].flat().map((t: any) => t.name)).toEqual(expect.arrayContaining(["#MutualAidUrgent", "#MutualAid", "#Need"]));
    await waitFor(async () => (await getRemoteProposal(b.deps, need.url))?.urgent === true, WAIT, "B's copy of the urgent need");
    const held = await listRemoteProposals(b.deps, [a.actorUrl()]);
    expect(held.map((p) => p.objectIri)).toEqual([need.url, offer.url]);
    expect(held[0]).toMatchObject({ purpose: "request", unit: "litre", quantity: "200" });
  }, TEST_TIMEOUT);

  it("the expiry job on a later clock: alice's Notes say Expired, B's copies are expired", async () => {
    const later = new Date(Date.now() + 30 * DAY);
    expect(await expireProposals(clocked(a.deps, later))).toBe(2);
    expect(await expireProposals(clocked(a.deps, later))).toBe(0);
    for (const url of [offer.url, need.url]) {
      const expired = await waitFor(() => deliveriesAbout(url).find((d) => d.type === "Update" && /Expired/.test(d.object.content)), WAIT, `alice's expiry of ${url}`);
      expect(expired.object.content).toMatch(/^<p><strong>Expired: /);
      await waitFor(async () => (await getRemoteProposal(b.deps, url))?.status === "expired", WAIT, `B's copy of ${url} to be expired`);
    }
    expect(await listRemoteProposals(b.deps, [a.actorUrl()])).toEqual([]);
    // One Create and one Update per version, nothing twice.
    expect(deliveriesAbout(offer.url).map((d) => d.type)).toEqual(["Create", "Update", "Update"]);
  }, TEST_TIMEOUT);
});

describe("the steward API", () => {
  it.each([
    [{ name: "Squash", quantity: "0", unit: "kilogram", category: "food" }, "NOT_POSITIVE", "quantity"],
    [{ name: "Squash", quantity: "-2", unit: "kilogram", category: "food" }, "NOT_POSITIVE", "quantity"],
    [{ name: "Squash", quantity: "many", unit: "kilogram", category: "food" }, "INVALID_DECIMAL", "quantity"],
    [{ name: "Squash", quantity: "2", unit: "bushel", category: "food" }, "UNKNOWN_UNIT", "unit"],
    [{ name: "Squash", quantity: "2", unit: "kilogram", category: "food", availableFrom: "2030-01-10", availableUntil: "2030-01-01" }, "WINDOW_ENDS_BEFORE_START", "availableUntil"],
    [{ name: "Squash", quantity: "2", unit: "kilogram", category: "food", expiresAt: "2020-01-01" }, "EXPIRY_IN_PAST", "expiresAt"],
    [{ name: "Squash", quantity: "2", unit: "kilogram", category: "food", minimum: "3" }, "MINIMUM_ABOVE_TOTAL", "minimum"],
    [{ name: "Squash", quantity: "2", unit: "kilogram", category: "food", urgent: true }, "URGENT_OFFER", "urgent"],
    [{ name: "Squash", quantity: "2", resource: "pumpkin" }, "UNKNOWN_RESOURCE", "resource"],
    [{ name: "Squash", quantity: "2", resource: "squash", unit: "gram" }, "UNIT_MISMATCH", "unit"],
    [{ name: "<em>Squash</em>", quantity: "2", resource: "squash" }, "INVALID_TEXT", "name"],
    [{ name: "Squash", quantity: "2", resource: "squash", price: "3" }, "UNKNOWN_FIELD", "price"],
  ])("POST an offer %j: 400 %s naming %s, nothing written", async (body, code, field) => {
    const before = (await api(a, "GET", `/pods/${A}/offers?status=all`)).body.items.length;
    const r = await api(a, "POST", `/pods/${A}/offers`, body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: code });
    expect(JSON.stringify(r.body)).toContain(field);
    expect((await api(a, "GET", `/pods/${A}/offers?status=all`)).body.items.length).toBe(before);
  });

  it("create with an Idempotency-Key once; edit; withdraw; list; 404; 409; no token", async () => {
    const body = { resource: "squash", name: "Squash seconds", quantity: "6", unitBased: true, total: "18", minimum: "6" };
    const first = await api(a, "POST", `/pods/${A}/offers`, body, { "idempotency-key": "offer-seconds-1" });
    const again = await api(a, "POST", `/pods/${A}/offers`, body, { "idempotency-key": "offer-seconds-1" });
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body.number).toBe(first.body.number);
    const n = first.body.number;
    const patched = await api(a, "PATCH", `/pods/${A}/offers/${n}`, { total: "24", location: "Oak Street" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ total: "24", remaining: "24", quantity: "6", location: "Oak Street", version: 2 });
    expect((await api(a, "PATCH", `/pods/${A}/offers/${n}`, { total: "20" })).body).toMatchObject({ error: "TOTAL_NOT_WHOLE_LOTS" });
    expect((await api(a, "GET", `/pods/${A}/offers/${n}`)).body.version).toBe(2);
    expect((await api(a, "GET", `/pods/${A}/offers`)).body.items.map((o: any) => o.number)).toEqual([n]);
    const withdrawn = await api(a, "POST", `/pods/${A}/offers/${n}/withdraw`);
    expect(withdrawn.body).toMatchObject({ status: "withdrawn", version: 3 });
    expect((await api(a, "PATCH", `/pods/${A}/offers/${n}`, { name: "x" })).status).toBe(409);
    expect((await api(a, "GET", `/pods/${A}/offers/999`)).status).toBe(404);
    expect((await api(a, "GET", `/pods/${A}/offers?status=nope`)).body).toMatchObject({ error: "INVALID_STATUS" });
    const withdrawnAt = await waitFor(() => deliveriesAbout(first.body.url).find((d) => d.type === "Update" && /Withdrawn/.test(d.object.content)), WAIT, "alice's withdrawal");
    expect(withdrawnAt.object.id).toBe(first.body.url);
    const anonymous = await fetch(`${a.origin}/api/hyphae/v1/pods/${A}/offers`);
    expect(anonymous.status).toBe(401);
    // The routes are in the OpenAPI description.
    const openApi = (await (await fetch(`${a.origin}/api/hyphae/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const kind of ["offers", "needs"]) {
      expect(Object.keys(openApi.paths[`/pods/{slug}/${kind}`] ?? {}).sort()).toEqual(["get", "post"]);
      expect(Object.keys(openApi.paths[`/pods/{slug}/${kind}/{number}`] ?? {}).sort()).toEqual(["get", "patch"]);
      expect(openApi.paths[`/pods/{slug}/${kind}/{number}/withdraw`]).toHaveProperty("post");
    }
  }, TEST_TIMEOUT);
});
