/**
 * The real Mastodon client libraries against a real node: masto.js (8.x) and megalodon
 * (10.x), the libraries most Mastodon apps are built on, browse two pods anonymously —
 * the instance, a pod looked up as an account, its statuses paged through the Link header
 * (masto) and by max_id (megalodon), the pinned charter, one status and its context, the
 * public and tag timelines and search. megalodon's detector must take the node for a
 * Mastodon server from its NodeInfo alone.
 *
 * Every post is published through the services on an injected clock, so the expected order
 * is known; the checks read values (names, offer text, ids, order), not just "no error".
 */
import { createRestAPIClient, type mastodon } from "masto";
import generator, { detector, type Entity } from "megalodon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { createPod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "birch-lane";

let node: TestNode;
let deps: ServiceDeps;
const at = (iso: string): ServiceDeps => ({ ...deps, clock: { now: () => new Date(iso) } });

/** A status's text without markup, for "does the offer's text arrive" checks. */
const text = (html: string) => html.replace(/<[^>]*>/g, " ").replace(/&amp;/g, "&").replace(/\s+/g, " ").trim();

/** What pod A published, newest first: what each status's text must contain. */
const A_POSTS = ["Spades", "Jars", "Bread", "Drinking water", "Squash", "Oak Street charter"];

beforeAll(async () => {
  node = await startTestNode({ podSlug: A, podName: "Oak Street" });
  deps = node.deps;
  await publishCharterRevision(at("2027-04-01T09:00:00Z"), A, {
    title: "Oak Street charter",
    changeNote: "First charter",
    services: [{ name: "Tool library", description: "Borrow a tool, bring it back.", category: "repair", since: "2027-01-04" }],
  });
  await createPod(at("2027-04-01T10:00:00Z"), { slug: B, name: "Birch Lane" });
  await createProposal(at("2027-04-02T09:00:00Z"), A, "offer", { name: "Squash", quantity: "4", unit: "kilogram", category: "food" });
  await createProposal(at("2027-04-03T09:00:00Z"), A, "need", { name: "Drinking water", quantity: "200", unit: "litre", category: "water" });
  await createProposal(at("2027-04-03T12:00:00Z"), B, "need", { name: "Candles", quantity: "10", unit: "one", category: "energy" });
  await createProposal(at("2027-04-04T09:00:00Z"), A, "offer", { name: "Bread", quantity: "12", unit: "one", category: "food" });
  await createProposal(at("2027-04-05T09:00:00Z"), A, "need", { name: "Jars", quantity: "30", unit: "one", category: "food" });
  await createProposal(at("2027-04-06T09:00:00Z"), A, "offer", { name: "Spades", quantity: "3", unit: "one", category: "tools" });
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

/** Numeric string ids, strictly decreasing (newest first). */
function expectNewestFirst(ids: readonly string[]) {
  for (const id of ids) expect(id).toMatch(/^[1-9][0-9]{15,18}$/);
  for (let i = 1; i < ids.length; i++) expect(BigInt(ids[i - 1]!) > BigInt(ids[i]!)).toBe(true);
}

/** Each status's text contains the expected words, in order. */
function expectTexts(contents: readonly string[], expected: readonly string[]) {
  expect(contents).toHaveLength(expected.length);
  contents.forEach((html, i) => expect(text(html)).toContain(expected[i]));
}

describe("masto.js", () => {
  let masto: mastodon.rest.Client;
  let accountId = "";

  beforeAll(async () => {
    masto = createRestAPIClient({ url: node.origin });
    accountId = (await masto.v1.accounts.lookup({ acct: A })).id;
  });

  it("reads the instance, v1 and v2", async () => {
    const v1 = await masto.v1.instance.fetch();
    expect(v1.uri).toBe(node.host);
    expect(v1.title).toBe(`Hyphae on ${node.host}`);
    expect(v1.version).toMatch(/^4\.3\.0 \(compatible; Hyphae [0-9]/);
    expect(v1.stats).toEqual({ userCount: 2, statusCount: 7, domainCount: 0 });
    expect(v1.contactAccount?.acct).toBe(A);

    const v2 = await masto.v2.instance.fetch();
    expect(v2.domain).toBe(node.host);
    expect(v2.version).toBe(v1.version);
    expect(v2.usage.users.activeMonth).toBe(2);
    expect(v2.contact.account?.displayName).toBe("Oak Street");
    expect(v2.registrations.enabled).toBe(false);
  });

  it("looks a pod up by acct and reads it by id", async () => {
    const looked = await masto.v1.accounts.lookup({ acct: A });
    expect(looked).toMatchObject({ username: A, acct: A, displayName: "Oak Street", group: true, bot: false, statusesCount: 6 });
    expect(looked.id).toMatch(/^[0-9]+$/);
    expect(looked.url).toBe(deps.uris.profile(A).href);
    // The full address finds the same account; another pod is another account.
    expect((await masto.v1.accounts.lookup({ acct: `@${A}@${node.host}` })).id).toBe(looked.id);
    const other = await masto.v1.accounts.lookup({ acct: B });
    expect(other).toMatchObject({ username: B, displayName: "Birch Lane", statusesCount: 1 });
    expect(other.id).not.toBe(looked.id);

    const byId = await masto.v1.accounts.$select(looked.id).fetch();
    expect(byId).toMatchObject({ id: looked.id, acct: A, displayName: "Oak Street", statusesCount: 6 });
  });

  it("pages through a pod's statuses by the Link header, each once, newest first", async () => {
    const pages: mastodon.v1.Status[][] = [];
    for await (const page of masto.v1.accounts.$select(accountId).statuses.list({ limit: 2 })) pages.push(page);
    // Three full pages, then the empty page that has no next link.
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 0]);
    const statuses = pages.flat();
    const ids = statuses.map((s) => s.id);
    expect(new Set(ids).size).toBe(6);
    expectNewestFirst(ids);
    expectTexts(statuses.map((s) => s.content), A_POSTS);
    for (const s of statuses) expect(s).toMatchObject({ visibility: "public", account: { id: accountId, acct: A } });
  });

  it("pinned gives the charter", async () => {
    const pinned = await masto.v1.accounts.$select(accountId).statuses.list({ pinned: true });
    expect(pinned).toHaveLength(1);
    expect(pinned[0]!.url).toBe(`${node.origin}/pods/${A}/charter`);
    expect(text(pinned[0]!.content)).toContain("Tool library");
  });

  it("fetches one status and its (empty) context", async () => {
    const [newest] = await masto.v1.accounts.$select(accountId).statuses.list({ limit: 1 });
    const status = await masto.v1.statuses.$select(newest!.id).fetch();
    expect(status.id).toBe(newest!.id);
    expect(text(status.content)).toContain("Spades");
    expect(status.uri).toBe(`${node.origin}/pods/${A}/offers/5`); // numbers count offers and needs together
    expect(status.tags.map((t) => t.name)).toContain("offer");
    expect(status.account.displayName).toBe("Oak Street");
    expect(await masto.v1.statuses.$select(status.id).context.fetch()).toEqual({ ancestors: [], descendants: [] });
  });

  it("reads the public timeline and a tag's", async () => {
    const timeline = await masto.v1.timelines.public.list({ limit: 40 });
    expectNewestFirst(timeline.map((s) => s.id));
    expect(timeline.map((s) => s.account.acct)).toEqual([A, A, A, B, A, A, A]);
    expectTexts(timeline.map((s) => s.content), ["Spades", "Jars", "Bread", "Candles", "Drinking water", "Squash", "Oak Street charter"]);

    const mutualAid = await masto.v1.timelines.tag.$select("MutualAid").list({ limit: 40 });
    expect(mutualAid.map((s) => s.id)).toEqual(timeline.map((s) => s.id));
    const offers = await masto.v1.timelines.tag.$select("Offer").list();
    expectTexts(offers.map((s) => s.content), ["Spades", "Bread", "Squash"]);
  });

  it("searches pods, posts and hashtags", async () => {
    const found = await masto.v2.search.list({ q: "squash" });
    expect(found.accounts).toEqual([]);
    expectTexts(found.statuses.map((s) => s.content), ["Squash"]);
    const pods = await masto.v2.search.list({ q: "birch", type: "accounts" });
    expect(pods.accounts.map((a) => a.acct)).toEqual([B]);
    expect(pods.statuses).toEqual([]);
    const tags = await masto.v2.search.list({ q: "#mutual", type: "hashtags" });
    expect(tags.hashtags.map((t) => t.name)).toContain("mutualaid");
  });
});

describe("megalodon", () => {
  it("detects a Mastodon server", async () => {
    expect(await detector(node.origin)).toBe("mastodon");
  });

  it("browses the instance, a pod, its statuses by max_id, a status, the timeline and search", async () => {
    const client = generator("mastodon", node.origin);

    const instance = (await client.getInstance()).data;
    expect(instance.uri).toBe(node.host);
    expect(instance.title).toBe(`Hyphae on ${node.host}`);
    expect(instance.version).toMatch(/^4\.3\.0 /);
    expect(instance.stats.status_count).toBe(7);

    const account = (await client.lookupAccount(A)).data;
    expect(account).toMatchObject({ username: A, acct: A, display_name: "Oak Street", statuses_count: 6 });
    expect((await client.getAccount(account.id)).data.display_name).toBe("Oak Street");

    // Paging as apps do without the Link header: max_id = the last id seen.
    const seen: Entity.Status[] = [];
    let maxId: string | undefined;
    for (let page = 0; page < 10; page++) {
      const response = await client.getAccountStatuses(account.id, { limit: 2, ...(maxId && { max_id: maxId }) });
      if (response.data.length === 0) break;
      expect(response.data.length).toBeLessThanOrEqual(2);
      expect(String(response.headers.link)).toContain(`max_id=${response.data.at(-1)!.id}`);
      seen.push(...response.data);
      maxId = response.data.at(-1)!.id;
    }
    expect(new Set(seen.map((s) => s.id)).size).toBe(6);
    expectNewestFirst(seen.map((s) => s.id));
    expectTexts(seen.map((s) => s.content), A_POSTS);

    const squash = seen[4]!;
    const status = (await client.getStatus(squash.id)).data;
    expect(status).toMatchObject({ id: squash.id, uri: `${node.origin}/pods/${A}/offers/1`, visibility: "public" });
    expect(text(status.content)).toContain("Squash");
    expect(status.account.acct).toBe(A);

    const timeline = (await client.getPublicTimeline({ limit: 3 })).data;
    expectTexts(timeline.map((s) => s.content), ["Spades", "Jars", "Bread"]);

    const found = (await client.search("candles", { type: "statuses" })).data;
    expectTexts(found.statuses.map((s) => s.content), ["Candles"]);
    expect(found.statuses[0]!.account.acct).toBe(B);
    const pods = (await client.search("oak", { type: "accounts" })).data;
    expect(pods.accounts.map((a) => a.display_name)).toEqual(["Oak Street"]);
  });
});
