/**
 * Serves the congress documents at their ids to clients that ask for ActivityPub JSON:
 *
 * - `/pods/{slug}/offers/{n}`, `/pods/{slug}/needs/{n}`: a Proposal (proposal.ts);
 * - `/pods/{slug}/claims/{id}`: our claim's Offer(Agreement) activity (claims.ts);
 * - `/pods/{slug}/agreements/{id}`: an Agreement our pod made (claims.ts);
 * - `/pods/{slug}/transfers/{id}`: our side of a transfer, an EconomicEvent (transfers.ts);
 * - `/pods/{slug}/neighbours`: the pod's congress neighbours (congress-collections.ts).
 *
 * Like summary-route.ts, this is an `onRequest` hook that answers only when the Accept
 * header prefers `application/activity+json` or `application/ld+json`; browsers go on to
 * the HTML page on the same URL. (Fedify allows one object dispatcher per class, and
 * EconomicEvent is not in its vocabulary, so these documents are ours to serve.)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ServiceDeps } from "../services/ports.ts";
import { agreementDocument, claimOfferDocument } from "./claims.ts";
import { neighboursDocument } from "./congress-collections.ts";
import { proposalDocument } from "./proposal.ts";
import { acceptsActivityJson } from "./summary-route.ts";
import { transferDocument } from "./transfers.ts";
import { CONGRESS_PATHS } from "./uris.ts";

type Render = (deps: ServiceDeps, slug: string, id: string, query: URLSearchParams) => Promise<Record<string, unknown> | null>;

const ROUTES: ReadonlyArray<readonly [RegExp, Render]> = [
  [CONGRESS_PATHS.offer, (deps, slug, n) => proposalDocument(deps, slug, "offer", Number(n))],
  [CONGRESS_PATHS.need, (deps, slug, n) => proposalDocument(deps, slug, "request", Number(n))],
  [CONGRESS_PATHS.claim, (deps, slug, id) => claimOfferDocument(deps, slug, id)],
  [CONGRESS_PATHS.agreement, (deps, slug, id) => agreementDocument(deps, slug, id)],
  [CONGRESS_PATHS.transfer, (deps, slug, id) => transferDocument(deps, slug, id)],
  [CONGRESS_PATHS.neighbours, (deps, slug, _id, query) => neighboursDocument(deps, slug, query)],
];

async function serve(deps: ServiceDeps, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (request.method !== "GET" && request.method !== "HEAD") return undefined;
  const [path, query = ""] = request.url.split("?", 2) as [string, string?];
  // Cheap test first: every congress path has at least 4 segments under /pods/.
  if (!path.startsWith("/pods/")) return undefined;
  for (const [pattern, render] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (!acceptsActivityJson(request.headers.accept)) return undefined;
    let slug: string;
    try {
      slug = decodeURIComponent(match[1]!);
    } catch {
      return undefined;
    }
    reply.header("vary", "Accept");
    const document = await render(deps, slug, match[2] ?? "", new URLSearchParams(query));
    if (!document) return reply.code(404).send({ error: "NOT_FOUND", message: `Nothing at ${path}` });
    return reply.code(200).header("content-type", "application/activity+json; charset=utf-8").send(JSON.stringify(document));
  }
  return undefined;
}

/** Registers the hook on the root instance (after the Fedify bridge, before the pages). */
export function registerCongressDocuments(app: FastifyInstance, deps: ServiceDeps): void {
  app.addHook("onRequest", async (request, reply) => {
    const answered = await serve(deps, request, reply);
    if (answered) return answered;
  });
}
