/**
 * Nothing expensive before authentication, against real nodes over loopback: an unsigned
 * inbox POST is answered 401 before its body is parsed; bodies nested too deep or with huge
 * arrays are refused before Fedify's JSON-LD processing; a `@context` that cannot be loaded
 * answers 400, never 500; refused inbox POSTs are rate-limited per client address.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { AS_CONTEXT, mastodonPostHeaders, postRaw, postSigned, recordedJson, startFakeMastodon, type FakeMastodon } from "../helpers/mastodon.ts";

const SLUG = "linden-yard";

let node: TestNode; // private addresses allowed (test default), rate limit generous
let strict: TestNode; // ALLOW_PRIVATE_ADDRESSES=false
let limited: TestNode; // INBOX_RATE_LIMIT=3
let masto: FakeMastodon;
let contextServer: Server;
let contextUrl: string;
/** Requests that reached the JSON-LD context server. */
const contextHits: string[] = [];

beforeAll(async () => {
  contextServer = createServer((req, res) => {
    contextHits.push(req.url ?? "/");
    if (req.url !== "/context.jsonld") {
      res.statusCode = 404;
      res.end("not here");
      return;
    }
    res.setHeader("content-type", "application/ld+json");
    res.end(JSON.stringify({ "@context": { pods: "https://hyphae.example/ns#" } }));
  });
  await new Promise<void>((resolve) => contextServer.listen(0, "127.0.0.1", resolve));
  contextUrl = `http://127.0.0.1:${(contextServer.address() as AddressInfo).port}/context.jsonld`;
  [node, strict, limited, masto] = await Promise.all([
    startTestNode({ podSlug: SLUG }),
    startTestNode({ podSlug: SLUG, env: { ALLOW_PRIVATE_ADDRESSES: "false" } }),
    startTestNode({ podSlug: SLUG, env: { INBOX_RATE_LIMIT: "3" } }),
    startFakeMastodon({ users: ["alice"] }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([node?.stop(), strict?.stop(), limited?.stop(), masto?.close()]);
  await new Promise((resolve) => contextServer?.close(resolve));
});

const inboxOf = (n: TestNode) => `${n.actorUrl(SLUG)}/inbox`;

function follow(n: TestNode, extra: Record<string, unknown> = {}) {
  return { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: masto.user("alice").actorUrl, object: n.actorUrl(SLUG), ...extra };
}

/** A JSON text nested `depth` arrays deep around a Follow. */
function deeplyNested(n: TestNode, depth: number): string {
  return JSON.stringify(follow(n)).replace('"type":"Follow"', `"type":"Follow","summary":${"[".repeat(depth)}${"]".repeat(depth)}`);
}

/** About `bytes` bytes of valid Follow JSON. */
function huge(n: TestNode, bytes: number): string {
  return JSON.stringify(follow(n, { summary: "x".repeat(bytes) }));
}

async function stored(n: TestNode) {
  const db = n.deps.db;
  const count = async (table: "followers" | "remote_actors" | "fedify_queue" | "outbox_events") =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n);
  return { followers: await count("followers"), remoteActors: await count("remote_actors"), queued: await count("fedify_queue"), outbox: await count("outbox_events") };
}

/** Waits until the fake Mastodon received an Accept of this Follow (its processing is over). */
async function accepted(followId: string): Promise<void> {
  await waitFor(
    () => masto.inbox.map(recordedJson).some((a) => a?.type === "Accept" && (a.object === followId || a.object?.id === followId)),
    20_000,
    `the Accept of ${followId}`,
  );
}

function unsigned(url: string, body: string) {
  return postRaw(url, mastodonPostHeaders(url, body, { signer: null }), body);
}

describe("unsigned inbox POSTs: 401 before any parsing", () => {
  it("deep, huge, malformed and private-@context bodies all get 401 SIGNATURE_REQUIRED, and no context is fetched", async () => {
    const before = await stored(node);
    const bodies = {
      deep: deeplyNested(node, 2_000),
      huge: huge(node, 800 * 1024),
      malformed: '{"type": "Follow", "actor": ',
      privateContext: JSON.stringify(follow(node, { "@context": [AS_CONTEXT, contextUrl] })),
      notJson: "\u0000\u0001 not json at all",
    };
    for (const [what, body] of Object.entries(bodies)) {
      for (const url of [inboxOf(node), `${node.origin}/inbox`]) {
        const r = await unsigned(url, body);
        expect(r.status, what).toBe(401);
        expect(JSON.parse(r.text), what).toMatchObject({ error: "SIGNATURE_REQUIRED" });
      }
    }
    expect(contextHits).toEqual([]);
    expect(await stored(node)).toEqual(before);
  });

  it("the node stays responsive (health check) after a burst of unsigned 800 KB posts", async () => {
    const body = huge(node, 800 * 1024);
    const answers = await Promise.all(Array.from({ length: 10 }, () => unsigned(inboxOf(node), body)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(401));
    expect((await fetch(`${node.origin}/healthz`)).status).toBe(200);
  });
});

describe("signed inbox POSTs: bounded bodies before Fedify's JSON-LD processing", () => {
  const alice = () => masto.user("alice");

  it("nesting deeper than 32 levels → 400 BODY_TOO_DEEP (2,000 levels no longer answer 500)", async () => {
    const before = await stored(node);
    for (const depth of [40, 2_000, 200_000]) {
      const r = await postSigned(inboxOf(node), deeplyNested(node, depth), { signer: alice() });
      expect(r.status, String(depth)).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({ error: "BODY_TOO_DEEP" });
    }
    expect(await stored(node)).toEqual(before);
  });

  it("an array of more than 10,000 elements → 400 BODY_ARRAY_TOO_LONG", async () => {
    const before = await stored(node);
    const r = await postSigned(inboxOf(node), follow(node, { cc: Array.from({ length: 10_001 }, () => 1) }), { signer: alice() });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: "BODY_ARRAY_TOO_LONG" });
    expect(await stored(node)).toEqual(before);
  });

  it("brackets and commas inside strings do not count", async () => {
    const tricky = follow(node, { summary: `${"[".repeat(100)}${",".repeat(20_000)}\\"[{` });
    const r = await postSigned(inboxOf(node), tricky, { signer: alice() });
    expect(r.status).toBe(202);
    await accepted(tricky.id);
    await waitFor(async () => (await stored(node)).queued === 0, 20_000, "the queue to drain");
  });

  it("malformed JSON (signed) → 400 MALFORMED_JSON", async () => {
    const r = await postSigned(inboxOf(node), '{"type": "Follow", "actor": ', { signer: alice() });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: "MALFORMED_JSON" });
  });

  it("a @context on a private address (refused by the node) → 400 INVALID_JSON_LD, never fetched, nothing stored", async () => {
    const before = await stored(strict);
    const r = await postSigned(inboxOf(strict), follow(strict, { "@context": [AS_CONTEXT, contextUrl] }), { signer: alice() });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: "INVALID_JSON_LD" });
    expect(contextHits).toEqual([]);
    expect(await stored(strict)).toEqual(before);
  });

  it("a @context that cannot be loaded (404) → 400 INVALID_JSON_LD, not 500", async () => {
    const before = await stored(node);
    const missing = contextUrl.replace("/context.jsonld", "/missing.jsonld");
    const r = await postSigned(inboxOf(node), follow(node, { "@context": [AS_CONTEXT, missing] }), { signer: alice() });
    expect(r.status, r.text).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: "INVALID_JSON_LD" });
    expect(await stored(node)).toEqual(before);
  });

  it.each([
    ["a NUL character", "a\u0000b"],
    ["a lone surrogate", "a\ud800b"],
  ])("text the database cannot hold (%s) → 400 INVALID_TEXT naming where, nothing queued or stored", async (_name, summary) => {
    const before = await stored(node);
    const r = await postSigned(inboxOf(node), follow(node, { summary }), { signer: alice() });
    expect(r.status, r.text).toBe(400);
    expect(JSON.parse(r.text)).toMatchObject({ error: "INVALID_TEXT", message: expect.stringContaining("summary") });
    expect(await stored(node)).toEqual(before);
  });

  it("control: a good signed Follow is still accepted and answered", async () => {
    const f = follow(node);
    const r = await postSigned(inboxOf(node), f, { signer: alice() });
    expect(r.status).toBe(202);
    await accepted(f.id);
  });
});

describe("refused inbox POSTs are rate-limited per client address", () => {
  it("accepted deliveries do not count; past INBOX_RATE_LIMIT refusals a minute → 429 with Retry-After", async () => {
    for (let i = 0; i < 4; i++) {
      expect((await postSigned(inboxOf(limited), follow(limited), { signer: masto.user("alice") })).status).toBe(202);
    }
    const body = JSON.stringify(follow(limited));
    for (let i = 0; i < 3; i++) expect((await unsigned(inboxOf(limited), body)).status).toBe(401);
    const limitedAnswer = await unsigned(`${limited.origin}/inbox`, body);
    expect(limitedAnswer.status).toBe(429);
    expect(JSON.parse(limitedAnswer.text)).toMatchObject({ error: "RATE_LIMITED" });
    expect(Number(limitedAnswer.headers["retry-after"])).toBeGreaterThan(0);
    // The address is limited for inbox POSTs, signed or not, until the window passes...
    expect((await postSigned(inboxOf(limited), follow(limited), { signer: masto.user("alice") })).status).toBe(429);
    // ...and only for inbox POSTs: the rest of the node answers as usual.
    expect((await fetch(`${limited.origin}/pods/${SLUG}`, { headers: { accept: "application/activity+json" } })).status).toBe(200);
    expect((await fetch(`${limited.origin}/healthz`)).status).toBe(200);
  });

  it("another node with the default limit is unaffected by the same client", async () => {
    expect((await unsigned(inboxOf(node), JSON.stringify(follow(node)))).status).toBe(401);
  });
});
