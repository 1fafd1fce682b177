/**
 * CORS as Mastodon's (config/initializers/cors.rb), seen through fetch with an Origin header:
 * on /api/*, /oauth/*, /.well-known/* and /nodeinfo/* any origin may read, Link and the
 * rate-limit headers are exposed, and preflights are answered (204) before the Fedify
 * bridge or any route sees them; other paths (HTML pages) say nothing about CORS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { A, startApiNode, type ApiNode } from "./api-fixture.ts";

let api: ApiNode;
let origin = "";
const ELK = "https://elk.example";
const EXPOSED = ["Link", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Request-Id", "Idempotency-Key"];

beforeAll(async () => {
  api = await startApiNode();
  origin = api.node.origin;
}, 120_000);

afterAll(async () => {
  await api?.stop();
});

const preflight = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${origin}${path}`, { method: "OPTIONS", headers: { origin: ELK, "access-control-request-method": "GET", ...headers } });

describe("preflight", () => {
  it("is 204 with the methods, the headers asked for and how long to keep it", async () => {
    const r = await preflight("/api/v1/timelines/public", { "access-control-request-headers": "authorization, x-requested-with, content-type" });
    expect(r.status).toBe(204);
    expect(await r.text()).toBe("");
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-methods")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    expect(r.headers.get("access-control-allow-headers")).toBe("authorization, x-requested-with, content-type");
    expect(Number(r.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(r.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("lists the usual headers when none are asked for, and leaves out what is not a header name", async () => {
    const none = await preflight("/api/v2/instance");
    expect(none.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    const odd = await preflight("/api/v2/instance", { "access-control-request-headers": "x-ok, bad header, x\u00e9" });
    expect(odd.headers.get("access-control-allow-headers")).toBe("x-ok");
  });

  it("is answered on every CORS path, Fedify's and unknown ones included, for any method asked", async () => {
    for (const [path, method] of [
      ["/api/v1/accounts/lookup?acct=oak-street", "GET"],
      ["/api/v1/statuses", "POST"],
      ["/api/v1/no/such/path", "DELETE"],
      ["/api/hyphae/v1/pods", "PATCH"],
      ["/oauth/token", "POST"],
      ["/oauth/revoke", "POST"],
      [`/.well-known/webfinger?resource=acct:${A}@${api.node.host}`, "GET"],
      ["/.well-known/nodeinfo", "GET"],
      ["/nodeinfo/2.0", "GET"],
      ["/api", "GET"],
    ] as const) {
      const r = await preflight(path, { "access-control-request-method": method });
      expect({ path, status: r.status, allow: r.headers.get("access-control-allow-origin"), methods: r.headers.get("access-control-allow-methods")?.includes(method) }).toEqual({
        path,
        status: 204,
        allow: "*",
        methods: true,
      });
    }
  });

  it("is not answered for pages, actors and inboxes, nor for another host", async () => {
    for (const path of [`/pods/${A}`, `/@${A}`, "/", "/apiary", `/pods/${A}/inbox`]) {
      const r = await preflight(path);
      expect({ path, allow: r.headers.get("access-control-allow-origin"), status: r.status === 204 }).toEqual({ path, allow: null, status: false });
    }
  });
});

describe("simple requests", () => {
  it("any origin may read the API's answers, successes and errors alike, and Link is exposed", async () => {
    for (const [path, status] of [
      ["/api/v1/timelines/public?limit=1", 200],
      ["/api/v2/instance", 200],
      ["/api/v1/statuses/abc", 404],
      ["/api/v1/timelines/home", 401],
      ["/api/v1/timelines/public?limit=x", 422],
      ["/api/v2/search?q=x&resolve=true", 401],
      ["/.well-known/nodeinfo", 200],
      ["/nodeinfo/2.1", 200],
      [`/.well-known/webfinger?resource=acct:${A}@${api.node.host}`, 200],
      [`/api/hyphae/v1/pods/${A}/offers`, 401],
    ] as const) {
      const r = await fetch(`${origin}${path}`, { headers: { origin: ELK } });
      const exposed = (r.headers.get("access-control-expose-headers") ?? "").split(",").map((h) => h.trim());
      expect({ path, status: r.status, allow: r.headers.get("access-control-allow-origin"), exposed }).toEqual({ path, status, allow: "*", exposed: EXPOSED });
      // Nothing here keeps another origin from reading the answer.
      expect({ path, corp: r.headers.get("cross-origin-resource-policy"), credentials: r.headers.get("access-control-allow-credentials") }).toEqual({ path, corp: null, credentials: null });
    }
  });

  it("a paged answer carries the Link header a browser app may read", async () => {
    const r = await fetch(`${origin}/api/v1/accounts/${api.oak.id}/statuses?limit=2`, { headers: { origin: ELK } });
    expect(r.headers.get("link")).toMatch(/rel="next"/);
    expect(r.headers.get("access-control-expose-headers")).toContain("Link");
  });

  it("HTML pages and actor documents say nothing about CORS", async () => {
    for (const [path, accept] of [
      [`/pods/${A}`, "text/html"],
      [`/@${A}`, "text/html"],
      ["/avatars/original/missing.png", "image/png"],
    ] as const) {
      const r = await fetch(`${origin}${path}`, { headers: { origin: ELK, accept } });
      expect({ path, ok: r.ok, allow: r.headers.get("access-control-allow-origin") }).toEqual({ path, ok: true, allow: null });
    }
  });
});
