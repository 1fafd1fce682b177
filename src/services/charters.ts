/**
 * The People's Service Charter: a pod's public promise, kept as append-only revisions.
 * Publishing a revision or re-confirming the charter records the activity to federate in
 * the same transaction; the steward API, the CLI and pages all call these functions.
 */
import { diffCharters, diffToText, type CharterDiff } from "../domain/charter/diff.ts";
import { parseCharterInput, type CharterContent } from "../domain/charter/model.ts";
import { isoDate, reviewStatus, type ReviewStatus } from "../domain/charter/review.ts";
import { invalid, notFound } from "../domain/errors.ts";
import * as charters from "../db/repos/charters.ts";
import { getPod } from "./pods.ts";
import { writeOnce } from "./idempotency.ts";
import { applyOnce, DUPLICATE, type InboxActivityRef } from "./inbox.ts";
import { findBadText } from "../domain/text.ts";
import type { ServiceDeps } from "./ports.ts";
import { momentCache } from "./moment-cache.ts";
import { charterNoteParts, type NoteParts } from "./notes.ts";

export type CharterRole = "steward";

export interface CharterView {
  pod: string;
  revision: number;
  content: CharterContent;
  changeNote: string;
  madeByRole: CharterRole;
  revisedAt: Date;
  publishedAt: Date;
  updatedAt: Date;
  review: ReviewStatus;
}

function view(podSlug: string, state: charters.CharterState, revision: charters.CharterRevisionRecord, now: Date): CharterView {
  return {
    pod: podSlug,
    revision: revision.number,
    content: revision.content,
    changeNote: revision.changeNote,
    madeByRole: revision.madeByRole,
    revisedAt: revision.createdAt,
    publishedAt: state.publishedAt,
    updatedAt: state.updatedAt,
    review: reviewStatus(state.reviewedAt, now),
  };
}

/** Validates and stores a new revision, and queues its Create (first) or Update. */
export async function publishCharterRevision(deps: ServiceDeps, podSlug: string, input: unknown, role: CharterRole = "steward"): Promise<CharterView> {
  const pod = await getPod(deps, podSlug);
  const now = deps.clock.now();
  const parsed = parseCharterInput(input, isoDate(now));
  const { changeNote, ...content } = parsed;
  const result = await writeOnce(deps, async (trx) => {
    const state = await charters.lockCharter(trx, pod.id);
    const number = (state?.currentRevision ?? 0) + 1;
    const revision: charters.CharterRevisionRecord = { id: deps.ids.uuid(), podId: pod.id, number, content, changeNote, madeByRole: role, createdAt: now };
    await charters.insertRevision(trx, revision);
    const next: charters.CharterState = { podId: pod.id, currentRevision: number, publishedAt: state?.publishedAt ?? now, updatedAt: now, reviewedAt: now };
    await charters.upsertCharterState(trx, next);
    const kind = state ? "update" : "create";
    const eventId = await charters.insertCharterEvent(trx, { podId: pod.id, kind, revision: number, createdAt: now });
    await deps.outbox.record(trx, { kind: "charter_published", podId: pod.id, charterEventId: eventId });
    return view(pod.slug, next, revision, now);
  });
  forgetCharterStamp(deps, pod.id);
  await deps.outbox.flush();
  deps.log.info("Charter revised", { pod: pod.slug, revision: result.revision });
  return result;
}

/** Re-confirms the current charter without changes: a new review date, federated as an Update. */
export async function confirmCharter(deps: ServiceDeps, podSlug: string): Promise<CharterView> {
  const pod = await getPod(deps, podSlug);
  const now = deps.clock.now();
  const result = await writeOnce(deps, async (trx) => {
    const state = await charters.lockCharter(trx, pod.id);
    if (!state) throw notFound("CHARTER_NOT_FOUND", `${pod.slug} has no charter yet: publish one first`);
    const next = { ...state, updatedAt: now, reviewedAt: now };
    await charters.upsertCharterState(trx, next);
    const eventId = await charters.insertCharterEvent(trx, { podId: pod.id, kind: "confirm", revision: state.currentRevision, createdAt: now });
    await deps.outbox.record(trx, { kind: "charter_published", podId: pod.id, charterEventId: eventId });
    const revision = (await charters.getRevision(trx, pod.id, state.currentRevision))!;
    return view(pod.slug, next, revision, now);
  });
  forgetCharterStamp(deps, pod.id);
  await deps.outbox.flush();
  deps.log.info("Charter re-confirmed", { pod: pod.slug, revision: result.revision });
  return result;
}

export interface CharterPreview {
  /** The revision publishing this input would store: validated, trimmed, defaults applied. */
  content: CharterContent;
  changeNote: string;
  /** The number it would get if nobody publishes first. */
  revision: number;
  /** The charter Note as followers would receive it (the same producer as federation's). */
  note: NoteParts;
  /** The charter as published now, or null before the first revision. */
  current: CharterView | null;
  /** Against the current revision; null for the first. */
  diff: CharterDiff | null;
}

/**
 * What publishing `input` would do, without storing anything: the same validation as
 * publishCharterRevision (so a refusal here is the refusal there), the Note it would send
 * and the difference from the current revision.
 */
export async function previewCharterRevision(deps: ServiceDeps, podSlug: string, input: unknown): Promise<CharterPreview> {
  const pod = await getPod(deps, podSlug);
  const now = deps.clock.now();
  const { changeNote, ...content } = parseCharterInput(input, isoDate(now));
  const current = await findCharter(deps, pod.slug);
  const revision = (current?.revision ?? 0) + 1;
  // As publishCharterRevision would leave it: first published then (or kept), updated and reviewed now.
  const note = charterNoteParts(deps, pod, {
    content,
    changeNote,
    revision,
    published: current?.publishedAt ?? now,
    updated: current ? now : null,
    reviewedAt: now,
  });
  return { content, changeNote, revision, note, current, diff: current ? diffCharters(current.content, content) : null };
}

/**
 * What a pod's charter Note depends on, as a short string (revision and last change), for
 * caches of the rendered Note: remembered per process for two seconds like findPodCached,
 * and forgotten at once when this process changes the charter.
 */
const stampCache = momentCache<string>(2000);

export async function charterStampCached(deps: ServiceDeps, podId: string): Promise<string> {
  return stampCache.get(deps, podId, async () => {
    const state = await charters.getCharterState(deps.db, podId);
    return state ? `${state.currentRevision}:${state.updatedAt.getTime()}:${state.reviewedAt.getTime()}` : "none";
  });
}

function forgetCharterStamp(deps: ServiceDeps, podId: string): void {
  stampCache.forget(deps, podId);
}

export async function findCharter(deps: ServiceDeps, podSlug: string): Promise<CharterView | null> {
  const pod = await getPod(deps, podSlug);
  const state = await charters.getCharterState(deps.db, pod.id);
  if (!state) return null;
  const revision = await charters.getRevision(deps.db, pod.id, state.currentRevision);
  return revision ? view(pod.slug, state, revision, deps.clock.now()) : null;
}

export async function getCharter(deps: ServiceDeps, podSlug: string): Promise<CharterView> {
  const charter = await findCharter(deps, podSlug);
  if (!charter) throw notFound("CHARTER_NOT_FOUND", `${podSlug} has no charter yet`);
  return charter;
}

export async function listCharterRevisions(deps: ServiceDeps, podSlug: string): Promise<charters.CharterRevisionRecord[]> {
  const pod = await getPod(deps, podSlug);
  return charters.listRevisions(deps.db, pod.id);
}

export async function getCharterRevision(deps: ServiceDeps, podSlug: string, number: number): Promise<charters.CharterRevisionRecord> {
  const pod = await getPod(deps, podSlug);
  const revision = Number.isInteger(number) && number > 0 ? await charters.getRevision(deps.db, pod.id, number) : null;
  if (!revision) throw notFound("REVISION_NOT_FOUND", `${pod.slug}'s charter has no revision ${number}`);
  return revision;
}

export interface CharterRevisionDiff {
  from: number;
  to: number;
  diff: CharterDiff;
  lines: string[];
}

export async function diffCharterRevisions(deps: ServiceDeps, podSlug: string, from: number, to: number): Promise<CharterRevisionDiff> {
  if (from === to) throw invalid("SAME_REVISION", "Give two different revisions to compare");
  const [a, b] = await Promise.all([getCharterRevision(deps, podSlug, from), getCharterRevision(deps, podSlug, to)]);
  const diff = diffCharters(a.content, b.content);
  return { from, to, diff, lines: diffToText(diff) };
}

/** Published Create/Update activities, newest first (the FEP-bad1 history). */
export async function listCharterHistory(deps: ServiceDeps, podSlug: string): Promise<charters.CharterEventRecord[]> {
  const pod = await getPod(deps, podSlug);
  return charters.listCharterEvents(deps.db, pod.id);
}

/** How many Create/Update activities the charter went out as. */
export async function countCharterHistory(deps: ServiceDeps, podId: string): Promise<number> {
  return charters.countCharterEvents(deps.db, podId);
}

/** What the publisher needs to send the activity for one charter event. */
export async function charterEventSnapshot(deps: ServiceDeps, podId: string, eventId: string) {
  const [event, state] = await Promise.all([charters.getCharterEvent(deps.db, podId, eventId), charters.getCharterState(deps.db, podId)]);
  if (!event || !state) return null;
  const revision = await charters.getRevision(deps.db, podId, event.revision);
  return revision ? { event, state, revision } : null;
}

export type RemoteCharterOutcome = "stored" | "stale" | "not_followed" | "duplicate";

/**
 * A pod we follow published or revised its charter: keep its structured copy when it is
 * newer than ours. Copies from actors none of our pods follow are refused. Text that
 * cannot be stored as sent (NUL, lone surrogates) is refused with BAD_TEXT; the same
 * activity received again (`activity` already recorded) changes nothing.
 */
export async function receiveRemoteCharter(
  deps: ServiceDeps,
  input: {
    actorIri: string;
    objectIri: string;
    revision: number;
    updatedAt: Date;
    reviewedOn: string | null;
    content: CharterContent;
    activity?: InboxActivityRef;
  },
): Promise<RemoteCharterOutcome> {
  const { activity, ...copy } = input;
  const bad = findBadText({ objectIri: copy.objectIri, reviewedOn: copy.reviewedOn, content: copy.content });
  if (bad) throw invalid("BAD_TEXT", `The charter's ${bad.path} ${bad.problem}`, { path: bad.path });
  if (!(await followingPodFor(deps, copy.actorIri))) return "not_followed";
  const stored = await applyOnce(deps, activity, (trx) =>
    charters.upsertRemoteCharterIfNewer(trx, { ...copy, objectUpdatedAt: copy.updatedAt, fetchedAt: deps.clock.now() }),
  );
  if (stored === DUPLICATE) {
    deps.log.debug("Charter activity already received", { actor: copy.actorIri, activity: activity?.key });
    return "duplicate";
  }
  deps.log.info(stored ? "Stored a followed pod's charter" : "Ignored an older copy of a followed pod's charter", {
    actor: copy.actorIri,
    revision: copy.revision,
  });
  return stored ? "stored" : "stale";
}

/** The slug of one of our pods that follows `actorIri` (accepted), or null. */
export async function followingPodFor(deps: ServiceDeps, actorIri: string): Promise<string | null> {
  return charters.findFollowingPodSlug(deps.db, actorIri);
}

export async function getRemoteCharter(deps: ServiceDeps, actorIri: string) {
  return charters.getRemoteCharter(deps.db, actorIri);
}

/** Copies this node holds of the charters of pods that `podSlug` follows. */
export async function listFollowedCharters(deps: ServiceDeps, podSlug: string) {
  const pod = await getPod(deps, podSlug);
  return charters.listFollowedCharters(deps.db, pod.id);
}
