/**
 * `hyphae db copy`: a node that ran on the embedded database moves to PostgreSQL with its
 * pod, keys, tokens and followers intact, and a copy into a non-empty database is refused
 * without touching it. Runs only against PostgreSQL (HYPHAE_TEST_DATABASE=postgres).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopyError, COPY_ORDER, copyDatabase, type CopyReport } from "../../src/cli/db-copy.ts";
import { loadConfig } from "../../src/config.ts";
import { openDatabase } from "../../src/db/connect.ts";
import { lockHolder } from "../../src/db/lock.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import { receiveFollow } from "../../src/services/follows.ts";
import { issueToken } from "../../src/services/tokens.ts";
import { createInvite, endStewardship, listStewards } from "../../src/services/steward-sessions.ts";
import { setPodIcon } from "../../src/services/pod-icons.ts";
import { StewardClient } from "../helpers/steward-web.ts";

/** The smallest PNG: a signature and an IHDR chunk are all the icon check reads. */
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89]);
import { createPostgresDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/node.ts";

const AP = "application/activity+json";
const FOLLOWER = {
  iri: "http://127.0.0.1:9/users/alice",
  handle: "@alice@127.0.0.1:9",
  name: "Alice",
  url: "http://127.0.0.1:9/@alice",
  // Nothing listens on the discard port: the Accept fails and stays queued for retry.
  inbox: "http://127.0.0.1:9/users/alice/inbox",
  sharedInbox: null,
};

let dataDir: string;
let port: number;
let origin: string;
let target: { url: string; drop: () => Promise<void> };
let nodes: RunningNode[] = [];

function config(extra: Record<string, string>) {
  return loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: origin,
    POD_SLUG: "oak-street",
    POD_NAME: "Oak Street",
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "silent",
    QUEUE_POLL_SECONDS: "1",
    ADMIN_SOCKET: "off",
    ...extra,
  });
}

async function start(extra: Record<string, string>): Promise<RunningNode> {
  const node = await startNode(config(extra));
  nodes.push(node);
  return node;
}

async function stop(node: RunningNode): Promise<void> {
  await node.stop();
  nodes = nodes.filter((n) => n !== node);
}

/** Every row of every copied table, in a stable order, as JSON text. */
async function snapshot(db: Kysely<any>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of COPY_ORDER) {
    const r = await sql<{ row: string }>`select to_jsonb(t)::text as row from ${sql.table(table)} t order by 1`.execute(db);
    out[table] = r.rows.map((x) => x.row);
  }
  return out;
}

async function counts(db: Kysely<any>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of COPY_ORDER) {
    const r = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    out[table] = Number(r.rows[0]!.n);
  }
  return out;
}

async function getJson(url: string, headers: Record<string, string>) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as any };
}

let before: { actor: any; token: string; jti: string; pod: any; sourceCounts: Record<string, number> };
let report: CopyReport;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-copy-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  target = await createPostgresDatabase();

  // A node on the embedded database: the pod made on first start, a token and a follower.
  const source = await start({ DATA_DIR: dataDir });
  expect(source.ctx.database.kind).toBe("pglite");
  expect(source.createdPod?.slug).toBe("oak-street");
  const issued = await issueToken(source.ctx.deps, { podSlug: "oak-street", label: "laptop" });
  await receiveFollow(source.ctx.deps, { podSlug: "oak-street", actor: FOLLOWER, followIri: "http://127.0.0.1:9/follows/1" });
  // Steward web app rows: a steward signed in from a link, one it invited, a pending link, an uploaded icon.
  const first = new StewardClient(origin, "oak-street");
  expect((await first.useLink((await createInvite(source.ctx.deps, { podSlug: "oak-street" })).url!)).status).toBe(303);
  const invite = await createInvite(source.ctx.deps, { podSlug: "oak-street", createdBy: (await listStewards(source.ctx.deps, "oak-street"))[0]!.id });
  expect((await new StewardClient(origin, "oak-street").useLink(invite.url!)).status).toBe(303);
  await createInvite(source.ctx.deps, { podSlug: "oak-street" });
  await endStewardship(source.ctx.deps, "oak-street", 1);
  expect(first.cookie).not.toBeNull();
  await setPodIcon(source.ctx.deps, "oak-street", PNG);
  const actor = await getJson(`${origin}/pods/oak-street`, { accept: AP });
  expect(actor.status).toBe(200);
  const pod = await getJson(`${origin}/api/hyphae/v1/pods/oak-street`, { authorization: `Bearer ${issued.token}` });
  expect(pod.status).toBe(200);
  expect(pod.body.followers).toBe(1);
  await stop(source);

  const opened = await openDatabase({ dataDir });
  let sourceCounts: Record<string, number>;
  try {
    sourceCounts = await counts(opened.db);
  } finally {
    await opened.close();
  }
  before = { actor: actor.body, token: issued.token, jti: issued.jti, pod: pod.body, sourceCounts };
});

afterAll(async () => {
  for (const node of nodes) await node.stop().catch(() => {});
  await target?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("db copy from PGlite to PostgreSQL", () => {
  it("copies every row of every table and releases the data directory", async () => {
    expect(before.sourceCounts).toMatchObject({ pods: 1, pod_keys: 2, remote_actors: 1, followers: 1, steward_tokens: 1, node_secrets: 1, stewards: 2, steward_invites: 3, steward_sessions: 2, pod_icons: 1 });
    expect(before.sourceCounts.outbox_events).toBeGreaterThanOrEqual(1);

    report = await copyDatabase({ dataDir, targetUrl: target.url });
    expect(report.tables).toEqual(before.sourceCounts);
    expect(lockHolder(dataDir)).toBeNull();

    const copied = await openDatabase({ databaseUrl: target.url });
    try {
      expect(await counts(copied.db)).toEqual(before.sourceCounts);
    } finally {
      await copied.close();
    }
  });

  it("a node on the PostgreSQL copy serves the same pod, keys, token and follower", async () => {
    const node = await start({ DATABASE_URL: target.url, DATA_DIR: path.join(dataDir, "unused") });
    try {
      expect(node.ctx.database.kind).toBe("postgres");
      // The pod was copied, so the node did not make a fresh one (with fresh keys).
      expect(node.createdPod).toBeNull();

      const actor = await getJson(`${origin}/pods/oak-street`, { accept: AP });
      expect(actor.status).toBe(200);
      expect(actor.body.id).toBe(before.actor.id);
      expect(actor.body.publicKey.publicKeyPem).toBe(before.actor.publicKey.publicKeyPem);
      expect(actor.body.publicKey.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      expect(actor.body.assertionMethod).toEqual(before.actor.assertionMethod);
      expect(actor.body.published).toBe(before.actor.published);

      const token = await getJson(`${origin}/api/hyphae/v1/token`, { authorization: `Bearer ${before.token}` });
      expect(token.status).toBe(200);
      expect(token.body).toMatchObject({ jti: before.jti, pod: "oak-street", role: "steward" });

      const pod = await getJson(`${origin}/api/hyphae/v1/pods/oak-street`, { authorization: `Bearer ${before.token}` });
      expect(pod.status).toBe(200);
      expect(pod.body).toEqual(before.pod);

      const followers = await getJson(`${origin}/api/hyphae/v1/pods/oak-street/followers`, { authorization: `Bearer ${before.token}` });
      expect(followers.body.items).toEqual([expect.objectContaining({ actor: FOLLOWER.iri, handle: FOLLOWER.handle, name: "Alice", status: "accepted" })]);
      const collection = await getJson(`${origin}/pods/oak-street/followers`, { accept: AP });
      expect(collection.body.totalItems).toBe(1);
    } finally {
      await stop(node);
    }
  });

  it("refuses a second copy into the now non-empty target and changes nothing", async () => {
    const copied = await openDatabase({ databaseUrl: target.url });
    try {
      const snap = await snapshot(copied.db);
      expect(snap.pods).toHaveLength(1);
      const error = await copyDatabase({ dataDir, targetUrl: target.url }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CopyError);
      expect((error as CopyError).code).toBe("COPY_TARGET_NOT_EMPTY");
      expect((error as CopyError).message).toContain("pods");
      expect(await snapshot(copied.db)).toEqual(snap);
      expect(lockHolder(dataDir)).toBeNull();
    } finally {
      await copied.close();
    }
  });

  it("continues identity sequences after the copied ids", async () => {
    const copied = await openDatabase({ databaseUrl: target.url });
    try {
      const max = await sql<{ id: string }>`select max(id) as id from outbox_events`.execute(copied.db);
      const inserted = await sql<{ id: string }>`
        insert into outbox_events (pod_id, kind, payload, ordering_key)
        select id, 'test', '{}'::jsonb, 'test' from pods limit 1 returning id`.execute(copied.db);
      expect(BigInt(inserted.rows[0]!.id)).toBeGreaterThan(BigInt(max.rows[0]!.id));
    } finally {
      await copied.close();
    }
  });
});
