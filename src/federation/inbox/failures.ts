/**
 * Why an inbox handler failed, and whether trying again can help.
 *
 * - transient: the network, a timeout, a 5xx/408/429 answer, a serialisation conflict or a
 *   deadlock, a lost database connection. Rethrown, so Fedify's queue retries with backoff.
 * - refused: the input can never be applied as sent (a domain rule, text with NUL or lone
 *   surrogates, a value over a column's limit, a broken constraint, a remote document that
 *   is gone or not JSON). Logged once at warn and not retried.
 * - fault: anything else is our own fault. Logged once at error; retrying the same input
 *   would fail the same way, so it is not retried either.
 */
import { DomainError } from "../../domain/errors.ts";

export type InboxFailure =
  | { kind: "transient"; reason: string }
  | { kind: "refused"; code: string; reason: string }
  | { kind: "fault"; reason: string };

/** Node and undici network error codes. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ESOCKETTIMEDOUT",
]);

/** SQLSTATE classes that pass: connection, resources, operator intervention, system errors, transaction rollback. */
const TRANSIENT_SQL_CLASSES = new Set(["08", "40", "53", "57", "58"]);

function codeOf(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function classifyInboxFailure(error: unknown): InboxFailure {
  const reason = messageOf(error);
  if (error instanceof DomainError) {
    return error.kind === "unavailable" ? { kind: "transient", reason } : { kind: "refused", code: error.code, reason };
  }
  const code = codeOf(error);
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    const cls = code.slice(0, 2);
    if (TRANSIENT_SQL_CLASSES.has(cls) || code === "55P03") return { kind: "transient", reason };
    if (code === "22021" || code === "22P05") return { kind: "refused", code: "BAD_TEXT", reason };
    if (code === "22001") return { kind: "refused", code: "VALUE_TOO_LONG", reason };
    if (cls === "22") return { kind: "refused", code: "UNSTORABLE_VALUE", reason };
    if (cls === "23") return { kind: "refused", code: "CONSTRAINT_VIOLATION", reason };
    return { kind: "fault", reason };
  }
  if (error instanceof Error) {
    if (error.name === "FetchError") {
      const status = (error as { response?: { status?: unknown } }).response?.status;
      if (typeof status === "number" && (status >= 500 || status === 408 || status === 429)) return { kind: "transient", reason };
      return { kind: "refused", code: "REMOTE_DOCUMENT_UNAVAILABLE", reason };
    }
    if (error.name === "AbortError" || error.name === "TimeoutError") return { kind: "transient", reason };
    if (error.name === "UrlError") return { kind: "refused", code: "REMOTE_URL_REFUSED", reason };
    if (error instanceof SyntaxError) return { kind: "refused", code: "INVALID_JSON", reason };
    if (isNetworkError(error)) return { kind: "transient", reason };
  }
  return { kind: "fault", reason };
}

function isNetworkError(error: Error): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = codeOf(e);
    if (code && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR_"))) return true;
  }
  // fetch() rejects with "fetch failed" for network errors; pg loses its connection without a code.
  return /^fetch failed$|Connection terminated|Client has encountered a connection error|connection is closed/i.test(error.message);
}
