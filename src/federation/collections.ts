/**
 * The pod actor's collections. Followers and following are paginated with `totalItems`;
 * outbox and featured stay empty until pods publish posts.
 */
import * as follows from "../db/repos/follows.ts";
import { findPodCached } from "../services/pods.ts";
import type { HyphaeFederation } from "./federation.ts";
import { PATHS } from "./uris.ts";

export const PAGE_SIZE = 50;

interface FollowerCursor {
  createdAt: Date;
  actorIri: string;
}

function encodeCursor(c: FollowerCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.actorIri])).toString("base64url");
}

function decodeCursor(cursor: string): FollowerCursor | null {
  try {
    const [at, iri] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || typeof iri !== "string") return null;
    return { createdAt, actorIri: iri };
  } catch {
    return null;
  }
}

export function registerCollections(federation: HyphaeFederation): void {
  federation
    .setFollowersDispatcher(PATHS.followers, async (ctx, identifier, cursor, baseUri) => {
      const pod = await findPodCached(ctx.data, identifier);
      if (!pod) return null;
      // Without a cursor, return null so Fedify serves the collection with a `first` page.
      if (cursor === null) return null;
      const after = cursor === "" ? null : decodeCursor(cursor);
      if (cursor !== "" && !after) return null;
      const rows = await follows.listFollowers(ctx.data.db, pod.id, { status: "accepted", limit: PAGE_SIZE + 1, after });
      const page = rows.slice(0, PAGE_SIZE);
      const filtered = baseUri ? page.filter((r) => r.actorIri.startsWith(baseUri.href)) : page;
      const last = page.at(-1);
      return {
        items: filtered.map((r) => ({
          id: new URL(r.actorIri),
          inboxId: new URL(r.inbox),
          endpoints: r.sharedInbox ? { sharedInbox: new URL(r.sharedInbox) } : null,
        })),
        nextCursor: rows.length > PAGE_SIZE && last ? encodeCursor(last) : null,
      };
    })
    .setFirstCursor(() => "")
    .setCounter(async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? follows.countFollowers(ctx.data.db, pod.id, "accepted") : null;
    });

  federation
    .setFollowingDispatcher(PATHS.following, async (ctx, identifier, cursor) => {
      const pod = await findPodCached(ctx.data, identifier);
      if (!pod) return null;
      if (cursor === null) return null;
      const offset = cursor === "" ? 0 : Number(cursor);
      if (!Number.isInteger(offset) || offset < 0) return null;
      const rows = await follows.listFollowing(ctx.data.db, pod.id, { status: "accepted", limit: PAGE_SIZE + 1, offset });
      return {
        items: rows.slice(0, PAGE_SIZE).map((r) => new URL(r.actorIri)),
        nextCursor: rows.length > PAGE_SIZE ? String(offset + PAGE_SIZE) : null,
      };
    })
    .setFirstCursor(() => "")
    .setCounter(async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? follows.countFollowing(ctx.data.db, pod.id, "accepted") : null;
    });

  federation
    .setOutboxDispatcher(PATHS.outbox, async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? { items: [] } : null;
    })
    .setCounter(async (ctx, identifier) => ((await findPodCached(ctx.data, identifier)) ? 0 : null));

  federation.setFeaturedDispatcher(PATHS.featured, async (ctx, identifier) => {
    const pod = await findPodCached(ctx.data, identifier);
    return pod ? { items: [] } : null;
  });
}
