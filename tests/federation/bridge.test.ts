// Fastify ↔ Fedify bridge, exercised over real HTTP on 127.0.0.1 with real Fedify federations.
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Fastify, { type FastifyInstance } from "fastify";
import {
  createFederation,
  generateCryptoKeyPair,
  MemoryKvStore,
  signRequest,
  type Federation,
} from "@fedify/fedify";
import { Accept, Endpoints, Follow, Person, isActor } from "@fedify/vocab";
import { registerFedifyBridge, isNotAcceptable } from "../../src/federation/fastify-bridge.ts";
import { freePort } from "../helpers/infra.ts";

const MiB = 1_048_576;
const AP = "application/activity+json";

interface ReceivedFollow {
  id: string | undefined;
  actorId: string | undefined;
  /** id of the actor document fetched from the (verified) actor URL */
  fetchedActorId: string | undefined;
  recipient: string | null;
}

interface TestNode {
  app: FastifyInstance;
  base: string;
  federation: Federation<void>;
  follows: ReceivedFollow[];
  accepts: { actorId: string | undefined; objectId: string | undefined }[];
  /** ctx.url seen by the actor dispatcher, one per call */
  seenUrls: string[];
  listenerRuns: number;
  errorLogs: string[];
}

interface NodeOptions {
  actors: Record<string, CryptoKeyPair>;
  /** origin for the federation; default: the listening URL */
  origin?: string;
  trustProxy?: boolean;
  replyAccept?: boolean;
  fastifyRoutes?: (app: FastifyInstance) => void;
  notFound?: Parameters<typeof registerFedifyBridge>[1]["notFound"];
}

const nodes: TestNode[] = [];

async function startNode(opts: NodeOptions): Promise<TestNode> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const federation = createFederation<void>({
    kv: new MemoryKvStore(),
    origin: opts.origin ?? base,
    allowPrivateAddress: true, // test-only: loopback peers
  });
  const errorLogs: string[] = [];
  const app = Fastify({
    trustProxy: opts.trustProxy ?? false,
    logger: { level: "error", stream: { write: (line: string) => void errorLogs.push(line) } },
  });
  const node: TestNode = {
    app,
    base,
    federation,
    follows: [],
    accepts: [],
    seenUrls: [],
    listenerRuns: 0,
    errorLogs,
  };

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      node.seenUrls.push(ctx.url.href);
      if (identifier === "boom") throw new Error("actor dispatcher exploded");
      if (!(identifier in opts.actors)) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new Person({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: `Test ${identifier}`,
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        publicKey: keys[0]?.cryptographicKey,
        assertionMethods: keys.map((k) => k.multikey),
      });
    })
    .setKeyPairsDispatcher((_ctx, identifier) => {
      const pair = opts.actors[identifier];
      return pair == null ? [] : [pair];
    });

  federation.setFollowersDispatcher("/users/{identifier}/followers", (_ctx, identifier) =>
    identifier in opts.actors ? { items: [] } : null,
  );

  federation
    .setInboxListeners("/users/{identifier}/inbox", "/inbox")
    .on(Follow, async (ctx, follow) => {
      node.listenerRuns += 1;
      const actor = await follow.getActor(ctx);
      node.follows.push({
        id: follow.id?.href,
        actorId: follow.actorId?.href,
        fetchedActorId: actor?.id?.href,
        recipient: ctx.recipient,
      });
      if (opts.replyAccept && actor != null && follow.id != null) {
        const me = ctx.recipient ?? Object.keys(opts.actors)[0]!;
        await ctx.sendActivity(
          { identifier: me },
          actor,
          new Accept({
            id: new URL(`${ctx.getActorUri(me).href}/accepts/${node.follows.length}`),
            actor: ctx.getActorUri(me),
            object: follow,
          }),
        );
      }
    })
    .on(Accept, (_ctx, accept) => {
      node.listenerRuns += 1;
      node.accepts.push({ actorId: accept.actorId?.href, objectId: accept.objectId?.href });
    });

  registerFedifyBridge(app, { federation, contextData: () => undefined, notFound: opts.notFound });

  app.post("/api/echo", async (request) => ({
    contentType: request.headers["content-type"],
    body: request.body,
  }));
  app.get("/users/:name", async (request, reply) => {
    const { name } = request.params as { name: string };
    return reply.type("text/html; charset=utf-8").send(`<!doctype html><h1>Profile of ${name}</h1>`);
  });
  app.get("/flag-probe", async (request) => ({ notAcceptable: isNotAcceptable(request) }));
  opts.fastifyRoutes?.(app);

  await app.listen({ host: "127.0.0.1", port });
  nodes.push(node);
  return node;
}

/** POST with node:http so the body goes out chunked (no Content-Length). */
function postChunked(url: string, chunks: Buffer[], headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    expect(req.getHeader("content-length")).toBeUndefined();
    const writeNext = (i: number): void => {
      if (i >= chunks.length) {
        req.end();
        return;
      }
      if (req.write(chunks[i]!)) writeNext(i + 1);
      else req.once("drain", () => writeNext(i + 1));
    };
    writeNext(0);
  });
}

/** A syntactically valid JSON activity padded to exactly `size` bytes. */
function paddedFollowJson(size: number, actor: string, object: string): string {
  const head = JSON.stringify({
    "@context": "https://www.w3.org/ns/activitystreams",
    type: "Follow",
    id: `${actor}/follows/padded`,
    actor,
    object,
    summary: "",
  });
  const pad = size - Buffer.byteLength(head);
  if (pad < 0) throw new Error("size too small");
  return head.replace('"summary":""', `"summary":"${"x".repeat(pad)}"`);
}

let aliceKeys: CryptoKeyPair;
let bobKeys: CryptoKeyPair;
let A: TestNode; // alice's server, the main subject
let B: TestNode; // bob's server, a real remote peer

beforeAll(async () => {
  [aliceKeys, bobKeys] = await Promise.all([
    generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
  ]);
  A = await startNode({
    actors: { alice: aliceKeys },
    replyAccept: true,
    fastifyRoutes: (app) => {
      app.post("/api/big", { bodyLimit: 4 * MiB }, async (request) => ({
        length: (request.body as string).length,
      }));
    },
  });
  B = await startNode({ actors: { bob: bobKeys } });
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.app.close()));
});

describe("a. non-federation routes keep their bodies", () => {
  it("a JSON POST /api/echo is parsed by Fastify intact", async () => {
    const payload = { hello: "world", nested: { n: [1, 2, 3] }, unicode: "ünïcødé ✓" };
    const res = await fetch(`${A.base}/api/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ contentType: "application/json", body: payload });
  });

  it("a text/plain body reaches Fastify too", async () => {
    const res = await fetch(`${A.base}/api/echo`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "just some text\nwith lines",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ contentType: "text/plain", body: "just some text\nwith lines" });
  });

  it("a chunked JSON body reaches Fastify", async () => {
    const res = await postChunked(
      `${A.base}/api/echo`,
      [Buffer.from('{"part":'), Buffer.from('"one and two"}')],
      { "content-type": "application/json" },
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ contentType: "application/json", body: { part: "one and two" } });
  });

  it("the federation body cap does not apply to Fastify routes (their own bodyLimit does)", async () => {
    const res = await fetch(`${A.base}/api/big`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "y".repeat(2 * MiB),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ length: 2 * MiB });
  });
});

describe("b. content negotiation between Fedify and Fastify", () => {
  it("serves the actor as activity+json", async () => {
    const res = await fetch(`${A.base}/users/alice`, { headers: { accept: AP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/activity\+json/);
    expect(res.headers.get("vary")).toMatch(/accept/i);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.id).toBe(`${A.base}/users/alice`);
    expect(json.type).toBe("Person");
    expect(json.inbox).toBe(`${A.base}/users/alice/inbox`);
  });

  it("renders the Fastify HTML route for a browser on the same URL", async () => {
    const res = await fetch(`${A.base}/users/alice`, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("<h1>Profile of alice</h1>");
  });

  it("answers 406 with Vary: Accept for a Fedify-only URL requested as HTML", async () => {
    const res = await fetch(`${A.base}/users/alice/followers`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(406);
    expect(res.headers.get("vary")).toMatch(/accept/i);
    expect(await res.json()).toMatchObject({ error: "NOT_ACCEPTABLE" });
  });

  it("still serves that collection as JSON to ActivityPub clients", async () => {
    const res = await fetch(`${A.base}/users/alice/followers`, { headers: { accept: AP } });
    expect(res.status).toBe(200);
    const json = (await res.json()) as Record<string, unknown>;
    expect(json.id).toBe(`${A.base}/users/alice/followers`);
  });

  it("answers a plain 404 for URLs neither side knows", async () => {
    const res = await fetch(`${A.base}/nothing/here`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "NOT_FOUND" });
  });

  it("delegates unflagged not-found requests to the app's notFound option, keeping the 406", async () => {
    const custom = await startNode({
      actors: { alice: aliceKeys },
      notFound: (request, reply) => reply.code(404).send({ custom: true, path: request.url }),
    });
    const missing = await fetch(`${custom.base}/nothing/here?q=1`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ custom: true, path: "/nothing/here?q=1" });
    const html = await fetch(`${custom.base}/users/alice/followers`, { headers: { accept: "text/html" } });
    expect(html.status).toBe(406);
  });

  it("only flags requests Fedify found not acceptable", async () => {
    const res = await fetch(`${A.base}/flag-probe`, { headers: { accept: "text/html" } });
    expect(await res.json()).toEqual({ notAcceptable: false });
  });
});

describe("c. signed Follow → Accept between two servers", () => {
  it("A verifies B's Follow and B receives A's Accept", async () => {
    const ctx = B.federation.createContext(new URL(B.base), undefined);
    const alice = await ctx.lookupObject(`${A.base}/users/alice`);
    expect(alice).not.toBeNull();
    if (!isActor(alice)) throw new Error("alice is not an actor");
    const followId = new URL(`${B.base}/users/bob/follows/1`);
    const before = A.follows.length;

    await ctx.sendActivity(
      { identifier: "bob" },
      alice,
      new Follow({ id: followId, actor: ctx.getActorUri("bob"), object: alice.id }),
      { immediate: true },
    );

    expect(A.follows.slice(before)).toEqual([
      {
        id: followId.href,
        actorId: `${B.base}/users/bob`,
        fetchedActorId: `${B.base}/users/bob`,
        recipient: "alice",
      },
    ]);
    expect(B.accepts).toContainEqual({ actorId: `${A.base}/users/alice`, objectId: followId.href });
  });

  it("a body altered after signing is rejected (verification covers the raw bytes)", async () => {
    const original = JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      type: "Follow",
      id: `${B.base}/users/bob/follows/tampered`,
      actor: `${B.base}/users/bob`,
      object: `${A.base}/users/alice`,
    });
    const signed = await signRequest(
      new Request(`${A.base}/users/alice/inbox`, {
        method: "POST",
        headers: { "content-type": AP, accept: AP },
        body: original,
      }),
      bobKeys.privateKey,
      new URL(`${B.base}/users/bob#main-key`),
    );
    const headers = new Headers(signed.headers);
    headers.delete("host");
    const runs = A.listenerRuns;
    const res = await fetch(`${A.base}/users/alice/inbox`, {
      method: "POST",
      headers,
      body: original.replace("tampered", "tampereD"),
    });
    expect(res.status).toBe(401);
    expect(A.listenerRuns).toBe(runs);
  });
});

describe("d. inbox guards", () => {
  const followJson = () =>
    JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      type: "Follow",
      id: `${B.base}/users/bob/follows/unsigned`,
      actor: `${B.base}/users/bob`,
      object: `${A.base}/users/alice`,
    });

  it("rejects an unsigned POST with 401", async () => {
    const runs = A.listenerRuns;
    const res = await fetch(`${A.base}/users/alice/inbox`, {
      method: "POST",
      headers: { "content-type": AP },
      body: followJson(),
    });
    expect(res.status).toBe(401);
    expect(A.listenerRuns).toBe(runs);
  });

  it("rejects 1 MiB + 1 byte with Content-Length with 413 JSON", async () => {
    const body = paddedFollowJson(MiB + 1, `${B.base}/users/bob`, `${A.base}/users/alice`);
    expect(Buffer.byteLength(body)).toBe(MiB + 1);
    const runs = A.listenerRuns;
    const res = await fetch(`${A.base}/users/alice/inbox`, {
      method: "POST",
      headers: { "content-type": AP },
      body,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toMatchObject({ error: "PAYLOAD_TOO_LARGE", limit: MiB });
    expect(A.listenerRuns).toBe(runs);
  });

  it("rejects 1 MiB + 1 byte sent chunked (no Content-Length) with 413 JSON", async () => {
    const body = Buffer.from(paddedFollowJson(MiB + 1, `${B.base}/users/bob`, `${A.base}/users/alice`));
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024));
    const runs = A.listenerRuns;
    const res = await postChunked(`${A.base}/inbox`, chunks, { "content-type": AP });
    expect(res.status).toBe(413);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toMatchObject({ error: "PAYLOAD_TOO_LARGE", limit: MiB });
    expect(A.listenerRuns).toBe(runs);
  });

  it("rejects an oversized declared Content-Length before the body is sent", async () => {
    // Only the first KiB is written; the rest would be sent after the response arrives, i.e.
    // never — so this only passes if the bridge answers from the header alone.
    const runs = A.listenerRuns;
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        `${A.base}/users/alice/inbox`,
        { method: "POST", headers: { "content-type": AP, "content-length": String(2 * MiB) } },
        (response) => {
          const parts: Buffer[] = [];
          response.on("data", (c: Buffer) => parts.push(c));
          response.on("end", () => {
            req.destroy();
            resolve({ status: response.statusCode ?? 0, body: Buffer.concat(parts).toString("utf8") });
          });
        },
      );
      req.on("error", reject);
      req.write(Buffer.alloc(1024, 0x20));
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: "PAYLOAD_TOO_LARGE" });
    expect(A.listenerRuns).toBe(runs);
  });

  it("accepts exactly 1 MiB (then fails on the missing signature, not on size)", async () => {
    const body = Buffer.from(paddedFollowJson(MiB, `${B.base}/users/bob`, `${A.base}/users/alice`));
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024));
    const chunked = await postChunked(`${A.base}/inbox`, chunks, { "content-type": AP });
    expect(chunked.status).toBe(401);
    const withLength = await fetch(`${A.base}/inbox`, { method: "POST", headers: { "content-type": AP }, body });
    expect(withLength.status).toBe(401);
  });

  it("answers malformed JSON with 400 (Fedify parses before verifying) and never runs the listener", async () => {
    const runs = A.listenerRuns;
    const res = await fetch(`${A.base}/users/alice/inbox`, {
      method: "POST",
      headers: {
        "content-type": AP,
        date: new Date().toUTCString(),
        signature: `keyId="${B.base}/users/bob#main-key",algorithm="rsa-sha256",headers="(request-target) host date",signature="AAAA"`,
      },
      body: '{"type": "Follow", "actor": ',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("Invalid JSON.");
    expect(A.listenerRuns).toBe(runs);
  });

  it("lets the listener-side server keep working after oversized uploads", async () => {
    const res = await fetch(`${A.base}/users/alice`, { headers: { accept: AP } });
    expect(res.status).toBe(200);
  });
});

describe("e. public URL behind a reverse proxy", () => {
  let trusting: TestNode;
  let ignoring: TestNode;

  beforeAll(async () => {
    trusting = await startNode({ actors: { alice: aliceKeys }, origin: "https://pod.example", trustProxy: true });
    ignoring = await startNode({ actors: { alice: aliceKeys }, origin: "https://pod.example", trustProxy: false });
  });

  const proxyHeaders = { "x-forwarded-proto": "https", "x-forwarded-host": "pod.example" };

  it("Fedify sees https://pod.example/... when trustProxy allows the forwarded headers", async () => {
    const res = await fetch(`${trusting.base}/users/alice?x=1`, { headers: { accept: AP, ...proxyHeaders } });
    expect(res.status).toBe(200);
    expect(trusting.seenUrls.at(-1)).toBe("https://pod.example/users/alice?x=1");
  });

  it("ignores the forwarded headers when trustProxy is false", async () => {
    const res = await fetch(`${ignoring.base}/users/alice?x=1`, { headers: { accept: AP, ...proxyHeaders } });
    expect(res.status).toBe(200);
    expect(ignoring.seenUrls.at(-1)).toBe(`${ignoring.base}/users/alice?x=1`);
  });

  for (const spec of ["draft-cavage-http-signatures-12", "rfc9421"] as const) {
    it(`verifies a ${spec} signature made for https://pod.example only when the proxy is trusted`, async () => {
      const makeSigned = async (id: string) => {
        const body = JSON.stringify({
          "@context": "https://www.w3.org/ns/activitystreams",
          type: "Follow",
          id: `${B.base}/users/bob/follows/${id}`,
          actor: `${B.base}/users/bob`,
          object: "https://pod.example/users/alice",
        });
        const signed = await signRequest(
          new Request("https://pod.example/users/alice/inbox", {
            method: "POST",
            headers: { "content-type": AP },
            body,
          }),
          bobKeys.privateKey,
          new URL(`${B.base}/users/bob#main-key`),
          { spec },
        );
        const headers = new Headers(signed.headers);
        headers.delete("host"); // the real Host is the backend address, as behind a proxy
        for (const [k, v] of Object.entries(proxyHeaders)) headers.set(k, v);
        return { headers, body };
      };

      const viaTrusting = await makeSigned(`proxy-${spec}-1`);
      const ok = await fetch(`${trusting.base}/users/alice/inbox`, { method: "POST", ...viaTrusting });
      expect(ok.status).toBe(202);
      expect(trusting.follows.at(-1)).toMatchObject({
        id: `${B.base}/users/bob/follows/proxy-${spec}-1`,
        fetchedActorId: `${B.base}/users/bob`,
      });

      const runs = ignoring.listenerRuns;
      const viaIgnoring = await makeSigned(`proxy-${spec}-2`);
      const rejected = await fetch(`${ignoring.base}/users/alice/inbox`, { method: "POST", ...viaIgnoring });
      expect(rejected.status).toBe(401);
      expect(ignoring.listenerRuns).toBe(runs);
    });
  }
});

describe("f. HEAD and WebFinger", () => {
  it("HEAD on the actor answers like GET without a body", async () => {
    const res = await fetch(`${A.base}/users/alice`, { method: "HEAD", headers: { accept: AP } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/activity\+json/);
    expect(Number(res.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await res.text()).toBe("");
  });

  for (const accept of ["text/html", "application/jrd+json", "*/*"]) {
    it(`WebFinger answers JRD JSON for Accept: ${accept}`, async () => {
      const host = new URL(A.base).host;
      const res = await fetch(
        `${A.base}/.well-known/webfinger?resource=${encodeURIComponent(`acct:alice@${host}`)}`,
        { headers: { accept } },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/json/);
      const jrd = (await res.json()) as { subject: string; links: { rel: string; href?: string }[] };
      expect(jrd.subject).toBe(`acct:alice@${host}`);
      expect(jrd.links).toContainEqual(expect.objectContaining({ rel: "self", href: `${A.base}/users/alice` }));
    });
  }

  it("WebFinger for an unknown account falls through to a 404", async () => {
    const host = new URL(A.base).host;
    const res = await fetch(`${A.base}/.well-known/webfinger?resource=${encodeURIComponent(`acct:nobody@${host}`)}`);
    expect(res.status).toBe(404);
  });
});

describe("a federation that reads the body and then gives up", () => {
  it("goes straight to the not-found handler instead of letting Fastify wait for a drained body", async () => {
    // Stub standing in for Fedify: consumes the body, then reports "not mine".
    const seenBodies: string[] = [];
    const stub = {
      fetch: async (request: Request, options: { onNotFound: (r: Request) => Response | Promise<Response> }) => {
        seenBodies.push(await request.text());
        return options.onNotFound(request);
      },
    } as unknown as Federation<void>;
    const app = Fastify();
    registerFedifyBridge(app, { federation: stub, contextData: () => undefined });
    app.post("/api/echo", async (request) => ({ body: request.body }));
    await app.listen({ host: "127.0.0.1", port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/api/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"a":1}',
      });
      expect(res.status).toBe(404);
      expect(seenBodies).toEqual(['{"a":1}']);
    } finally {
      await app.close();
    }
  });
});

describe("errors inside federation.fetch", () => {
  it("become a logged 500 through Fastify's error path", async () => {
    const res = await fetch(`${A.base}/users/boom`, { headers: { accept: AP } });
    expect(res.status).toBe(500);
    expect(A.errorLogs.some((line) => line.includes("actor dispatcher exploded"))).toBe(true);
  });
});
