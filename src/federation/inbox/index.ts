/**
 * Inbox registration and the handlers for the follow lifecycle. They verify shape and ownership, map the
 * activity to service input and call the same services as the steward API.
 */
import type { InboxContext } from "@fedify/fedify";
import { Accept, Create, Delete, Follow, Reject, Undo, Update, type Activity } from "@fedify/vocab";
import { DomainError } from "../../domain/errors.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { findFollowerByFollowIri, receiveFollow, receiveFollowAnswer, receiveUndoFollow } from "../../services/follows.ts";
import { listPods } from "../../services/pods.ts";
import { FederationBodyTooLargeError } from "../fastify-bridge.ts";
import type { HyphaeFederation } from "../federation.ts";
import { actorToRemoteActorInfo, objectToActor } from "../mappers.ts";
import { onNoteCreatedOrUpdated, syncPinnedCharter } from "./charters.ts";
import { onDelete } from "./deletes.ts";
import { slugFromFollowUrl } from "../uris.ts";

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
    .on(Follow, ignoringDomainErrors(onFollow))
    .on(Undo, ignoringDomainErrors(onUndo))
    .on(Accept, ignoringDomainErrors((ctx, a) => onFollowAnswer(ctx, a, true)))
    .on(Reject, ignoringDomainErrors((ctx, a) => onFollowAnswer(ctx, a, false)))
    .on(Create, ignoringDomainErrors(onNoteCreatedOrUpdated))
    .on(Update, ignoringDomainErrors(onNoteCreatedOrUpdated))
    .on(Delete, ignoringDomainErrors(onDelete))
    .onError((ctx, error) => {
      // Fedify also reports requests it refused before any handler ran (malformed JSON,
      // oversized or aborted bodies): those are the sender's mistake, not ours.
      const refused = error instanceof SyntaxError || error instanceof FederationBodyTooLargeError || /aborted by the client/.test(error.message);
      if (refused) ctx.data.log.warn("Inbox request refused", { error: String(error) });
      else ctx.data.log.error("Inbox handler failed", { error: String(error) });
    });
}

/**
 * A DomainError (unknown pod, nothing to answer) is a permanent outcome: log it and do
 * not let Fedify retry. Other errors propagate so the queue retries them.
 */
function ignoringDomainErrors<A extends Activity>(handler: (ctx: Ctx, activity: A) => Promise<void>) {
  return async (ctx: Ctx, activity: A) => {
    try {
      await handler(ctx, activity);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      ctx.data.log.warn("Inbox activity ignored", { id: activity.id?.href, code: error.code, reason: error.message });
    }
  };
}

/** The pod a personal inbox belongs to, or the pod named by an actor IRI of ours. */
function podSlugOf(ctx: Ctx, actorIri: URL | null): string | null {
  if (actorIri) {
    const parsed = ctx.parseUri(actorIri);
    if (parsed?.type === "actor") return parsed.identifier;
  }
  return ctx.recipient;
}

export async function onFollow(ctx: Ctx, follow: Follow): Promise<void> {
  if (!follow.id || !follow.actorId || !follow.objectId) return;
  const target = ctx.parseUri(follow.objectId);
  if (target?.type !== "actor") {
    ctx.data.log.warn("Follow for something that is not one of our pods", { object: follow.objectId.href });
    return;
  }
  const documentLoader = await ctx.getDocumentLoader({ identifier: target.identifier });
  const actor = objectToActor(await follow.getActor({ documentLoader, contextLoader: ctx.contextLoader }));
  const info = actor && actorToRemoteActorInfo(actor);
  if (!info || info.iri !== follow.actorId.href) {
    ctx.data.log.warn("Follow from an actor that could not be fetched", { actor: follow.actorId.href });
    return;
  }
  await receiveFollow(ctx.data, { podSlug: target.identifier, actor: info, followIri: follow.id.href });
}

export async function onUndo(ctx: Ctx, undo: Undo): Promise<void> {
  if (!undo.actorId || !undo.objectId) return;
  const raw = (await undo.toJsonLd()) as { object?: unknown };
  // Only look at an embedded object; a bare id is matched against stored follows
  // instead of being fetched (remote Follow ids are often not dereferenceable).
  if (raw.object !== null && typeof raw.object === "object") {
    const object = await undo.getObject({ crossOrigin: "trust" });
    if (!(object instanceof Follow)) return;
    if (object.actorId && object.actorId.href !== undo.actorId.href) return;
    const slug = podSlugOf(ctx, object.objectId);
    if (slug) await receiveUndoFollow(ctx.data, { podSlug: slug, actorIri: undo.actorId.href });
    return;
  }
  const follower = await findFollowerByFollowIri(ctx.data, undo.objectId.href);
  if (follower && follower.actorIri === undo.actorId.href) {
    await receiveUndoFollow(ctx.data, { podSlug: follower.podSlug, actorIri: follower.actorIri });
  }
}

export async function onFollowAnswer(ctx: Ctx, answer: Accept | Reject, accepted: boolean): Promise<void> {
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
  const matched = await receiveFollowAnswer(ctx.data, { podSlug: slug, actorIri: answer.actorId.href, followIri, accepted });
  // A pod we now follow may have published its charter long ago: fetch the current one.
  if (matched && accepted) await syncPinnedCharter(ctx, slug, answer.actorId);
}
