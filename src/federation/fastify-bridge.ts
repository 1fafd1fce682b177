/**
 * Fastify ↔ Fedify bridge (our own; @fedify/fastify is deliberately not used — see
 * docs/reference fedify-2.md §2: it builds POST requests without `duplex: "half"` and drains
 * every request body, breaking all non-federation POST routes).
 *
 * Usage — a plain function, NOT a Fastify plugin. Call it on the ROOT instance, before
 * `app.ready()`/`listen()`, ideally before registering routes:
 *
 *     registerFedifyBridge(app, { federation, contextData: (req) => ctxData });
 *
 * It installs, on the root instance:
 *   - an `onRequest` hook that hands every request to `federation.fetch()`;
 *   - the root not-found handler (`app.setNotFoundHandler`). Because Fastify allows only one
 *     not-found handler per prefix, the app must NOT call `setNotFoundHandler` on the root
 *     itself; pass `notFound` instead (see below).
 *
 * How a request flows:
 *   1. The hook builds a WHATWG `Request` from the public URL: scheme and host come from
 *      Fastify's `request.protocol` / `request.host`, which honour `X-Forwarded-Proto` /
 *      `X-Forwarded-Host` only when the Fastify `trustProxy` option trusts the peer. The `Host`
 *      header handed to Fedify is set to that same public host, so HTTP signatures (draft-cavage
 *      `host`, RFC 9421 `@authority` / `@target-uri`) verify behind a reverse proxy.
 *   2. GET/HEAD carry no body. Other methods get a lazy `ReadableStream` (highWaterMark 0) that
 *      touches `request.raw` only when Fedify first pulls it, so for requests Fedify does not
 *      handle the socket body is left untouched for Fastify's content-type parsers.
 *   3. Fedify's `onNotFound` → the hook returns without replying; Fastify routing continues.
 *      Fedify's `onNotAcceptable` (a browser asked for a federation URL) → the request is
 *      flagged and Fastify routing also continues, so an HTML route on the same URL renders.
 *      If no Fastify route matches, our not-found handler answers **406** (`Vary: Accept`) for
 *      flagged requests, and otherwise calls `options.notFound` (default: JSON 404).
 *      Encapsulated (prefixed) not-found handlers the app installs itself can cooperate via
 *      `isNotAcceptable(request)` + `sendNotAcceptable(reply)`.
 *   4. Any other Fedify Response is copied to the reply (status, headers, buffered body; Fedify
 *      bodies are small JSON documents). HEAD works (Node drops the body).
 *   5. Bodies Fedify reads bypass Fastify's `bodyLimit`, so the lazy stream enforces
 *      `maxBodyBytes` (default 1 MiB): a declared Content-Length above the cap fails on the first
 *      pull before any byte is read; chunked bodies are counted and the stream is errored past
 *      the cap. Either way the reply is **413** `{ "error": "PAYLOAD_TOO_LARGE", ... }` with
 *      `Connection: close`. The cap only applies to bodies Fedify actually reads (inbox/outbox
 *      POSTs); ordinary Fastify routes keep their own `bodyLimit`.
 *   6. Errors thrown by `federation.fetch` propagate out of the hook → Fastify's error handler
 *      (logged, 500), except the JSON-LD failures of an inbox POST (a `@context` that cannot be
 *      loaded, a document JSON-LD cannot process): those are the sender's fault → 400.
 *   7. With `publicOrigin`, Fedify always sees that origin (scheme and host), whatever the
 *      request said; the app refuses requests for other hosts before the bridge runs.
 *   8. With `inbox`, inbox POSTs are checked before Fedify reads anything: no `Signature` or
 *      `Signature-Input` header → 401 without touching the body; otherwise the body is read
 *      (capped), its nesting depth and array lengths are bounded (400 `BODY_TOO_DEEP` /
 *      `BODY_ARRAY_TOO_LONG`) and it must be JSON (400 `MALFORMED_JSON`), all before Fedify's
 *      JSON-LD processing, which in Fedify 2.3 runs before the HTTP signature check.
 *      With `inbox.divert`, a POST that passed those checks is first offered to the divert
 *      (the parsed JSON and a `Request` rebuilt from the bytes read, as Fedify would get it):
 *      a Response is sent as the answer and Fedify never sees the request; null → Fedify.
 *
 *   9. With `documentCache`, a GET or HEAD is first looked up by its URL and Accept header under
 *      the token the cache gives for the URL (null: not cached); a hit is answered at once. A
 *      200 from Fedify for a request with a token is kept under it (HEAD reads GET's copy).
 *
 * Notes: `contextData` is evaluated for every request (federation.fetch needs it up front), so
 * keep it cheap. Fedify logs every ≥400 response it returns at warn level under
 * ["fedify","federation","http"], including the 404/406 fall-throughs for the app's own routes;
 * tune that category in LogTape if it is noisy.
 */
import type { IncomingMessage } from "node:http";
import type { Federation } from "@fedify/fedify";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { findBadText } from "../domain/text.ts";

export const DEFAULT_FEDERATION_MAX_BODY_BYTES = 1_048_576;

export interface FedifyBridgeOptions<T> {
  federation: Federation<T>;
  /** Context data passed to Fedify for each request. Called once per request. */
  contextData: (request: FastifyRequest) => T | Promise<T>;
  /** Cap on request bodies read by Fedify (inbox/outbox POSTs). Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Handler for genuinely unknown routes (requests not flagged as "not acceptable").
   * Default: `404 { "error": "NOT_FOUND", "message": ... }`.
   */
  notFound?: (request: FastifyRequest, reply: FastifyReply) => unknown;
  /**
   * Paths Fedify would answer that the app serves with its own routes instead, e.g.
   * `/.well-known/nodeinfo` (without a NodeInfo dispatcher Fedify answers it with no links).
   */
  appPaths?: readonly string[];
  /**
   * The one origin this node publishes. When set, the `Request` handed to Fedify is built on
   * it (so `ctx.origin` is always this origin); the app must refuse other hosts beforehand.
   */
  publicOrigin?: URL;
  /** Guards for inbox POSTs (see 8. above). Without it inbox POSTs go to Fedify as they come. */
  inbox?: InboxGuardOptions;
  /**
   * Answers for documents that rarely change (see 9. above): a GET or HEAD the cache gives a
   * token for is answered from the copy Fedify rendered for the same URL, Accept header and
   * token, without reaching Fedify.
   */
  documentCache?: DocumentCache;
}

/** A rendered answer, as Fedify gave it. */
export interface CachedDocument {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

export interface DocumentCache {
  /**
   * What the document at `url` depends on, as a string that changes whenever it does, or
   * null when this request is not to be answered from (or kept in) the cache.
   */
  token(url: URL): Promise<string | null> | string | null;
  get(key: string, token: string): CachedDocument | undefined;
  set(key: string, token: string, document: CachedDocument): void;
}

export interface InboxGuardOptions {
  /** True for the paths of inboxes (shared and personal). */
  isInboxPath: (pathname: string) => boolean;
  /** Deepest nesting of objects and arrays accepted. Default 32. */
  maxDepth?: number;
  /** Longest array accepted. Default 10,000. */
  maxArrayLength?: number;
  /**
   * Called for an inbox POST that passed the checks, before Fedify: `json` is the parsed
   * body, `request` the WHATWG Request Fedify would get (public URL, headers, a readable
   * copy of the body, so signatures can be verified). A Response is sent as the answer
   * (Fedify never sees the request); null hands the request to Fedify as usual. A throw
   * goes to Fastify's error handler (500).
   */
  divert?: (json: unknown, request: Request) => Promise<Response | null>;
}

export const DEFAULT_INBOX_MAX_DEPTH = 32;
export const DEFAULT_INBOX_MAX_ARRAY_LENGTH = 10_000;

/** Requests for which Fedify said "this URL is mine, but the client wants something else". */
const notAcceptable = new WeakSet<IncomingMessage>();

/** True when Fedify owns this URL but the client's Accept header did not ask for JSON-LD. */
export function isNotAcceptable(request: FastifyRequest): boolean {
  return notAcceptable.has(request.raw);
}

/** Send the bridge's standard 406 answer (for app-installed encapsulated not-found handlers). */
export function sendNotAcceptable(reply: FastifyReply): FastifyReply {
  return reply
    .code(406)
    .header("vary", "Accept")
    .send({
      error: "NOT_ACCEPTABLE",
      message: "This resource is only available as ActivityPub JSON (application/activity+json).",
    });
}

export class FederationBodyTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`Federation request body exceeds ${limit} bytes`);
    this.name = "FederationBodyTooLargeError";
    this.limit = limit;
  }
}

interface BodyState {
  /** The lazy stream was pulled at least once (request.raw may be partly consumed). */
  touched: boolean;
  /** The body exceeded the cap. */
  tooLarge: boolean;
}

/**
 * A body stream that starts reading `raw` only on its first pull and errors once more than
 * `limit` bytes arrive (or immediately, before reading, if Content-Length already says so).
 */
function lazyBody(raw: IncomingMessage, limit: number, state: BodyState): ReadableStream<Uint8Array> {
  let received = 0;
  let settled = false;
  let detach = (): void => {};

  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.touched) {
          // Subsequent pulls: the consumer wants more, let the socket flow again.
          if (!settled) raw.resume();
          return;
        }
        state.touched = true;

        const declared = Number(raw.headers["content-length"]);
        if (Number.isFinite(declared) && declared > limit) {
          state.tooLarge = true;
          settled = true;
          controller.error(new FederationBodyTooLargeError(limit));
          return;
        }

        const onData = (chunk: Buffer): void => {
          if (settled) return;
          received += chunk.byteLength;
          if (received > limit) {
            state.tooLarge = true;
            settled = true;
            detach();
            // Discard the rest of the upload so the 413 can be written and the client is not
            // left blocked mid-send; the reply closes the connection afterwards.
            raw.resume();
            controller.error(new FederationBodyTooLargeError(limit));
            return;
          }
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) raw.pause();
        };
        const onEnd = (): void => {
          if (settled) return;
          settled = true;
          detach();
          controller.close();
        };
        const onError = (error: Error): void => {
          if (settled) return;
          settled = true;
          detach();
          controller.error(error);
        };
        const onClose = (): void => {
          if (!settled && !raw.readableEnded) onError(new Error("Request body aborted by the client"));
        };
        detach = () => {
          raw.off("data", onData);
          raw.off("end", onEnd);
          raw.off("error", onError);
          raw.off("close", onClose);
        };
        raw.on("data", onData);
        raw.on("end", onEnd);
        raw.on("error", onError);
        raw.on("close", onClose);
        raw.resume();
      },
      cancel() {
        if (settled) return;
        settled = true;
        detach();
        raw.resume(); // drain and discard whatever the consumer no longer wants
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Public URL of the request, or null: on `canonical` when given, otherwise from the scheme and
 * host of Fastify's trustProxy-aware getters.
 */
function publicUrl(request: FastifyRequest, canonical?: URL): URL | null {
  const proto = (request.protocol ?? "http").toLowerCase();
  const scheme = canonical ? canonical.protocol.slice(0, -1) : proto === "https" ? "https" : "http";
  const host = canonical ? canonical.host : request.host;
  // reject empty hosts and hosts that would smuggle a path, query or userinfo into the URL
  if (!host || /[\/?#@\\\s]/.test(host)) return null;
  let path = request.url || "/";
  if (!path.startsWith("/")) {
    // absolute-form request target ("GET http://host/path HTTP/1.1"): keep only path + query
    try {
      const absolute = new URL(path);
      path = absolute.pathname + absolute.search;
    } catch {
      return null;
    }
  }
  try {
    return new URL(`${scheme}://${host}${path}`);
  } catch {
    return null;
  }
}

/** A cached document's headers as one object (built once per document). */
const headerObjects = new WeakMap<CachedDocument, Record<string, string>>();
function headersObject(document: CachedDocument): Record<string, string> {
  let object = headerObjects.get(document);
  if (!object) {
    object = {};
    for (const [name, value] of document.headers) object[name] = value;
    headerObjects.set(document, object);
  }
  return object;
}

function buildHeaders(raw: IncomingMessage, publicHost: string): Headers {
  const headers = new Headers();
  const pairs = raw.rawHeaders;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    const name = pairs[i]!;
    if (name.startsWith(":")) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, pairs[i + 1]!);
    } catch {
      // header value WHATWG Headers refuses; Fedify never needs it
    }
  }
  headers.set("host", publicHost);
  return headers;
}

const SKIPPED_RESPONSE_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "set-cookie"]);

async function sendFedifyResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status);
  for (const [name, value] of response.headers) {
    if (!SKIPPED_RESPONSE_HEADERS.has(name)) reply.header(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header("set-cookie", cookies);
  if (response.body == null) return reply.send();
  return reply.send(Buffer.from(await response.arrayBuffer()));
}

/** Inbox POSTs must be signed: draft-cavage `Signature` or RFC 9421 `Signature-Input`. */
function hasSignatureHeader(raw: IncomingMessage): boolean {
  return Boolean(raw.headers["signature"] || raw.headers["signature-input"]);
}

function sendBodyError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  return reply.code(status).header("cache-control", "no-store").send({ error, message });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.byteLength;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

export interface BodyShapeProblem {
  error: "BODY_TOO_DEEP" | "BODY_ARRAY_TOO_LONG" | "MALFORMED_JSON" | "INVALID_TEXT";
  message: string;
}

/**
 * One pass over the raw bytes (no parsing, no recursion): objects and arrays nested deeper than
 * `maxDepth`, or an array with more than `maxArrayLength` elements, are refused before anything
 * builds the document. Structural characters are ASCII and never occur inside a UTF-8
 * multi-byte sequence, so scanning bytes is exact. Then the text must parse as JSON.
 */
export function checkJsonShape(bytes: Uint8Array, maxDepth: number, maxArrayLength: number): BodyShapeProblem | null {
  const isArray = new Uint8Array(maxDepth + 1);
  const commas = new Uint32Array(maxDepth + 1);
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // backslash: skip the escaped character
      else if (b === 0x22) inString = false;
      continue;
    }
    if (b === 0x22) {
      inString = true;
    } else if (b === 0x7b || b === 0x5b) {
      depth++;
      if (depth > maxDepth) {
        return { error: "BODY_TOO_DEEP", message: `The body nests objects and arrays more than ${maxDepth} levels deep.` };
      }
      isArray[depth] = b === 0x5b ? 1 : 0;
      commas[depth] = 0;
    } else if (b === 0x7d || b === 0x5d) {
      if (depth > 0) depth--;
    } else if (b === 0x2c && depth > 0 && isArray[depth] === 1) {
      commas[depth]!++;
      if (commas[depth]! + 1 > maxArrayLength) {
        return { error: "BODY_ARRAY_TOO_LONG", message: `The body has an array of more than ${maxArrayLength} elements.` };
      }
    }
  }
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { error: "MALFORMED_JSON", message: "The body is not valid JSON." };
  }
  // Text the database cannot hold (NUL, lone surrogates) would fail later, when the activity
  // is queued or stored: refuse it now, once, as the sender's mistake.
  const bad = findBadText(document);
  if (bad) return { error: "INVALID_TEXT", message: `The body${bad.path ? ` at ${bad.path}` : ""} ${bad.problem}.` };
  return null;
}

/**
 * Errors Fedify lets escape while it processes an inbox document's JSON-LD: a remote `@context`
 * that cannot be loaded (refused private address, DNS failure, HTTP error, not JSON) or a
 * document the JSON-LD processor rejects. These are faults of the sender's document, not of
 * this node; anything else (the database, a bug) stays a 500.
 */
export function isJsonLdInputError(error: unknown): boolean {
  for (let e: unknown = error, hops = 0; e != null && hops < 5; hops++) {
    if (!(e instanceof Error)) return false;
    const name = e.name ?? "";
    if (name === "FetchError" || name === "UrlError" || name.startsWith("jsonld.")) return true;
    if (e instanceof RangeError && /call stack/i.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause ?? (e as { details?: { cause?: unknown } }).details?.cause;
  }
  return false;
}

function sendTooLarge(reply: FastifyReply, limit: number): FastifyReply {
  return reply
    .code(413)
    .header("connection", "close")
    .send({
      error: "PAYLOAD_TOO_LARGE",
      message: `Federation request bodies are limited to ${limit} bytes.`,
      limit,
    });
}

/**
 * Install the bridge on the root Fastify instance (onRequest hook + root not-found handler).
 * Must be called before the instance is ready.
 */
export function registerFedifyBridge<T>(app: FastifyInstance, options: FedifyBridgeOptions<T>): void {
  const { federation } = options;
  const limit = options.maxBodyBytes ?? DEFAULT_FEDERATION_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new TypeError(`maxBodyBytes must be a non-negative integer, got ${String(options.maxBodyBytes)}`);
  }

  const inbox = options.inbox;
  const maxDepth = inbox?.maxDepth ?? DEFAULT_INBOX_MAX_DEPTH;
  const maxArrayLength = inbox?.maxArrayLength ?? DEFAULT_INBOX_MAX_ARRAY_LENGTH;

  app.addHook("onRequest", async (request, reply) => {
    const raw = request.raw;
    const url = publicUrl(request, options.publicOrigin);
    if (url == null) return; // not a URL Fedify could route; let Fastify answer
    if (options.appPaths?.includes(url.pathname)) return; // the app's own route answers

    const method = (raw.method ?? "GET").toUpperCase();
    const state: BodyState = { touched: false, tooLarge: false };
    const hasBody = method !== "GET" && method !== "HEAD";
    const isInboxPost = method === "POST" && inbox != null && inbox.isInboxPath(url.pathname);

    // Inbox POSTs: nothing is parsed for an unsigned request, and nothing unbounded reaches
    // Fedify's JSON-LD processing (which runs before its signature check).
    let bufferedBody: Uint8Array<ArrayBuffer> | null = null;
    if (isInboxPost) {
      if (!hasSignatureHeader(raw)) {
        return sendBodyError(reply, 401, "SIGNATURE_REQUIRED", "Inbox POSTs must carry an HTTP signature (a Signature or Signature-Input header).")
          .header("www-authenticate", 'Signature realm="inbox", headers="(request-target) host date digest"');
      }
      try {
        bufferedBody = await readAll(lazyBody(raw, limit, state));
      } catch (error) {
        if (state.tooLarge) return sendTooLarge(reply, limit);
        request.log.debug({ err: error }, "inbox body not received");
        return sendBodyError(reply, 400, "BODY_INCOMPLETE", "The request body was not received in full.");
      }
      const problem = checkJsonShape(bufferedBody, maxDepth, maxArrayLength);
      if (problem) return sendBodyError(reply, 400, problem.error, problem.message);
      if (inbox.divert) {
        const json: unknown = JSON.parse(new TextDecoder().decode(bufferedBody));
        const copy = new Request(url, { method, headers: buildHeaders(raw, url.host), body: bufferedBody.slice() });
        const diverted = await inbox.divert(json, copy);
        if (diverted) return sendFedifyResponse(reply, diverted);
      }
    }

    // Documents that rarely change: answered from the copy Fedify last rendered, while valid.
    const cache = !hasBody ? options.documentCache : undefined;
    const cacheToken = cache ? await cache.token(url) : null;
    const cacheKey = cacheToken === null ? "" : `${url.href}\n${raw.headers.accept ?? ""}`;
    if (cache && cacheToken !== null) {
      const hit = cache.get(cacheKey, cacheToken);
      if (hit) return reply.code(hit.status).headers(headersObject(hit)).send(hit.body);
    }

    const fedRequest = new Request(url, {
      method,
      headers: buildHeaders(raw, url.host),
      ...(hasBody
        ? { body: bufferedBody ?? lazyBody(raw, limit, state), duplex: "half" as const }
        : {}),
    });

    // Sentinels: identity tells us Fedify gave up on the request rather than answering it.
    const notFoundSentinel = new Response(null, { status: 404 });
    const notAcceptableSentinel = new Response(null, { status: 406 });

    let response: Response;
    try {
      response = await federation.fetch(fedRequest, {
        contextData: await options.contextData(request),
        onNotFound: () => notFoundSentinel,
        onNotAcceptable: () => notAcceptableSentinel,
      });
    } catch (error) {
      if (state.tooLarge) return sendTooLarge(reply, limit);
      if (isInboxPost && isJsonLdInputError(error)) {
        request.log.info({ err: error }, "inbox document refused: its JSON-LD could not be processed");
        return sendBodyError(reply, 400, "INVALID_JSON_LD", "The activity's JSON-LD could not be processed (for example, a @context that cannot be loaded).");
      }
      throw error; // → Fastify error handler (logged, 500)
    }

    if (state.tooLarge) return sendTooLarge(reply, limit);

    if (response === notFoundSentinel || response === notAcceptableSentinel) {
      if (response === notAcceptableSentinel) notAcceptable.add(raw);
      if (state.touched) {
        // Fedify consumed (part of) the body and then gave up; Fastify's body parser would
        // wait forever on the drained socket, so go straight to the not-found handler.
        reply.callNotFound();
        return reply;
      }
      return; // fall through to Fastify routing
    }

    if (cache && cacheToken !== null && method === "GET" && response.status === 200 && response.headers.getSetCookie().length === 0) {
      const headers = [...response.headers].filter(([name]) => !SKIPPED_RESPONSE_HEADERS.has(name));
      const body = Buffer.from(await response.arrayBuffer());
      cache.set(cacheKey, cacheToken, { status: 200, headers, body });
      reply.code(200);
      for (const [name, value] of headers) reply.header(name, value);
      return reply.send(body);
    }
    return sendFedifyResponse(reply, response);
  });

  const notFound = options.notFound;
  app.setNotFoundHandler((request, reply) => {
    if (isNotAcceptable(request)) return sendNotAcceptable(reply);
    if (notFound != null) return notFound(request, reply);
    return reply.code(404).send({
      error: "NOT_FOUND",
      message: `Route ${request.method} ${request.url.split("?")[0]} not found`,
    });
  });
}
