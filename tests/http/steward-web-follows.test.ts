/**
 * The steward web app's Follows page with two real nodes federating over loopback: following
 * by handle (once per form, refused handles shown next to the field), answering follow
 * requests, removing a follower and unfollowing, each seen on the other node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listFollowers, listFollowing, receiveFollow, requestFollow } from "../../src/services/follows.ts";
import { createPod, getPod, updatePod } from "../../src/services/pods.ts";
import { freePort, startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { onlyOwnScripts, formOf, StewardClient } from "../helpers/steward-web.ts";

let a: TestNode;
let b: TestNode;
let client: StewardClient;
const FOLLOWS = "/pods/oak-street/steward/follows";

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name}-error">([^<]*)</span>`).exec(page)?.[1];

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: "oak-street", podName: "Oak Street" }), startTestNode({ podSlug: "elm-row", podName: "Elm Row" })]);
  // A pod on B that answers follows by hand, so a follow of it stays waiting.
  await createPod(b.deps, { slug: "birch-lane", name: "Birch Lane", manuallyApprovesFollowers: true });
  client = await StewardClient.signIn(a, "oak-street");
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const following = async (node: TestNode, slug: string) => listFollowing(node.deps, slug);
const statusAt = async (node: TestNode, slug: string, actor: string) => (await following(node, slug)).find((f) => f.actorIri === actor)?.status ?? null;

describe("the follows page", () => {
  it("shows the follow form with its label and empty lists", async () => {
    const page = await client.get(FOLLOWS);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="f-target">Handle or address');
    expect(page.text).toContain("Oak Street follows no one yet.");
    expect(page.text).toContain("No one follows Oak Street yet.");
    expect(page.text).toContain("No follow request is waiting.");
    expect(onlyOwnScripts(page.text)).toBe(true);
  });

  it("follows a pod on another node by handle: waiting, then following once it answers", async () => {
    const r = await client.post(`${FOLLOWS}/follow`, { target: b.handle() }, { from: FOLLOWS });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${FOLLOWS}?done=follow-sent`);
    const [entry] = await following(a, "oak-street");
    expect(entry).toMatchObject({ actorIri: b.actorUrl(), handle: b.handle() });

    await waitFor(async () => (await statusAt(a, "oak-street", b.actorUrl())) === "accepted", 20_000, "Elm Row to accept");
    expect((await listFollowers(b.deps, "elm-row")).map((f) => f.actorIri)).toEqual([a.actorUrl()]);
    const page = await client.get(FOLLOWS);
    expect(page.text).toMatch(new RegExp(`Elm Row</a></span><br><span class="handle small">${b.handle()}</span></td><td>Following</td>`));
    expect(page.text).toContain(`<input type="hidden" name="target" value="${b.actorUrl()}">`);
  });

  it("the same follow form sent twice sends one Follow", async () => {
    const hidden = formOf((await client.get(FOLLOWS)).text, `${FOLLOWS}/follow`);
    const fields = { ...hidden, target: b.handle("birch-lane") };
    const first = await client.post(`${FOLLOWS}/follow`, fields, { csrf: false });
    expect(first.status).toBe(303);
    const birch = b.actorUrl("birch-lane");
    const before = (await following(a, "oak-street")).find((f) => f.actorIri === birch)!;
    expect(before.status).toBe("pending");

    const second = await client.post(`${FOLLOWS}/follow`, fields, { csrf: false });
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    // A second Follow would have a new id (the service sends a fresh one for a pending follow).
    const after = (await following(a, "oak-street")).find((f) => f.actorIri === birch)!;
    expect(after.followIri).toBe(before.followIri);
    const podId = (await getPod(a.deps, "oak-street")).id;
    const sent = await a.deps.db.selectFrom("outbox_events").select(["payload"]).where("pod_id", "=", podId).where("kind", "=", "send_follow").execute();
    expect(sent.filter((e) => (e.payload as { actorIri?: string }).actorIri === birch)).toHaveLength(1);
    await waitFor(async () => (await listFollowers(b.deps, "birch-lane", "pending")).length === 1, 20_000, "Birch Lane to get one request");

    const page = await client.get(FOLLOWS);
    expect(page.text).toMatch(/Birch Lane<\/a><\/span><br><span class="handle small">[^<]+<\/span><\/td><td>Waiting for an answer<\/td>/);
  });

  it("a handle that cannot be followed is refused next to the field, keeping what was typed, storing nothing", async () => {
    const closed = await freePort();
    const cases = [
      { target: `@nobody@${b.host}`, code: "NOT_AN_ACTOR", words: /Nothing that can be followed was found/ },
      { target: "oak street please", code: "INVALID_TARGET", words: /Write a handle such as/ },
      { target: `@someone@127.0.0.1:${closed}`, code: "REMOTE_LOOKUP_FAILED", words: /could not be reached/ },
      { target: a.handle(), code: "CANNOT_FOLLOW_SELF", words: /cannot follow itself/ },
    ];
    const count = (await following(a, "oak-street")).length;
    for (const { target, code, words } of cases) {
      const r = await client.post(`${FOLLOWS}/follow`, { target }, { from: FOLLOWS });
      expect(r.status, target).toBeGreaterThanOrEqual(400);
      expect(r.status, target).toBeLessThan(500);
      expect(codeOn(r.text), target).toBe(code);
      expect(errorNextTo(r.text, "target"), target).toMatch(words);
      expect(r.text).toMatch(/id="f-target"[^>]* aria-invalid="true"/);
      expect(r.text).toContain(`value="${target}"`);
    }
    const markup = await client.post(`${FOLLOWS}/follow`, { target: '<a href="x">@elm-row</a>' }, { from: FOLLOWS });
    expect(markup.status).toBe(400);
    expect(codeOn(markup.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(markup.text, "target")).toMatch(/plain text/i);
    expect(await following(a, "oak-street")).toHaveLength(count);
  });

  it("with approval by hand, a request waits on the page and Accept makes a follower", async () => {
    await updatePod(a.deps, "oak-street", { manuallyApprovesFollowers: true });
    await requestFollow(b.deps, "elm-row", a.handle());
    await waitFor(async () => (await listFollowers(a.deps, "oak-street", "pending")).length === 1, 20_000, "Elm Row's request at Oak Street");
    const page = await client.get(FOLLOWS);
    expect(page.text).toContain("New followers wait here until a steward answers.");
    expect(page.text).toContain(`action="${FOLLOWS}/requests/accept"`);
    expect(page.text).toContain(`action="${FOLLOWS}/requests/reject"`);

    const hidden = formOf(page.text, `${FOLLOWS}/requests/accept`);
    expect(hidden.actor).toBe(b.actorUrl());
    const r = await client.post(`${FOLLOWS}/requests/accept`, hidden, { csrf: false });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${FOLLOWS}?done=request-accepted`);
    // The same button pressed twice answers the same, not "no such request".
    const again = await client.post(`${FOLLOWS}/requests/accept`, hidden, { csrf: false });
    expect(again.status).toBe(303);

    expect((await listFollowers(a.deps, "oak-street")).map((f) => f.actorIri)).toEqual([b.actorUrl()]);
    await waitFor(async () => (await statusAt(b, "elm-row", a.actorUrl())) === "accepted", 20_000, "Elm Row to see the approval");
    const after = await client.get(r.location!);
    expect(after.text).toContain("The follow request was accepted");
    expect(after.text).toContain("No follow request is waiting.");
    expect(after.text).toContain(`action="${FOLLOWS}/followers/remove"`);
  });

  it("Reject turns a request down and the requester is told", async () => {
    await requestFollow(b.deps, "birch-lane", a.handle());
    const birch = b.actorUrl("birch-lane");
    await waitFor(async () => (await listFollowers(a.deps, "oak-street", "pending")).some((f) => f.actorIri === birch), 20_000, "Birch Lane's request at Oak Street");
    const hidden = formOf((await client.get(FOLLOWS)).text, `${FOLLOWS}/requests/reject`);
    const r = await client.post(`${FOLLOWS}/requests/reject`, { ...hidden, actor: birch }, { csrf: false });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${FOLLOWS}?done=request-rejected`);
    expect(await listFollowers(a.deps, "oak-street", "pending")).toEqual([]);
    expect((await listFollowers(a.deps, "oak-street")).map((f) => f.actorIri)).toEqual([b.actorUrl()]);
    await waitFor(async () => (await statusAt(b, "birch-lane", a.actorUrl())) === "rejected", 20_000, "Birch Lane to see the rejection");
  });

  it("an unknown request or follower is refused on the page, changing nothing", async () => {
    const hidden = formOf((await client.get(FOLLOWS)).text, `${FOLLOWS}/follow`);
    const r = await client.post(`${FOLLOWS}/requests/accept`, { ...hidden, actor: `${b.origin}/pods/nobody` }, { csrf: false });
    expect(r.status).toBe(404);
    expect(codeOn(r.text)).toBe("FOLLOW_REQUEST_NOT_FOUND");
    const nf = await client.post(`${FOLLOWS}/unfollow`, { ...hidden, _once: "unfollow-nobody", target: `${b.origin}/pods/nobody` }, { csrf: false });
    expect(nf.status).toBe(404);
    expect(codeOn(nf.text)).toBe("NOT_FOLLOWING");
    expect(nf.text).not.toMatch(/id="f-target"[^>]* value="http/);
  });

  it("removing a follower tells its server, which stops following", async () => {
    const hidden = formOf((await client.get(FOLLOWS)).text, `${FOLLOWS}/followers/remove`);
    expect(hidden.actor).toBe(b.actorUrl());
    const r = await client.post(`${FOLLOWS}/followers/remove`, hidden, { csrf: false });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${FOLLOWS}?done=follower-removed`);
    expect(await listFollowers(a.deps, "oak-street")).toEqual([]);
    await waitFor(async () => (await statusAt(b, "elm-row", a.actorUrl())) === "rejected", 20_000, "Elm Row to be told");
    expect((await client.get(r.location!)).text).toContain("No one follows Oak Street yet.");
  });

  it("Unfollow stops following and the other node drops the follower", async () => {
    const page = await client.get(FOLLOWS);
    const hidden = formOf(page.text, `${FOLLOWS}/unfollow`);
    expect(hidden.target).toBe(b.actorUrl());
    const r = await client.post(`${FOLLOWS}/unfollow`, hidden, { csrf: false });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${FOLLOWS}?done=unfollowed`);
    expect(await statusAt(a, "oak-street", b.actorUrl())).toBeNull();
    await waitFor(async () => (await listFollowers(b.deps, "elm-row")).length === 0, 20_000, "Elm Row to drop Oak Street");
    const after = await client.get(r.location!);
    expect(after.text).toContain("The pod no longer follows that account");
    expect(after.text).not.toContain(`value="${b.actorUrl()}"`);
  });

  it("a long list of requests comes a page at a time, and the page stays small", async () => {
    // Requests from 30 accounts elsewhere (approval by hand is on, so nothing is sent to them).
    for (let n = 10; n < 40; n++) {
      await receiveFollow(a.deps, {
        podSlug: "oak-street",
        actor: { iri: `https://far.example/users/u${n}`, handle: `@u${n}@far.example`, name: `Neighbour number ${n} of the long street`, url: null, inbox: `https://far.example/users/u${n}/inbox`, sharedInbox: null },
        followIri: `https://far.example/follows/${n}`,
      });
    }
    const first = await client.get(FOLLOWS);
    expect(first.text.match(new RegExp(`action="${FOLLOWS}/requests/accept"`, "g"))).toHaveLength(20);
    expect(Buffer.byteLength(first.text)).toBeLessThan(100_000);
    const next = /<a href="([^"]+)#requests">More follow requests<\/a>/.exec(first.text)?.[1]?.replace(/&amp;/g, "&");
    expect(next).toBeDefined();
    const second = await client.get(next!);
    expect(second.status).toBe(200);
    expect(second.text.match(new RegExp(`action="${FOLLOWS}/requests/accept"`, "g"))).toHaveLength(10);
    expect(second.text).toContain("Neighbour number 39 of the long street");
    expect(second.text).not.toContain("Neighbour number 10 of the long street");
    expect(second.text).not.toContain("More follow requests");
    expect(second.text).toContain("Back to the first page of each list");
  });
});
