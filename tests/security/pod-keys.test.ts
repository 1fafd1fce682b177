/**
 * Pod keys: new pods get RSA-2048 (plus Ed25519); a pod made earlier with a 4096-bit key
 * keeps it across restarts, because followers' servers cache the key by its id.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import { generateJwkPair } from "../../src/lib/keys.ts";
import { createPod, podKeyPairs } from "../../src/services/pods.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/node.ts";

let database: TestDatabase | undefined;
let node: RunningNode | undefined;

afterEach(async () => {
  await node?.stop();
  await database?.drop();
  node = database = undefined;
});

/** Bits in an RSA public JWK's modulus. */
const modulusBits = (jwk: JsonWebKey) => Buffer.from(jwk.n!, "base64url").length * 8;

/** Starts a node on `db`; a restart passes the first start's port (the node's origin is recorded). */
async function start(db: TestDatabase, port?: number): Promise<RunningNode> {
  port ??= await freePort();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: "oak-street",
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "silent",
    ADMIN_SOCKET: "off",
    ...(db.url ? { DATABASE_URL: db.url } : {}),
  });
  return startNode(config, { database: db.handle });
}

describe("pod keys", () => {
  it("a new pod gets an RSA-2048 key and an Ed25519 key", async () => {
    database = await createTestDatabase();
    node = await start(database);
    const pod = await createPod(node.ctx.deps, { slug: "elm-row", name: "Elm Row" });
    const keys = await podKeyPairs(node.ctx.deps, pod.id);
    expect(keys.map((k) => k.algorithm)).toEqual(["RSASSA-PKCS1-v1_5", "Ed25519"]);
    expect(modulusBits(keys[0]!.publicJwk)).toBe(2048);
  });

  it("a pod's existing 4096-bit key is kept and served after a restart", async () => {
    database = await createTestDatabase();
    node = await start(database);
    const pod = await createPod(node.ctx.deps, { slug: "elm-row", name: "Elm Row" });
    // As a pod made before new pods got 2048-bit keys.
    const old = await generateJwkPair("RSASSA-PKCS1-v1_5");
    const big = await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 4096, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, true, ["sign", "verify"]);
    const publicJwk = await crypto.subtle.exportKey("jwk", big.publicKey);
    const privateJwk = await crypto.subtle.exportKey("jwk", big.privateKey);
    expect(modulusBits(old.publicJwk)).toBe(2048);
    await node.ctx.deps.db
      .updateTable("pod_keys")
      .set({ public_jwk: JSON.stringify(publicJwk), private_jwk: JSON.stringify(privateJwk) })
      .where("pod_id", "=", pod.id)
      .where("algorithm", "=", "RSASSA-PKCS1-v1_5")
      .execute();
    const port = Number(new URL(node.address!).port);
    await node.stop();

    node = await start(database, port);
    const keys = await podKeyPairs(node.ctx.deps, pod.id);
    expect(modulusBits(keys[0]!.publicJwk)).toBe(4096);
    expect(keys[0]!.publicJwk.n).toBe(publicJwk.n);
    const actor = (await (await fetch(`${node.address}/pods/elm-row`, { headers: { accept: "application/activity+json" } })).json()) as any;
    const served = await crypto.subtle.importKey("spki", pemToDer(actor.publicKey.publicKeyPem), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
    expect((served.algorithm as RsaHashedKeyAlgorithm).modulusLength).toBe(4096);
  });
});

function pemToDer(pem: string): ArrayBuffer {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength);
}
