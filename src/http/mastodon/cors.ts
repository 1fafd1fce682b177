/**
 * CORS as Mastodon's (config/initializers/cors.rb): browser apps on other origins (Elk,
 * Phanpy) read the client API, WebFinger and NodeInfo. No cookies are involved anywhere on
 * these paths (the steward API takes Bearer tokens only), so any origin may read them.
 */
import type { FastifyInstance } from "fastify";

/** /api/*, /oauth/*, /.well-known/*, /nodeinfo/*. */
export const CORS_PATHS = /^\/(?:api|oauth|\.well-known|nodeinfo)(?:\/|$|\?)/;

const EXPOSED = ["Link", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Request-Id", "Idempotency-Key"].join(", ");
const METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
/** Request headers a preflight may name (when it names none we still list the usual ones). */
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const DEFAULT_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept";

/**
 * Answers preflights before anything else reads the request (call it before the Fedify
 * bridge is registered, so its hook comes first), and marks every answer on these paths.
 */
export function installCors(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "OPTIONS" || !CORS_PATHS.test(request.url)) return;
    const asked = String(request.headers["access-control-request-headers"] ?? "")
      .split(",")
      .map((h) => h.trim())
      .filter((h) => HEADER_NAME.test(h));
    return reply
      .code(204)
      .header("access-control-allow-origin", "*")
      .header("access-control-allow-methods", METHODS)
      .header("access-control-allow-headers", asked.length > 0 ? asked.join(", ") : DEFAULT_HEADERS)
      .header("access-control-expose-headers", EXPOSED)
      .header("access-control-max-age", "86400")
      .header("vary", "Access-Control-Request-Headers")
      .send();
  });
  app.addHook("onSend", async (request, reply, payload) => {
    if (CORS_PATHS.test(request.url)) {
      reply.header("access-control-allow-origin", "*");
      reply.header("access-control-expose-headers", EXPOSED);
    }
    return payload;
  });
}
