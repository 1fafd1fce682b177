/**
 * Node-level endpoints: health for operators and NodeInfo 2.0 / 2.1 for the fediverse.
 * NodeInfo is served here rather than through Fedify so both schema versions exist
 * (Elk fetches /nodeinfo/2.0 at a fixed path; megalodon needs `metadata`).
 */
import { sql } from "kysely";
import type { FastifyInstance } from "fastify";
import { countPods } from "../services/pods.ts";
import { countPublicPosts } from "../services/posts.ts";
import { MASTODON_COMPAT_VERSION } from "./mastodon/entities.ts";
import { outboxHealth, type OutboxHealth } from "../services/outbox.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION, SOURCE_URL } from "../lib/version.ts";
import type { ServiceDeps } from "../services/ports.ts";

export interface HealthSources {
  deps: ServiceDeps;
  databaseKind: string;
  /**
   * The federation queue: `queued` (= ready + delayed) leaves out leased rows, as before;
   * `leased` counts claimed, unfinished messages (running, or their worker died and the
   * lease has not run out), `dead` the dead letters, and `oldestPendingSeconds` how long
   * the oldest due message (leased or not) has waited, so a stuck delivery shows.
   */
  queueDepth(): Promise<{ queued: number; ready?: number; delayed?: number; leased?: number; dead?: number; oldestPendingSeconds?: number }>;
  outboxPending(): Promise<number>;
}

export async function registerMeta(app: FastifyInstance, sources: HealthSources): Promise<void> {
  const { deps } = sources;

  app.get("/healthz", async (_request, reply) => {
    const started = performance.now();
    let database: { ok: boolean; kind: string; latencyMs?: number; error?: string };
    let queue: unknown = null;
    let outboxPending: number | null = null;
    let outbox: OutboxHealth | null = null;
    try {
      await sql`select 1`.execute(deps.db);
      database = { ok: true, kind: sources.databaseKind, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
      queue = await sources.queueDepth();
      // Pending (retrying included) and dead-lettered outbound events, with the oldest ages.
      outbox = await outboxHealth(deps);
      outboxPending = outbox.pending;
    } catch (error) {
      database = { ok: false, kind: sources.databaseKind, error: error instanceof Error ? error.message : String(error) };
    }
    return reply
      .code(database.ok ? 200 : 503)
      .header("cache-control", "no-store")
      .send({ status: database.ok ? "ok" : "unavailable", role: deps.config.role, version: SOFTWARE_VERSION, database, queue, outboxPending, outbox });
  });

  const nodeInfo = async (version: "2.0" | "2.1") => {
    const [pods, posts] = await Promise.all([countPods(deps), countPublicPosts(deps)]);
    return {
      version,
      software: {
        name: SOFTWARE_NAME,
        version: SOFTWARE_VERSION,
        ...(version === "2.1" && { repository: SOURCE_URL, homepage: SOURCE_URL }),
      },
      protocols: ["activitypub"],
      services: { inbound: [], outbound: [] },
      openRegistrations: false,
      usage: { users: { total: pods, activeMonth: pods, activeHalfyear: pods }, localPosts: posts },
      metadata: {
        nodeName: `Hyphae on ${deps.config.publicUrl.host}`,
        nodeDescription: "A node for neighbourhood mutual-aid pods: charters, offers, needs and open books.",
        // The client API answers as Mastodon's (read-only): megalodon's detector reads this.
        upstream: { name: "mastodon", version: MASTODON_COMPAT_VERSION },
      },
    };
  };
  const schema = (v: string) => `http://nodeinfo.diaspora.software/ns/schema/${v}`;
  const profile = (v: string) => `application/json; profile="${schema(v)}#"`;

  app.get("/.well-known/nodeinfo", async (_request, reply) =>
    reply.header("content-type", "application/json").send({
      links: ["2.0", "2.1"].map((v) => ({ rel: schema(v), href: new URL(`/nodeinfo/${v}`, deps.config.publicUrl).href })),
    }),
  );
  app.get("/nodeinfo/2.0", async (_request, reply) => reply.header("content-type", profile("2.0")).send(await nodeInfo("2.0")));
  app.get("/nodeinfo/2.1", async (_request, reply) => reply.header("content-type", profile("2.1")).send(await nodeInfo("2.1")));
}
