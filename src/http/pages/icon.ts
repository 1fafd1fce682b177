/**
 * A pod's uploaded icon, at /pods/{slug}/icon. Public (it is the actor's `icon`), served
 * with the media type its bytes were checked to be, never sniffed or run as a document,
 * and cached for a year when asked for by its current version (`?v=`, from its digest).
 */
import type { FastifyInstance } from "fastify";
import { getPodIconFile } from "../../services/pod-icons.ts";
import type { ServiceDeps } from "../../services/ports.ts";

const YEAR_SECONDS = 365 * 24 * 60 * 60;

export async function registerIconRoute(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  app.get<{ Params: { slug: string }; Querystring: { v?: string } }>("/pods/:slug/icon", async (request, reply) => {
    // Whatever the answer, it is never a document that could run in this origin.
    reply.header("content-security-policy", "default-src 'none'; frame-ancestors 'none'; sandbox");
    reply.header("x-content-type-options", "nosniff");
    const icon = await getPodIconFile(deps, request.params.slug);
    if (!icon) {
      return reply.code(404).header("cache-control", "no-cache").header("content-type", "text/plain; charset=utf-8").send("This pod has no uploaded icon.\n");
    }
    const etag = `"${icon.digest.slice(0, 32)}"`;
    // Only the current version is immutable: an old ?v= gets today's picture, briefly cached.
    const current = request.query.v === icon.digest.slice(0, 12);
    reply
      .header("content-type", icon.mediaType)
      .header("cache-control", current ? `public, max-age=${YEAR_SECONDS}, immutable` : "public, max-age=300")
      .header("etag", etag)
      .header("last-modified", icon.updatedAt.toUTCString())
      .header("access-control-allow-origin", "*")
      .header("cross-origin-resource-policy", "cross-origin")
      .header("content-disposition", `inline; filename="icon.${icon.mediaType.slice("image/".length)}"`);
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.send(icon.bytes);
  });
}
