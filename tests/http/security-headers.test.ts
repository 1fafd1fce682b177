/**
 * Security headers, set by one onSend hook for the whole app: every HTML page gets a CSP
 * without any script source, no framing, nosniff and a referrer policy; JSON gets nosniff.
 * A real node over loopback HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const SLUG = "oak-street";
let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: SLUG });
  const token = await node.token();
  const r = await fetch(`${node.origin}/api/hyphae/v1/pods/${SLUG}/charter`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      title: "Oak Street charter",
      preamble: "We look after each other.",
      services: [{ name: "Kitchen", description: "Meals.", category: "food", since: "2024-03-01" }],
      nextServices: [],
      assemblyRhythm: "Thursdays",
      meetingPlace: "Hall",
      changeNote: "First",
    }),
  });
  expect(r.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await node?.stop();
});

/** Every HTML page the node serves, including its error pages. */
const pages = [
  ["home", "/", 200],
  ["pod page by handle", `/@${SLUG}`, 200],
  ["pod page by actor URL", `/pods/${SLUG}`, 200],
  ["charter", `/pods/${SLUG}/charter`, 200],
  ["charter revision", `/pods/${SLUG}/charter/revisions/1`, 200],
  ["tag", "/tags/mutualaid", 200],
  ["unknown pod", "/@nobody-here", 404],
  ["unknown charter revision", `/pods/${SLUG}/charter/revisions/99`, 404],
] as const;

function directives(csp: string): Map<string, string> {
  return new Map(csp.split(";").map((d) => d.trim()).filter(Boolean).map((d) => [d.split(/\s+/)[0]!, d.slice(d.indexOf(" ") + 1)]));
}

describe("HTML pages", () => {
  for (const [what, path, status] of pages) {
    it(`${what} (${path}) carries the CSP, no framing, nosniff and a referrer policy`, async () => {
      const r = await fetch(`${node.origin}${path}`, { headers: { accept: "text/html" } });
      expect(r.status).toBe(status);
      expect(r.headers.get("content-type")).toMatch(/^text\/html/);
      const csp = directives(r.headers.get("content-security-policy") ?? "");
      expect(csp.get("default-src")).toBe("'none'");
      expect(csp.has("script-src")).toBe(false); // falls back to default-src 'none': no script at all
      expect(csp.get("frame-ancestors")).toBe("'none'");
      expect(csp.get("base-uri")).toBe("'none'");
      expect(r.headers.get("x-frame-options")).toBe("DENY");
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("referrer-policy")).toBe("strict-origin-when-cross-origin");
      // The page needs nothing the policy forbids: no scripts, no event handlers, no external styles.
      const body = await r.text();
      expect(body).not.toMatch(/<script|\son[a-z]+=|<link rel="stylesheet"/i);
    });
  }

  it("the 421 page for another host carries them too", async () => {
    const { request } = await import("node:http");
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const url = new URL(node.origin);
      const req = request({ host: "127.0.0.1", port: Number(url.port), path: "/", headers: { host: "evil.example", accept: "text/html" } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode, ...res.headers }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(headers.status).toBe(421);
    expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(headers["x-frame-options"]).toBe("DENY");
  });
});

describe("JSON responses", () => {
  const json = [
    ["actor", `/pods/${SLUG}`, "application/activity+json"],
    ["WebFinger", `/.well-known/webfinger?resource=acct:${SLUG}@HOST`, "application/jrd+json"],
    ["NodeInfo", "/nodeinfo/2.1", "application/json"],
    ["health", "/healthz", "application/json"],
    ["API error", `/api/hyphae/v1/pods/${SLUG}`, "application/json"],
    ["not found", "/no/such/thing", "application/json"],
  ] as const;
  for (const [what, path, accept] of json) {
    it(`${what} is nosniff and has no page-only headers`, async () => {
      const r = await fetch(`${node.origin}${path.replace("HOST", node.host)}`, { headers: { accept } });
      expect(r.headers.get("content-type")).toMatch(/json/);
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      expect(r.headers.get("content-security-policy")).toBeNull();
    });
  }
});
