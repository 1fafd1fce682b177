/**
 * The steward web app's session cookie and request checks. The cookie holds a random secret
 * (its digest names the server-side session); it is HttpOnly, SameSite=Lax, Secure whenever
 * the node is served over HTTPS, and scoped to one pod's `/pods/{slug}/steward` path.
 * Every POST must come from this origin and carry the session's CSRF token.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { forbidden } from "../../domain/errors.ts";
import { csrfMatches, type StewardPrincipal } from "../../services/steward-sessions.ts";

export const SESSION_COOKIE = "hyphae_steward";

export const stewardBase = (slug: string) => `/pods/${slug}/steward`;

/** The value of one cookie in the request's Cookie header. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function cookieAttributes(publicUrl: URL, slug: string): string {
  return `Path=${stewardBase(slug)}; HttpOnly; SameSite=Lax${publicUrl.protocol === "https:" ? "; Secure" : ""}`;
}

export function setSessionCookie(reply: FastifyReply, publicUrl: URL, slug: string, secret: string, expiresAt: Date, now: Date): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  reply.header("set-cookie", `${SESSION_COOKIE}=${secret}; ${cookieAttributes(publicUrl, slug)}; Max-Age=${maxAge}`);
}

export function clearSessionCookie(reply: FastifyReply, publicUrl: URL, slug: string): void {
  reply.header("set-cookie", `${SESSION_COOKIE}=; ${cookieAttributes(publicUrl, slug)}; Max-Age=0`);
}

/**
 * A POST must come from one of our own pages: when the browser names the origin (every
 * current browser does on POST) it must be ours, and `Sec-Fetch-Site` must not say
 * cross-site. This is on top of the CSRF token, not instead of it.
 */
export function assertSameOrigin(request: FastifyRequest, publicUrl: URL): void {
  const origin = request.headers.origin;
  const site = request.headers["sec-fetch-site"];
  // A page with a no-referrer policy posts with `Origin: null`; the browser's own
  // Sec-Fetch-Site then still says whether it came from this origin.
  const nullButSameOrigin = origin === "null" && site === "same-origin";
  if (origin !== undefined && origin !== publicUrl.origin && !nullButSameOrigin) {
    throw forbidden("CSRF_ORIGIN", "This form was sent from another website, so nothing was changed.");
  }
  if (site === "cross-site") throw forbidden("CSRF_ORIGIN", "This form was sent from another website, so nothing was changed.");
}

/** The form's `_csrf` field must be this session's token. */
export function assertCsrf(principal: StewardPrincipal, sent: unknown): void {
  if (sent === undefined || sent === "") {
    throw forbidden("CSRF_MISSING", "This form arrived without its security token, so nothing was changed. Reload the page and try again.");
  }
  if (!csrfMatches(principal, sent)) {
    throw forbidden("CSRF_INVALID", "This form's security token does not match your session (it may be from an older sign-in), so nothing was changed. Reload the page and try again.");
  }
}

/** A short, coarse name for the browser ("Firefox on Android"), for the sessions list. */
export function describeDevice(userAgent: string | undefined): string {
  const ua = userAgent ?? "";
  const browser = /Firefox\//.test(ua)
    ? "Firefox"
    : /Edg\//.test(ua)
      ? "Edge"
      : /Chrom(e|ium)\//.test(ua)
        ? "Chrome"
        : /Safari\//.test(ua)
          ? "Safari"
          : "A browser";
  const system = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad|iOS/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(ua)
          ? "macOS"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  return system ? `${browser} on ${system}` : browser;
}
