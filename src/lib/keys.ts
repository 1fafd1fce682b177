/**
 * Key generation with WebCrypto. Each pod gets an RSA key (HTTP signatures, what
 * Mastodon verifies) and an Ed25519 key (object integrity proofs). Keys are made once,
 * stored as JWK, and never change on restart.
 *
 * RSA keys are 2048 bits, as Mastodon's own: every server verifies them, and a signature
 * costs about a fifth of a 4096-bit one (a fan-out signs once per shared inbox). Pods made
 * before this kept their 4096-bit keys: a changed key breaks followers' cached copies.
 */
export const RSA_MODULUS_BITS = 2048;

export type KeyAlgorithm = "RSASSA-PKCS1-v1_5" | "Ed25519";

export interface JwkPair {
  algorithm: KeyAlgorithm;
  publicJwk: JsonWebKey;
  privateJwk: JsonWebKey;
}

export async function generateJwkPair(algorithm: KeyAlgorithm): Promise<JwkPair> {
  const params =
    algorithm === "RSASSA-PKCS1-v1_5"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: RSA_MODULUS_BITS, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "Ed25519" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  return {
    algorithm,
    publicJwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
    privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey),
  };
}
