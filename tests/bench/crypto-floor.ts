/**
 * Baselines for the inbox figure, measured in the same run (node:crypto only):
 *
 * - The crypto floor of one Follow: verify the Follow's draft-cavage signature (RSA-2048, as
 *   Mastodon signs) and its Digest, then sign the Accept's request (RSA, the pod's key size) —
 *   the work no implementation can skip. Its inverse is the most Follows one core could
 *   process if nothing else cost anything.
 * - Keys (the performance issue's third goal): the modulus of the pod's RSA key, and one
 *   signature with a 2048-bit against a 4096-bit key.
 */
import { createHash, createPublicKey, createSign, createVerify, generateKeyPairSync, type JsonWebKey as NodeJsonWebKey, type KeyObject } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../src/db/schema.ts";

export interface CryptoFloor {
  /** Verify + digest + sign, ms per Follow (one core). */
  floorMsPerFollow: number;
  /** 1000 / floorMsPerFollow. */
  floorFollowsPerSecond: number;
  /** The pod's RSA modulus in bits. */
  podRsaBits: number | null;
  signMs2048: number;
  signMs4096: number;
}

function timeEach(n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(20, n); i++) fn();
  const t = performance.now();
  for (let i = 0; i < n; i++) fn();
  return (performance.now() - t) / n;
}

function signOnce(key: KeyObject, text: string): string {
  return createSign("sha256").update(text).sign(key, "base64");
}

export async function measureCryptoFloor(db: Kysely<Database>, podId: string, n = 200): Promise<CryptoFloor> {
  const pair2048 = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pair4096 = generateKeyPairSync("rsa", { modulusLength: 4096 });
  const body = JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: "https://remote.example/follows/1", type: "Follow" });
  const signingString = `(request-target): post /pods/commons/inbox\nhost: node.example\ndate: ${new Date().toUTCString()}\ndigest: SHA-256=x\ncontent-type: application/activity+json`;
  const incoming = signOnce(pair2048.privateKey, signingString);
  const rsa = await db.selectFrom("pod_keys").select("public_jwk").where("pod_id", "=", podId).where("algorithm", "=", "RSASSA-PKCS1-v1_5").executeTakeFirst();
  let podRsaBits: number | null = null;
  if (rsa) {
    const jwk = (typeof rsa.public_jwk === "string" ? JSON.parse(rsa.public_jwk) : rsa.public_jwk) as NodeJsonWebKey;
    podRsaBits = createPublicKey({ key: jwk, format: "jwk" }).asymmetricKeyDetails?.modulusLength ?? null;
  }
  const podKey = podRsaBits === 4096 ? pair4096.privateKey : pair2048.privateKey;
  const floorMsPerFollow = timeEach(n, () => {
    createHash("sha256").update(body).digest("base64");
    if (!createVerify("sha256").update(signingString).verify(pair2048.publicKey, incoming, "base64")) throw new Error("verification failed");
    signOnce(podKey, signingString);
  });
  return {
    floorMsPerFollow,
    floorFollowsPerSecond: 1000 / floorMsPerFollow,
    podRsaBits,
    signMs2048: timeEach(n, () => signOnce(pair2048.privateKey, signingString)),
    signMs4096: timeEach(Math.max(20, n / 4), () => signOnce(pair4096.privateKey, signingString)),
  };
}
