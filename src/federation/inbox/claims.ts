/**
 * Claims arriving in our inbox (FEP-0837):
 *
 * - `Offer{object: Agreement{stipulates: Commitment{satisfies, resourceQuantity}}}` on one of
 *   our proposals → services/claims.receiveClaim (stored, then answered by the pod's rules
 *   or left to its stewards). An Offer of anything else is not acted on.
 * - `Accept{object: <our claim's Offer id>, result: Agreement}` or `Reject{object: …,
 *   content}` → services/claims.receiveClaimAnswer.
 *
 * Objects are read through Fedify's FEP-0837 classes (so any JSON-LD spelling of the terms
 * works); the claimant actor is fetched (signed) so it can be stored and answered.
 */
import type { InboxContext } from "@fedify/fedify";
import { Agreement, type Accept, type Offer, type Reject } from "@fedify/vocab";
import { invalid } from "../../domain/errors.ts";
import { findBadText } from "../../domain/text.ts";
import { receiveClaim, receiveClaimAnswer } from "../../services/claims.ts";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { actorToRemoteActorInfo, objectToActor } from "../mappers.ts";
import { claimFromUrl } from "../uris.ts";

type Ctx = InboxContext<ServiceDeps>;

export async function onClaimOffer(ctx: Ctx, offer: Offer, ref: InboxActivityRef): Promise<void> {
  // The Agreement of a claim is embedded and has no id of its own yet.
  if (!offer.actorId) throw invalid("INCOMPLETE_ACTIVITY", "An Offer needs an actor");
  // The claim is answered by naming the Offer's id: without one there is nothing to answer.
  if (!offer.id) throw invalid("MISSING_ID", "An Offer without an id cannot be answered");
  if (offer.id.origin !== offer.actorId.origin) throw invalid("FOREIGN_OBJECT", "The Offer's id is on another server than its actor");
  const agreement = await offer.getObject({ crossOrigin: "trust" });
  if (!(agreement instanceof Agreement)) {
    ctx.data.log.debug("Offer of something other than an Agreement: not acted on", { id: ref.key });
    return;
  }
  const commitment = agreement.stipulates;
  const intent = commitment?.satisfies;
  if (!commitment || !intent) throw invalid("CLAIM_INCOMPLETE", "The Agreement stipulates no Commitment that satisfies an intent");
  const measure = commitment.resourceQuantity;
  if (!measure || measure.numericalValue === null) throw invalid("CLAIM_INCOMPLETE", "The Commitment has no resourceQuantity with a numerical value");
  // Who claims: fetched and stored, so the answer can be addressed.
  const recipient = ctx.recipient ?? claimOwnerSlug(intent);
  const documentLoader = recipient ? await ctx.getDocumentLoader({ identifier: recipient }) : ctx.documentLoader;
  const actor = objectToActor(await offer.getActor({ documentLoader, contextLoader: ctx.contextLoader }));
  const info = actor && actorToRemoteActorInfo(actor);
  if (!info || info.iri !== offer.actorId.href) throw invalid("ACTOR_UNAVAILABLE", "The claimant could not be fetched");
  const bad = findBadText(info);
  if (bad) throw invalid("BAD_TEXT", `The claimant's ${bad.path} ${bad.problem}`);
  await receiveClaim(ctx.data, {
    actor: info,
    offerIri: offer.id.href,
    intentIri: intent.href,
    quantity: String(measure.numericalValue),
    unit: unitId(measure.unit),
    activity: ref,
  });
}

/** `kilogram`, `om2:kilogram` or the OM2 IRI → `kilogram`. */
function unitId(unit: string | null): string | null {
  if (!unit) return null;
  const m = /(?:om-2\/|om2:)([^/#]+)$/.exec(unit);
  return m ? m[1]! : unit;
}

/** The pod a proposal URL of ours belongs to (for signing the actor fetch). */
function claimOwnerSlug(intent: URL): string | null {
  const m = /^\/pods\/([^/]+)\//.exec(intent.pathname);
  return m ? decodeURIComponent(m[1]!) : null;
}

export async function onClaimAnswer(ctx: Ctx, answer: Accept | Reject, accepted: boolean, ref: InboxActivityRef): Promise<void> {
  if (!answer.actorId || !answer.objectId) return;
  const ours = claimFromUrl(new URL(ctx.origin), answer.objectId);
  if (!ours) return;
  let agreementIri: string | null = null;
  let commitmentIri: string | null = null;
  if (accepted) {
    const result = await answer.getResult({ crossOrigin: "trust" });
    if (result instanceof Agreement) {
      agreementIri = result.id?.href ?? null;
      commitmentIri = result.stipulates?.id?.href ?? null;
    } else if (answer.resultId) {
      agreementIri = answer.resultId.href;
    }
  }
  const reason = accepted ? null : (answer.content?.toString() ?? null);
  await receiveClaimAnswer(ctx.data, {
    claimId: ours.claimId,
    actorIri: answer.actorId.href,
    accepted,
    agreementIri,
    commitmentIri,
    reason: reason === null ? null : stripTags(reason),
    answerIri: answer.id?.href ?? null,
    activity: ref,
  });
}

/** A Reject's reason arrives as HTML from some servers: keep the text only. */
function stripTags(html: string): string {
  return html
    .replace(/<[^>]*>/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, " ")
    .trim();
}
