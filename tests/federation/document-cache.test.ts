/**
 * The pod actor and WebFinger answers kept as Fedify rendered them (src/federation/
 * document-cache.ts, answered by the bridge before Fedify): the same bytes as a fresh
 * render, a change to the pod shows at once, a different Accept header is a different
 * document, HEAD reads GET's copy, a retired pod is never answered from an old copy, and
 * what cannot be tied to one of this node's pods is never kept.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confirmCharter, publishCharterRevision } from "../../src/services/charters.ts";
import { retirePod, updatePod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const AP = "application/activity+json";
let node: TestNode;

const hits = () => node.node.ctx.documents.hits;

async function get(path: string, accept = AP, method = "GET") {
  const response = await fetch(`${node.origin}${path}`, { method, headers: { accept } });
  return { status: response.status, type: response.headers.get("content-type"), vary: response.headers.get("vary"), text: await response.text() };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: A, podName: "Oak Street" });
}, 60_000);

afterAll(async () => {
  await node?.stop();
});

describe("the actor and WebFinger from the document cache", () => {
  it("the second GET of the actor is answered from the copy, byte for byte", async () => {
    const first = await get(`/pods/${A}`);
    expect(first.status).toBe(200);
    const before = hits();
    const second = await get(`/pods/${A}`);
    expect(hits()).toBe(before + 1);
    expect(second).toEqual(first);
    expect(JSON.parse(second.text)).toMatchObject({ id: node.actorUrl(A), name: "Oak Street", type: "Group" });
  });

  it("a change to the pod shows on the next GET", async () => {
    await get(`/pods/${A}`);
    await updatePod(node.deps, A, { name: "Oak Street Commons", summary: "Seeds & tools." });
    const after = JSON.parse((await get(`/pods/${A}`)).text);
    expect(after.name).toBe("Oak Street Commons");
    expect(after.summary).toBe("<p>Seeds &amp; tools.</p>");
    const webfinger = await get(`/.well-known/webfinger?resource=acct:${A}@${node.host}`, "application/jrd+json");
    expect(webfinger.status).toBe(200);
  });

  it("each Accept header is its own document; a browser still gets the HTML page", async () => {
    await get(`/pods/${A}`);
    const ld = await get(`/pods/${A}`, 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"');
    expect(ld.status).toBe(200);
    expect(JSON.parse(ld.text).id).toBe(node.actorUrl(A));
    const html = await get(`/pods/${A}`, "text/html");
    expect(html.type).toMatch(/^text\/html/);
    expect(html.text).toContain("<html");
    // The browser's answer is never kept or served from the cache.
    const before = hits();
    expect((await get(`/pods/${A}`, "text/html")).type).toMatch(/^text\/html/);
    expect(hits()).toBe(before);
  });

  it("HEAD is answered from GET's copy, without a body", async () => {
    const full = await get(`/pods/${A}`);
    const before = hits();
    const head = await get(`/pods/${A}`, AP, "HEAD");
    expect(hits()).toBe(before + 1);
    expect({ status: head.status, type: head.type, text: head.text }).toEqual({ status: 200, type: full.type, text: "" });
  });

  it("WebFinger by handle (any case) and by actor URL is kept; other hosts and unknown pods are not", async () => {
    const resource = `acct:${A}@${node.host}`;
    const first = await get(`/.well-known/webfinger?resource=${resource}`, "application/jrd+json");
    const before = hits();
    expect(await get(`/.well-known/webfinger?resource=${resource}`, "application/jrd+json")).toEqual(first);
    expect(hits()).toBe(before + 1);
    expect(JSON.parse(first.text).subject).toBe(resource);
    const byUrl = await get(`/.well-known/webfinger?resource=${encodeURIComponent(node.actorUrl(A))}`, "application/jrd+json");
    expect(byUrl.status).toBe(200);
    await get(`/.well-known/webfinger?resource=${encodeURIComponent(node.actorUrl(A))}`, "application/jrd+json");
    expect(hits()).toBe(before + 2);

    const misses = hits();
    for (const path of [
      `/.well-known/webfinger?resource=acct:${A}@elsewhere.example`,
      `/.well-known/webfinger?resource=acct:nobody@${node.host}`,
      `/.well-known/webfinger?resource=${resource}&rel=self`,
      "/pods/nobody",
    ]) {
      const a = await get(path, "application/jrd+json");
      const b = await get(path, "application/jrd+json");
      expect({ path, same: a.status === b.status }).toEqual({ path, same: true });
    }
    expect(hits()).toBe(misses);
  });

  it("the charter Note and featured are kept, and a revision or a re-confirmation shows at once", async () => {
    const charterInput = (changeNote: string) => ({
      title: "Oak Street charter",
      changeNote,
      services: [{ name: "Squash share", description: "Squash every week.", category: "food", since: "2026-01-04" }],
    });
    // No charter yet: featured is an empty collection (kept), the Note a 404 (never kept).
    const items = (text: string) => {
      const collection = JSON.parse(text);
      return collection.orderedItems ?? collection.items ?? [];
    };
    expect(items((await get(`/pods/${A}/featured`)).text)).toHaveLength(0);
    expect((await get(`/pods/${A}/charter`)).status).toBe(404);
    await publishCharterRevision(node.deps, A, charterInput("First charter"));
    expect(items((await get(`/pods/${A}/featured`)).text)).toHaveLength(1);

    const first = await get(`/pods/${A}/charter`);
    expect(JSON.parse(first.text).changeNote).toBe("First charter");
    const before = hits();
    expect(await get(`/pods/${A}/charter`)).toEqual(first);
    await get(`/pods/${A}/featured`);
    expect(hits()).toBe(before + 2);

    await publishCharterRevision(node.deps, A, charterInput("Second revision"));
    const revised = JSON.parse((await get(`/pods/${A}/charter`)).text);
    expect({ changeNote: revised.changeNote, revision: revised.charterRevision }).toEqual({ changeNote: "Second revision", revision: 2 });
    const featured = JSON.parse((await get(`/pods/${A}/featured`)).text);
    expect(JSON.stringify(featured)).toContain("Second revision");

    const reviewedOn = revised.reviewedOn;
    await confirmCharter({ ...node.deps, clock: { now: () => new Date(Date.now() + 3 * 86_400_000) } }, A);
    const confirmed = JSON.parse((await get(`/pods/${A}/charter`)).text);
    expect(confirmed.reviewedOn).not.toBe(reviewedOn);
    // A revision's own snapshot (a query) is never taken from the cache.
    const snapshot = await get(`/pods/${A}/charter?revision=1`);
    expect(JSON.parse(snapshot.text).changeNote).toBe("First charter");
  });

  it("a retired pod is never answered from its old copy", async () => {
    await get(`/pods/${A}`);
    await get(`/pods/${A}`);
    await retirePod(node.deps, A);
    const after = await get(`/pods/${A}`);
    expect(after.status).toBe(410);
    expect(JSON.parse(after.text).type).toBe("Tombstone");
  });
});
