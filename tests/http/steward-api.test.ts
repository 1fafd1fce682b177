/**
 * The steward API on a real node with two pods: every way a token can be wrong gets its
 * own 401/403 code, bad input gets a 400 naming the field and changes nothing, follows
 * of unresolvable targets store nothing, and the OpenAPI document matches the live routes.
 */
import { SignJWT, decodeJwt, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { issueToken, revokeToken } from "../../src/services/tokens.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { freePort, startTestNode, type TestNode } from "../helpers/node.ts";

const PREFIX = "/api/hyphae/v1";

let node: TestNode;
let tokenA: string;
let tokenB: string;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street" });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
  tokenA = await node.token("oak-street");
  tokenB = await node.token("elm-row");
});

afterAll(async () => {
  await node?.stop();
});

async function call(method: string, path: string, options: { token?: string; authorization?: string; body?: unknown; rawBody?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${node.origin}${PREFIX}${path}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

async function expectError(response: Promise<{ status: number; body: any }>, status: number, code: string) {
  const r = await response;
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
  expect(typeof r.body.message).toBe("string");
  expect(r.body.message.length).toBeGreaterThan(0);
  return r.body as { error: string; message: string; details?: any };
}

describe("authentication", () => {
  it("a valid token for the pod → 200", async () => {
    const r = await call("GET", "/pods/oak-street", { token: tokenA });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ slug: "oak-street", name: "Oak Street", handle: node.handle("oak-street"), actorUrl: node.actorUrl("oak-street") });
    const me = await call("GET", "/token", { token: tokenA });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ pod: "oak-street", role: "steward", jti: decodeJwt(tokenA).jti });
  });

  it("no Authorization header → 401 TOKEN_MISSING", async () => {
    const missing = await call("GET", "/pods/oak-street");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    await expectError(call("GET", "/pods/oak-street"), 401, "TOKEN_MISSING");
    await expectError(call("GET", "/token"), 401, "TOKEN_MISSING");
  });

  it("a non-Bearer scheme → 401 TOKEN_MALFORMED (a credential was sent, but not one this API reads)", async () => {
    await expectError(call("GET", "/pods/oak-street", { authorization: "Basic x" }), 401, "TOKEN_MALFORMED");
    await expectError(call("GET", "/pods/oak-street", { authorization: `Basic ${Buffer.from("oak:secret").toString("base64")}` }), 401, "TOKEN_MALFORMED");
    await expectError(call("GET", "/pods/oak-street", { authorization: "Bearer" }), 401, "TOKEN_MALFORMED");
  });

  it("garbage that is not a JWT → 401 TOKEN_MALFORMED", async () => {
    await expectError(call("GET", "/pods/oak-street", { token: "not-a-jwt" }), 401, "TOKEN_MALFORMED");
    await expectError(call("GET", "/pods/oak-street", { token: "a.b.c.d" }), 401, "TOKEN_MALFORMED");
  });

  it("a JWT-shaped string that does not parse → 401 TOKEN_INVALID", async () => {
    await expectError(call("GET", "/pods/oak-street", { token: "aaaa.bbbb.cccc" }), 401, "TOKEN_INVALID");
  });

  it("a JWT with the right claims signed by another EdDSA key → 401 TOKEN_INVALID", async () => {
    const claims = decodeJwt(tokenA);
    const { privateKey } = await generateKeyPair("EdDSA");
    const forged = await new SignJWT({ pod: claims.pod, role: claims.role })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setIssuer(claims.iss!)
      .setAudience(claims.aud!)
      .setSubject(claims.sub!)
      .setJti(claims.jti!)
      .setIssuedAt(claims.iat!)
      .setExpirationTime(claims.exp!)
      .sign(privateKey);
    expect(decodeJwt(forged)).toEqual(claims);
    await expectError(call("GET", "/pods/oak-street", { token: forged }), 401, "TOKEN_INVALID");
  });

  it("an unsigned (alg none) token → 401 TOKEN_MALFORMED; an HMAC-signed one → 401 TOKEN_INVALID", async () => {
    const [, payload] = tokenA.split(".");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url")}.${payload}.`;
    // `alg: none` tokens have an empty signature, which is not even JWT-shaped here.
    await expectError(call("GET", "/pods/oak-street", { token: none }), 401, "TOKEN_MALFORMED");
    const claims = decodeJwt(tokenA);
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("a shared secret of 32 bytes!!!!!"));
    await expectError(call("GET", "/pods/oak-street", { token: hmac }), 401, "TOKEN_INVALID");
  });

  it("an expired token → 401 TOKEN_EXPIRED", async () => {
    const past = new Date(Date.now() - 10 * 86_400_000);
    const deps: ServiceDeps = { ...node.deps, clock: { now: () => past } };
    const { token, expiresAt } = await issueToken(deps, { podSlug: "oak-street", ttlDays: 1 });
    expect(expiresAt.getTime()).toBeLessThan(Date.now());
    await expectError(call("GET", "/pods/oak-street", { token }), 401, "TOKEN_EXPIRED");
  });

  it("a revoked token → 401 TOKEN_REVOKED", async () => {
    const issued = await issueToken(node.deps, { podSlug: "oak-street" });
    expect((await call("GET", "/pods/oak-street", { token: issued.token })).status).toBe(200);
    await revokeToken(node.deps, issued.jti);
    await expectError(call("GET", "/pods/oak-street", { token: issued.token }), 401, "TOKEN_REVOKED");
  });

  it("a correctly signed token the node has no record of → 401 TOKEN_UNKNOWN", async () => {
    const issued = await issueToken(node.deps, { podSlug: "oak-street" });
    await node.deps.db.deleteFrom("steward_tokens").where("jti", "=", issued.jti).execute();
    await expectError(call("GET", "/pods/oak-street", { token: issued.token }), 401, "TOKEN_UNKNOWN");
  });

  it("a valid token of pod A used on pod B → 403 TOKEN_WRONG_POD", async () => {
    await expectError(call("GET", "/pods/elm-row", { token: tokenA }), 403, "TOKEN_WRONG_POD");
    await expectError(call("PATCH", "/pods/elm-row", { token: tokenA, body: { name: "Taken over" } }), 403, "TOKEN_WRONG_POD");
    await expectError(call("GET", "/pods/oak-street/followers", { token: tokenB }), 403, "TOKEN_WRONG_POD");
    const elm = await call("GET", "/pods/elm-row", { token: tokenB });
    expect(elm.status).toBe(200);
    expect(elm.body.name).toBe("Elm Row");
  });
});

describe("validation", () => {
  const podNow = async () => (await call("GET", "/pods/oak-street", { token: tokenA })).body;

  it("PATCH with an unknown field → 400 VALIDATION_FAILED naming the field, pod unchanged", async () => {
    const before = await podNow();
    const error = await expectError(call("PATCH", "/pods/oak-street", { token: tokenA, body: { name: "New name", colour: "green" } }), 400, "VALIDATION_FAILED");
    expect(error.message).toContain("colour");
    expect(await podNow()).toEqual(before);
  });

  it("PATCH with an empty or blank name → 400 naming `name`, pod unchanged", async () => {
    const before = await podNow();
    for (const name of ["", "   "]) {
      const error = await expectError(call("PATCH", "/pods/oak-street", { token: tokenA, body: { name } }), 400, "VALIDATION_FAILED");
      expect(error.message).toMatch(/^name: /);
      expect(error.details.issues[0].field).toBe("name");
    }
    expect(await podNow()).toEqual(before);
  });

  it("PATCH with a wrongly typed field → 400 naming it, pod unchanged", async () => {
    const before = await podNow();
    const error = await expectError(call("PATCH", "/pods/oak-street", { token: tokenA, body: { manuallyApprovesFollowers: "yes" } }), 400, "VALIDATION_FAILED");
    expect(error.message).toContain("manuallyApprovesFollowers");
    const icon = await expectError(call("PATCH", "/pods/oak-street", { token: tokenA, body: { iconUrl: "javascript:alert(1)" } }), 400, "VALIDATION_FAILED");
    expect(icon.message).toContain("iconUrl");
    expect(await podNow()).toEqual(before);
  });

  it("malformed JSON → 400 MALFORMED_JSON, pod unchanged", async () => {
    const before = await podNow();
    await expectError(call("PATCH", "/pods/oak-street", { token: tokenA, rawBody: '{"name": "Half' }), 400, "MALFORMED_JSON");
    expect(await podNow()).toEqual(before);
  });

  it("a valid PATCH changes only what it names", async () => {
    const before = await podNow();
    const r = await call("PATCH", "/pods/oak-street", { token: tokenA, body: { summary: "Tools and seeds." } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ...before, summary: "Tools and seeds." });
    expect(await podNow()).toEqual(r.body);
  });

  it("auth comes before validation: a bad body without a token is a 401", async () => {
    await expectError(call("PATCH", "/pods/oak-street", { body: { colour: "green" } }), 401, "TOKEN_MISSING");
  });
});

describe("following", () => {
  const stored = async () => {
    const following = await node.deps.db.selectFrom("following").selectAll().execute();
    const actors = await node.deps.db.selectFrom("remote_actors").selectAll().execute();
    const outbox = await node.deps.db.selectFrom("outbox_events").select("kind").where("kind", "=", "send_follow").execute();
    return { following, actors, outbox };
  };

  it("an empty or blank target → 400, nothing stored", async () => {
    const e1 = await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: "" } }), 400, "VALIDATION_FAILED");
    expect(e1.message).toContain("target");
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: "   " } }), 400, "INVALID_TARGET");
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: {} }), 400, "VALIDATION_FAILED");
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: "not a handle" } }), 400, "INVALID_TARGET");
    expect(await stored()).toEqual({ following: [], actors: [], outbox: [] });
  });

  it("a handle on a host nobody answers on → 503 REMOTE_LOOKUP_FAILED, nothing stored", async () => {
    const port = await freePort();
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: `@nobody@127.0.0.1:${port}` } }), 503, "REMOTE_LOOKUP_FAILED");
    expect(await stored()).toEqual({ following: [], actors: [], outbox: [] });
  });

  it("a handle the host does not know, or a URL that is not an actor → 400 NOT_AN_ACTOR, nothing stored", async () => {
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: `@nobody-here@${node.host}` } }), 400, "NOT_AN_ACTOR");
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: `${node.origin}/pods/nobody-here` } }), 400, "NOT_AN_ACTOR");
    expect(await stored()).toEqual({ following: [], actors: [], outbox: [] });
    const listed = await call("GET", "/pods/oak-street/following", { token: tokenA });
    expect(listed.body).toEqual({ items: [] });
  });

  it("a pod cannot follow itself", async () => {
    await expectError(call("POST", "/pods/oak-street/following", { token: tokenA, body: { target: node.actorUrl("oak-street") } }), 400, "CANNOT_FOLLOW_SELF");
    expect((await stored()).following).toEqual([]);
  });
});

describe("OpenAPI document", () => {
  const ROUTES = [
    "GET /token",
    "GET /pods/{slug}",
    "PATCH /pods/{slug}",
    "DELETE /pods/{slug}",
    "POST /pods/{slug}/retire",
    "GET /pods/{slug}/followers",
    "DELETE /pods/{slug}/followers",
    "POST /pods/{slug}/follow-requests/accept",
    "POST /pods/{slug}/follow-requests/reject",
    "GET /pods/{slug}/following",
    "POST /pods/{slug}/following",
    "DELETE /pods/{slug}/following",
    "POST /pods/{slug}/charter",
    "GET /pods/{slug}/charter",
    "POST /pods/{slug}/charter/confirm",
    "GET /pods/{slug}/charter/revisions",
    "GET /pods/{slug}/charter/revisions/{revision}",
    "GET /pods/{slug}/charter/diff",
    "GET /pods/{slug}/following/charters",
    // The open books (http/api/books.ts, http/api/summaries.ts).
    "GET /pods/{slug}/books/balances",
    "GET /pods/{slug}/books/settings",
    "GET /pods/{slug}/following/summaries",
    "GET /pods/{slug}/indicators",
    "GET /pods/{slug}/indicators/{key}/counts",
    "GET /pods/{slug}/ledger/entries",
    "GET /pods/{slug}/ledger/entries/{seq}",
    "GET /pods/{slug}/ledger/export",
    "GET /pods/{slug}/ledger/verify",
    "GET /pods/{slug}/members",
    "GET /pods/{slug}/receipts/{number}",
    "GET /pods/{slug}/resources",
    "GET /pods/{slug}/summaries",
    "GET /pods/{slug}/summaries/{period}",
    "PATCH /pods/{slug}/books/settings",
    "PATCH /pods/{slug}/resources/{key}",
    "POST /pods/{slug}/indicators",
    "POST /pods/{slug}/indicators/{key}/counts",
    "POST /pods/{slug}/ledger/entries",
    "POST /pods/{slug}/ledger/import",
    "POST /pods/{slug}/members",
    "POST /pods/{slug}/resources",
    "POST /pods/{slug}/summaries",
    "GET /pods/{slug}/claims",
    "POST /pods/{slug}/claims",
    "GET /pods/{slug}/claims/{id}",
    "POST /pods/{slug}/claims/{id}/accept",
    "POST /pods/{slug}/claims/{id}/reject",
    "GET /pods/{slug}/claim-rules",
    "PATCH /pods/{slug}/claim-rules",
    "PATCH /pods/{slug}/members/{pseudonym}",
    "GET /pods/{slug}/transfers",
    "POST /pods/{slug}/transfers",
    "GET /pods/{slug}/transfers/{id}",
    "POST /pods/{slug}/transfers/{id}/flag",
    "GET /pods/{slug}/offers",
    "POST /pods/{slug}/offers",
    "GET /pods/{slug}/offers/{number}",
    "PATCH /pods/{slug}/offers/{number}",
    "POST /pods/{slug}/offers/{number}/withdraw",
    "GET /pods/{slug}/needs",
    "POST /pods/{slug}/needs",
    "GET /pods/{slug}/needs/{number}",
    "PATCH /pods/{slug}/needs/{number}",
    "POST /pods/{slug}/needs/{number}/withdraw",
  ].sort();

  let doc: any;
  beforeAll(async () => {
    const r = await call("GET", "/openapi.json");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    doc = r.body;
  });

  it("is OpenAPI 3.1 with a bearer security scheme, served without a token", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe("string");
    expect(typeof doc.info.version).toBe("string");
    const schemes = Object.entries(doc.components.securitySchemes) as Array<[string, any]>;
    const bearer = schemes.filter(([, s]) => s.type === "http" && s.scheme === "bearer");
    expect(bearer).toHaveLength(1);
    expect(bearer[0]![1].bearerFormat).toBe("JWT");
  });

  it("has a path for every route, each secured by the bearer scheme", () => {
    const operations: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths) as Array<[string, Record<string, any>]>) {
      for (const method of Object.keys(methods)) operations.push(`${method.toUpperCase()} ${path}`);
    }
    expect(operations.sort()).toEqual(ROUTES);
    const [schemeName] = Object.keys(doc.components.securitySchemes);
    for (const route of ROUTES) {
      const [method, path] = route.split(" ") as [string, string];
      const op = doc.paths[path][method.toLowerCase()];
      expect(op.security, route).toEqual([{ [schemeName!]: [] }]);
      expect(typeof op.summary, route).toBe("string");
      expect(Object.keys(op.responses), route).toEqual(expect.arrayContaining(["401", "403"]));
      expect(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), route).toBe(true);
      if (path.includes("{slug}")) expect(op.parameters, route).toContainEqual(expect.objectContaining({ name: "slug", in: "path", required: true }));
    }
    const patch = doc.paths["/pods/{slug}"].patch.requestBody.content["application/json"].schema;
    expect(Object.keys(patch.properties).sort()).toEqual(["iconUrl", "manuallyApprovesFollowers", "name", "networkVisibility", "summary"]);
    expect(patch.additionalProperties).toBe(false);
    expect(doc.paths["/pods/{slug}/following"].post.responses).toHaveProperty("202");
  });

  it("every documented operation exists at server URL + path and demands a token", async () => {
    expect(doc.servers).toHaveLength(1);
    const server = new URL(doc.servers[0].url, node.origin);
    for (const route of ROUTES) {
      const [method, path] = route.split(" ") as [string, string];
      const url = new URL(server.href.replace(/\/$/, "") + path.replace("{slug}", "oak-street"));
      const response = await fetch(url, { method });
      expect({ route, status: response.status, error: ((await response.json()) as any).error }).toEqual({ route, status: 401, error: "TOKEN_MISSING" });
    }
  });
});
