/**
 * A pod's public posts: everything it publishes as a Note (the charter, each books
 * summary, each offer and need), read as one time-ordered list. The Mastodon client API
 * (src/http/mastodon) turns these into statuses; its ids are the posts' ids.
 *
 * Ids are decimal strings of a Snowflake-like number (src/domain/snowflake.ts): the post's
 * creation time in milliseconds, shifted left 16 bits, plus the kind and a hash of the row,
 * so they grow with time, never change, and need no table of their own.
 *
 * How it reads: a pod has tens to hundreds of posts, so a listing loads the posts' metadata
 * (kind, creation time, row) from db/repos/posts.ts, sorts and pages it in memory, and only
 * then loads and renders the Notes on the page, with the same functions federation uses
 * (services/notes.ts). A post keeps its id for life: a summary's is its version 1's, an
 * offer's its own, whatever its status (a withdrawn, expired or fulfilled offer is still a
 * post whose Note says so).
 */
import { getPodById, getPodBySlug } from "../db/repos/pods.ts";
import * as repo from "../db/repos/posts.ts";
import type { PostRow } from "../db/repos/posts.ts";
import { invalid } from "../domain/errors.ts";
import type { Pod } from "../domain/pods.ts";
import { CHARTER_HASHTAGS } from "../domain/charter/render.ts";
import { SUMMARY_HASHTAGS } from "../domain/books/summary.ts";
import { proposalHashtags } from "../domain/congress/proposals.ts";
import { decodeSnowflake, snowflakeId, SNOWFLAKE_KINDS } from "../domain/snowflake.ts";
import { findCharter } from "./charters.ts";
import { charterNoteParts, currentCharterInput, proposalNoteParts, summaryNoteParts, type NoteParts } from "./notes.ts";
import type { ServiceDeps } from "./ports.ts";
import { proposalSnapshot } from "./proposals.ts";
import { summarySnapshot } from "./summaries.ts";

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
  /** The accounts of the pods on the page, when the listing could count them on the way. */
  readonly accounts?: readonly PodAccount[];
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

/** Largest page; callers clamp, this is the backstop. */
export const MAX_POST_LIMIT = 40;

// ---------------------------------------------------------------------------------------
// Post metadata: what a listing sorts and pages before anything is rendered

interface PostMeta {
  readonly id: string;
  readonly order: bigint;
  readonly kind: PostKind;
  readonly pod: Pod;
  readonly row: PostRow;
  readonly tags: readonly string[];
  readonly pinned: boolean;
}

const KIND_CODES: Record<PostKind, number> = SNOWFLAKE_KINDS;
const KIND_BY_CODE = new Map<number, PostKind>(POST_KINDS.map((k) => [KIND_CODES[k], k]));

function tagsOf(row: PostRow): readonly string[] {
  switch (row.kind) {
    case "charter":
      return CHARTER_HASHTAGS;
    case "summary":
      return SUMMARY_HASHTAGS;
    case "offer":
      return proposalHashtags({ purpose: "offer", urgent: row.urgent });
    case "need":
      return proposalHashtags({ purpose: "request", urgent: row.urgent });
  }
}

function metaOf(row: PostRow, pod: Pod): PostMeta {
  const id = snowflakeId(row.createdAt, KIND_CODES[row.kind], row.key);
  return { id, order: BigInt(id), kind: row.kind, pod, row, tags: tagsOf(row), pinned: row.kind === "charter" };
}

/** Metadata of active pods' posts (or one pod's), newest first. */
async function loadMetas(deps: ServiceDeps, pods: readonly Pod[], podId?: string): Promise<PostMeta[]> {
  const byId = new Map(pods.map((p) => [p.id, p]));
  const rows = await repo.listPostRows(deps.db, podId === undefined ? {} : { podId });
  const metas: PostMeta[] = [];
  for (const row of rows) {
    const pod = byId.get(row.podId);
    if (pod) metas.push(metaOf(row, pod));
  }
  return metas.sort(newestFirst);
}

const newestFirst = (a: PostMeta, b: PostMeta) => (a.order === b.order ? 0 : a.order > b.order ? -1 : 1);

/** A pagination bound: any decimal id (1..19 digits); absent when undefined or empty. */
function bound(value: string | undefined, field: string): bigint | undefined {
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string" || !/^[0-9]{1,19}$/.test(value)) {
    throw invalid("INVALID_ID", `${field} must be a numeric id`, { field });
  }
  return BigInt(value);
}

const normalTag = (tag: string) => tag.trim().replace(/^#/, "").toLowerCase();

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 20;
  return Math.min(Math.max(Math.trunc(limit), 1), MAX_POST_LIMIT);
}

/**
 * Mastodon's paging over metadata sorted newest first: max_id and since_id are exclusive
 * bounds and the page is the newest `limit` between them; with min_id, the page is the
 * `limit` posts just newer than min_id (oldest of them first in the scan), returned newest
 * first. min_id wins over since_id, as in Mastodon.
 */
function page(metas: readonly PostMeta[], query: PostQuery): PostMeta[] {
  const maxId = bound(query.maxId, "max_id");
  const sinceId = bound(query.sinceId, "since_id");
  const minId = bound(query.minId, "min_id");
  const limit = clampLimit(query.limit);
  const tag = query.tag === undefined ? "" : normalTag(query.tag);
  const wanted = metas.filter(
    (m) =>
      (!query.pinned || m.pinned) &&
      (tag === "" || m.tags.some((t) => t.toLowerCase() === tag)) &&
      (maxId === undefined || m.order < maxId),
  );
  if (minId !== undefined) {
    const newer = wanted.filter((m) => m.order > minId);
    return newer.slice(Math.max(0, newer.length - limit));
  }
  return wanted.filter((m) => sinceId === undefined || m.order > sinceId).slice(0, limit);
}

// ---------------------------------------------------------------------------------------
// Rendering: the Note as federation builds it

async function noteOf(deps: ServiceDeps, meta: PostMeta): Promise<NoteParts | null> {
  const { pod, row } = meta;
  if (row.kind === "charter") {
    const charter = await findCharter(deps, pod.slug);
    return charter ? charterNoteParts(deps, pod, currentCharterInput(charter)) : null;
  }
  if (row.kind === "summary") {
    const snapshot = await summarySnapshot(deps, pod.id, row.ref);
    return snapshot ? summaryNoteParts(deps, pod, snapshot.summary, snapshot.firstPublishedAt) : null;
  }
  const snapshot = await proposalSnapshot(deps, pod.id, row.ref);
  return snapshot ? proposalNoteParts(deps, pod, snapshot.proposal) : null;
}

/**
 * Rendered Notes per database, keyed by the post, its row's stamp and the pod's profile
 * time: what the key names never renders differently, so a hit is never stale, even with
 * several processes writing. Bounded; cleared when full.
 */
const noteCache = new WeakMap<object, Map<string, NoteParts>>();
const NOTE_CACHE_MAX = 5000;

async function cachedNoteOf(deps: ServiceDeps, meta: PostMeta): Promise<NoteParts | null> {
  let cache = noteCache.get(deps.db);
  if (!cache) noteCache.set(deps.db, (cache = new Map()));
  const key = `${meta.id}|${meta.row.stamp}|${meta.pod.updatedAt.getTime()}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const note = await noteOf(deps, meta);
  if (!note) return null;
  if (cache.size >= NOTE_CACHE_MAX) cache.clear();
  cache.set(key, note);
  return note;
}

async function render(deps: ServiceDeps, metas: readonly PostMeta[]): Promise<PodPost[]> {
  const notes = await Promise.all(metas.map((m) => cachedNoteOf(deps, m)));
  const posts: PodPost[] = [];
  metas.forEach((meta, i) => {
    const note = notes[i];
    // Gone between the listing and the read (a pod deleted meanwhile): left out.
    if (!note) return;
    posts.push({
      id: meta.id,
      kind: meta.kind,
      pod: meta.pod,
      uri: note.uri,
      url: note.url,
      createdAt: meta.row.createdAt,
      editedAt: note.updated,
      contentHtml: note.contentHtml,
      tags: note.tags,
      language: note.language,
      pinned: meta.pinned,
    });
  });
  return posts;
}

// ---------------------------------------------------------------------------------------
// Accounts

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const accountId = (pod: Pod) => snowflakeId(pod.createdAt, SNOWFLAKE_KINDS.pod, pod.id);

async function accountsOf(deps: ServiceDeps, pods: readonly Pod[], loaded?: readonly PostMeta[]): Promise<PodAccount[]> {
  if (pods.length === 0) return [];
  const ids = pods.map((p) => p.id);
  const [counts, metas] = await Promise.all([
    repo.countFollowsByPod(deps.db, ids),
    loaded ?? loadMetas(deps, pods, pods.length === 1 ? pods[0]!.id : undefined),
  ]);
  return pods.map((pod) => {
    const own = metas.filter((m) => m.pod.id === pod.id);
    const c = counts.get(pod.id);
    return {
      pod,
      id: accountId(pod),
      followersCount: c?.followers ?? 0,
      followingCount: c?.following ?? 0,
      postsCount: own.length,
      lastPostAt: own[0]?.row.createdAt ?? null,
    };
  });
}

/** Active (not retired) pods on this node as accounts, oldest first. */
export async function listPodAccounts(deps: ServiceDeps): Promise<PodAccount[]> {
  return accountsOf(deps, await repo.listActivePods(deps.db));
}

/** A pod's account by account id, or null (unknown, malformed or retired). */
export async function findPodAccount(deps: ServiceDeps, accountIdAsked: string): Promise<PodAccount | null> {
  const decoded = decodeSnowflake(accountIdAsked);
  if (!decoded || decoded.kindCode !== SNOWFLAKE_KINDS.pod) return null;
  const pods = await repo.listActivePods(deps.db, { from: new Date(decoded.ms), to: new Date(decoded.ms + 1) });
  const pod = pods.find((p) => accountId(p) === accountIdAsked);
  return pod ? ((await accountsOf(deps, [pod]))[0] ?? null) : null;
}

/** A pod's account by slug, or null. */
export async function findPodAccountBySlug(deps: ServiceDeps, slug: string): Promise<PodAccount | null> {
  // Slugs are lowercase; Mastodon looks handles up whatever their case.
  const pod = typeof slug === "string" && slug !== "" ? await getPodBySlug(deps.db, slug.toLowerCase()) : null;
  return pod && !pod.retiredAt ? ((await accountsOf(deps, [pod]))[0] ?? null) : null;
}

// ---------------------------------------------------------------------------------------
// Posts

/** The kinds of post a pod has published (so a page promises followers only what the pod posts). */
export async function publishedPostKinds(deps: ServiceDeps, pod: Pod): Promise<Set<PostKind>> {
  if (pod.retiredAt) return new Set();
  const metas = await loadMetas(deps, [pod], pod.id);
  return new Set(metas.map((m) => m.kind));
}

/** One pod's posts (none for an unknown or retired pod). */
export async function listPodPosts(deps: ServiceDeps, podId: string, query: PostQuery): Promise<PostPage> {
  const pod = UUID.test(podId) ? await getPodById(deps.db, podId) : null;
  if (!pod || pod.retiredAt) {
    page([], query); // malformed bounds are refused all the same
    return { posts: [] };
  }
  return { posts: await render(deps, page(await loadMetas(deps, [pod], podId), query)) };
}

/** All active pods' posts on this node (the local public timeline), optionally by tag. */
export async function listPublicPosts(deps: ServiceDeps, query: PostQuery): Promise<PostPage> {
  const pods = await repo.listActivePods(deps.db);
  const metas = await loadMetas(deps, pods);
  const posts = await render(deps, page(metas, query));
  // The metadata just loaded also counts each pod's posts: the page's accounts cost one more query.
  const onPage = new Set(posts.map((p) => p.pod.id));
  const accounts = await accountsOf(deps, pods.filter((p) => onPage.has(p.id)), metas);
  return { posts, accounts };
}

/** One post by id, or null (unknown or malformed id). */
export async function findPost(deps: ServiceDeps, id: string): Promise<PodPost | null> {
  const decoded = decodeSnowflake(id);
  const kind = decoded ? KIND_BY_CODE.get(decoded.kindCode) : undefined;
  if (!decoded || !kind) return null;
  // Only rows of that kind first published in that millisecond can carry this id.
  const rows = await repo.listPostRowsCreatedIn(deps.db, kind, new Date(decoded.ms), new Date(decoded.ms + 1));
  const row = rows.find((r) => snowflakeId(r.createdAt, KIND_CODES[r.kind], r.key) === id);
  const pod = row ? await getPodById(deps.db, row.podId) : null;
  if (!row || !pod || pod.retiredAt) return null;
  return (await render(deps, [metaOf(row, pod)]))[0] ?? null;
}

/** Several posts by id, in the order asked, unknown ones left out. */
export async function findPosts(deps: ServiceDeps, ids: readonly string[]): Promise<PodPost[]> {
  const unique = [...new Set(ids)];
  const found = new Map<string, PodPost>();
  for (const post of await Promise.all(unique.map((id) => findPost(deps, id)))) if (post) found.set(post.id, post);
  return ids.flatMap((id) => found.get(id) ?? []);
}

/** Number of posts of all active pods (NodeInfo localPosts, instance stats). */
export async function countPublicPosts(deps: ServiceDeps): Promise<number> {
  return (await repo.listPostRows(deps.db)).length;
}

// ---------------------------------------------------------------------------------------
// Search

/** The text a reader sees in a Note's HTML: tags dropped, entities decoded, spaces collapsed. */
export function noteText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/p>|<\/li>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
      const lower = e.toLowerCase();
      if (lower.startsWith("#x")) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
      if (lower.startsWith("#")) return String.fromCodePoint(Number(lower.slice(1)));
      return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[lower]!;
    })
    .replace(/\s+/g, " ")
    .trim();
}

/** Pods matching `q`: slug or name contains it; `@slug@ourhost` and `slug@ourhost` find the slug. */
function matchAccounts(deps: ServiceDeps, pods: readonly Pod[], q: string): Pod[] {
  let term = q.replace(/^@/, "").toLowerCase();
  const at = term.indexOf("@");
  if (at >= 0) {
    const host = term.slice(at + 1);
    // Another server's handle: this node only knows its own pods.
    if (host !== deps.config.publicUrl.host.toLowerCase() && host !== deps.config.publicUrl.hostname.toLowerCase()) return [];
    term = term.slice(0, at);
    return term === "" ? [] : pods.filter((p) => p.slug.includes(term));
  }
  if (term === "") return [];
  const matches = pods.filter((p) => p.slug.includes(term) || p.name.toLowerCase().includes(term));
  // An exact handle first, then the rest oldest first.
  return [...matches.filter((p) => p.slug === term), ...matches.filter((p) => p.slug !== term)];
}

/**
 * Search over this node only: pods whose slug, name or `@slug@host` match `q`, posts whose
 * text (HTML stripped) contains `q` (case-insensitive), hashtags used by posts that start with
 * `q` (without `#`). Each list at most `limit`, newest posts first.
 *
 * Posts are rendered newest first until `limit` match, so a search may render every post of
 * the node (a few hundred Notes at most).
 */
export async function searchLocal(
  deps: ServiceDeps,
  q: string,
  opts: { limit: number; types?: readonly ("accounts" | "statuses" | "hashtags")[] },
): Promise<{ accounts: PodAccount[]; posts: PodPost[]; hashtags: string[] }> {
  const query = typeof q === "string" ? q.trim() : "";
  const types = new Set(opts.types ?? ["accounts", "statuses", "hashtags"]);
  const limit = clampLimit(opts.limit);
  const result: { accounts: PodAccount[]; posts: PodPost[]; hashtags: string[] } = { accounts: [], posts: [], hashtags: [] };
  // Nothing to look for: an empty query, or only the `#` or `@` that starts one.
  if (query.replace(/^[#@]/, "").trim() === "") return result;
  const pods = await repo.listActivePods(deps.db);

  if (types.has("accounts")) result.accounts = await accountsOf(deps, matchAccounts(deps, pods, query).slice(0, limit));

  if (!types.has("statuses") && !types.has("hashtags")) return result;
  const metas = await loadMetas(deps, pods);

  if (types.has("hashtags")) {
    const prefix = normalTag(query);
    const seen = new Map<string, string>();
    if (prefix !== "") {
      for (const m of metas) for (const t of m.tags) if (t.toLowerCase().startsWith(prefix) && !seen.has(t.toLowerCase())) seen.set(t.toLowerCase(), t);
    }
    result.hashtags = [...seen.values()].sort((a, b) => a.localeCompare(b)).slice(0, limit);
  }

  if (types.has("statuses")) {
    const needle = query.replace(/\s+/g, " ").toLowerCase();
    // Render a page at a time, newest first, until enough match.
    for (let i = 0; i < metas.length && result.posts.length < limit; i += MAX_POST_LIMIT) {
      for (const post of await render(deps, metas.slice(i, i + MAX_POST_LIMIT))) {
        if (result.posts.length < limit && noteText(post.contentHtml).toLowerCase().includes(needle)) result.posts.push(post);
      }
    }
  }
  return result;
}
