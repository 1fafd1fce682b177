/**
 * Admin operations of the congress (congresss) for the `hyphae` CLI and the admin socket;
 * merged into OPS in admin-ops.ts. (Stub: filled in by the congresss work.)
 */
export const CONGRESS_OPS = {} as const;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const CONGRESS_POD_WRITES: readonly string[] = [];
