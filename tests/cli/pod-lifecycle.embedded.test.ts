/**
 * The README's first steps with the real `hyphae` CLI and `node src/main.ts` sharing one
 * embedded data directory: the first start creates `commons`; `pod create` adds another
 * pod; `pod delete` removes the unwanted `commons` through the running node's admin socket
 * (rows gone, name reusable); a pod with a charter is refused (POD_HAS_PUBLISHED, nothing
 * changed) and `pod retire` retires it instead, once; `pod list` shows it as retired and
 * writes to it are refused. With the node stopped, the CLI deletes on its own.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../helpers/node.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const AP = { accept: "application/activity+json" };

let dataDir: string;
let port: number;
let origin: string;
const started: ChildProcessWithoutNullStreams[] = [];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function env(): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), DATA_DIR: dataDir, LOG_LEVEL: "error", HOST: "127.0.0.1", PORT: String(port), PUBLIC_URL: origin };
}

function run(script: string, args: string[]) {
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: env() });
  started.push(child);
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out.stderr += c.toString()));
  const done = new Promise<Result>((resolve) => child.on("close", (code) => resolve({ code, ...out })));
  return { child, out, done };
}

const hyphae = (...args: string[]) => run("src/cli/hyphae.ts", args).done;

async function hyphaeJson(...args: string[]): Promise<any> {
  const r = await hyphae("--json", ...args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-pod-cli-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("first start, then delete and retire through the running node", () => {
  let node: ReturnType<typeof run>;

  beforeAll(async () => {
    node = run("src/main.ts", []);
    let exited: Result | null = null;
    void node.done.then((r) => (exited = r));
    await waitFor(
      () => {
        if (exited) throw new Error(`node exited with ${exited.code}: ${exited.stderr}`);
        return node.out.stdout.includes("Get a steward token") ? true : null;
      },
      60_000,
      "the node's banner",
    );
  }, 90_000);

  afterAll(async () => {
    if (node.child.exitCode === null) {
      node.child.kill("SIGTERM");
      await node.done;
    }
  });

  it("the first start created commons; another pod is added beside it", { timeout: 60_000 }, async () => {
    expect(node.out.stdout).toContain("commons");
    expect(fs.existsSync(path.join(dataDir, "admin.sock"))).toBe(true);
    await hyphaeJson("pod", "create", "oak-street", "--name", "Oak Street");
    expect((await hyphaeJson("pod", "list")).map((p: any) => p.slug)).toEqual(["commons", "oak-street"]);
  });

  it("pod delete removes the unused commons pod through the admin socket; the name is free again", { timeout: 60_000 }, async () => {
    const r = await hyphae("pod", "delete", "commons");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("Deleted commons");
    expect((await hyphaeJson("pod", "list")).map((p: any) => p.slug)).toEqual(["oak-street"]);
    // The running node itself deleted it: its actor and WebFinger are gone at once.
    expect((await fetch(`${origin}/pods/commons`, { headers: AP })).status).toBe(404);
    expect((await fetch(`${origin}/.well-known/webfinger?resource=acct:commons@127.0.0.1:${port}`)).status).toBe(404);

    const again = await hyphae("pod", "delete", "commons");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("POD_NOT_FOUND");
    const bad = await hyphae("pod", "delete", "Not A Slug");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/lowercase/);
  });

  it("a pod with a charter is refused with POD_HAS_PUBLISHED and keeps everything", { timeout: 60_000 }, async () => {
    await hyphaeJson("charter", "set", "--pod", "oak-street", "--file", "docs/charter.example.json");
    const before = await hyphaeJson("pod", "show", "oak-street");
    const r = await hyphae("pod", "delete", "oak-street");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("POD_HAS_PUBLISHED");
    expect(r.stderr).toContain("hyphae pod retire oak-street");
    expect(await hyphaeJson("pod", "show", "oak-street")).toEqual(before);
    expect(await hyphaeJson("charter", "history", "--pod", "oak-street")).toHaveLength(1);
    expect((await fetch(`${origin}/pods/oak-street`, { headers: AP })).status).toBe(200);
  });

  it("pod retire retires it once; list shows it retired; writes are refused; its charter stays", { timeout: 90_000 }, async () => {
    const r = await hyphae("pod", "retire", "oak-street");
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("Retired oak-street");

    const actor = await fetch(`${origin}/pods/oak-street`, { headers: AP });
    expect(actor.status).toBe(410);
    expect(((await actor.json()) as any).type).toBe("Tombstone");

    const again = await hyphae("pod", "retire", "oak-street");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already retired");

    const list = await hyphae("pod", "list");
    expect(list.stdout).toMatch(/@oak-street@\S+ {2}Oak Street {2}\(retired \d{4}-\d{2}-\d{2}\)/);
    const [view] = await hyphaeJson("pod", "list");
    expect(view.retiredAt).toEqual(expect.any(String));

    const rename = await hyphae("pod", "set", "oak-street", "--name", "Renamed");
    expect(rename.code).toBe(1);
    expect(rename.stderr).toContain("POD_RETIRED");
    const confirm = await hyphae("charter", "confirm", "--pod", "oak-street");
    expect(confirm.code).toBe(1);
    expect(confirm.stderr).toContain("POD_RETIRED");

    const history = await hyphae("charter", "history", "--pod", "oak-street");
    expect(history.code).toBe(0);
    expect(history.stdout).toMatch(/^\s+1 {2}\d{4}-\d{2}-\d{2}/);
  });
});

describe("with the node stopped", () => {
  it("pod create and pod delete open the data directory themselves", { timeout: 90_000 }, async () => {
    await hyphaeJson("pod", "create", "commons", "--name", "Commons again");
    expect((await hyphaeJson("pod", "list")).map((p: any) => p.slug)).toEqual(["oak-street", "commons"]);
    const r = await hyphaeJson("pod", "delete", "commons");
    expect(r).toEqual({ slug: "commons", deleted: true });
    expect((await hyphaeJson("pod", "list")).map((p: any) => p.slug)).toEqual(["oak-street"]);
  });
});
