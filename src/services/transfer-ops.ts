/**
 * Admin operations of transfers between pods for the `hyphae transfer …` commands and the
 * admin socket; merged into OPS in admin-ops.ts. Answers carry dates as ISO text, the same
 * in-process and over the socket.
 */
import { z } from "zod";
import { podSlugSchema } from "../domain/pods.ts";
import * as transfers from "./transfers.ts";
import type { ServiceDeps } from "./ports.ts";

const pod = z.object({ pod: podSlugSchema });
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** A transfer as the API and the CLI print it (dates as ISO text). */
export function transferJson<T extends transfers.TransferView>(t: T) {
  return {
    ...t,
    occurredAt: t.occurredAt.toISOString(),
    acknowledgedAt: iso(t.acknowledgedAt),
    createdAt: t.createdAt.toISOString(),
    discrepancy: t.discrepancy ? { ...t.discrepancy, at: t.discrepancy.at.toISOString() } : null,
  };
}

export const TRANSFER_OPS = {
  "transfer.record": {
    args: pod.extend({ input: z.record(z.string(), z.unknown()) }),
    run: async (deps: ServiceDeps, a: { pod: string; input: Record<string, unknown> }) => transferJson(await transfers.recordTransfer(deps, a.pod, a.input)),
  },
  "transfer.list": {
    args: pod.extend({ discrepancies: z.boolean().default(false) }),
    run: async (deps: ServiceDeps, a: { pod: string; discrepancies: boolean }) =>
      (await transfers.listTransfers(deps, a.pod, { discrepanciesOnly: a.discrepancies })).map((t) => transferJson(t)),
  },
  "transfer.show": {
    args: pod.extend({ id: z.string() }),
    run: async (deps: ServiceDeps, a: { pod: string; id: string }) => transferJson(await transfers.getTransfer(deps, a.pod, a.id)),
  },
  "transfer.flag": {
    args: pod.extend({ id: z.string(), reason: z.unknown() }),
    run: async (deps: ServiceDeps, a: { pod: string; id: string; reason: unknown }) => transferJson(await transfers.flagDiscrepancy(deps, a.pod, a.id, a.reason)),
  },
} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const TRANSFER_POD_WRITES: readonly string[] = ["transfer.record", "transfer.flag"];
