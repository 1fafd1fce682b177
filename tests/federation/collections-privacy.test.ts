/**
 * Followers and following protect people. By default (networkVisibility "hidden") anyone sees
 * how many, but only other pods (Group actors) are listed; a server that signs its fetch also
 * sees its own users (what FEP-8fcf followers synchronisation needs), never other servers'
 * people; a forged or foreign signature counts as anonymous. With "public" everyone is listed.
 * Delivery to followers still reaches everyone. Followers arrive through real Follows: a
 * Mastodon-shaped server's people and a second Hyphae node's pod, so the actor types come
 * from the fetched actors.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRemoteActor, upsertFollower, upsertFollowing, upsertRemoteActor } from "../../src/db/repos/follows.ts";
import { getPodBySlug } from "../../src/db/repos/pods.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { countFollowers, requestFollow } from "../../src/services/follows.ts";
import { startFakeMastodon, signCavage, AS_CONTEXT, postSigned, recordedJson, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import fs from "node:fs";

const AP = "application/activity+json";
const EXAMPLE = JSON.parse(fs.readFileSync(new URL("../../docs/charter.example.json", import.meta.url), "utf8")) as Record<string, unknown>;

let node: TestNode;
let elm: TestNode;
let mastodon: FakeMastodon;
let otherServer: FakeMastodon;
let followersUrl: string;
let followingUrl: string;
/** People on a server that is not the fetching one, stored as earlier versions did (no type). */
const CAROL = "https://other.example/users/carol";
const DAVE = "https://legacy.example/users/dave";

beforeAll(async () => {
  [node, elm, mastodon, otherServer] = await Promise.all([
    startTestNode({ podSlug: "oak-street" }),
    startTestNode({ podSlug: "elm-row" }),
    startFakeMastodon({ users: ["alice", "bob"] }),
    startFakeMastodon({ users: ["erin"] }),
  ]);
  followersUrl = `${node.actorUrl()}/followers`;
  followingUrl = `${node.actorUrl()}/following`;
  const pod = (await getPodBySlug(node.deps.db, "oak-street"))!;

  // Two people follow from the Mastodon-shaped server, one from another; the pod elm-row follows from another node.
  for (const [server, user] of [
    [mastodon, mastodon.user("alice")],
    [mastodon, mastodon.user("bob")],
    [otherServer, otherServer.user("erin")],
  ] as const) {
    const follow = { "@context": AS_CONTEXT, id: `${user.actorUrl}#follows/1`, type: "Follow", actor: user.actorUrl, object: node.actorUrl() };
    const r = await postSigned(`${node.actorUrl()}/inbox`, follow, { signer: user });
    expect(r.status, `${server.origin} follow`).toBe(202);
  }
  await requestFollow(elm.deps, "elm-row", node.actorUrl());
  await waitFor(async () => (await countFollowers(node.deps, pod.id, "accepted")) === 4, 20_000, "four accepted followers");

  // Rows as a node upgraded from before actor types were kept would have them.
  const now = new Date();
  for (const iri of [CAROL, DAVE]) {
    await upsertRemoteActor(node.deps.db, { iri, handle: null, name: null, url: null, inbox: `${iri}/inbox`, sharedInbox: null }, now);
    await upsertFollower(node.deps.db, { podId: pod.id, actorIri: iri, followIri: `${iri}#follow`, status: "accepted" }, now);
  }
  // The pod follows back a person and the other pod.
  await upsertFollowing(node.deps.db, { podId: pod.id, actorIri: mastodon.user("alice").actorUrl, followIri: `${node.actorUrl()}#follows/alice`, status: "accepted" }, now);
  await upsertFollowing(node.deps.db, { podId: pod.id, actorIri: elm.actorUrl(), followIri: `${node.actorUrl()}#follows/elm`, status: "accepted" }, now);
}, 120_000);

afterAll(async () => {
  await Promise.all([node?.stop(), elm?.stop(), mastodon?.close(), otherServer?.close()]);
});

/**
 * GET as Mastodon does for an authorized fetch: draft-cavage over (request-target), host, date,
 * accept. Mastodon's (request-target) is the path without the query (app/lib/request.rb), and
 * Fedify verifies it the same way.
 */
async function get(url: string, signer?: Pick<FakeUser, "privateKey" | "keyId">): Promise<any> {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host, date: new Date().toUTCString(), accept: AP };
  if (signer) {
    headers.signature = signCavage({ method: "GET", path: target.pathname, headers }, signer.privateKey, signer.keyId, ["(request-target)", "host", "date", "accept"]);
  }
  const response = await fetch(url, { headers });
  expect(response.status, url).toBe(200);
  return response.json();
}

/** Every member listed across the pages, as the fetcher sees them, and the top's totalItems. */
async function members(url: string, signer?: Pick<FakeUser, "privateKey" | "keyId">): Promise<{ total: number | undefined; items: string[] }> {
  const top = await get(url, signer);
  const items: string[] = [];
  let next: string | undefined = top.first;
  for (let n = 0; next && n < 10; n++) {
    const page = await get(next, signer);
    items.push(...(page.orderedItems ?? []).map((i: any) => (typeof i === "string" ? i : i.id)));
    next = page.next;
  }
  return { total: top.totalItems, items: items.sort() };
}

const sorted = (...xs: string[]) => [...xs].sort();

async function patchPod(body: unknown) {
  const response = await fetch(`${node.origin}/api/hyphae/v1/pods/oak-street`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${await node.token()}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe("actor types", () => {
  it("are kept from the fetched actor: a Hyphae pod is a Group, a Mastodon account a Person", async () => {
    expect((await getRemoteActor(node.deps.db, elm.actorUrl()))?.actor_type).toBe("Group");
    expect((await getRemoteActor(node.deps.db, mastodon.user("alice").actorUrl))?.actor_type).toBe("Person");
    expect((await getRemoteActor(node.deps.db, DAVE))?.actor_type).toBeNull();
  });
});

describe("hidden network (the default)", () => {
  it("an anonymous fetch sees how many follow, and only the other pod among them", async () => {
    expect((await getPodBySlug(node.deps.db, "oak-street"))?.networkVisibility).toBe("hidden");
    expect(await members(followersUrl)).toEqual({ total: 6, items: [elm.actorUrl()] });
  });

  it("an anonymous fetch cannot use base-url to list one server's followers", async () => {
    const { items } = await members(`${followersUrl}?base-url=${encodeURIComponent(`${mastodon.origin}/`)}`);
    expect(items).toEqual([]);
  });

  it("a server fetching with its signature sees its own users and the pods, nobody else's people", async () => {
    expect((await members(followersUrl, mastodon.user("bob"))).items).toEqual(sorted(mastodon.user("alice").actorUrl, mastodon.user("bob").actorUrl, elm.actorUrl()));
    expect((await members(followersUrl, otherServer.user("erin"))).items).toEqual(sorted(otherServer.user("erin").actorUrl, elm.actorUrl()));
  });

  it("the FEP-8fcf synchronisation URL, signed, lists exactly that server's followers", async () => {
    const { items } = await members(`${followersUrl}?base-url=${encodeURIComponent(`${mastodon.origin}/`)}`, mastodon.user("alice"));
    expect(items).toEqual(sorted(mastodon.user("alice").actorUrl, mastodon.user("bob").actorUrl));
  });

  it("a signature that does not verify counts as anonymous", async () => {
    // Signed with alice's key but claiming erin's key id on the other server.
    const forged = { privateKey: mastodon.user("alice").privateKey, keyId: otherServer.user("erin").keyId };
    expect((await members(followersUrl, forged)).items).toEqual([elm.actorUrl()]);
  });

  it("following shows its size and the pods it follows, not the people", async () => {
    expect(await members(followingUrl)).toEqual({ total: 2, items: [elm.actorUrl()] });
    expect((await members(followingUrl, mastodon.user("alice"))).items).toEqual(sorted(mastodon.user("alice").actorUrl, elm.actorUrl()));
  });

  it("delivery to followers still reaches the hidden people", { timeout: 60_000 }, async () => {
    await publishCharterRevision(node.deps, "oak-street", { ...EXAMPLE, title: "Oak Street charter" });
    const created = (origin: FakeMastodon) => origin.inbox.some((r) => recordedJson(r)?.type === "Create");
    await waitFor(() => created(mastodon) && created(otherServer), 30_000, "the Create at both servers' inboxes");
  });
});

describe("public network", () => {
  it("the steward API opens the lists; an anonymous fetch then lists everyone", async () => {
    const opened = await patchPod({ networkVisibility: "public" });
    expect(opened.status).toBe(200);
    expect(opened.body.networkVisibility).toBe("public");
    const all = sorted(mastodon.user("alice").actorUrl, mastodon.user("bob").actorUrl, otherServer.user("erin").actorUrl, elm.actorUrl(), CAROL, DAVE);
    expect(await members(followersUrl)).toEqual({ total: 6, items: all });
    expect((await members(followingUrl)).items).toEqual(sorted(mastodon.user("alice").actorUrl, elm.actorUrl()));
  });

  it("changing another field keeps the setting; closing the lists hides people again", async () => {
    const renamed = await patchPod({ name: "Oak Street Mutual Aid" });
    expect(renamed.body).toMatchObject({ name: "Oak Street Mutual Aid", networkVisibility: "public" });
    const closed = await patchPod({ networkVisibility: "hidden" });
    expect(closed.body).toMatchObject({ name: "Oak Street Mutual Aid", networkVisibility: "hidden" });
    expect((await members(followersUrl)).items).toEqual([elm.actorUrl()]);
  });

  it("refuses a value that is not hidden or public, and changes nothing", async () => {
    const refused = await patchPod({ networkVisibility: "everyone" });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain("networkVisibility");
    expect((await getPodBySlug(node.deps.db, "oak-street"))?.networkVisibility).toBe("hidden");
  });
});
