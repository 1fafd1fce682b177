/**
 * HTTP Signatures as Mastodon sends them (draft-cavage-http-signatures-12, rsa-sha256):
 * the signed headers are `(request-target) host date digest content-type`, the body is
 * bound through a `Digest: SHA-256=…` header. Written with node:crypto only, so the
 * benchmark's remote side shares no code with the Fedify verifier it exercises.
 */
import { createHash, createSign, type KeyObject } from "node:crypto";

export const SIGNED_HEADERS = ["(request-target)", "host", "date", "digest", "content-type"] as const;

export interface CavageSignOptions {
  method: string;
  url: string | URL;
  body: string | Buffer;
  /** `https://remote.example/users/alice#main-key` */
  keyId: string;
  /** An RSA private key (PKCS#1 v1.5 padding is node:crypto's default for RSA). */
  privateKey: KeyObject;
  contentType?: string;
  date?: Date;
}

/** The headers to send with the request, `signature` included. */
export function signCavage(options: CavageSignOptions): Record<string, string> {
  const url = new URL(options.url);
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, "utf8");
  const headers: Record<(typeof SIGNED_HEADERS)[number], string> = {
    "(request-target)": `${options.method.toLowerCase()} ${url.pathname}${url.search}`,
    host: url.host,
    date: (options.date ?? new Date()).toUTCString(),
    digest: `SHA-256=${createHash("sha256").update(body).digest("base64")}`,
    "content-type": options.contentType ?? "application/activity+json",
  };
  const signingString = SIGNED_HEADERS.map((name) => `${name}: ${headers[name]}`).join("\n");
  const signature = createSign("sha256").update(signingString).sign(options.privateKey, "base64");
  return {
    host: headers.host,
    date: headers.date,
    digest: headers.digest,
    "content-type": headers["content-type"],
    signature: `keyId="${options.keyId}",algorithm="rsa-sha256",headers="${SIGNED_HEADERS.join(" ")}",signature="${signature}"`,
  };
}
