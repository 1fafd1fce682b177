/**
 * Follow relationships in both directions. The inbox handlers and the steward API call
 * these same functions. Each change and the activity it causes are written in one
 * transaction; the activity is delivered after commit by the outbox publisher.
 */
import { invalid, notFound } from "../domain/errors.ts";
import type { Pod } from "../domain/pods.ts";
import * as follows from "../db/repos/follows.ts";
import type { FollowerStatus } from "../db/schema.ts";
import { getPod } from "./pods.ts";
import { writeOnce } from "./idempotency.ts";
import { applyOnce, DUPLICATE, recordUndoneFollow, type InboxActivityRef } from "./inbox.ts";
import type { RemoteActorInfo, ServiceDeps } from "./ports.ts";

export type FollowDecision = "accepted" | "pending" | "rejected";

/**
 * A remote actor asked to follow one of our pods. A new Follow (new id) from a follower is
 * answered again; the same activity received again (`activity` already recorded) changes
 * nothing and answers nothing ("duplicate").
 */
export async function receiveFollow(
  deps: ServiceDeps,
  input: { podSlug: string; actor: RemoteActorInfo; followIri: string; activity?: InboxActivityRef },
): Promise<FollowDecision | "duplicate"> {
  const pod = await getPod(deps, input.podSlug);
  const now = deps.clock.now();
  const decision = await applyOnce(deps, input.activity, async (trx) => {
    await follows.upsertRemoteActor(trx, input.actor, now);
    if (pod.retiredAt) {
      // A retired pod takes no followers: the sender is told with a Reject, nothing is stored.
      await deps.outbox.record(trx, { kind: "reject_follow", podId: pod.id, actorIri: input.actor.iri, followIri: input.followIri });
      return "rejected" as const;
    }
    const existing = await follows.getFollower(trx, pod.id, input.actor.iri);
    const status: FollowerStatus = existing?.status === "accepted" || !pod.manuallyApprovesFollowers ? "accepted" : "pending";
    await follows.upsertFollower(trx, { podId: pod.id, actorIri: input.actor.iri, followIri: input.followIri, status }, now);
    if (status === "accepted") {
      await deps.outbox.record(trx, { kind: "accept_follow", podId: pod.id, actorIri: input.actor.iri, followIri: input.followIri });
    }
    return status;
  });
  if (decision === DUPLICATE) {
    deps.log.debug("Follow already received", { pod: pod.slug, activity: input.activity?.key });
    return "duplicate";
  }
  await deps.outbox.flush();
  deps.log.info("Follow received", { pod: pod.slug, actor: input.actor.iri, decision });
  return decision;
}

/**
 * The remote actor withdrew its Follow (Undo). Unknown followers are ignored. When the Undo
 * names the Follow (`followIri`), only that follow ends: an Undo of an older Follow that
 * arrives after a newer one changes nothing, and a Follow that arrives after its own Undo
 * is recorded as undone beforehand, so it changes nothing either.
 */
export async function receiveUndoFollow(
  deps: ServiceDeps,
  input: { podSlug: string | null; actorIri: string; followIri?: string | null; activity?: InboxActivityRef },
): Promise<boolean> {
  // No pod: the Undo names a Follow none of our pods has (yet); only the records are kept.
  const pod = input.podSlug ? await getPod(deps, input.podSlug) : null;
  const removed = await applyOnce(deps, input.activity, async (trx) => {
    if (input.followIri) await recordUndoneFollow(trx, deps, { followIri: input.followIri, actorIri: input.actorIri });
    if (!pod) return false;
    return follows.deleteFollower(trx, pod.id, input.actorIri, input.followIri ? { followIri: input.followIri } : {});
  });
  if (removed === DUPLICATE) {
    deps.log.debug("Undo already received", { pod: pod?.slug ?? null, activity: input.activity?.key });
    return false;
  }
  if (pod) deps.log.info("Follow undone", { pod: pod.slug, actor: input.actorIri, removed });
  else deps.log.debug("Undo of a Follow none of our pods has", { actor: input.actorIri, followIri: input.followIri });
  return removed;
}

/** A steward answers a pending follow request; the requester is sent Accept or Reject. */
async function answerFollowRequest(deps: ServiceDeps, podSlug: string, actorIri: string, accept: boolean): Promise<void> {
  const pod = await getPod(deps, podSlug);
  await writeOnce(deps, async (trx) => {
    const entry = await follows.getFollower(trx, pod.id, actorIri);
    if (!entry || entry.status !== "pending") throw notFound("FOLLOW_REQUEST_NOT_FOUND", `No pending follow request from ${actorIri}`);
    if (accept) {
      await follows.upsertFollower(trx, { podId: pod.id, actorIri, followIri: entry.followIri, status: "accepted" }, deps.clock.now());
    } else {
      await follows.deleteFollower(trx, pod.id, actorIri);
    }
    await deps.outbox.record(trx, { kind: accept ? "accept_follow" : "reject_follow", podId: pod.id, actorIri, followIri: entry.followIri });
  });
  await deps.outbox.flush();
}

export const approveFollowRequest = (deps: ServiceDeps, podSlug: string, actorIri: string) => answerFollowRequest(deps, podSlug, actorIri, true);
export const rejectFollowRequest = (deps: ServiceDeps, podSlug: string, actorIri: string) => answerFollowRequest(deps, podSlug, actorIri, false);

/** Stewards remove an accepted follower; the follower is told with a Reject. */
export async function removeFollower(deps: ServiceDeps, podSlug: string, actorIri: string): Promise<void> {
  const pod = await getPod(deps, podSlug);
  await writeOnce(deps, async (trx) => {
    const entry = await follows.getFollower(trx, pod.id, actorIri);
    if (!entry) throw notFound("FOLLOWER_NOT_FOUND", `${actorIri} does not follow ${podSlug}`);
    await follows.deleteFollower(trx, pod.id, actorIri);
    await deps.outbox.record(trx, { kind: "reject_follow", podId: pod.id, actorIri, followIri: entry.followIri });
  });
  await deps.outbox.flush();
}

/** A pod's followers (or pending requests) in the order they came; `page` reads them a slice at a time. */
export async function listFollowers(
  deps: ServiceDeps,
  podSlug: string,
  status: FollowerStatus = "accepted",
  page: { limit?: number; after?: { createdAt: Date; actorIri: string } | null } = {},
) {
  const pod = await getPod(deps, podSlug);
  return follows.listFollowers(deps.db, pod.id, { status, ...page });
}


/** One of our pods asks to follow a remote actor (handle `@user@host` or actor URL). */
export async function requestFollow(deps: ServiceDeps, podSlug: string, target: string) {
  const pod = await getPod(deps, podSlug);
  const trimmed = target.trim();
  if (!trimmed) throw invalid("INVALID_TARGET", "Give a handle such as @oak-street@node.example or an actor URL");
  const actor = await deps.actors.resolve(pod.slug, trimmed);
  if (new URL(actor.iri).href === deps.uris.actor(pod.slug).href) {
    throw invalid("CANNOT_FOLLOW_SELF", "A pod cannot follow itself");
  }
  const now = deps.clock.now();
  const result = await writeOnce(deps, async (trx) => {
    await follows.upsertRemoteActor(trx, actor, now);
    const existing = await follows.getFollowing(trx, pod.id, actor.iri);
    if (existing?.status === "accepted") return existing;
    // Pending or previously rejected: send a fresh Follow with a new id.
    const followIri = deps.uris.follow(pod.slug, deps.ids.uuid()).href;
    await follows.upsertFollowing(trx, { podId: pod.id, actorIri: actor.iri, followIri, status: "pending" }, now);
    await deps.outbox.record(trx, { kind: "send_follow", podId: pod.id, actorIri: actor.iri, followIri });
    return (await follows.getFollowing(trx, pod.id, actor.iri))!;
  });
  await deps.outbox.flush();
  return result;
}

/**
 * The remote actor answered our Follow. `followIri` is matched when the answer names it;
 * otherwise the pending follow of (pod, actor) is used. The answer must come from the
 * actor we asked.
 */
export async function receiveFollowAnswer(
  deps: ServiceDeps,
  input: { podSlug: string; actorIri: string; followIri: string | null; accepted: boolean; activity?: InboxActivityRef },
): Promise<boolean> {
  const pod = await getPod(deps, input.podSlug);
  const outcome = await applyOnce(deps, input.activity, async (trx) => {
    const entry = input.followIri
      ? await follows.getFollowingByFollowIri(trx, input.followIri)
      : await follows.getFollowing(trx, pod.id, input.actorIri).then((e) => (e ? { ...e, podId: pod.id } : null));
    if (!entry || entry.podId !== pod.id || entry.actorIri !== input.actorIri) return "unmatched" as const;
    await follows.setFollowingStatus(trx, entry.followIri, input.accepted ? "accepted" : "rejected", deps.clock.now());
    return "matched" as const;
  });
  if (outcome === DUPLICATE) {
    deps.log.debug("Follow answer already received", { pod: pod.slug, activity: input.activity?.key });
    return false;
  }
  if (outcome === "unmatched") {
    deps.log.info("Ignored a follow answer that matches no follow of ours", { pod: pod.slug, actor: input.actorIri, followIri: input.followIri });
    return false;
  }
  deps.log.info(input.accepted ? "Follow accepted" : "Follow rejected", { pod: pod.slug, actor: input.actorIri });
  return true;
}

export async function unfollow(deps: ServiceDeps, podSlug: string, target: string): Promise<void> {
  const pod = await getPod(deps, podSlug);
  const actorIri = await resolveFollowedActor(deps, pod, target);
  await writeOnce(deps, async (trx) => {
    const entry = await follows.getFollowing(trx, pod.id, actorIri);
    if (!entry) throw notFound("NOT_FOLLOWING", `${pod.slug} does not follow ${target}`);
    await follows.deleteFollowing(trx, pod.id, actorIri);
    await deps.outbox.record(trx, { kind: "undo_follow", podId: pod.id, actorIri, followIri: entry.followIri });
  });
  await deps.outbox.flush();
}

/** Find a followed actor by IRI or by handle among those we already follow, without network. */
async function resolveFollowedActor(deps: ServiceDeps, pod: Pod, target: string): Promise<string> {
  const t = target.trim();
  if (/^https?:\/\//.test(t)) return t;
  const handle = t.replace(/^@/, "").toLowerCase();
  const all = await follows.listFollowing(deps.db, pod.id);
  const match = all.find((f) => f.handle?.replace(/^@/, "").toLowerCase() === handle);
  if (!match) throw notFound("NOT_FOLLOWING", `${pod.slug} does not follow ${target}`);
  return match.actorIri;
}

/** The actors a pod follows (any state), oldest first; `page` reads them a slice at a time. */
export async function listFollowing(deps: ServiceDeps, podSlug: string, page: { limit?: number; offset?: number } = {}) {
  const pod = await getPod(deps, podSlug);
  return follows.listFollowing(deps.db, pod.id, page);
}


// Reads for the fediverse collections (federation/collections.ts).
export type { FollowerEntry, FollowingEntry } from "../db/repos/follows.ts";
export const followersPage = (deps: ServiceDeps, podId: string, options: Parameters<typeof follows.listFollowers>[2]) =>
  follows.listFollowers(deps.db, podId, options);
export const followingPage = (deps: ServiceDeps, podId: string, options: Parameters<typeof follows.listFollowing>[2]) =>
  follows.listFollowing(deps.db, podId, options);
export const countFollowers = (deps: ServiceDeps, podId: string, status: FollowerStatus) => follows.countFollowers(deps.db, podId, status);
export const countFollowing = (deps: ServiceDeps, podId: string) => follows.countFollowing(deps.db, podId, "accepted");
/** The follower whose Follow had this id (for an Undo that names it only by id). */
export const findFollowerByFollowIri = (deps: ServiceDeps, followIri: string) => follows.findFollowerByFollowIri(deps.db, followIri);

/**
 * A remote actor deleted itself (Delete with actor = object, e.g. a retired pod on another
 * node): our pods stop following it and it stops following them. Its copy of a charter
 * stays. A repeated or late Delete finds nothing and changes nothing.
 */
export async function receiveActorDeleted(
  deps: ServiceDeps,
  actorIri: string,
  activity?: InboxActivityRef,
): Promise<{ following: number; followers: number }> {
  const outcome = await applyOnce(deps, activity, (trx) => follows.deleteFollowsWithActor(trx, actorIri));
  const removed = outcome === DUPLICATE ? { following: 0, followers: 0 } : outcome;
  deps.log.info("Remote actor deleted", { actor: actorIri, ...removed });
  return removed;
}

/**
 * Delivering to a follower's own inbox answered 410 Gone: the actor no longer exists, so
 * it stops following our pods. A 410 from an inbox that is not the actor's own (a shared
 * inbox, or an inbox it has since moved from) removes nothing. Returns the pods it left.
 */
export async function removeGoneActor(deps: ServiceDeps, actorIri: string, inboxUrl: string): Promise<number> {
  const remote = await follows.getRemoteActor(deps.db, actorIri);
  if (!remote || remote.inbox !== inboxUrl) {
    deps.log.info("An inbox answered 410 Gone; it is not the actor's own inbox, so no follower is removed", { actor: actorIri, inbox: inboxUrl });
    return 0;
  }
  const removed = await follows.deleteFollowerFromAllPods(deps.db, actorIri);
  deps.log.info("Removed a follower whose actor is gone (410 Gone)", { actor: actorIri, pods: removed });
  return removed;
}

/**
 * A remote actor we already know sent an Update of itself (a new name, icon…): our copy
 * follows it. Actors we do not know are not stored. Returns whether the copy changed.
 */
export async function refreshRemoteActor(deps: ServiceDeps, actor: RemoteActorInfo): Promise<boolean> {
  const known = await follows.getRemoteActor(deps.db, actor.iri);
  if (!known) return false;
  await follows.upsertRemoteActor(deps.db, actor, deps.clock.now());
  return known.name !== actor.name || known.inbox !== actor.inbox || known.url !== actor.url;
}
