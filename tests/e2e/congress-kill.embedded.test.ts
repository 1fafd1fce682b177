/**
 * Killing nodes in the middle of a congress exchange (real node processes on PGlite,
 * real HTTP and signatures between them):
 *
 *   1. oak-street (A) and elm-row (B) follow each other; A offers squash; B claims 15 kg and
 *      A's rule accepts it.
 *   2. A is killed (SIGKILL) right after the transfer commits, before it answers the steward
 *      or sends anything: the steward sees the connection drop.
 *   3. A restarts and its outbox sends the transfer to B; B is killed right after it books
 *      the transfer in (before the queue message is acknowledged and before its
 *      acknowledgement leaves).
 *   4. B restarts: the delivery is retried and changes nothing; B's acknowledgement reaches A.
 *   5. The steward retries with the same Idempotency-Key: the first answer, not a second transfer.
 * In the end each ledger holds exactly one transfer entry, both chains verify, and A's
 * transfer is acknowledged.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/node.ts";
import { ProcessGroup } from "../helpers/processes.ts";

const WAIT = 90_000;

interface Side {
  slug: string;
  dataDir: string;
  port: number;
  origin: string;
  procs: ProcessGroup;
  token: string;
  node: ReturnType<ProcessGroup["node"]> | null;
}

let A: Side;
let B: Side;

function side(slug: string, name: string, port: number): Side {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `hyphae-congress-kill-${slug}-`));
  const origin = `http://127.0.0.1:${port}`;
  const procs = new ProcessGroup(() => ({
    HOME: os.tmpdir(),
    DATA_DIR: dataDir,
    LOG_LEVEL: "error",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: origin,
    POD_SLUG: slug,
    POD_NAME: name,
    ALLOW_PRIVATE_ADDRESSES: "true",
    QUEUE_POLL_SECONDS: "1",
    QUEUE_LEASE_SECONDS: "3",
    // Retries come within seconds (the schedule scales with the give-up age).
    OUTBOX_GIVE_UP_HOURS: "1",
  }));
  return { slug, dataDir, port, origin, procs, token: "", node: null };
}

async function start(s: Side, faults?: string): Promise<void> {
  s.node = s.procs.node(faults ? { HYPHAE_TEST_FAULTS: faults } : {});
  await s.node.ready;
}

async function stop(s: Side): Promise<void> {
  if (!s.node) return;
  s.node.child.kill("SIGTERM");
  await s.node.done;
  s.node = null;
}

async function api(s: Side, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${s.origin}/api/hyphae/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

const actor = (s: Side) => `${s.origin}/pods/${s.slug}`;
const entries = async (s: Side, kind: string) => ((await api(s, "GET", `/pods/${s.slug}/ledger/entries?limit=500`)).body.items as any[]).filter((e) => e.kind === kind);

async function follow(from: Side, to: Side) {
  expect((await api(from, "POST", `/pods/${from.slug}/following`, { target: actor(to) })).status).toBe(202);
  await waitFor(
    async () => (await api(from, "GET", `/pods/${from.slug}/following`)).body.items.some((i: any) => i.actor === actor(to) && i.status === "accepted"),
    WAIT,
    `${from.slug} to follow ${to.slug}`,
  );
}

beforeAll(async () => {
  const [pa, pb] = [await freePort(), await freePort()];
  A = side("oak-street", "Oak Street", pa);
  B = side("elm-row", "Elm Row", pb);
  await Promise.all([start(A), start(B)]);
  for (const s of [A, B]) {
    const issued = await s.procs.hyphae(["--json", "token", "issue", "--pod", s.slug]);
    expect(issued.stderr).toBe("");
    s.token = (JSON.parse(issued.stdout) as { token: string }).token;
  }
}, 180_000);

afterAll(() => {
  for (const s of [A, B]) {
    s?.procs.killAll();
    if (s?.dataDir) fs.rmSync(s.dataDir, { recursive: true, force: true });
  }
});

describe("a node killed in the middle of an exchange", () => {
  it("completes the exchange after restarts with nothing booked twice", { timeout: 420_000 }, async () => {
    await follow(B, A);
    await follow(A, B);
    expect((await api(A, "POST", `/pods/${A.slug}/resources`, { key: "squash", name: "Squash", unit: "kilogram", category: "food" })).status).toBe(201);
    expect((await api(A, "POST", `/pods/${A.slug}/ledger/entries`, { kind: "contribution", resource: "squash", quantity: "40", counterpartyLabel: "allotment" })).status).toBe(201);
    expect((await api(A, "PATCH", `/pods/${A.slug}/claim-rules`, { autoAcceptUpTo: "20" })).status).toBe(200);
    const offer = await api(A, "POST", `/pods/${A.slug}/offers`, { resource: "squash", name: "Squash", quantity: "40", unit: "kilogram" });
    expect(offer.status).toBe(201);
    await waitFor(async () => JSON.stringify(await (await fetch(`${B.origin}/pods/${B.slug}/congress`, { headers: { accept: "application/json" } })).json()).includes(offer.body.url), WAIT, "B to hold the offer");
    const claim = await api(B, "POST", `/pods/${B.slug}/claims`, { proposal: offer.body.url, quantity: "15" });
    expect(claim.status).toBe(201);
    const accepted = await waitFor(async () => {
      const r = await api(B, "GET", `/pods/${B.slug}/claims/${claim.body.id}`);
      return r.body.status === "accepted" ? r.body : null;
    }, WAIT, "B's claim to be accepted");

    // B holds the offer's Update (15 kg taken) before it is restarted to die on its next inbox effect.
    await waitFor(async () => {
      const view = (await (await fetch(`${B.origin}/pods/${B.slug}/congress`, { headers: { accept: "application/json" } })).json()) as any;
      return view.neighbours.flatMap((n: any) => n.offers).some((o: any) => o.url === offer.body.url && o.remaining === "25");
    }, WAIT, "B to hold the offer's update");
    // B will die right after it books the transfer in.
    await stop(B);
    await start(B, "exit-after-inbox-commit");
    // A dies right after the transfer commits.
    await stop(A);
    await start(A, "exit-after-idempotent-commit");
    const doomedA = A.node!;
    await expect(api(A, "POST", `/pods/${A.slug}/transfers`, { agreement: accepted.agreement }, { "idempotency-key": "kill-transfer-1" })).rejects.toThrow();
    expect((await doomedA.done).code).toBeNull();

    // A restarts: its outbox sends the transfer; B books it and is killed.
    const doomedB = B.node!;
    await start(A);
    const diedB = await doomedB.done;
    expect(diedB.code).toBeNull();
    // B restarts without the fault: the retried delivery changes nothing; its acknowledgement leaves.
    await start(B);

    const retry = await api(A, "POST", `/pods/${A.slug}/transfers`, { agreement: accepted.agreement }, { "idempotency-key": "kill-transfer-1" });
    expect(retry.status).toBe(201);
    const transferId = retry.body.id as string;
    await waitFor(async () => (await api(A, "GET", `/pods/${A.slug}/transfers/${transferId}`)).body.acknowledgedAt, WAIT, "B's acknowledgement at A");

    expect(await entries(A, "transfer_out")).toHaveLength(1);
    const ins = await entries(B, "transfer_in");
    expect(ins).toHaveLength(1);
    expect(ins[0]).toMatchObject({ quantity: "15", agreement: accepted.agreement, counterparty: actor(A) });
    expect((await api(A, "GET", `/pods/${A.slug}/transfers`)).body.items).toHaveLength(1);
    expect((await api(B, "GET", `/pods/${B.slug}/transfers`)).body.items).toHaveLength(1);
    for (const s of [A, B]) {
      const verified = await api(s, "GET", `/pods/${s.slug}/ledger/verify`);
      expect(verified.body).toMatchObject({ ok: true, fault: null });
    }
    await Promise.all([stop(A), stop(B)]);
  });
});
