/**
 * Admin operations of claims for the `hyphae` CLI (`hyphae claim …`, `hyphae claims …`)
 * and the admin socket; merged into OPS in admin-ops.ts.
 */
import { z } from "zod";
import { podSlugSchema } from "../domain/pods.ts";
import * as claims from "./claims.ts";
import type { ServiceDeps } from "./ports.ts";

const pod = z.object({ pod: podSlugSchema });
const one = pod.extend({ id: z.string().min(1) });

export const CLAIM_OPS = {
  "claim.make": {
    args: pod.extend({ proposal: z.string().min(1), quantity: z.string().min(1), resource: z.string().optional() }),
    run: (deps: ServiceDeps, a: { pod: string; proposal: string; quantity: string; resource?: string }) =>
      claims.makeClaim(deps, a.pod, { proposal: a.proposal, quantity: a.quantity, ...(a.resource !== undefined && { resource: a.resource }) }),
  },
  "claim.list": {
    args: pod.extend({ direction: z.enum(["incoming", "outgoing"]).optional(), status: z.enum(["pending", "accepted", "rejected"]).optional() }),
    run: (deps: ServiceDeps, a: { pod: string; direction?: "incoming" | "outgoing"; status?: "pending" | "accepted" | "rejected" }) =>
      claims.listClaims(deps, a.pod, { ...(a.direction && { direction: a.direction }), ...(a.status && { status: a.status }) }),
  },
  "claim.show": { args: one, run: (deps: ServiceDeps, a: { pod: string; id: string }) => claims.getClaim(deps, a.pod, a.id) },
  "claim.accept": { args: one, run: (deps: ServiceDeps, a: { pod: string; id: string }) => claims.acceptClaim(deps, a.pod, a.id) },
  "claim.reject": {
    args: one.extend({ reason: z.string().optional() }),
    run: (deps: ServiceDeps, a: { pod: string; id: string; reason?: string }) => claims.rejectClaim(deps, a.pod, a.id, a.reason),
  },
  "claim.rules": {
    args: pod.extend({ patch: z.record(z.string(), z.unknown()).optional() }),
    run: (deps: ServiceDeps, a: { pod: string; patch?: Record<string, unknown> }) =>
      a.patch && Object.keys(a.patch).length > 0 ? claims.updateClaimRules(deps, a.pod, a.patch) : claims.getClaimRules(deps, a.pod),
  },
} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const CLAIM_POD_WRITES: readonly string[] = ["claim.make", "claim.accept", "claim.reject", "claim.rules"];
