/**
 * Transfers between pods as ActivityPub: our side of a transfer is an EconomicEvent in the
 * FEP-3264 shape (`context` = the Agreement, `fulfills` its commitment), served at its id
 * (congress-route.ts). Fedify cannot carry EconomicEvent (not in its vocabulary, and
 * sendActivity drops unknown terms), so it goes out as `Create{object: <event URL>}` and
 * the other pod dereferences the URL with a signed GET. A discrepancy goes out as a Flag.
 */
import { Create, Flag } from "@fedify/vocab";
import type { OutboundEvent, ServiceDeps } from "../services/ports.ts";
import { transferEventFacts, transferForPublish } from "../services/transfers.ts";
import { HYPHAE_NS } from "./charter.ts";
import type { PublishEnv, PublishResult } from "./publish.ts";
import { podActivityUrl } from "./uris.ts";
import { VF_NAMESPACE, OM2_UNIT_NAMESPACE } from "../domain/congress/vf.ts";

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** The inline context of our EconomicEvents: VF 1.0 and OM2 terms, ours under `hyphae:`. */
export const TRANSFER_CONTEXT = {
  vf: VF_NAMESPACE,
  om2: OM2_UNIT_NAMESPACE,
  hyphae: HYPHAE_NS,
  xsd: "http://www.w3.org/2001/XMLSchema#",
  EconomicEvent: "vf:EconomicEvent",
  action: "vf:action",
  provider: { "@id": "vf:provider", "@type": "@id" },
  receiver: { "@id": "vf:receiver", "@type": "@id" },
  resourceConformsTo: { "@id": "vf:resourceConformsTo", "@type": "@id" },
  resourceQuantity: "vf:resourceQuantity",
  hasUnit: "om2:hasUnit",
  hasNumericalValue: "om2:hasNumericalValue",
  hasPointInTime: { "@id": "vf:hasPointInTime", "@type": "xsd:dateTime" },
  fulfills: { "@id": "vf:fulfills", "@type": "@id" },
  realizationOf: { "@id": "vf:realizationOf", "@type": "@id" },
  acknowledges: { "@id": "hyphae:acknowledges", "@type": "@id" },
  claim: { "@id": "hyphae:claim", "@type": "@id" },
  proposal: { "@id": "hyphae:proposal", "@type": "@id" },
  ledgerEntry: "hyphae:ledgerEntry",
  seq: { "@id": "hyphae:seq", "@type": "xsd:integer" },
  hash: "hyphae:hash",
  fund: "hyphae:fund",
} as const;

const label = (handle: string | null, iri: string) => handle ?? iri;

/** Our side of a transfer as an EconomicEvent, served at its id (congress-route.ts). */
export async function transferDocument(deps: ServiceDeps, slug: string, transferId: string): Promise<Record<string, unknown> | null> {
  const facts = await transferEventFacts(deps, slug, transferId);
  if (!facts) return null;
  const t = facts.transfer;
  const them = label(t.counterpartHandle, t.counterpart);
  const me = `@${slug}@${deps.config.publicUrl.host}`;
  const what = `${t.quantity} ${t.unit} of ${t.resourceName || t.resource}`;
  const name = t.direction === "out" ? `${me} gave ${what} to ${them}` : `${me} received ${what} from ${them}`;
  return {
    "@context": [AS_CONTEXT, TRANSFER_CONTEXT],
    id: t.url,
    type: "EconomicEvent",
    attributedTo: facts.actorIri,
    action: facts.action,
    provider: t.giver,
    receiver: t.receiver,
    ...(facts.specificationUri && { resourceConformsTo: facts.specificationUri }),
    resourceQuantity: { hasUnit: t.unit, hasNumericalValue: t.quantity },
    hasPointInTime: t.occurredAt.toISOString(),
    fulfills: facts.commitmentIri,
    context: t.agreement,
    realizationOf: t.agreement,
    claim: facts.claimOfferIri,
    proposal: facts.proposalIri,
    ...(t.direction === "in" && t.counterpartEvent && { acknowledges: t.counterpartEvent }),
    ledgerEntry: { seq: t.ledgerSeq, hash: t.ledgerHash },
    ...(t.fund && { fund: t.fund }),
    name,
    summary: `${name}, under agreement ${t.agreement}.`,
    url: t.url,
    published: t.createdAt.toISOString(),
    to: [t.counterpart],
  };
}

/** Create{object: our event URL} to the other pod's personal inbox. */
export async function publishTransferEvent(env: PublishEnv, event: Extract<OutboundEvent, { kind: "transfer_event" }>): Promise<PublishResult> {
  const { ctx, deps, orderingKey } = env;
  const found = await transferForPublish(deps, event.podId, event.transferId);
  if (!found) return { dropped: "its transfer, pod or counterpart is gone" };
  const { slug, transfer } = found;
  const them = new URL(transfer.counterpartIri);
  const activity = new Create({
    id: new URL(`${transfer.eventIri}#create`),
    actor: ctx.getActorUri(slug),
    object: new URL(transfer.eventIri),
    to: them,
  });
  await ctx.sendActivity(
    { identifier: slug },
    { id: them, inboxId: new URL(found.inbox), endpoints: found.sharedInbox ? { sharedInbox: new URL(found.sharedInbox) } : null },
    activity,
    { preferSharedInbox: false, orderingKey },
  );
  return { sent: true };
}

/** Flag{object: [their event or the agreement, the agreement], content: reason} to the other pod. */
export async function publishTransferFlag(env: PublishEnv, event: Extract<OutboundEvent, { kind: "transfer_flag" }>): Promise<PublishResult> {
  const { ctx, deps, eventId, orderingKey } = env;
  const found = await transferForPublish(deps, event.podId, event.transferId);
  if (!found) return { dropped: "its transfer, pod or counterpart is gone" };
  const { slug, transfer } = found;
  if (!transfer.discrepancyReason) return { dropped: "the transfer carries no discrepancy" };
  const them = new URL(transfer.counterpartIri);
  const objects = [...new Set([transfer.counterpartEventIri ?? transfer.agreementIri, transfer.agreementIri, transfer.eventIri])].map((iri) => new URL(iri));
  const activity = new Flag({
    id: podActivityUrl(new URL(ctx.origin), slug, "flags", eventId),
    actor: ctx.getActorUri(slug),
    objects,
    content: transfer.discrepancyReason,
    to: them,
  });
  await ctx.sendActivity(
    { identifier: slug },
    { id: them, inboxId: new URL(found.inbox), endpoints: found.sharedInbox ? { sharedInbox: new URL(found.sharedInbox) } : null },
    activity,
    { preferSharedInbox: false, orderingKey },
  );
  return { sent: true };
}
