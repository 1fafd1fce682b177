/**
 * A member's steward pages and the API's PATCH of a member carry the pseudonym in their
 * address: their requests stay out of the request log at info (as receipts do), and neither
 * the pseudonym nor the name is logged by viewing or editing the member. A real node with Fastify's logger writing into an array.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import * as books from "../../src/services/books.ts";
import { issueToken } from "../../src/services/tokens.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort, type TestNode } from "../helpers/node.ts";
import { StewardClient } from "../helpers/steward-web.ts";

const POD = "oak-street";
let database: TestDatabase;
let node: RunningNode;
let origin: string;
const written: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const port = await freePort();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: POD,
    POD_NAME: "Oak Street",
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "info",
    ADMIN_SOCKET: "off",
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  node = await startNode(config, { database: database.handle, logger: { level: "info", stream: { write: (line: string) => void written.push(line) } } });
  origin = config.publicUrl.origin;
});

afterAll(async () => {
  await node?.stop();
  await database?.drop();
});

it("keeps a member's pseudonym and name out of the logs while stewards view and edit them (pages and API)", { timeout: 120_000 }, async () => {
  const deps = node.ctx.deps;
  const client = await StewardClient.signIn({ origin, deps } as unknown as TestNode, POD);
  const member = await books.addMember(deps, POD, { name: "Ada Quietwater" });
  const base = `/pods/${POD}/steward/books/members`;
  expect((await client.get(base)).status).toBe(200);
  expect((await client.get(`${base}/${member.pseudonym}`)).status).toBe(200);
  const r = await client.post(`${base}/${member.pseudonym}`, { name: "Ada Stillwater", contact: "" }, { from: `${base}/${member.pseudonym}` });
  expect(r.status).toBe(303);
  expect(await books.listMembers(deps, POD)).toMatchObject([{ pseudonym: member.pseudonym, name: "Ada Stillwater" }]);
  // The steward API's PATCH of a member carries the pseudonym in its address too.
  const { token } = await issueToken(deps, { podSlug: POD });
  const api = await fetch(`${origin}/api/hyphae/v1/pods/${POD}/members/${member.pseudonym}`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ contact: "Stillwater Lane 4" }),
  });
  expect(api.status).toBe(200);
  expect(await books.listMembers(deps, POD)).toMatchObject([{ pseudonym: member.pseudonym, name: "Ada Stillwater", contact: "Stillwater Lane 4" }]);
  expect((await fetch(`${origin}/api/hyphae/v1/pods/${POD}/members`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
  const log = written.join("");
  expect(log).toContain(`"url":"/api/hyphae/v1/pods/${POD}/members"`);
  // Requests are logged (the list page is), but not those naming the member.
  expect(log).toContain(`"url":"${base}"`);
  expect(log).not.toContain(member.pseudonym);
  expect(log).not.toContain("Quietwater");
  expect(log).not.toContain("Stillwater");
});
