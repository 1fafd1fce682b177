/**
 * A tiny route helper for the steward API: each route declares zod schemas for its
 * params, query, body and response. Input is validated with zod (errors name the field);
 * the same schemas produce the OpenAPI description.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { createHash } from "node:crypto";
import { invalid } from "../../domain/errors.ts";
import { parseOrThrow } from "../../domain/pods.ts";
import { findBadText } from "../../domain/text.ts";
import { withIdempotencyKey, type IdempotencyClaim } from "../../services/idempotency.ts";
import type { TokenPrincipal } from "../../services/tokens.ts";

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType> {
  method: Method;
  url: string;
  summary: string;
  auth: boolean;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  status?: number;
  /**
   * A body that is not JSON (e.g. "text/csv"): the handler reads `request.body` as the
   * table's owner parsed it (a parser registered with `onRegister`); documented as a string.
   */
  bodyMediaType?: string;
  /** Answers that are not JSON (a streamed export): their media types, documented as strings. */
  produces?: string[];
  handler: (input: {
    params: z.output<P>;
    query: z.output<Q>;
    body: z.output<B>;
    principal: TokenPrincipal | null;
    request: FastifyRequest;
    /** For headers and streamed answers (return a stream). */
    reply: FastifyReply;
  }) => Promise<z.input<R>>;
}

export type AnyRouteSpec = RouteSpec<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;

declare module "fastify" {
  interface FastifyRequest {
    principal: TokenPrincipal | null;
  }
}

/**
 * Writes may carry an `Idempotency-Key` header (1–255 visible ASCII characters): a retry
 * with the same key returns the first result instead of applying the write again.
 */
function idempotencyClaim(request: FastifyRequest, spec: AnyRouteSpec): IdempotencyClaim | null {
  const header = request.headers["idempotency-key"];
  if (header === undefined) return null;
  const key = Array.isArray(header) ? header.join(",") : header;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw invalid("INVALID_IDEMPOTENCY_KEY", "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)");
  }
  const scope = request.principal ? `pod:${request.principal.podId}` : "public";
  // A binary body (a CSV file) enters the fingerprint as its digest, not as JSON of its bytes.
  const body = ArrayBuffer.isView(request.body) ? { sha256: createHash("sha256").update(request.body as Uint8Array).digest("hex") } : request.body;
  const fingerprint = createHash("sha256")
    .update(JSON.stringify([spec.method, request.url.split("?")[0], request.query ?? null, body ?? null]))
    .digest("base64url");
  return { scope, key, fingerprint };
}

/**
 * NUL characters and lone surrogates cannot be stored as sent (PostgreSQL refuses NUL, a
 * lone surrogate would become U+FFFD): any route input carrying one is refused with 400
 * `INVALID_TEXT` naming where it is, before validation or any write.
 */
function refuseBadText(request: FastifyRequest): void {
  const inputs: Array<[string, unknown]> = [
    ["params", request.params],
    ["query", request.query],
    // A binary body (a CSV file's bytes) is checked by its route (CSV_ENCODING), not here.
    ["body", ArrayBuffer.isView(request.body) ? null : request.body],
  ];
  for (const [where, value] of inputs) {
    const bad = findBadText(value);
    if (bad) {
      const field = bad.path ? `${where}.${bad.path}` : where;
      throw invalid("INVALID_TEXT", `${field} ${bad.problem}`, { field });
    }
  }
}

export class RouteTable {
  readonly specs: AnyRouteSpec[] = [];
  readonly prefix: string;
  readonly #setups: Array<(app: FastifyInstance) => void> = [];
  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** Runs `setup` on the API's plugin instance before the routes are added (e.g. a content-type parser scoped to the API). */
  onRegister(setup: (app: FastifyInstance) => void): void {
    this.#setups.push(setup);
  }

  add<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(spec: RouteSpec<P, Q, B, R>): void {
    this.specs.push(spec as unknown as AnyRouteSpec);
  }

  register(app: FastifyInstance): void {
    for (const setup of this.#setups) setup(app);
    for (const spec of this.specs) {
      app.route({
        method: spec.method,
        url: spec.url,
        config: { auth: spec.auth },
        // Before authentication and validation: a cheap walk over the parsed input.
        preValidation: async (request) => refuseBadText(request),
        handler: async (request, reply) => {
          const params = spec.params ? parseOrThrow(spec.params, request.params) : {};
          const query = spec.query ? parseOrThrow(spec.query, request.query ?? {}) : {};
          const body = spec.body ? parseOrThrow(spec.body, request.body ?? {}) : undefined;
          const run = () => spec.handler({ params, query, body, principal: request.principal, request, reply });
          const claim = spec.method === "GET" ? null : idempotencyClaim(request, spec);
          let result: unknown;
          if (claim) {
            const outcome = await withIdempotencyKey(claim, run);
            if (outcome.replayed) reply.header("idempotent-replayed", "true");
            result = outcome.value;
          } else {
            result = await run();
          }
          reply.code(spec.status ?? 200);
          return result;
        },
      });
    }
  }

  openApi(info: { title: string; version: string; description: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const schema = (s: z.ZodType, io: "input" | "output") => z.toJSONSchema(s, { io, unrepresentable: "any" });
    for (const spec of this.specs) {
      // Relative to the server URL (the prefix), as OpenAPI resolves paths.
      const path = spec.url.replace(/:(\w+)/g, "{$1}");
      const parameters: unknown[] = [];
      for (const [where, s] of [["path", spec.params], ["query", spec.query]] as const) {
        if (!s) continue;
        const js = schema(s, "input") as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, prop] of Object.entries(js.properties ?? {})) {
          parameters.push({ name, in: where, required: where === "path" || (js.required ?? []).includes(name), schema: prop });
        }
      }
      const operation: Record<string, unknown> = {
        summary: spec.summary,
        parameters,
        responses: {
          [String(spec.status ?? 200)]: {
            description: "Success",
            content: spec.produces
              ? Object.fromEntries(spec.produces.map((type) => [type, { schema: { type: "string", description: spec.response.description ?? "" } }]))
              : { "application/json": { schema: schema(spec.response, "output") } },
          },
          ...(spec.body || spec.params || spec.query ? { "400": { $ref: "#/components/responses/Error" } } : {}),
          ...(spec.auth
            ? { "401": { $ref: "#/components/responses/Error" }, "403": { $ref: "#/components/responses/Error" } }
            : {}),
        },
        ...(spec.auth ? { security: [{ stewardToken: [] }] } : { security: [] }),
      };
      if (spec.method !== "GET") {
        parameters.push({
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description: "Send the same key again to retry safely: the first result is returned (header Idempotent-Replayed: true) and the write is not applied twice. Kept for 24 hours.",
          schema: { type: "string", minLength: 1, maxLength: 255 },
        });
      }
      if (spec.body) {
        operation.requestBody = { required: true, content: { "application/json": { schema: schema(spec.body, "input") } } };
      } else if (spec.bodyMediaType) {
        operation.requestBody = { required: true, content: { [spec.bodyMediaType]: { schema: { type: "string" } } } };
      }
      paths[path] = { ...paths[path], [spec.method.toLowerCase()]: operation };
    }
    return {
      openapi: "3.1.0",
      info,
      servers: [{ url: this.prefix }],
      paths,
      components: {
        securitySchemes: { stewardToken: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
        responses: {
          Error: {
            description: "An error with a stable code",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["error", "message"],
                  properties: { error: { type: "string" }, message: { type: "string" }, details: { type: "object" } },
                },
              },
            },
          },
        },
      },
    };
  }
}
