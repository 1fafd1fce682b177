/**
 * Two real nodes on loopback, each with its own database, federating over HTTP with real
 * signatures: B follows A, A accepts, A's followers collection lists B, B unfollows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCollection, startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";

let a: TestNode;
let b: TestNode;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: "oak-street" }), startTestNode({ podSlug: "elm-row" })]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function api(node: TestNode, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token ?? (await node.token())}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as any };
}


async function followingStatus(node: TestNode, target: string) {
  const { body } = await api(node, "GET", `/pods/${node.config.podSlug}/following`);
  return (body.items as Array<{ actor: string; status: string }>).find((i) => i.actor === target)?.status ?? null;
}

describe("two nodes over loopback", () => {
  it("B follows A by handle, A accepts automatically, A lists B as a follower", async () => {
    const followed = await api(b, "POST", "/pods/elm-row/following", { target: a.handle() });
    expect(followed.status).toBe(202);
    expect(followed.body).toMatchObject({ actor: a.actorUrl(), status: "pending", handle: a.handle() });

    await waitFor(async () => (await followingStatus(b, a.actorUrl())) === "accepted", 20_000, "B's follow to be accepted");

    const followers = await readCollection(`${a.actorUrl()}/followers`);
    expect(followers.totalItems).toBe(1);
    expect(followers.items).toEqual([b.actorUrl()]);
    const following = await readCollection(`${b.actorUrl()}/following`);
    expect(following.items).toEqual([a.actorUrl()]);

    // A knows B's inbox and handle from the signed fetch of B's actor.
    const listed = await api(a, "GET", "/pods/oak-street/followers");
    expect(listed.body.items).toEqual([expect.objectContaining({ actor: b.actorUrl(), handle: b.handle(), status: "accepted" })]);
  });

  it("a repeated follow is accepted again without duplicating the follower", async () => {
    // B already follows A (accepted): the service answers without a new Follow.
    const again = await api(b, "POST", "/pods/elm-row/following", { target: a.actorUrl() });
    expect(again.status).toBe(202);
    expect(again.body.status).toBe("accepted");
    expect((await readCollection(`${a.actorUrl()}/followers`)).totalItems).toBe(1);
  });

  it("B unfollows A and disappears from A's followers", async () => {
    const undone = await api(b, "DELETE", `/pods/elm-row/following?target=${encodeURIComponent(a.handle())}`);
    expect(undone.status).toBe(200);
    expect(await followingStatus(b, a.actorUrl())).toBeNull();
    await waitFor(async () => (await readCollection(`${a.actorUrl()}/followers`)).totalItems === 0, 20_000, "A to drop B");
    expect((await readCollection(`${a.actorUrl()}/followers`)).items).toEqual([]);
  });

  it("with manual approval, the follow waits until a steward accepts it", async () => {
    const patched = await api(a, "PATCH", "/pods/oak-street", { manuallyApprovesFollowers: true });
    expect(patched.body.manuallyApprovesFollowers).toBe(true);
    const actorDoc = (await (await fetch(a.actorUrl(), { headers: { accept: AP } })).json()) as any;
    expect(actorDoc.manuallyApprovesFollowers).toBe(true);

    await api(b, "POST", "/pods/elm-row/following", { target: a.handle() });
    const pending = await waitFor(async () => {
      const r = await api(a, "GET", "/pods/oak-street/followers?status=pending");
      return r.body.items.length === 1 ? r.body.items : null;
    }, 20_000, "a pending request at A");
    expect(pending[0]).toMatchObject({ actor: b.actorUrl(), status: "pending" });
    expect((await readCollection(`${a.actorUrl()}/followers`)).totalItems).toBe(0);
    expect(await followingStatus(b, a.actorUrl())).toBe("pending");

    const accepted = await api(a, "POST", "/pods/oak-street/follow-requests/accept", { actor: b.actorUrl() });
    expect(accepted.status).toBe(200);
    await waitFor(async () => (await followingStatus(b, a.actorUrl())) === "accepted", 20_000, "B to see the approval");
    expect((await readCollection(`${a.actorUrl()}/followers`)).items).toEqual([b.actorUrl()]);
  });

  it("a steward can reject a pending request and the follower sees the rejection", async () => {
    // A (manual approval on) gets a request from a third pod on B's node.
    await api(b, "POST", "/pods/elm-row/following", { target: a.actorUrl() }).then(() => undefined);
    const created = await b.node.ctx.deps.db.selectFrom("pods").select("slug").execute();
    expect(created.map((p) => p.slug)).toContain("elm-row");
    const { createPod } = await import("../../src/services/pods.ts");
    await createPod(b.deps, { slug: "birch-lane", name: "Birch Lane" });
    const birchToken = await b.token("birch-lane");
    await api(b, "POST", "/pods/birch-lane/following", { target: a.handle() }, birchToken);
    await waitFor(async () => {
      const r = await api(a, "GET", "/pods/oak-street/followers?status=pending");
      return r.body.items.some((i: any) => i.actor === b.actorUrl("birch-lane"));
    }, 20_000, "birch-lane's request at A");
    const rejected = await api(a, "POST", "/pods/oak-street/follow-requests/reject", { actor: b.actorUrl("birch-lane") });
    expect(rejected.status).toBe(200);
    await waitFor(async () => {
      const r = await api(b, "GET", "/pods/birch-lane/following", undefined, birchToken);
      return r.body.items[0]?.status === "rejected";
    }, 20_000, "birch-lane to see the rejection");
    expect((await readCollection(`${a.actorUrl()}/followers`)).items).toEqual([b.actorUrl()]);
  });
});
