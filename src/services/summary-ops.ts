/**
 * Admin operations of period summaries and sovereignty indicators for the `hyphae` CLI
 * and the admin socket; merged into OPS in admin-ops.ts.
 */
import type { z } from "zod";
import type { ServiceDeps } from "./ports.ts";

export const SUMMARY_OPS = {} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Summary operations that write for a pod: a retired pod refuses them. */
export const SUMMARY_POD_WRITES: readonly string[] = [];
