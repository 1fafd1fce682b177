/**
 * One error handler for the whole app: DomainErrors keep their stable code and map to
 * a status by kind; framework errors get codes of their own; 5xx messages are hidden.
 */
import type { FastifyError, FastifyInstance } from "fastify";
import { DomainError, type ErrorKind } from "../domain/errors.ts";

/** The HTTP status of each kind of DomainError (the API's and the steward pages' alike). */
export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  unavailable: 503,
};

const FRAMEWORK_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: "MALFORMED_JSON" },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: "MALFORMED_JSON" },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: "PAYLOAD_TOO_LARGE" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: "BAD_CONTENT_LENGTH" },
};

export interface ErrorBody {
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | DomainError | Error, request, reply) => {
    if (error instanceof DomainError) {
      const body: ErrorBody = { error: error.code, message: error.message, ...(error.details && { details: error.details }) };
      if (error.kind === "unauthenticated") reply.header("www-authenticate", `Bearer error="invalid_token"`);
      return reply.code(STATUS_OF_KIND[error.kind]).send(body);
    }
    const code = (error as FastifyError).code;
    const known = code ? FRAMEWORK_CODES[code] : undefined;
    if (known) return reply.code(known.status).send({ error: known.code, message: error.message } satisfies ErrorBody);
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return reply.code(status).send({ error: "BAD_REQUEST", message: error.message } satisfies ErrorBody);
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "INTERNAL_ERROR", message: "Something went wrong on this node" } satisfies ErrorBody);
  });
}
