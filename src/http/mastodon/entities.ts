/**
 * Mastodon's REST entities, as Hyphae answers them (wire formats: snake_case, every field
 * a client reads, null or empty where a pod has nothing). Shapes follow Mastodon's own
 * serializers (app/serializers/rest/*) and what masto.js and megalodon type.
 *
 * One mapper per entity: a new kind of post is a new PodPost producer in
 * services/posts.ts, never a new mapper here.
 */
import { textToHtml } from "../../lib/html.ts";
import { SOFTWARE_VERSION, SOURCE_URL } from "../../lib/version.ts";
import type { PodAccount, PodPost } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";

/** The Mastodon API version we answer like; Phanpy and Elk gate features on it. */
export const MASTODON_COMPAT_VERSION = "4.3.0";
export const INSTANCE_VERSION = `${MASTODON_COMPAT_VERSION} (compatible; Hyphae ${SOFTWARE_VERSION})`;

export const DEFAULT_AVATAR_PATH = "/avatars/original/missing.png";
export const DEFAULT_HEADER_PATH = "/headers/original/missing.png";

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
/** Mastodon rounds an account's created_at down to its day. */
const dayStart = (d: Date) => `${isoDay(d)}T00:00:00.000Z`;

export function accountEntity(deps: ServiceDeps, a: PodAccount): Record<string, unknown> {
  const { pod } = a;
  const origin = deps.config.publicUrl;
  const avatar = pod.iconUrl ?? new URL(DEFAULT_AVATAR_PATH, origin).href;
  const header = new URL(DEFAULT_HEADER_PATH, origin).href;
  return {
    id: a.id,
    username: pod.slug,
    // Local accounts: the bare username, as Mastodon.
    acct: pod.slug,
    display_name: pod.name,
    locked: pod.manuallyApprovesFollowers,
    bot: false,
    discoverable: true,
    indexable: true,
    group: true,
    created_at: dayStart(pod.createdAt),
    note: pod.summary ? textToHtml(pod.summary) : "",
    url: deps.uris.profile(pod.slug).href,
    uri: deps.uris.actor(pod.slug).href,
    avatar,
    avatar_static: avatar,
    header,
    header_static: header,
    followers_count: a.followersCount,
    following_count: a.followingCount,
    statuses_count: a.postsCount,
    last_status_at: a.lastPostAt ? isoDay(a.lastPostAt) : null,
    hide_collections: pod.networkVisibility === "hidden",
    noindex: false,
    emojis: [],
    roles: [],
    fields: [],
    moved: null,
    suspended: false,
    limited: false,
    feature_approval: { automatic: [], manual: [], current_user: "unknown" },
  };
}

export function tagEntity(deps: ServiceDeps, name: string): { name: string; url: string } {
  const lower = name.toLowerCase();
  return { name: lower, url: deps.uris.tag(lower).href };
}

export function statusEntity(deps: ServiceDeps, post: PodPost, account: Record<string, unknown>): Record<string, unknown> {
  return {
    id: post.id,
    uri: post.uri,
    url: post.url,
    created_at: post.createdAt.toISOString(),
    edited_at: post.editedAt ? post.editedAt.toISOString() : null,
    account,
    content: post.contentHtml,
    visibility: "public",
    sensitive: false,
    spoiler_text: "",
    language: post.language,
    in_reply_to_id: null,
    in_reply_to_account_id: null,
    reblog: null,
    media_attachments: [],
    mentions: [],
    tags: post.tags.map((t) => tagEntity(deps, t)),
    emojis: [],
    replies_count: 0,
    reblogs_count: 0,
    favourites_count: 0,
    quotes_count: 0,
    card: null,
    poll: null,
    application: null,
    quote: null,
    quote_approval: { automatic: [], manual: [], current_user: "unknown" },
  };
}

/** What both instance versions share. */
function instanceParts(deps: ServiceDeps) {
  const host = deps.config.publicUrl.host;
  return {
    host,
    title: `Hyphae on ${host}`,
    description: "A node for neighbourhood mutual-aid pods: charters, offers, needs and open books. Read-only for Mastodon apps.",
    languages: ["en"],
    statuses: { max_characters: 5000, max_media_attachments: 0, characters_reserved_per_url: 23 },
    media: { supported_mime_types: [], image_size_limit: 0, image_matrix_limit: 0, video_size_limit: 0, video_frame_rate_limit: 0, video_matrix_limit: 0 },
    polls: { max_options: 0, max_characters_per_option: 0, min_expiration: 0, max_expiration: 0 },
  };
}

export function instanceV2(deps: ServiceDeps, stats: { pods: number; contact: Record<string, unknown> | null }): Record<string, unknown> {
  const p = instanceParts(deps);
  return {
    domain: p.host,
    title: p.title,
    version: INSTANCE_VERSION,
    source_url: SOURCE_URL,
    description: p.description,
    usage: { users: { active_month: stats.pods } },
    thumbnail: { url: new URL(DEFAULT_HEADER_PATH, deps.config.publicUrl).href, blurhash: null, versions: {} },
    icon: [],
    languages: p.languages,
    configuration: {
      urls: { streaming: null, status: null, about: deps.config.publicUrl.href, privacy_policy: null, terms_of_service: null },
      vapid: { public_key: "" },
      accounts: { max_featured_tags: 0, max_pinned_statuses: 1 },
      statuses: p.statuses,
      media_attachments: p.media,
      polls: p.polls,
      translation: { enabled: false },
      timelines_access: { live_feeds: { local: "public", remote: "disabled" }, hashtag_feeds: { local: "public", remote: "disabled" }, trending_link_feeds: { local: "disabled", remote: "disabled" } },
    },
    registrations: { enabled: false, approval_required: false, message: null, url: null, min_age: null, reason_required: false },
    api_versions: { mastodon: 2 },
    contact: { email: "", account: stats.contact },
    rules: [],
  };
}

export function instanceV1(deps: ServiceDeps, stats: { pods: number; posts: number; domains: number; contact: Record<string, unknown> | null }): Record<string, unknown> {
  const p = instanceParts(deps);
  return {
    uri: p.host,
    title: p.title,
    short_description: p.description,
    description: p.description,
    email: "",
    version: INSTANCE_VERSION,
    urls: { streaming_api: null },
    stats: { user_count: stats.pods, status_count: stats.posts, domain_count: stats.domains },
    thumbnail: new URL(DEFAULT_HEADER_PATH, deps.config.publicUrl).href,
    languages: p.languages,
    registrations: false,
    approval_required: false,
    invites_enabled: false,
    configuration: { accounts: { max_featured_tags: 0 }, statuses: p.statuses, media_attachments: p.media, polls: p.polls },
    contact_account: stats.contact,
    rules: [],
  };
}
