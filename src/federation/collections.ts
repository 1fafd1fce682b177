/**
 * The pod actor's collections. Followers and following are paginated with `totalItems`;
 * the outbox lists the pod's published activities (so far: its charter's history) and
 * `featured` pins the charter, which Mastodon shows as a pinned post.
 */
import * as follows from "../services/follows.ts";
import { countCharterHistory } from "../services/charters.ts";
import { findPodCached } from "../services/pods.ts";
import { charterHistoryActivities, currentCharterNote } from "./charter.ts";
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

function followerToRecipient(r: follows.FollowerEntry) {
  return { id: new URL(r.actorIri), inboxId: new URL(r.inbox), endpoints: r.sharedInbox ? { sharedInbox: new URL(r.sharedInbox) } : null };
}

export function registerCollections(federation: HyphaeFederation): void {
  federation
    .setFollowersDispatcher(PATHS.followers, async (ctx, identifier, cursor, baseUri) => {
      const pod = await findPodCached(ctx.data, identifier);
      if (!pod) return null;
      if (cursor === null) {
        // An HTTP GET without a cursor: return null so Fedify serves a `first` page.
        if ("request" in ctx) return null;
        // Delivery to "followers": Fedify wants every recipient at once.
        const all = await follows.followersPage(ctx.data, pod.id, { status: "accepted" });
        const wanted = baseUri ? all.filter((r) => r.actorIri.startsWith(baseUri.href)) : all;
        return { items: wanted.map(followerToRecipient) };
      }
      const after = cursor === "" ? null : decodeCursor(cursor);
      if (cursor !== "" && !after) return null;
      const rows = await follows.followersPage(ctx.data, pod.id, { status: "accepted", limit: PAGE_SIZE + 1, after });
      const page = rows.slice(0, PAGE_SIZE);
      const filtered = baseUri ? page.filter((r) => r.actorIri.startsWith(baseUri.href)) : page;
      const last = page.at(-1);
      return {
        items: filtered.map(followerToRecipient),
        nextCursor: rows.length > PAGE_SIZE && last ? encodeCursor(last) : null,
      };
    })
    .setFirstCursor(() => "")
    .setCounter(async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? follows.countFollowers(ctx.data, pod.id, "accepted") : null;
    });

  federation
    .setFollowingDispatcher(PATHS.following, async (ctx, identifier, cursor) => {
      const pod = await findPodCached(ctx.data, identifier);
      if (!pod) return null;
      if (cursor === null) return null;
      const offset = cursor === "" ? 0 : Number(cursor);
      if (!Number.isInteger(offset) || offset < 0) return null;
      const rows = await follows.followingPage(ctx.data, pod.id, { status: "accepted", limit: PAGE_SIZE + 1, offset });
      return {
        items: rows.slice(0, PAGE_SIZE).map((r) => new URL(r.actorIri)),
        nextCursor: rows.length > PAGE_SIZE ? String(offset + PAGE_SIZE) : null,
      };
    })
    .setFirstCursor(() => "")
    .setCounter(async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? follows.countFollowing(ctx.data, pod.id) : null;
    });

  federation
    .setOutboxDispatcher(PATHS.outbox, async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? { items: await charterHistoryActivities(ctx, pod) } : null;
    })
    .setCounter(async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? await countCharterHistory(ctx.data, pod.id) : null;
    });

  federation.setFeaturedDispatcher(PATHS.featured, async (ctx, identifier) => {
    const pod = await findPodCached(ctx.data, identifier);
    if (!pod) return null;
    const charter = await currentCharterNote(ctx, pod);
    return { items: charter ? [charter] : [] };
  });
}
