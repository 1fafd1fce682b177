/**
 * Client side of the node's admin socket (see src/http/admin-socket.ts): runs one
 * operation on the node that holds the embedded database.
 */
import http from "node:http";
import { DomainError } from "../domain/errors.ts";

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
