/**
 * Claims between pods: ours on neighbours' proposals (outgoing) and theirs on ours
 * (incoming), with the pod's rules for answering them. (Partly a stub: filled in by the
 * claims work.)
 */
import { findPodWithClaimsWith } from "../db/repos/claims.ts";
import type { ServiceDeps } from "./ports.ts";

/**
 * One of our pods that has a claim with this actor (either direction), or null: the inbox
 * reads a transfer from a pod it does not follow (any more) when an agreement binds them.
 */
export function podWithClaimsWith(deps: ServiceDeps, actorIri: string): Promise<string | null> {
  return findPodWithClaimsWith(deps.db, actorIri);
}
