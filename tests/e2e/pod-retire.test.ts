/**
 * Retiring a pod that has published, with real followers over loopback: another Hyphae node
 * (elm-row) and a Mastodon-shaped server (alice). The retirement and its Delete are one
 * transaction; the follower node receives the signed Delete and drops its follow; alice
 * receives it signed with the pod's key; the actor answers 410 with a Tombstone, WebFinger
 * no longer resolves it, new Follows are refused (a Reject through the shared inbox, 404 at
 * the personal inbox), steward writes answer POD_RETIRED, retiring again changes nothing,
 * and the charter stays. A Delete recorded by a process that died before flushing still
 * goes out from the worker's periodic flush.
 */
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { receiveActorDeleted } from "../../src/services/follows.ts";
import { createPod, retirePod } from "../../src/services/pods.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, verifyCavage, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";
const PUBLIC = ["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"];
const EXAMPLE = JSON.parse(fs.readFileSync(new URL("../../docs/charter.example.json", import.meta.url), "utf8")) as Record<string, unknown>;

let a: TestNode;
let b: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let oak: string;
let oakKeyPem: string;
let oakKeyId: string;

async function api(node: TestNode, method: string, path: string, options: { body?: unknown; slug?: string } = {}) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await node.token(options.slug)}`,
      ...(options.body !== undefined && { "content-type": "application/json" }),
    },
    ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

async function followingOf(node: TestNode, slug: string): Promise<Array<{ actor: string; status: string }>> {
  return (await api(node, "GET", `/pods/${slug}/following`, { slug })).body.items;
}

async function count(node: TestNode, query: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  return Number((await query.execute(node.deps.db)).rows[0]!.n);
}

/** The 202-answered deliveries to the fake Mastodon of a given activity type. */
function delivered(type: string) {
  return masto.inbox.filter((r) => r.status === 202 && recordedJson(r)?.type === type).map((r) => ({ request: r, activity: recordedJson(r) }));
}

beforeAll(async () => {
  [a, b, masto] = await Promise.all([startTestNode({ podSlug: "oak-street" }), startTestNode({ podSlug: "elm-row" }), startFakeMastodon({ users: ["alice", "bob"] })]);
  alice = masto.user("alice");
  oak = a.actorUrl("oak-street");
  await createPod(a.deps, { slug: "birch-lane", name: "Birch Lane" });
  await publishCharterRevision(a.deps, "oak-street", { ...EXAMPLE, title: "Oak Street charter" });

  // elm-row (on node B) follows both pods on A; alice follows oak-street.
  for (const slug of ["oak-street", "birch-lane"]) {
    expect((await api(b, "POST", "/pods/elm-row/following", { body: { target: a.handle(slug) } })).status).toBe(202);
  }
  await waitFor(async () => (await followingOf(b, "elm-row")).filter((f) => f.status === "accepted").length === 2, 20_000, "elm-row's follows to be accepted");

  const actor = (await (await fetch(oak, { headers: { accept: AP } })).json()) as any;
  oakKeyPem = actor.publicKey.publicKeyPem;
  oakKeyId = actor.publicKey.id;
  const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: oak };
  expect((await postSigned(actor.inbox, follow, { signer: alice })).status).toBe(202);
  await waitFor(() => delivered("Accept").length === 1, 20_000, "the Accept at alice's inbox");
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), masto?.close()]);
});

describe("retiring a pod with followers", () => {
  let retiredAt: string;

  it("POST /retire records the retirement and one Delete in the outbox", async () => {
    const r = await api(a, "POST", "/pods/oak-street/retire", { slug: "oak-street" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ slug: "oak-street", alreadyRetired: false, followers: 2, retiredAt: expect.any(String) });
    retiredAt = r.body.retiredAt;
    expect(await count(a, sql`select count(*) as n from outbox_events where kind = 'delete_actor'`)).toBe(1);
  });

  it("the follower node receives the signed Delete and drops its follow of the pod", async () => {
    await waitFor(async () => !(await followingOf(b, "elm-row")).some((f) => f.actor === oak), 20_000, "elm-row to drop oak-street");
    // Its follow of the other pod on the same node is untouched.
    expect((await followingOf(b, "elm-row")).map((f) => f.actor)).toEqual([a.actorUrl("birch-lane")]);
    // A late or repeated Delete changes nothing.
    expect(await receiveActorDeleted(b.deps, oak)).toEqual({ following: 0, followers: 0 });
  });

  it("the Mastodon-shaped follower receives Delete(actor = object = the pod) to Public and followers, signed by the pod's key", async () => {
    const { request, activity } = await waitFor(() => delivered("Delete")[0], 20_000, "a Delete at alice's inbox");
    expect(activity.actor).toBe(oak);
    expect(activity.object).toBe(oak);
    expect(activity.id).toMatch(new RegExp(`^${oak}#`));
    expect([activity.to].flat().some((t: string) => PUBLIC.includes(t))).toBe(true);
    expect([activity.cc].flat()).toContain(`${oak}/followers`);
    expect(verifyCavage(request, oakKeyPem)).toMatchObject({ ok: true, keyId: oakKeyId });
  });

  it("the actor answers 410 Gone with a Tombstone; WebFinger no longer resolves it; the page says it retired", async () => {
    const response = await fetch(oak, { headers: { accept: AP } });
    expect(response.status).toBe(410);
    expect(response.headers.get("content-type")).toMatch(/^application\/activity\+json/);
    const tombstone = (await response.json()) as any;
    expect(tombstone).toEqual({
      "@context": expect.arrayContaining([AS_CONTEXT]),
      id: oak,
      type: "Tombstone",
      // The compact IRI of as:Group (formerType's values are IRIs in the ActivityStreams context).
      formerType: "as:Group",
      deleted: expect.any(String),
    });
    expect(new Date(tombstone.deleted).toISOString()).toBe(retiredAt);

    const webfinger = await fetch(`${a.origin}/.well-known/webfinger?resource=acct:oak-street@${a.host}`);
    expect(webfinger.status).toBe(410);
    const page = await fetch(`${a.origin}/@oak-street`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("This pod has retired");
  });

  it("new Follows are refused: by lookup, at the personal inbox, and with a Reject through the shared inbox", async () => {
    const again = await api(b, "POST", "/pods/elm-row/following", { body: { target: a.handle("oak-street") } });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(500);
    expect((await followingOf(b, "elm-row")).some((f) => f.actor === oak)).toBe(false);

    const bob = masto.user("bob");
    const personal = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: bob.actorUrl, object: oak };
    expect((await postSigned(`${oak}/inbox`, personal, { signer: bob })).status).toBe(404);

    const shared = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: bob.actorUrl, object: oak };
    expect((await postSigned(`${a.origin}/inbox`, shared, { signer: bob })).status).toBe(202);
    const { request, activity } = await waitFor(
      () => delivered("Reject").find((d) => (typeof d.activity.object === "string" ? d.activity.object : d.activity.object?.id) === shared.id),
      20_000,
      "a Reject of bob's Follow",
    );
    expect(activity.actor).toBe(oak);
    expect(verifyCavage(request, oakKeyPem)).toMatchObject({ ok: true });
    expect(await count(a, sql`select count(*) as n from followers where actor_iri = ${bob.actorUrl}`)).toBe(0);
  });

  it("steward writes answer 409 POD_RETIRED; reads still work; the charter revisions stay", async () => {
    const patch = await api(a, "PATCH", "/pods/oak-street", { body: { name: "Renamed" }, slug: "oak-street" });
    expect({ status: patch.status, error: patch.body.error }).toEqual({ status: 409, error: "POD_RETIRED" });
    const confirm = await api(a, "POST", "/pods/oak-street/charter/confirm", { slug: "oak-street" });
    expect({ status: confirm.status, error: confirm.body.error }).toEqual({ status: 409, error: "POD_RETIRED" });
    const follow = await api(a, "POST", "/pods/oak-street/following", { body: { target: b.handle() }, slug: "oak-street" });
    expect({ status: follow.status, error: follow.body.error }).toEqual({ status: 409, error: "POD_RETIRED" });

    const shown = await api(a, "GET", "/pods/oak-street", { slug: "oak-street" });
    expect(shown.body).toMatchObject({ name: "Pod oak-street", retiredAt });
    const revisions = await api(a, "GET", "/pods/oak-street/charter/revisions", { slug: "oak-street" });
    expect(revisions.body.items.map((r: any) => r.revision)).toEqual([1]);
    expect(await count(a, sql`select count(*) as n from charter_revisions r join pods p on p.id = r.pod_id where p.slug = 'oak-street'`)).toBe(1);
    expect((await fetch(`${oak}/charter`, { headers: { accept: "text/html" } })).status).toBe(200);

    const deleted = await api(a, "DELETE", "/pods/oak-street", { slug: "oak-street" });
    expect({ status: deleted.status, error: deleted.body.error }).toEqual({ status: 409, error: "POD_HAS_PUBLISHED" });
  });

  it("retiring again is a no-op that says so", async () => {
    const r = await api(a, "POST", "/pods/oak-street/retire", { slug: "oak-street" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ alreadyRetired: true, retiredAt });
    expect(await count(a, sql`select count(*) as n from outbox_events where kind = 'delete_actor'`)).toBe(1);
    expect(delivered("Delete").filter((d) => d.activity.actor === oak)).toHaveLength(1);
  });
});

describe("a retirement whose process stopped before flushing", () => {
  it("the worker's periodic flush still sends the Delete", async () => {
    // The retirement commits, then this "process" never calls flush.
    const noFlush = { ...a.deps, outbox: { record: a.deps.outbox.record.bind(a.deps.outbox), flush: async () => {} } };
    const { alreadyRetired } = await retirePod(noFlush, "birch-lane");
    expect(alreadyRetired).toBe(false);
    await waitFor(async () => (await followingOf(b, "elm-row")).length === 0, 20_000, "elm-row to drop birch-lane");
  });
});

describe("Deletes the follower node receives", () => {
  it("only an actor's Delete of itself ends follows with it", async () => {
    const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: b.actorUrl() };
    expect((await postSigned(`${b.actorUrl()}/inbox`, follow, { signer: alice })).status).toBe(202);
    const followers = () => count(b, sql`select count(*) as n from followers where actor_iri = ${alice.actorUrl} and status = 'accepted'`);
    await waitFor(async () => (await followers()) === 1, 20_000, "alice to follow elm-row");

    const other = { "@context": AS_CONTEXT, id: `${alice.actorUrl}#delete-note`, type: "Delete", actor: alice.actorUrl, object: `${alice.actorUrl}/statuses/1` };
    expect((await postSigned(`${b.origin}/inbox`, other, { signer: alice })).status).toBe(202);
    // Once B's queue has run it, alice still follows.
    await waitFor(async () => (await count(b, sql`select count(*) as n from fedify_queue`)) === 0, 20_000, "B's queue to drain");
    expect(await followers()).toBe(1);
    const self = { "@context": AS_CONTEXT, id: `${alice.actorUrl}#delete`, type: "Delete", actor: alice.actorUrl, object: alice.actorUrl, to: [PUBLIC[0]] };
    expect((await postSigned(`${b.origin}/inbox`, self, { signer: alice })).status).toBe(202);
    await waitFor(async () => (await followers()) === 0, 20_000, "elm-row to forget alice");
  });
});
