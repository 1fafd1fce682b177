/**
 * Public pages of the open books: the books page, its JSON export, commons receipts,
 * period summaries and the "what the city would have charged us" invoice.
 */
import type { FastifyInstance } from "fastify";
import type { ServiceDeps } from "../../services/ports.ts";

export async function registerBookPages(_app: FastifyInstance, _deps: ServiceDeps): Promise<void> {}
