/** Stewards' passkeys (WebAuthn credentials) and the one-time challenges of their ceremonies. */
import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

type Db = Kysely<Database>;

export interface PasskeyRecord {
  id: string;
  podId: string;
  stewardId: string;
  stewardNumber: number;
  stewardEndedAt: Date | null;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface ChallengeRecord {
  id: string;
  podId: string;
  purpose: "register" | "sign-in";
  sessionId: string | null;
  challenge: string;
  expiresAt: Date;
}

function passkeysQuery(db: Db) {
  return db
    .selectFrom("steward_passkeys as p")
    .innerJoin("stewards as st", "st.id", "p.steward_id")
    .selectAll("p")
    .select(["st.number as steward_number", "st.ended_at as steward_ended_at"]);
}

type PasskeyRow = Awaited<ReturnType<ReturnType<typeof passkeysQuery>["executeTakeFirstOrThrow"]>>;
const fromRow = (r: PasskeyRow): PasskeyRecord => ({
  id: r.id,
  podId: r.pod_id,
  stewardId: r.steward_id,
  stewardNumber: r.steward_number,
  stewardEndedAt: r.steward_ended_at,
  credentialId: r.credential_id,
  publicKey: new Uint8Array(r.public_key),
  counter: Number(r.counter),
  transports: r.transports ? r.transports.split(",") : [],
  deviceType: r.device_type,
  backedUp: r.backed_up,
  name: r.name,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
});

export async function insertPasskey(
  db: Db,
  row: { id: string; podId: string; stewardId: string; credentialId: string; publicKey: Uint8Array; counter: number; transports: string[]; deviceType: "singleDevice" | "multiDevice"; backedUp: boolean; name: string; createdAt: Date },
): Promise<boolean> {
  const inserted = await db
    .insertInto("steward_passkeys")
    .values({
      id: row.id,
      pod_id: row.podId,
      steward_id: row.stewardId,
      credential_id: row.credentialId,
      public_key: row.publicKey,
      counter: row.counter,
      transports: row.transports.join(","),
      device_type: row.deviceType,
      backed_up: row.backedUp,
      name: row.name,
      created_at: row.createdAt,
    })
    .onConflict((oc) => oc.column("credential_id").doNothing())
    .returning("id")
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function findPasskeyByCredentialId(db: Db, credentialId: string): Promise<PasskeyRecord | null> {
  const row = await passkeysQuery(db).where("p.credential_id", "=", credentialId).executeTakeFirst();
  return row ? fromRow(row) : null;
}

export async function listStewardPasskeys(db: Db, stewardId: string): Promise<PasskeyRecord[]> {
  const rows = await passkeysQuery(db).where("p.steward_id", "=", stewardId).orderBy("p.created_at").orderBy("p.id").execute();
  return rows.map(fromRow);
}

/** How many passkeys each steward of the pod has (stewards with none are absent). */
export async function countPasskeysBySteward(db: Db, podId: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom("steward_passkeys")
    .select(["steward_id", (eb) => eb.fn.countAll<string>().as("n")])
    .where("pod_id", "=", podId)
    .groupBy("steward_id")
    .execute();
  return new Map(rows.map((r) => [r.steward_id, Number(r.n)]));
}

/**
 * Records a successful use. With a counter, only a higher one is accepted, in the same
 * statement (two uses racing cannot both pass); false when the row was not updated.
 */
export async function recordPasskeyUse(db: Db, id: string, use: { counter: number; backedUp: boolean; at: Date }): Promise<boolean> {
  let query = db.updateTable("steward_passkeys").set({ counter: use.counter, backed_up: use.backedUp, last_used_at: use.at }).where("id", "=", id);
  if (use.counter > 0) query = query.where("counter", "<", String(use.counter));
  const r = await query.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Removes one of a steward's passkeys; false when there was none. */
export async function deletePasskey(db: Db, stewardId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom("steward_passkeys").where("id", "=", id).where("steward_id", "=", stewardId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function deleteStewardPasskeys(db: Db, stewardId: string): Promise<number> {
  const r = await db.deleteFrom("steward_passkeys").where("steward_id", "=", stewardId).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function insertChallenge(db: Db, row: { id: string; podId: string; purpose: "register" | "sign-in"; sessionId: string | null; challenge: string; createdAt: Date; expiresAt: Date }): Promise<void> {
  await db
    .insertInto("steward_passkey_challenges")
    .values({
      id: row.id,
      pod_id: row.podId,
      purpose: row.purpose,
      session_id: row.sessionId,
      challenge: row.challenge,
      created_at: row.createdAt,
      expires_at: row.expiresAt,
    })
    .execute();
}

/**
 * Takes a challenge once, in one statement: it must be unused, unexpired, of this purpose and
 * pod (and, for registration, of this session). Null when it is not.
 */
export async function takeChallenge(
  db: Db,
  match: { challenge: string; podId: string; purpose: "register" | "sign-in"; sessionId: string | null; now: Date },
): Promise<ChallengeRecord | null> {
  let query = db
    .updateTable("steward_passkey_challenges")
    .set({ used_at: match.now })
    .where("challenge", "=", match.challenge)
    .where("pod_id", "=", match.podId)
    .where("purpose", "=", match.purpose)
    .where("used_at", "is", null)
    .where("expires_at", ">", match.now);
  query = match.sessionId === null ? query.where("session_id", "is", null) : query.where("session_id", "=", match.sessionId);
  const row = await query.returning(["id", "pod_id", "purpose", "session_id", "challenge", "expires_at"]).executeTakeFirst();
  return row ? { id: row.id, podId: row.pod_id, purpose: row.purpose, sessionId: row.session_id, challenge: row.challenge, expiresAt: row.expires_at } : null;
}

/** Forgets challenges that expired before `before` (used or not): they can never be taken. */
export async function deleteExpiredChallenges(db: Db, before: Date): Promise<number> {
  const r = await db.deleteFrom("steward_passkey_challenges").where("expires_at", "<", before).executeTakeFirst();
  return Number(r.numDeletedRows);
}
