/**
 * A local-only admin endpoint on a Unix socket (mode 0600, inside the data directory).
 * While a node holds the embedded database, `hyphae` commands run through it instead of
 * opening the database a second time.
 */
import fs from "node:fs";
import type { ServerResponse } from "node:http";
import nodePath from "node:path";
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
  app.post<{ Params: { op: string }; Body: unknown }>("/ops-stream/:op", (request, reply) => streamAdminOp(deps, request.params.op, request.body ?? {}, reply.hijack().raw));
  app.get("/ping", async () => ({ pid: process.pid }));
  // We hold the data directory lock, so a socket file left here belongs to a dead process.
  fs.rmSync(path, { force: true });
  app.addHook("onClose", async () => fs.rmSync(path, { force: true }));
  // Whoever can connect runs admin operations (issuing tokens): the socket is for our user
  // only. The process umask (077) creates it 0600; chmod covers a looser umask; then check,
  // since some filesystems ignore modes.
  const umask = process.umask(0o077);
  try {
    await app.listen({ path });
  } finally {
    process.umask(umask);
  }
  try {
    fs.chmodSync(path, 0o600);
    assertPrivateSocket(path);
    assertPrivateDirectory(nodePath.dirname(path));
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/**
 * `POST /ops-stream/:op` answers 200 at once with NDJSON, one JSON object a line:
 * `{"progress":{…}}` as the operation reports how far it got, `{"data":"…"}` for each
 * piece of its output (an export; written with backpressure, so a slow reader slows the
 * export instead of filling memory), then exactly one last line, `{"result":…}` or
 * `{"error":CODE,"kind":…,"message":…,"details":…}` (the status line was sent before the
 * outcome was known, so the error travels in the body). `/ops/:op` is unchanged.
 */
async function streamAdminOp(deps: ServiceDeps, op: string, args: unknown, res: ServerResponse): Promise<void> {
  res.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-store" });
  let closed = false;
  res.on("close", () => (closed = true));
  const send = async (value: unknown): Promise<void> => {
    if (closed || res.destroyed) throw new AdminStreamClosedError();
    if (!res.write(JSON.stringify(value) + "\n")) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          res.off("drain", done);
          res.off("close", done);
          if (closed) reject(new AdminStreamClosedError());
          else resolve();
        };
        res.on("drain", done);
        res.on("close", done);
      });
    }
  };
  let last: unknown;
  try {
    const result = await runAdminOp(deps, op, args, {
      // Progress is advisory: a reader that went away does not stop the operation.
      onProgress: (progress) => void send({ progress }).catch(() => {}),
      write: (chunk) => send({ data: chunk }),
    });
    last = { result: result ?? null };
  } catch (error) {
    if (error instanceof DomainError) {
      last = { error: error.code, kind: error.kind, message: error.message, ...(error.details && { details: error.details }) };
    } else if (error instanceof AdminStreamClosedError) {
      last = null;
    } else {
      deps.log.error("admin operation {op} failed: {error}", { op, error: String(error) });
      last = { error: "INTERNAL_ERROR", kind: null, message: "Something went wrong on this node" };
    }
  }
  if (last !== null && !closed) res.end(JSON.stringify(last) + "\n");
  else res.destroy();
}

/** The client of an `/ops-stream` call went away (a stopped `hyphae ledger export`). */
class AdminStreamClosedError extends Error {
  constructor() {
    super("The admin client closed the stream");
    this.name = "AdminStreamClosedError";
  }
}

/** The admin socket (or its directory) is open to other users: start-up refuses it. */
export class AdminSocketInsecureError extends Error {
  readonly code = "ADMIN_SOCKET_INSECURE";
  constructor(message: string) {
    super(message);
    this.name = "AdminSocketInsecureError";
  }
}

function assertPrivateSocket(file: string): void {
  const stat = fs.statSync(file);
  const uid = process.getuid?.();
  if ((uid !== undefined && stat.uid !== uid) || stat.mode & 0o077) {
    throw new AdminSocketInsecureError(
      `The admin socket ${file} is open to other users (mode ${(stat.mode & 0o777).toString(8)}, owner ${stat.uid}); it must be 0600 and owned by this user: chmod 600 ${file}`,
    );
  }
}

/** A directory others may write to lets them replace the socket: only sticky ones (/tmp) are fine. */
function assertPrivateDirectory(dir: string): void {
  const stat = fs.statSync(dir);
  if (stat.mode & 0o022 && !(stat.mode & 0o1000)) {
    throw new AdminSocketInsecureError(
      `The admin socket's directory ${dir} is writable by other users (mode ${(stat.mode & 0o7777).toString(8)}); fix it with: chmod go-w ${dir}`,
    );
  }
}
