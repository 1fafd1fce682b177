/**
 * What the Mastodon client API refuses, and how: Mastodon's bodies and statuses for an
 * anonymous client (401 "The access token is invalid" for what needs a user, 404 "Record
 * not found" for unknown paths and ids, 422 naming a parameter it cannot read), always
 * JSON, never a 500; the steward API keeps its own errors; a forged Host changes nothing.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { A, startApiNode, type ApiNode } from "./api-fixture.ts";

let api: ApiNode;

beforeAll(async () => {
  api = await startApiNode();
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

const NOT_FOUND = { error: "Record not found" };
const NO_TOKEN = { error: "The access token is invalid" };

describe("404 Record not found", () => {
  it("for unknown or non-numeric ids, other hosts' accounts and unknown paths", async () => {
    const oak = api.oak.id as string;
    for (const path of [
      "/api/v1/statuses/abc",
      "/api/v1/statuses/123",
      "/api/v1/statuses/0",
      "/api/v1/statuses/1e5/context",
      "/api/v1/statuses/123/reblogged_by",
      `/api/v1/statuses/${"9".repeat(25)}`,
      "/api/v1/statuses/9223372036854775808",
      `/api/v1/accounts/${oak}0`,
      "/api/v1/accounts/-1/statuses",
      "/api/v1/accounts/12ab/featured_tags",
      "/api/v1/accounts/9223372036854775808",
      "/api/v1/accounts/lookup?acct=nobody",
      `/api/v1/accounts/lookup?acct=${A}@elsewhere.example`,
      `/api/v1/accounts/lookup?acct=@${A}@elsewhere.example`,
      "/api/v1/accounts/lookup?acct=a@b@c",
      "/api/v1/accounts/lookup?acct=%E0%A4%A",
      "/api/v1/polls/1",
      "/api/v1/no/such/path",
      "/api/v1",
      "/api/v2/nothing",
      "/api/v2",
    ]) {
      const r = await api.get(path);
      expect({ path, status: r.status, body: r.body, type: r.headers.get("content-type") }).toEqual({
        path,
        status: 404,
        body: NOT_FOUND,
        type: "application/json; charset=utf-8",
      });
    }
  });
});

describe("401 for what needs a signed-in user", () => {
  it("signed-in reads", async () => {
    for (const path of [
      "/api/v1/timelines/home",
      "/api/v1/timelines/list/1",
      "/api/v1/notifications",
      "/api/v1/notifications/1",
      "/api/v1/accounts/verify_credentials",
      "/api/v1/accounts/relationships?id[]=1",
      "/api/v1/lists",
      "/api/v1/preferences",
      "/api/v1/markers?timeline[]=home",
      "/api/v1/filters",
      "/api/v2/filters",
      "/api/v1/announcements",
      "/api/v1/follow_requests",
      "/api/v1/bookmarks",
      "/api/v1/favourites",
      "/api/v1/conversations",
      "/api/v1/mutes",
      "/api/v1/blocks",
      "/api/v1/followed_tags",
      "/api/v2/suggestions",
      `/api/v1/statuses/${api.oak.id}/source`,
      "/api/v1/statuses/123/source",
    ]) {
      const r = await api.get(path);
      expect({ path, status: r.status, body: r.body }).toEqual({ path, status: 401, body: NO_TOKEN });
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
  });

  it("every write, whatever its body, even one that cannot be read", async () => {
    const json = { "content-type": "application/json" };
    for (const [method, path, init] of [
      ["POST", "/api/v1/statuses", { headers: json, body: '{"status":"hi"}' }],
      ["POST", "/api/v1/statuses", { headers: json, body: "{not json" }],
      ["POST", "/api/v1/statuses", { headers: { "content-type": "text/xml" }, body: "<status/>" }],
      ["POST", "/api/v1/apps", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "client_name=x&redirect_uris=urn:ietf:wg:oauth:2.0:oob" }],
      ["POST", `/api/v1/accounts/${api.oak.id}/follow`, {}],
      ["POST", "/api/v1/statuses/123/favourite", {}],
      ["PUT", "/api/v1/statuses/123", { headers: json, body: "{}" }],
      ["PATCH", "/api/v1/accounts/update_credentials", { headers: json, body: "{}" }],
      ["DELETE", "/api/v1/statuses/123", {}],
      ["DELETE", "/api/v1/statuses/abc", {}],
      ["POST", "/api/v2/media", {}],
      ["POST", "/api/v2/filters", { headers: json, body: "{}" }],
    ] as const) {
      const r = await api.get(path, { method, ...init });
      expect({ method, path, status: r.status, body: r.body }).toEqual({ method, path, status: 401, body: NO_TOKEN });
    }
  });

  it("search that resolves remote resources or pages by offset, with Mastodon's messages", async () => {
    const offset = await api.get("/api/v2/search?q=oak&offset=5");
    expect({ status: offset.status, body: offset.body }).toEqual({ status: 401, body: { error: "Search queries pagination is not supported without authentication" } });
    const zero = await api.get("/api/v2/search?q=oak&offset=0&resolve=true");
    expect(zero.body.error).toBe("Search queries pagination is not supported without authentication");
    const resolve = await api.get("/api/v2/search?q=@someone@elsewhere.example&resolve=true");
    expect({ status: resolve.status, body: resolve.body }).toEqual({
      status: 401,
      body: { error: "Search queries that resolve remote resources are not supported without authentication" },
    });
    expect((await api.get("/api/v2/search?q=oak&resolve=false")).status).toBe(200);
    for (const query of ["resolve=true", "following=true"]) {
      const r = await api.get(`/api/v1/accounts/search?q=oak&${query}`);
      expect({ query, status: r.status, body: r.body }).toEqual({ query, status: 401, body: NO_TOKEN });
    }
  });
});

describe("422 for a parameter that cannot be read", () => {
  it("names the parameter", async () => {
    const oak = api.oak.id as string;
    for (const [path, word] of [
      [`/api/v1/accounts/${oak}/statuses?limit=ten`, "limit"],
      [`/api/v1/accounts/${oak}/statuses?limit=1.5`, "limit"],
      [`/api/v1/accounts/${oak}/statuses?max_id=12x`, "max_id"],
      [`/api/v1/accounts/${oak}/statuses?max_id=x1`, "max_id"],
      [`/api/v1/accounts/${oak}/statuses?since_id=1.0`, "since_id"],
      [`/api/v1/accounts/${oak}/statuses?pinned=maybe`, "pinned"],
      [`/api/v1/accounts/${oak}/statuses?only_media=sure`, "only_media"],
      [`/api/v1/accounts/${oak}/statuses?exclude_replies=2`, "exclude_replies"],
      ["/api/v1/timelines/public?min_id=-4", "min_id"],
      ["/api/v1/timelines/public?local=maybe", "local"],
      ["/api/v1/timelines/public?limit=1&limit=2", "limit"],
      [`/api/v1/timelines/tag/need?max_id=${"1".repeat(20)}`, "max_id"],
      ["/api/v2/search?q=x&type=people", "type"],
      ["/api/v2/search?q=x&limit=lots", "limit"],
      ["/api/v1/accounts/lookup", "acct"],
      ["/api/v1/accounts/lookup?acct=", "acct"],
      ["/api/v1/directory?offset=-1", "offset"],
      ["/api/v1/directory?limit=x", "limit"],
      [`/api/v1/statuses?${Array.from({ length: 41 }, (_, i) => `id[]=${i + 1}`).join("&")}`, "ids"],
    ] as const) {
      const r = await api.get(path);
      expect({ path, status: r.status, word: typeof r.body?.error === "string" && r.body.error.includes(word) }).toEqual({ path, status: 422, word: true });
    }
  });

  it("reads Rails' booleans as Mastodon does", async () => {
    for (const value of ["true", "1", "t", "on", "TRUE"]) {
      const r = await api.get(`/api/v1/accounts/${api.oak.id}/statuses?pinned=${value}`);
      expect({ value, length: r.body.length }).toEqual({ value, length: 1 });
    }
    for (const value of ["false", "0", "f", "off", ""]) {
      const r = await api.get(`/api/v1/accounts/${api.oak.id}/statuses?pinned=${value}&limit=40`);
      expect({ value, length: r.body.length }).toEqual({ value, length: 9 });
    }
  });
});

describe("never HTML, never a 500", () => {
  it("asked for HTML, errors are still Mastodon's JSON", async () => {
    const html = { headers: { accept: "text/html,application/xhtml+xml" } };
    for (const [path, status] of [
      ["/api/v1/statuses/abc", 404],
      ["/api/v1/timelines/home", 401],
      [`/api/v1/accounts/${api.oak.id}/statuses?limit=ten`, 422],
      ["/api/v1/nothing/here", 404],
    ] as const) {
      const r = await api.get(path, html);
      expect({ path, status: r.status, type: r.headers.get("content-type"), error: typeof r.body?.error }).toEqual({
        path,
        status,
        type: "application/json; charset=utf-8",
        error: "string",
      });
      expect(r.text).not.toMatch(/<html|<!doctype/i);
    }
  });

  it("odd but readable input gets an answer, not a failure", async () => {
    for (const path of [
      `/api/v1/accounts/${api.oak.id}/statuses?max_id=9223372036854775807`,
      `/api/v1/accounts/${api.oak.id}/statuses?since_id=9999999999999999999`,
      "/api/v1/statuses?id[]=9999999999999999999&id[]=abc",
      "/api/v1/timelines/tag/%00",
      `/api/v1/timelines/tag/${encodeURIComponent("ünïcödé")}`,
      `/api/v2/search?q=${encodeURIComponent("%_\\'\"")}`,
      `/api/v2/search?q=${"x".repeat(3000)}`,
      "/api/v2/search",
      "/api/v1/instance?unknown=%",
    ]) {
      const r = await api.get(path);
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
    }
  });
});

describe("the steward API keeps its own errors", () => {
  it("its 401, 404 and malformed JSON answers are not Mastodon's", async () => {
    const unauthenticated = await api.get(`/api/hyphae/v1/pods/${A}/offers`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body).toMatchObject({ error: expect.stringMatching(/^[A-Z_]+$/), message: expect.any(String) });
    const token = await api.node.token();
    const auth = { authorization: `Bearer ${token}` };
    const malformed = await api.get(`/api/hyphae/v1/pods/${A}/offers`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{oops" });
    expect({ status: malformed.status, error: malformed.body.error }).toEqual({ status: 400, error: "MALFORMED_JSON" });
    const missing = await api.get("/api/hyphae/v1/no/such/thing", { headers: auth });
    expect(missing.status).toBe(404);
    expect(missing.body).not.toEqual(NOT_FOUND);
    expect(missing.body).toHaveProperty("message");
    const pod = await api.get(`/api/hyphae/v1/pods/${A}`, { headers: auth });
    expect(pod.status).toBe(200);
  });
});

describe("forged hosts", () => {
  /** A request with a Host header fetch would not let us set. */
  function rawGet(path: string, host: string): Promise<{ status: number; body: string }> {
    const { port } = new URL(api.node.origin);
    return new Promise((resolve, reject) => {
      const request = http.request({ host: "127.0.0.1", port, path, headers: { host, accept: "application/json" } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      request.on("error", reject);
      request.end();
    });
  }

  it("another Host, sent or forwarded, is refused before the API; a forwarded scheme changes no id or link", async () => {
    const path = `/api/v1/accounts/${api.oak.id}/statuses?limit=2`;
    const forged = await rawGet(path, "evil.example");
    expect(forged.status).toBe(421);
    expect(forged.body).not.toContain("evil.example");
    const forwardedHost = await api.get(path, { headers: { "x-forwarded-host": "evil.example" } });
    expect(forwardedHost.status).toBe(421);
    expect(forwardedHost.text).not.toContain("evil.example");
    const plain = await api.get(path);
    const forwarded = await api.get(path, { headers: { "x-forwarded-proto": "https", forwarded: "proto=https" } });
    expect(forwarded.status).toBe(200);
    expect(forwarded.text).toBe(plain.text);
    expect(forwarded.headers.get("link")).toBe(plain.headers.get("link"));
    expect(forwarded.headers.get("link")).toContain(`${api.node.origin}/api/v1/accounts/`);
    const instance = await api.get("/api/v2/instance", { headers: { "x-forwarded-host": "evil.example" } });
    expect(instance.text).not.toContain("evil.example");
  });
});
