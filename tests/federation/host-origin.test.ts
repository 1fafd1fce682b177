/**
 * One public origin: requests for another host (a forged Host, or a forged X-Forwarded-Host
 * from a trusted proxy) get 421 before anything renders, and every id, url and link the node
 * publishes — and caches — stays on PUBLIC_URL. Real nodes over loopback HTTP.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { AS_CONTEXT, mastodonPostHeaders, postRaw, startFakeMastodon, type FakeMastodon } from "../helpers/mastodon.ts";

const AP = "application/activity+json";
const PREFIX = "/api/hyphae/v1";
const EVIL = "evil.example";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A request to the node's socket with exactly these headers (Host included). */
function send(node: TestNode, path: string, headers: Record<string, string>, method = "GET", body?: string): Promise<Answer> {
  const url = new URL(node.origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port: Number(url.port), path, method, headers: { host: node.host, ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Every string value in a JSON document, except vocabulary: `@context` and WebFinger `rel`s. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) if (key !== "@context" && key !== "rel") strings(v, out);
  }
  return out;
}

/** Every absolute URL in the document is on the node's public origin (or a well-known vocabulary). */
function expectOnlyOurOrigin(node: TestNode, doc: unknown): void {
  const urls = strings(doc).filter((s) => /^https?:\/\//.test(s));
  expect(urls.length).toBeGreaterThan(0);
  for (const u of urls) {
    // Fixed values that are not ours: the public audience and the charter's licence.
    if (u === "https://www.w3.org/ns/activitystreams#Public" || u.startsWith("https://creativecommons.org/licenses/")) continue;
    expect(new URL(u).origin, u).toBe(node.origin);
  }
  expect(JSON.stringify(doc)).not.toContain(EVIL);
}

const charter = {
  title: "Oak Street charter",
  preamble: "We feed, fix and look after each other.",
  services: [{ name: "Community kitchen", description: "Hot meals.", category: "food", since: "2024-03-01" }],
  nextServices: [],
  assemblyRhythm: "Thursdays 19:00",
  meetingPlace: "Northfield",
  changeNote: "First charter",
};

let trusting: TestNode; // TRUST_PROXY=loopback (the default): our test client is the "proxy"
let direct: TestNode; // TRUST_PROXY=false
let masto: FakeMastodon;

beforeAll(async () => {
  [trusting, direct, masto] = await Promise.all([
    startTestNode({ podSlug: "oak-street" }),
    startTestNode({ podSlug: "oak-street", env: { TRUST_PROXY: "false" } }),
    startFakeMastodon({ users: ["alice"] }),
  ]);
  for (const node of [trusting, direct]) {
    const token = await node.token();
    const r = await fetch(`${node.origin}${PREFIX}/pods/oak-street/charter`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(charter),
    });
    expect(r.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([trusting?.stop(), direct?.stop(), masto?.close()]);
});

/** The federation documents and pages an attacker would like to poison. */
const targets = [
  { what: "actor", path: "/pods/oak-street", accept: AP },
  { what: "WebFinger", path: `/.well-known/webfinger?resource=${encodeURIComponent(`acct:oak-street@${EVIL}`)}`, accept: "application/jrd+json" },
  { what: "charter Note", path: "/pods/oak-street/charter", accept: AP },
  { what: "followers", path: "/pods/oak-street/followers", accept: AP },
  { what: "home page", path: "/", accept: "text/html" },
  { what: "pod page", path: "/@oak-street", accept: "text/html" },
  { what: "charter page", path: "/pods/oak-street/charter", accept: "text/html" },
  { what: "steward API", path: `${PREFIX}/pods/oak-street`, accept: "application/json" },
  { what: "NodeInfo", path: "/nodeinfo/2.1", accept: "application/json" },
];

describe("a forged Host gets 421 before anything renders", () => {
  for (const t of targets) {
    it(`${t.what}: Host ${EVIL} → 421, nothing of it in the answer`, async () => {
      for (const node of [trusting, direct]) {
        const r = await send(node, t.path, { host: EVIL, accept: t.accept });
        expect(r.status).toBe(421);
        expect(r.headers["cache-control"]).toBe("no-store");
        if (t.accept === "text/html") expect(r.headers["content-type"]).toMatch(/^text\/html/);
        else expect(r.json).toMatchObject({ error: "MISDIRECTED_REQUEST" });
        expect(r.text).not.toContain(EVIL);
      }
    });
  }

  it("a Host with our name but another port, or with userinfo or a path, is refused too", async () => {
    const port = Number(new URL(trusting.origin).port);
    for (const host of [`127.0.0.1:${port + 1}`, `localhost:${port}`, `x@127.0.0.1:${port}`, `127.0.0.1:${port}/x`]) {
      expect((await send(trusting, "/pods/oak-street", { host, accept: AP })).status).toBe(421);
    }
  });

  it("behind a trusted proxy, a forged X-Forwarded-Host → 421, even when Host is ours", async () => {
    for (const t of targets) {
      const r = await send(trusting, t.path, { "x-forwarded-host": EVIL, "x-forwarded-proto": "https", accept: t.accept });
      expect(r.status, t.what).toBe(421);
    }
  });

  it("from an untrusted peer, X-Forwarded-Host is ignored: Host decides, ids stay ours", async () => {
    const forged = await send(direct, "/pods/oak-street", { "x-forwarded-host": EVIL, "x-forwarded-proto": "https", accept: AP });
    expect(forged.status).toBe(200);
    expectOnlyOurOrigin(direct, forged.json);
    // A proxy that is not trusted cannot vouch for our name either.
    const viaProxy = await send(direct, "/pods/oak-street", { host: "127.0.0.1:1", "x-forwarded-host": direct.host, accept: AP });
    expect(viaProxy.status).toBe(421);
  });

  it("/healthz answers whatever the Host (probes use addresses)", async () => {
    const r = await send(trusting, "/healthz", { host: EVIL });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: expect.any(String) });
  });
});

describe("after the forged requests, honest requests see only the public origin", () => {
  it("the actor (rendered and cached once) has id, url, inbox and keys on PUBLIC_URL", async () => {
    for (const node of [trusting, direct]) {
      const first = await send(node, "/pods/oak-street", { accept: AP });
      expect(first.status).toBe(200);
      expect(first.json.id).toBe(`${node.origin}/pods/oak-street`);
      expect(first.json.url).toBe(`${node.origin}/@oak-street`);
      expectOnlyOurOrigin(node, first.json);
      // The cached copy served next is the same canonical document.
      const again = await send(node, "/pods/oak-street", { accept: AP });
      expect(again.json).toEqual(first.json);
    }
  });

  it("WebFinger links (self and profile page) are on PUBLIC_URL", async () => {
    for (const node of [trusting, direct]) {
      const r = await send(node, `/.well-known/webfinger?resource=${encodeURIComponent(`acct:oak-street@${node.host}`)}`, { accept: "application/jrd+json" });
      expect(r.status).toBe(200);
      expect(r.json.subject).toBe(`acct:oak-street@${node.host}`);
      expect(r.json.links).toContainEqual(expect.objectContaining({ rel: "self", href: `${node.origin}/pods/oak-street` }));
      expect(r.json.links).toContainEqual(expect.objectContaining({ rel: "http://webfinger.net/rel/profile-page", href: `${node.origin}/@oak-street` }));
      expectOnlyOurOrigin(node, r.json);
    }
  });

  it("the charter Note's id, url and links are on PUBLIC_URL", async () => {
    for (const node of [trusting, direct]) {
      const r = await send(node, "/pods/oak-street/charter", { accept: AP });
      expect(r.status).toBe(200);
      expect(r.json.id).toBe(`${node.origin}/pods/oak-street/charter`);
      expectOnlyOurOrigin(node, r.json);
    }
  });

  it("behind a trusted proxy (backend Host, X-Forwarded-Host ours, proto https) the documents are still PUBLIC_URL's", async () => {
    const headers = { host: "127.0.0.1:3000", "x-forwarded-host": trusting.host, "x-forwarded-proto": "https" };
    for (const path of ["/pods/oak-street", "/pods/oak-street/charter"]) {
      const r = await send(trusting, path, { ...headers, accept: AP });
      expect(r.status).toBe(200);
      expectOnlyOurOrigin(trusting, r.json);
    }
    const page = await send(trusting, "/@oak-street", { ...headers, accept: "text/html" });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<meta property="og:url" content="${trusting.origin}/pods/oak-street">`);
    expect(page.text).not.toContain("https://127.0.0.1");
  });
});

describe("signed requests for another host", () => {
  const follow = () => ({
    "@context": AS_CONTEXT,
    id: `${masto.origin}/follows/${Math.random().toString(36).slice(2)}`,
    type: "Follow",
    actor: masto.user("alice").actorUrl,
    object: `${trusting.origin}/pods/oak-street`,
  });

  async function followers(): Promise<number> {
    const row = await trusting.deps.db.selectFrom("followers").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it("signed with host evil.example and sent with that Host → 421, nothing stored", async () => {
    const before = await followers();
    const body = JSON.stringify(follow());
    const headers = mastodonPostHeaders(`http://${EVIL}/pods/oak-street/inbox`, body, { signer: masto.user("alice") });
    expect(headers.host).toBe(EVIL);
    const r = await postRaw(`${trusting.origin}/pods/oak-street/inbox`, headers, body);
    expect(r.status).toBe(421);
    expect(await followers()).toBe(before);
  });

  it("signed with host evil.example but sent with our Host → 401 (the signed host is not ours)", async () => {
    const before = await followers();
    const body = JSON.stringify(follow());
    const headers = mastodonPostHeaders(`http://${EVIL}/pods/oak-street/inbox`, body, { signer: masto.user("alice"), extraHeaders: { host: trusting.host } });
    const r = await postRaw(`${trusting.origin}/pods/oak-street/inbox`, headers, body);
    expect(r.status).toBe(401);
    expect(await followers()).toBe(before);
  });
});
