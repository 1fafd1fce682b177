/**
 * Serves a summary's Note (federation/summary.ts) at its URL,
 * `/pods/{slug}/books/summaries/{kind}-{YYYY-MM-DD}` (`?version=n` for one version), to
 * clients that ask for ActivityPub JSON. Browsers asking for HTML on the same URL are left
 * to the HTML page route: this is an `onRequest` hook that answers only when the Accept
 * header prefers `application/activity+json` or `application/ld+json`, and otherwise lets
 * the request go on to routing untouched.
 *
 * (Fedify allows one object dispatcher per class and the charter has `Note`, so Fedify
 * cannot serve these documents; app.ts registers this hook after the Fedify bridge.)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PeriodKind } from "../domain/books/model.ts";
import type { ServiceDeps } from "../services/ports.ts";
import { summaryDocument } from "./summary.ts";
import { SUMMARY_PATH } from "./uris.ts";

const AP_TYPES = new Set(["application/activity+json", "application/ld+json"]);

/**
 * True when an Accept header prefers ActivityPub JSON over HTML: an AP type with q > 0 and
 * at least the q of text/html (Mastodon sends `application/ld+json; profile=…,
 * application/activity+json, text/html;q=0.1`; browsers send text/html and no AP type).
 */
export function acceptsActivityJson(accept: string | string[] | undefined): boolean {
  const header = Array.isArray(accept) ? accept.join(",") : accept;
  if (!header) return false;
  let ap = 0;
  let html = 0;
  for (const part of header.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type && AP_TYPES.has(type)) ap = Math.max(ap, q);
    else if (type === "text/html") html = Math.max(html, q);
  }
  return ap > 0 && ap >= html;
}

async function serveSummary(deps: ServiceDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.method !== "GET" && request.method !== "HEAD") return undefined;
  const [path, query = ""] = request.url.split("?", 2) as [string, string?];
  const match = SUMMARY_PATH.exec(path);
  if (!match || !acceptsActivityJson(request.headers.accept)) return undefined;
  const [, rawSlug, kind, date] = match as unknown as [string, string, PeriodKind, string];
  let slug: string;
  try {
    slug = decodeURIComponent(rawSlug);
  } catch {
    return undefined;
  }
  const asked = new URLSearchParams(query).get("version");
  reply.header("vary", "Accept");
  if (asked !== null && !/^[1-9]\d{0,8}$/.test(asked)) {
    return reply.code(404).send({ error: "NOT_FOUND", message: "No such version of this summary" });
  }
  const document = await summaryDocument(deps, slug, kind, date, asked === null ? undefined : Number(asked));
  if (!document) return reply.code(404).send({ error: "NOT_FOUND", message: `No summary at ${path}` });
  return reply.code(200).header("content-type", "application/activity+json; charset=utf-8").send(JSON.stringify(document));
}

/** Registers the hook on the root instance (after the Fedify bridge, before the pages). */
export function registerSummaryDocuments(app: FastifyInstance, deps: ServiceDeps): void {
  app.addHook("onRequest", async (request, reply) => {
    const answered = await serveSummary(deps, request, reply);
    if (answered) return answered;
  });
}
