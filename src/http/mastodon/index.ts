/**
 * The Mastodon client REST API, read-only: pods are accounts; their charter, summaries,
 * offers and needs are statuses (services/posts.ts). Elk, Phanpy, masto.js and megalodon
 * browse a node with it anonymously. Routes are split by resource; this file wires them
 * under /api/v1 and /api/v2 with Mastodon's error bodies, and serves the default images.
 *
 * What needs a signed-in user answers 401 as Mastodon does for an anonymous client; an
 * unknown path or id 404 `{"error":"Record not found"}`; a parameter that cannot be read
 * 422. Never HTML, never a 500 for bad input.
 */
import { crc32, deflateSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { registerAccountRoutes } from "./accounts.ts";
import { DEFAULT_AVATAR_PATH, DEFAULT_HEADER_PATH } from "./entities.ts";
import { registerInstanceRoutes, registerInstanceV2Routes } from "./instance.ts";
import { MastodonError } from "./params.ts";
import { registerSearchRoutes } from "./search.ts";
import { registerStatusRoutes } from "./statuses.ts";

export { installCors } from "./cors.ts";

/** Paths (after /api/v1 or /api/v2) that need a user: an anonymous client gets 401. */
const NEEDS_USER = new RegExp(
  "^/(?:" +
    [
      "timelines/(?:home|list/[^/]+|direct)",
      "notifications(?:/.*)?",
      "accounts/(?:verify_credentials|relationships|familiar_followers|update_credentials)",
      "lists(?:/.*)?",
      "preferences",
      "markers",
      "filters(?:/.*)?",
      "announcements(?:/.*)?",
      "follow_requests(?:/.*)?",
      "bookmarks",
      "favourites",
      "conversations(?:/.*)?",
      "mutes",
      "blocks",
      "domain_blocks",
      "endorsements",
      "followed_tags",
      "suggestions(?:/.*)?",
      "push/subscription",
      "scheduled_statuses(?:/.*)?",
      "statuses/[^/]+/source",
      "reports",
      "admin/.*",
    ].join("|") +
    ")/?$",
);

function sendError(reply: FastifyReply, status: number, error: string) {
  return reply.code(status).header("content-type", "application/json; charset=utf-8").send({ error });
}

const pathAfter = (prefix: string, request: FastifyRequest) => (request.url.split("?")[0] ?? "").slice(prefix.length) || "/";
const needsToken = (reply: FastifyReply) =>
  sendError(reply.header("www-authenticate", 'Bearer error="invalid_token"'), 401, "The access token is invalid");

function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof MastodonError) return sendError(reply, error.status, error.message);
  // A write whose body Fastify could not read (bad JSON, an unknown content type): every
  // write here needs a user, so the answer is the same 401 as for a readable one.
  if (request.method !== "GET" && request.method !== "HEAD" && String((error as { code?: unknown }).code ?? "").startsWith("FST_ERR_CTP_")) return needsToken(reply);
  if (error instanceof DomainError) {
    if (error.kind === "not_found") return sendError(reply, 404, "Record not found");
    return sendError(reply, 422, error.message);
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status && status >= 400 && status < 500) return sendError(reply, status === 400 ? 422 : status, (error as Error).message);
  request.log.error({ err: error }, "Mastodon API request failed");
  return sendError(reply, 500, "Something went wrong on this node");
}

function notFoundHandler(prefix: string) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    // Writes need a user; so do the signed-in reads.
    if ((request.method !== "GET" && request.method !== "HEAD") || NEEDS_USER.test(pathAfter(prefix, request))) return needsToken(reply);
    return sendError(reply, 404, "Record not found");
  };
}

/** Signed-in reads that share a pattern with a public route (accounts/verify_credentials and accounts/:id). */
function userOnly(prefix: string) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (NEEDS_USER.test(pathAfter(prefix, request))) return needsToken(reply);
  };
}

/** A one-pixel PNG of the given colour, for accounts without an avatar or header. */
function onePixelPng(r: number, g: number, b: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0);
  header.writeUInt32BE(1, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.from([0, r, g, b]))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export async function registerMastodonApi(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const avatar = onePixelPng(0x5b, 0x8c, 0x5a);
  const header = onePixelPng(0xe8, 0xf0, 0xe0);
  for (const [path, bytes] of [[DEFAULT_AVATAR_PATH, avatar], [DEFAULT_HEADER_PATH, header]] as const) {
    app.get(path, async (_request, reply) => reply.header("content-type", "image/png").header("cache-control", "public, max-age=86400").send(bytes));
  }

  await app.register(
    async (v2) => {
      v2.setErrorHandler(errorHandler);
      v2.setNotFoundHandler(notFoundHandler("/api/v2"));
      v2.addHook("onRequest", userOnly("/api/v2"));
      registerInstanceV2Routes(v2, deps);
      registerSearchRoutes(v2, deps);
    },
    { prefix: "/api/v2" },
  );
  await app.register(
    async (v1) => {
      v1.setErrorHandler(errorHandler);
      v1.setNotFoundHandler(notFoundHandler("/api/v1"));
      v1.addHook("onRequest", userOnly("/api/v1"));
      registerInstanceRoutes(v1, deps);
      registerAccountRoutes(v1, deps);
      registerStatusRoutes(v1, deps);
    },
    { prefix: "/api/v1" },
  );
}
