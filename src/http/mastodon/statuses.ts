/** Posts as statuses: one, several, their (empty) context, and the public and tag timelines. */
import type { FastifyInstance } from "fastify";
import { findPost, findPosts, listPublicPosts } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { boolParam, idListParam, idParam, limitParam, linkHeader, notFound, pathId, type Query } from "./params.ts";
import { statusesOf } from "./render.ts";

export function registerStatusRoutes(v1: FastifyInstance, deps: ServiceDeps): void {
  const postOr404 = async (id: string) => {
    const post = await findPost(deps, pathId(id));
    if (!post) throw notFound();
    return post;
  };

  v1.get("/statuses", async (request) => {
    const ids = idListParam(request.query as Query, 40).filter((id) => /^[0-9]{1,19}$/.test(id));
    return statusesOf(deps, await findPosts(deps, ids));
  });
  v1.get("/statuses/:id", async (request) => (await statusesOf(deps, [await postOr404((request.params as { id: string }).id)]))[0]);
  v1.get("/statuses/:id/context", async (request) => {
    await postOr404((request.params as { id: string }).id);
    return { ancestors: [], descendants: [] };
  });
  for (const path of ["/statuses/:id/reblogged_by", "/statuses/:id/favourited_by", "/statuses/:id/quotes"]) {
    v1.get(path, async (request) => {
      await postOr404((request.params as { id: string }).id);
      return [];
    });
  }
  v1.get("/statuses/:id/history", async () => {
    throw notFound();
  });

  /** The local timeline, or one hashtag's; every post here is local. */
  const timeline = (pathname: (request: { params: unknown }) => string, tagOf: (request: { params: unknown }) => string | undefined) =>
    async (request: { query: unknown; params: unknown }, reply: { header(name: string, value: string): unknown }) => {
      const query = request.query as Query;
      const limit = limitParam(query, 20, 40);
      const ids = { maxId: idParam(query, "max_id"), sinceId: idParam(query, "since_id"), minId: idParam(query, "min_id") };
      const onlyMedia = boolParam(query, "only_media");
      const remote = boolParam(query, "remote");
      boolParam(query, "local");
      if (onlyMedia || remote) return [];
      const tag = tagOf(request);
      const page = await listPublicPosts(deps, { ...ids, limit, ...(tag !== undefined && { tag }) });
      const statuses = await statusesOf(deps, page.posts, page.accounts);
      const link = linkHeader(deps.config.publicUrl, pathname(request), query, statuses.map((s) => s.id as string));
      if (link) reply.header("link", link);
      return statuses;
    };

  v1.get("/timelines/public", timeline(() => "/api/v1/timelines/public", () => undefined));
  v1.get(
    "/timelines/tag/:hashtag",
    timeline(
      (r) => `/api/v1/timelines/tag/${encodeURIComponent((r.params as { hashtag: string }).hashtag)}`,
      (r) => (r.params as { hashtag: string }).hashtag,
    ),
  );
}
