/**
 * How the fediverse and browsers find a pod, checked on a real node against
 * the team's Mastodon interop notes (shared/reference/mastodon-interop.md): WebFinger (§1), the actor document (§2),
 * the HTML page on the same URL, NodeInfo (§17) and the health endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startNode } from "../../src/node.ts";
import { createPod, updatePod } from "../../src/services/pods.ts";
import { TEST_DATABASE, createTestDatabase } from "../helpers/db.ts";
import { freePort, startTestNode, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";
const AS = "https://www.w3.org/ns/activitystreams";
/** What Mastodon sends when it fetches a pasted URL (app/services/fetch_resource_service.rb). */
const MASTODON_ACCEPT = `application/ld+json; profile="${AS}", application/activity+json, text/html;q=0.1`;
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street" });
  await updatePod(node.deps, "oak-street", {
    summary: "We share tools & seeds.\n\nAsk <anyone> on the street.",
    iconUrl: "https://images.example/oak.png",
  });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
});

afterAll(async () => {
  await node?.stop();
});

async function get(path: string, accept?: string) {
  const response = await fetch(`${node.origin}${path}`, { headers: accept ? { accept } : {} });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const webfinger = (resource: string) => get(`/.well-known/webfinger?resource=${encodeURIComponent(resource)}`, "application/jrd+json, application/json");

describe("WebFinger", () => {
  const acct = () => `acct:oak-street@${node.host}`;

  it("answers acct:slug@host with a self link byte-identical to the actor id", async () => {
    const r = await webfinger(acct());
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/jrd\+json/);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const jrd = r.json();
    expect(jrd.subject).toBe(acct());
    const self = jrd.links.filter((l: any) => l.rel === "self");
    expect(self).toEqual([{ rel: "self", type: AP, href: node.actorUrl("oak-street") }]);

    const actor = (await get("/pods/oak-street", AP)).json();
    expect(self[0].href).toBe(actor.id);
    // Mastodon's loop-back check: webfinger preferredUsername@<host of actor id>.
    expect(`acct:${actor.preferredUsername}@${new URL(actor.id).host}`).toBe(acct());
    // The profile page link, as Mastodon publishes it.
    expect(jrd.links).toContainEqual(expect.objectContaining({ rel: "http://webfinger.net/rel/profile-page", href: `${node.origin}/@oak-street` }));
  });

  it("answers the actor URL as resource with the same self link", async () => {
    const r = await webfinger(node.actorUrl("oak-street"));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/jrd\+json/);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const jrd = r.json();
    // Fedify names the queried URL as subject and the account as an alias (RFC 7033 allows
    // either); the acct: form must be in the document.
    expect([jrd.subject, ...(jrd.aliases ?? [])]).toContain(acct());
    expect(jrd.links.filter((l: any) => l.rel === "self")).toEqual([{ rel: "self", type: AP, href: node.actorUrl("oak-street") }]);
  });

  it("matches the username case-insensitively", async () => {
    const r = await webfinger(`acct:OAK-Street@${node.host}`);
    expect(r.status).toBe(200);
    expect(r.json().links.find((l: any) => l.rel === "self").href).toBe(node.actorUrl("oak-street"));
  });

  it("answers 404 for an unknown account", async () => {
    const r = await webfinger(`acct:nobody-here@${node.host}`);
    expect(r.status).toBe(404);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect((await webfinger(`${node.origin}/pods/nobody-here`)).status).toBe(404);
  });
});

describe("actor document", () => {
  let actor: any;
  let headers: Headers;

  beforeAll(async () => {
    const r = await get("/pods/oak-street", AP);
    expect(r.status).toBe(200);
    actor = r.json();
    headers = r.headers;
  });

  it("is served as application/activity+json with the ActivityStreams context", () => {
    expect(headers.get("content-type")).toMatch(/^application\/activity\+json/);
    const context = Array.isArray(actor["@context"]) ? actor["@context"] : [actor["@context"]];
    expect(context).toContain(AS);
  });

  it("describes the pod as a Group whose id is its URL", () => {
    expect(actor.id).toBe(`${node.origin}/pods/oak-street`);
    expect(actor.type).toBe("Group");
    expect(actor.preferredUsername).toBe("oak-street");
    expect(actor.name).toBe("Oak Street");
    expect(actor.summary).toBe("<p>We share tools &amp; seeds.</p><p>Ask &lt;anyone&gt; on the street.</p>");
    expect(actor.url).toBe(`${node.origin}/@oak-street`);
    expect(new URL(actor.url).host).toBe(new URL(actor.id).host);
    expect(actor.manuallyApprovesFollowers).toBe(false);
    expect(actor.discoverable).toBe(true);
  });

  it("links inbox, shared inbox, outbox, followers, following and featured", () => {
    expect(actor.inbox).toBe(`${actor.id}/inbox`);
    expect(actor.endpoints).toEqual({ sharedInbox: `${node.origin}/inbox` });
    expect(actor.outbox).toBe(`${actor.id}/outbox`);
    expect(actor.followers).toBe(`${actor.id}/followers`);
    expect(actor.following).toBe(`${actor.id}/following`);
    expect(actor.featured).toBe(`${actor.id}/featured`);
  });

  it("publishes an RSA key owned by the actor and an Ed25519 Multikey", async () => {
    expect(actor.publicKey).toMatchObject({ id: `${actor.id}#main-key`, owner: actor.id });
    expect(actor.publicKey.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
    const rsa = await crypto.subtle.importKey("spki", pemToDer(actor.publicKey.publicKeyPem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
    // New pods sign with RSA-2048, as Mastodon does.
    expect((rsa.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(2048);

    const methods = Array.isArray(actor.assertionMethod) ? actor.assertionMethod : [actor.assertionMethod];
    const ed25519 = methods.filter((m: any) => m.type === "Multikey" && m.publicKeyMultibase.startsWith("z6Mk"));
    expect(ed25519).toHaveLength(1);
    expect(ed25519[0].controller).toBe(actor.id);
    expect(ed25519[0].id.startsWith(`${actor.id}#`)).toBe(true);
  });

  it("has an icon object when the pod has an icon, and none when not", async () => {
    expect(actor.icon).toEqual({ type: "Image", url: "https://images.example/oak.png" });
    const elm = (await get("/pods/elm-row", AP)).json();
    expect(elm.id).toBe(`${node.origin}/pods/elm-row`);
    expect(elm).not.toHaveProperty("icon");
    expect(elm).not.toHaveProperty("summary");
  });

  it("is what Mastodon gets when it fetches the URL", async () => {
    const r = await get("/pods/oak-street", MASTODON_ACCEPT);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/(activity|ld)\+json/);
    expect(r.json().id).toBe(actor.id);
    const ld = await get("/pods/oak-street", `application/ld+json; profile="${AS}"`);
    expect(ld.status).toBe(200);
    expect(ld.json().id).toBe(actor.id);
  });

  it("answers 404 for an unknown pod", async () => {
    expect((await get("/pods/nobody-here", AP)).status).toBe(404);
  });
});

describe("HTML pages", () => {
  it("the actor URL shows a page with the handle, follow instructions and discovery links", async () => {
    const r = await get("/pods/oak-street", BROWSER_ACCEPT);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    expect(r.headers.get("vary")).toMatch(/accept/i);
    const page = r.text;
    expect(page).toContain("<h1>Oak Street</h1>");
    expect(page).toContain(`@oak-street@${node.host}`);
    expect(page).toMatch(/Follow this pod/);
    expect(page).toMatch(/How to follow from Mastodon/);
    expect(page).toMatch(/search box/);
    expect(page).toContain(`<link rel="alternate" type="application/activity+json" href="${node.actorUrl("oak-street")}">`);
    expect(page).toContain(`<meta property="og:title" content="Oak Street (@oak-street@${node.host})">`);
    expect(page).toContain(`<meta property="og:url" content="${node.actorUrl("oak-street")}">`);
    expect(page).toContain(`<meta property="og:description" content="We share tools &amp; seeds.`);
    expect(page).toContain(`<meta property="og:image" content="https://images.example/oak.png">`);
    expect(page).toContain(`<meta property="og:type" content="profile">`);
    // The summary is escaped, never interpreted.
    expect(page).toContain("Ask &lt;anyone&gt; on the street.");
    expect(page).not.toContain("<anyone>");
  });

  it("the page's stylesheet is not HTML-escaped", async () => {
    const page = (await get("/pods/oak-street", BROWSER_ACCEPT)).text;
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)?.[1];
    expect(style).toBeDefined();
    expect(style).toContain('"Segoe UI"');
    expect(style).not.toMatch(/&(quot|amp|lt|gt|#39);/);
  });

  it("/@slug serves the same page", async () => {
    const short = await get("/@oak-street", BROWSER_ACCEPT);
    expect(short.status).toBe(200);
    expect(short.headers.get("content-type")).toMatch(/^text\/html/);
    expect(short.text).toBe((await get("/pods/oak-street", BROWSER_ACCEPT)).text);
  });

  it("a pod without an icon has no og:image", async () => {
    const page = (await get("/@elm-row", BROWSER_ACCEPT)).text;
    expect(page).toContain("<h1>Elm Row</h1>");
    expect(page).not.toContain("og:image");
  });

  it("an unknown pod is a 404 page", async () => {
    for (const path of ["/pods/nobody-here", "/@nobody-here"]) {
      const r = await get(path, BROWSER_ACCEPT);
      expect(r.status).toBe(404);
      expect(r.headers.get("content-type")).toMatch(/^text\/html/);
      expect(r.text).toContain("No such pod");
    }
  });

  it("a federation-only URL asked for as HTML is 406", async () => {
    const r = await get("/pods/oak-street/followers", BROWSER_ACCEPT);
    expect(r.status).toBe(406);
    expect(r.headers.get("vary")).toMatch(/accept/i);
    const json = await get("/pods/oak-street/followers", AP);
    expect(json.status).toBe(200);
    expect(json.json().type).toMatch(/Collection$/);
  });
});

describe("NodeInfo", () => {
  it("/.well-known/nodeinfo links the 2.0 and 2.1 documents", async () => {
    const r = await get("/.well-known/nodeinfo", "application/json");
    expect(r.status).toBe(200);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const links: Array<{ rel: string; href: string }> = r.json().links;
    const byRel = Object.fromEntries(links.map((l) => [l.rel, l.href]));
    expect(byRel["http://nodeinfo.diaspora.software/ns/schema/2.0"]).toBe(`${node.origin}/nodeinfo/2.0`);
    expect(byRel["http://nodeinfo.diaspora.software/ns/schema/2.1"]).toBe(`${node.origin}/nodeinfo/2.1`);
  });

  it.each(["2.0", "2.1"])("/nodeinfo/%s describes the software, protocols and metadata", async (version) => {
    const r = await get(`/nodeinfo/${version}`, "application/json");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain(`http://nodeinfo.diaspora.software/ns/schema/${version}#`);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    const doc = r.json();
    expect(doc.version).toBe(version);
    expect(doc.software.name).toBe("hyphae");
    expect(doc.software.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.protocols).toEqual(["activitypub"]);
    expect(doc.services).toEqual({ inbound: [], outbound: [] });
    expect(doc.openRegistrations).toBe(false);
    expect(doc.usage.users.total).toBe(2);
    expect(typeof doc.metadata).toBe("object");
    expect(doc.metadata).not.toBeNull();
    expect(doc.metadata.nodeName).toContain(node.host);
  });
});

describe("health", () => {
  it("/healthz reports the database and queue depth", async () => {
    const r = await get("/healthz");
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const body = r.json();
    expect(body.status).toBe("ok");
    expect(body.role).toBe("all");
    expect(body.database).toMatchObject({ ok: true, kind: TEST_DATABASE });
    expect(typeof body.database.latencyMs).toBe("number");
    expect(body.queue).toEqual({
      queued: expect.any(Number),
      ready: expect.any(Number),
      delayed: expect.any(Number),
      leased: expect.any(Number),
      dead: expect.any(Number),
      oldestPendingSeconds: expect.any(Number),
    });
    expect(body.queue.queued).toBeGreaterThanOrEqual(0);
    expect(typeof body.outboxPending).toBe("number");
  });
});

describe("restart", () => {
  it("keeps the pod's keys across a node restart on the same database", async () => {
    const database = await createTestDatabase();
    const port = await freePort();
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      POD_SLUG: "birch-lane",
      POD_NAME: "Birch Lane",
      ALLOW_PRIVATE_ADDRESSES: "true",
      LOG_LEVEL: "silent",
      ADMIN_SOCKET: "off",
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    });
    const actorUrl = `http://127.0.0.1:${port}/pods/birch-lane`;
    const fetchActor = async () => (await (await fetch(actorUrl, { headers: { accept: AP } })).json()) as any;
    const storedKeys = () => database.handle.db.selectFrom("pod_keys").select(["pod_id", "algorithm", "public_jwk", "private_jwk"]).orderBy("algorithm").execute();
    try {
      const first = await startNode(config, { database: database.handle });
      let before: any;
      let keysBefore: unknown;
      try {
        expect(first.createdPod?.slug).toBe("birch-lane");
        before = await fetchActor();
        keysBefore = await storedKeys();
      } finally {
        await first.stop();
      }
      const second = await startNode(config, { database: database.handle });
      try {
        expect(second.createdPod).toBeNull();
        const after = await fetchActor();
        expect(after.id).toBe(before.id);
        expect(after.publicKey).toEqual(before.publicKey);
        expect(after.assertionMethod).toEqual(before.assertionMethod);
        expect(await storedKeys()).toEqual(keysBefore);
        // The published key is the stored one (not something cached in this process).
        const rsa = (keysBefore as Array<{ algorithm: string; public_jwk: JsonWebKey }>).find((k) => k.algorithm === "RSASSA-PKCS1-v1_5")!;
        expect(after.publicKey.publicKeyPem.trim()).toBe(await jwkToPem(rsa.public_jwk));
      } finally {
        await second.stop();
      }
    } finally {
      await database.drop();
    }
  });
});

function pemToDer(pem: string): ArrayBuffer {
  const b64 = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  const bytes = Buffer.from(b64, "base64");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

async function jwkToPem(jwk: JsonWebKey): Promise<string> {
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
  const der = Buffer.from(await crypto.subtle.exportKey("spki", key)).toString("base64");
  return `-----BEGIN PUBLIC KEY-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----`;
}
