/**
 * The other side of a transfer: an EconomicEvent (read from the document charters.ts
 * dereferenced with a signed GET), and Flags of discrepancies. The rules are in
 * services/transfers.ts; here the JSON is read into plain facts (any ValueFlows spelling).
 */
import type { InboxContext } from "@fedify/fedify";
import type { Flag } from "@fedify/vocab";
import { invalid } from "../../domain/errors.ts";
import { hasVfType, normalizeUnit, vfProperty } from "../../domain/congress/vf.ts";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { receiveTransferEvent, receiveTransferFlag, type IncomingTransferEvent } from "../../services/transfers.ts";
import { HYPHAE_NS } from "../charter.ts";

type Ctx = InboxContext<ServiceDeps>;

/** True when a fetched document is an EconomicEvent (in any ValueFlows spelling). */
export function isEconomicEventDocument(document: unknown): boolean {
  if (!document || typeof document !== "object" || Array.isArray(document)) return false;
  const doc = document as Record<string, unknown>;
  return hasVfType(doc.type ?? doc["@type"], "EconomicEvent");
}

function iriOf(value: unknown): string | null {
  if (Array.isArray(value)) return value.length === 1 ? iriOf(value[0]) : null;
  if (typeof value === "string") return /^https?:\/\//.test(value) ? value : null;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return iriOf(o.id ?? o["@id"]);
  }
  return null;
}

/** Our own terms: `claim`, `hyphae:claim` or the full IRI. */
function ours(doc: Record<string, unknown>, name: string): unknown {
  return doc[name] ?? doc[`hyphae:${name}`] ?? doc[`${HYPHAE_NS}${name}`];
}

/** Reads the facts of an EconomicEvent document; a DomainError (refused) when it lacks what a transfer needs. */
export function economicEventFacts(document: unknown, actorIri: string, objectIri: string): IncomingTransferEvent {
  const doc = document as Record<string, unknown>;
  if (doc.id !== objectIri) throw invalid("NOT_THE_OBJECT", `The document at ${objectIri} names another id`);
  const attributedTo = iriOf(doc.attributedTo);
  if (attributedTo !== null && attributedTo !== actorIri) throw invalid("NOT_AUTHOR", "The event is attributed to someone other than the actor sending it");
  const agreementIri = iriOf(doc.context) ?? iriOf(vfProperty(doc, "realizationOf"));
  if (!agreementIri) throw invalid("NO_AGREEMENT", "The event names no agreement (context or realizationOf)");
  const providerIri = iriOf(vfProperty(doc, "provider"));
  const receiverIri = iriOf(vfProperty(doc, "receiver"));
  if (!providerIri || !receiverIri) throw invalid("NO_PARTIES", "The event names no provider or receiver");
  const q = vfProperty(doc, "resourceQuantity") ?? vfProperty(doc, "effortQuantity");
  const measure = (q && typeof q === "object" ? q : {}) as Record<string, unknown>;
  const value = measure.hasNumericalValue ?? measure["om2:hasNumericalValue"] ?? measure.numericValue;
  const unit = normalizeUnit(measure.hasUnit ?? measure["om2:hasUnit"] ?? measure.unit);
  if ((typeof value !== "string" && typeof value !== "number") || !unit) throw invalid("NO_QUANTITY", "The event has no resourceQuantity with a unit and a value");
  const when = vfProperty(doc, "hasPointInTime") ?? vfProperty(doc, "hasEnd") ?? doc.published;
  const at = typeof when === "string" ? new Date(when) : null;
  return {
    actorIri,
    eventIri: objectIri,
    agreementIri,
    claimOfferIri: iriOf(ours(doc, "claim")),
    providerIri,
    receiverIri,
    quantity: String(value),
    unit,
    occurredAt: at && !Number.isNaN(at.getTime()) ? at : null,
    acknowledges: iriOf(ours(doc, "acknowledges")),
  };
}

export async function onEconomicEventDocument(ctx: Ctx, document: unknown, actorIri: string, objectIri: string, ref: InboxActivityRef): Promise<void> {
  await receiveTransferEvent(ctx.data, economicEventFacts(document, actorIri, objectIri), ref);
}

/** A Flag naming one of our transfers (our event, theirs or the agreement); other Flags (moderation reports) change nothing. */
export async function onTransferFlag(ctx: Ctx, flag: Flag, ref: InboxActivityRef): Promise<void> {
  if (!flag.actorId) return;
  const objectIris = flag.objectIds.map((u) => u.href);
  const reason = flag.content?.toString() ?? "";
  const outcome = await receiveTransferFlag(ctx.data, { actorIri: flag.actorId.href, objectIris, reason: stripTags(reason) }, ref);
  if (outcome === "ignored") ctx.data.log.debug("A Flag about nothing of ours: not acted on", { id: ref.key });
}

function stripTags(text: string): string {
  return text
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}
