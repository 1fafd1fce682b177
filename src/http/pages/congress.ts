/** Public HTML pages of the congress: congress. (Stub: filled in by the congress work.) */
import type { FastifyInstance } from "fastify";
import type { ServiceDeps } from "../../services/ports.ts";

import type { Pod } from "../../domain/pods.ts";

/**
 * The pod page's congress section (urgent needs first, then the pod's open offers and
 * needs, and a link to its congress view). Empty until there is something to show.
 */
export async function podCongressSection(_deps: ServiceDeps, _pod: Pod): Promise<string> {
  return "";
}

export async function registerCongressPages(_app: FastifyInstance, _deps: ServiceDeps): Promise<void> {}
