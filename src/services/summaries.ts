/**
 * Period summaries of the open books (see domain/books/summary.ts for what a summary
 * holds and the k-suppression rule, domain/books/periods.ts for the periods).
 *
 * - A summary of a period covers the entries RECORDED in [start, end): consecutive
 *   summaries partition the chain, and a period that has ended never gains entries. It
 *   carries the chain head at period end (seq and hash of the last entry recorded before
 *   it), which anyone can check against the public export.
 * - Publishing stores version 1, or, when the recomputed content differs from the latest
 *   version's (another digest), version n+1; an unchanged period is not published again.
 *   Each stored version records a `summary_published` outbound event in its transaction
 *   (Create for version 1, Update after).
 * - closeDuePeriods (a worker job) publishes each pod's most recently ended period of every
 *   kind in book_settings.auto_periods once: a unique (pod, kind, start, version) and an
 *   insert-or-nothing make it happen once even with several workers.
 * - Copies received from pods we follow are kept side by side: the same copy again
 *   changes nothing; another copy of the same period (another digest) is stored too and
 *   every copy of that period is flagged "books changed after publication".
 */
import * as repo from "../db/repos/summaries.ts";
import type { PeriodKind } from "../domain/books/model.ts";
import { isPeriodKind, lastEndedPeriod, periodOf, periodStartingOn, previousPeriod, utcDate, type Period } from "../domain/books/periods.ts";
import {
  buildSummaryContent,
  parseSummaryContent,
  summaryDigest,
  summaryText,
  type SummaryContent,
  type SummaryIndicator,
} from "../domain/books/summary.ts";
import { invalid, unprocessable } from "../domain/errors.ts";
import { findBadText } from "../domain/text.ts";
import { followingPodFor } from "./charters.ts";
import { writeOnce } from "./idempotency.ts";
import { applyOnce, DUPLICATE, type InboxActivityRef } from "./inbox.ts";
import { indicatorValuesForPod } from "./indicators.ts";
import { findPodById, getActivePod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";

export type { SummaryContent } from "../domain/books/summary.ts";

export interface SummaryView {
  id: string;
  /** The pod's slug. */
  pod: string;
  periodKind: PeriodKind;
  periodStart: Date;
  periodEnd: Date;
  /** "week of 2026-11-23" */
  label: string;
  version: number;
  headSeq: number;
  headHash: string;
  entryCount: number;
  publishedAt: Date;
  /** The summary's Note id and HTML page (the latest version; `?version=n` for one version). */
  url: string;
  content: SummaryContent;
}

function toView(deps: ServiceDeps, slug: string, r: repo.SummaryRecord): SummaryView {
  const period = periodOf(r.periodKind, r.periodStart);
  return {
    id: r.id,
    pod: slug,
    periodKind: r.periodKind,
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    label: period.label,
    version: r.version,
    headSeq: r.headSeq,
    headHash: r.headHash,
    entryCount: r.entryCount,
    publishedAt: r.publishedAt,
    url: deps.uris.summary(slug, r.periodKind, utcDate(r.periodStart)).href,
    content: r.content as unknown as SummaryContent,
  };
}

function periodKindOf(kind: unknown): PeriodKind {
  if (!isPeriodKind(kind)) throw invalid("INVALID_PERIOD", "period must be week, lunar or month", { field: "period" });
  return kind;
}

/** Computes what a summary of `period` would say now (nothing is stored). */
export async function computeSummaryContent(deps: ServiceDeps, podId: string, period: Period): Promise<SummaryContent> {
  const settings = await repo.getSummarySettings(deps.db, podId);
  const aggregate = await repo.aggregatePeriod(deps.db, podId, period.start, period.end);
  const before = previousPeriod(period);
  const values = await indicatorValuesForPod(deps, podId, { from: period.start, to: period.end }, { from: before.start, to: before.end });
  const indicators: SummaryIndicator[] = values.map((v) => ({
    key: v.key,
    name: v.name,
    value: v.value,
    previous: v.previous,
    trend: v.trend,
    ...(v.note !== undefined && { note: v.note }),
  }));
  return buildSummaryContent({ ...aggregate, currency: settings.currency }, indicators);
}

export interface PublishOutcome {
  summary: SummaryView;
  /** False when the period was already published with this content (nothing new stored or sent). */
  created: boolean;
}

async function publishPeriod(deps: ServiceDeps, pod: { id: string; slug: string }, period: Period, options: { onlyFirst: boolean }): Promise<PublishOutcome> {
  const content = await computeSummaryContent(deps, pod.id, period);
  const digest = summaryDigest(content);
  const now = deps.clock.now();
  const outcome = await writeOnce(deps, async (trx): Promise<{ record: repo.SummaryRecord; created: boolean }> => {
    const latest = await repo.getSummaryRecord(trx, pod.id, period.kind, period.start);
    if (latest && (latest.digest === digest || options.onlyFirst)) return { record: latest, created: false };
    const record: repo.SummaryRecord = {
      id: deps.ids.uuid(),
      podId: pod.id,
      periodKind: period.kind,
      periodStart: period.start,
      periodEnd: period.end,
      version: (latest?.version ?? 0) + 1,
      headSeq: content.headSeq,
      headHash: content.headHash,
      entryCount: content.entries,
      content: content as unknown as Record<string, unknown>,
      digest,
      publishedAt: now,
    };
    // Another process published this version first: theirs stands, nothing is sent twice.
    if (!(await repo.insertSummaryIfAbsent(trx, record))) {
      const winner = await repo.getSummaryRecord(trx, pod.id, period.kind, period.start);
      return { record: winner!, created: false };
    }
    await deps.outbox.record(trx, { kind: "summary_published", podId: pod.id, summaryId: record.id });
    return { record, created: true };
  });
  if (outcome.created) {
    await deps.outbox.flush();
    deps.log.info("Summary published", {
      pod: pod.slug,
      period: `${period.kind}-${utcDate(period.start)}`,
      version: outcome.record.version,
      headSeq: outcome.record.headSeq,
    });
  }
  return { summary: toView(deps, pod.slug, outcome.record), created: outcome.created };
}

/**
 * Publishes the summary of the period of `kind` that contains `at` (default: the most
 * recently ended one). The period must have ended (PERIOD_NOT_ENDED). Publishing it again
 * stores a new version only when its content changed.
 */
export async function publishSummaryOutcome(deps: ServiceDeps, podSlug: string, kind: PeriodKind, at?: Date): Promise<PublishOutcome> {
  const periodKind = periodKindOf(kind);
  if (at !== undefined && (!(at instanceof Date) || Number.isNaN(at.getTime()))) {
    throw invalid("INVALID_DATE", "at must be a date (YYYY-MM-DD) or a date and time", { field: "at" });
  }
  const pod = await getActivePod(deps, podSlug);
  const now = deps.clock.now();
  const period = at === undefined ? lastEndedPeriod(periodKind, now) : periodOf(periodKind, at);
  if (period.end.getTime() > now.getTime()) {
    throw unprocessable("PERIOD_NOT_ENDED", `The ${period.label} ends at ${period.end.toISOString()}: a period is summarised once it has ended`);
  }
  return publishPeriod(deps, pod, period, { onlyFirst: false });
}

export async function publishSummary(deps: ServiceDeps, podSlug: string, kind: PeriodKind, at?: Date): Promise<SummaryView> {
  return (await publishSummaryOutcome(deps, podSlug, kind, at)).summary;
}

/** The latest version of each period's summary, newest period first. */
export async function listSummaries(deps: ServiceDeps, podSlug: string, opts: { limit?: number } = {}): Promise<SummaryView[]> {
  const pod = await getPod(deps, podSlug);
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 50), 1), 500);
  return (await repo.listLatestSummaries(deps.db, pod.id, limit)).map((r) => toView(deps, pod.slug, r));
}

/** A period's summary by kind and start date (YYYY-MM-DD): the latest version, or `version`. Null when none. */
export async function getSummary(deps: ServiceDeps, podSlug: string, kind: PeriodKind, startDate: string, version?: number): Promise<SummaryView | null> {
  const pod = await getPod(deps, podSlug);
  if (!isPeriodKind(kind)) return null;
  const period = periodStartingOn(kind, startDate);
  if (!period) return null;
  if (version !== undefined && !(Number.isInteger(version) && version > 0)) return null;
  const record = await repo.getSummaryRecord(deps.db, pod.id, kind, period.start, version);
  return record ? toView(deps, pod.slug, record) : null;
}

/** What the publisher needs for one stored version: the version, the pod, and when version 1 went out. */
export async function summarySnapshot(deps: ServiceDeps, podId: string, summaryId: string) {
  const pod = await findPodById(deps, podId);
  if (!pod) return null;
  const record = await repo.getSummaryRecordById(deps.db, podId, summaryId);
  if (!record) return null;
  const firstPublishedAt = (await repo.firstPublishedAt(deps.db, podId, record.periodKind, record.periodStart)) ?? record.publishedAt;
  return { pod, summary: toView(deps, pod.slug, record), firstPublishedAt };
}

/**
 * The worker job: for every active pod with ledger entries, publishes the most recently
 * ended period of each kind in its auto_periods that has no summary yet (and that ended
 * after the pod's first entry was recorded). Returns how many summaries it published.
 * Safe to run in several processes at once: each period is published once.
 */
export async function closeDuePeriods(deps: ServiceDeps): Promise<number> {
  const now = deps.clock.now();
  let published = 0;
  for (const candidate of await repo.listAutoCloseCandidates(deps.db)) {
    for (const kind of new Set(candidate.autoPeriods)) {
      if (!isPeriodKind(kind)) continue;
      const period = lastEndedPeriod(kind, now);
      if (candidate.firstRecordedAt.getTime() >= period.end.getTime()) continue;
      if (await repo.getSummaryRecord(deps.db, candidate.podId, kind, period.start)) continue;
      try {
        const outcome = await publishPeriod(deps, { id: candidate.podId, slug: candidate.slug }, period, { onlyFirst: true });
        if (outcome.created) {
          published++;
          deps.log.info("Closed a period", { pod: candidate.slug, summary: summaryText(outcome.summary.content, outcome.summary.label) });
        }
      } catch (error) {
        deps.log.error("Could not close a period", { pod: candidate.slug, period: kind, error: String(error) });
      }
    }
  }
  return published;
}

// ---------------------------------------------------------------------------------------
// Summaries of pods we follow

export interface RemoteSummaryInput {
  actorIri: string;
  objectIri: string;
  periodKind: string;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  headSeq: number;
  headHash: string;
  /** The published content, unchecked: validated here. */
  content: unknown;
  /** The digest the publisher states; must equal the content's. */
  digest: string;
  activity?: InboxActivityRef;
}

export type RemoteSummaryOutcome = "stored" | "changed" | "unchanged" | "not_followed" | "duplicate";

/**
 * A pod we follow published a summary. Its content must be well formed, agree with the
 * stated period, head and digest (SUMMARY_MISMATCH otherwise). Outcomes: `stored` (a new
 * copy), `changed` (a new copy of a period held with another digest: every copy of the
 * period is flagged, and a warning logged), `unchanged` (this copy is held already),
 * `not_followed`, `duplicate` (this activity was applied already).
 */
export async function receiveRemoteSummary(deps: ServiceDeps, input: RemoteSummaryInput): Promise<RemoteSummaryOutcome> {
  const bad = findBadText(input.content);
  if (bad) throw invalid("BAD_TEXT", `The summary's ${bad.path} ${bad.problem}`, { path: bad.path });
  const kind = isPeriodKind(input.periodKind) ? input.periodKind : null;
  if (!kind) throw invalid("SUMMARY_MISMATCH", `Unknown period kind ${String(input.periodKind).slice(0, 40)}`);
  const period = periodOf(kind, input.periodStart);
  if (period.start.getTime() !== input.periodStart.getTime() || period.end.getTime() !== input.periodEnd.getTime()) {
    throw invalid("SUMMARY_MISMATCH", `The summary's period (${input.periodStart.toISOString()} to ${input.periodEnd.toISOString()}) is not a ${kind}`);
  }
  const content = parseSummaryContent(input.content);
  if (summaryDigest(content) !== input.digest) throw invalid("SUMMARY_MISMATCH", "The summary's digest does not match its content");
  if (content.headSeq !== input.headSeq || content.headHash !== input.headHash) {
    throw invalid("SUMMARY_MISMATCH", "The summary's head differs from the head in its content");
  }
  if (!Number.isInteger(input.version) || input.version < 1) throw invalid("SUMMARY_MISMATCH", "The summary's version must be a positive integer");
  if (!(await followingPodFor(deps, input.actorIri))) return "not_followed";

  const outcome = await applyOnce(deps, input.activity, async (trx): Promise<RemoteSummaryOutcome> => {
    // One copy of this actor's summaries at a time, so two differing copies always see each other.
    await repo.lockRemoteActor(trx, input.actorIri);
    const stored = await repo.insertRemoteSummaryIfNew(trx, {
      id: deps.ids.uuid(),
      actorIri: input.actorIri,
      objectIri: input.objectIri,
      periodKind: kind,
      periodStart: period.start,
      periodEnd: period.end,
      version: input.version,
      headSeq: content.headSeq,
      headHash: content.headHash,
      content: content as unknown as Record<string, unknown>,
      digest: input.digest,
      receivedAt: deps.clock.now(),
    });
    if (!stored) return "unchanged";
    const copies = await repo.flagChangedPeriod(trx, input.actorIri, kind, period.start);
    return copies > 1 ? "changed" : "stored";
  });
  if (outcome === DUPLICATE) return "duplicate";
  const where = { actor: input.actorIri, period: `${kind}-${utcDate(period.start)}`, version: input.version, headSeq: content.headSeq };
  if (outcome === "changed") {
    deps.log.warn("Books changed after publication: a followed pod published another summary of a period we hold", where);
  } else if (outcome === "stored") {
    deps.log.info("Stored a followed pod's summary", where);
  } else {
    deps.log.debug("Summary already held", where);
  }
  return outcome;
}

export interface RemoteSummaryView {
  actor: string;
  handle: string | null;
  object: string;
  periodKind: PeriodKind;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  headSeq: number;
  headHash: string;
  digest: string;
  content: SummaryContent;
  /** Another copy of this period with other content was received: "books changed after publication". */
  changedAfterPublication: boolean;
  receivedAt: Date;
}

/** Copies this node holds of the summaries of the pods `podSlug` follows, newest period first. */
export async function listRemoteSummaries(deps: ServiceDeps, podSlug: string, opts: { limit?: number } = {}): Promise<RemoteSummaryView[]> {
  const pod = await getPod(deps, podSlug);
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 100), 1), 1000);
  return (await repo.listFollowedSummaries(deps.db, pod.id, limit)).map((r) => ({
    actor: r.actorIri,
    handle: r.handle,
    object: r.objectIri,
    periodKind: r.periodKind,
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    version: r.version,
    headSeq: r.headSeq,
    headHash: r.headHash,
    digest: r.digest,
    content: r.content as unknown as SummaryContent,
    changedAfterPublication: r.changedAfterPublication,
    receivedAt: r.receivedAt,
  }));
}
