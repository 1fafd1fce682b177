/**
 * The pod actor's collections. Followers and following are paginated with `totalItems`;
 * the outbox lists the pod's published activities (so far: its charter's history) and
 * `featured` pins the charter, which Mastodon shows as a pinned post.
 *
 * Protecting people: being seen to follow a mutual-aid pod can put someone at risk. Unless a
 * pod sets `networkVisibility: "public"`, its followers and following show everyone their
 * size (`totalItems`) but list only other pods (Group actors); a server fetching with an HTTP
 * signature additionally sees its own actors, which is what followers synchronisation
 * (FEP-8fcf) needs. Delivery to "followers" (not an HTTP request) sees everyone.
 */
import type { Context, RequestContext } from "@fedify/fedify";
import type { Pod } from "../domain/pods.ts";
import * as follows from "../services/follows.ts";
import type { ServiceDeps } from "../services/ports.ts";
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

type MemberFilter = Pick<NonNullable<Parameters<typeof follows.followersPage>[2]>, "onlyGroups" | "iriPrefix">;

/**
 * The members this request may see. A signature counts for the server that owns the signing
 * key, and only when the key and its owner share that origin.
 */
async function visibleMembers(ctx: Context<ServiceDeps> | RequestContext<ServiceDeps>, pod: Pod): Promise<Pick<MemberFilter, "onlyGroups">> {
  if (pod.networkVisibility === "public") return {};
  // Pages are only served to HTTP requests; without one there is no signature to count.
  if (!("request" in ctx)) return { onlyGroups: { orAlsoPrefix: null } };
  const key = await ctx.getSignedKey();
  const owner = key ? await ctx.getSignedKeyOwner() : null;
  const origin = key?.id && owner?.id && key.id.origin === owner.id.origin ? owner.id.origin : null;
  return { onlyGroups: { orAlsoPrefix: origin ? `${origin}/` : null } };
}

export function registerCollections(federation: HyphaeFederation): void {
  federation
    .setFollowersDispatcher(PATHS.followers, async (ctx, identifier, cursor, baseUri) => {
      const pod = await findPodCached(ctx.data, identifier);
      if (!pod) return null;
      if (cursor === null) {
        // Only delivery to "followers" (and FEP-8fcf's digest) asks without a cursor: an HTTP
        // GET always gets pages, because a first cursor is set. Fedify wants every recipient
        // at once, whatever kind of context it was called from.
        const all = await follows.followersPage(ctx.data, pod.id, { status: "accepted", iriPrefix: baseUri?.href ?? null });
        return { items: all.map(followerToRecipient) };
      }
      const after = cursor === "" ? null : decodeCursor(cursor);
      if (cursor !== "" && !after) return null;
      // Filters run in SQL, so every page is full until the last one.
      const filter: MemberFilter = { ...(await visibleMembers(ctx, pod)), iriPrefix: baseUri?.href ?? null };
      const rows = await follows.followersPage(ctx.data, pod.id, { status: "accepted", limit: PAGE_SIZE + 1, after, ...filter });
      const page = rows.slice(0, PAGE_SIZE);
      const last = page.at(-1);
      return {
        items: page.map(followerToRecipient),
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
      const rows = await follows.followingPage(ctx.data, pod.id, { status: "accepted", limit: PAGE_SIZE + 1, offset, ...(await visibleMembers(ctx, pod)) });
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
