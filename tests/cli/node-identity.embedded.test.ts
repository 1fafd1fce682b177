/**
 * The node's public origin is recorded at first start. The CLI uses it with the node
 * stopped (no PORT or PUBLIC_URL needed), a changed PUBLIC_URL stops the node with one
 * clear line, and `hyphae node move-origin` is the deliberate way to change it.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/node.ts";
import { ProcessGroup } from "../helpers/processes.ts";

let dataDir: string;
let port: number;
const procs = new ProcessGroup(() => ({ HOME: os.tmpdir(), DATA_DIR: dataDir, LOG_LEVEL: "error", HOST: "127.0.0.1" }));

/** GET on the node at 127.0.0.1:port with the given Host header. */
function get(pathname: string, hostHeader: string, token?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, path: pathname, headers: { host: hostHeader, accept: "application/json", ...(token && { authorization: `Bearer ${token}` }) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function stop(node: ReturnType<ProcessGroup["node"]>): Promise<void> {
  node.child.kill("SIGTERM");
  expect((await node.done).code).toBe(0);
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-identity-"));
  port = await freePort();
});

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("the node's recorded public origin", () => {
  it("first start records http://localhost:PORT when PUBLIC_URL is unset", { timeout: 180_000 }, async () => {
    const node = procs.node({ PORT: String(port) });
    const banner = await node.ready;
    expect(banner).toContain(`up at http://localhost:${port}`);
    expect(banner).toContain(`@commons@localhost:${port}`);
    await stop(node);
  });

  it("the CLI, with the node stopped and no PORT, issues a token the running node accepts, and prints the right handle", { timeout: 180_000 }, async () => {
    const issued = await procs.hyphae(["--json", "token", "issue", "--pod", "commons"], { PORT: undefined, PUBLIC_URL: undefined });
    expect(issued.stderr).toBe("");
    const { token } = JSON.parse(issued.stdout) as { token: string };
    const pods = JSON.parse((await procs.hyphae(["--json", "pod", "list"])).stdout) as Array<{ handle: string }>;
    expect(pods.map((p) => p.handle)).toEqual([`@commons@localhost:${port}`]);
    const shown = await procs.hyphae(["node", "show"]);
    expect(shown.stdout).toContain(`Public origin: http://localhost:${port}`);

    const node = procs.node({ PORT: String(port) });
    await node.ready;
    const me = await get("/api/hyphae/v1/pods/commons", `localhost:${port}`, token);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ slug: "commons" });
    await stop(node);
  });

  it("a start with a different PUBLIC_URL is refused with one line naming both origins, and nothing changes", { timeout: 120_000 }, async () => {
    const node = procs.node({ PORT: String(port), PUBLIC_URL: "https://elsewhere.example" });
    const result = await node.done;
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("PUBLIC_URL is https://elsewhere.example");
    expect(lines[0]).toContain(`http://localhost:${port}`);
    expect(lines[0]).toContain("hyphae node move-origin");
    expect((await procs.hyphae(["node", "show"])).stdout).toContain(`Public origin: http://localhost:${port}`);
  });

  it("move-origin rejects a URL with a path, then records a new origin that the next start uses", { timeout: 180_000 }, async () => {
    const bad = await procs.hyphae(["node", "move-origin", "https://pods.example/oak"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("INVALID_ORIGIN");

    const moved = await procs.hyphae(["--json", "node", "move-origin", "https://pods.example"]);
    expect(JSON.parse(moved.stdout)).toEqual({ from: `http://localhost:${port}`, to: "https://pods.example" });
    const shown = await procs.hyphae(["node", "show"]);
    expect(shown.stdout).toContain("Public origin: https://pods.example");
    expect(shown.stdout).toContain(`before: http://localhost:${port}`);

    const node = procs.node({ PORT: String(port), PUBLIC_URL: "https://pods.example" });
    const banner = await node.ready;
    expect(banner).toContain("@commons@pods.example");
    await stop(node);
  });

  it("move-origin is refused while a node holds the embedded database", { timeout: 180_000 }, async () => {
    const node = procs.node({ PORT: String(port) });
    await node.ready;
    const r = await procs.hyphae(["node", "move-origin", "https://third.example"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stop it first");
    await stop(node);
  });
});
