import type { ExpressionBuilder, Kysely, SelectQueryBuilder } from "kysely";
import type { RemoteActorInfo } from "../../domain/actors.ts";
import type { Database, FollowerStatus, FollowingStatus } from "../schema.ts";

export async function upsertRemoteActor(db: Kysely<Database>, actor: RemoteActorInfo, now: Date): Promise<void> {
  await db
    .insertInto("remote_actors")
    .values({
      iri: actor.iri,
      handle: actor.handle,
      name: actor.name,
      url: actor.url,
      inbox: actor.inbox,
      shared_inbox: actor.sharedInbox,
      actor_type: actor.actorType ?? null,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column("iri").doUpdateSet({
        handle: (eb) => eb.fn.coalesce(eb.ref("excluded.handle"), eb.ref("remote_actors.handle")),
        name: (eb) => eb.ref("excluded.name"),
        url: (eb) => eb.ref("excluded.url"),
        inbox: (eb) => eb.ref("excluded.inbox"),
        shared_inbox: (eb) => eb.ref("excluded.shared_inbox"),
        actor_type: (eb) => eb.fn.coalesce(eb.ref("excluded.actor_type"), eb.ref("remote_actors.actor_type")),
        updated_at: now,
      }),
    )
    .execute();
}

/** Which members of a followers/following list to return (the collections' privacy rules). */
export interface MemberFilter {
  /** Only Group actors, plus those whose IRI starts with `orAlsoPrefix` when one is given. */
  onlyGroups?: { orAlsoPrefix: string | null };
  /** Only actors whose IRI starts with this prefix (one server's, for FEP-8fcf). */
  iriPrefix?: string | null;
}

function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function applyMemberFilter<Q extends SelectQueryBuilder<any, "f" | "a", any>>(q: Q, filter: MemberFilter): Q {
  let out = q;
  if (filter.iriPrefix) out = out.where("f.actor_iri", "like", likePrefix(filter.iriPrefix)) as Q;
  if (filter.onlyGroups) {
    const { orAlsoPrefix } = filter.onlyGroups;
    out = out.where((eb: ExpressionBuilder<any, "f" | "a">) =>
      eb.or([eb("a.actor_type", "=", "Group"), ...(orAlsoPrefix ? [eb("f.actor_iri", "like", likePrefix(orAlsoPrefix))] : [])]),
    ) as Q;
  }
  return out;
}

export interface FollowerEntry {
  actorIri: string;
  handle: string | null;
  name: string | null;
  inbox: string;
  sharedInbox: string | null;
  followIri: string;
  status: FollowerStatus;
  createdAt: Date;
}

export async function getFollower(db: Kysely<Database>, podId: string, actorIri: string): Promise<FollowerEntry | null> {
  const row = await followerQuery(db, podId).where("f.actor_iri", "=", actorIri).executeTakeFirst();
  return row ? followerFromRow(row) : null;
}

function followerQuery(db: Kysely<Database>, podId: string) {
  return db
    .selectFrom("followers as f")
    .innerJoin("remote_actors as a", "a.iri", "f.actor_iri")
    .select(["f.actor_iri", "f.follow_iri", "f.status", "f.created_at", "a.handle", "a.name", "a.inbox", "a.shared_inbox"])
    .where("f.pod_id", "=", podId);
}

function followerFromRow(row: {
  actor_iri: string;
  follow_iri: string;
  status: FollowerStatus;
  created_at: Date;
  handle: string | null;
  name: string | null;
  inbox: string;
  shared_inbox: string | null;
}): FollowerEntry {
  return {
    actorIri: row.actor_iri,
    followIri: row.follow_iri,
    status: row.status,
    createdAt: row.created_at,
    handle: row.handle,
    name: row.name,
    inbox: row.inbox,
    sharedInbox: row.shared_inbox,
  };
}

export async function upsertFollower(
  db: Kysely<Database>,
  row: { podId: string; actorIri: string; followIri: string; status: FollowerStatus },
  now: Date,
): Promise<void> {
  await db
    .insertInto("followers")
    .values({ pod_id: row.podId, actor_iri: row.actorIri, follow_iri: row.followIri, status: row.status, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(["pod_id", "actor_iri"]).doUpdateSet({ follow_iri: row.followIri, status: row.status, updated_at: now }))
    .execute();
}

/** Deletes the follower; with `only.followIri`, only while its follow is that Follow. */
export async function deleteFollower(db: Kysely<Database>, podId: string, actorIri: string, only: { followIri?: string } = {}): Promise<boolean> {
  let q = db.deleteFrom("followers").where("pod_id", "=", podId).where("actor_iri", "=", actorIri);
  if (only.followIri !== undefined) q = q.where("follow_iri", "=", only.followIri);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Followers in a stable order (oldest first), keyset-paginated by an opaque cursor of
 * `created_at|actor_iri`.
 */
export async function listFollowers(
  db: Kysely<Database>,
  podId: string,
  options: { status: FollowerStatus; limit?: number; after?: { createdAt: Date; actorIri: string } | null } & MemberFilter,
): Promise<FollowerEntry[]> {
  let q = applyMemberFilter(followerQuery(db, podId).where("f.status", "=", options.status), options);
  if (options.after) {
    const { createdAt, actorIri } = options.after;
    q = q.where((eb) =>
      eb.or([eb("f.created_at", ">", createdAt), eb.and([eb("f.created_at", "=", createdAt), eb("f.actor_iri", ">", actorIri)])]),
    );
  }
  q = q.orderBy("f.created_at").orderBy("f.actor_iri");
  if (options.limit !== undefined) q = q.limit(options.limit);
  return (await q.execute()).map(followerFromRow);
}

export async function countFollowers(db: Kysely<Database>, podId: string, status: FollowerStatus): Promise<number> {
  const row = await db
    .selectFrom("followers")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("pod_id", "=", podId)
    .where("status", "=", status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface FollowingEntry {
  actorIri: string;
  handle: string | null;
  name: string | null;
  inbox: string;
  followIri: string;
  status: FollowingStatus;
  createdAt: Date;
}

function followingQuery(db: Kysely<Database>, podId: string) {
  return db
    .selectFrom("following as f")
    .innerJoin("remote_actors as a", "a.iri", "f.actor_iri")
    .select(["f.actor_iri", "f.follow_iri", "f.status", "f.created_at", "a.handle", "a.name", "a.inbox"])
    .where("f.pod_id", "=", podId);
}

function followingFromRow(row: {
  actor_iri: string;
  follow_iri: string;
  status: FollowingStatus;
  created_at: Date;
  handle: string | null;
  name: string | null;
  inbox: string;
}): FollowingEntry {
  return {
    actorIri: row.actor_iri,
    followIri: row.follow_iri,
    status: row.status,
    createdAt: row.created_at,
    handle: row.handle,
    name: row.name,
    inbox: row.inbox,
  };
}

export async function getFollowing(db: Kysely<Database>, podId: string, actorIri: string): Promise<FollowingEntry | null> {
  const row = await followingQuery(db, podId).where("f.actor_iri", "=", actorIri).executeTakeFirst();
  return row ? followingFromRow(row) : null;
}

export async function getFollowingByFollowIri(db: Kysely<Database>, followIri: string): Promise<(FollowingEntry & { podId: string }) | null> {
  const row = await db
    .selectFrom("following as f")
    .innerJoin("remote_actors as a", "a.iri", "f.actor_iri")
    .select(["f.pod_id", "f.actor_iri", "f.follow_iri", "f.status", "f.created_at", "a.handle", "a.name", "a.inbox"])
    .where("f.follow_iri", "=", followIri)
    .executeTakeFirst();
  return row ? { ...followingFromRow(row), podId: row.pod_id } : null;
}

export async function upsertFollowing(
  db: Kysely<Database>,
  row: { podId: string; actorIri: string; followIri: string; status: FollowingStatus },
  now: Date,
): Promise<void> {
  await db
    .insertInto("following")
    .values({ pod_id: row.podId, actor_iri: row.actorIri, follow_iri: row.followIri, status: row.status, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(["pod_id", "actor_iri"]).doUpdateSet({ follow_iri: row.followIri, status: row.status, updated_at: now }))
    .execute();
}

export async function setFollowingStatus(db: Kysely<Database>, followIri: string, status: FollowingStatus, now: Date): Promise<boolean> {
  const r = await db.updateTable("following").set({ status, updated_at: now }).where("follow_iri", "=", followIri).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function deleteFollowing(db: Kysely<Database>, podId: string, actorIri: string): Promise<boolean> {
  const r = await db.deleteFrom("following").where("pod_id", "=", podId).where("actor_iri", "=", actorIri).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export async function listFollowing(
  db: Kysely<Database>,
  podId: string,
  options: { status?: FollowingStatus; limit?: number; offset?: number } & MemberFilter = {},
): Promise<FollowingEntry[]> {
  let q = applyMemberFilter(followingQuery(db, podId), options);
  if (options.status) q = q.where("f.status", "=", options.status);
  q = q.orderBy("f.created_at").orderBy("f.actor_iri");
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset) q = q.offset(options.offset);
  return (await q.execute()).map(followingFromRow);
}

export async function countFollowing(db: Kysely<Database>, podId: string, status: FollowingStatus): Promise<number> {
  const row = await db
    .selectFrom("following")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("pod_id", "=", podId)
    .where("status", "=", status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findFollowerByFollowIri(
  db: Kysely<Database>,
  followIri: string,
): Promise<{ podSlug: string; actorIri: string } | null> {
  const row = await db
    .selectFrom("followers as f")
    .innerJoin("pods as p", "p.id", "f.pod_id")
    .select(["p.slug", "f.actor_iri"])
    .where("f.follow_iri", "=", followIri)
    .executeTakeFirst();
  return row ? { podSlug: row.slug, actorIri: row.actor_iri } : null;
}

export async function getRemoteActor(db: Kysely<Database>, iri: string) {
  return db.selectFrom("remote_actors").selectAll().where("iri", "=", iri).executeTakeFirst();
}

/** Forgets every follow, in both directions, between our pods and a remote actor that no longer exists. */
/** Removes the actor as a follower of every pod on the node; returns how many pods it left. */
export async function deleteFollowerFromAllPods(db: Kysely<Database>, actorIri: string): Promise<number> {
  const result = await db.deleteFrom("followers").where("actor_iri", "=", actorIri).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteFollowsWithActor(db: Kysely<Database>, actorIri: string): Promise<{ following: number; followers: number }> {
  const following = await db.deleteFrom("following").where("actor_iri", "=", actorIri).executeTakeFirst();
  const followers = await db.deleteFrom("followers").where("actor_iri", "=", actorIri).executeTakeFirst();
  return { following: Number(following.numDeletedRows), followers: Number(followers.numDeletedRows) };
}
