/**
 * Offers and needs on the fediverse (FEP-0837 Proposal + Intent). (Stub: filled in by the
 * proposals work.)
 */
import type { ServiceDeps } from "../services/ports.ts";
import type { OutboundEvent } from "../services/ports.ts";
import type { PublishEnv, PublishResult } from "./publish.ts";

/** The Proposal document served at its id (congress-route.ts), or null when there is none. */
export async function proposalDocument(_deps: ServiceDeps, _slug: string, _purpose: "offer" | "request", _number: number): Promise<Record<string, unknown> | null> {
  return null;
}

/** Publisher of `proposal_published`: Create (version 1) or Update of the proposal, to followers. */
export async function publishProposal(_env: PublishEnv, _event: Extract<OutboundEvent, { kind: "proposal_published" }>): Promise<PublishResult> {
  return { dropped: "not implemented yet" };
}
