/**
 * Offers and needs on the fediverse: ONE object per proposal, at its id
 * (`/pods/{slug}/offers/{n}` or `/needs/{n}`, also its HTML page), serving both audiences:
 *
 * - `type: ["Note", "Proposal"]`: Mastodon keeps Notes and drops unknown types, so the
 *   readable post is the Note's `content` (paragraphs, a list, links and hashtags only:
 *   "Offer: 40 kg squash, until Saturday 5 December", what is left, where, until when,
 *   the status once closed, #MutualAid #Offer / #Need, #MutualAidUrgent first for an
 *   urgent need); ValueFlows software reads the FEP-0837 Proposal: `purpose`,
 *   `publishes` an embedded Intent (`#primary`: action, resourceConformsTo,
 *   resourceQuantity, availableQuantity, minimumQuantity, provider or receiver = the pod),
 *   `reciprocal` (`#reciprocal`), `unitBased`, a `location` Place (a name only), the
 *   window as `startTime`/`endTime`; our own terms under `hyphae:` (expiresAt, status,
 *   urgent, category, fund, description, proposalVersion, totalQuantity).
 * - The context is inlined (AS2 + vf + om2 + hyphae; minimumQuantity included, which the
 *   FEP's context document lacks).
 * - Each version goes out as Create (version 1) or Update (later) of the same Note id, to
 *   Public and the pod's followers, with `updated` set after version 1 (Mastodon applies
 *   an edit only when it is newer). Fedify's delivery compacts objects and drops unknown
 *   terms, so the activity carries the AS2 part (the Note); Hyphae nodes dereference the
 *   id (signed GET) and read the whole document (inbox/proposals.ts).
 * - Withdrawal, expiry and fulfilment are Updates of the same Note: never left dangling.
 */
import { Create, Note, PUBLIC_COLLECTION, Update } from "@fedify/vocab";
import { OM2_NAMESPACE } from "../domain/books/model.ts";
import { VF_NAMESPACE } from "../domain/congress/vf.ts";
import type { Pod } from "../domain/pods.ts";
import { proposalNoteParts } from "../services/notes.ts";
import { findProposal, proposalSnapshot, type ProposalView } from "../services/proposals.ts";
import type { OutboundEvent, ServiceDeps } from "../services/ports.ts";
import { HYPHAE_NS } from "./charter.ts";
import type { PublishEnv, PublishResult } from "./publish.ts";
import { dateToInstant } from "./temporal.ts";
import { podActorUrl, podFollowersUrl, podUris, proposalActivityUrl, tagUrl } from "./uris.ts";

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** The inline context of our proposal documents. */
export const PROPOSAL_CONTEXT = {
  vf: VF_NAMESPACE,
  om2: OM2_NAMESPACE,
  hyphae: HYPHAE_NS,
  xsd: "http://www.w3.org/2001/XMLSchema#",
  Hashtag: "as:Hashtag",
  Proposal: "vf:Proposal",
  Intent: "vf:Intent",
  purpose: "vf:purpose",
  publishes: "vf:publishes",
  reciprocal: "vf:reciprocal",
  unitBased: "vf:unitBased",
  action: "vf:action",
  provider: { "@id": "vf:provider", "@type": "@id" },
  receiver: { "@id": "vf:receiver", "@type": "@id" },
  resourceConformsTo: { "@id": "vf:resourceConformsTo", "@type": "@id" },
  resourceQuantity: "vf:resourceQuantity",
  availableQuantity: "vf:availableQuantity",
  minimumQuantity: "vf:minimumQuantity",
  hasUnit: "om2:hasUnit",
  hasNumericalValue: "om2:hasNumericalValue",
  expiresAt: { "@id": "hyphae:expiresAt", "@type": "xsd:dateTime" },
  status: "hyphae:status",
  urgent: { "@id": "hyphae:urgent", "@type": "xsd:boolean" },
  category: "hyphae:category",
  fund: "hyphae:fund",
  description: "hyphae:description",
  totalQuantity: "hyphae:totalQuantity",
  proposalVersion: { "@id": "hyphae:proposalVersion", "@type": "xsd:integer" },
} as const;

const measure = (unit: string, value: string) => ({ hasUnit: unit, hasNumericalValue: value });

/** The AS 2.0 part: what Mastodon reads, and what travels inside Create/Update. */
function noteBase(origin: URL, pod: Pod, p: ProposalView): Record<string, unknown> {
  const note = proposalNoteParts({ uris: podUris(origin) }, pod, p);
  return {
    id: note.uri,
    type: "Note",
    attributedTo: podActorUrl(origin, pod.slug).href,
    name: p.name,
    content: note.contentHtml,
    url: note.url,
    published: note.published.toISOString(),
    ...(note.updated && { updated: note.updated.toISOString() }),
    to: [PUBLIC_COLLECTION.href],
    cc: [podFollowersUrl(origin, pod.slug).href],
    tag: note.tags.map((t) => ({ type: "Hashtag", href: tagUrl(origin, t).href, name: `#${t}` })),
  };
}

/** The whole proposal document as JSON-LD (compact form, the context inlined). */
export function proposalJson(origin: URL, pod: Pod, p: ProposalView): Record<string, unknown> {
  const base = noteBase(origin, pod, p);
  const id = base.id as string;
  const actor = base.attributedTo as string;
  const side = p.purpose === "offer" ? "provider" : "receiver";
  const otherSide = p.purpose === "offer" ? "receiver" : "provider";
  const intent = {
    id: `${id}#primary`,
    type: "Intent",
    action: p.action,
    ...(p.specificationUri && { resourceConformsTo: p.specificationUri }),
    resourceQuantity: measure(p.unit, p.quantity),
    availableQuantity: measure(p.unit, p.remaining),
    ...(p.minimum !== null && { minimumQuantity: measure(p.unit, p.minimum) }),
    [side]: actor,
  };
  const reciprocal = p.reciprocal && {
    id: `${id}#reciprocal`,
    type: "Intent",
    name: p.reciprocal.name,
    action: "transfer",
    ...(p.reciprocal.specificationUri && { resourceConformsTo: p.reciprocal.specificationUri }),
    resourceQuantity: p.reciprocal.quantity === null ? { hasUnit: p.reciprocal.unit } : measure(p.reciprocal.unit, p.reciprocal.quantity),
    [otherSide]: actor,
  };
  return {
    "@context": [AS_CONTEXT, PROPOSAL_CONTEXT],
    ...base,
    type: ["Note", "Proposal"],
    purpose: p.purpose,
    description: p.description,
    ...(p.location && { location: { type: "Place", name: p.location } }),
    ...(p.availableFrom && { startTime: p.availableFrom.toISOString() }),
    ...(p.availableUntil && { endTime: p.availableUntil.toISOString() }),
    expiresAt: p.expiresAt.toISOString(),
    status: p.status,
    urgent: p.urgent,
    category: p.category,
    ...(p.fund && { fund: p.fund }),
    totalQuantity: measure(p.unit, p.total),
    proposalVersion: p.version,
    publishes: intent,
    ...(reciprocal && { reciprocal }),
    ...(p.unitBased !== null && { unitBased: p.unitBased }),
  };
}

/** The Proposal document served at its id (congress-route.ts), or null when there is none. */
export async function proposalDocument(deps: ServiceDeps, slug: string, purpose: "offer" | "request", number: number): Promise<Record<string, unknown> | null> {
  const found = await findProposal(deps, slug, purpose, number);
  if (!found) return null;
  return proposalJson(deps.config.publicUrl, found.pod, found.proposal);
}

/**
 * Publisher of `proposal_published`: Create (version 1) or Update of the proposal, to
 * followers. The object is the proposal as it is now; an Update already superseded by a
 * later version is not sent (that version's own event sends the newer state).
 */
export async function publishProposal(env: PublishEnv, event: Extract<OutboundEvent, { kind: "proposal_published" }>): Promise<PublishResult> {
  const { ctx, deps, orderingKey } = env;
  const snapshot = await proposalSnapshot(deps, event.podId, event.proposalId);
  if (!snapshot) return { dropped: "its proposal no longer resolves" };
  const { pod, proposal } = snapshot;
  if (pod.retiredAt) return { dropped: "its pod retired" };
  if (event.version > 1 && event.version < proposal.version) return { dropped: `superseded by version ${proposal.version}` };
  const origin = new URL(ctx.canonicalOrigin);
  const note = await Note.fromJsonLd(
    { "@context": [AS_CONTEXT, { Hashtag: "as:Hashtag" }], ...noteBase(origin, pod, proposal) },
    { contextLoader: ctx.contextLoader, documentLoader: ctx.documentLoader },
  );
  const Kind = event.version === 1 ? Create : Update;
  const activity = new Kind({
    id: proposalActivityUrl(origin, pod.slug, proposal.purpose, proposal.number, event.version),
    actor: ctx.getActorUri(pod.slug),
    object: note,
    published: dateToInstant(event.version === 1 ? proposal.createdAt : proposal.updatedAt),
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(pod.slug),
  });
  await ctx.sendActivity({ identifier: pod.slug }, "followers", activity, { preferSharedInbox: true, orderingKey });
  return { sent: true };
}
