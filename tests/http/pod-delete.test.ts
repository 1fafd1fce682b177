/**
 * Deleting a pod on a real node, through the steward API and the admin operation the CLI
 * runs: a pod that has published nothing goes with every row (the slug is free again); a
 * pod with a charter, an outbound activity or an accepted follower is refused with
 * POD_HAS_PUBLISHED and nothing changes; a pending follow request does not count; a
 * delete racing a charter publication never leaves half of either.
 */
import fs from "node:fs";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import { receiveFollow } from "../../src/services/follows.ts";
import { createPod, deletePod, getPod } from "../../src/services/pods.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const PREFIX = "/api/hyphae/v1";
const AP = { accept: "application/activity+json" };

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "commons" });
});

afterAll(async () => {
  await node?.stop();
});

async function call(method: string, path: string, token: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${node.origin}${PREFIX}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

/** Every row, in every table that refers to pods, that belongs to this pod id. */
async function rowsOf(podId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ["pods", "pod_keys", "followers", "following", "outbox_events", "steward_tokens", "charter_revisions", "charters", "charter_events"]) {
    const column = table === "pods" ? "id" : "pod_id";
    const r = await sql<{ n: string }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} = ${podId}`.execute(node.deps.db);
    counts[table] = Number(r.rows[0]!.n);
  }
  return counts;
}

const EXAMPLE = JSON.parse(fs.readFileSync(new URL("../../docs/charter.example.json", import.meta.url), "utf8")) as Record<string, unknown>;
const charter = (title: string) => ({ ...EXAMPLE, title });

function fakeFollower(n: number) {
  // A remote actor on a closed loopback port: deliveries to it fail and are retried later, which is fine here.
  const iri = `http://127.0.0.1:9/users/f${n}`;
  return { iri, handle: `@f${n}@127.0.0.1:9`, name: null, url: null, inbox: `${iri}/inbox`, sharedInbox: null };
}

describe("deleting a pod that has published nothing", () => {
  it("DELETE /pods/{slug} removes the first-start pod and all its rows; the slug is free again", async () => {
    const pod = await getPod(node.deps, "commons");
    const token = await node.token("commons");
    expect(await rowsOf(pod.id)).toMatchObject({ pods: 1, pod_keys: 2, steward_tokens: 1 });

    const r = await call("DELETE", "/pods/commons", token);
    expect(r).toEqual({ status: 200, body: { slug: "commons", deleted: true } });
    expect(Object.values(await rowsOf(pod.id)).every((n) => n === 0)).toBe(true);
    expect((await fetch(`${node.origin}/pods/commons`, { headers: AP })).status).toBe(404);
    expect((await fetch(`${node.origin}/.well-known/webfinger?resource=acct:commons@${node.host}`)).status).toBe(404);
    // Its tokens went with it.
    expect((await call("GET", "/token", token)).status).toBe(401);

    const again = await createPod(node.deps, { slug: "commons", name: "Commons, for real" });
    expect(again.id).not.toBe(pod.id);
    const actor = (await (await fetch(`${node.origin}/pods/commons`, { headers: AP })).json()) as any;
    expect(actor).toMatchObject({ type: "Group", name: "Commons, for real" });
  });

  it("a pod with only a pending follow request is deleted; the request is dropped unanswered", async () => {
    const pod = await createPod(node.deps, { slug: "quiet-lane", name: "Quiet Lane", manuallyApprovesFollowers: true });
    expect(await receiveFollow(node.deps, { podSlug: "quiet-lane", actor: fakeFollower(1), followIri: "http://127.0.0.1:9/follows/1" })).toBe("pending");
    expect(await rowsOf(pod.id)).toMatchObject({ followers: 1, outbox_events: 0 });
    expect(await runAdminOp(node.deps, "pod.delete", { pod: "quiet-lane" })).toEqual({ slug: "quiet-lane", deleted: true });
    expect(Object.values(await rowsOf(pod.id)).every((n) => n === 0)).toBe(true);
  });

  it("a second delete, an unknown pod and a bad slug get clear errors", async () => {
    await expect(runAdminOp(node.deps, "pod.delete", { pod: "quiet-lane" })).rejects.toMatchObject({ code: "POD_NOT_FOUND" });
    await expect(runAdminOp(node.deps, "pod.delete", { pod: "Quiet Lane" })).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    await expect(runAdminOp(node.deps, "pod.delete", {})).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
  });

  it("a token of another pod cannot delete it", async () => {
    await createPod(node.deps, { slug: "birch-lane", name: "Birch Lane" });
    const r = await call("DELETE", "/pods/birch-lane", await node.token("commons"));
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 403, error: "TOKEN_WRONG_POD" });
    expect((await getPod(node.deps, "birch-lane")).slug).toBe("birch-lane");
  });
});

describe("a pod that has published is refused, and nothing changes", () => {
  it("with a charter: 409 POD_HAS_PUBLISHED pointing to retire", async () => {
    const pod = await createPod(node.deps, { slug: "oak-street", name: "Oak Street" });
    await publishCharterRevision(node.deps, "oak-street", charter("Oak Street charter"));
    const before = await rowsOf(pod.id);
    expect(before).toMatchObject({ pods: 1, charter_revisions: 1, charters: 1, charter_events: 1, outbox_events: 1 });

    const r = await call("DELETE", "/pods/oak-street", await node.token("oak-street"));
    expect(r.status).toBe(409);
    expect(r.body.error).toBe("POD_HAS_PUBLISHED");
    expect(r.body.message).toContain("hyphae pod retire oak-street");
    expect(r.body.details).toEqual({ charterRevisions: 1, outboxEvents: 1, acceptedFollowers: 0, acceptedFollowing: 0 });
    expect(await rowsOf(pod.id)).toEqual({ ...before, steward_tokens: before.steward_tokens! + 1 });
    expect((await fetch(`${node.origin}/pods/oak-street`, { headers: AP })).status).toBe(200);
  });

  it("with an accepted follower (an Accept went out): refused too", async () => {
    const pod = await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
    expect(await receiveFollow(node.deps, { podSlug: "elm-row", actor: fakeFollower(2), followIri: "http://127.0.0.1:9/follows/2" })).toBe("accepted");
    const before = await rowsOf(pod.id);
    await expect(deletePod(node.deps, "elm-row")).rejects.toMatchObject({
      code: "POD_HAS_PUBLISHED",
      details: { charterRevisions: 0, outboxEvents: 1, acceptedFollowers: 1, acceptedFollowing: 0 },
    });
    expect(await rowsOf(pod.id)).toEqual(before);
  });

  it("a delete racing a charter publication: exactly one wins, nothing is half-written", async () => {
    for (let i = 0; i < 3; i++) {
      const slug = `race-${i}`;
      const pod = await createPod(node.deps, { slug, name: `Race ${i}` });
      const [deleted, published] = await Promise.allSettled([deletePod(node.deps, slug), publishCharterRevision(node.deps, slug, charter(`Race ${i}`))]);
      const rows = await rowsOf(pod.id);
      if (deleted.status === "fulfilled") {
        expect(published.status).toBe("rejected");
        expect(Object.values(rows).every((n) => n === 0)).toBe(true);
      } else {
        expect(deleted.reason).toMatchObject({ code: "POD_HAS_PUBLISHED" });
        expect(published.status).toBe("fulfilled");
        expect(rows).toMatchObject({ pods: 1, charter_revisions: 1, charters: 1, charter_events: 1, outbox_events: 1 });
      }
    }
  });
});
