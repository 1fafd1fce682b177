/**
 * Client side of the node's admin socket (see src/http/admin-socket.ts): runs one
 * operation on the node that holds the embedded database.
 */
import http from "node:http";
import { DomainError, type ErrorKind } from "../domain/errors.ts";
import type { OpContext } from "../services/admin-ops.ts";

export class AdminSocketUnavailableError extends Error {
  readonly code = "ADMIN_SOCKET_UNAVAILABLE";
}

const KIND_BY_STATUS: Record<number, ErrorKind> = { 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "unprocessable", 503: "unavailable" };

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
          reject(new DomainError(KIND_BY_STATUS[res.statusCode ?? 0] ?? "invalid", parsed.error ?? "ADMIN_ERROR", parsed.message ?? `Admin call failed (${res.statusCode})`, parsed.details));
        });
      },
    );
    req.on("error", (error) => reject(new AdminSocketUnavailableError(`Could not reach the node's admin socket at ${path}: ${error.message}`)));
    req.end(body);
  });
}

type StreamLine =
  | { progress: Record<string, unknown> }
  | { data: string }
  | { result: unknown }
  | { error: string; kind: ErrorKind | null; message: string; details?: Record<string, unknown> };

/**
 * Runs one operation through the node's `/ops-stream/:op` route: progress lines go to
 * `context.onProgress`, output pieces to `context.write` (awaited before more is read, so
 * a slow disk or terminal slows the node's export down instead of filling memory), and
 * the last line is the result or the error.
 */
export async function callAdminSocketStream(path: string, op: string, args: unknown, context: OpContext): Promise<unknown> {
  const body = JSON.stringify(args ?? {});
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(
      { socketPath: path, path: `/ops-stream/${encodeURIComponent(op)}`, method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      resolve,
    );
    req.on("error", (error) => reject(new AdminSocketUnavailableError(`Could not reach the node's admin socket at ${path}: ${error.message}`)));
    req.end(body);
  });
  if (res.statusCode !== 200) {
    res.resume();
    throw new AdminSocketUnavailableError(
      res.statusCode === 404
        ? "The running node does not stream operations (it is older than this command): restart it, or stop it and run the command again"
        : `The node answered ${res.statusCode} to a streamed operation`,
    );
  }
  res.setEncoding("utf8");
  let pending = "";
  let last: StreamLine | undefined;
  const handle = async (line: string): Promise<void> => {
    if (line === "") return;
    let message: StreamLine;
    try {
      message = JSON.parse(line) as StreamLine;
    } catch {
      throw new AdminSocketUnavailableError("The node sent a line that is not JSON");
    }
    if ("progress" in message) context.onProgress?.(message.progress);
    else if ("data" in message) {
      if (!context.write) throw new AdminSocketUnavailableError(`The node sent output for ${op}, which this command does not expect`);
      await context.write(message.data);
    } else last = message;
  };
  for await (const chunk of res as AsyncIterable<string>) {
    pending += chunk;
    let start = 0;
    for (let end = pending.indexOf("\n"); end !== -1; end = pending.indexOf("\n", start)) {
      await handle(pending.slice(start, end));
      start = end + 1;
    }
    pending = pending.slice(start);
  }
  await handle(pending);
  if (last === undefined) throw new AdminSocketUnavailableError(`The node closed the stream before ${op} finished (did it stop?)`);
  if ("result" in last) return last.result;
  if ("error" in last) throw new DomainError(last.kind ?? "unavailable", last.error, last.message, last.details);
  throw new AdminSocketUnavailableError("The node ended the stream without a result");
}
