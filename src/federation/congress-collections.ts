/**
 * The collection of a pod's congress neighbours (`/pods/{slug}/neighbours`), so others can
 * see who is in whose congress. (Stub: filled in by the congress view work.)
 */
import type { ServiceDeps } from "../services/ports.ts";

export async function neighboursDocument(_deps: ServiceDeps, _slug: string, _query: URLSearchParams): Promise<Record<string, unknown> | null> {
  return null;
}
