/**
 * Optional passkeys for stewards (WebAuthn, checked by @simplewebauthn/server).
 *
 * A signed-in steward adds a passkey for themselves; later that passkey opens a session on
 * the pod's sign-in page, exactly as a one-time link does. The relying party is the node:
 * its ID is PUBLIC_URL's host name and its origin PUBLIC_URL's origin. Every ceremony starts
 * with a challenge stored here, taken once and within minutes, bound to the session that
 * asked (registration) or to the pod (sign-in). A credential belongs to one steward of one
 * pod: another pod's passkey, a removed one or a stepped-down steward's signs nobody in.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { z } from "zod";
import { forbidden, invalid, notFound, unauthenticated } from "../domain/errors.ts";
import { findBadText, hasMarkup } from "../domain/text.ts";
import * as repo from "../db/repos/passkeys.ts";
import { writeOnce } from "./idempotency.ts";
import { getActivePod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";
import { openSession, type NewSession, type StewardPrincipal } from "./steward-sessions.ts";

/** How long a ceremony's challenge can be answered. */
export const CHALLENGE_MINUTES = 5;
/** What the browser is told to wait for the person (less than the challenge's life). */
const CEREMONY_TIMEOUT_MS = 3 * 60_000;
const NAME_MAX = 60;

const B64URL = /^[A-Za-z0-9_-]+$/;
const b64url = z.string().min(1).max(16_384).regex(B64URL);

const registrationSchema = z.object({
  id: b64url,
  rawId: b64url,
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: b64url,
    attestationObject: b64url,
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});

const authenticationSchema = z.object({
  id: b64url,
  rawId: b64url,
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: b64url,
    authenticatorData: b64url,
    signature: b64url,
    userHandle: b64url.optional().nullable(),
  }),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
});

const KNOWN_TRANSPORTS = new Set(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]);

/** The relying party: this node, as its public address names it. */
function relyingParty(deps: ServiceDeps): { id: string; origin: string } {
  return { id: deps.config.publicUrl.hostname, origin: deps.config.publicUrl.origin };
}

/**
 * Whether browsers can use passkeys with this node's address at all: WebAuthn needs a domain
 * name as the relying party ID, never an IP address (the steward pages then offer none).
 */
export function passkeysPossible(deps: ServiceDeps): boolean {
  const host = deps.config.publicUrl.hostname;
  return !/^\d{1,3}(\.\d{1,3}){3}$/.test(host) && !host.startsWith("[");
}

function assertPossible(deps: ServiceDeps): void {
  if (!passkeysPossible(deps)) {
    throw forbidden("PASSKEYS_UNAVAILABLE", "Passkeys need the node to be reached by a domain name, not an IP address. Sign in with a link instead.");
  }
}

/** The WebAuthn user handle of a steward: the 16 bytes of its id (no name, nothing personal). */
const userHandleOf = (stewardId: string) => new Uint8Array(Buffer.from(stewardId.replace(/-/g, ""), "hex"));

/** The challenge a browser answered, read from its client data (checked properly by the library afterwards). */
function answeredChallenge(clientDataJSON: string): string {
  let challenge: unknown;
  try {
    challenge = (JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { challenge?: unknown }).challenge;
  } catch {
    challenge = undefined;
  }
  if (typeof challenge !== "string" || !/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) {
    throw invalid("PASSKEY_RESPONSE_INVALID", "The browser's passkey answer could not be read. Try again.");
  }
  return challenge;
}

const CHALLENGE_GONE = "This passkey request has expired or was already used. Try again.";

async function newChallenge(deps: ServiceDeps, input: { podId: string; purpose: "register" | "sign-in"; sessionId: string | null; challenge: string }): Promise<void> {
  const now = deps.clock.now();
  // Challenges that can no longer be taken are forgotten as new ones are made.
  await repo.deleteExpiredChallenges(deps.db, now);
  await repo.insertChallenge(deps.db, { id: deps.ids.uuid(), ...input, createdAt: now, expiresAt: new Date(now.getTime() + CHALLENGE_MINUTES * 60_000) });
}

// ---------------------------------------------------------------------------------------------
// Adding, listing and removing one's own passkeys (signed in)

export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  backedUp: boolean;
}

export async function listMyPasskeys(deps: ServiceDeps, principal: StewardPrincipal): Promise<PasskeyView[]> {
  const keys = await repo.listStewardPasskeys(deps.db, principal.stewardId);
  return keys.map((k) => ({ id: k.id, name: k.name, createdAt: k.createdAt, lastUsedAt: k.lastUsedAt, backedUp: k.backedUp }));
}

/** How many passkeys each steward of the pod has, by steward id. */
export async function countPasskeys(deps: ServiceDeps, podSlug: string): Promise<Map<string, number>> {
  const pod = await getPod(deps, podSlug);
  return repo.countPasskeysBySteward(deps.db, pod.id);
}

/** The options for `navigator.credentials.create`, with a challenge bound to this session. */
export async function startRegistration(deps: ServiceDeps, principal: StewardPrincipal): Promise<PublicKeyCredentialCreationOptionsJSON> {
  assertPossible(deps);
  const pod = await getActivePod(deps, principal.podSlug);
  const rp = relyingParty(deps);
  const existing = await repo.listStewardPasskeys(deps.db, principal.stewardId);
  const options = await generateRegistrationOptions({
    rpName: pod.name,
    rpID: rp.id,
    userName: `Steward ${principal.stewardNumber} of ${pod.name}`,
    userDisplayName: `Steward ${principal.stewardNumber} of ${pod.name}`,
    userID: userHandleOf(principal.stewardId),
    timeout: CEREMONY_TIMEOUT_MS,
    attestationType: "none",
    // One passkey per authenticator: the browser declines to make a second on the same one.
    excludeCredentials: existing.map((k) => ({ id: k.credentialId, transports: k.transports })),
    authenticatorSelection: { residentKey: "required", requireResidentKey: true, userVerification: "required" },
  });
  await newChallenge(deps, { podId: pod.id, purpose: "register", sessionId: principal.sessionId, challenge: options.challenge });
  return options;
}

function checkName(name: unknown): string {
  const value = typeof name === "string" ? name.trim() : "";
  if (!value) throw invalid("PASSKEY_NAME_REQUIRED", "Give the passkey a name you will recognise, such as “my phone”.", { field: "name" });
  if (value.length > NAME_MAX) throw invalid("PASSKEY_NAME_TOO_LONG", `The name is too long: at most ${NAME_MAX} characters.`, { field: "name" });
  const bad = findBadText(value);
  if (bad) throw invalid("INVALID_TEXT", `This ${bad.problem}.`, { field: "name" });
  if (hasMarkup(value)) throw invalid("MARKUP_NOT_ALLOWED", "Write plain text here: HTML tags and scripts are not accepted.", { field: "name" });
  return value;
}

/** Checks the browser's answer to a registration challenge and stores the new passkey. */
export async function finishRegistration(deps: ServiceDeps, principal: StewardPrincipal, input: { name: unknown; response: unknown }): Promise<PasskeyView> {
  assertPossible(deps);
  const name = checkName(input.name);
  const parsed = registrationSchema.safeParse(input.response);
  if (!parsed.success) throw invalid("PASSKEY_RESPONSE_INVALID", "The browser's passkey answer could not be read. Try again.");
  const response = parsed.data as RegistrationResponseJSON;
  const pod = await getActivePod(deps, principal.podSlug);
  const now = deps.clock.now();
  const challenge = answeredChallenge(response.response.clientDataJSON);
  // Taken before it is checked: a challenge is used once, whether its answer holds or not.
  const taken = await repo.takeChallenge(deps.db, { challenge, podId: pod.id, purpose: "register", sessionId: principal.sessionId, now });
  if (!taken) throw invalid("PASSKEY_CHALLENGE_INVALID", CHALLENGE_GONE);
  const rp = relyingParty(deps);
  let verified;
  try {
    verified = await verifyRegistrationResponse({ response, expectedChallenge: taken.challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true });
  } catch (error) {
    deps.log.info("passkey registration refused", { pod: pod.slug, reason: (error as Error).message });
    throw invalid("PASSKEY_NOT_VERIFIED", "The passkey could not be checked, so it was not added. Try again.");
  }
  if (!verified.verified) throw invalid("PASSKEY_NOT_VERIFIED", "The passkey could not be checked, so it was not added. Try again.");
  const info = verified.registrationInfo;
  const id = deps.ids.uuid();
  const added = await writeOnce(deps, (trx) =>
    repo.insertPasskey(trx, {
      id,
      podId: pod.id,
      stewardId: principal.stewardId,
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      transports: (info.credential.transports ?? response.response.transports ?? []).filter((t) => KNOWN_TRANSPORTS.has(t)),
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      name,
      createdAt: now,
    }),
  );
  if (!added) throw invalid("PASSKEY_EXISTS", "This passkey is already registered on this node.");
  return { id, name, createdAt: now, lastUsedAt: null, backedUp: info.credentialBackedUp };
}

/** Removes one of the signed-in steward's own passkeys. */
export async function removePasskey(deps: ServiceDeps, principal: StewardPrincipal, passkeyId: string): Promise<{ removed: boolean }> {
  if (!/^[0-9a-f-]{36}$/i.test(passkeyId)) throw notFound("PASSKEY_NOT_FOUND", "No such passkey");
  // Matched on the owner too: another steward's passkey is "not found", never removed.
  const removed = await writeOnce(deps, (trx) => repo.deletePasskey(trx, principal.stewardId, passkeyId));
  if (!removed) throw notFound("PASSKEY_NOT_FOUND", "You have no such passkey (it may have been removed already).");
  return { removed };
}

// ---------------------------------------------------------------------------------------------
// Signing in with a passkey (no session yet)

/** The options for `navigator.credentials.get`: any passkey of this node's RP (a discoverable credential). */
export async function startSignIn(deps: ServiceDeps, podSlug: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
  assertPossible(deps);
  const pod = await getActivePod(deps, podSlug);
  const options = await generateAuthenticationOptions({ rpID: relyingParty(deps).id, timeout: CEREMONY_TIMEOUT_MS, userVerification: "required" });
  await newChallenge(deps, { podId: pod.id, purpose: "sign-in", sessionId: null, challenge: options.challenge });
  return options;
}

const NOT_HERE = "This passkey does not sign in to this pod. Use one you added on this pod's Stewards page, or sign in with a link.";

/** Checks the browser's answer to a sign-in challenge and opens a session, as a sign-in link does. */
export async function finishSignIn(deps: ServiceDeps, input: { podSlug: string; response: unknown; device?: string }): Promise<NewSession> {
  assertPossible(deps);
  const parsed = authenticationSchema.safeParse(input.response);
  if (!parsed.success) throw invalid("PASSKEY_RESPONSE_INVALID", "The browser's passkey answer could not be read. Try again.");
  const response = parsed.data as AuthenticationResponseJSON;
  const pod = await getActivePod(deps, input.podSlug);
  const now = deps.clock.now();
  const challenge = answeredChallenge(response.response.clientDataJSON);
  const taken = await repo.takeChallenge(deps.db, { challenge, podId: pod.id, purpose: "sign-in", sessionId: null, now });
  if (!taken) throw unauthenticated("PASSKEY_CHALLENGE_INVALID", CHALLENGE_GONE);

  const passkey = await repo.findPasskeyByCredentialId(deps.db, response.id);
  if (!passkey) throw unauthenticated("PASSKEY_UNKNOWN", "This passkey is not registered here (it may have been removed). Sign in with a link instead.");
  if (passkey.podId !== pod.id) throw forbidden("PASSKEY_OTHER_POD", NOT_HERE);
  if (passkey.stewardEndedAt) throw unauthenticated("PASSKEY_UNKNOWN", "This passkey's steward has stepped down.");
  if (response.response.userHandle && response.response.userHandle !== Buffer.from(userHandleOf(passkey.stewardId)).toString("base64url")) {
    throw forbidden("PASSKEY_OTHER_POD", NOT_HERE);
  }

  const rp = relyingParty(deps);
  let verified;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: taken.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // The counter is compared below, with our own error and in the same statement as the update.
      credential: { id: passkey.credentialId, publicKey: new Uint8Array(passkey.publicKey), counter: 0, transports: passkey.transports as AuthenticatorTransport[] },
      requireUserVerification: true,
    });
  } catch (error) {
    deps.log.info("passkey sign-in refused", { pod: pod.slug, reason: (error as Error).message });
    throw unauthenticated("PASSKEY_NOT_VERIFIED", "The passkey could not be checked, so you are not signed in. Try again.");
  }
  if (!verified.verified) throw unauthenticated("PASSKEY_NOT_VERIFIED", "The passkey could not be checked, so you are not signed in. Try again.");
  const { newCounter, credentialBackedUp } = verified.authenticationInfo;
  // An authenticator that counts must count up: a counter that did not means a copied key.
  const counterRefused = () =>
    forbidden("PASSKEY_COUNTER", "This passkey's use counter went backwards, which can mean it was copied. It was not accepted; sign in with a link and remove it on the Stewards page.");
  if ((newCounter > 0 || passkey.counter > 0) && newCounter <= passkey.counter) throw counterRefused();

  const opened = await deps.db.transaction().execute(async (trx) => {
    if (!(await repo.recordPasskeyUse(trx, passkey.id, { counter: newCounter, backedUp: credentialBackedUp, at: now }))) return null;
    return openSession(deps, trx, { pod, steward: { id: passkey.stewardId, number: passkey.stewardNumber }, device: input.device, now });
  });
  if (opened) return opened;
  // The row did not take the use: a higher counter got there first, or the passkey was just removed.
  if (newCounter > 0 && (await repo.findPasskeyByCredentialId(deps.db, passkey.credentialId))) throw counterRefused();
  throw unauthenticated("PASSKEY_UNKNOWN", "This passkey is not registered here (it may have been removed). Sign in with a link instead.");
}
