/** Search over this node's pods, posts and hashtags; nothing remote is looked up. */
import type { FastifyInstance } from "fastify";
import { searchLocal } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { accountEntity, tagEntity } from "./entities.ts";
import { boolParam, limitParam, MastodonError, stringParam, unprocessable, type Query } from "./params.ts";
import { statusesOf } from "./render.ts";

const TYPES = ["accounts", "statuses", "hashtags"] as const;
type SearchType = (typeof TYPES)[number];

export function registerSearchRoutes(v2: FastifyInstance, deps: ServiceDeps): void {
  v2.get("/search", async (request) => {
    const query = request.query as Query;
    // As Mastodon (api/v2/search_controller.rb): paging with offset, or resolving remote
    // resources, needs a signed-in user; its two messages, offset checked first.
    const offset = stringParam(query, "offset");
    if (offset !== undefined && offset !== "") throw new MastodonError(401, "Search queries pagination is not supported without authentication");
    if (boolParam(query, "resolve")) throw new MastodonError(401, "Search queries that resolve remote resources are not supported without authentication");
    const type = stringParam(query, "type");
    if (type !== undefined && type !== "" && !TYPES.includes(type as SearchType)) throw unprocessable("type must be accounts, statuses or hashtags");
    const limit = limitParam(query, 20, 40);
    const q = stringParam(query, "q") ?? "";
    const types = type ? [type as SearchType] : [...TYPES];
    const found = await searchLocal(deps, q, { limit, types });
    return {
      accounts: found.accounts.map((a) => accountEntity(deps, a)),
      statuses: await statusesOf(deps, found.posts),
      hashtags: found.hashtags.map((h) => ({ ...tagEntity(deps, h), history: [], following: false })),
    };
  });
}
