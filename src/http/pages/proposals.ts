/** Public HTML pages of the congress: proposals. (Stub: filled in by the proposals work.) */
import type { FastifyInstance } from "fastify";
import type { ServiceDeps } from "../../services/ports.ts";

export async function registerProposalPages(_app: FastifyInstance, _deps: ServiceDeps): Promise<void> {}
