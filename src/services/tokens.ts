/**
 * Steward tokens: JWTs signed with an EdDSA key kept in the database, recorded by `jti`
 * so they can be revoked, and bound to one pod.
 */
import { SignJWT, jwtVerify, generateKeyPair, exportJWK, importJWK, errors as joseErrors, type JWK } from "jose";
import { sql } from "kysely";
import { z } from "zod";
import { conflict, notFound, unauthenticated } from "../domain/errors.ts";
import { parseOrThrow } from "../domain/pods.ts";
import { writeOnce } from "./idempotency.ts";
import { getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";

export const TOKEN_ROLES = ["steward"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];
const AUDIENCE = "hyphae-steward-api";
const SIGNING_KEY = "steward_token_signing_key";

export interface TokenPrincipal {
  jti: string;
  podId: string;
  podSlug: string;
  role: TokenRole;
  expiresAt: Date;
}

interface SigningKeys {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}
const keyCache = new WeakMap<object, Promise<SigningKeys>>();

async function loadOrCreateSigningKeys(deps: ServiceDeps): Promise<SigningKeys> {
  const existing = await deps.db.selectFrom("node_secrets").select("value").where("name", "=", SIGNING_KEY).executeTakeFirst();
  let jwk = existing?.value as { privateJwk: JWK; publicJwk: JWK } | undefined;
  if (!jwk) {
    const pair = await generateKeyPair("EdDSA", { extractable: true });
    const candidate = { privateJwk: await exportJWK(pair.privateKey), publicJwk: await exportJWK(pair.publicKey) };
    // Two processes starting at once: the first insert wins, both read it back.
    await deps.db
      .insertInto("node_secrets")
      .values({ name: SIGNING_KEY, value: JSON.stringify(candidate) })
      .onConflict((oc) => oc.column("name").doNothing())
      .execute();
    const stored = await deps.db.selectFrom("node_secrets").select("value").where("name", "=", SIGNING_KEY).executeTakeFirstOrThrow();
    jwk = stored.value as typeof candidate;
  }
  return {
    privateKey: (await importJWK(jwk.privateJwk, "EdDSA")) as CryptoKey,
    publicKey: (await importJWK(jwk.publicJwk, "EdDSA")) as CryptoKey,
  };
}

function signingKeys(deps: ServiceDeps): Promise<SigningKeys> {
  let keys = keyCache.get(deps.db);
  if (!keys) {
    keys = loadOrCreateSigningKeys(deps);
    keys.catch(() => keyCache.delete(deps.db));
    keyCache.set(deps.db, keys);
  }
  return keys;
}

export interface IssuedToken {
  token: string;
  jti: string;
  podSlug: string;
  role: TokenRole;
  label: string | null;
  expiresAt: Date;
}

/** What a token may be given: a plain label and a lifetime in whole days (as the CLI takes them). */
const tokenRequestSchema = z.object({
  label: z.string().trim().max(200, "The label is too long: at most 200 characters.").nullable().optional(),
  ttlDays: z.number({ message: "Give the number of days as a whole number." }).int("Give the number of days as a whole number.").min(1, "A token lasts at least 1 day.").max(3650, "A token lasts at most 3650 days (10 years).").optional(),
});

/**
 * Issues a steward token for a pod. Under a form's one-time key (the steward web app), a
 * repeat of the same form finds the first token's record and answers TOKEN_ALREADY_ISSUED
 * (409, with its id): the token itself is never stored, so it can be shown only once, and a
 * second one is never made without the steward knowing.
 */
export async function issueToken(
  deps: ServiceDeps,
  input: { podSlug: string; role?: TokenRole; label?: string | null; ttlDays?: number },
): Promise<IssuedToken> {
  const pod = await getPod(deps, input.podSlug);
  const role = input.role ?? "steward";
  const request = parseOrThrow(tokenRequestSchema, { label: input.label, ttlDays: input.ttlDays }, "INVALID_TOKEN_REQUEST");
  const label = request.label ? request.label : null;
  const { privateKey } = await signingKeys(deps);
  const jti = deps.ids.uuid();
  const issuedAt = deps.clock.now();
  const expiresAt = new Date(issuedAt.getTime() + (request.ttlDays ?? deps.config.tokenTtlDays) * 86_400_000);
  const token = await new SignJWT({ pod: pod.slug, role })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
    .setIssuer(deps.config.publicUrl.origin)
    .setAudience(AUDIENCE)
    .setSubject(pod.id)
    .setJti(jti)
    .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(privateKey);
  const made = await writeOnce(deps, async (trx) => {
    await trx.insertInto("steward_tokens").values({ jti, pod_id: pod.id, role, label, issued_at: issuedAt, expires_at: expiresAt }).execute();
    return { jti, label, expiresAt };
  });
  if (made.jti !== jti) {
    throw conflict("TOKEN_ALREADY_ISSUED", "This form was already sent, and its token was shown then; no second token was made.", {
      jti: made.jti,
      label: made.label,
      expiresAt: made.expiresAt.toISOString(),
    });
  }
  return { token, jti, podSlug: pod.slug, role, label, expiresAt };
}

/** Checks a bearer token. Every failure is a 401 with its own stable code. */
export async function verifyToken(deps: ServiceDeps, token: string | undefined | null): Promise<TokenPrincipal> {
  if (!token) throw unauthenticated("TOKEN_MISSING", "This endpoint needs a steward token: Authorization: Bearer <token>");
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    throw unauthenticated("TOKEN_MALFORMED", "Send a steward token as Authorization: Bearer <token> (this one is not a JWT)");
  }
  const { publicKey } = await signingKeys(deps);
  let payload;
  try {
    ({ payload } = await jwtVerify(token, publicKey, {
      algorithms: ["EdDSA"],
      audience: AUDIENCE,
      issuer: deps.config.publicUrl.origin,
      currentDate: deps.clock.now(),
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated("TOKEN_EXPIRED", "The token has expired");
    if (error instanceof joseErrors.JWSSignatureVerificationFailed) throw unauthenticated("TOKEN_INVALID", "The token signature is not valid");
    if (error instanceof joseErrors.JOSEError) throw unauthenticated("TOKEN_INVALID", `The token is not valid: ${error.code}`);
    throw unauthenticated("TOKEN_MALFORMED", "The token could not be read");
  }
  const jti = typeof payload.jti === "string" ? payload.jti : null;
  if (!jti || !/^[0-9a-f-]{36}$/i.test(jti)) throw unauthenticated("TOKEN_INVALID", "The token has no valid id");
  const row = await deps.db
    .selectFrom("steward_tokens as t")
    .innerJoin("pods as p", "p.id", "t.pod_id")
    .select(["t.jti", "t.pod_id", "t.role", "t.expires_at", "t.revoked_at", "p.slug"])
    .where("t.jti", "=", jti)
    .executeTakeFirst();
  if (!row) throw unauthenticated("TOKEN_UNKNOWN", "The token is not known to this node");
  if (row.revoked_at) throw unauthenticated("TOKEN_REVOKED", "The token has been revoked");
  if (row.expires_at.getTime() <= deps.clock.now().getTime()) throw unauthenticated("TOKEN_EXPIRED", "The token has expired");
  if (payload.sub !== row.pod_id) throw unauthenticated("TOKEN_INVALID", "The token does not match its record");
  return { jti: row.jti, podId: row.pod_id, podSlug: row.slug, role: row.role, expiresAt: row.expires_at };
}

/**
 * Revokes a token by its id. With `podSlug` (a steward of that pod), only that pod's own
 * tokens: another pod's answers TOKEN_NOT_FOUND, as an unknown id does. Revoking a revoked
 * token keeps its first revocation time.
 */
export async function revokeToken(deps: ServiceDeps, jti: string, podSlug?: string): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(jti)) throw notFound("TOKEN_NOT_FOUND", `No token with id ${jti}`);
  const pod = podSlug === undefined ? null : await getPod(deps, podSlug);
  const updated = await writeOnce(deps, async (trx) => {
    let q = trx
      .updateTable("steward_tokens")
      .set({ revoked_at: sql<Date>`coalesce(revoked_at, ${deps.clock.now()})` })
      .where("jti", "=", jti);
    if (pod) q = q.where("pod_id", "=", pod.id);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  });
  if (updated === 0) throw notFound("TOKEN_NOT_FOUND", pod ? `${pod.slug} has no token with id ${jti}` : `No token with id ${jti}`);
}

export async function listTokens(deps: ServiceDeps, podSlug: string) {
  const pod = await getPod(deps, podSlug);
  const rows = await deps.db.selectFrom("steward_tokens").selectAll().where("pod_id", "=", pod.id).orderBy("issued_at").execute();
  return rows.map((r) => ({
    jti: r.jti,
    role: r.role,
    label: r.label,
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  }));
}
