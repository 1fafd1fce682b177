/**
 * Followers and following as paginated OrderedCollections: totalItems, `first`, `next`,
 * every item exactly once across pages, pending followers never listed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertFollower, upsertFollowing, upsertRemoteActor } from "../../src/db/repos/follows.ts";
import { getPodBySlug } from "../../src/db/repos/pods.ts";
import { PAGE_SIZE } from "../../src/federation/collections.ts";
import { updatePod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const AP = { accept: "application/activity+json" };
const FOLLOWERS = PAGE_SIZE * 2 + 7;
const PENDING = 3;
const FOLLOWING = PAGE_SIZE + 1;

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street" });
  // Pagination over every member: the pod opens its lists (hidden lists: collections-privacy.test.ts).
  await updatePod(node.deps, "oak-street", { networkVisibility: "public" });
  const pod = (await getPodBySlug(node.deps.db, "oak-street"))!;
  const base = Date.parse("2026-01-01T00:00:00Z");
  const actor = (i: number) => `https://remote${i % 5}.example/users/u${i}`;
  for (let i = 0; i < FOLLOWERS + PENDING + FOLLOWING; i++) {
    await upsertRemoteActor(
      node.deps.db,
      { iri: actor(i), handle: `@u${i}@remote${i % 5}.example`, name: null, url: null, inbox: `${actor(i)}/inbox`, sharedInbox: null },
      new Date(base),
    );
  }
  // Several followers share a timestamp, so the cursor must break ties by actor.
  for (let i = 0; i < FOLLOWERS + PENDING; i++) {
    const status = i < FOLLOWERS ? "accepted" : "pending";
    await upsertFollower(node.deps.db, { podId: pod.id, actorIri: actor(i), followIri: `${actor(i)}#follow`, status }, new Date(base + Math.floor(i / 4) * 1000));
  }
  for (let i = FOLLOWERS + PENDING; i < FOLLOWERS + PENDING + FOLLOWING; i++) {
    await upsertFollowing(node.deps.db, { podId: pod.id, actorIri: actor(i), followIri: `${node.actorUrl()}/follows/${i}`, status: "accepted" }, new Date(base));
  }
});

afterAll(async () => {
  await node?.stop();
});

async function walk(url: string) {
  const top = (await (await fetch(url, { headers: AP })).json()) as any;
  const pages: string[][] = [];
  let next: string | undefined = top.first;
  while (next && pages.length < 20) {
    const page = (await (await fetch(next, { headers: AP })).json()) as any;
    expect(page.type).toBe("OrderedCollectionPage");
    expect(page.partOf).toBe(url);
    pages.push(page.orderedItems.map((i: any) => (typeof i === "string" ? i : i.id)));
    next = page.next;
  }
  return { top, pages };
}

describe("paginated collections", () => {
  it("followers: totalItems counts accepted followers; pages list each once, pending never", async () => {
    const { top, pages } = await walk(`${node.actorUrl()}/followers`);
    expect(top.type).toBe("OrderedCollection");
    expect(top.totalItems).toBe(FOLLOWERS);
    expect(pages.map((p) => p.length)).toEqual([PAGE_SIZE, PAGE_SIZE, FOLLOWERS - 2 * PAGE_SIZE]);
    const all = pages.flat();
    expect(new Set(all).size).toBe(FOLLOWERS);
    for (let i = FOLLOWERS; i < FOLLOWERS + PENDING; i++) expect(all).not.toContain(`https://remote${i % 5}.example/users/u${i}`);
  });

  it("following: totalItems and two pages", async () => {
    const { top, pages } = await walk(`${node.actorUrl()}/following`);
    expect(top.totalItems).toBe(FOLLOWING);
    expect(pages.map((p) => p.length)).toEqual([PAGE_SIZE, 1]);
    expect(new Set(pages.flat()).size).toBe(FOLLOWING);
  });

  it("a forged cursor gives no page rather than an error", async () => {
    const response = await fetch(`${node.actorUrl()}/followers?cursor=not-base64-json`, { headers: AP });
    expect(response.status).toBe(404);
  });
});
