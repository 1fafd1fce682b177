/**
 * Admin operations of the congress for the `hyphae` CLI (`hyphae congress show`, `hyphae
 * congress neighbours`) and the admin socket; merged into OPS in admin-ops.ts. Both only
 * read: the view is the one the page and its JSON show (services/congress.ts).
 */
import { z } from "zod";
import { podSlugSchema } from "../domain/pods.ts";
import { congressView, listNeighbours } from "./congress.ts";
import type { ServiceDeps } from "./ports.ts";

export const CONGRESS_OPS = {
  "congress.show": {
    args: z.object({ pod: podSlugSchema }),
    run: (deps: ServiceDeps, a: { pod: string }) => congressView(deps, a.pod),
  },
  "congress.neighbours": {
    args: z.object({ pod: podSlugSchema }),
    run: (deps: ServiceDeps, a: { pod: string }) => listNeighbours(deps, a.pod),
  },
} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Operations that change a pod or publish for it: none here (the congress view only reads). */
export const CONGRESS_POD_WRITES: readonly string[] = [];
