/**
 * Errors the domain and services raise. Each carries a stable `code` that clients can
 * rely on, and a `kind` the HTTP layer maps to a status. No HTTP codes live here.
 */
export type ErrorKind = "invalid" | "unauthenticated" | "forbidden" | "not_found" | "conflict" | "unprocessable" | "unavailable";

export class DomainError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: Record<string, unknown> | undefined;
  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "DomainError";
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

export const invalid = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError("invalid", code, message, details);
export const unauthenticated = (code: string, message: string) => new DomainError("unauthenticated", code, message);
export const forbidden = (code: string, message: string) => new DomainError("forbidden", code, message);
export const notFound = (code: string, message: string) => new DomainError("not_found", code, message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new DomainError("conflict", code, message, details);
/** The request is well-formed but cannot be applied as sent (e.g. an idempotency key reused for another request). */
export const unprocessable = (code: string, message: string) => new DomainError("unprocessable", code, message);
export const unavailable = (code: string, message: string) => new DomainError("unavailable", code, message);
