/**
 * Request logs leave out the client's address and port unless LOG_CLIENT_IPS=true.
 * Real nodes over loopback HTTP, with Fastify's logger writing into an array.
 */
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/node.ts";

const running: Array<{ node: RunningNode; database: TestDatabase }> = [];

afterAll(async () => {
  for (const { node, database } of running) {
    await node.stop();
    await database.drop();
  }
});

async function nodeWithLogs(env: Record<string, string>): Promise<{ origin: string; lines: () => any[] }> {
  const database = await createTestDatabase();
  const port = await freePort();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "info",
    ADMIN_SOCKET: "off",
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const written: string[] = [];
  const node = await startNode(config, { database: database.handle, logger: { level: "info", stream: { write: (line: string) => void written.push(line) } } });
  running.push({ node, database });
  return { origin: config.publicUrl.origin, lines: () => written.map((l) => JSON.parse(l)) };
}

async function traffic(origin: string): Promise<void> {
  await fetch(`${origin}/healthz`, { headers: { "x-forwarded-for": "203.0.113.7" } });
  await fetch(`${origin}/commons`, { headers: { accept: "text/html" } });
  await fetch(`${origin}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body: "{}" });
}

describe("client addresses in request logs", () => {
  it("are left out by default", { timeout: 120_000 }, async () => {
    const { origin, lines } = await nodeWithLogs({});
    await traffic(origin);
    const requests = lines().filter((l) => l.req);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const line of requests) {
      expect(line.req).toMatchObject({ method: expect.any(String), url: expect.any(String) });
      expect(line.req.remoteAddress).toBeUndefined();
      expect(line.req.remotePort).toBeUndefined();
    }
    const all = lines().map((l) => JSON.stringify(l)).join("\n");
    expect(all).not.toContain("127.0.0.1\"");
    expect(all).not.toContain("203.0.113.7");
  });

  it("are written with LOG_CLIENT_IPS=true (behind a trusted proxy, the forwarded address)", { timeout: 120_000 }, async () => {
    const { origin, lines } = await nodeWithLogs({ LOG_CLIENT_IPS: "true" });
    await traffic(origin);
    const addresses = lines().filter((l) => l.req).map((l) => l.req.remoteAddress);
    expect(addresses).toContain("203.0.113.7");
    expect(addresses).toContain("127.0.0.1");
  });
});
