import type { Kysely, Selectable, Transaction } from "kysely";
import type { CharterContent } from "../../domain/charter/model.ts";
import type { CharterRevisionsTable, Database } from "../schema.ts";

export interface CharterRevisionRecord {
  id: string;
  podId: string;
  number: number;
  content: CharterContent;
  changeNote: string;
  madeByRole: "steward";
  createdAt: Date;
}

export interface CharterState {
  podId: string;
  currentRevision: number;
  publishedAt: Date;
  updatedAt: Date;
  reviewedAt: Date;
}

export interface CharterEventRecord {
  id: string;
  kind: "create" | "update" | "confirm";
  revision: number;
  createdAt: Date;
}

function revisionFromRow(row: Selectable<CharterRevisionsTable>): CharterRevisionRecord {
  return {
    id: row.id,
    podId: row.pod_id,
    number: row.number,
    content: row.content as unknown as CharterContent,
    changeNote: row.change_note,
    madeByRole: row.made_by_role,
    createdAt: row.created_at,
  };
}

/** The charter row, locked for the rest of the transaction (serialises revisions of one pod). */
export async function lockCharter(trx: Transaction<Database>, podId: string): Promise<CharterState | null> {
  const row = await trx.selectFrom("charters").selectAll().where("pod_id", "=", podId).forUpdate().executeTakeFirst();
  return row ? stateFromRow(row) : null;
}

function stateFromRow(row: { pod_id: string; current_revision: number; published_at: Date; updated_at: Date; reviewed_at: Date }): CharterState {
  return {
    podId: row.pod_id,
    currentRevision: row.current_revision,
    publishedAt: row.published_at,
    updatedAt: row.updated_at,
    reviewedAt: row.reviewed_at,
  };
}

export async function getCharterState(db: Kysely<Database>, podId: string): Promise<CharterState | null> {
  const row = await db.selectFrom("charters").selectAll().where("pod_id", "=", podId).executeTakeFirst();
  return row ? stateFromRow(row) : null;
}

export async function insertRevision(trx: Transaction<Database>, revision: CharterRevisionRecord): Promise<void> {
  await trx
    .insertInto("charter_revisions")
    .values({
      id: revision.id,
      pod_id: revision.podId,
      number: revision.number,
      content: JSON.stringify(revision.content),
      change_note: revision.changeNote,
      made_by_role: revision.madeByRole,
      created_at: revision.createdAt,
    })
    .execute();
}

export async function upsertCharterState(trx: Transaction<Database>, state: CharterState): Promise<void> {
  await trx
    .insertInto("charters")
    .values({
      pod_id: state.podId,
      current_revision: state.currentRevision,
      published_at: state.publishedAt,
      updated_at: state.updatedAt,
      reviewed_at: state.reviewedAt,
    })
    .onConflict((oc) =>
      oc.column("pod_id").doUpdateSet({ current_revision: state.currentRevision, updated_at: state.updatedAt, reviewed_at: state.reviewedAt }),
    )
    .execute();
}

export async function insertCharterEvent(
  trx: Transaction<Database>,
  event: { podId: string; kind: CharterEventRecord["kind"]; revision: number; createdAt: Date },
): Promise<string> {
  const row = await trx
    .insertInto("charter_events")
    .values({ pod_id: event.podId, kind: event.kind, revision: event.revision, created_at: event.createdAt })
    .returning("id")
    .executeTakeFirstOrThrow();
  return String(row.id);
}

export async function getRevision(db: Kysely<Database>, podId: string, number: number): Promise<CharterRevisionRecord | null> {
  const row = await db.selectFrom("charter_revisions").selectAll().where("pod_id", "=", podId).where("number", "=", number).executeTakeFirst();
  return row ? revisionFromRow(row) : null;
}

/** Revisions newest first. */
export async function listRevisions(db: Kysely<Database>, podId: string): Promise<CharterRevisionRecord[]> {
  const rows = await db.selectFrom("charter_revisions").selectAll().where("pod_id", "=", podId).orderBy("number", "desc").execute();
  return rows.map(revisionFromRow);
}

/** Published activities newest first. */
export async function listCharterEvents(db: Kysely<Database>, podId: string): Promise<CharterEventRecord[]> {
  const rows = await db.selectFrom("charter_events").selectAll().where("pod_id", "=", podId).orderBy("id", "desc").execute();
  return rows.map((r) => ({ id: String(r.id), kind: r.kind, revision: r.revision, createdAt: r.created_at }));
}

export async function getCharterEvent(db: Kysely<Database>, podId: string, eventId: string): Promise<CharterEventRecord | null> {
  if (!/^\d{1,18}$/.test(eventId)) return null;
  const r = await db.selectFrom("charter_events").selectAll().where("pod_id", "=", podId).where("id", "=", eventId).executeTakeFirst();
  return r ? { id: String(r.id), kind: r.kind, revision: r.revision, createdAt: r.created_at } : null;
}

export async function countCharterEvents(db: Kysely<Database>, podId: string): Promise<number> {
  const row = await db.selectFrom("charter_events").select((eb) => eb.fn.countAll<string>().as("n")).where("pod_id", "=", podId).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface RemoteCharterRecord {
  actorIri: string;
  objectIri: string;
  revision: number;
  objectUpdatedAt: Date;
  reviewedOn: string | null;
  content: CharterContent;
  fetchedAt: Date;
}

export async function getRemoteCharter(db: Kysely<Database>, actorIri: string): Promise<RemoteCharterRecord | null> {
  const row = await db.selectFrom("remote_charters").selectAll().where("actor_iri", "=", actorIri).executeTakeFirst();
  return row
    ? {
        actorIri: row.actor_iri,
        objectIri: row.object_iri,
        revision: row.revision,
        objectUpdatedAt: row.object_updated_at,
        reviewedOn: row.reviewed_on,
        content: row.content as unknown as CharterContent,
        fetchedAt: row.fetched_at,
      }
    : null;
}

/**
 * Stores a copy when it is newer than the one held (by revision, then by the object's
 * `updated`, which moves on re-confirmation). Returns whether it was stored.
 */
export async function upsertRemoteCharterIfNewer(db: Kysely<Database>, copy: RemoteCharterRecord): Promise<boolean> {
  const result = await db
    .insertInto("remote_charters")
    .values({
      actor_iri: copy.actorIri,
      object_iri: copy.objectIri,
      revision: copy.revision,
      object_updated_at: copy.objectUpdatedAt,
      reviewed_on: copy.reviewedOn,
      content: JSON.stringify(copy.content),
      fetched_at: copy.fetchedAt,
    })
    .onConflict((oc) =>
      oc
        .column("actor_iri")
        .doUpdateSet((eb) => ({
          object_iri: eb.ref("excluded.object_iri"),
          revision: eb.ref("excluded.revision"),
          object_updated_at: eb.ref("excluded.object_updated_at"),
          reviewed_on: eb.ref("excluded.reviewed_on"),
          content: eb.ref("excluded.content"),
          fetched_at: eb.ref("excluded.fetched_at"),
        }))
        .where((eb) =>
          eb.or([
            eb("remote_charters.revision", "<", eb.ref("excluded.revision")),
            eb.and([
              eb("remote_charters.revision", "=", eb.ref("excluded.revision")),
              eb("remote_charters.object_updated_at", "<", eb.ref("excluded.object_updated_at")),
            ]),
          ]),
        ),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The slug of the oldest of our pods that follows `actorIri` (accepted), or null. */
export async function findFollowingPodSlug(db: Kysely<Database>, actorIri: string): Promise<string | null> {
  const row = await db
    .selectFrom("following as f")
    .innerJoin("pods as p", "p.id", "f.pod_id")
    .select("p.slug")
    .where("f.actor_iri", "=", actorIri)
    .where("f.status", "=", "accepted")
    .orderBy("p.created_at")
    .executeTakeFirst();
  return row?.slug ?? null;
}

/** Copies held of the charters of the actors `podId` follows (accepted). */
export async function listFollowedCharters(db: Kysely<Database>, podId: string) {
  const rows = await db
    .selectFrom("following as f")
    .innerJoin("remote_charters as c", "c.actor_iri", "f.actor_iri")
    .innerJoin("remote_actors as a", "a.iri", "f.actor_iri")
    .select(["c.actor_iri", "a.handle", "c.revision", "c.object_updated_at", "c.reviewed_on", "c.content"])
    .where("f.pod_id", "=", podId)
    .where("f.status", "=", "accepted")
    .orderBy("a.handle")
    .execute();
  return rows.map((r) => ({
    actorIri: r.actor_iri,
    handle: r.handle,
    revision: r.revision,
    objectUpdatedAt: r.object_updated_at,
    reviewedOn: r.reviewed_on,
    content: r.content as unknown as CharterContent,
  }));
}
