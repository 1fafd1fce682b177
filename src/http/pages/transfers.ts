/** Public HTML pages of the congress: transfers. (Stub: filled in by the transfers work.) */
import type { FastifyInstance } from "fastify";
import type { ServiceDeps } from "../../services/ports.ts";

export async function registerTransferPages(_app: FastifyInstance, _deps: ServiceDeps): Promise<void> {}
