/**
 * Key generation with WebCrypto. Each pod gets an RSA key (HTTP signatures, what
 * Mastodon verifies) and an Ed25519 key (object integrity proofs). Keys are made once,
 * stored as JWK, and never change on restart.
 */
export type KeyAlgorithm = "RSASSA-PKCS1-v1_5" | "Ed25519";

export interface JwkPair {
  algorithm: KeyAlgorithm;
  publicJwk: JsonWebKey;
  privateJwk: JsonWebKey;
}

export async function generateJwkPair(algorithm: KeyAlgorithm): Promise<JwkPair> {
  const params =
    algorithm === "RSASSA-PKCS1-v1_5"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "Ed25519" };
  const pair = (await crypto.subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  return {
    algorithm,
    publicJwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
    privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey),
  };
}
