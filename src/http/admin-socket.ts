/**
 * A local-only admin endpoint on a Unix socket (mode 0600, inside the data directory).
 * While a node holds the embedded database, `hyphae` commands run through it instead of
 * opening the database a second time.
 */
import fs from "node:fs";
import Fastify, { type FastifyInstance } from "fastify";
import { runAdminOp } from "../services/admin-ops.ts";
import type { ServiceDeps } from "../services/ports.ts";
import { installErrorHandler } from "./errors.ts";

export async function startAdminSocket(path: string, deps: ServiceDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  app.post<{ Params: { op: string }; Body: unknown }>("/ops/:op", async (request) => ({
    result: await runAdminOp(deps, request.params.op, request.body ?? {}),
  }));
  app.get("/ping", async () => ({ pid: process.pid }));
  // We hold the data directory lock, so a socket file left here belongs to a dead process.
  fs.rmSync(path, { force: true });
  app.addHook("onClose", async () => fs.rmSync(path, { force: true }));
  await app.listen({ path });
  fs.chmodSync(path, 0o600);
  return app;
}
