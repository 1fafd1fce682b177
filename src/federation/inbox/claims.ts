/**
 * Claims arriving in our inbox (FEP-0837):
 *
 * - `Offer{object: Agreement{stipulates: Commitment{satisfies, resourceQuantity}}}` on one of
 *   our proposals → services/claims.receiveClaim (stored, then answered by the pod's rules
 *   or left to its stewards). An Offer of anything else is not acted on.
 * - `Accept{object: <our claim's Offer id>, result: Agreement}` or `Reject{object: …,
 *   content}` → services/claims.receiveClaimAnswer.
 *
 * The Agreement is read from the JSON as received (`toJsonLd()` without options), through
 * domain/congress/claims.ts, so FEP-0837's terms, `vf:` CURIEs, full IRIs, Bonfire's
 * `ValueFlows:` prefix and OM2 units in any spelling all work; the claimant actor is
 * fetched (signed) so it can be stored and answered.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Accept, Offer, Reject } from "@fedify/vocab";
import { iriOf, readAcceptedAgreement, readClaimAgreement } from "../../domain/congress/claims.ts";
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
  // The JSON as received (Fedify keeps it): any spelling of the FEP-0837 terms is read.
  const raw = (await offer.toJsonLd()) as Record<string, unknown>;
  let object: unknown = raw.object;
  const byId = iriOf(object);
  if (typeof object === "string" || (object && typeof object === "object" && Object.keys(object).every((k) => k === "id" || k === "@id"))) {
    // An Agreement by reference: fetched (it must live on the claimant's server).
    if (!byId || !URL.canParse(byId) || new URL(byId).origin !== offer.actorId.origin) throw invalid("FOREIGN_OBJECT", "The Offer's Agreement is on another server than its actor");
    object = (await ctx.documentLoader(byId)).document;
  }
  const terms = readClaimAgreement(object);
  if (!terms) {
    ctx.data.log.debug("Offer of something other than an Agreement: not acted on", { id: ref.key });
    return;
  }
  // Who claims: fetched and stored, so the answer can be addressed.
  const recipient = ctx.recipient ?? claimOwnerSlug(terms.intentIri);
  const documentLoader = recipient ? await ctx.getDocumentLoader({ identifier: recipient }) : ctx.documentLoader;
  const actor = objectToActor(await offer.getActor({ documentLoader, contextLoader: ctx.contextLoader }));
  const info = actor && actorToRemoteActorInfo(actor);
  if (!info || info.iri !== offer.actorId.href) throw invalid("ACTOR_UNAVAILABLE", "The claimant could not be fetched");
  const bad = findBadText(info);
  if (bad) throw invalid("BAD_TEXT", `The claimant's ${bad.path} ${bad.problem}`);
  await receiveClaim(ctx.data, { actor: info, offerIri: offer.id.href, intentIri: terms.intentIri, quantity: terms.quantity, unit: terms.unit, activity: ref });
}

/** The pod a proposal URL of ours belongs to (for signing the actor fetch). */
function claimOwnerSlug(intent: string): string | null {
  let path: string;
  try {
    path = new URL(intent).pathname;
  } catch {
    return null;
  }
  const m = /^\/pods\/([^/]+)\//.exec(path);
  return m ? decodeURIComponent(m[1]!) : null;
}

export async function onClaimAnswer(ctx: Ctx, answer: Accept | Reject, accepted: boolean, ref: InboxActivityRef): Promise<void> {
  if (!answer.actorId || !answer.objectId) return;
  const ours = claimFromUrl(new URL(ctx.origin), answer.objectId);
  if (!ours) return;
  let agreementIri: string | null = null;
  let commitmentIri: string | null = null;
  if (accepted) {
    // Read as received: the Agreement's id and its Commitment's, in any spelling.
    ({ agreementIri, commitmentIri } = readAcceptedAgreement(((await answer.toJsonLd()) as Record<string, unknown>).result));
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
