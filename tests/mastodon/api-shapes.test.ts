/**
 * The Mastodon client API's answers on a real node over real HTTP: every endpoint's status
 * and JSON, every field of Account, Status, Instance v1/v2 and Tag with its type (the lists
 * in mastodon-interop.md §14), what the fields say for a pod and its posts, NodeInfo for
 * megalodon's detector, and no member name, contact or private memo in any answer.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SOFTWARE_VERSION } from "../../src/lib/version.ts";
import {
  A,
  ACCOUNT,
  ALL_POSTS,
  B,
  ELM_ICON,
  expectShape,
  idsOf,
  INSTANCE_V1,
  INSTANCE_V2,
  INSTANCE_V2_CONFIGURATION,
  MEMBER,
  OAK_POSTS,
  SECRETS,
  startApiNode,
  STATUS,
  STATUS_LIMITS,
  STATUS_USER_FLAGS,
  TAG,
  type ApiNode,
} from "./api-fixture.ts";

let api: ApiNode;
let origin = "";

beforeAll(async () => {
  api = await startApiNode();
  origin = api.node.origin;
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

/** A 200 JSON answer; its body. */
async function ok(path: string): Promise<any> {
  const r = await api.get(path);
  expect({ path, status: r.status, json: /^application\/json;.*charset=utf-8/.test(r.headers.get("content-type") ?? "") }).toEqual({ path, status: 200, json: true });
  return r.body;
}

function expectStatus(status: any, what: string) {
  expectShape(status, STATUS, what);
  expectShape(status.account, ACCOUNT, `${what}.account`);
  for (const tag of status.tags) expectShape(tag, TAG, `${what}.tags[]`);
  expect(status.quote_approval).toEqual({ automatic: [], manual: [], current_user: "unknown" });
  expect(STATUS_USER_FLAGS.filter((flag) => flag in status)).toEqual([]);
}

describe("instance", () => {
  it("v2 has every field, a Mastodon-like version and closed registrations", async () => {
    const v2 = await ok("/api/v2/instance");
    expectShape(v2, INSTANCE_V2, "instance v2");
    expectShape(v2.configuration, INSTANCE_V2_CONFIGURATION, "instance v2 configuration");
    expectShape(v2.configuration.statuses, STATUS_LIMITS, "configuration.statuses");
    expect(v2.version).toBe(`4.3.0 (compatible; Hyphae ${SOFTWARE_VERSION})`);
    expect(v2).toMatchObject({
      domain: api.node.host,
      title: `Hyphae on ${api.node.host}`,
      usage: { users: { active_month: 2 } },
      thumbnail: { url: expect.stringMatching(/^http/) },
      registrations: { enabled: false, approval_required: false, message: null },
      api_versions: { mastodon: expect.any(Number) },
      rules: [],
      configuration: { translation: { enabled: false }, media_attachments: { supported_mime_types: [] }, vapid: { public_key: expect.any(String) } },
    });
    expect(v2.configuration.statuses.max_characters).toBeGreaterThan(0);
    expect(v2.configuration.urls).toHaveProperty("streaming");
    expectShape(v2.contact, { email: "string", account: "object" }, "contact");
    expect(v2.contact.account.acct).toBe(A);
  });

  it("v1 has every field, the same version, and counts the pods and their posts", async () => {
    const v1 = await ok("/api/v1/instance");
    expectShape(v1, INSTANCE_V1, "instance v1");
    expectShape(v1.stats, { user_count: "number", status_count: "number", domain_count: "number" }, "stats");
    expectShape(v1.configuration.statuses, STATUS_LIMITS, "configuration.statuses");
    expect(v1).toMatchObject({
      uri: api.node.host,
      version: `4.3.0 (compatible; Hyphae ${SOFTWARE_VERSION})`,
      stats: { user_count: 2, status_count: ALL_POSTS },
      registrations: false,
      urls: { streaming_api: null },
      rules: [],
    });
    expectShape(v1.contact_account, ACCOUNT, "contact_account");
  });

  it("the start-up endpoints answer empty lists or empty objects in Mastodon's shapes", async () => {
    for (const path of [
      "/api/v1/instance/peers",
      "/api/v1/instance/rules",
      "/api/v1/instance/activity",
      "/api/v1/custom_emojis",
      "/api/v1/trends",
      "/api/v1/trends/tags",
      "/api/v1/trends/statuses",
      "/api/v1/trends/links",
    ]) {
      expect({ path, body: await ok(path) }).toEqual({ path, body: [] });
    }
    expect(await ok("/api/v1/instance/extended_description")).toEqual({ updated_at: null, content: "" });
  });
});

describe("accounts", () => {
  it("a pod is a group account with every field, a local acct and its counts", async () => {
    const oak = await ok(`/api/v1/accounts/lookup?acct=${A}`);
    expectShape(oak, ACCOUNT, "account");
    expect(oak).toMatchObject({
      username: A,
      acct: A,
      display_name: "Oak Street",
      group: true,
      bot: false,
      locked: false,
      discoverable: true,
      indexable: true,
      noindex: false,
      // The default network visibility of a pod is hidden.
      hide_collections: true,
      url: `${origin}/@${A}`,
      uri: `${origin}/pods/${A}`,
      statuses_count: OAK_POSTS,
      followers_count: 0,
      following_count: 0,
      // The books summary, published on 5 April, is its latest status.
      last_status_at: "2027-04-05",
      emojis: [],
      fields: [],
      roles: [],
      moved: null,
      suspended: false,
      limited: false,
      note: "",
    });
    expect(oak.id).toMatch(/^[1-9][0-9]{5,18}$/);
    // Mastodon rounds created_at down to the day.
    expect(oak.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);
    expect(oak.avatar).toBe(`${origin}/avatars/original/missing.png`);
    expect(oak.header).toBe(`${origin}/headers/original/missing.png`);
    expect(oak.avatar_static).toBe(oak.avatar);
    expect(oak.header_static).toBe(oak.header);
  });

  it("a pod's profile shows through: icon, approval of followers, public network, summary as escaped paragraphs", async () => {
    const elm = await ok(`/api/v1/accounts/lookup?acct=@${B}@${api.node.host}`);
    expect(elm).toMatchObject({
      acct: B,
      display_name: "Elm Row",
      avatar: ELM_ICON,
      avatar_static: ELM_ICON,
      locked: true,
      hide_collections: false,
      created_at: "2027-04-03T00:00:00.000Z",
      note: "<p>Tools &amp; seeds.</p><p>&lt;b&gt;Spades&lt;/b&gt; on Saturdays.</p>",
      statuses_count: 1,
      last_status_at: "2027-04-03",
    });
  });

  it("serves the default avatar and header as small PNGs that may be cached", async () => {
    for (const path of ["/avatars/original/missing.png", "/headers/original/missing.png"]) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      expect(response.headers.get("cache-control")).toMatch(/public, max-age=\d+/);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(bytes.length).toBeLessThan(200);
    }
  });

  it("an account by id, its lists, the directory and account search give the same entity", async () => {
    const oak = await ok(`/api/v1/accounts/${api.oak.id}`);
    expect(oak).toEqual(api.oak);
    for (const list of ["featured_tags", "followers", "following"]) {
      const r = await api.get(`/api/v1/accounts/${api.oak.id}/${list}`);
      expect({ list, status: r.status, body: r.body, link: r.headers.get("link") }).toEqual({ list, status: 200, body: [], link: null });
    }
    const directory = await ok("/api/v1/directory?local=true");
    for (const account of directory) expectShape(account, ACCOUNT, "directory[]");
    expect(directory.map((a: any) => a.acct)).toEqual([A, B]);
    expect(directory[0]).toEqual(api.oak);
    expect((await ok("/api/v1/directory?limit=1&offset=1")).map((a: any) => a.acct)).toEqual([B]);
    const found = await ok("/api/v1/accounts/search?q=elm");
    expect(found).toEqual([api.elm]);
  });
});

describe("statuses", () => {
  it("a pod's posts are public statuses with every field, their content the federated Note's", async () => {
    const statuses = await ok(`/api/v1/accounts/${api.oak.id}/statuses?limit=40`);
    expect(statuses).toHaveLength(OAK_POSTS);
    statuses.forEach((s: any, i: number) => expectStatus(s, `statuses[${i}]`));
    for (const status of statuses) {
      expect(status).toMatchObject({ visibility: "public", sensitive: false, spoiler_text: "", replies_count: 0, reblogs_count: 0, favourites_count: 0 });
      expect(status.account).toEqual(api.oak);
      expect(status.id).toMatch(/^[1-9][0-9]{5,18}$/);
      // The Note a Mastodon server would fetch says the same.
      const note = (await (await fetch(status.uri, { headers: { accept: "application/activity+json" } })).json()) as any;
      expect({ uri: status.uri, content: status.content, created_at: status.created_at }).toEqual({ uri: note.id, content: note.content, created_at: note.published });
      expect(status.url).toBe(note.url);
    }
    const kinds = statuses.map((s: any) => new URL(s.uri).pathname.split("/")[3]);
    expect(kinds).toEqual(["books", "offers", "needs", "offers", "needs", "offers", "needs", "offers", "charter"]);
  });

  it("tags are lowercase with a URL on this node; only the re-published summary is edited", async () => {
    const statuses = await ok(`/api/v1/accounts/${api.oak.id}/statuses?limit=40`);
    const [summary, , need] = statuses;
    expect(summary.edited_at).toBe("2027-04-06T10:00:01.000Z");
    expect(summary.created_at).toBe("2027-04-05T10:00:00.000Z");
    expect(statuses.slice(1).map((s: any) => s.edited_at)).toEqual(statuses.slice(1).map(() => null));
    for (const status of statuses) {
      expect(status.tags.length).toBeGreaterThan(0);
      for (const tag of status.tags) {
        expect(tag.name).toBe(tag.name.toLowerCase());
        expect(tag.url).toBe(`${origin}/tags/${tag.name}`);
      }
    }
    expect(need.tags.map((t: any) => t.name)).toEqual(expect.arrayContaining(["mutualaid", "need"]));
    expect(summary.tags.map((t: any) => t.name)).toEqual(expect.arrayContaining(["openbooks"]));
  });

  it("one status, several in the order asked, its context, and who boosted or liked it", async () => {
    const statuses = await ok(`/api/v1/accounts/${api.oak.id}/statuses?limit=3`);
    expect(await ok(`/api/v1/statuses/${statuses[1].id}`)).toEqual(statuses[1]);
    expect(await ok(`/api/v1/statuses/${statuses[1].id}/context`)).toEqual({ ancestors: [], descendants: [] });
    for (const list of ["reblogged_by", "favourited_by"]) expect(await ok(`/api/v1/statuses/${statuses[1].id}/${list}`)).toEqual([]);
    const batch = await ok(`/api/v1/statuses?id[]=${statuses[2].id}&id[]=99999999&id[]=${statuses[0].id}`);
    expect(batch).toEqual([statuses[2], statuses[0]]);
    expect(idsOf(await ok(`/api/v1/statuses?id=${statuses[1].id}`))).toEqual([statuses[1].id]);
    expect(await ok("/api/v1/statuses")).toEqual([]);
  });

  it("the public and tag timelines hold every pod's statuses in the same shape", async () => {
    const pub = await ok("/api/v1/timelines/public?local=true&limit=40");
    expect(pub).toHaveLength(ALL_POSTS);
    pub.forEach((s: any, i: number) => expectStatus(s, `public[${i}]`));
    expect(pub.map((s: any) => s.account.acct).slice(0, 3)).toEqual([A, B, A]);
    expect(pub[1].account).toEqual(api.elm);
    const tools = await ok("/api/v1/timelines/tag/Offer?limit=40");
    expect(tools.map((s: any) => s.account.acct)).toEqual([B, A, A, A, A]);
    tools.forEach((s: any, i: number) => expectStatus(s, `tag[${i}]`));
  });
});

describe("search", () => {
  it("v2 search answers accounts, statuses and hashtags from this node, each in its shape", async () => {
    const found = await ok("/api/v2/search?q=spades");
    expect(Object.keys(found).sort()).toEqual(["accounts", "hashtags", "statuses"]);
    expect(found.statuses.map((s: any) => s.account.acct)).toEqual([B]);
    expectStatus(found.statuses[0], "search status");
    const pods = await ok(`/api/v2/search?q=@${A}@${api.node.host}&type=accounts`);
    expect(pods).toEqual({ accounts: [api.oak], statuses: [], hashtags: [] });
    const tags = await ok("/api/v2/search?q=%23mutual&type=hashtags");
    expect(tags.hashtags).toEqual([expect.objectContaining({ name: "mutualaid", url: `${origin}/tags/mutualaid`, history: [] })]);
    expectShape(tags.hashtags[0], TAG, "hashtag");
    expect(await ok("/api/v2/search?q=@someone@elsewhere.example&type=accounts")).toEqual({ accounts: [], statuses: [], hashtags: [] });
  });
});

describe("NodeInfo", () => {
  it("says upstream mastodon for megalodon's detector and counts the public posts", async () => {
    const links = await ok("/.well-known/nodeinfo");
    expect(links.links.map((l: any) => l.rel)).toContain("http://nodeinfo.diaspora.software/ns/schema/2.0");
    for (const version of ["2.0", "2.1"]) {
      const info = await ok(`/nodeinfo/${version}`);
      expect(info.metadata.upstream).toEqual({ name: "mastodon", version: "4.3.0" });
      expect(info.usage).toMatchObject({ users: { total: 2 }, localPosts: ALL_POSTS });
    }
  });
});

describe("privacy", () => {
  it("no member name, contact or private memo in any answer", async () => {
    // Search for the member by name, read every status once more, then scan every body this file read.
    expect(await ok(`/api/v2/search?q=${encodeURIComponent(MEMBER)}`)).toEqual({ accounts: [], statuses: [], hashtags: [] });
    expect(await ok("/api/v2/search?q=rent")).toMatchObject({ statuses: [] });
    await ok("/api/v1/timelines/public?limit=40");
    expect(api.seen.length).toBeGreaterThan(40);
    const leaks = api.seen.flatMap((body, i) => SECRETS.filter((secret) => body.includes(secret)).map((secret) => `answer ${i}: ${secret}`));
    expect(leaks).toEqual([]);
  });
});
