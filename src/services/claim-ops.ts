/**
 * Admin operations of the congress (claims) for the `hyphae` CLI and the admin socket;
 * merged into OPS in admin-ops.ts. (Stub: filled in by the claims work.)
 */
export const CLAIM_OPS = {} as const;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const CLAIM_POD_WRITES: readonly string[] = [];
