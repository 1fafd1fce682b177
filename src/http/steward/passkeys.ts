/**
 * The passkey ceremonies of the steward pages, as small JSON exchanges with assets/passkeys.js
 * (WebAuthn has no HTML-only form). Adding a passkey needs the session, its CSRF token in the
 * X-CSRF-Token header and our own origin; signing in with one has no session yet, so it rests
 * on the origin check and the single-use challenge the service keeps. The pages that offer
 * these (Stewards, sign-in) are in auth.ts; everything works without them.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import * as passkeys from "../../services/steward-passkeys.ts";
import * as sessions from "../../services/steward-sessions.ts";
import { statusOf } from "./forms.ts";
import { assertCsrf, assertSameOrigin, describeDevice, readCookie, SESSION_COOKIE, setSessionCookie, stewardBase } from "./session.ts";

const PASSKEYS_JS = readFileSync(new URL("./assets/passkeys.js", import.meta.url));

/** Runs a JSON exchange: its DomainError becomes `{ error, message, field? }` with the kind's status. */
async function json(reply: FastifyReply, work: () => Promise<unknown>) {
  try {
    return reply.code(200).header("content-type", "application/json; charset=utf-8").send(JSON.stringify(await work()));
  } catch (error) {
    if (!(error instanceof DomainError) || error.kind === "unavailable") throw error;
    const field = typeof error.details?.field === "string" ? error.details.field : undefined;
    return reply
      .code(error.code === "POD_NOT_FOUND" ? 404 : statusOf(error))
      .header("content-type", "application/json; charset=utf-8")
      .send(JSON.stringify({ error: error.code, message: error.message, ...(field && { field }) }));
  }
}

const bodyOf = (request: FastifyRequest) => (request.body && typeof request.body === "object" ? (request.body as Record<string, unknown>) : {});

export function registerPasskeyRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get("/passkeys.js", { config: { stewardPublic: true } }, async (_request, reply) =>
    reply.header("content-type", "text/javascript; charset=utf-8").header("cache-control", "public, max-age=3600").send(PASSKEYS_JS),
  );

  // Signed in: the steward adds a passkey for themselves.
  app.post("/passkeys/register/options", async (request, reply) =>
    json(reply, async () => {
      const { principal } = request.steward!;
      assertSameOrigin(request, deps.config.publicUrl);
      assertCsrf(principal, request.headers["x-csrf-token"]);
      return passkeys.startRegistration(deps, principal);
    }),
  );

  app.post("/passkeys/register", async (request, reply) =>
    json(reply, async () => {
      const { principal, pod } = request.steward!;
      assertSameOrigin(request, deps.config.publicUrl);
      assertCsrf(principal, request.headers["x-csrf-token"]);
      const body = bodyOf(request);
      const added = await passkeys.finishRegistration(deps, principal, { name: body.name, response: body.response });
      return { added: { id: added.id, name: added.name }, next: `${stewardBase(pod.slug)}/stewards?done=passkey-added#passkeys` };
    }),
  );

  // Not signed in: a passkey opens a session as a sign-in link does.
  app.post<{ Params: { slug: string } }>("/passkeys/sign-in/options", { config: { stewardPublic: true } }, async (request, reply) =>
    json(reply, async () => {
      assertSameOrigin(request, deps.config.publicUrl);
      return passkeys.startSignIn(deps, request.params.slug);
    }),
  );

  app.post<{ Params: { slug: string } }>("/passkeys/sign-in", { config: { stewardPublic: true } }, async (request, reply) =>
    json(reply, async () => {
      const { slug } = request.params;
      assertSameOrigin(request, deps.config.publicUrl);
      const opened = await passkeys.finishSignIn(deps, { podSlug: slug, response: bodyOf(request).response, device: describeDevice(request.headers["user-agent"]) });
      // A browser signing in again leaves no orphaned session behind.
      const previous = readCookie(request, SESSION_COOKIE);
      if (previous) {
        const old = await sessions.verifySession(deps, slug, previous).catch(() => null);
        if (old) await sessions.endSession(deps, slug, old.sessionId);
      }
      setSessionCookie(reply, deps.config.publicUrl, slug, opened.secret, opened.principal.expiresAt, deps.clock.now());
      return { signedIn: { stewardNumber: opened.principal.stewardNumber }, next: `${stewardBase(slug)}/?done=signed-in` };
    }),
  );
}
