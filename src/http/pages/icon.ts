/** A pod's uploaded icon, at /pods/{slug}/icon (being built; see issue 13). */
import type { FastifyInstance } from "fastify";
import type { ServiceDeps } from "../../services/ports.ts";

export async function registerIconRoute(_app: FastifyInstance, _deps: ServiceDeps): Promise<void> {}
