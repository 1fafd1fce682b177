/**
 * The steward web app under `/pods/{slug}/steward/`: server-rendered forms for everything
 * the CLI and the steward API do, for stewards signed in with a one-time link. Each page
 * module registers its routes on this scope; they call the same services as the API.
 *
 * This scope alone parses form bodies (urlencoded, and multipart for uploads), checks the
 * session cookie before any handler runs, and answers errors as HTML pages.
 */
import formbody from "@fastify/formbody";
import multipart from "@fastify/multipart";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import { html } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { signInPath, verifySessionOfPod } from "../../services/steward-sessions.ts";
import { sendPage, statusOf } from "./forms.ts";
import { plainStewardPage } from "./layout.ts";
import { clearSessionCookie, readCookie, SESSION_COOKIE } from "./session.ts";
import { CONTENT_SECURITY_POLICY } from "../security.ts";
import { readFileSync } from "node:fs";
import { SignInLimiter } from "./limits.ts";
import { registerAuthPages } from "./auth.ts";
import { registerHomePage } from "./home.ts";
import { registerCharterForms } from "./charter.ts";
import { registerProfileForms } from "./profile.ts";
import { registerFollowForms } from "./follows.ts";
import { registerBookForms } from "./books.ts";
import { registerProposalForms } from "./offers.ts";
import { registerClaimForms } from "./claims.ts";
import { registerCongressForms } from "./congress.ts";
import { registerTokenForms } from "./tokens.ts";
import { registerPasskeyRoutes } from "./passkeys.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Steward routes reachable without a session (the sign-in page). */
    stewardPublic?: boolean;
  }
}

/**
 * The public pages' policy, plus this node's own scripts and requests: the steward pages load
 * their scripts from here (assets/enhance.js, and assets/passkeys.js on the Stewards and
 * sign-in pages), never inline, never from elsewhere.
 */
export const STEWARD_CONTENT_SECURITY_POLICY = `${CONTENT_SECURITY_POLICY}; script-src 'self'; connect-src 'self'`;

const ENHANCE_JS = readFileSync(new URL("./assets/enhance.js", import.meta.url));

/** Upload limits: the largest file any steward form takes (a CSV import); each form sets its own lower cap. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

function errorPage(deps: ServiceDeps, request: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string) {
  const slug = (request.params as { slug?: string } | undefined)?.slug ?? "";
  const signIn = status === 401 && slug;
  const body = html`<h1>${status === 401 ? "Please sign in" : status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Something went wrong"}</h1>
<p>${message}</p>
${signIn ? html`<p>Stewards sign in with a one-time link. Ask another steward of the pod for one (Stewards page → "Invite a steward"), or the node's operator: <code>npx hyphae steward invite --pod ${slug}</code>.</p>` : ""}
<p class="muted small">Error code: <code>${code}</code></p>
<p>${slug ? html`<a href="/pods/${slug}">Back to the pod's page</a>` : html`<a href="/">Back to the front page</a>`}</p>`;
  return sendPage(reply, plainStewardPage(deps, { title: status === 401 ? "Please sign in" : "Error", url: slug ? signInPath(slug) : "/" }, body), status);
}

export async function registerStewardWeb(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  await app.register(
    async (scope) => {
      await scope.register(formbody, { bodyLimit: 512 * 1024 });
      await scope.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 4, fields: 200, fieldSize: 256 * 1024 } });
      scope.decorateRequest("steward", null);

      scope.addHook("onRequest", async (_request, reply) => {
        reply.header("cache-control", "no-store");
        reply.header("x-robots-tag", "noindex, nofollow");
        // Sign-in links are in URLs: a steward page's address goes to no other site. Not
        // "no-referrer": with it, browsers send `Origin: null` on our own forms.
        reply.header("referrer-policy", "same-origin");
        reply.header("content-security-policy", STEWARD_CONTENT_SECURITY_POLICY);
      });

      // Sessionless POSTs (a sign-in link used, a passkey challenge asked for or answered): a
      // limit per address, so a script cannot fill the challenge table or the logs.
      const limiter = new SignInLimiter(deps.config.stewardSignInRateLimit);
      scope.addHook("onRequest", async (request, reply) => {
        if (request.method !== "POST" || !request.routeOptions.config?.stewardPublic) return;
        const wait = limiter.take(request.ip);
        if (wait === 0) return;
        reply.header("retry-after", String(wait));
        const message = `Too many sign-in attempts from this address; try again in ${wait} s.`;
        if (/json/.test(String(request.headers["content-type"] ?? ""))) return reply.code(429).send({ error: "TOO_MANY_SIGN_INS", message });
        return errorPage(deps, request, reply, 429, "TOO_MANY_SIGN_INS", message);
      });

      // Progressive enhancement (every page works without it).
      scope.get("/enhance.js", { config: { stewardPublic: true } }, async (_request, reply) =>
        reply.header("content-type", "text/javascript; charset=utf-8").header("cache-control", "public, max-age=3600").send(ENHANCE_JS),
      );

      // Every route but the sign-in page needs a session for this very pod.
      scope.addHook("preHandler", async (request, reply) => {
        if (request.routeOptions.config?.stewardPublic) return;
        const slug = (request.params as { slug: string }).slug;
        try {
          request.steward = await verifySessionOfPod(deps, slug, readCookie(request, SESSION_COOKIE));
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          // A dead cookie is cleared so the browser stops sending it (never another pod's: its path differs).
          if (error.kind === "unauthenticated" && readCookie(request, SESSION_COOKIE)) clearSessionCookie(reply, deps.config.publicUrl, slug);
          return errorPage(deps, request, reply, statusOf(error), error.code, error.message);
        }
      });

      scope.setErrorHandler((error: FastifyError | DomainError | Error, request, reply) => {
        if (error instanceof DomainError) return errorPage(deps, request, reply, statusOf(error), error.code, error.message);
        const status = (error as FastifyError).statusCode;
        const code = (error as FastifyError).code;
        if (code === "FST_REQ_FILE_TOO_LARGE" || code === "FST_CTP_BODY_TOO_LARGE" || code === "FST_ERR_CTP_BODY_TOO_LARGE") {
          return errorPage(deps, request, reply, 413, "PAYLOAD_TOO_LARGE", "What you sent is too large for this form, so nothing was saved.");
        }
        if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
          return errorPage(deps, request, reply, 415, "UNSUPPORTED_MEDIA_TYPE", "This page takes only its own forms, so nothing was saved.");
        }
        if (status && status >= 400 && status < 500) return errorPage(deps, request, reply, status, "BAD_REQUEST", "This request could not be read, so nothing was saved.");
        request.log.error({ err: error }, "steward page failed");
        return errorPage(deps, request, reply, 500, "INTERNAL_ERROR", "Something went wrong on this node. Try again, and tell the node's operator if it keeps happening.");
      });

      registerAuthPages(scope, deps);
      registerHomePage(scope, deps);
      registerCharterForms(scope, deps);
      registerProfileForms(scope, deps);
      registerFollowForms(scope, deps);
      registerBookForms(scope, deps);
      registerProposalForms(scope, deps);
      registerClaimForms(scope, deps);
      registerCongressForms(scope, deps);
      registerTokenForms(scope, deps);
      registerPasskeyRoutes(scope, deps);
    },
    { prefix: "/pods/:slug/steward" },
  );
}
