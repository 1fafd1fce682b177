/**
 * Admin operations of the congress (transfers) for the `hyphae` CLI and the admin socket;
 * merged into OPS in admin-ops.ts. (Stub: filled in by the transfers work.)
 */
export const TRANSFER_OPS = {} as const;

/** Operations that change a pod or publish for it: a retired pod refuses them. */
export const TRANSFER_POD_WRITES: readonly string[] = [];
