/**
 * A fake remote server for the inbox benchmark (plain node:http on loopback): N Person
 * actors `/users/u0 … /users/u{N-1}`, each with its own `publicKey` (id `#main-key`, owner
 * the actor) — they share one RSA-2048 key pair — and a personal inbox that records the
 * Accepts it receives and answers 202. Incoming signatures are not verified: the benchmark
 * measures the pod, not this server.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRemote {
  readonly origin: string;
  actorId(index: number): string;
  keyId(index: number): string;
  /** GETs of actor documents (signature key fetches and actor look-ups by the pod). */
  readonly actorFetches: () => number;
  /** Distinct actors that received an Accept. */
  readonly acceptedCount: () => number;
  /** Resolves with the time (performance.now()) the n-th distinct actor got its Accept. */
  whenAccepted(n: number): Promise<number>;
  close(): Promise<void>;
}

const AS = "https://www.w3.org/ns/activitystreams";
const SECURITY = "https://w3id.org/security/v1";

export async function startFakeRemote(options: { actors: number; publicKeyPem: string }): Promise<FakeRemote> {
  const accepted = new Set<number>();
  const waiters: Array<{ n: number; resolve: (at: number) => void }> = [];
  let actorFetches = 0;
  let origin = "";
  const actorId = (i: number) => `${origin}/users/u${i}`;

  function actorDocument(i: number): string {
    const id = actorId(i);
    return JSON.stringify({
      "@context": [AS, SECURITY],
      id,
      type: "Person",
      preferredUsername: `u${i}`,
      name: `Bench user ${i}`,
      url: `${origin}/@u${i}`,
      inbox: `${id}/inbox`,
      outbox: `${id}/outbox`,
      followers: `${id}/followers`,
      following: `${id}/following`,
      endpoints: { sharedInbox: `${origin}/inbox` },
      publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: options.publicKeyPem },
    });
  }

  function recordAccept(i: number, body: string): void {
    let activity: { type?: unknown; object?: unknown };
    try {
      activity = JSON.parse(body) as typeof activity;
    } catch {
      return;
    }
    if (activity.type !== "Accept" || accepted.has(i)) return;
    accepted.add(i);
    const now = performance.now();
    for (let k = waiters.length - 1; k >= 0; k--) {
      if (accepted.size >= waiters[k]!.n) waiters.splice(k, 1)[0]!.resolve(now);
    }
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const m = /^\/users\/u(\d+)(\/inbox)?$/.exec(path);
    const index = m ? Number(m[1]) : -1;
    if (!m || index >= options.actors) {
      res.writeHead(404).end();
      req.resume();
      return;
    }
    if (req.method === "GET" && !m[2]) {
      actorFetches++;
      res.writeHead(200, { "content-type": "application/activity+json" }).end(actorDocument(index));
      return;
    }
    if (req.method === "POST" && m[2]) {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        recordAccept(index, Buffer.concat(chunks).toString("utf8"));
        res.writeHead(202).end();
      });
      return;
    }
    res.writeHead(405).end();
    req.resume();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    actorId,
    keyId: (i) => `${actorId(i)}#main-key`,
    actorFetches: () => actorFetches,
    acceptedCount: () => accepted.size,
    whenAccepted(n) {
      if (accepted.size >= n) return Promise.resolve(performance.now());
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
