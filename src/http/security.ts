/**
 * Request-level protections for every route of a web process: one public origin (requests
 * for other hosts get 421 before anything renders), security headers on every response, and
 * request logs without client addresses unless asked for.
 */
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * Pages use no script at all, one inline `<style>` block and a few `style` attributes; images
 * may be pod icons on other https hosts. Nothing may frame a page, forms post only here.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const REFERRER_POLICY = "strict-origin-when-cross-origin";

export interface HostGuardOptions {
  /** The node's one public origin (PUBLIC_URL, as recorded at first start). */
  publicOrigin: URL;
  /** Paths answered whatever the Host (health probes address the node by IP). */
  anyHostPaths?: readonly string[];
}

/**
 * The host a request was made for, normalised like a URL host (lowercase, default port
 * dropped), or null when it cannot be one. Fastify's `request.host` is the Host header, or
 * the last X-Forwarded-Host entry when TRUST_PROXY trusts the peer.
 */
function requestHost(request: FastifyRequest, scheme: string): string | null {
  const host = request.host;
  if (!host || /[/?#@\\\s]/.test(host)) return null;
  try {
    return new URL(`${scheme}//${host}`).host;
  } catch {
    return null;
  }
}

function sendMisdirected(request: FastifyRequest, reply: FastifyReply, publicOrigin: URL): FastifyReply {
  reply.code(421).header("cache-control", "no-store").header("vary", "Accept");
  const message = `This node answers only for ${publicOrigin.host}.`;
  const accept = String(request.headers.accept ?? "");
  if (/text\/html/.test(accept) && !/json/.test(accept)) {
    return reply
      .header("content-type", "text/html; charset=utf-8")
      .send(
        `<!doctype html><html lang="en"><meta charset="utf-8"><title>Misdirected request</title><h1>Misdirected request</h1><p>${message} <a href="${publicOrigin.origin}/">Go to ${publicOrigin.host}</a>.</p></html>`,
      );
  }
  return reply.send({ error: "MISDIRECTED_REQUEST", message });
}

/**
 * Refuses, with 421 Misdirected Request, every request whose host is not the public origin's
 * host. Must be the first onRequest hook, so nothing (Fedify, pages, the API) ever builds a
 * document, an id or a link from a host an attacker chose, and nothing such is ever cached.
 */
export function installHostGuard(app: FastifyInstance, options: HostGuardOptions): void {
  const expected = options.publicOrigin.host;
  const scheme = options.publicOrigin.protocol;
  const anyHost = new Set(options.anyHostPaths ?? []);
  app.addHook("onRequest", async (request, reply) => {
    if (anyHost.has(request.url.split("?")[0]!)) return;
    if (requestHost(request, scheme) === expected) return;
    return sendMisdirected(request, reply, options.publicOrigin);
  });
}

/**
 * One onSend hook for the whole app (and anything registered later, such as a steward web
 * app): every response is `nosniff`; HTML additionally gets the CSP, no framing and a
 * referrer policy.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    const type = String(reply.getHeader("content-type") ?? "");
    if (type.startsWith("text/html")) {
      // A route may set a stricter referrer policy (steward pages: none) or a CSP of its own.
      if (!reply.hasHeader("content-security-policy")) reply.header("content-security-policy", CONTENT_SECURITY_POLICY);
      reply.header("x-frame-options", "DENY");
      if (!reply.hasHeader("referrer-policy")) reply.header("referrer-policy", REFERRER_POLICY);
    }
    return payload;
  });
}

/**
 * Fastify's request serializer without the client's address and port (unless
 * LOG_CLIENT_IPS=true): logs keep what was asked, not who asked.
 */
export function requestLogSerializer(logClientIps: boolean) {
  return (request: FastifyRequest) => ({
    method: request.method,
    url: request.url,
    host: request.host,
    ...(logClientIps ? { remoteAddress: request.ip, remotePort: request.socket?.remotePort } : {}),
  });
}

export interface InboxRateLimitOptions {
  /** Refused inbox POSTs allowed per client address per minute; 0 turns the limit off. */
  max: number;
  isInboxPath: (pathname: string) => boolean;
}

/** Answers that count against a client: the request was refused before any listener ran. */
const REFUSED = new Set([400, 401, 403, 410, 413, 415]);

/**
 * Per client address (`request.ip`, which honours TRUST_PROXY), inbox POSTs that were refused
 * (unsigned, bad signature, bad body) are counted in a one-minute window; past `max`, inbox
 * POSTs from that address get 429 before any work. Accepted deliveries never count, so a busy
 * honest server is not slowed by its own traffic. The check runs before the request and the
 * count after the answer, so a burst of simultaneous requests can overshoot `max` a little.
 */
export async function installInboxRateLimit(app: FastifyInstance, options: InboxRateLimitOptions): Promise<void> {
  if (options.max <= 0) return;
  await app.register(rateLimit, { global: false });
  const limiter = app.createRateLimit({ max: options.max, timeWindow: 60_000 });
  const isInboxPost = (request: FastifyRequest) => request.method === "POST" && options.isInboxPath(request.url.split("?")[0]!);

  app.addHook("onRequest", async (request, reply) => {
    if (!isInboxPost(request)) return;
    const state = await limiter(request, { increment: false });
    if (state.isAllowed || state.remaining > 0) return;
    return reply
      .code(429)
      .header("retry-after", String(Math.max(1, state.ttlInSeconds)))
      .header("cache-control", "no-store")
      .send({ error: "RATE_LIMITED", message: `Too many refused inbox requests from this address; try again in ${Math.max(1, state.ttlInSeconds)} s.` });
  });

  app.addHook("onResponse", async (request, reply) => {
    if (isInboxPost(request) && REFUSED.has(reply.statusCode)) await limiter(request);
  });
}
