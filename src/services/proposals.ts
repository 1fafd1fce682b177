/**
 * Offers and needs (FEP-0837 proposals): the pod's own, and copies of its neighbours'.
 * (Partly a stub: filled in by the proposals work.)
 */
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import type { ProposalRecord } from "../db/repos/proposals.ts";
import type { ServiceDeps } from "./ports.ts";

/**
 * In the transaction that changed a proposal (and bumped its version): records the
 * outbound event that federates this version (Create at 1, Update after). Every service
 * that changes a proposal calls this (claims taking from it, withdrawals, expiry, edits).
 */
export async function recordProposalPublished(deps: ServiceDeps, trx: Transaction<Database>, proposal: ProposalRecord): Promise<void> {
  await deps.outbox.record(trx, { kind: "proposal_published", podId: proposal.podId, proposalId: proposal.id, version: proposal.version });
}

/** Marks open proposals past their expiry as expired (each federated as an Update); returns how many. */
export async function expireProposals(_deps: ServiceDeps): Promise<number> {
  return 0;
}
