/**
 * The Mastodon client API over real HTTP on a real node: every endpoint's status, JSON and
 * entity fields (the lists in mastodon-interop.md §14), Mastodon paging with Link headers,
 * limits clamped, Mastodon's error bodies (401/404/422, never HTML, never a 500), CORS with
 * preflight, Host headers that cannot change ids, the steward API left as it was, and no
 * member name, contact or private memo in any answer.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMember, addResource } from "../../src/services/books.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const MEMBER = "Quentin Marrowby";
const CONTACT = "quentin.m@example.org";
const MEMO = "SECRET-MEMO about Quentin's rent";

/** Fields Mastodon always sends (app/serializers/rest/*, masto.js and megalodon types). */
const ACCOUNT_FIELDS = [
  "id", "username", "acct", "display_name", "locked", "bot", "discoverable", "indexable", "group", "created_at", "note", "url", "uri",
  "avatar", "avatar_static", "header", "header_static", "followers_count", "following_count", "statuses_count", "last_status_at",
  "emojis", "fields", "roles", "hide_collections", "noindex", "moved", "suspended", "limited",
];
const STATUS_FIELDS = [
  "id", "uri", "url", "created_at", "edited_at", "account", "content", "visibility", "sensitive", "spoiler_text", "language",
  "in_reply_to_id", "in_reply_to_account_id", "reblog", "media_attachments", "mentions", "tags", "emojis", "replies_count",
  "reblogs_count", "favourites_count", "quotes_count", "card", "poll", "application", "quote", "quote_approval",
];
const INSTANCE_V2_FIELDS = [
  "domain", "title", "version", "source_url", "description", "usage", "thumbnail", "icon", "languages", "configuration", "registrations",
  "api_versions", "contact", "rules",
];
const INSTANCE_V1_FIELDS = [
  "uri", "title", "short_description", "description", "email", "version", "urls", "stats", "thumbnail", "languages", "registrations",
  "approval_required", "invites_enabled", "configuration", "contact_account", "rules",
];

let node: TestNode;
let deps: ServiceDeps;
let account: any;
/** Every body the tests read, for the privacy scan at the end. */
const seen: string[] = [];

const at = (iso: string): ServiceDeps => ({ ...deps, clock: { now: () => new Date(iso) } });

async function get(path: string, init: RequestInit = {}) {
  const response = await fetch(`${node.origin}${path}`, init);
  const text = await response.text();
  seen.push(text);
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { notJson: text.slice(0, 80) };
  }
  return { status: response.status, headers: response.headers, body, text };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: A, podName: "Oak Street" });
  deps = node.deps;
  await addResource(at("2027-04-01T08:00:00Z"), A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  const member = await addMember(at("2027-04-01T08:00:00Z"), A, { name: MEMBER, contact: CONTACT });
  await recordEntry(at("2027-04-01T08:30:00Z"), A, { kind: "contribution", resource: "squash", quantity: "40", counterpartyLabel: "allotment" });
  await recordEntry(at("2027-04-01T08:40:00Z"), A, { kind: "draw", resource: "squash", quantity: "2", fund: "survival", member: member.pseudonym, privateMemo: MEMO });
  await publishCharterRevision(at("2027-04-01T09:00:00Z"), A, {
    title: "Oak Street charter",
    changeNote: "First charter",
    services: [{ name: "Squash share", description: "Squash from the allotments every week.", category: "food", since: "2026-01-04" }],
  });
  // Seven offers and needs an hour apart: four pages of two after the charter.
  for (let i = 0; i < 7; i++) {
    const when = at(`2027-04-02T${String(10 + i).padStart(2, "0")}:00:00Z`);
    if (i % 2 === 0) await createProposal(when, A, "offer", { resource: "squash", name: `Squash lot ${i}`, quantity: "4" });
    else await createProposal(when, A, "need", { name: `Jars batch ${i}`, quantity: "10", unit: "one", category: "food" });
  }
  await createPod(at("2027-04-03T00:00:00Z"), { slug: "elm-row", name: "Elm Row", summary: "Tools & seeds." });
  await createProposal(at("2027-04-03T10:00:00Z"), "elm-row", "offer", { name: "Spades", quantity: "3", unit: "one", category: "tools" });
  account = (await get(`/api/v1/accounts/lookup?acct=${A}`)).body;
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

const idsOf = (statuses: any[]) => statuses.map((s) => s.id as string);
const asBig = (id: string) => BigInt(id);

describe("entities", () => {
  it("the instance, v1 and v2, with a Mastodon-like version and every field", async () => {
    const v2 = await get("/api/v2/instance");
    expect(v2.status).toBe(200);
    expect(v2.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(v2.body)).toEqual(expect.arrayContaining(INSTANCE_V2_FIELDS));
    expect(v2.body.version).toMatch(/^4\.3\.0 \(compatible; Hyphae \d+\.\d+\.\d+\)$/);
    expect(v2.body.domain).toBe(node.host);
    expect(v2.body.registrations.enabled).toBe(false);
    expect(v2.body.configuration.statuses.max_characters).toBeGreaterThan(0);
    expect(v2.body.contact.account.username).toBe(A);
    const v1 = await get("/api/v1/instance");
    expect(Object.keys(v1.body)).toEqual(expect.arrayContaining(INSTANCE_V1_FIELDS));
    expect(v1.body).toMatchObject({ uri: node.host, version: v2.body.version, stats: { user_count: 2, status_count: 9 } });
  });

  it("a pod is a group account: every field, local acct, counts and dates", async () => {
    expect(Object.keys(account)).toEqual(expect.arrayContaining(ACCOUNT_FIELDS));
    expect(account).toMatchObject({
      username: A,
      acct: A,
      display_name: "Oak Street",
      group: true,
      bot: false,
      locked: false,
      url: `${node.origin}/@${A}`,
      uri: `${node.origin}/pods/${A}`,
      statuses_count: 8,
      last_status_at: "2027-04-02",
      emojis: [],
      fields: [],
    });
    expect(account.id).toMatch(/^[1-9][0-9]{5,18}$/);
    expect(account.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);
    for (const image of [account.avatar, account.header]) {
      const response = await fetch(image);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(Buffer.from(await response.arrayBuffer()).subarray(1, 4).toString("ascii")).toBe("PNG");
    }
    expect((await get(`/api/v1/accounts/${account.id}`)).body).toEqual(account);
    const elm = await get("/api/v1/accounts/lookup?acct=@elm-row@" + node.host);
    expect(elm.body).toMatchObject({ acct: "elm-row", note: "<p>Tools &amp; seeds.</p>", statuses_count: 1 });
  });

  it("posts are public statuses with every field, their content the federated Note's", async () => {
    const { body: statuses } = await get(`/api/v1/accounts/${account.id}/statuses?limit=40`);
    expect(statuses).toHaveLength(8);
    for (const status of statuses) {
      expect(Object.keys(status)).toEqual(expect.arrayContaining(STATUS_FIELDS));
      expect(status).toMatchObject({ visibility: "public", sensitive: false, spoiler_text: "", reblog: null, media_attachments: [], mentions: [], poll: null, card: null });
      expect(status.account.id).toBe(account.id);
      expect(status.id).toMatch(/^[1-9][0-9]{5,18}$/);
    }
    const offer = statuses.find((s: any) => s.uri.endsWith("/offers/7"));
    expect(offer.content).toContain("Squash lot 6");
    expect(offer.tags).toEqual(expect.arrayContaining([{ name: "mutualaid", url: expect.stringMatching(/\/tags\/mutualaid$/) }, expect.objectContaining({ name: "offer" })]));
    const note = await (await fetch(offer.uri, { headers: { accept: "application/activity+json" } })).json();
    expect(offer.content).toBe(note.content);
    expect(offer.created_at).toBe(note.published);
    // Newest first, ids growing with time.
    const times = statuses.map((s: any) => Date.parse(s.created_at));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(idsOf(statuses).map(asBig)).toEqual(idsOf(statuses).map(asBig).sort((x, y) => (x > y ? -1 : x < y ? 1 : 0)));
  });

  it("one status, several, and an empty context", async () => {
    const { body: statuses } = await get(`/api/v1/accounts/${account.id}/statuses?limit=3`);
    const one = await get(`/api/v1/statuses/${statuses[1].id}`);
    expect(one.body).toEqual(statuses[1]);
    expect((await get(`/api/v1/statuses/${statuses[1].id}/context`)).body).toEqual({ ancestors: [], descendants: [] });
    const batch = await get(`/api/v1/statuses?id[]=${statuses[2].id}&id[]=99999999&id[]=${statuses[0].id}`);
    expect(idsOf(batch.body)).toEqual([statuses[2].id, statuses[0].id]);
  });
});

describe("paging", () => {
  it("pages through a pod's statuses by following the Link header, each once, newest first", async () => {
    const collected: string[] = [];
    let next: string | null = `${node.origin}/api/v1/accounts/${account.id}/statuses?limit=2`;
    let pages = 0;
    while (next) {
      const response: Response = await fetch(next);
      const page = (await response.json()) as any[];
      if (page.length === 0) break;
      pages += 1;
      collected.push(...idsOf(page));
      const link: string = response.headers.get("link") ?? "";
      expect(link).toMatch(/rel="prev"/);
      next = /<([^>]+)>; rel="next"/.exec(link)?.[1] ?? null;
      // Links are built on the node's own origin and keep the other parameters.
      expect(next?.startsWith(`${node.origin}/api/v1/accounts/${account.id}/statuses?limit=2&max_id=`)).toBe(true);
    }
    expect(pages).toBe(4);
    const all = idsOf((await get(`/api/v1/accounts/${account.id}/statuses?limit=40`)).body);
    expect(collected).toEqual(all);
  });

  it("since_id, min_id and max_id as Mastodon reads them; prev goes back to newer posts", async () => {
    const all = idsOf((await get(`/api/v1/accounts/${account.id}/statuses?limit=40`)).body);
    const base = `/api/v1/accounts/${account.id}/statuses`;
    expect(idsOf((await get(`${base}?max_id=${all[2]}&limit=2`)).body)).toEqual([all[3], all[4]]);
    expect(idsOf((await get(`${base}?since_id=${all[5]}&limit=2`)).body)).toEqual([all[0], all[1]]);
    expect(idsOf((await get(`${base}?min_id=${all[5]}&limit=2`)).body)).toEqual([all[3], all[4]]);
    // The page after all[3] is all[4], all[5]; its prev link gives the two just newer than all[4].
    const page = await get(`${base}?max_id=${all[3]}&limit=2`);
    expect(idsOf(page.body)).toEqual([all[4], all[5]]);
    const prev = /<([^>]+)>; rel="prev"/.exec(page.headers.get("link") ?? "")![1]!;
    expect(idsOf((await (await fetch(prev)).json()) as any[])).toEqual([all[2], all[3]]);
    const empty = await get(`${base}?max_id=${all[all.length - 1]}`);
    expect(empty.body).toEqual([]);
    expect(empty.headers.get("link")).toBeNull();
  });

  it("pinned gives the charter; only_media nothing; a limit above the maximum is clamped", async () => {
    const pinned = await get(`/api/v1/accounts/${account.id}/statuses?pinned=true`);
    expect(pinned.body).toHaveLength(1);
    expect(pinned.body[0].uri).toBe(`${node.origin}/pods/${A}/charter`);
    expect((await get(`/api/v1/accounts/${account.id}/statuses?only_media=true`)).body).toEqual([]);
    expect((await get(`/api/v1/accounts/${account.id}/statuses?exclude_replies=true&exclude_reblogs=1`)).body).toHaveLength(8);
    const many = await get(`/api/v1/accounts/${account.id}/statuses?limit=1000`);
    expect(many.status).toBe(200);
    expect(many.body).toHaveLength(8);
    expect((await get(`/api/v1/accounts/${account.id}/statuses?limit=0`)).body).toHaveLength(1);
  });

  it("the public timeline holds every pod's posts; the tag timeline a hashtag's", async () => {
    const pub = await get("/api/v1/timelines/public?local=true&limit=40");
    expect(pub.body).toHaveLength(9);
    expect(pub.body[0].account.username).toBe("elm-row");
    expect(pub.headers.get("link")).toContain(`${node.origin}/api/v1/timelines/public?local=true&limit=40&max_id=`);
    expect((await get("/api/v1/timelines/public?remote=true")).body).toEqual([]);
    const needs = await get("/api/v1/timelines/tag/Need?limit=40");
    expect(needs.body.map((s: any) => s.uri)).toEqual([6, 4, 2].map((n) => `${node.origin}/pods/${A}/needs/${n}`));
    expect((await get("/api/v1/timelines/tag/nosuchtag")).body).toEqual([]);
  });
});

describe("search and start-up endpoints", () => {
  it("v2 search finds pods, posts and hashtags on this node only", async () => {
    const found = await get("/api/v2/search?q=spades");
    expect(found.body.statuses.map((s: any) => s.account.acct)).toEqual(["elm-row"]);
    expect((await get(`/api/v2/search?q=@${A}@${node.host}&type=accounts`)).body).toMatchObject({ accounts: [{ acct: A }], statuses: [], hashtags: [] });
    expect((await get("/api/v2/search?q=%23mutual&type=hashtags")).body.hashtags).toEqual([expect.objectContaining({ name: "mutualaid" })]);
    expect((await get("/api/v2/search?q=@someone@elsewhere.example&type=accounts")).body.accounts).toEqual([]);
    const resolve = await get("/api/v2/search?q=@someone@elsewhere.example&resolve=true");
    expect(resolve.status).toBe(401);
    expect(resolve.body.error).toMatch(/authentication/);
  });

  it("answers the calls clients make at start-up with empty lists", async () => {
    for (const path of ["/api/v1/custom_emojis", "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links", "/api/v1/instance/peers", "/api/v1/instance/rules", `/api/v1/accounts/${account.id}/featured_tags`]) {
      const r = await get(path);
      expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 200, body: [] });
    }
    expect((await get("/api/v1/directory?limit=1&offset=1")).body.map((a: any) => a.acct)).toEqual(["elm-row"]);
  });
});

describe("bad input and what needs a user", () => {
  it("unknown or non-numeric ids are 404 Record not found", async () => {
    for (const path of ["/api/v1/statuses/abc", "/api/v1/statuses/123", "/api/v1/statuses/1e5/context", `/api/v1/accounts/${account.id}0`, "/api/v1/accounts/-1/statuses", "/api/v1/accounts/lookup?acct=nobody", `/api/v1/accounts/lookup?acct=${A}@elsewhere.example`, "/api/v1/no/such/path", "/api/v2/nothing"]) {
      const r = await get(path);
      expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 404, body: { error: "Record not found" } });
    }
  });

  it("unreadable parameters are 422 naming the parameter", async () => {
    for (const [path, word] of [
      [`/api/v1/accounts/${account.id}/statuses?limit=ten`, "limit"],
      [`/api/v1/accounts/${account.id}/statuses?max_id=12x`, "max_id"],
      [`/api/v1/accounts/${account.id}/statuses?pinned=maybe`, "pinned"],
      ["/api/v1/timelines/public?min_id=-4", "min_id"],
      ["/api/v1/timelines/public?limit=1&limit=2", "limit"],
      ["/api/v2/search?q=x&type=people", "type"],
      ["/api/v1/accounts/lookup", "acct"],
    ] as const) {
      const r = await get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 422 });
      expect(r.body.error).toContain(word);
    }
  });

  it("what needs a signed-in user is 401 with Mastodon's body, reads and writes alike", async () => {
    for (const [method, path] of [
      ["GET", "/api/v1/timelines/home"],
      ["GET", "/api/v1/accounts/verify_credentials"],
      ["GET", "/api/v1/notifications"],
      ["GET", "/api/v1/preferences"],
      ["GET", "/api/v1/lists"],
      ["POST", "/api/v1/statuses"],
      ["POST", `/api/v1/accounts/${account.id}/follow`],
      ["DELETE", "/api/v1/statuses/123"],
    ] as const) {
      const r = await get(path, { method, ...(method !== "GET" && { headers: { "content-type": "application/json" }, body: "{}" }) });
      expect({ method, path, status: r.status, body: r.body }).toEqual({ method, path, status: 401, body: { error: "The access token is invalid" } });
    }
  });

  it("never answers HTML, and the steward API keeps its own errors", async () => {
    const html = await get("/api/v1/statuses/abc", { headers: { accept: "text/html" } });
    expect(html.headers.get("content-type")).toMatch(/^application\/json/);
    const steward = await get(`/api/hyphae/v1/pods/${A}/offers`);
    expect(steward.status).toBe(401);
    expect(steward.body.error).not.toBe("The access token is invalid");
  });

  it("a forged Host header changes no id or link", async () => {
    const { port } = new URL(node.origin);
    const forged = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port, path: `/api/v1/accounts/${account.id}/statuses?limit=1`, headers: { host: "evil.example" } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      request.on("error", reject);
      request.end();
    });
    expect(forged.body).not.toContain("evil.example");
    const trusted = await get(`/api/v1/accounts/${account.id}/statuses?limit=1`, { headers: { "x-forwarded-host": "evil.example" } });
    expect(trusted.text).not.toContain("evil.example");
    expect(trusted.headers.get("link") ?? "").not.toContain("evil.example");
  });
});

describe("CORS", () => {
  it("a preflight from another origin is answered before anything else, with what the browser asked", async () => {
    const r = await fetch(`${node.origin}/api/v1/timelines/public`, {
      method: "OPTIONS",
      headers: { origin: "https://elk.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization, x-requested-with" },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-methods")).toContain("GET");
    expect(r.headers.get("access-control-allow-headers")).toBe("authorization, x-requested-with");
    for (const path of ["/.well-known/webfinger?resource=acct:x@y", "/nodeinfo/2.0", "/oauth/token", "/api/hyphae/v1/pods"]) {
      const pre = await fetch(`${node.origin}${path}`, { method: "OPTIONS", headers: { origin: "https://elk.example", "access-control-request-method": "GET" } });
      expect({ path, status: pre.status, allow: pre.headers.get("access-control-allow-origin") }).toEqual({ path, status: 204, allow: "*" });
    }
  });

  it("answers on the CORS paths say any origin may read them and expose Link; pages do not", async () => {
    const api = await fetch(`${node.origin}/api/v1/timelines/public?limit=1`, { headers: { origin: "https://elk.example" } });
    expect(api.headers.get("access-control-allow-origin")).toBe("*");
    expect(api.headers.get("access-control-expose-headers")).toContain("Link");
    const errors = await fetch(`${node.origin}/api/v1/statuses/abc`, { headers: { origin: "https://elk.example" } });
    expect(errors.headers.get("access-control-allow-origin")).toBe("*");
    const page = await fetch(`${node.origin}/pods/${A}`, { headers: { origin: "https://elk.example", accept: "text/html" } });
    expect(page.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${node.origin}/pods/${A}`, { method: "OPTIONS", headers: { origin: "https://elk.example", "access-control-request-method": "GET" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("NodeInfo tells megalodon this is Mastodon-compatible and counts the posts", async () => {
    const info = await get("/nodeinfo/2.0");
    expect(info.body.metadata.upstream).toEqual({ name: "mastodon", version: "4.3.0" });
    expect(info.body.usage.localPosts).toBe(9);
  });
});

describe("privacy", () => {
  it("no member name, contact or private memo in anything the API answered", async () => {
    // Read every status once more, then scan all the bodies seen in this file.
    await get("/api/v1/timelines/public?limit=40");
    await get(`/api/v2/search?q=${encodeURIComponent(MEMBER)}`);
    expect(seen.length).toBeGreaterThan(40);
    for (const body of seen) {
      for (const secret of [MEMBER, "Quentin", CONTACT, MEMO, "SECRET-MEMO"]) expect(body).not.toContain(secret);
    }
  });
});
