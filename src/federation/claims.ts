/**
 * Claims between pods (FEP-0837 Offer(Agreement) → Accept | Reject). (Stub: filled in by
 * the claims work.)
 */
import type { OutboundEvent, ServiceDeps } from "../services/ports.ts";
import type { PublishEnv, PublishResult } from "./publish.ts";

/** Our claim's Offer activity, served at its id (congress-route.ts). */
export async function claimOfferDocument(_deps: ServiceDeps, _slug: string, _claimId: string): Promise<Record<string, unknown> | null> {
  return null;
}

/** An Agreement our pod made (accepting a claim on its proposal), served at its id. */
export async function agreementDocument(_deps: ServiceDeps, _slug: string, _claimId: string): Promise<Record<string, unknown> | null> {
  return null;
}

export async function publishClaimOffer(_env: PublishEnv, _event: Extract<OutboundEvent, { kind: "claim_offer" }>): Promise<PublishResult> {
  return { dropped: "not implemented yet" };
}

export async function publishClaimAnswer(_env: PublishEnv, _event: Extract<OutboundEvent, { kind: "claim_answer" }>): Promise<PublishResult> {
  return { dropped: "not implemented yet" };
}
