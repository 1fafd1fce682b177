/**
 * Admin operations of the congress (proposals) for the `hyphae` CLI and the admin socket;
 * merged into OPS in admin-ops.ts. (Stub: filled in by the proposals work.)
 */
export const PROPOSAL_OPS = {} as const;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const PROPOSAL_POD_WRITES: readonly string[] = [];
