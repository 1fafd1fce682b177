/**
 * What a pod's Notes say, in one place: the id, page, HTML content, hashtags and dates of
 * the charter, a books summary, an offer or a need. The federation documents and
 * activities (src/federation/charter.ts, summary.ts, proposal.ts) and the posts the
 * Mastodon client API shows (services/posts.ts) are built from these same functions, so a
 * status's content is byte for byte the content of the Note a server fetches.
 *
 * URIs come from the PodUris port: federation passes `{ uris: podUris(origin) }`.
 */
import type { CharterContent } from "../domain/charter/model.ts";
import { charterToNoteHtml, CHARTER_HASHTAGS } from "../domain/charter/render.ts";
import { isoDate } from "../domain/charter/review.ts";
import { summaryToNoteHtml, SUMMARY_HASHTAGS } from "../domain/books/summary.ts";
import { proposalHashtags, proposalNoteHtml } from "../domain/congress/proposals.ts";
import type { Pod } from "../domain/pods.ts";
import type { CharterView } from "./charters.ts";
import type { ServiceDeps } from "./ports.ts";
import type { ProposalView } from "./proposals.ts";
import type { SummaryView } from "./summaries.ts";

export interface NoteParts {
  /** The Note's id. */
  readonly uri: string;
  /** Its HTML page. */
  readonly url: string;
  /** The Note's `content`. */
  readonly contentHtml: string;
  /** Hashtags without `#`, in the order the Note carries them. */
  readonly tags: readonly string[];
  readonly published: Date;
  /** The Note's `updated`, or null when it has none. */
  readonly updated: Date | null;
  /** BCP 47 language of the content; null: our Notes carry none (stewards write in any language). */
  readonly language: string | null;
}

type UriDeps = Pick<ServiceDeps, "uris">;

// ---------------------------------------------------------------------------------------
// The charter

export interface CharterNoteInput {
  content: CharterContent;
  changeNote: string;
  revision: number;
  published: Date;
  updated: Date | null;
  reviewedAt: Date;
  /** A revision snapshot (its own id `?revision=n` and page) rather than the charter itself. */
  snapshot?: boolean;
}

/** The charter Note's `updated`: set once it has been revised or re-confirmed. */
export function charterUpdatedAt(state: { revision: number; publishedAt: Date; updatedAt: Date }): Date | null {
  return state.revision > 1 || state.updatedAt > state.publishedAt ? state.updatedAt : null;
}

/** The current charter as its Note shows it. */
export function currentCharterInput(charter: CharterView): CharterNoteInput {
  return {
    content: charter.content,
    changeNote: charter.changeNote,
    revision: charter.revision,
    published: charter.publishedAt,
    updated: charterUpdatedAt(charter),
    reviewedAt: charter.review.lastReviewedAt,
  };
}

export function charterNoteParts(deps: UriDeps, pod: Pod, input: CharterNoteInput): NoteParts {
  const uri = input.snapshot ? deps.uris.charterRevisionObject(pod.slug, input.revision) : deps.uris.charter(pod.slug);
  const url = input.snapshot ? deps.uris.charterRevision(pod.slug, input.revision) : uri;
  const contentHtml = charterToNoteHtml(
    { ...input.content, changeNote: input.changeNote },
    { revision: input.revision, pageUrl: url.href, tagUrl: (tag) => deps.uris.tag(tag).href, reviewedAt: isoDate(input.reviewedAt) },
  );
  return { uri: uri.href, url: url.href, contentHtml, tags: CHARTER_HASHTAGS, published: input.published, updated: input.updated, language: null };
}

// ---------------------------------------------------------------------------------------
// Books summaries

/** A summary's Note: `firstPublishedAt` is when version 1 went out; `asVersion` gives the version's snapshot. */
export function summaryNoteParts(deps: UriDeps, pod: Pod, summary: SummaryView, firstPublishedAt: Date, opts: { asVersion?: boolean } = {}): NoteParts {
  const start = summary.periodStart.toISOString().slice(0, 10);
  const id = opts.asVersion
    ? deps.uris.summaryVersion(pod.slug, summary.periodKind, start, summary.version)
    : deps.uris.summary(pod.slug, summary.periodKind, start);
  const contentHtml = summaryToNoteHtml(summary.content, {
    podName: pod.name,
    label: summary.label,
    periodKind: summary.periodKind,
    periodStart: summary.periodStart,
    periodEnd: summary.periodEnd,
    version: summary.version,
    pageUrl: id.href,
    exportUrl: deps.uris.booksExport(pod.slug).href,
    tagUrl: (tag) => deps.uris.tag(tag).href,
  });
  const edited = summary.version > 1 && summary.publishedAt.getTime() > firstPublishedAt.getTime();
  return {
    uri: id.href,
    url: id.href,
    contentHtml,
    tags: SUMMARY_HASHTAGS,
    published: firstPublishedAt,
    updated: edited ? summary.publishedAt : null,
    language: null,
  };
}

// ---------------------------------------------------------------------------------------
// Offers and needs

export function proposalNoteParts(deps: UriDeps, pod: Pod, p: ProposalView): NoteParts {
  const id = deps.uris.proposal(pod.slug, p.purpose, p.number).href;
  const contentHtml = proposalNoteHtml(p, { podName: pod.name, pageUrl: id, tagUrl: (t) => deps.uris.tag(t).href });
  return {
    uri: id,
    url: id,
    contentHtml,
    tags: proposalHashtags(p),
    published: p.createdAt,
    updated: p.version > 1 ? p.updatedAt : null,
    language: null,
  };
}
