/**
 * Admin operations of offers and needs for the `hyphae` CLI (`hyphae offer …`, `hyphae
 * need …`) and the admin socket; merged into OPS in admin-ops.ts. Arguments travel as
 * JSON; the input and patch objects reach the service as sent (it checks them and answers
 * with stable codes naming the field).
 */
import { z } from "zod";
import { podSlugSchema } from "../domain/pods.ts";
import * as proposals from "./proposals.ts";
import type { ServiceDeps } from "./ports.ts";

const purpose = z.enum(["offer", "need"]);
const target = z.object({ pod: podSlugSchema, purpose, number: z.number().int().min(1) });

export const PROPOSAL_OPS = {
  "proposal.add": {
    args: z.object({ pod: podSlugSchema, purpose, input: z.record(z.string(), z.unknown()) }),
    run: (deps: ServiceDeps, a: { pod: string; purpose: "offer" | "need"; input: Record<string, unknown> }) =>
      proposals.createProposal(deps, a.pod, a.purpose, a.input),
  },
  "proposal.list": {
    args: z.object({ pod: podSlugSchema, purpose, status: z.string().default("open") }),
    run: (deps: ServiceDeps, a: { pod: string; purpose: "offer" | "need"; status: string }) => proposals.listProposals(deps, a.pod, a.purpose, { status: a.status }),
  },
  "proposal.show": {
    args: target,
    run: (deps: ServiceDeps, a: { pod: string; purpose: "offer" | "need"; number: number }) => proposals.getProposal(deps, a.pod, a.purpose, a.number),
  },
  "proposal.update": {
    args: target.extend({ patch: z.record(z.string(), z.unknown()) }),
    run: (deps: ServiceDeps, a: { pod: string; purpose: "offer" | "need"; number: number; patch: Record<string, unknown> }) =>
      proposals.updateProposal(deps, a.pod, a.purpose, a.number, a.patch),
  },
  "proposal.withdraw": {
    args: target,
    run: (deps: ServiceDeps, a: { pod: string; purpose: "offer" | "need"; number: number }) => proposals.withdrawProposal(deps, a.pod, a.purpose, a.number),
  },
} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const PROPOSAL_POD_WRITES: readonly string[] = ["proposal.add", "proposal.update", "proposal.withdraw"];
