/**
 * Charters of pods we follow. A Create or Update of a Note from a followed actor may be a
 * charter: the structured data is not in the activity (Fedify drops unknown terms when
 * sending), so we dereference the Note with a signed GET and read it there.
 */
import type { InboxContext } from "@fedify/fedify";
import { isActor, Note, type Create, type Update } from "@fedify/vocab";
import { parseCharterInput, type CharterContent } from "../../domain/charter/model.ts";
import { DomainError, invalid } from "../../domain/errors.ts";
import { getRemoteCharter, receiveRemoteCharter, followingPodFor } from "../../services/charters.ts";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { isSummaryDocument, onSummaryDocument } from "./summaries.ts";
import { isProposalDocument, onProposalDocument } from "./proposals.ts";
import { isEconomicEventDocument, onEconomicEventDocument } from "./transfers.ts";
import { podWithClaimsWith } from "../../services/claims.ts";
import { refreshRemoteActor } from "../../services/follows.ts";
import { actorToRemoteActorInfo } from "../mappers.ts";

type Ctx = InboxContext<ServiceDeps>;

export async function onNoteCreatedOrUpdated(ctx: Ctx, activity: Create | Update, ref: InboxActivityRef): Promise<void> {
  const log = ctx.data.log;
  if (!activity.actorId || !activity.objectId) throw invalid("INCOMPLETE_ACTIVITY", "A Create or Update needs an actor and an object");
  const actorIri = activity.actorId.href;
  const objectId = activity.objectId;
  // An actor updating itself (a pod's new name or icon): refresh the copy we keep.
  if (objectId.href === actorIri) return onActorUpdated(ctx, activity, actorIri);
  // Objects live on their author's server.
  if (objectId.origin !== activity.actorId.origin) throw invalid("FOREIGN_OBJECT", `The object ${objectId.href} is on another server than its actor`);
  // A pod we follow, or one bound to one of our pods by a claim (its transfers still count
  // after an unfollow).
  const follower = (await followingPodFor(ctx.data, actorIri)) ?? (await podWithClaimsWith(ctx.data, actorIri));
  if (!follower) {
    log.debug("Post from an actor none of our pods follows: not acted on", { id: ref.key, type: ref.type, actor: actorIri });
    return;
  }
  // Skip the fetch when the embedded object is no newer than the copy we hold.
  const embedded = await embeddedNote(activity);
  if (embedded && !embedded.attributionIds.some((id) => id.href === actorIri)) {
    throw invalid("NOT_AUTHOR", `The Note ${objectId.href} is attributed to someone other than the actor sending it`);
  }
  const held = await getRemoteCharter(ctx.data, actorIri);
  const announced = embedded?.updated ?? embedded?.published ?? null;
  if (held && held.objectIri === objectId.href && announced && announced.epochMilliseconds <= held.objectUpdatedAt.getTime()) {
    log.info("Ignored a replayed or older charter update", { actor: actorIri, revision: held.revision });
    return;
  }

  const documentLoader = await ctx.getDocumentLoader({ identifier: follower });
  const { document } = await documentLoader(objectId.href);
  // A period summary of the open books: read by its own handler.
  if (isSummaryDocument(document)) return onSummaryDocument(ctx, document, actorIri, objectId.href, ref);
  // Congress: the other side of a transfer, and offers and needs.
  if (isEconomicEventDocument(document)) return onEconomicEventDocument(ctx, document, actorIri, objectId.href, ref);
  if (isProposalDocument(document)) return onProposalDocument(ctx, document, actorIri, objectId.href, ref);
  const copy = noteJsonToCharter(document, actorIri, objectId.href);
  if (!copy) return; // an ordinary post, not a charter
  const outcome = await receiveRemoteCharter(ctx.data, { actorIri, objectIri: objectId.href, ...copy, activity: ref });
  if (outcome === "stale") log.info("Fetched charter is not newer than ours", { actor: actorIri, revision: copy.revision });
}

/**
 * The activity is signed by the actor and its object is that same actor, so the embedded
 * object is the actor's own word about itself; an actor we do not know is not stored.
 */
async function onActorUpdated(ctx: Ctx, activity: Create | Update, actorIri: string): Promise<void> {
  const object = await activity.getObject({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
  if (!object || !isActor(object) || object.id?.href !== actorIri) return;
  const info = actorToRemoteActorInfo(object);
  if (!info) return;
  const changed = await refreshRemoteActor(ctx.data, info);
  if (changed) ctx.data.log.info("A followed actor updated its profile", { actor: actorIri });
}

/**
 * Reads the charter pinned in a followed actor's `featured` collection (if it is a Hyphae
 * pod) and keeps a copy. Best effort: other servers have other things pinned, or none.
 */
export async function syncPinnedCharter(ctx: Ctx, podSlug: string, actorId: URL): Promise<void> {
  const log = ctx.data.log;
  try {
    const documentLoader = await ctx.getDocumentLoader({ identifier: podSlug });
    const actor = (await documentLoader(actorId.href)).document as { id?: unknown; featured?: unknown };
    if (actor.id !== actorId.href || typeof actor.featured !== "string") return;
    const featured = new URL(actor.featured);
    if (featured.origin !== actorId.origin) return;
    const collection = (await documentLoader(featured.href)).document as { orderedItems?: unknown; items?: unknown; first?: unknown };
    let items = collection.orderedItems ?? collection.items;
    if (!items && typeof collection.first === "string") {
      const first = (await documentLoader(collection.first)).document as { orderedItems?: unknown; items?: unknown };
      items = first.orderedItems ?? first.items;
    }
    for (const item of Array.isArray(items) ? items.slice(0, 20) : []) {
      const id = typeof item === "string" ? item : typeof item?.id === "string" ? item.id : null;
      if (!id || new URL(id).origin !== actorId.origin) continue;
      const { document } = await documentLoader(id);
      const copy = noteJsonToCharter(document, actorId.href, id);
      if (copy) {
        await receiveRemoteCharter(ctx.data, { actorIri: actorId.href, objectIri: id, ...copy });
        return;
      }
    }
  } catch (error) {
    log.warn("Could not read the pinned charter of a pod we now follow", { actor: actorId.href, error: String(error) });
  }
}

async function embeddedNote(activity: Create | Update): Promise<Note | null> {
  const raw = (await activity.toJsonLd()) as { object?: unknown };
  if (raw.object === null || typeof raw.object !== "object") return null;
  const object = await activity.getObject({ crossOrigin: "trust" });
  return object instanceof Note ? object : null;
}

interface RawService {
  name?: unknown;
  description?: unknown;
  category?: unknown;
  since?: unknown;
  figure?: unknown;
  why?: unknown;
  targetDate?: unknown;
}

/**
 * Reads our charter terms from a fetched Note. The document must be the object itself,
 * by its author, and carry our inline context; its content is checked with the same
 * rules as a steward's input (except that "next" dates may have passed since). Null for a
 * document that is not one of our charters; a DomainError for a charter that breaks the rules.
 */
export function noteJsonToCharter(
  document: unknown,
  actorIri: string,
  objectIri: string,
): { revision: number; updatedAt: Date; reviewedOn: string | null; content: CharterContent } | null {
  if (!document || typeof document !== "object") return null;
  const doc = document as Record<string, unknown>;
  if (doc.id !== objectIri || doc.attributedTo !== actorIri) return null;
  const contexts = Array.isArray(doc["@context"]) ? doc["@context"] : [doc["@context"]];
  const ours = contexts.some((c) => c && typeof c === "object" && (c as Record<string, unknown>).hyphae === "https://hyphae-pods.github.io/ns#");
  if (!ours || typeof doc.charterRevision !== "number" || !Number.isInteger(doc.charterRevision) || doc.charterRevision < 1) return null;
  const when = Date.parse(String(doc.updated ?? doc.published ?? ""));
  if (Number.isNaN(when)) return null;
  const services = Array.isArray(doc.servicesNow) ? (doc.servicesNow as RawService[]) : [];
  const next = Array.isArray(doc.servicesNext) ? (doc.servicesNext as RawService[]) : [];
  const licence = (doc.licence ?? {}) as { name?: unknown; url?: unknown };
  let parsed;
  try {
    parsed = parseCharterInput(
      {
        title: doc.name,
        preamble: doc.preamble ?? "",
        services: services.map((s) => ({ name: s.name, description: s.description, category: s.category, since: s.since, figure: s.figure ?? null })),
        nextServices: next.map((s) => ({ name: s.name, why: s.why, targetDate: s.targetDate })),
        assemblyRhythm: doc.assemblyRhythm ?? null,
        meetingPlace: doc.meetingPlace ?? null,
        licence: { name: licence.name, url: licence.url ?? null },
        changeNote: doc.changeNote ?? "",
      },
      // A remote charter's "next" targets may have passed since it was written.
      "0001-01-01",
    );
  } catch (error) {
    // It is a charter (our context, a revision) that breaks the rules: refused, not an ordinary post.
    throw error instanceof DomainError ? error : invalid("VALIDATION_FAILED", String(error));
  }
  const { changeNote: _changeNote, ...content } = parsed;
  const reviewedOn = typeof doc.reviewedOn === "string" && /^\d{4}-\d{2}-\d{2}$/.test(doc.reviewedOn) ? doc.reviewedOn : null;
  return { revision: doc.charterRevision, updatedAt: new Date(when), reviewedOn, content };
}
