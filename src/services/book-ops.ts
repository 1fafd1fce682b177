/**
 * Admin operations of the open books (resources, members, ledger) for the `hyphae` CLI
 * and the admin socket; merged into OPS in admin-ops.ts.
 */
import type { z } from "zod";
import type { ServiceDeps } from "./ports.ts";

export const BOOK_OPS = {} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Book operations that write for a pod: a retired pod refuses them. */
export const BOOK_POD_WRITES: readonly string[] = [];
