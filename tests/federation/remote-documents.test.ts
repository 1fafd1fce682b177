/**
 * The loader factories the node gives Fedify (src/federation/remote-documents.ts): the
 * private-address rule applied by each of them, with and without ALLOW_PRIVATE_ADDRESSES;
 * actors and keys fetched once per identity within the memory's time, everything else
 * every time; copies; bounded waits. And on a real node: a Follow from a new actor fetches
 * that actor's document once.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MEMO_MS, remoteDocumentLoaders } from "../../src/federation/remote-documents.ts";
import { requestFollow } from "../../src/services/follows.ts";
import { AS_CONTEXT, postSigned, startFakeMastodon, type FakeMastodon } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";

interface Served {
  origin: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** A loopback server: /actor is a Group, /note a Note, /silent never answers. */
async function serve(): Promise<Served> {
  const hits = new Map<string, number>();
  const pending = new Set<http.ServerResponse>();
  let origin = "";
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === "/silent") {
      pending.add(res);
      return;
    }
    const body =
      path === "/actor"
        ? { "@context": AS_CONTEXT, id: `${origin}/actor`, type: "Group", inbox: `${origin}/inbox`, name: `Version ${hits.get(path)}` }
        : path === "/note"
          ? { "@context": AS_CONTEXT, id: `${origin}/note`, type: "Note", content: `Version ${hits.get(path)}` }
          : null;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": AP }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of pending) res.destroy();
        server.close(() => resolve());
      }),
  };
}

let remote: Served;
let identity: { keyId: URL; privateKey: CryptoKey };

beforeAll(async () => {
  remote = await serve();
  const pair = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  identity = { keyId: new URL("http://127.0.0.1:9/pods/a#main-key"), privateKey: pair.privateKey };
});
afterAll(async () => {
  await remote?.close();
});

function loaders(allowPrivateAddresses: boolean, now?: () => number) {
  return remoteDocumentLoaders({ allowPrivateAddresses, kv: new MemoryKvStore(), ...(now && { now }), fetchTimeoutMs: 500 });
}

describe("the private-address rule", () => {
  it("refuses loopback addresses in every loader without ALLOW_PRIVATE_ADDRESSES, before any request", async () => {
    const l = loaders(false);
    const before = remote.hits.get("/note") ?? 0;
    // Fedify passes allowPrivateAddress itself; the factories must not listen to it.
    await expect(l.documentLoaderFactory({ allowPrivateAddress: true })(`${remote.origin}/note`)).rejects.toThrow();
    await expect(l.contextLoaderFactory({ allowPrivateAddress: true })(`${remote.origin}/note`)).rejects.toThrow();
    await expect(l.authenticatedDocumentLoaderFactory(identity, { allowPrivateAddress: true })(`${remote.origin}/note`)).rejects.toThrow();
    expect(remote.hits.get("/note") ?? 0).toBe(before);
  });

  it("fetches loopback addresses in every loader with ALLOW_PRIVATE_ADDRESSES, even when Fedify asks for false", async () => {
    const l = loaders(true);
    const before = remote.hits.get("/note") ?? 0;
    const options = { allowPrivateAddress: false };
    expect((await l.documentLoaderFactory(options)(`${remote.origin}/note`)).document).toMatchObject({ type: "Note" });
    expect((await l.contextLoaderFactory(options)(`${remote.origin}/note`)).document).toMatchObject({ type: "Note" });
    expect((await l.authenticatedDocumentLoaderFactory(identity, options)(`${remote.origin}/note`)).document).toMatchObject({ type: "Note" });
    // The first two share Fedify's KV cache (as its built-in loaders do); the signed fetch does not.
    expect((remote.hits.get("/note") ?? 0) - before).toBe(2);
  });
});

describe("documents fetched once", () => {
  it("an actor is fetched once per identity within the memory's time, with or without a fragment", async () => {
    let now = 0;
    const l = loaders(true, () => now);
    const before = remote.hits.get("/actor") ?? 0;
    const signed = l.authenticatedDocumentLoaderFactory(identity);
    const first = await signed(`${remote.origin}/actor`);
    const again = await signed(`${remote.origin}/actor#main-key`);
    expect(again.document).toEqual(first.document);
    expect(again.documentUrl).toBe(first.documentUrl);
    expect((remote.hits.get("/actor") ?? 0) - before).toBe(1);
    expect(l.stats).toMatchObject({ reused: 1, fetched: 1 });
    // Another pod signing: its own fetch (an authorized-fetch server may answer it otherwise).
    const other = { ...identity, keyId: new URL("http://127.0.0.1:9/pods/b#main-key") };
    await l.authenticatedDocumentLoaderFactory(other)(`${remote.origin}/actor`);
    expect((remote.hits.get("/actor") ?? 0) - before).toBe(2);
    // Past the memory's time: fetched afresh, and the new version is what callers get.
    now += MEMO_MS + 1;
    const later = await signed(`${remote.origin}/actor`);
    expect((remote.hits.get("/actor") ?? 0) - before).toBe(3);
    expect(later.document).not.toEqual(first.document);
  });

  it("objects that change under one id (a Note) are fetched every time", async () => {
    const l = loaders(true, () => 0);
    const signed = l.authenticatedDocumentLoaderFactory(identity);
    const before = remote.hits.get("/note") ?? 0;
    const a = await signed(`${remote.origin}/note`);
    const b = await signed(`${remote.origin}/note`);
    expect((remote.hits.get("/note") ?? 0) - before).toBe(2);
    expect(a.document).not.toEqual(b.document);
  });

  it("each caller gets its own copy", async () => {
    const l = loaders(true, () => 0);
    const signed = l.authenticatedDocumentLoaderFactory(identity);
    await signed(`${remote.origin}/actor`);
    const mine = (await signed(`${remote.origin}/actor`)).document as { name: string };
    mine.name = "changed by a caller";
    expect(((await signed(`${remote.origin}/actor`)).document as { name: string }).name).not.toBe("changed by a caller");
  });

  it("a server that never answers is given up on", async () => {
    const l = loaders(true);
    const started = performance.now();
    await expect(l.authenticatedDocumentLoaderFactory(identity)(`${remote.origin}/silent`)).rejects.toThrow();
    await expect(l.documentLoaderFactory()(`${remote.origin}/silent`)).rejects.toThrow();
    // Bounded by the loaders' timeout (500 ms here), not by the server.
    expect(remote.hits.get("/silent")).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe("on a real node", () => {
  let node: TestNode;
  let strict: TestNode;
  let masto: FakeMastodon;
  beforeAll(async () => {
    [node, strict, masto] = await Promise.all([
      startTestNode({ podSlug: "fern-yard" }),
      startTestNode({ podSlug: "fern-yard", env: { ALLOW_PRIVATE_ADDRESSES: "false" } }),
      startFakeMastodon({ users: ["carol"] }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([node?.stop(), strict?.stop(), masto?.close()]);
  });

  it("following an actor on a loopback address is refused without ALLOW_PRIVATE_ADDRESSES, by URL and by handle, before any request", async () => {
    const carol = masto.user("carol");
    const before = masto.requests.length;
    // Refused by the loader; the lookup then finds nothing there (as for any unreachable actor).
    const refused = { code: expect.stringMatching(/^(REMOTE_LOOKUP_FAILED|NOT_AN_ACTOR)$/) };
    await expect(requestFollow(strict.deps, "fern-yard", carol.actorUrl)).rejects.toMatchObject(refused);
    await expect(requestFollow(strict.deps, "fern-yard", `@carol@${masto.host}`)).rejects.toMatchObject(refused);
    expect(masto.requests.length).toBe(before);
    // The same lookup on a node that allows them (tests) resolves.
    expect((await node.deps.actors.resolve("fern-yard", carol.actorUrl)).iri).toBe(carol.actorUrl);
  });

  it("a Follow from an actor it has never seen fetches that actor's document once", async () => {
    const carol = masto.user("carol");
    const pod = node.actorUrl("fern-yard");
    const actorPath = new URL(carol.actorUrl).pathname;
    const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: carol.actorUrl, object: pod };
    const actor = (await (await fetch(pod, { headers: { accept: AP } })).json()) as { inbox: string };
    const result = await postSigned(actor.inbox, follow, { signer: carol });
    expect(result.status).toBe(202);
    await waitFor(() => masto.inbox.some((r) => JSON.parse(r.body.toString("utf8")).type === "Accept"), 15_000, "the Accept");
    const fetches = masto.requests.filter((r) => r.method === "GET" && r.path.split("#")[0] === actorPath);
    expect(fetches).toHaveLength(1);
  });
});
