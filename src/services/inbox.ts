/**
 * The idempotent inbox: every incoming activity is recorded by key (`inbox_activities`),
 * and an activity already recorded has no second effect.
 *
 * Convention for a service that applies an incoming activity (receiveFollow, receiveUndoFollow,
 * receiveFollowAnswer, receiveActorDeleted, receiveRemoteCharter; later offers, claims and
 * transfers):
 *
 *   1. take an optional `activity: InboxActivityRef` in its input;
 *   2. apply the effect with `applyOnce(deps, activity, async (trx) => …)`, which records the
 *      activity and runs the change in ONE transaction, and returns `DUPLICATE` instead when
 *      the activity was already recorded;
 *   3. record outbound events (`deps.outbox.record`) in that same transaction.
 *
 * A replay, a duplicate delivery, or several copies running at once in several processes
 * then meet the primary key: one copy commits, the others change nothing (on PostgreSQL
 * the second insert waits for the first transaction and then finds the row). If the
 * process dies before commit, nothing is recorded and the queue's retry applies it once.
 *
 * The inbox wrapper (federation/inbox/index.ts) also skips an activity already recorded
 * before doing any network work, marks as processed the activities that had no effect,
 * and marks as refused those that can never be applied (bad input), so a replay is not
 * fetched or tried again. Records are kept `INBOX_RECORD_RETENTION_DAYS` days; a replay
 * of the same signed request is refused much sooner by the signature time window (1 hour).
 */
import { createHash } from "node:crypto";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import {
  deleteInboxActivitiesBefore,
  getInboxActivity,
  recordInboxActivity,
  type InboxActivityRecord,
  type InboxActivityRef,
} from "../db/repos/inbox.ts";
import type { ServiceDeps } from "./ports.ts";

export type { InboxActivityRef, InboxActivityRecord };

export const INBOX_RECORD_RETENTION_DAYS = 30;
const RETENTION_MS = INBOX_RECORD_RETENTION_DAYS * 24 * 60 * 60 * 1000;

/**
 * The key of an incoming activity: its id when the id is usable (an http(s) URL on the
 * signing actor's own server, so no one can claim another server's ids), otherwise
 * `sha256:` and the digest of the signer and the canonical body (keys sorted), so the same
 * id-less activity sent twice by the same actor is recognised.
 */
export function inboxActivityRef(input: { id: string | null; actorIri: string; type: string; body: unknown }): InboxActivityRef {
  const { id, actorIri, type } = input;
  if (id && usableId(id, actorIri)) return { key: id, actorIri, type };
  const digest = createHash("sha256").update(actorIri).update("\n").update(canonicalJson(input.body)).digest("hex");
  return { key: `sha256:${digest}`, actorIri, type };
}

function usableId(id: string, actorIri: string): boolean {
  try {
    const url = new URL(id);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === new URL(actorIri).origin;
  } catch {
    return false;
  }
}

/** JSON with object keys sorted at every level (arrays keep their order). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  ) ?? "null";
}

/** What `applyOnce` returns for an activity that was already recorded. */
export const DUPLICATE = Symbol("duplicate activity");

/**
 * Applies an incoming activity's effect in one transaction, recording the activity first:
 * returns `DUPLICATE` (and changes nothing) when it was already recorded. Without an
 * activity (a call that is not from the inbox) it is a plain transaction.
 */
export async function applyOnce<T>(
  deps: ServiceDeps,
  activity: InboxActivityRef | undefined,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T | typeof DUPLICATE> {
  const result = await deps.db.transaction().execute(async (trx) => {
    if (activity && !(await firstReceipt(trx, deps, activity))) return DUPLICATE;
    return work(trx);
  });
  // Tests kill the process here: the effect and its outbound events are committed, the
  // queue message is not yet acknowledged and nothing has been flushed.
  if (activity && result !== DUPLICATE && deps.config.testFaults.includes("exit-after-inbox-commit")) process.kill(process.pid, "SIGKILL");
  return result;
}

/** In the effect's transaction: true the first time this activity is seen, false for a duplicate. */
export function firstReceipt(trx: Transaction<Database>, deps: ServiceDeps, activity: InboxActivityRef): Promise<boolean> {
  return recordInboxActivity(trx, activity, "processed", deps.clock.now());
}

/** What is recorded about an activity, or null when it was never seen (or was swept). */
export function findReceivedActivity(deps: ServiceDeps, key: string): Promise<InboxActivityRecord | null> {
  return getInboxActivity(deps.db, key);
}

/** After a handler finished without an effect of its own: replays are then skipped early. */
export async function markActivityProcessed(deps: ServiceDeps, activity: InboxActivityRef): Promise<void> {
  await recordInboxActivity(deps.db, activity, "processed", deps.clock.now());
}

/** The activity can never be applied (bad input): remember why, so a copy is not tried again. */
export async function markActivityRefused(deps: ServiceDeps, activity: InboxActivityRef, code: string): Promise<void> {
  await recordInboxActivity(deps.db, activity, "refused", deps.clock.now(), code);
}

/**
 * An Undo named a Follow id we have not seen yet (it arrived out of order): record the
 * Follow as undone so that when it arrives it changes nothing.
 */
export function recordUndoneFollow(trx: Transaction<Database>, deps: ServiceDeps, follow: { followIri: string; actorIri: string }): Promise<boolean> {
  if (!usableId(follow.followIri, follow.actorIri)) return Promise.resolve(false);
  return recordInboxActivity(trx, { key: follow.followIri, actorIri: follow.actorIri, type: "Follow" }, "undone", deps.clock.now());
}

/** Forgets records older than the retention period (run by the worker's periodic jobs). */
export function sweepInboxActivities(deps: ServiceDeps): Promise<number> {
  return deleteInboxActivitiesBefore(deps.db, new Date(deps.clock.now().getTime() - RETENTION_MS));
}
