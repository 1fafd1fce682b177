/** Stewards, their one-time sign-in links and their web sessions (steward web app). */
import { sql, type Kysely } from "kysely";
import type { Database } from "../schema.ts";

type Db = Kysely<Database>;

export interface StewardRecord {
  id: string;
  podId: string;
  number: number;
  role: "steward";
  invitedBy: string | null;
  createdAt: Date;
  endedAt: Date | null;
}

export interface InviteRecord {
  id: string;
  podId: string;
  stewardId: string | null;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export interface SessionRecord {
  id: string;
  podId: string;
  stewardId: string;
  stewardNumber: number;
  csrfToken: string;
  device: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  stewardEndedAt: Date | null;
}

const stewardFromRow = (r: { id: string; pod_id: string; number: number; role: "steward"; invited_by: string | null; created_at: Date; ended_at: Date | null }): StewardRecord => ({
  id: r.id,
  podId: r.pod_id,
  number: r.number,
  role: r.role,
  invitedBy: r.invited_by,
  createdAt: r.created_at,
  endedAt: r.ended_at,
});

export async function insertSteward(db: Db, row: { id: string; podId: string; invitedBy: string | null; createdAt: Date }): Promise<StewardRecord> {
  // The next number of the pod, in the same statement (a concurrent insert meets the unique constraint).
  const inserted = await db
    .insertInto("stewards")
    .values({
      id: row.id,
      pod_id: row.podId,
      number: sql<number>`(select coalesce(max(number), 0) + 1 from stewards where pod_id = ${row.podId})`,
      role: "steward",
      invited_by: row.invitedBy,
      created_at: row.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return stewardFromRow(inserted);
}

export async function getSteward(db: Db, id: string): Promise<StewardRecord | null> {
  const row = await db.selectFrom("stewards").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? stewardFromRow(row) : null;
}

export async function listStewards(db: Db, podId: string): Promise<StewardRecord[]> {
  const rows = await db.selectFrom("stewards").selectAll().where("pod_id", "=", podId).orderBy("number").execute();
  return rows.map(stewardFromRow);
}

export async function endSteward(db: Db, id: string, at: Date): Promise<boolean> {
  const r = await db.updateTable("stewards").set({ ended_at: at }).where("id", "=", id).where("ended_at", "is", null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function insertInvite(db: Db, row: { id: string; podId: string; secretDigest: string; stewardId: string | null; createdBy: string | null; createdAt: Date; expiresAt: Date }): Promise<void> {
  await db
    .insertInto("steward_invites")
    .values({
      id: row.id,
      pod_id: row.podId,
      secret_digest: row.secretDigest,
      steward_id: row.stewardId,
      created_by: row.createdBy,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute();
}

const inviteFromRow = (r: { id: string; pod_id: string; steward_id: string | null; created_by: string | null; created_at: Date; expires_at: Date; used_at: Date | null }): InviteRecord => ({
  id: r.id,
  podId: r.pod_id,
  stewardId: r.steward_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  usedAt: r.used_at,
});

export async function findInviteByDigest(db: Db, digest: string): Promise<InviteRecord | null> {
  const row = await db.selectFrom("steward_invites").selectAll().where("secret_digest", "=", digest).executeTakeFirst();
  return row ? inviteFromRow(row) : null;
}

/** Marks the invite used if it is unused and unexpired, in one statement; null when it was not. */
export async function takeInvite(db: Db, digest: string, podId: string, now: Date): Promise<InviteRecord | null> {
  const row = await db
    .updateTable("steward_invites")
    .set({ used_at: now })
    .where("secret_digest", "=", digest)
    .where("pod_id", "=", podId)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .returningAll()
    .executeTakeFirst();
  return row ? inviteFromRow(row) : null;
}

export async function insertSession(
  db: Db,
  row: { id: string; podId: string; stewardId: string; secretDigest: string; csrfToken: string; device: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto("steward_sessions")
    .values({
      id: row.id,
      pod_id: row.podId,
      steward_id: row.stewardId,
      secret_digest: row.secretDigest,
      csrf_token: row.csrfToken,
      device: row.device,
      created_at: row.createdAt,
      last_seen_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute();
}

function sessionsQuery(db: Db) {
  return db
    .selectFrom("steward_sessions as s")
    .innerJoin("stewards as st", "st.id", "s.steward_id")
    .select([
      "s.id",
      "s.pod_id",
      "s.steward_id",
      "st.number as steward_number",
      "s.csrf_token",
      "s.device",
      "s.created_at",
      "s.last_seen_at",
      "s.expires_at",
      "s.ended_at",
      "st.ended_at as steward_ended_at",
    ]);
}

type SessionRow = Awaited<ReturnType<ReturnType<typeof sessionsQuery>["executeTakeFirstOrThrow"]>>;
const sessionFromRow = (r: SessionRow): SessionRecord => ({
  id: r.id,
  podId: r.pod_id,
  stewardId: r.steward_id,
  stewardNumber: r.steward_number,
  csrfToken: r.csrf_token,
  device: r.device,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
  stewardEndedAt: r.steward_ended_at,
});

export async function findSessionByDigest(db: Db, digest: string): Promise<SessionRecord | null> {
  const row = await sessionsQuery(db).where("s.secret_digest", "=", digest).executeTakeFirst();
  return row ? sessionFromRow(row) : null;
}

/** The pod's sessions that have not ended or expired, newest first. */
export async function listLiveSessions(db: Db, podId: string, now: Date): Promise<SessionRecord[]> {
  const rows = await sessionsQuery(db)
    .where("s.pod_id", "=", podId)
    .where("s.ended_at", "is", null)
    .where("s.expires_at", ">", now)
    .where("st.ended_at", "is", null)
    .orderBy("s.last_seen_at", "desc")
    .orderBy("s.id")
    .execute();
  return rows.map(sessionFromRow);
}

export async function touchSession(db: Db, id: string, at: Date): Promise<void> {
  await db.updateTable("steward_sessions").set({ last_seen_at: at }).where("id", "=", id).execute();
}

/** Ends one session of the pod; false when it was not live. */
export async function endSession(db: Db, podId: string, id: string, at: Date): Promise<boolean> {
  const r = await db
    .updateTable("steward_sessions")
    .set({ ended_at: at })
    .where("id", "=", id)
    .where("pod_id", "=", podId)
    .where("ended_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function endStewardSessions(db: Db, stewardId: string, at: Date): Promise<number> {
  const r = await db.updateTable("steward_sessions").set({ ended_at: at }).where("steward_id", "=", stewardId).where("ended_at", "is", null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}
