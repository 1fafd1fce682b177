/**
 * Period summaries on the fediverse. A summary is a `Note` whose id is its page
 * (`/pods/{slug}/books/summaries/{kind}-{YYYY-MM-DD}`): readable HTML made of paragraphs and
 * lists (Mastodon strips tables) with #OpenBooks #MutualAid, and the structured summary
 * under our namespace, with the context inlined:
 *
 * - `periodKind`, `periodStart`, `periodEnd`, `summaryVersion`, `headSeq`, `headHash`,
 *   `entryCount`, `contentDigest` (SHA-256 of the RFC 8785 canonical JSON of `openBooks`);
 * - `openBooks`: the whole SummaryContent as a JSON literal (`@type: @json`), so that a
 *   receiver reads exactly what was digested and can check the digest itself.
 *
 * Fedify allows one object dispatcher per class and the charter has `Note`, so these
 * documents are served by our own route (summary-route.ts), and Fedify drops unknown
 * terms from objects embedded in activities it sends: other Hyphae nodes dereference the
 * Note's id (signed GET) and read the structured summary there. Each published version
 * goes out as Create (version 1) or Update (later versions) of the same Note id, to
 * Public and the pod's followers; activity ids derive from the summary version's id.
 */
import type { Context } from "@fedify/fedify";
import { Create, Note, PUBLIC_COLLECTION, Update, type Activity } from "@fedify/vocab";
import { summaryDigest } from "../domain/books/summary.ts";
import type { PeriodKind } from "../domain/books/model.ts";
import type { Pod } from "../domain/pods.ts";
import { summaryNoteParts } from "../services/notes.ts";
import { findPodCached } from "../services/pods.ts";
import type { ServiceDeps } from "../services/ports.ts";
import { getSummary, summarySnapshot, type SummaryView } from "../services/summaries.ts";
import { HYPHAE_NS } from "./charter.ts";
import { dateToInstant } from "./temporal.ts";
import { booksExportUrl, podActorUrl, podFollowersUrl, podUris, summaryActivityUrl, summaryUrl, tagUrl } from "./uris.ts";

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

export const SUMMARY_CONTEXT = {
  hyphae: HYPHAE_NS,
  xsd: "http://www.w3.org/2001/XMLSchema#",
  Hashtag: "as:Hashtag",
  periodKind: "hyphae:periodKind",
  periodStart: { "@id": "hyphae:periodStart", "@type": "xsd:dateTime" },
  periodEnd: { "@id": "hyphae:periodEnd", "@type": "xsd:dateTime" },
  summaryVersion: { "@id": "hyphae:summaryVersion", "@type": "xsd:integer" },
  versionOf: { "@id": "hyphae:versionOf", "@type": "@id" },
  headSeq: { "@id": "hyphae:headSeq", "@type": "xsd:integer" },
  headHash: "hyphae:headHash",
  entryCount: { "@id": "hyphae:entryCount", "@type": "xsd:integer" },
  contentDigest: "hyphae:contentDigest",
  ledgerExport: { "@id": "hyphae:ledgerExport", "@type": "@id" },
  openBooks: { "@id": "hyphae:openBooks", "@type": "@json" },
} as const;

interface SummaryNoteParts {
  origin: URL;
  pod: Pod;
  summary: SummaryView;
  /** When version 1 went out (the Note's `published`). */
  firstPublishedAt: Date;
  /** Serve a version snapshot (`?version=n`) rather than the summary itself. */
  asVersion?: boolean;
}

/** The AS 2.0 part of the Note: what Mastodon reads, and what travels inside Create/Update. */
function noteBase(parts: SummaryNoteParts): Record<string, unknown> {
  const { origin, pod, summary } = parts;
  const note = summaryNoteParts({ uris: podUris(origin) }, pod, summary, parts.firstPublishedAt, { asVersion: parts.asVersion === true });
  return {
    id: note.uri,
    type: "Note",
    attributedTo: podActorUrl(origin, pod.slug).href,
    name: `Open books of ${pod.name}: ${summary.label}`,
    content: note.contentHtml,
    url: note.url,
    published: note.published.toISOString(),
    ...(note.updated && { updated: note.updated.toISOString() }),
    to: [PUBLIC_COLLECTION.href],
    cc: [podFollowersUrl(origin, pod.slug).href],
    tag: note.tags.map((t) => ({ type: "Hashtag", href: tagUrl(origin, t).href, name: `#${t}` })),
  };
}

/** The whole summary Note as JSON-LD (compact form, our context inlined). */
export function summaryNoteJson(parts: SummaryNoteParts): Record<string, unknown> {
  const { origin, pod, summary } = parts;
  const start = summary.periodStart.toISOString().slice(0, 10);
  return {
    "@context": [AS_CONTEXT, SUMMARY_CONTEXT],
    ...noteBase(parts),
    ...(parts.asVersion && { versionOf: summaryUrl(origin, pod.slug, summary.periodKind, start).href }),
    periodKind: summary.periodKind,
    periodStart: summary.periodStart.toISOString(),
    periodEnd: summary.periodEnd.toISOString(),
    summaryVersion: summary.version,
    headSeq: summary.headSeq,
    headHash: summary.headHash,
    entryCount: summary.entryCount,
    contentDigest: summaryDigest(summary.content),
    ledgerExport: booksExportUrl(origin, pod.slug).href,
    openBooks: summary.content,
  };
}

/**
 * The document served at a summary's URL to ActivityPub clients: the latest version, or
 * with `version` that version's snapshot (its own id, `versionOf` the summary). Null when
 * the pod or summary does not exist.
 */
export async function summaryDocument(
  deps: ServiceDeps,
  slug: string,
  kind: PeriodKind,
  startDate: string,
  version?: number,
): Promise<Record<string, unknown> | null> {
  const pod = await findPodCached(deps, slug);
  if (!pod) return null;
  const summary = await getSummary(deps, pod.slug, kind, startDate, version);
  if (!summary) return null;
  const snapshot = await summarySnapshot(deps, pod.id, summary.id);
  if (!snapshot) return null;
  return summaryNoteJson({
    origin: deps.config.publicUrl,
    pod,
    summary,
    firstPublishedAt: snapshot.firstPublishedAt,
    asVersion: version !== undefined,
  });
}

/** The activity for one stored summary version: Create for version 1, Update after, to Public and followers. */
export async function summaryEventToActivity(ctx: Context<ServiceDeps>, podId: string, summaryId: string): Promise<{ slug: string; activity: Activity } | null> {
  const snapshot = await summarySnapshot(ctx.data, podId, summaryId);
  if (!snapshot) return null;
  const { pod, summary, firstPublishedAt } = snapshot;
  const origin = new URL(ctx.canonicalOrigin);
  const note = await Note.fromJsonLd(
    { "@context": [AS_CONTEXT, { Hashtag: "as:Hashtag" }], ...noteBase({ origin, pod, summary, firstPublishedAt }) },
    { contextLoader: ctx.contextLoader, documentLoader: ctx.documentLoader },
  );
  const start = summary.periodStart.toISOString().slice(0, 10);
  const Kind = summary.version === 1 ? Create : Update;
  const activity = new Kind({
    id: summaryActivityUrl(origin, pod.slug, summary.periodKind, start, summary.id),
    actor: ctx.getActorUri(pod.slug),
    object: note,
    published: dateToInstant(summary.publishedAt),
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(pod.slug),
  });
  return { slug: pod.slug, activity };
}
