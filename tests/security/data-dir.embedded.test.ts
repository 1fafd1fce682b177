/**
 * Secrets at rest, with real `node src/main.ts` processes started under `umask 022`: the data
 * directory is created 0700 and nothing in it is readable by group or others (PGlite writes
 * its files 0666; the node tightens them); a data directory or admin-socket directory that
 * others can reach makes start-up refuse with one line saying how to fix it; the lock is the
 * kernel's, so a lock file naming PID 1 does not block a start, a running node does, and a
 * SIGKILLed node frees the directory at once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { lockFilePath, lockHolder } from "../../src/db/lock.ts";
import { freePort, waitFor } from "../helpers/node.ts";
import { ROOT } from "../helpers/processes.ts";

const base = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-sec-"));
/** Created by the node itself on its first start. */
const dataDir = path.join(base, "data");
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  fs.rmSync(base, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node <script>` under `umask 022`, with only the environment given. */
function run(script: string, args: string[], env: Record<string, string>) {
  const child = spawn("/bin/sh", ["-c", 'umask 022 && exec "$0" "$@"', process.execPath, script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), LOG_LEVEL: "error", ...env },
  });
  children.push(child);
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out.stderr += c.toString()));
  const done = new Promise<Result>((resolve) => child.on("close", (code) => resolve({ code, ...out })));
  return { child, out, done };
}

/** One port per data directory: a node's public origin is recorded at its first start. */
const ports = new Map<string, number>();

async function startNode(dir: string, extra: Record<string, string> = {}) {
  const port = ports.get(dir) ?? (await freePort());
  ports.set(dir, port);
  const proc = run("src/main.ts", [], {
    DATA_DIR: dir,
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: "willow-court",
    POD_NAME: "Willow Court",
    ...extra,
  });
  let exited: Result | null = null;
  void proc.done.then((r) => (exited = r));
  const ready = () =>
    waitFor(
      () => {
        if (exited) throw new Error(`node exited with ${exited.code}: ${exited.stderr}`);
        return proc.out.stdout.includes("Get a steward token") ? true : null;
      },
      90_000,
      "the node's banner",
    );
  return { ...proc, port, ready };
}

/** Every file and directory under `dir` (itself included) that group or others can use. */
function exposed(dir: string): string[] {
  const found: string[] = [];
  const walk = (p: string) => {
    const stat = fs.lstatSync(p);
    if (stat.mode & 0o077) found.push(`${path.relative(dir, p) || "."} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
  };
  walk(dir);
  return found;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++;
  return n;
}

describe("a node started with umask 022", () => {
  it("creates its data directory 0700 and leaves nothing in it readable by group or others", { timeout: 150_000 }, async () => {
    const node = await startNode(dataDir);
    await node.ready();
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    // PGlite's cluster is hundreds of files (the WAL among them), written 0666 by PGlite.
    expect(countFiles(dataDir)).toBeGreaterThan(100);
    expect(exposed(dataDir)).toEqual([]);
    expect(fs.statSync(path.join(dataDir, "admin.sock")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(lockFilePath(dataDir)).mode & 0o777).toBe(0o600);

    // Work that writes (a steward token through the admin socket, signed by the node's key).
    const issued = await run("src/cli/hyphae.ts", ["token", "issue", "--pod", "willow-court"], { DATA_DIR: dataDir }).done;
    expect(issued.code).toBe(0);
    // The CLI opens the follower lists (and shows the setting) through the same socket.
    const set = await run("src/cli/hyphae.ts", ["--json", "pod", "set", "willow-court", "--network", "public"], { DATA_DIR: dataDir }).done;
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ slug: "willow-court", networkVisibility: "public" });
    const wrong = await run("src/cli/hyphae.ts", ["pod", "set", "willow-court", "--network", "everyone"], { DATA_DIR: dataDir }).done;
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("hidden");

    node.child.kill("SIGTERM");
    expect((await node.done).code).toBe(0);
    expect(exposed(dataDir)).toEqual([]);
    expect(lockHolder(dataDir)).toBeNull();
  });
});

describe("a data directory other users can reach", () => {
  it("makes start-up refuse with one line saying how to fix it, touching nothing", { timeout: 60_000 }, async () => {
    const open = path.join(base, "open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o755);
    const node = await startNode(open);
    const result = await node.done;
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`chmod 700 ${open}`);
    expect(lines[0]).toContain("0755");
    expect(fs.readdirSync(open)).toEqual([]);
    expect(fs.statSync(open).mode & 0o777).toBe(0o755);
  });

  it("makes the CLI refuse it the same way", { timeout: 60_000 }, async () => {
    const open = path.join(base, "open-cli");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o750);
    const result = await run("src/cli/hyphae.ts", ["pod", "list"], { DATA_DIR: open }).done;
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringContaining(`chmod 700 ${open}`)]);
    expect(fs.readdirSync(open)).toEqual([]);
  });

  it("refuses an admin socket in a directory others can write to", { timeout: 120_000 }, async () => {
    const shared = path.join(base, "shared");
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    const node = await startNode(dataDir, { ADMIN_SOCKET: path.join(shared, "admin.sock") });
    const result = await node.done;
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([expect.stringContaining(`chmod go-w ${shared}`)]);
    expect(fs.existsSync(path.join(shared, "admin.sock"))).toBe(false);
    expect(lockHolder(dataDir)).toBeNull();
  });
});

describe("the data directory lock across real nodes", () => {
  it("a lock file naming PID 1 does not stop a start; a running node does; a SIGKILLed node frees it", { timeout: 240_000 }, async () => {
    // As a node killed as PID 1 in a container leaves it.
    fs.writeFileSync(lockFilePath(dataDir), "1");
    const first = await startNode(dataDir);
    await first.ready();
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(first.child.pid));

    const second = await startNode(dataDir);
    const refused = await second.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The embedded database in ${dataDir} is in use by process ${first.child.pid}`);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);

    first.child.kill("SIGKILL");
    await first.done;
    // No cleanup ran: the file still names the dead node, and that does not matter.
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(first.child.pid));
    const third = await startNode(dataDir);
    await third.ready();
    expect(exposed(dataDir)).toEqual([]);
    third.child.kill("SIGTERM");
    expect((await third.done).code).toBe(0);
  });
});
