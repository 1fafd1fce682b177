/**
 * Activities received in the inbox, by key (`inbox_activities`). A service that applies
 * an incoming activity calls `recordInboxActivity` first, inside the transaction of its
 * effect: `false` means the activity was already recorded (a duplicate, a replay, or a
 * copy that committed a moment earlier), and the service must change nothing.
 */
import type { Kysely } from "kysely";
import type { Database, InboxOutcome } from "../schema.ts";

/** How an incoming activity is known: see `services/inbox.ts` for how the key is made. */
export interface InboxActivityRef {
  /** The activity id when usable, otherwise `sha256:` + a digest of the signer and the canonical body. */
  readonly key: string;
  /** The actor that signed it (Fedify checked that the signing key is the actor's). */
  readonly actorIri: string;
  /** ActivityStreams type name (`Follow`, `Undo`…). */
  readonly type: string;
}

export interface InboxActivityRecord {
  outcome: InboxOutcome;
  reason: string | null;
  receivedAt: Date;
}

/**
 * Records the activity unless it is already there. Returns true when this call recorded
 * it. Two transactions inserting the same key at once: the second waits for the first and
 * gets false once the first commits (or true if it rolled back).
 */
export async function recordInboxActivity(
  db: Kysely<Database>,
  ref: InboxActivityRef,
  outcome: InboxOutcome,
  now: Date,
  reason: string | null = null,
): Promise<boolean> {
  const row = await db
    .insertInto("inbox_activities")
    .values({ key: ref.key, actor_iri: ref.actorIri, activity_type: ref.type, outcome, reason, received_at: now })
    .onConflict((oc) => oc.column("key").doNothing())
    .returning("key")
    .executeTakeFirst();
  return row !== undefined;
}

export async function getInboxActivity(db: Kysely<Database>, key: string): Promise<InboxActivityRecord | null> {
  const row = await db.selectFrom("inbox_activities").select(["outcome", "reason", "received_at"]).where("key", "=", key).executeTakeFirst();
  return row ? { outcome: row.outcome, reason: row.reason, receivedAt: row.received_at } : null;
}

/** Deletes records received before `before`; returns how many. */
export async function deleteInboxActivitiesBefore(db: Kysely<Database>, before: Date): Promise<number> {
  const result = await db.deleteFrom("inbox_activities").where("received_at", "<", before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
