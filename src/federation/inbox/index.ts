/**
 * Inbox registration and the handlers for the follow lifecycle. They verify shape and ownership, map the
 * activity to service input and call the same services as the steward API.
 *
 * Every handler runs inside `received()`: the activity gets its key (services/inbox.ts), an
 * activity already recorded is skipped before any network work, and failures are sorted
 * into transient (rethrown: Fedify's queue retries), refused (bad input: one warn line with
 * the activity id and a reason, recorded so a copy is not tried again) and our own faults
 * (one error line). Activities we do not act on are answered 202 and logged at debug.
 */
import type { InboxContext } from "@fedify/fedify";
import { Accept, Activity, Create, Delete, Flag, Follow, getTypeId, Offer, Reject, Undo, Update } from "@fedify/vocab";
import { invalid } from "../../domain/errors.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { findFollowerByFollowIri, receiveFollow, receiveFollowAnswer, receiveUndoFollow } from "../../services/follows.ts";
import { findReceivedActivity, inboxActivityRef, markActivityProcessed, markActivityRefused, type InboxActivityRef } from "../../services/inbox.ts";
import { listPods } from "../../services/pods.ts";
import { FederationBodyTooLargeError } from "../fastify-bridge.ts";
import type { HyphaeFederation } from "../federation.ts";
import { actorToRemoteActorInfo, objectToActor } from "../mappers.ts";
import { findBadText } from "../../domain/text.ts";
import { onNoteCreatedOrUpdated, syncPinnedCharter } from "./charters.ts";
import { onDelete } from "./deletes.ts";
import { classifyInboxFailure } from "./failures.ts";
import { claimFromUrl, slugFromFollowUrl } from "../uris.ts";
import { onClaimAnswer, onClaimOffer } from "./claims.ts";
import { onTransferFlag } from "./transfers.ts";

type Ctx = InboxContext<ServiceDeps>;

/** Every inbox listener of the node (Fedify takes one registration). */
export function registerInboxListeners(federation: HyphaeFederation): void {
  federation
    .setInboxListeners("/pods/{identifier}/inbox", "/inbox")
    // Personal inboxes fetch keys signed as the recipient pod; the shared inbox signs as
    // the node's oldest pod, so servers in authorized-fetch mode answer either way.
    .setSharedKeyDispatcher(async (ctx) => {
      // A retired pod's actor is a Tombstone, so its key could not be verified: skip it.
      const first = (await listPods(ctx.data)).find((p) => !p.retiredAt);
      return first ? { identifier: first.slug } : null;
    })
    .on(Follow, received(onFollow))
    .on(Undo, received(onUndo))
    // An Accept or Reject of one of our claims (its object is our claim's Offer id), or of a Follow.
    .on(Accept, received((ctx, a, ref) => (isClaimAnswer(ctx, a) ? onClaimAnswer(ctx, a, true, ref) : onFollowAnswer(ctx, a, true, ref))))
    .on(Reject, received((ctx, a, ref) => (isClaimAnswer(ctx, a) ? onClaimAnswer(ctx, a, false, ref) : onFollowAnswer(ctx, a, false, ref))))
    // Congress: a claim on one of our proposals (FEP-0837), and a flagged transfer.
    .on(Offer, received(onClaimOffer))
    .on(Flag, received(onTransferFlag))
    .on(Create, received(onNoteCreatedOrUpdated))
    .on(Update, received(onNoteCreatedOrUpdated))
    .on(Delete, received(onDelete))
    // Everything else (Add, Remove, Like, Announce, Move, Flag…): without a listener Fedify
    // would log "Unsupported activity type" at error with the whole body.
    .on(Activity, onOtherActivity)
    .onError((ctx, error) => {
      // Fedify also reports requests it refused before any handler ran (malformed JSON,
      // oversized or aborted bodies): those are the sender's mistake, not ours.
      const refused = error instanceof SyntaxError || error instanceof FederationBodyTooLargeError || /aborted by the client/.test(error.message);
      if (refused) ctx.data.log.warn("Inbox request refused", { error: String(error) });
      else ctx.data.log.error("Inbox handler failed", { error: String(error) });
    });
}

/** True when an Accept or Reject names one of our claims' Offer ids as its object. */
function isClaimAnswer(ctx: Ctx, answer: Accept | Reject): boolean {
  return claimFromUrl(new URL(ctx.origin), answer.objectId) !== null;
}

/** `Follow`, `Like`…: the ActivityStreams type name, or the full type IRI for other vocabularies. */
function typeName(activity: Activity): string {
  const type = getTypeId(activity).href;
  return type.startsWith(AS) ? type.slice(AS.length) : type;
}

const AS = "https://www.w3.org/ns/activitystreams#";

/** The key this activity is recorded under (its id, or a digest of signer and body). */
async function activityRef(activity: Activity): Promise<InboxActivityRef> {
  const actorIri = activity.actorId!.href;
  const id = activity.id?.href ?? null;
  // The body (the JSON as received, kept by Fedify) is only digested when the id is not usable.
  return inboxActivityRef({ id, actorIri, type: typeName(activity), body: await activity.toJsonLd() });
}

/**
 * Runs a handler once per activity: skips one already recorded, records one that had no
 * effect of its own, and decides what a failure means (see failures.ts). Only transient
 * failures are rethrown for Fedify's queue to retry.
 */
function received<A extends Activity>(handler: (ctx: Ctx, activity: A, ref: InboxActivityRef) => Promise<void>) {
  return async (ctx: Ctx, activity: A) => {
    const log = ctx.data.log;
    // Fedify refuses activities without an actor before any listener runs.
    if (!activity.actorId) return;
    const ref = await activityRef(activity);
    const earlier = await findReceivedActivity(ctx.data, ref.key);
    if (earlier) {
      log.debug("Inbox activity already received", { id: ref.key, type: ref.type, outcome: earlier.outcome });
      return;
    }
    try {
      await handler(ctx, activity, ref);
    } catch (error) {
      const failure = classifyInboxFailure(error);
      if (failure.kind === "transient") throw error;
      if (failure.kind === "refused") {
        log.warn("Inbox activity refused", { id: ref.key, type: ref.type, actor: ref.actorIri, code: failure.code, reason: failure.reason });
        await markActivityRefused(ctx.data, ref, failure.code);
      } else {
        log.error("Inbox activity failed", { id: ref.key, type: ref.type, actor: ref.actorIri, error: failure.reason });
      }
      return;
    }
    // A no-op if the handler's service recorded it with its effect.
    await markActivityProcessed(ctx.data, ref);
  };
}

/** Activities we do not act on: accepted (202) and logged at debug, by type and id only. */
async function onOtherActivity(ctx: Ctx, activity: Activity): Promise<void> {
  ctx.data.log.debug("Inbox activity not acted on", { type: typeName(activity), id: activity.id?.href ?? null });
}

/** The pod a personal inbox belongs to, or the pod named by an actor IRI of ours. */
function podSlugOf(ctx: Ctx, actorIri: URL | null): string | null {
  if (actorIri) {
    const parsed = ctx.parseUri(actorIri);
    if (parsed?.type === "actor") return parsed.identifier;
  }
  return ctx.recipient;
}

export async function onFollow(ctx: Ctx, follow: Follow, ref: InboxActivityRef): Promise<void> {
  if (!follow.actorId || !follow.objectId) throw invalid("INCOMPLETE_ACTIVITY", "A Follow needs an actor and an object");
  // Our Accept or Reject names the Follow by its id: without one there is nothing to answer.
  if (!follow.id) throw invalid("MISSING_ID", "A Follow without an id cannot be answered");
  const target = ctx.parseUri(follow.objectId);
  if (target?.type !== "actor") throw invalid("NOT_OUR_ACTOR", "The Follow's object is not one of our pods");
  const documentLoader = await ctx.getDocumentLoader({ identifier: target.identifier });
  const actor = objectToActor(await follow.getActor({ documentLoader, contextLoader: ctx.contextLoader }));
  const info = actor && actorToRemoteActorInfo(actor);
  if (!info || info.iri !== follow.actorId.href) throw invalid("ACTOR_UNAVAILABLE", "The Follow's actor could not be fetched");
  const bad = findBadText(info);
  // Nothing about this actor can be stored, so no Reject can be addressed to it either.
  if (bad) throw invalid("BAD_TEXT", `The actor's ${bad.path} ${bad.problem}`);
  await receiveFollow(ctx.data, { podSlug: target.identifier, actor: info, followIri: follow.id.href, activity: ref });
}

export async function onUndo(ctx: Ctx, undo: Undo, ref: InboxActivityRef): Promise<void> {
  if (!undo.actorId || !undo.objectId) return;
  const raw = (await undo.toJsonLd()) as { object?: unknown };
  // Only look at an embedded object; a bare id is matched against stored follows
  // instead of being fetched (remote Follow ids are often not dereferenceable).
  if (raw.object !== null && typeof raw.object === "object") {
    const object = await undo.getObject({ crossOrigin: "trust" });
    if (!(object instanceof Follow)) {
      ctx.data.log.debug("Undo of something other than a Follow: not acted on", { id: ref.key });
      return;
    }
    if (object.actorId && object.actorId.href !== undo.actorId.href) throw invalid("NOT_YOURS", "An Undo of someone else's Follow");
    const slug = podSlugOf(ctx, object.objectId);
    if (slug) await receiveUndoFollow(ctx.data, { podSlug: slug, actorIri: undo.actorId.href, followIri: object.id?.href ?? null, activity: ref });
    return;
  }
  const follower = await findFollowerByFollowIri(ctx.data, undo.objectId.href);
  // Unknown: an Undo of something else, or of a Follow that has not arrived yet (recorded
  // as undone, so it changes nothing when it comes).
  const mine = follower && follower.actorIri === undo.actorId.href ? follower : null;
  await receiveUndoFollow(ctx.data, {
    podSlug: mine?.podSlug ?? null,
    actorIri: undo.actorId.href,
    followIri: undo.objectId.href,
    activity: ref,
  });
}

export async function onFollowAnswer(ctx: Ctx, answer: Accept | Reject, accepted: boolean, ref: InboxActivityRef): Promise<void> {
  if (!answer.actorId || !answer.objectId) return;
  const origin = new URL(ctx.origin);
  let slug = slugFromFollowUrl(origin, answer.objectId);
  const followIri = slug ? answer.objectId.href : null;
  if (!slug) {
    // Some servers answer with an embedded Follow that has no id of ours: match by actor.
    const raw = (await answer.toJsonLd()) as { object?: unknown };
    if (raw.object !== null && typeof raw.object === "object") {
      const object = await answer.getObject({ crossOrigin: "trust" });
      if (!(object instanceof Follow)) return;
      slug = podSlugOf(ctx, object.actorId);
    } else {
      slug = ctx.recipient;
    }
  }
  if (!slug) return;
  const matched = await receiveFollowAnswer(ctx.data, { podSlug: slug, actorIri: answer.actorId.href, followIri, accepted, activity: ref });
  // A pod we now follow may have published its charter long ago: fetch the current one.
  if (matched && accepted) await syncPinnedCharter(ctx, slug, answer.actorId);
}
