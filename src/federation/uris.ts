/**
 * Every ActivityPub path and IRI the node publishes, in one place. Actor and object ids
 * are also the URLs of their HTML pages (content negotiation on the same URL).
 */
export const PATHS = {
  actor: "/pods/{identifier}",
  inbox: "/pods/{identifier}/inbox",
  sharedInbox: "/inbox",
  outbox: "/pods/{identifier}/outbox",
  followers: "/pods/{identifier}/followers",
  following: "/pods/{identifier}/following",
  featured: "/pods/{identifier}/featured",
  charter: "/pods/{identifier}/charter",
  charterHistory: "/pods/{identifier}/charter/history",
} as const;

export const podActorUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}`, origin);
/** The short profile URL (`/@slug`), which shows the same HTML page. */
export const podProfileUrl = (origin: URL, slug: string) => new URL(`/@${slug}`, origin);
export const podFollowUrl = (origin: URL, slug: string, id: string) => new URL(`/pods/${slug}/follows/${id}`, origin);
/** The charter's stable id, which is also its HTML page. */
export const charterUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}/charter`, origin);
/**
 * A revision snapshot's id. Fedify allows one object dispatcher per class, so snapshots
 * share the charter's path and are told apart by the query; their HTML page is
 * charterRevisionPageUrl.
 */
export const charterRevisionId = (origin: URL, slug: string, n: number) => new URL(`/pods/${slug}/charter?revision=${n}`, origin);
export const charterRevisionPageUrl = (origin: URL, slug: string, n: number) => new URL(`/pods/${slug}/charter/revisions/${n}`, origin);
/** Ids of the Create/Update activities the charter went out as (listed in its history). */
export const charterEventUrl = (origin: URL, slug: string, eventId: string) => new URL(`/pods/${slug}/charter#events/${eventId}`, origin);
/** The open books of a pod: page, public export, receipts and period summaries. */
export const booksUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}/books`, origin);
export const booksExportUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}/books/export.json`, origin);
export const receiptUrl = (origin: URL, slug: string, number: string) => new URL(`/pods/${slug}/receipts/${encodeURIComponent(number)}`, origin);
/** A summary's Note id, which is also its HTML page; versions are `?version=n`. */
export const summaryUrl = (origin: URL, slug: string, periodKind: string, startDate: string) =>
  new URL(`/pods/${slug}/books/summaries/${periodKind}-${startDate}`, origin);
/** One version of a summary (its snapshot's id). */
export const summaryVersionUrl = (origin: URL, slug: string, periodKind: string, startDate: string, version: number) =>
  new URL(`${summaryUrl(origin, slug, periodKind, startDate).pathname}?version=${version}`, origin);
/** The Create/Update a summary version went out as: derived from the version's id, never reused. */
export const summaryActivityUrl = (origin: URL, slug: string, periodKind: string, startDate: string, summaryId: string) =>
  new URL(`${summaryUrl(origin, slug, periodKind, startDate).pathname}#activities/${summaryId}`, origin);
/** `/pods/{slug}/books/summaries/{kind}-{YYYY-MM-DD}`: slug, kind and start date. */
export const SUMMARY_PATH = /^\/pods\/([^/?#]+)\/books\/summaries\/(week|lunar|month)-(\d{4}-\d{2}-\d{2})\/?$/;
/** Congress: offers and needs, our claims' Offer activities, agreements, transfers, the view and its neighbours. */
export const proposalUrl = (origin: URL, slug: string, purpose: "offer" | "request", number: number) =>
  new URL(`/pods/${slug}/${purpose === "offer" ? "offers" : "needs"}/${number}`, origin);
export const claimUrl = (origin: URL, slug: string, claimId: string) => new URL(`/pods/${slug}/claims/${claimId}`, origin);
export const agreementUrl = (origin: URL, slug: string, claimId: string) => new URL(`/pods/${slug}/agreements/${claimId}`, origin);
export const transferUrl = (origin: URL, slug: string, transferId: string) => new URL(`/pods/${slug}/transfers/${transferId}`, origin);
export const congressUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}/congress`, origin);
export const neighboursUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}/neighbours`, origin);
/** The Create/Update a proposal version went out as. */
export const proposalActivityUrl = (origin: URL, slug: string, purpose: "offer" | "request", number: number, version: number) =>
  new URL(`${proposalUrl(origin, slug, purpose, number).pathname}#activities/${version}`, origin);

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** Paths of the congress documents (served by congress-route.ts): slug and id. */
export const CONGRESS_PATHS = {
  offer: /^\/pods\/([^/?#]+)\/offers\/([1-9]\d{0,8})\/?$/,
  need: /^\/pods\/([^/?#]+)\/needs\/([1-9]\d{0,8})\/?$/,
  claim: new RegExp(`^/pods/([^/?#]+)/claims/(${UUID})/?$`),
  agreement: new RegExp(`^/pods/([^/?#]+)/agreements/(${UUID})/?$`),
  transfer: new RegExp(`^/pods/([^/?#]+)/transfers/(${UUID})/?$`),
  neighbours: /^\/pods\/([^/?#]+)\/neighbours\/?$/,
} as const;

/** Our claim's Offer id → its pod and claim id (null for anything else, or another origin). */
export function claimFromUrl(origin: URL, iri: string | URL | null | undefined): { slug: string; claimId: string } | null {
  if (!iri) return null;
  let url: URL;
  try {
    url = new URL(iri);
  } catch {
    return null;
  }
  if (url.origin !== origin.origin || url.search || url.hash) return null;
  const m = CONGRESS_PATHS.claim.exec(url.pathname);
  return m ? { slug: decodeURIComponent(m[1]!), claimId: m[2]! } : null;
}

/** The followers collection of a pod (PATHS.followers). */
export const podFollowersUrl = (origin: URL, slug: string) => new URL(`/pods/${slug}/followers`, origin);
export const tagUrl = (origin: URL, tag: string) => new URL(`/tags/${encodeURIComponent(tag.toLowerCase())}`, origin);

/** Ids of activities that answer or undo something: fragment ids on the actor, never reused. */
export const podActivityUrl = (origin: URL, slug: string, kind: string, id: string) =>
  new URL(`/pods/${slug}#${kind}/${id}`, origin);

/** The node's IRIs for services (the PodUris port). */
export function podUris(origin: URL) {
  return {
    actor: (slug: string) => podActorUrl(origin, slug),
    profile: (slug: string) => podProfileUrl(origin, slug),
    follow: (slug: string, id: string) => podFollowUrl(origin, slug, id),
    charter: (slug: string) => charterUrl(origin, slug),
    charterRevision: (slug: string, n: number) => charterRevisionPageUrl(origin, slug, n),
    charterRevisionObject: (slug: string, n: number) => charterRevisionId(origin, slug, n),
    books: (slug: string) => booksUrl(origin, slug),
    booksExport: (slug: string) => booksExportUrl(origin, slug),
    receipt: (slug: string, number: string) => receiptUrl(origin, slug, number),
    summary: (slug: string, kind: string, start: string) => summaryUrl(origin, slug, kind, start),
    summaryVersion: (slug: string, kind: string, start: string, version: number) => summaryVersionUrl(origin, slug, kind, start, version),
    tag: (name: string) => tagUrl(origin, name),
    proposal: (slug: string, purpose: "offer" | "request", n: number) => proposalUrl(origin, slug, purpose, n),
    claim: (slug: string, id: string) => claimUrl(origin, slug, id),
    agreement: (slug: string, id: string) => agreementUrl(origin, slug, id),
    transfer: (slug: string, id: string) => transferUrl(origin, slug, id),
    congress: (slug: string) => congressUrl(origin, slug),
    neighbours: (slug: string) => neighboursUrl(origin, slug),
  };
}

/** `/pods/<slug>/follows/<id>` → slug, for matching answers to our Follows. */
export function slugFromFollowUrl(origin: URL, iri: string | URL | null | undefined): string | null {
  if (!iri) return null;
  const url = new URL(iri);
  if (url.origin !== origin.origin) return null;
  const m = /^\/pods\/([^/]+)\/follows\/[^/]+$/.exec(url.pathname);
  return m ? decodeURIComponent(m[1]!) : null;
}
