/**
 * A real node process on an embedded data directory that a previous run left with a
 * leased (interrupted) message and a dead letter: right after start, /healthz and
 * `hyphae status` (through the admin socket) show no lease left and the dead letter; the
 * interrupted message runs at once, not after its lease; `hyphae queue list --dead` and
 * `hyphae queue retry` work through the socket.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { freePort, waitFor } from "../helpers/node.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
let dir: string;
let dataDir: string;
let origin: string;
let port: number;
const children: ChildProcessWithoutNullStreams[] = [];

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), DATA_DIR: dataDir, LOG_LEVEL: "error", HOST: "127.0.0.1", PORT: String(port), PUBLIC_URL: origin, QUEUE_POLL_SECONDS: "300", QUEUE_LEASE_SECONDS: "3600" };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["src/cli/hyphae.ts", ...args], { cwd: ROOT, env: env() });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}
async function json(args: string[]): Promise<any> {
  const r = await run(["--json", ...args]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-queue-restart-"));
  dataDir = path.join(dir, "data");
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  // What a killed run leaves: a message leased for an hour, and a dead letter.
  const db = await openDatabase({ dataDir });
  await migrateToLatest(db.db);
  await sql`insert into fedify_queue (message, available_at, lease_until, leased_by, attempts)
            values ('{"type":"noop","n":1}', now() - interval '30 seconds', now() + interval '1 hour', 'host:999999:killed', 1)`.execute(db.db);
  await sql`insert into fedify_queue_dead (id, message, attempts, last_error, created_at)
            values (77, '{"type":"noop","n":2}', 25, 'Error: gave up', now())`.execute(db.db);
  await db.close();
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("a node restarted on its embedded data directory", () => {
  it("runs the interrupted message at once and reports honest counts; dead letters are listed and retried through the admin socket", { timeout: 90_000 }, async () => {
    const node = spawn(process.execPath, ["src/main.ts"], { cwd: ROOT, env: env() });
    children.push(node);
    node.stdout.resume();
    node.stderr.resume();
    // Lease and poll are an hour and five minutes: only the reclaim at start can run it now.
    const health = await waitFor(async () => {
      const body = (await (await fetch(`${origin}/healthz`)).json()) as any;
      return body.queue.leased === 0 && body.queue.queued === 0 ? body : null;
    }, 30_000, "the interrupted message to run");
    expect(health.queue).toMatchObject({ queued: 0, leased: 0, dead: 1, oldestPendingSeconds: 0 });

    const status = await json(["status"]);
    expect(status).toMatchObject({ database: "pglite", queue: { leased: 0, dead: 1 } });
    const human = await run(["status"]);
    expect(human.stdout).toContain("1 dead letters");

    const dead = await json(["queue", "list", "--dead"]);
    expect(dead).toEqual([expect.objectContaining({ id: "77", type: "noop", attempts: 25, lastError: "Error: gave up" })]);
    const missing = await run(["queue", "retry", "78"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("QUEUE_DEAD_LETTER_NOT_FOUND");

    const retried = await json(["queue", "retry", "77"]);
    expect(retried.retried).toEqual([expect.objectContaining({ deadId: "77" })]);
    // NOTIFY from the retry wakes the node's worker (polling is five minutes away).
    await waitFor(async () => {
      const s = await json(["status"]);
      return s.queue.dead === 0 && s.queue.queued === 0 && s.queue.leased === 0;
    }, 30_000, "the retried message to run");
    expect(await json(["queue", "list"])).toEqual([]);

    node.kill("SIGTERM");
    const code = await new Promise((resolve) => (node.exitCode !== null ? resolve(node.exitCode) : node.once("exit", resolve)));
    expect(code).toBe(0);
  });
});
