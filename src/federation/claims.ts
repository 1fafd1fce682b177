/**
 * Claims between pods, in the FEP-0837 shapes:
 *
 * - our claim: `Offer{id: /pods/{slug}/claims/{id}, actor, to: the proposer, object:
 *   Agreement{stipulates: Commitment{satisfies: <intent>#primary, resourceQuantity}}}`,
 *   sent to the proposer's own inbox, and served at its id;
 * - our answer to a claim on one of our proposals: `Accept{object: <their Offer id>,
 *   result: Agreement{id: /pods/{slug}/agreements/{claimId}, attributedTo: us, stipulates:
 *   Commitment{id: …#primary, satisfies, resourceQuantity}}}`, or `Reject{object: <their
 *   Offer id>, content: reason}`. The Agreement is served at its id.
 *
 * Activity ids are fixed per claim (the Offer's id is the claim's; the Accept is the
 * Agreement's `#accept`; a Reject is that Agreement's `#reject`), so a resend
 * carries the same id and the receiver drops the duplicate.
 */
import { parseDecimal as fedifyDecimal } from "@fedify/fedify";
import { Accept, Agreement, Commitment, Measure, Offer, Reject, type Activity } from "@fedify/vocab";
import { OM2_NAMESPACE } from "../domain/books/model.ts";
import { VF_NAMESPACE } from "../domain/congress/vf.ts";
import { claimForPublishing, findClaim } from "../services/claims.ts";
import type { OutboundEvent, ServiceDeps } from "../services/ports.ts";
import { HYPHAE_NS } from "./charter.ts";
import type { PublishEnv, PublishResult } from "./publish.ts";

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** The inline context of our claim and agreement documents (FEP-0837 terms). */
export const AGREEMENT_CONTEXT = {
  vf: VF_NAMESPACE,
  om2: OM2_NAMESPACE,
  hyphae: HYPHAE_NS,
  Agreement: "vf:Agreement",
  Commitment: "vf:Commitment",
  stipulates: "vf:stipulates",
  stipulatesReciprocal: "vf:stipulatesReciprocal",
  satisfies: { "@id": "vf:satisfies", "@type": "@id" },
  resourceQuantity: "vf:resourceQuantity",
  hasUnit: "om2:hasUnit",
  hasNumericalValue: "om2:hasNumericalValue",
  claimOffer: { "@id": "hyphae:claimOffer", "@type": "@id" },
} as const;

const measureJson = (unit: string, quantity: string) => ({ hasUnit: unit, hasNumericalValue: quantity });

/** Our claim's Offer activity, served at its id. */
export async function claimOfferDocument(deps: ServiceDeps, slug: string, claimId: string): Promise<Record<string, unknown> | null> {
  const found = await findClaim(deps, slug, claimId);
  if (!found || found.claim.direction !== "outgoing") return null;
  const { claim } = found;
  return {
    "@context": [AS_CONTEXT, AGREEMENT_CONTEXT],
    id: claim.offerIri,
    type: "Offer",
    actor: deps.uris.actor(slug).href,
    to: [claim.counterpartIri],
    published: claim.createdAt.toISOString(),
    object: {
      type: "Agreement",
      stipulates: { type: "Commitment", satisfies: claim.intentIri, resourceQuantity: measureJson(claim.unit, claim.quantity) },
    },
  };
}

/** An Agreement our pod made, accepting a claim on one of its proposals, served at its id. */
export async function agreementDocument(deps: ServiceDeps, slug: string, claimId: string): Promise<Record<string, unknown> | null> {
  const found = await findClaim(deps, slug, claimId);
  if (!found || found.claim.direction !== "incoming" || found.claim.status !== "accepted" || !found.claim.agreementIri) return null;
  const { claim } = found;
  return {
    "@context": [AS_CONTEXT, AGREEMENT_CONTEXT],
    id: claim.agreementIri,
    type: "Agreement",
    attributedTo: deps.uris.actor(slug).href,
    to: [claim.counterpartIri],
    published: (claim.decidedAt ?? claim.createdAt).toISOString(),
    stipulates: { id: claim.commitmentIri, type: "Commitment", satisfies: claim.intentIri, resourceQuantity: measureJson(claim.unit, claim.quantity) },
    claimOffer: claim.offerIri,
  };
}

type ClaimEvent<K extends "claim_offer" | "claim_answer"> = Extract<OutboundEvent, { kind: K }>;

async function sendToCounterpart(env: PublishEnv, slug: string, counterpart: { iri: string; inbox: string; sharedInbox: string | null }, activity: Activity): Promise<void> {
  await env.ctx.sendActivity(
    { identifier: slug },
    { id: new URL(counterpart.iri), inboxId: new URL(counterpart.inbox), endpoints: counterpart.sharedInbox ? { sharedInbox: new URL(counterpart.sharedInbox) } : null },
    activity,
    { preferSharedInbox: false, orderingKey: env.orderingKey },
  );
}

const measure = (unit: string, quantity: string) => new Measure({ unit, numericalValue: fedifyDecimal(quantity) });

/** `claim_offer`: our claim's Offer(Agreement) to the proposer. */
export async function publishClaimOffer(env: PublishEnv, event: ClaimEvent<"claim_offer">): Promise<PublishResult> {
  const found = await claimForPublishing(env.deps, event.claimId);
  if (!found || found.claim.direction !== "outgoing") return { dropped: "its claim or the proposer is gone" };
  const { claim, pod, counterpart } = found;
  const me = env.ctx.getActorUri(pod.slug);
  const offer = new Offer({
    id: new URL(claim.offerIri),
    actor: me,
    to: new URL(counterpart.iri),
    object: new Agreement({ stipulates: new Commitment({ satisfies: new URL(claim.intentIri), resourceQuantity: measure(claim.unit, claim.quantity) }) }),
  });
  await sendToCounterpart(env, pod.slug, counterpart, offer);
  return { sent: true };
}

/** `claim_answer`: Accept (with the Agreement) or Reject (with the reason) of a claim on our proposal. */
export async function publishClaimAnswer(env: PublishEnv, event: ClaimEvent<"claim_answer">): Promise<PublishResult> {
  const found = await claimForPublishing(env.deps, event.claimId);
  if (!found || found.claim.direction !== "incoming" || found.claim.status === "pending") return { dropped: "its claim is gone or undecided" };
  const { claim, pod, counterpart } = found;
  const me = env.ctx.getActorUri(pod.slug);
  const them = new URL(counterpart.iri);
  let activity: Activity;
  if (claim.status === "accepted") {
    activity = new Accept({
      id: new URL(claim.answerIri!),
      actor: me,
      to: them,
      object: new URL(claim.offerIri),
      result: new Agreement({
        id: new URL(claim.agreementIri!),
        attribution: me,
        stipulates: new Commitment({ id: new URL(claim.commitmentIri!), satisfies: new URL(claim.intentIri), resourceQuantity: measure(claim.unit, claim.quantity) }),
      }),
    });
  } else {
    activity = new Reject({ id: new URL(claim.answerIri!), actor: me, to: them, object: new URL(claim.offerIri), content: claim.reason ?? "Declined" });
  }
  await sendToCounterpart(env, pod.slug, counterpart, activity);
  return { sent: true };
}
