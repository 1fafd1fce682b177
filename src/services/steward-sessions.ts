/**
 * Stewards in the web app: one-time sign-in links, server-side sessions, handing over.
 *
 * A link carries a random secret; only its SHA-256 digest is stored, and taking it is one
 * conditional UPDATE, so a link signs in exactly once even when two browsers race. A session
 * is a random secret in a cookie whose digest names the row; ending it (sign out, or another
 * steward ending it) takes effect on the next request. Stewards are known by their pod and
 * number ("Steward 3"), never by name.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { forbidden, invalid, notFound, unauthenticated } from "../domain/errors.ts";
import type { Kysely } from "kysely";
import * as repo from "../db/repos/stewards.ts";
import { deleteStewardPasskeys } from "../db/repos/passkeys.ts";
import type { Database } from "../db/schema.ts";
import { writeOnce } from "./idempotency.ts";
import { getActivePod, getPod } from "./pods.ts";
import type { Pod } from "../domain/pods.ts";
import type { ServiceDeps } from "./ports.ts";

/** How often a session's last-seen time is written (not on every request). */
const TOUCH_EVERY_MS = 5 * 60_000;

const secret = () => randomBytes(32).toString("base64url");
const digest = (value: string) => createHash("sha256").update(value).digest("hex");
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface StewardPrincipal {
  sessionId: string;
  podId: string;
  podSlug: string;
  stewardId: string;
  stewardNumber: number;
  csrfToken: string;
  expiresAt: Date;
}

export interface IssuedInvite {
  /**
   * The sign-in link, shown once. Null when this was a repeat of a form already sent (the
   * same one-time form key): the first answer showed the link, and no second link was made.
   */
  url: string | null;
  podSlug: string;
  expiresAt: Date;
  /** The steward it signs in again, or null for a new steward. */
  stewardNumber: number | null;
}

/** The sign-in page of a pod: where a link leads and where its form posts. */
export const signInPath = (podSlug: string) => `/pods/${podSlug}/steward/sign-in`;

/**
 * A one-time sign-in link. Without `stewardId` it makes a new steward (an invitation, from the
 * CLI or a signed-in steward); with it, it signs that steward in again on another device.
 */
export async function createInvite(
  deps: ServiceDeps,
  input: { podSlug: string; createdBy?: string | null; stewardId?: string | null; minutes?: number },
): Promise<IssuedInvite> {
  const pod = await getActivePod(deps, input.podSlug);
  const minutes = input.minutes ?? deps.config.stewardInviteMinutes;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 10_080) {
    throw invalid("INVALID_INVITE_MINUTES", "A sign-in link lasts from 1 minute to 7 days (10080 minutes)", { field: "minutes" });
  }
  let stewardNumber: number | null = null;
  if (input.stewardId) {
    const steward = await repo.getSteward(deps.db, input.stewardId);
    if (!steward || steward.podId !== pod.id) throw notFound("STEWARD_NOT_FOUND", "No such steward in this pod");
    if (steward.endedAt) throw invalid("STEWARD_ENDED", `Steward ${steward.number} has stepped down`);
    stewardNumber = steward.number;
  }
  const value = secret();
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + minutes * 60_000);
  const id = deps.ids.uuid();
  // Under a form's one-time key, a repeat finds the first invite's id (never its secret, which is not kept).
  const made = await writeOnce(deps, async (trx) => {
    await repo.insertInvite(trx, {
      id,
      podId: pod.id,
      secretDigest: digest(value),
      stewardId: input.stewardId ?? null,
      createdBy: input.createdBy ?? null,
      createdAt: now,
      expiresAt,
    });
    return { id, expiresAt: expiresAt.toISOString() };
  });
  if (made.id !== id) return { url: null, podSlug: pod.slug, expiresAt: new Date(made.expiresAt), stewardNumber };
  const url = new URL(signInPath(pod.slug), deps.config.publicUrl);
  url.searchParams.set("link", value);
  return { url: url.href, podSlug: pod.slug, expiresAt, stewardNumber };
}

/** Why a link cannot be used, in a stable code and plain words; null when it can. */
export async function checkInvite(deps: ServiceDeps, podSlug: string, link: string | undefined): Promise<{ code: string; message: string } | null> {
  const pod = await getPod(deps, podSlug);
  if (!link || !SECRET_SHAPE.test(link)) return { code: "INVITE_INVALID", message: "This sign-in link is not complete. Copy the whole link, or ask a steward for a new one." };
  const invite = await repo.findInviteByDigest(deps.db, digest(link));
  return explain(deps, invite, pod.id);
}

function explain(deps: ServiceDeps, invite: repo.InviteRecord | null, podId: string): { code: string; message: string } | null {
  if (!invite) return { code: "INVITE_INVALID", message: "This sign-in link is not one this node made. Ask a steward of the pod for a new one." };
  if (invite.podId !== podId) return { code: "INVITE_OTHER_POD", message: "This sign-in link is for another pod on this node." };
  if (invite.usedAt) return { code: "INVITE_USED", message: "This sign-in link has already been used: each link signs in once. Ask a steward for a new one." };
  if (invite.expiresAt <= deps.clock.now()) return { code: "INVITE_EXPIRED", message: "This sign-in link has expired. Ask a steward for a new one." };
  return null;
}

export interface NewSession {
  /** The cookie's value, shown to nobody else. */
  secret: string;
  principal: StewardPrincipal;
}

/**
 * Opens a session for a steward of a pod, in the caller's transaction: the one way in, for a
 * sign-in link and for a passkey alike (same cookie, same principal, same lifetime).
 */
export async function openSession(
  deps: ServiceDeps,
  trx: Kysely<Database>,
  input: { pod: { id: string; slug: string }; steward: { id: string; number: number }; device?: string; now: Date },
): Promise<NewSession> {
  const sessionSecret = secret();
  const csrfToken = secret();
  const expiresAt = new Date(input.now.getTime() + deps.config.stewardSessionDays * 86_400_000);
  const sessionId = deps.ids.uuid();
  await repo.insertSession(trx, {
    id: sessionId,
    podId: input.pod.id,
    stewardId: input.steward.id,
    secretDigest: digest(sessionSecret),
    csrfToken,
    device: (input.device ?? "").slice(0, 80),
    createdAt: input.now,
    expiresAt,
  });
  return {
    secret: sessionSecret,
    principal: { sessionId, podId: input.pod.id, podSlug: input.pod.slug, stewardId: input.steward.id, stewardNumber: input.steward.number, csrfToken, expiresAt },
  };
}

/** Takes a sign-in link (once) and opens a session; a new steward is recorded when the link makes one. */
export async function redeemInvite(deps: ServiceDeps, input: { podSlug: string; link: string; device?: string }): Promise<NewSession> {
  const pod = await getActivePod(deps, input.podSlug);
  const link = input.link;
  if (!SECRET_SHAPE.test(link)) throw unauthenticated("INVITE_INVALID", "This sign-in link is not complete. Copy the whole link, or ask a steward for a new one.");
  const now = deps.clock.now();
  const opened = await deps.db.transaction().execute(async (trx) => {
    const invite = await repo.takeInvite(trx, digest(link), pod.id, now);
    if (!invite) return null;
    let steward = invite.stewardId ? await repo.getSteward(trx, invite.stewardId) : null;
    if (steward?.endedAt) return null;
    steward ??= await repo.insertSteward(trx, { id: deps.ids.uuid(), podId: pod.id, invitedBy: invite.createdBy, createdAt: now });
    return openSession(deps, trx, { pod, steward, device: input.device, now });
  });
  if (!opened) {
    const why = explain(deps, await repo.findInviteByDigest(deps.db, digest(link)), pod.id) ?? { code: "INVITE_INVALID", message: "This sign-in link cannot be used. Ask a steward for a new one." };
    throw unauthenticated(why.code, why.message);
  }
  return opened;
}

/**
 * The steward a session cookie belongs to, for this pod. Each failure has its own code:
 * SESSION_MISSING, SESSION_INVALID, SESSION_ENDED, SESSION_EXPIRED (401) and
 * SESSION_OTHER_POD (403).
 */
export async function verifySession(deps: ServiceDeps, podSlug: string, cookie: string | undefined): Promise<StewardPrincipal> {
  return (await verifySessionOfPod(deps, podSlug, cookie)).principal;
}

/** verifySession, answering the pod it read too (a steward page needs both; one read, not two). */
export async function verifySessionOfPod(deps: ServiceDeps, podSlug: string, cookie: string | undefined): Promise<{ principal: StewardPrincipal; pod: Pod }> {
  if (!cookie) throw unauthenticated("SESSION_MISSING", "Sign in with a steward's sign-in link first.");
  if (!SECRET_SHAPE.test(cookie)) throw unauthenticated("SESSION_INVALID", "This browser's sign-in is not valid. Sign in again with a new link.");
  const [pod, session] = await Promise.all([getPod(deps, podSlug), repo.findSessionByDigest(deps.db, digest(cookie))]);
  if (!session) throw unauthenticated("SESSION_INVALID", "This browser's sign-in is not known here. Sign in again with a new link.");
  if (session.podId !== pod.id) throw forbidden("SESSION_OTHER_POD", "You are signed in as a steward of another pod, not of this one.");
  if (session.endedAt || session.stewardEndedAt) throw unauthenticated("SESSION_ENDED", "This session was ended. Sign in again with a new link.");
  const now = deps.clock.now();
  if (session.expiresAt <= now) throw unauthenticated("SESSION_EXPIRED", "This session has expired. Sign in again with a new link.");
  if (pod.retiredAt) throw forbidden("POD_RETIRED", "This pod has retired; its stewards can no longer change it.");
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) await repo.touchSession(deps.db, session.id, now);
  const principal = {
    sessionId: session.id,
    podId: pod.id,
    podSlug: pod.slug,
    stewardId: session.stewardId,
    stewardNumber: session.stewardNumber,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt,
  };
  return { principal, pod };
}

/** Compares a form's CSRF token with the session's in constant time. */
export function csrfMatches(principal: StewardPrincipal, sent: unknown): boolean {
  if (typeof sent !== "string" || sent.length !== principal.csrfToken.length) return false;
  return timingSafeEqual(Buffer.from(sent), Buffer.from(principal.csrfToken));
}

export interface SessionView {
  id: string;
  stewardNumber: number;
  device: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export async function listSessions(deps: ServiceDeps, podSlug: string): Promise<SessionView[]> {
  const pod = await getPod(deps, podSlug);
  const sessions = await repo.listLiveSessions(deps.db, pod.id, deps.clock.now());
  return sessions.map((s) => ({ id: s.id, stewardNumber: s.stewardNumber, device: s.device, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt }));
}

/** Ends one of the pod's sessions (signing out is ending one's own). Ending one already ended is a no-op. */
export async function endSession(deps: ServiceDeps, podSlug: string, sessionId: string): Promise<{ ended: boolean }> {
  const pod = await getPod(deps, podSlug);
  if (!/^[0-9a-f-]{36}$/i.test(sessionId)) throw notFound("SESSION_NOT_FOUND", "No such session");
  return { ended: await repo.endSession(deps.db, pod.id, sessionId, deps.clock.now()) };
}

export interface StewardView {
  id: string;
  number: number;
  role: "steward";
  invitedBy: number | null;
  createdAt: Date;
  endedAt: Date | null;
}

export async function listStewards(deps: ServiceDeps, podSlug: string): Promise<StewardView[]> {
  const pod = await getPod(deps, podSlug);
  const all = await repo.listStewards(deps.db, pod.id);
  const numberOf = new Map(all.map((s) => [s.id, s.number]));
  return all.map((s) => ({ id: s.id, number: s.number, role: s.role, invitedBy: s.invitedBy ? (numberOf.get(s.invitedBy) ?? null) : null, createdAt: s.createdAt, endedAt: s.endedAt }));
}

/** A steward steps down (or is stood down by the pod): their sessions end with it, and their passkeys are removed. */
export async function endStewardship(deps: ServiceDeps, podSlug: string, stewardNumber: number): Promise<{ ended: boolean }> {
  const pod = await getPod(deps, podSlug);
  const steward = (await repo.listStewards(deps.db, pod.id)).find((s) => s.number === stewardNumber);
  if (!steward) throw notFound("STEWARD_NOT_FOUND", `No steward ${stewardNumber} in this pod`);
  const now = deps.clock.now();
  const ended = await deps.db.transaction().execute(async (trx) => {
    const done = await repo.endSteward(trx, steward.id, now);
    await repo.endStewardSessions(trx, steward.id, now);
    await deleteStewardPasskeys(trx, steward.id);
    return done;
  });
  return { ended };
}
