/**
 * A "Mastodon-shaped" fake server for federation tests: plain `node:http` on 127.0.0.1 and
 * a free port, serving WebFinger, Mastodon-like Person actors with RSA-2048 keys, and inboxes
 * (`/users/<name>/inbox` and the shared `/inbox`) that record every POST.
 *
 * Like Mastodon ≤ 4.4 in its default configuration, an inbox POST that carries only an
 * RFC 9421 signature (`Signature-Input`) and no draft-cavage `Signature` is answered 401,
 * so Fedify has to fall back to draft-cavage ("double knock"). Everything else is 202; the
 * fake does not judge signatures itself — tests check them with `verifyCavage`.
 *
 * Signing (`signCavage`) and verification (`verifyCavage`) are written here with node:crypto
 * on purpose, independently of Fedify, following Mastodon's draft-cavage implementation
 * (app/lib/http_signature_draft.rb, app/lib/signed_request.rb).
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  sign as rsaSign,
  verify as rsaVerify,
  type KeyObject,
} from "node:crypto";
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const AP_CONTENT_TYPE = "application/activity+json";
export const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** The headers Mastodon signs on an inbox POST (order as in the brief; Mastodon ≥ 4.5 puts `(request-target)` last). */
export const MASTODON_POST_HEADERS = ["(request-target)", "host", "date", "digest", "content-type"] as const;

export interface FakeUser {
  readonly name: string;
  readonly actorUrl: string;
  readonly keyId: string;
  readonly inboxUrl: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent on the request line. */
  readonly path: string;
  /** Node's parsed headers (lowercase names; repeated headers joined with ", "). */
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  /** Status the fake answered with. */
  readonly status: number;
  readonly receivedAt: Date;
}

export interface FakeMastodon {
  readonly origin: string;
  /** `127.0.0.1:PORT` */
  readonly host: string;
  readonly port: number;
  readonly sharedInboxUrl: string;
  user(name?: string): FakeUser;
  /** Every request the fake received, in order (GETs included). */
  readonly requests: readonly RecordedRequest[];
  /** Every POST to one of the inboxes, in order (including the ones answered 401). */
  readonly inbox: readonly RecordedRequest[];
  close(): Promise<void>;
}

export interface FakeMastodonOptions {
  /** Users to serve (default `["alice", "bob"]`); each gets its own RSA-2048 key. */
  users?: string[];
}

export async function startFakeMastodon(options: FakeMastodonOptions = {}): Promise<FakeMastodon> {
  const names = options.users ?? ["alice", "bob"];
  const requests: RecordedRequest[] = [];
  const inbox: RecordedRequest[] = [];
  const users = new Map<string, FakeUser>();
  let origin = "";
  let host = "";

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const status = handle(req, res, body);
      const record: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
        status,
        receivedAt: new Date(),
      };
      requests.push(record);
      if (record.method === "POST" && isInboxPath(record.path)) inbox.push(record);
    });
  });

  function isInboxPath(path: string): boolean {
    const p = path.split("?")[0]!;
    return p === "/inbox" || /^\/users\/[^/]+\/inbox$/.test(p);
  }

  function handle(req: IncomingMessage, res: ServerResponse, _body: Buffer): number {
    const url = new URL(req.url ?? "/", origin);
    const send = (status: number, contentType: string | null, payload?: unknown): number => {
      if (contentType) res.setHeader("content-type", contentType);
      res.statusCode = status;
      res.end(payload === undefined ? undefined : typeof payload === "string" ? payload : JSON.stringify(payload));
      return status;
    };

    if (req.method === "POST" && isInboxPath(url.pathname)) {
      const signature = req.headers["signature"];
      if (req.headers["signature-input"] !== undefined || typeof signature !== "string" || !/keyId="/.test(signature)) {
        // Mastodon ≤ 4.4: RFC 9421 is not understood; unsigned is refused.
        return send(401, "application/json; charset=utf-8", { error: "Request not signed" });
      }
      return send(202, null);
    }

    if (req.method === "GET" || req.method === "HEAD") {
      if (url.pathname === "/.well-known/webfinger") {
        const resource = url.searchParams.get("resource") ?? "";
        const match = /^acct:([^@]+)@(.+)$/i.exec(resource);
        const user = match && match[2]!.toLowerCase() === host ? users.get(match[1]!.toLowerCase()) : undefined;
        const byUrl = [...users.values()].find((u) => u.actorUrl === resource);
        const found = user ?? byUrl;
        if (!found) return send(404, null);
        return send(200, "application/jrd+json; charset=utf-8", {
          subject: `acct:${found.name}@${host}`,
          aliases: [`${origin}/@${found.name}`, found.actorUrl],
          links: [
            { rel: "http://webfinger.net/rel/profile-page", type: "text/html", href: `${origin}/@${found.name}` },
            { rel: "self", type: AP_CONTENT_TYPE, href: found.actorUrl },
          ],
        });
      }
      const actorMatch = /^\/users\/([^/]+)$/.exec(url.pathname);
      const user = actorMatch ? users.get(actorMatch[1]!) : undefined;
      if (user) return send(200, `${AP_CONTENT_TYPE}; charset=utf-8`, actorDocument(user, origin));
    }
    return send(404, "application/json; charset=utf-8", { error: "Record not found" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
  for (const name of names) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const actorUrl = `${origin}/users/${name}`;
    users.set(name, {
      name,
      actorUrl,
      keyId: `${actorUrl}#main-key`,
      inboxUrl: `${actorUrl}/inbox`,
      privateKey,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
  }

  return {
    origin,
    host,
    port,
    sharedInboxUrl: `${origin}/inbox`,
    user(name = names[0]!) {
      const user = users.get(name);
      if (!user) throw new Error(`The fake Mastodon has no user ${name}`);
      return user;
    },
    requests,
    inbox,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The actor document, shaped like Mastodon's (app/serializers/activitypub/actor_serializer.rb). */
function actorDocument(user: FakeUser, origin: string) {
  return {
    "@context": [
      AS_CONTEXT,
      "https://w3id.org/security/v1",
      {
        manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
        toot: "http://joinmastodon.org/ns#",
        featured: { "@id": "toot:featured", "@type": "@id" },
        discoverable: "toot:discoverable",
        indexable: "toot:indexable",
      },
    ],
    id: user.actorUrl,
    type: "Person",
    following: `${user.actorUrl}/following`,
    followers: `${user.actorUrl}/followers`,
    inbox: user.inboxUrl,
    outbox: `${user.actorUrl}/outbox`,
    featured: `${user.actorUrl}/collections/featured`,
    preferredUsername: user.name,
    name: user.name[0]!.toUpperCase() + user.name.slice(1),
    summary: "",
    url: `${origin}/@${user.name}`,
    manuallyApprovesFollowers: false,
    discoverable: false,
    indexable: false,
    published: "2026-01-01T00:00:00Z",
    publicKey: { id: user.keyId, owner: user.actorUrl, publicKeyPem: user.publicKeyPem },
    endpoints: { sharedInbox: `${origin}/inbox` },
  };
}

// ---------------------------------------------------------------------------------------
// draft-cavage HTTP signatures, as Mastodon makes and checks them
// ---------------------------------------------------------------------------------------

export interface RequestParts {
  method: string;
  /** Path plus query, as on the request line. */
  path: string;
  /** Header values by name (any case). */
  headers: Record<string, string>;
}

/** `Digest` header value for a body: `SHA-256=<base64>`. */
export function digestHeader(body: Buffer | string): string {
  return `SHA-256=${createHash("sha256").update(body).digest("base64")}`;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

function signingString(parts: RequestParts, headerNames: readonly string[], params: Record<string, string> = {}): string {
  return headerNames
    .map((name) => {
      const lower = name.toLowerCase();
      if (lower === "(request-target)") return `${lower}: ${parts.method.toLowerCase()} ${parts.path}`;
      if (lower === "(created)" || lower === "(expires)") {
        const value = params[lower.slice(1, -1)];
        if (value === undefined) throw new Error(`${lower} is signed but the parameter is missing`);
        return `${lower}: ${value}`;
      }
      const value = headerValue(parts.headers, lower);
      if (value === undefined) throw new Error(`Signed header ${lower} is missing from the request`);
      return `${lower}: ${value}`;
    })
    .join("\n");
}

/**
 * The `Signature` header value Mastodon would send: draft-cavage, `algorithm="rsa-sha256"`,
 * RSASSA-PKCS1-v1_5 with SHA-256 over `name: value` lines joined with "\n".
 */
export function signCavage(
  parts: RequestParts,
  privateKey: KeyObject | string,
  keyId: string,
  headerNames: readonly string[] = MASTODON_POST_HEADERS,
): string {
  const data = Buffer.from(signingString(parts, headerNames), "utf8");
  const signature = rsaSign("sha256", data, privateKey).toString("base64");
  const names = headerNames.map((n) => n.toLowerCase()).join(" ");
  return `keyId="${keyId}",algorithm="rsa-sha256",headers="${names}",signature="${signature}"`;
}

/** Parses a draft-cavage `Signature` header (`key="value"` pairs, numbers unquoted). */
export function parseCavageSignature(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z]+)=(?:"([^"]*)"|(\d+))\s*(?:,|$)/gy;
  let match: RegExpExecArray | null;
  while ((match = re.exec(header)) !== null) {
    params[match[1]!] = match[2] ?? match[3]!;
    if (re.lastIndex >= header.length) break;
  }
  return params;
}

export type CavageVerification =
  | { ok: true; keyId: string; algorithm: string | null; signedHeaders: string[] }
  | { ok: false; reason: string; keyId?: string };

export interface VerifyCavageOptions {
  /** Reference time for the Date window (default: the time the request was received). */
  now?: Date;
  /** Allowed clock skew either way (default 1 hour, like Mastodon and Fedify). */
  maxSkewMs?: number;
}

/**
 * Checks a received draft-cavage signature the way Mastodon does: parse `Signature`, require
 * `date` (or `(created)`), `(request-target)` (or `digest`), `digest` on a POST, `host` on a GET;
 * rebuild the signing string (`(request-target)` = lowercase method + path with query) and
 * verify RSA-SHA256 with the given key; check `Digest` (SHA-256) against the body and the
 * `Date` against the time window.
 */
export function verifyCavage(
  request: Pick<RecordedRequest, "method" | "path" | "headers" | "body" | "receivedAt">,
  publicKeyPem: string,
  options: VerifyCavageOptions = {},
): CavageVerification {
  const header = request.headers["signature"];
  if (typeof header !== "string") return { ok: false, reason: "no Signature header" };
  if (request.headers["signature-input"] !== undefined) return { ok: false, reason: "RFC 9421 Signature-Input present" };
  const params = parseCavageSignature(header);
  const keyId = params.keyId;
  if (!keyId) return { ok: false, reason: "no keyId" };
  if (!params.signature) return { ok: false, reason: "no signature parameter", keyId };
  const algorithm = params.algorithm ?? null;
  if (algorithm !== null && algorithm !== "rsa-sha256" && algorithm !== "hs2019") {
    return { ok: false, reason: `unsupported algorithm ${algorithm}`, keyId };
  }
  const signedHeaders = (params.headers ?? "date").trim().toLowerCase().split(/\s+/);
  const method = request.method.toUpperCase();
  if (!signedHeaders.includes("date") && !signedHeaders.includes("(created)")) return { ok: false, reason: "date not signed", keyId };
  if (!signedHeaders.includes("(request-target)") && !signedHeaders.includes("digest")) {
    return { ok: false, reason: "(request-target) not signed", keyId };
  }
  if (method === "POST" && !signedHeaders.includes("digest")) return { ok: false, reason: "digest not signed", keyId };
  if (method === "GET" && !signedHeaders.includes("host")) return { ok: false, reason: "host not signed", keyId };

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }

  if (request.body.length > 0 || headers["digest"] !== undefined) {
    const digest = headers["digest"];
    if (digest === undefined) return { ok: false, reason: "no Digest header", keyId };
    const sha256 = digest
      .split(",")
      .map((part) => part.trim())
      .find((part) => part.toLowerCase().startsWith("sha-256="));
    if (!sha256) return { ok: false, reason: "Digest has no SHA-256", keyId };
    if (sha256.slice("sha-256=".length) !== createHash("sha256").update(request.body).digest("base64")) {
      return { ok: false, reason: "Digest does not match the body", keyId };
    }
  }

  if (signedHeaders.includes("date")) {
    const date = headers["date"] ? new Date(headers["date"]) : null;
    if (!date || Number.isNaN(date.getTime())) return { ok: false, reason: "bad Date header", keyId };
    const now = (options.now ?? request.receivedAt).getTime();
    const skew = options.maxSkewMs ?? 3_600_000;
    if (Math.abs(date.getTime() - now) > skew) return { ok: false, reason: "Date outside the time window", keyId };
  }

  let data: string;
  try {
    data = signingString({ method, path: request.path, headers }, signedHeaders, params);
  } catch (error) {
    return { ok: false, reason: String((error as Error).message), keyId };
  }
  let valid: boolean;
  try {
    valid = rsaVerify("sha256", Buffer.from(data, "utf8"), createPublicKey(publicKeyPem), Buffer.from(params.signature, "base64"));
  } catch (error) {
    return { ok: false, reason: `verification error: ${String(error)}`, keyId };
  }
  if (!valid) return { ok: false, reason: "signature does not verify", keyId };
  return { ok: true, keyId, algorithm, signedHeaders };
}

// ---------------------------------------------------------------------------------------
// Sending as Mastodon does
// ---------------------------------------------------------------------------------------

export interface SignedPostOptions {
  /** Who signs (key and keyId). Omit to send unsigned (Date/Digest still set). */
  signer?: Pick<FakeUser, "privateKey" | "keyId"> | null;
  /** Date header (default now). */
  date?: Date;
  /** Bytes the Digest header is computed over (default: the body itself). */
  digestOf?: Buffer | string;
  /** Signed header list (default Mastodon's). */
  signedHeaders?: readonly string[];
  /** Path used in `(request-target)` (default: the real path). */
  signedPath?: string;
  /** Extra or overriding headers (added after signing, so not covered by it). */
  extraHeaders?: Record<string, string>;
}

export interface PostResult {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Headers for a Mastodon-style signed POST of `body` to `url`. */
export function mastodonPostHeaders(url: string, body: Buffer | string, options: SignedPostOptions = {}): Record<string, string> {
  const target = new URL(url);
  const headers: Record<string, string> = {
    host: target.host,
    date: (options.date ?? new Date()).toUTCString(),
    digest: digestHeader(options.digestOf ?? body),
    "content-type": AP_CONTENT_TYPE,
  };
  if (options.signer) {
    headers.signature = signCavage(
      { method: "POST", path: options.signedPath ?? target.pathname + target.search, headers },
      options.signer.privateKey,
      options.signer.keyId,
      options.signedHeaders ?? MASTODON_POST_HEADERS,
    );
  }
  return { ...headers, "user-agent": "http.rb/5.2.0 (Mastodon/4.4.0; +http://fake-mastodon/)", ...options.extraHeaders };
}

/** POSTs exactly these bytes with exactly these headers (node:http, so nothing is added but Content-Length). */
export function postRaw(url: string, headers: Record<string, string>, body: Buffer | string): Promise<PostResult> {
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: "POST", headers: { ...headers, "content-length": String(payload.length) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Signs and POSTs an activity as Mastodon would (see `SignedPostOptions` for deliberate faults). */
export function postSigned(url: string, body: Buffer | string | object, options: SignedPostOptions = {}): Promise<PostResult> {
  const bytes = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return postRaw(url, mastodonPostHeaders(url, bytes, options), bytes);
}

/** Parsed JSON body of a recorded request, or null. */
export function recordedJson(request: RecordedRequest): any {
  try {
    return JSON.parse(request.body.toString("utf8"));
  } catch {
    return null;
  }
}
