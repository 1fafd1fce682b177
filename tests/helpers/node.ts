/**
 * Real nodes for tests: each gets its own database (PGlite in memory, or a fresh
 * PostgreSQL database), listens on a free loopback port, and federates over real HTTP.
 */
import { loadConfig, type Config } from "../../src/config.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import { issueToken } from "../../src/services/tokens.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import { freePort } from "./infra.ts";

export { freePort };

export interface TestNode {
  readonly origin: string;
  readonly host: string;
  readonly config: Config;
  readonly node: RunningNode;
  readonly deps: ServiceDeps;
  readonly database: TestDatabase;
  /** `@slug@host` of a pod on this node. */
  handle(slug?: string): string;
  actorUrl(slug?: string): string;
  /** A steward token for a pod on this node. */
  token(slug?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface TestNodeOptions {
  podSlug?: string;
  podName?: string;
  env?: Record<string, string>;
  /** How long in-flight requests may run once stop() begins (the node's default is 5 s). */
  requestGraceMs?: number;
}

export async function startTestNode(options: TestNodeOptions = {}): Promise<TestNode> {
  const database = await createTestDatabase();
  const port = await freePort();
  const podSlug = options.podSlug ?? "commons";
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: podSlug,
    POD_NAME: options.podName ?? `Pod ${podSlug}`,
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: process.env.HYPHAE_TEST_LOG_LEVEL ?? "silent",
    QUEUE_POLL_SECONDS: "1",
    ADMIN_SOCKET: "off",
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...options.env,
  });
  let node: RunningNode;
  try {
    node = await startNode(config, { database: database.handle, ...(options.requestGraceMs !== undefined && { requestGraceMs: options.requestGraceMs }) });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const origin = config.publicUrl.origin;
  return {
    origin,
    host: config.publicUrl.host,
    config,
    node,
    deps: node.ctx.deps,
    database,
    handle: (slug = podSlug) => `@${slug}@${config.publicUrl.host}`,
    actorUrl: (slug = podSlug) => `${origin}/pods/${slug}`,
    token: async (slug = podSlug) => (await issueToken(node.ctx.deps, { podSlug: slug })).token,
    async stop() {
      await node.stop();
      await database.drop();
    },
  };
}

/** Poll until `check` returns a truthy value (or throw after `timeoutMs`). */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 15_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads a whole ActivityPub collection: its totalItems and the ids on every page. */
export async function readCollection(url: string): Promise<{ totalItems: number; items: string[] }> {
  const accept = { accept: "application/activity+json" };
  const top = (await (await fetch(url, { headers: accept })).json()) as any;
  const items: string[] = [];
  let next: string | undefined = typeof top.first === "string" ? top.first : top.first?.id;
  for (let pages = 0; next && pages < 100; pages++) {
    const page = (await (await fetch(next, { headers: accept })).json()) as any;
    items.push(...(page.orderedItems ?? page.items ?? []).map((i: any) => (typeof i === "string" ? i : i.id)));
    next = page.next;
  }
  return { totalItems: top.totalItems as number, items };
}
