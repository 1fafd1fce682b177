/**
 * The real `hyphae` CLI and `node src/main.ts` as child processes sharing one embedded
 * data directory: commands open the directory themselves when no node runs, and go
 * through the node's admin socket while one does; a second node is refused; SIGTERM
 * stops the node cleanly and releases the directory.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockHolder } from "../../src/db/lock.ts";
import { freePort } from "../helpers/node.ts";
import { ProcessGroup, type ProcessResult } from "../helpers/processes.ts";

let dataDir: string;
let port: number;
let origin: string;
let host: string;
/** A token revoked with the CLI before the node starts. */
let revokedToken: string;

const procs = new ProcessGroup(() => ({
  HOME: os.tmpdir(),
  DATA_DIR: dataDir,
  LOG_LEVEL: "error",
  HOST: "127.0.0.1",
  PORT: String(port),
  PUBLIC_URL: origin,
}));

/** Runs `hyphae <args>` to completion. */
const hyphae = (args: string[], extraEnv: Record<string, string> = {}): Promise<ProcessResult> => procs.hyphae(args, extraEnv);

async function hyphaeJson(args: string[]): Promise<any> {
  const r = await hyphae(["--json", ...args]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

/** Starts `node src/main.ts`; `ready` resolves once it has printed its banner (rejects if it exits first). */
const startNodeProcess = (extraEnv: Record<string, string> = {}) => procs.node(extraEnv);

async function api(pathname: string, token?: string) {
  const response = await fetch(`${origin}/api/hyphae/v1${pathname}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as any };
}

const lockFile = () => path.join(dataDir, "hyphae.lock");
const socketFile = () => path.join(dataDir, "admin.sock");

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-cli-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  host = `127.0.0.1:${port}`;
});

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("hyphae CLI with no node running", () => {
  it("--version prints the package version and opens nothing", { timeout: 60_000 }, async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../package.json"), "utf8")) as { version: string };
    // A data directory that does not exist yet: --version must not create it.
    const r = await hyphae(["--version"], { DATA_DIR: path.join(dataDir, "never-made") });
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
    expect(fs.existsSync(path.join(dataDir, "never-made"))).toBe(false);
  });

  it("pod create, then pod list --json shows the pod", { timeout: 120_000 }, async () => {
    const created = await hyphae(["pod", "create", "oak-street", "--name", "Oak Street"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`Created @oak-street@${host}  Oak Street`);
    expect(created.stdout).toContain("npx hyphae token issue --pod oak-street");

    const pods = await hyphaeJson(["pod", "list"]);
    expect(pods).toEqual([
      expect.objectContaining({ slug: "oak-street", name: "Oak Street", handle: `@oak-street@${host}`, actorUrl: `${origin}/pods/oak-street`, followers: 0 }),
    ]);
    // The command released the data directory when it finished.
    expect(lockHolder(dataDir)).toBeNull();
  });

  it("--json also works after the subcommand", { timeout: 60_000 }, async () => {
    const r = await hyphae(["pod", "list", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((p: any) => p.slug)).toEqual(["oak-street"]);
  });

  it("pod create with a bad slug exits 1 naming the slug problem, and creates nothing", { timeout: 60_000 }, async () => {
    const r = await hyphae(["pod", "create", "Bad Slug", "--name", "x"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^hyphae: /);
    expect(r.stderr).toMatch(/slug/);
    expect(r.stderr).toMatch(/lowercase/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect((await hyphaeJson(["pod", "list"])).map((p: any) => p.slug)).toEqual(["oak-street"]);
  });

  it("pod create of an existing slug exits 1 with POD_EXISTS", { timeout: 60_000 }, async () => {
    const r = await hyphae(["pod", "create", "oak-street", "--name", "Again"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("POD_EXISTS");
  });

  it("token issue --json returns a token that token revoke revokes", { timeout: 60_000 }, async () => {
    const issued = await hyphaeJson(["token", "issue", "--pod", "oak-street", "--label", "laptop"]);
    expect(issued).toMatchObject({ podSlug: "oak-street", role: "steward" });
    expect(issued.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(issued.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(issued.expiresAt).getTime()).toBeGreaterThan(Date.now());

    const revoked = await hyphae(["token", "revoke", issued.jti]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${issued.jti}`);

    const tokens = await hyphaeJson(["token", "list", "--pod", "oak-street"]);
    expect(tokens).toEqual([expect.objectContaining({ jti: issued.jti, label: "laptop", revokedAt: expect.any(String) })]);
    revokedToken = issued.token;

    const unknown = await hyphae(["token", "revoke", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("TOKEN_NOT_FOUND");
  });
});

describe("hyphae CLI while a node holds the data directory", () => {
  let node: ReturnType<typeof startNodeProcess>;

  beforeAll(async () => {
    node = startNodeProcess();
    await node.ready;
  }, 90_000);

  it("the start prints the pod's handle, URL and how to get a token", () => {
    const banner = node.out.stdout;
    expect(banner).toContain(`Hyphae node is up at ${origin}`);
    expect(banner).toContain(`Oak Street: @oak-street@${host}  ${origin}/pods/oak-street`);
    expect(banner).toContain(`searching for @oak-street@${host}`);
    expect(banner).toContain("Sign in to its steward pages with a one-time link: npx hyphae steward invite --pod oak-street");
    expect(banner).toContain("Get a steward token with: npx hyphae token issue --pod oak-street");
    // The pod existed already: no second pod was made from POD_SLUG.
    expect(banner).not.toContain("Created the pod");
    expect(fs.readFileSync(lockFile(), "utf8")).toBe(String(node.child.pid));
    expect(fs.existsSync(socketFile())).toBe(true);
  });

  it("pod list and pod create work through the admin socket", { timeout: 60_000 }, async () => {
    expect((await hyphaeJson(["pod", "list"])).map((p: any) => p.slug)).toEqual(["oak-street"]);
    await hyphaeJson(["pod", "create", "elm-row", "--name", "Elm Row"]);
    // The running node itself made it: its HTTP side serves the new actor at once.
    const actor = await fetch(`${origin}/pods/elm-row`, { headers: { accept: "application/activity+json" } });
    expect(actor.status).toBe(200);
    expect(((await actor.json()) as any).name).toBe("Elm Row");
    const bad = await hyphae(["pod", "create", "Bad Slug", "--name", "x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/slug/);
  });

  it("token issue works through the admin socket, and the node accepts the token", { timeout: 60_000 }, async () => {
    const issued = await hyphaeJson(["token", "issue", "--pod", "oak-street"]);
    const me = await api("/token", issued.token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ jti: issued.jti, pod: "oak-street" });
    expect((await api("/pods/oak-street", issued.token)).body.name).toBe("Oak Street");
    // The token revoked before the node started stays revoked.
    const revoked = await api("/pods/oak-street", revokedToken);
    expect({ status: revoked.status, error: revoked.body.error }).toEqual({ status: 401, error: "TOKEN_REVOKED" });
  });

  it("a second node on the same data directory exits 1 saying the directory is in use", { timeout: 60_000 }, async () => {
    const second = startNodeProcess({ PORT: String(await freePort()) });
    const result = await second.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^hyphae: /);
    expect(result.stderr).toContain(dataDir);
    expect(result.stderr).toMatch(/in use by process \d+/);
    expect(result.stderr).toContain(String(node.child.pid));
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    // The first node is unaffected.
    expect(fs.readFileSync(lockFile(), "utf8")).toBe(String(node.child.pid));
    expect(fs.existsSync(socketFile())).toBe(true);
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
  });

  it("SIGTERM stops the node with exit code 0 and releases the directory", { timeout: 60_000 }, async () => {
    node.child.kill("SIGTERM");
    const result = await node.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Received SIGTERM");
    expect(lockHolder(dataDir)).toBeNull();
    expect(fs.existsSync(socketFile())).toBe(false);
    // Commands open the directory themselves again.
    expect((await hyphaeJson(["pod", "list"])).map((p: any) => p.slug).sort()).toEqual(["elm-row", "oak-street"]);
  });
});

describe("first start on an empty data directory", () => {
  it("creates the POD_SLUG pod and says so", { timeout: 120_000 }, async () => {
    const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-cli-first-"));
    const firstPort = await freePort();
    const node = startNodeProcess({
      DATA_DIR: emptyDir,
      PORT: String(firstPort),
      PUBLIC_URL: `http://127.0.0.1:${firstPort}`,
      POD_SLUG: "birch-lane",
      POD_NAME: "Birch Lane",
    });
    try {
      const banner = await node.ready;
      expect(banner).toContain('Created the pod "Birch Lane" on this first start.');
      expect(banner).toContain(`@birch-lane@127.0.0.1:${firstPort}`);
      expect(banner).toContain(`http://127.0.0.1:${firstPort}/pods/birch-lane`);
      expect(banner).toContain("npx hyphae token issue --pod birch-lane");
      node.child.kill("SIGTERM");
      expect((await node.done).code).toBe(0);
      expect(lockHolder(emptyDir)).toBeNull();
    } finally {
      if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill("SIGKILL");
      fs.rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});
