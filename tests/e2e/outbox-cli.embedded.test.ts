/**
 * `hyphae outbox` through the admin socket of a running node on the embedded database:
 * the node holds the data directory, so the commands go to it, and its answers come back
 * (an empty dead-letter list, nothing to retry, a clear error for an unknown event).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/node.ts";
import { startRecorder, type Recorder } from "../helpers/recorder.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
let dataDir: string;
let env: Record<string, string>;
let node: ChildProcessWithoutNullStreams;
let rec: Recorder;

function hyphae(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "src/cli/hyphae.ts"), ...args], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  rec = await startRecorder();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-outbox-cli-"));
  const port = await freePort();
  env = { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), DATA_DIR: dataDir, LOG_LEVEL: "error", HOST: "127.0.0.1", PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ALLOW_PRIVATE_ADDRESSES: "true", QUEUE_POLL_SECONDS: "1" };
  node = spawn(process.execPath, [path.join(ROOT, "src/main.ts")], { cwd: ROOT, env });
  let out = "";
  node.stdout.on("data", (c) => (out += c));
  node.stderr.resume();
  await waitFor(() => out.includes("Get a steward token"), 60_000, "the node's banner");
}, 90_000);

afterAll(async () => {
  if (node && node.exitCode === null) {
    node.kill("SIGTERM");
    await new Promise((r) => node.once("exit", r));
  }
  await rec?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("hyphae outbox while an embedded node runs", () => {
  it("lists and retries through the node's admin socket", async () => {
    const followed = await hyphae("follow", rec.actorUrl("alice"), "--pod", "commons");
    expect({ code: followed.code, stderr: followed.stderr }).toEqual({ code: 0, stderr: "" });
    await waitFor(() => rec.inbox("alice").length === 1, 20_000, "the Follow");

    const pending = await hyphae("--json", "outbox", "list");
    expect({ code: pending.code, stderr: pending.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(pending.stdout)).toEqual([]);
    expect((await hyphae("outbox", "list", "--failed")).stdout).toBe("No dead letters.\n");
    expect((await hyphae("outbox", "retry", "--all")).stdout).toBe("No dead letters to retry.\n");
    const unknown = await hyphae("outbox", "retry", "424242");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("hyphae: No outbox event 424242 (OUTBOX_EVENT_NOT_FOUND)\n");
    const bad = await hyphae("outbox", "retry", "12abc");
    expect(bad.stderr).toContain("(INVALID_OUTBOX_EVENT_ID)");
  }, 60_000);
});
