/**
 * Permanent failures are permanent. A pod on our node follows a pod on another server (a
 * small ActivityPub server written here on node:http, signing like Mastodon with the
 * helpers in tests/helpers/mastodon.ts). That server announces a charter Note whose name
 * holds a NUL character, which PostgreSQL cannot store:
 *   - our node fetches the Note once, refuses the activity, logs one warn line with the
 *     activity id and a reason code (never the Note's text) and nothing at error;
 *   - the activity is not retried: no queue row is left for it and no second fetch comes,
 *     even when the same activity is delivered again after Fedify's own mark is gone;
 *   - no charter copy is stored, and a clean revision afterwards is stored normally;
 *   - a transient failure (the Note answers 503 once) is retried and then stored.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { configure, reset, type LogRecord } from "@logtape/logtape";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listFollowing, requestFollow } from "../../src/services/follows.ts";
import { AS_CONTEXT, postSigned, recordedJson, type RecordedRequest } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const SLUG = "hazel-green";
const WAIT = 30_000;
const TEST_TIMEOUT = 90_000;
const HYPHAE_NS = "https://hyphae-pods.github.io/ns#";

interface RemotePod {
  origin: string;
  actorUrl: string;
  signer: { keyId: string; privateKey: ReturnType<typeof generateKeyPairSync>["privateKey"] };
  /** Documents served by path (the Notes). */
  documents: Map<string, unknown>;
  /** Statuses to answer instead, by path, one per request (e.g. a 503 before the document). */
  failures: Map<string, number[]>;
  requests: Array<Pick<RecordedRequest, "method" | "path" | "body">>;
  close(): Promise<void>;
}

/** A remote pod: one Group actor, its inbox (202 for everything), and whatever Notes the test serves. */
async function startRemotePod(): Promise<RemotePod> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const documents = new Map<string, unknown>();
  const failures = new Map<string, number[]>();
  const requests: RemotePod["requests"] = [];
  let origin = "";
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      requests.push({ method: req.method ?? "GET", path, body: Buffer.concat(chunks) });
      const send = (status: number, body?: unknown) => {
        res.statusCode = status;
        if (body !== undefined) res.setHeader("content-type", "application/activity+json");
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      if (req.method === "POST") return send(202);
      const actorUrl = `${origin}/pods/willow`;
      if (path === "/pods/willow") {
        return send(200, {
          "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
          id: actorUrl,
          type: "Group",
          preferredUsername: "willow",
          name: "Willow",
          inbox: `${actorUrl}/inbox`,
          outbox: `${actorUrl}/outbox`,
          followers: `${actorUrl}/followers`,
          following: `${actorUrl}/following`,
          publicKey: { id: `${actorUrl}#main-key`, owner: actorUrl, publicKeyPem },
          endpoints: { sharedInbox: `${origin}/inbox` },
        });
      }
      const failure = failures.get(path)?.shift();
      if (failure !== undefined) return send(failure, { error: "try later" });
      const doc = documents.get(path);
      return doc === undefined ? send(404) : send(200, doc);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const actorUrl = `${origin}/pods/willow`;
  return {
    origin,
    actorUrl,
    signer: { keyId: `${actorUrl}#main-key`, privateKey },
    documents,
    failures,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let node: TestNode;
let remote: RemotePod;
let podInbox: string;
const records: LogRecord[] = [];

/** A charter Note as a Hyphae pod serves it (the fields our reader needs). */
function charterNote(id: string, revision: number, title: string) {
  return {
    "@context": [AS_CONTEXT, { hyphae: HYPHAE_NS, charterRevision: "hyphae:charterRevision", servicesNow: "hyphae:servicesNow", licence: "hyphae:licence" }],
    id,
    type: "Note",
    attributedTo: remote.actorUrl,
    name: title,
    content: "<p>Our charter</p>",
    published: "2026-11-01T10:00:00Z",
    updated: new Date(Date.UTC(2026, 10, 1, 10, revision)).toISOString(),
    charterRevision: revision,
    servicesNow: [{ name: "Community kitchen", description: "Meals on Fridays", category: "food", since: "2025-01-10" }],
    licence: { name: "CC BY-SA 4.0", url: "https://creativecommons.org/licenses/by-sa/4.0/" },
  };
}

function create(note: { id: string; updated: string }) {
  return {
    "@context": AS_CONTEXT,
    id: `${remote.actorUrl}#create/${randomUUID()}`,
    type: "Create",
    actor: remote.actorUrl,
    object: { id: note.id, type: "Note", attributedTo: remote.actorUrl, updated: note.updated },
  };
}

const fetchesOf = (path: string) => remote.requests.filter((r) => r.method === "GET" && r.path === path).length;

async function queuedFor(activityId: string): Promise<number> {
  const rows = await node.deps.db.selectFrom("fedify_queue").select("message").execute();
  return rows.filter((r) => JSON.stringify(r.message).includes(activityId)).length;
}

beforeAll(async () => {
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category: ["fedify"], sinks: ["capture"], lowestLevel: "debug" },
      { category: ["hyphae"], sinks: ["capture"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" },
    ],
  });
  [node, remote] = await Promise.all([startTestNode({ podSlug: SLUG }), startRemotePod()]);
  podInbox = `${node.actorUrl(SLUG)}/inbox`;
  // Our pod follows the remote pod, which accepts with a signed Accept.
  await requestFollow(node.deps, SLUG, remote.actorUrl);
  const followPost = await waitFor(
    () => remote.requests.map((r) => (r.method === "POST" ? recordedJson(r as RecordedRequest) : null)).find((a) => a?.type === "Follow"),
    WAIT,
    "our Follow at the remote pod",
  );
  const accept = { "@context": AS_CONTEXT, id: `${remote.actorUrl}#accepts/${randomUUID()}`, type: "Accept", actor: remote.actorUrl, object: followPost.id };
  expect((await postSigned(podInbox, accept, { signer: remote.signer })).status).toBe(202);
  await waitFor(async () => (await listFollowing(node.deps, SLUG)).some((f) => f.status === "accepted"), WAIT, "the follow to be accepted");
}, TEST_TIMEOUT);

afterAll(async () => {
  await Promise.all([node?.stop(), remote?.close()]);
  await reset();
}, TEST_TIMEOUT);

describe("inbox: an input that can never be stored is refused once and not retried", () => {
  it("a charter Note whose name holds NUL: fetched once, one warn line with id and reason, no retry, nothing stored", async () => {
    const from = records.length;
    const marker = `Willow${randomUUID()}`;
    const notePath = "/pods/willow/charter";
    const note = charterNote(`${remote.origin}${notePath}`, 1, `${marker}\u0000 charter`);
    remote.documents.set(notePath, note);
    const activity = create(note);

    expect((await postSigned(podInbox, activity, { signer: remote.signer })).status).toBe(202);
    const row = await waitFor(
      () => node.deps.db.selectFrom("inbox_activities").selectAll().where("key", "=", activity.id).executeTakeFirst(),
      WAIT,
      "the activity to be recorded",
    );
    expect(row).toMatchObject({ outcome: "refused", activity_type: "Create", actor_iri: remote.actorUrl });
    expect(["BAD_TEXT", "VALIDATION_FAILED"]).toContain(row.reason);
    await waitFor(async () => (await queuedFor(activity.id)) === 0, WAIT, "the queue to let go of the activity");

    // Delivered again, after Fedify's own mark is gone: our record stops it before any fetch.
    await node.deps.db.deleteFrom("fedify_kv").where("key", "like", '["_fedify","activityIdempotence",%').execute();
    expect((await postSigned(podInbox, activity, { signer: remote.signer })).status).toBe(202);
    await waitFor(
      () => records.slice(from).some((r) => r.message.join("") === "Inbox activity already received" && r.properties.id === activity.id),
      WAIT,
      "the copy to be skipped",
    );
    // Long enough for a first retry (Fedify's backoff starts at about a second).
    await new Promise((r) => setTimeout(r, 4_000));
    expect(fetchesOf(notePath)).toBe(1);
    expect(await queuedFor(activity.id)).toBe(0);
    expect(await node.deps.db.selectFrom("remote_charters").selectAll().execute()).toEqual([]);

    const mine = records.slice(from);
    const warnings = mine.filter((r) => r.level === "warning");
    expect(warnings.map((r) => `${r.category.join(".")} ${r.message.join("")}`)).toEqual(["hyphae Inbox activity refused"]);
    expect(warnings[0]!.properties).toMatchObject({ id: activity.id, type: "Create", code: row.reason });
    expect(String(warnings[0]!.properties.reason)).toMatch(/NUL/);
    expect(mine.filter((r) => r.level === "error" || r.level === "fatal")).toEqual([]);
    for (const r of mine.filter((r) => r.category[0] === "hyphae")) expect(JSON.stringify(r.properties)).not.toContain(marker);
  }, TEST_TIMEOUT);

  it("a lone surrogate is refused the same way, and a clean revision afterwards is stored", async () => {
    const path = "/pods/willow/charter-2";
    const bad = charterNote(`${remote.origin}${path}`, 2, "Willow \ud800 charter");
    remote.documents.set(path, bad);
    const refused = create(bad);
    expect((await postSigned(podInbox, refused, { signer: remote.signer })).status).toBe(202);
    const row = await waitFor(
      () => node.deps.db.selectFrom("inbox_activities").selectAll().where("key", "=", refused.id).executeTakeFirst(),
      WAIT,
      "the activity to be recorded",
    );
    expect(row.outcome).toBe("refused");
    expect(["BAD_TEXT", "VALIDATION_FAILED"]).toContain(row.reason);
    const warning = records.find((r) => r.level === "warning" && r.properties.id === refused.id);
    expect(String(warning?.properties.reason)).toMatch(/surrogate/);
    expect(fetchesOf(path)).toBe(1);

    const goodPath = "/pods/willow/charter-3";
    const good = charterNote(`${remote.origin}${goodPath}`, 3, "Willow charter");
    remote.documents.set(goodPath, good);
    const accepted = create(good);
    expect((await postSigned(podInbox, accepted, { signer: remote.signer })).status).toBe(202);
    await waitFor(
      async () => (await node.deps.db.selectFrom("remote_charters").select("revision").executeTakeFirst())?.revision === 3,
      WAIT,
      "the clean charter",
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; logs: ${records.filter((r) => r.category[0] === "hyphae").slice(-5).map((r) => `${r.message.join("")} ${JSON.stringify(r.properties)}`).join(" | ")}`);
    });
    expect(await node.deps.db.selectFrom("inbox_activities").select("outcome").where("key", "=", accepted.id).executeTakeFirst()).toEqual({ outcome: "processed" });
  }, TEST_TIMEOUT);

  it("a transient failure (503 on the first fetch) is retried by the queue, then stored once", async () => {
    const path = "/pods/willow/charter-4";
    const note = charterNote(`${remote.origin}${path}`, 4, "Willow charter, fourth");
    remote.documents.set(path, note);
    remote.failures.set(path, [503]);
    const activity = create(note);
    expect((await postSigned(podInbox, activity, { signer: remote.signer })).status).toBe(202);
    await waitFor(
      async () => (await node.deps.db.selectFrom("remote_charters").select("revision").executeTakeFirst())?.revision === 4,
      WAIT,
      "the charter after a retry",
    );
    expect(fetchesOf(path)).toBe(2);
    expect(await node.deps.db.selectFrom("inbox_activities").select("outcome").where("key", "=", activity.id).executeTakeFirst()).toEqual({ outcome: "processed" });
    await waitFor(async () => (await queuedFor(activity.id)) === 0, WAIT, "the queue to let go of the activity");
  }, TEST_TIMEOUT);
});
