/**
 * A pod's public posts: everything it publishes as a Note (the charter, each books
 * summary, each offer and need), read as one time-ordered list. The Mastodon client API
 * (src/http/mastodon) turns these into statuses; its ids are the posts' ids.
 *
 * Ids are decimal strings of a Snowflake-like number (src/domain/snowflake.ts): the post's
 * creation time in milliseconds, shifted left 16 bits, plus the kind and a hash of the row,
 * so they grow with time, never change, and need no table of their own.
 *
 * CONTRACT (filled in by the posts work; the http layer codes against these signatures).
 */
import type { Pod } from "../domain/pods.ts";
import type { ServiceDeps } from "./ports.ts";

export const POST_KINDS = ["charter", "summary", "offer", "need"] as const;
export type PostKind = (typeof POST_KINDS)[number];

export interface PodPost {
  /** Snowflake-like decimal id; grows with createdAt. */
  readonly id: string;
  readonly kind: PostKind;
  readonly pod: Pod;
  /** The ActivityPub object id (the Note's id). */
  readonly uri: string;
  /** The public HTML page of the object. */
  readonly url: string;
  /** When the object was first published. */
  readonly createdAt: Date;
  /** When it last changed (a new charter revision, an Update of the Note), or null if never. */
  readonly editedAt: Date | null;
  /** Exactly the HTML `content` of the federated Note (same function builds both). */
  readonly contentHtml: string;
  /** Hashtags the Note carries, without `#`, as published (e.g. "MutualAid"). */
  readonly tags: readonly string[];
  /** BCP 47 language of the content, or null when unknown. */
  readonly language: string | null;
  /** The charter is pinned (the actor's `featured`). */
  readonly pinned: boolean;
}

export interface PostQuery {
  /** Only posts with ids lower than this (exclusive). */
  maxId?: string;
  /** Only posts with ids higher than this (exclusive), newest first. */
  sinceId?: string;
  /** Only posts with ids higher than this (exclusive), the ones just after it. */
  minId?: string;
  /** 1..40 (callers clamp). */
  limit: number;
  /** Only pinned posts. */
  pinned?: boolean;
  /** Only posts carrying this hashtag (case-insensitive, without `#`). */
  tag?: string;
}

/** Posts, newest first (also with minId: the page just after minId, still newest first). */
export interface PostPage {
  readonly posts: readonly PodPost[];
}

export interface PodAccount {
  readonly pod: Pod;
  /** Snowflake-like decimal id from the pod's creation time. */
  readonly id: string;
  readonly followersCount: number;
  readonly followingCount: number;
  readonly postsCount: number;
  /** Creation time of the newest post, or null. */
  readonly lastPostAt: Date | null;
}

const notYet = (): never => {
  throw new Error("posts service: not built yet");
};

/** Active (not retired) pods on this node as accounts, oldest first. */
export async function listPodAccounts(_deps: ServiceDeps): Promise<PodAccount[]> {
  return notYet();
}
/** A pod's account by account id, or null (unknown, malformed or retired). */
export async function findPodAccount(_deps: ServiceDeps, _accountId: string): Promise<PodAccount | null> {
  return notYet();
}
/** A pod's account by slug, or null. */
export async function findPodAccountBySlug(_deps: ServiceDeps, _slug: string): Promise<PodAccount | null> {
  return notYet();
}
/** One pod's posts. */
export async function listPodPosts(_deps: ServiceDeps, _podId: string, _query: PostQuery): Promise<PostPage> {
  return notYet();
}
/** All active pods' posts on this node (the local public timeline), optionally by tag. */
export async function listPublicPosts(_deps: ServiceDeps, _query: PostQuery): Promise<PostPage> {
  return notYet();
}
/** One post by id, or null (unknown or malformed id). */
export async function findPost(_deps: ServiceDeps, _id: string): Promise<PodPost | null> {
  return notYet();
}
/** Several posts by id, in the order asked, unknown ones left out. */
export async function findPosts(_deps: ServiceDeps, _ids: readonly string[]): Promise<PodPost[]> {
  return notYet();
}
/** Number of posts of all active pods (NodeInfo localPosts, instance stats). */
export async function countPublicPosts(_deps: ServiceDeps): Promise<number> {
  return notYet();
}
/**
 * Search over this node only: pods whose slug, name or `@slug@host` match `q`, posts whose
 * text (HTML stripped) contains `q` (case-insensitive), hashtags used by posts that start with
 * `q` (without `#`). Each list at most `limit`, newest posts first.
 */
export async function searchLocal(
  _deps: ServiceDeps,
  _q: string,
  _opts: { limit: number; types?: readonly ("accounts" | "statuses" | "hashtags")[] },
): Promise<{ accounts: PodAccount[]; posts: PodPost[]; hashtags: string[] }> {
  return notYet();
}
