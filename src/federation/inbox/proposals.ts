/**
 * Offers and needs of pods we follow, read from the dereferenced document (ours: a Note
 * co-typed Proposal; others' FEP-0837 Proposals; Bonfire's ValueFlows spellings). The
 * charter handler (inbox/charters.ts) fetches the object of a followed pod's Create or
 * Update once (signed GET) and hands proposal documents here: they are parsed by the one
 * parser (domain/congress/proposal-json.ts) and stored by the service under applyOnce, so
 * a replay changes nothing and an older copy never replaces a newer one.
 */
import type { InboxContext } from "@fedify/fedify";
import { isProposalJson, parseProposalJson } from "../../domain/congress/proposal-json.ts";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { receiveRemoteProposal } from "../../services/proposals.ts";

type Ctx = InboxContext<ServiceDeps>;

/** True when a fetched document is an offer or a need (a Proposal in any spelling). */
export function isProposalDocument(document: unknown): boolean {
  return isProposalJson(document);
}

/**
 * Stores the proposal in `document` (the dereferenced object `objectIri` by `actorIri`).
 * A document that breaks the rules is refused with a DomainError (kind invalid: logged
 * once by the inbox wrapper, never retried).
 */
export async function onProposalDocument(ctx: Ctx, document: unknown, actorIri: string, objectIri: string, ref: InboxActivityRef): Promise<void> {
  const deps = ctx.data;
  const copy = parseProposalJson(document, { actorIri, objectIri, now: deps.clock.now() });
  const outcome = await receiveRemoteProposal(deps, { ...copy, activity: ref });
  if (outcome === "not_followed") deps.log.debug("Proposal from an actor none of our pods follows: not stored", { actor: actorIri, object: objectIri });
}
