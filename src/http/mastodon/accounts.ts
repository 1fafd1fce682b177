/** Pods as accounts: lookup, by id, and their statuses. */
import type { FastifyInstance } from "fastify";
import { findPodAccount, findPodAccountBySlug, listPodPosts, searchLocal } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { accountEntity } from "./entities.ts";
import { boolParam, idParam, limitParam, linkHeader, needsToken, notFound, pathId, stringParam, unprocessable, type Query } from "./params.ts";
import { statusesOf } from "./render.ts";

export function registerAccountRoutes(v1: FastifyInstance, deps: ServiceDeps): void {
  const host = deps.config.publicUrl.host.toLowerCase();

  const accountOr404 = async (id: string) => {
    const account = await findPodAccount(deps, pathId(id));
    if (!account) throw notFound();
    return account;
  };

  // `slug`, `@slug`, `slug@host` or `@slug@host`; another host's accounts are not here.
  v1.get("/accounts/lookup", async (request) => {
    const acct = stringParam(request.query as Query, "acct");
    if (acct === undefined || acct.trim() === "") throw unprocessable("acct is required");
    const [user, domain, ...rest] = acct.trim().replace(/^@/, "").split("@");
    if (rest.length > 0 || !user || (domain !== undefined && domain.toLowerCase() !== host)) throw notFound();
    const account = await findPodAccountBySlug(deps, user);
    if (!account) throw notFound();
    return accountEntity(deps, account);
  });

  v1.get("/accounts/search", async (request) => {
    const query = request.query as Query;
    if (boolParam(query, "resolve") || boolParam(query, "following")) throw needsToken();
    const q = stringParam(query, "q") ?? "";
    const limit = limitParam(query, 40, 80);
    const found = await searchLocal(deps, q, { limit, types: ["accounts"] });
    return found.accounts.map((a) => accountEntity(deps, a));
  });

  v1.get("/accounts/:id", async (request) => accountEntity(deps, await accountOr404((request.params as { id: string }).id)));

  v1.get("/accounts/:id/statuses", async (request, reply) => {
    const query = request.query as Query;
    const account = await accountOr404((request.params as { id: string }).id);
    const limit = limitParam(query, 20, 40);
    const pinned = boolParam(query, "pinned");
    const onlyMedia = boolParam(query, "only_media");
    // Accepted and read, though pods post neither replies nor boosts.
    boolParam(query, "exclude_replies");
    boolParam(query, "exclude_reblogs");
    const ids = { maxId: idParam(query, "max_id"), sinceId: idParam(query, "since_id"), minId: idParam(query, "min_id") };
    const tagged = stringParam(query, "tagged");
    // Pods post no media.
    if (onlyMedia) return [];
    const page = await listPodPosts(deps, account.pod.id, { ...ids, limit, ...(pinned && { pinned }), ...(tagged && { tag: tagged }) });
    const statuses = await statusesOf(deps, page.posts, [account]);
    const link = linkHeader(deps.config.publicUrl, `/api/v1/accounts/${account.id}/statuses`, query, statuses.map((s) => s.id as string));
    if (link && !pinned) reply.header("link", link);
    return statuses;
  });

  // Collections are not browsable through this API (the ActivityPub collections are).
  for (const path of ["/accounts/:id/featured_tags", "/accounts/:id/followers", "/accounts/:id/following", "/accounts/:id/lists", "/accounts/:id/identity_proofs"]) {
    v1.get(path, async (request) => {
      await accountOr404((request.params as { id: string }).id);
      return [];
    });
  }
}
