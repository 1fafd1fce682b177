/**
 * Real `hyphae` CLI and node processes for tests: each runs `src/cli/hyphae.ts` or
 * `src/main.ts` under this Node with only the environment the test gives it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./infra.ts";
import { waitFor } from "./node.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class ProcessGroup {
  readonly #children: ChildProcessWithoutNullStreams[] = [];
  readonly #baseEnv: () => Record<string, string>;

  constructor(baseEnv: () => Record<string, string>) {
    this.#baseEnv = baseEnv;
  }

  #spawn(args: string[], env: Record<string, string | undefined>) {
    const merged = Object.fromEntries(Object.entries({ PATH: process.env.PATH ?? "", ...this.#baseEnv(), ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    const child = spawn(process.execPath, args, { cwd: ROOT, env: merged });
    this.#children.push(child);
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (c: Buffer) => (out.stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out.stderr += c.toString()));
    const done = new Promise<ProcessResult>((resolve) => child.on("close", (code) => resolve({ code, ...out })));
    return { child, out, done };
  }

  /** Runs `hyphae <args>` to completion. An env value of undefined removes that variable. */
  hyphae(args: string[], env: Record<string, string | undefined> = {}): Promise<ProcessResult> {
    return this.#spawn(["src/cli/hyphae.ts", ...args], env).done;
  }

  /** Starts `node src/main.ts`; `ready` resolves with its stdout once the banner is printed, and rejects if it exits first. */
  node(env: Record<string, string | undefined> = {}) {
    const { child, out, done } = this.#spawn(["src/main.ts"], env);
    let exited: ProcessResult | null = null;
    void done.then((r) => (exited = r));
    const ready = waitFor(
      () => {
        if (exited) throw new Error(`node exited with ${exited.code}: ${exited.stderr}`);
        return out.stdout.includes("Get a steward token") ? out.stdout : null;
      },
      90_000,
      "the node's banner",
    );
    return { child, out, done, ready };
  }

  killAll(): void {
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/**
 * One node process on a fresh embedded data directory (pod `oak-street`) for CLI tests:
 * `start()` in beforeAll, `stop()` in afterAll; `hyphae(args)` runs the real CLI against it
 * (through its admin socket).
 */
export function embeddedNode(prefix: string) {
  let dataDir = "";
  let port = 0;
  const procs = new ProcessGroup(() => ({
    HOME: os.tmpdir(),
    DATA_DIR: dataDir,
    LOG_LEVEL: "error",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: "oak-street",
    POD_NAME: "Oak Street",
  }));
  return {
    procs,
    hyphae: (args: string[]): Promise<ProcessResult> => procs.hyphae(args),
    origin: () => `http://127.0.0.1:${port}`,
    async start(): Promise<void> {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      port = await freePort();
      await procs.node().ready;
    },
    stop(): void {
      procs.killAll();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
