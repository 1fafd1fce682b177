/**
 * A local-only admin endpoint on a Unix socket (mode 0600, inside the data directory).
 * While a node holds the embedded database, `hyphae` commands run through it instead of
 * opening the database a second time.
 */
import fs from "node:fs";
import http from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { DomainError } from "../domain/errors.ts";
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

export class AdminSocketUnavailableError extends Error {
  readonly code = "ADMIN_SOCKET_UNAVAILABLE";
}

/** Client side, used by the CLI: run one operation on the node behind `path`. */
export function callAdminSocket(path: string, op: string, args: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(args ?? {});
    const req = http.request(
      { socketPath: path, path: `/ops/${encodeURIComponent(op)}`, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          let parsed: { result?: unknown; error?: string; message?: string; details?: Record<string, unknown> };
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            return reject(new AdminSocketUnavailableError(`The node answered with something that is not JSON (status ${res.statusCode})`));
          }
          if (res.statusCode === 200) return resolve(parsed.result);
          const kind = res.statusCode === 404 ? "not_found" : res.statusCode === 409 ? "conflict" : res.statusCode === 401 ? "unauthenticated" : res.statusCode === 503 ? "unavailable" : "invalid";
          reject(new DomainError(kind, parsed.error ?? "ADMIN_ERROR", parsed.message ?? `Admin call failed (${res.statusCode})`, parsed.details));
        });
      },
    );
    req.on("error", (error) => reject(new AdminSocketUnavailableError(`Could not reach the node's admin socket at ${path}: ${error.message}`)));
    req.end(body);
  });
}
