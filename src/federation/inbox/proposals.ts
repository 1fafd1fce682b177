/**
 * Offers and needs of pods we follow, read from the dereferenced document (ours: a Note
 * co-typed Proposal; others' FEP-0837 Proposals; Bonfire's ValueFlows spellings). (Stub:
 * filled in by the proposals work.)
 */
import type { InboxContext } from "@fedify/fedify";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";

type Ctx = InboxContext<ServiceDeps>;

/** True when a fetched document is an offer or a need (a Proposal in any spelling). */
export function isProposalDocument(_document: unknown): boolean {
  return false;
}

export async function onProposalDocument(_ctx: Ctx, _document: unknown, _actorIri: string, _objectIri: string, _ref: InboxActivityRef): Promise<void> {}
