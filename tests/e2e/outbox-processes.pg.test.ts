/**
 * Real processes on PostgreSQL sharing one outbox: a web process and two workers, each of
 * which flushes (the web after its own commits, the workers periodically), and a
 * recording receiver on loopback.
 *
 * - Every event is handed over by one process only and arrives exactly once, in order
 *   per remote actor.
 * - A CLI process and then a worker are killed with SIGKILL right after claiming an event
 *   (fault `kill-after-outbox-claim`): the event is delivered once, by the next process
 *   after the claims' leases run out.
 * - A dead letter is listed and brought back with the `hyphae outbox` commands.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { createAppContext } from "../../src/wiring.ts";
import { createPostgresDatabase } from "../helpers/db.ts";
import { freePort, waitFor } from "../helpers/node.ts";
import { startRecorder, type Recorder } from "../helpers/recorder.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const POD = "oak-street";
const LEASE_SECONDS = 4;

let database: { url: string; drop: () => Promise<void> };
let handle: DatabaseHandle;
let rec: Recorder;
let env: Record<string, string>;
let origin: string;
const processes: ChildProcess[] = [];

function startProcess(role: "web" | "worker", extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, "src/main.ts")], { cwd: ROOT, env: { ...env, NODE_ROLE: role, ...extra }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.resume();
  child.stderr!.resume();
  processes.push(child);
  return child;
}

function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "src/cli/hyphae.ts"), ...args], { cwd: ROOT, env: { ...env, ...extra } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const exited = (p: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    p.exitCode !== null || p.signalCode !== null ? resolve({ code: p.exitCode, signal: p.signalCode }) : p.once("exit", (code, signal) => resolve({ code, signal })),
  );

async function live(): Promise<number> {
  const row = await handle.db.selectFrom("outbox_events").select((eb) => eb.fn.countAll<string>().as("n")).where("sent_at", "is", null).executeTakeFirstOrThrow();
  return Number(row.n);
}

beforeAll(async () => {
  database = await createPostgresDatabase();
  handle = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
  await migrateToLatest(handle.db);
  rec = await startRecorder();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  env = {
    PATH: process.env.PATH ?? "",
    DATABASE_URL: database.url,
    PUBLIC_URL: origin,
    PORT: String(port),
    HOST: "127.0.0.1",
    POD_SLUG: POD,
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "error",
    QUEUE_LEASE_SECONDS: String(LEASE_SECONDS),
    QUEUE_POLL_SECONDS: "1",
  };
});

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  await rec?.close();
  await handle?.close();
  await database?.drop();
});

describe("one outbox shared by a web process and two workers", () => {
  it("hands every event over once: each activity arrives exactly once, in order per actor", async () => {
    const web = startProcess("web");
    startProcess("worker");
    startProcess("worker");
    await waitFor(async () => (await fetch(`${origin}/healthz`).catch(() => null))?.ok, 60_000, "the web process");
    const issued = await cli(["token", "issue", "--pod", POD, "--json"]);
    expect(issued.stderr).toBe("");
    const token = JSON.parse(issued.stdout).token as string;
    const api = (method: string, p: string, body?: unknown) =>
      fetch(`${origin}/api/hyphae/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });

    // 12 follows at once, then unfollow every other one: 18 events, most flushed by the
    // web process while the workers' periodic flushes compete for the same rows.
    const names = Array.from({ length: 12 }, (_, i) => `a${i}`);
    const follows = await Promise.all(names.map((name) => api("POST", `/pods/${POD}/following`, { target: rec.actorUrl(name) })));
    expect(follows.map((r) => r.status)).toEqual(names.map(() => 202));
    const unfollowed = names.filter((_, i) => i % 2 === 0);
    const undos = await Promise.all(unfollowed.map((name) => api("DELETE", `/pods/${POD}/following?target=${encodeURIComponent(rec.actorUrl(name))}`)));
    expect(undos.map((r) => r.status)).toEqual(unfollowed.map(() => 200));

    await waitFor(() => rec.received.length >= 18, 60_000, "18 deliveries");
    await waitFor(async () => (await live()) === 0, 30_000, "the outbox to empty");
    await new Promise((r) => setTimeout(r, 3000)); // time for any (wrong) second send
    const ids = rec.received.map((r) => r.id);
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(twice, `received more than once: ${twice.join(", ")}`).toEqual([]);
    expect(ids).toHaveLength(18);
    expect(new Set(ids).size).toBe(18);
    for (const name of names) {
      const got = rec.inbox(name).map((r) => r.type);
      expect(got).toEqual(unfollowed.includes(name) ? ["Follow", "Undo"] : ["Follow"]);
    }
    // Each event was claimed once (one attempt) and is marked sent.
    const rows = await handle.db.selectFrom("outbox_events").select(["attempts", "sent_at"]).execute();
    expect(rows).toHaveLength(18);
    expect(rows.every((r) => r.attempts === 1 && r.sent_at !== null)).toBe(true);

    const health = await (await fetch(`${origin}/healthz`)).json();
    expect(health.outbox).toMatchObject({ pending: 0, dead: 0 });
    web.kill("SIGTERM");
    expect(await exited(web)).toEqual({ code: 0, signal: null });
  }, 180_000);

  it("delivers an event once after the processes that claimed it were killed with SIGKILL mid-flush", async () => {
    // Only processes with the fault run now: every claim ends in SIGKILL.
    for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    await Promise.all(processes.map(exited));
    const fault = { HYPHAE_TEST_FAULTS: "kill-after-outbox-claim" };

    // The CLI commits the follow, claims its event and is killed before handing it over.
    const followed = await cli(["follow", rec.actorUrl("once"), "--pod", POD], fault);
    expect(followed.signal).toBe("SIGKILL");
    const event = await handle.db.selectFrom("outbox_events").selectAll().orderBy("id", "desc").limit(1).executeTakeFirstOrThrow();
    expect(event).toMatchObject({ kind: "send_follow", attempts: 1, sent_at: null });
    expect(event.leased_by).toMatch(/:\d+:/);

    // A worker with the fault takes it over once the lease runs out, and dies the same way.
    const doomed = startProcess("worker", fault);
    expect(await exited(doomed)).toEqual({ code: null, signal: "SIGKILL" });
    expect((await handle.db.selectFrom("outbox_events").select("attempts").where("id", "=", event.id).executeTakeFirstOrThrow()).attempts).toBe(2);
    expect(rec.inbox("once")).toHaveLength(0);

    // A healthy worker sends it, once.
    startProcess("worker");
    await waitFor(() => rec.inbox("once").length === 1, 30_000, "the delivery");
    await waitFor(async () => (await live()) === 0, 10_000, "the event to be marked sent");
    await new Promise((r) => setTimeout(r, LEASE_SECONDS * 1000 + 2000));
    expect(rec.inbox("once")).toHaveLength(1);
    expect(rec.inbox("once")[0]!.type).toBe("Follow");
    expect(await handle.db.selectFrom("outbox_events").select(["attempts"]).where("id", "=", event.id).executeTakeFirstOrThrow()).toEqual({ attempts: 3 });
  }, 120_000);

  it("lists a dead letter and brings it back with hyphae outbox retry", async () => {
    // A dead letter, made the way the outbox makes them: an event whose publisher throws
    // (its actor's stored inbox is not a URL), tried again three days later.
    const broken = rec.actorUrl("broken");
    await handle.db.insertInto("remote_actors").values({ iri: broken, handle: null, name: null, url: null, inbox: "not a url", shared_inbox: null }).execute();
    let now = Date.now();
    const ctx = await createAppContext(loadConfig(env), { clock: { now: () => new Date(now) } });
    try {
      const pod = await handle.db.selectFrom("pods").select("id").where("slug", "=", POD).executeTakeFirstOrThrow();
      await handle.db.transaction().execute((trx) => ctx.outbox.record(trx, { kind: "send_follow", podId: pod.id, actorIri: broken, followIri: `${origin}/pods/${POD}/follows/broken` }));
      await ctx.outbox.drain();
      now += 73 * 3_600_000;
      await ctx.outbox.drain();
    } finally {
      await ctx.close();
    }

    const listed = await cli(["outbox", "list", "--failed", "--json"]);
    expect(listed.stderr).toBe("");
    const dead = JSON.parse(listed.stdout) as Array<{ id: string; kind: string; to: string; state: string; lastError: string }>;
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ kind: "send_follow", to: broken, state: "dead" });
    expect(dead[0]!.lastError).toMatch(/Invalid URL/);
    const human = await cli(["outbox", "list", "--failed"]);
    expect(human.stdout).toContain(`send_follow  ${POD} -> ${broken}`);
    const health = await handle.db.selectFrom("outbox_events").select("dead_at").where("id", "=", dead[0]!.id).executeTakeFirstOrThrow();
    expect(health.dead_at).not.toBeNull();

    const bad = await cli(["outbox", "retry"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Give one event id, or --all.");
    const missing = await cli(["outbox", "retry", "987654"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("(OUTBOX_EVENT_NOT_FOUND)");

    await handle.db.updateTable("remote_actors").set({ inbox: rec.inboxUrl("broken") }).where("iri", "=", broken).execute();
    const retried = await cli(["outbox", "retry", dead[0]!.id]);
    expect({ code: retried.code, stderr: retried.stderr }).toEqual({ code: 0, stderr: "" });
    expect(retried.stdout).toContain(`Retrying event ${dead[0]!.id}.`);
    await waitFor(() => rec.inbox("broken").length === 1, 30_000, "the retried Follow");
    expect(rec.inbox("broken")[0]!.type).toBe("Follow");
    expect(JSON.parse((await cli(["outbox", "list", "--failed", "--json"])).stdout)).toEqual([]);
    expect(JSON.parse((await cli(["outbox", "list", "--json"])).stdout)).toEqual([]);
  }, 120_000);
});
