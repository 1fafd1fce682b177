/**
 * Footprint of a one-pod node on the embedded database (the performance issue's fifth goal):
 *
 *  1. First start: `node src/main.ts` on an empty DATA_DIR (PGlite runs initdb, migrations,
 *     the pod and its keys are made) — wall time until /healthz answers 200 (goal ≤ 3 s), RSS
 *     five seconds later and the peak (VmHWM). Goal for the idle RSS: ≤ 200 MB.
 *  2. Restart on the same directory: the same figures (what a node runs at day to day).
 *  3. `hyphae --version` and `hyphae --help`: median wall time of N spawns each, beside
 *     `node -e 0` in the same run (goal ≤ 0.2 s each).
 *
 * The node runs in its own process (RSS is its own), with LOG_LEVEL=error and no admin socket.
 * Run alone: node tests/bench/footprint.ts [--json] [--runs N]
 * `npm run bench -- --only footprint` runs it too.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { freePort } from "../helpers/infra.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const GOALS = { firstStartMs: 3000, idleRssMiB: 200, cliMs: 200 };
const SETTLE_MS = 5000;

const note = (message: string) => process.stderr.write(`bench footprint: ${message}\n`);

export interface StartFigures {
  /** Until /healthz answered 200. */
  readyMs: number;
  /** Five seconds after ready. */
  rssMiB: number;
  peakMiB: number;
}

export interface FootprintReport {
  firstStart: StartFigures;
  restart: StartFigures;
  cli: { runs: number; versionMs: number; helpMs: number; nodeMs: number };
  goals: typeof GOALS;
}

function status(pid: number): { rssMiB: number; peakMiB: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rssMiB: kb("VmRSS") / 1024, peakMiB: kb("VmHWM") / 1024 };
}

async function startOnce(dataDir: string, port: number): Promise<StartFigures> {
  const origin = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, ["src/main.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATA_DIR: dataDir, HOST: "127.0.0.1", PORT: String(port), PUBLIC_URL: origin, LOG_LEVEL: "error", ADMIN_SOCKET: "off", DATABASE_URL: "" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  try {
    let readyMs = NaN;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode} before it was ready: ${stderr.slice(-2000)}`);
      if (performance.now() - started > 60_000) throw new Error("the node was not ready within 60 s");
      try {
        const response = await fetch(`${origin}/healthz`);
        if (response.status === 200) {
          readyMs = performance.now() - started;
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { readyMs, ...status(child.pid!) };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function spawnMs(args: string[]): number {
  const t0 = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: "ignore" });
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${result.status}`);
  return performance.now() - t0;
}

export async function benchFootprint(options: { runs?: number } = {}): Promise<FootprintReport> {
  const runs = options.runs ?? 5;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-footprint-"));
  try {
    const port = await freePort();
    note("first start on an empty data directory");
    const firstStart = await startOnce(dataDir, port);
    note("restart on the same directory");
    const restart = await startOnce(dataDir, port);
    note(`hyphae --version and --help, ${runs} spawns each`);
    const version: number[] = [];
    const help: number[] = [];
    const bare: number[] = [];
    // Alternating, so a burst of load hits all three alike.
    for (let i = 0; i < runs; i++) {
      version.push(spawnMs(["src/cli/hyphae.ts", "--version"]));
      help.push(spawnMs(["src/cli/hyphae.ts", "--help"]));
      bare.push(spawnMs(["-e", "0"]));
    }
    return { firstStart, restart, cli: { runs, versionMs: median(version), helpMs: median(help), nodeMs: median(bare) }, goals: GOALS };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatFootprintReport(r: FootprintReport): string {
  const met = (ok: boolean) => (ok ? "met" : "NOT met");
  const row = (name: string, s: StartFigures) =>
    `| ${name.padEnd(13)} | ${s.readyMs.toFixed(0).padStart(8)} | ${s.rssMiB.toFixed(0).padStart(13)} | ${s.peakMiB.toFixed(0).padStart(9)} |`;
  return [
    "Footprint (one pod, embedded database, node in its own process)",
    "",
    "| start         | ready ms | RSS after 5 s | peak RSS |",
    "|---------------|---------:|--------------:|---------:|",
    row("first start", r.firstStart),
    row("restart", r.restart),
    "",
    `  first start ${r.firstStart.readyMs.toFixed(0)} ms; goal ≤ ${r.goals.firstStartMs} ms → ${(r.firstStart.readyMs / r.goals.firstStartMs).toFixed(2)} of it, ${met(r.firstStart.readyMs <= r.goals.firstStartMs)}`,
    `  idle RSS after a restart ${r.restart.rssMiB.toFixed(0)} MB; goal ≤ ${r.goals.idleRssMiB} MB → ${(r.restart.rssMiB / r.goals.idleRssMiB).toFixed(2)}× it, ${met(r.restart.rssMiB <= r.goals.idleRssMiB)}`,
    `  hyphae --version ${r.cli.versionMs.toFixed(0)} ms, --help ${r.cli.helpMs.toFixed(0)} ms (median of ${r.cli.runs}; node -e 0: ${r.cli.nodeMs.toFixed(0)} ms); goal ≤ ${r.goals.cliMs} ms → ${met(Math.max(r.cli.versionMs, r.cli.helpMs) <= r.goals.cliMs)}`,
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false }, runs: { type: "string" } } });
  const report = await benchFootprint(values.runs ? { runs: Number(values.runs) } : {});
  console.log(values.json ? JSON.stringify(report, null, 2) : formatFootprintReport(report));
}
