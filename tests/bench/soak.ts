/**
 * A bounded soak (the performance issue's sixth goal): a real node, `node src/main.ts` in a
 * child process of its own, takes S seconds of mixed traffic at a steady total rate, and we
 * watch its latency, its errors and its memory.
 *
 * Traffic is open-loop: request k starts at t0 + k/R whatever the earlier ones are doing, so
 * a slow node gets more requests in flight, not fewer requests. The kinds take turns:
 *   actor      GET /pods/commons                        (application/activity+json)
 *   webfinger  GET /.well-known/webfinger?resource=acct:commons@host
 *   charter    GET /pods/commons/charter                (the charter Note, application/activity+json)
 *   inbox      POST /pods/commons/inbox, signed like Mastodon (draft-cavage rsa-sha256): a
 *              Follow from an idle actor of a pool on a loopback remote server, or the
 *              Undo of the oldest Follow once its Accept has arrived there (or 30 s have
 *              passed), so the pod's followers stay bounded however long the soak runs.
 * The remote server (below; the inbox benchmark's fake remote does not answer shared inboxes
 * nor tell one Follow's Accept from another's) serves the actors and answers every inbox POST
 * with 202, timing each Follow until its Accept arrives.
 *
 * A warm-up at the same rate comes first (its errors count, its latencies do not); then the
 * measured part. Reported per kind: count, p50/p99/max latency (from the moment the request
 * is sent) and errors (network errors, timeouts and any status other than 2xx; the goal is 0).
 * Memory: the node's RSS (/proc/<pid>/status VmRSS) every 2 s: idle before the traffic, at the
 * start and end of the measured part, min and max, after the traffic, and the least-squares
 * slope in MB per minute over the second half (the growth trend; goal ≈ 0), with its standard
 * error. RSS follows V8's collector, which lets the old generation fill with garbage for tens
 * of seconds before it compacts, so a short run's slope says little on its own; the leak test
 * is the live heap: the node runs with --expose-gc and a small probe (--import, see PROBE)
 * reports process.memoryUsage(), after a full GC when asked: before any traffic, after the
 * warm-up (the baseline) and after the soak, each time with no request in flight. /healthz is
 * read with each sample, so a growing queue or outbox shows too.
 *
 * The node is a restarted one, as in production: the pod and its charter are created first
 * by this process on the node's database, which is then closed, and `src/main.ts` opens it.
 * PGlite in a temporary DATA_DIR by default; `--postgres` (or BENCH_DATABASE_URL) uses a fresh
 * database on postgres://postgres@127.0.0.1:5432/postgres, dropped afterwards.
 *
 * Run alone: node tests/bench/soak.ts [--seconds N] [--rate R] [--warmup S] [--actors N]
 *   [--node-flags="--max-old-space-size=128 ..."] [--node-log FILE] [--postgres] [--json]
 * `npm run bench -- --only soak [--seconds N] [--rate R]` runs it too. An hour of light
 * traffic (the idle-RSS goal): --seconds 3600 --rate 5.
 */
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config.ts";
import { configureLogging } from "../../src/lib/logging.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { ensureInitialPod } from "../../src/services/pods.ts";
import { createAppContext } from "../../src/wiring.ts";
import { createPostgresDatabase, freePort } from "../helpers/infra.ts";
import { signCavage } from "./cavage.ts";

const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const POD_SLUG = "commons";
const SAMPLE_MS = 2000;
const REQUEST_TIMEOUT_MS = 30_000;
/** An unanswered Follow is undone after this long all the same. */
const UNDO_ANYWAY_MS = 30_000;
/** How long to wait, once the traffic stops, for Accepts still on their way. */
const SETTLE_MS = 30_000;
/** The idle pause after the traffic before the last RSS sample. */
const AFTER_MS = 5_000;

export const SOAK_KINDS = ["actor", "webfinger", "charter", "follow", "undo"] as const;
export type SoakKind = (typeof SOAK_KINDS)[number];

const note = (message: string) => process.stderr.write(`bench soak: ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface SoakOptions {
  /** Measured seconds (default 60). */
  seconds?: number;
  /** Requests per second, all kinds together (default 50). */
  rate?: number;
  /** Seconds of the same traffic before the measured part: errors count, latencies do not (default 5). */
  warmup?: number;
  /** Remote actors that take turns following and undoing (default 200). */
  actors?: number;
  postgresAdminUrl?: string | null;
  /** Extra flags for the node's `node` command, e.g. ["--max-semi-space-size=32"]. */
  nodeFlags?: string[];
  /** A file that gets everything the node writes (its log lines, and what --trace-gc prints). */
  nodeLog?: string | null;
  /** Aborting stops the traffic; the node and everything created are removed, then the promise rejects. */
  signal?: AbortSignal;
}

export interface LatencyStats {
  count: number;
  errors: number;
  /** Responses by status ("0": network error or timeout), all of them. */
  statuses: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface RssSample {
  /** Seconds from the start of the measured part (negative: idle and warm-up). */
  t: number;
  rssMiB: number;
  /** V8's heap (used and reserved) and memory outside it (`external`: PGlite's WebAssembly memory, buffers). */
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
  externalMiB: number | null;
  /** Fedify's queue (ready + delayed), leased rows and the outbox's pending events, from /healthz. */
  queued: number | null;
  leased: number | null;
  outboxPending: number | null;
}

export interface MemorySplit {
  heapTotalMiB: number | null;
  heapUsedMiB: number | null;
  externalMiB: number | null;
}

export interface SoakReport {
  database: string;
  /** Flags given to the node's `node` command beyond --expose-gc and the probe. */
  nodeFlags: string[];
  seconds: number;
  warmup: number;
  rate: number;
  /** Requests started per second over the measured part. */
  achievedRate: number;
  /** How late the driver started requests against their schedule (its own lag, not the node's). */
  driverLagMs: { p99: number; max: number };
  /** The machine's one-minute load average as the measured part started and ended. */
  loadAverage: { start: number; end: number };
  kinds: Record<SoakKind, LatencyStats>;
  overall: LatencyStats;
  /** p99 of the measured part's first and second halves: a node that slows down shows here. */
  overallP99ByHalf: [number | null, number | null];
  /** Errors during the warm-up (not in the figures above). */
  warmupErrors: number;
  /** The measured part's Follows, answered by an Accept at the remote (time from the POST), and those never answered. */
  accepts: { follows: number; received: number; p50Ms: number | null; p99Ms: number | null; missing: number };
  /** Activities the remote server received, by type, and requests it did not expect. */
  remote: { posts: Record<string, number>; unexpected: number; actorFetches: number };
  /** The pod's followers at the end, next to the Follows not undone (they should be equal). */
  followers: { atEnd: number | null; outstanding: number };
  rss: {
    idleMiB: number;
    startMiB: number;
    endMiB: number;
    minMiB: number;
    maxMiB: number;
    afterMiB: number;
    /**
     * V8's heap after a full GC with no request in flight: before any traffic (cold), after the
     * warm-up (code compiled, caches filled: the baseline) and after the soak; after − warm is
     * the leak test (goal ≈ 0). And the RSS after that last GC.
     */
    liveHeap: { coldMiB: number | null; warmMiB: number | null; afterMiB: number | null; rssAfterGcMiB: number };
    /** VmHWM at the end: the node's peak since it started. */
    peakMiB: number | null;
    /** Least-squares slope over the second half of the measured part, MB (MiB) per minute. */
    slopeMiBPerMin: number;
    slopeStdErr: number;
    /** Over the whole measured part. */
    slopeWholeMiBPerMin: number;
    /** V8's heap (reserved, used) and `external` at the measured start and end (null without the probe). */
    split: { start: MemorySplit; end: MemorySplit };
    samples: RssSample[];
  };
  queue: { maxQueued: number | null; endQueued: number | null; maxOutboxPending: number | null; dead: number | null };
  /** Lines the node logged at warn and error (LOG_LEVEL=warn), and a few of them. */
  nodeLog: { warnings: number; errors: number; examples: string[] };
}

// ---------------------------------------------------------------------------------------
// The remote server: N Person actors sharing one key, personal and shared inboxes (202).

interface SoakRemote {
  origin: string;
  actorId(i: number): string;
  keyId(i: number): string;
  posts: Record<string, number>;
  unexpected(): number;
  actorFetches(): number;
  close(): Promise<void>;
}

async function startSoakRemote(actors: number, publicKeyPem: string, onAccept: (followId: string) => void): Promise<SoakRemote> {
  let origin = "";
  let unexpected = 0;
  let actorFetches = 0;
  const posts: Record<string, number> = {};
  const actorId = (i: number) => `${origin}/users/u${i}`;
  const server = http.createServer((req, res) => {
    const urlPath = (req.url ?? "/").split("?")[0]!;
    const m = /^\/users\/u(\d+)(\/inbox)?$/.exec(urlPath);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "GET" && m && !m[2] && Number(m[1]) < actors) {
        actorFetches++;
        const id = actorId(Number(m[1]));
        res.writeHead(200, { "content-type": "application/activity+json" }).end(
          JSON.stringify({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            id,
            type: "Person",
            preferredUsername: `u${m[1]}`,
            name: `Soak user ${m[1]}`,
            url: `${origin}/@u${m[1]}`,
            inbox: `${id}/inbox`,
            outbox: `${id}/outbox`,
            followers: `${id}/followers`,
            following: `${id}/following`,
            endpoints: { sharedInbox: `${origin}/inbox` },
            publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem },
          }),
        );
        return;
      }
      if (req.method === "POST" && (urlPath === "/inbox" || (m && m[2]))) {
        let type = "unreadable";
        try {
          const activity = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type?: unknown; object?: unknown };
          type = typeof activity.type === "string" ? activity.type : "untyped";
          const object = activity.object;
          const followId = typeof object === "string" ? object : (object as { id?: unknown } | null)?.id;
          if (type === "Accept" && typeof followId === "string") onAccept(followId);
        } catch {
          // counted as unreadable
        }
        posts[type] = (posts[type] ?? 0) + 1;
        res.writeHead(202).end();
        return;
      }
      unexpected++;
      res.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    actorId,
    keyId: (i) => `${actorId(i)}#main-key`,
    posts,
    unexpected: () => unexpected,
    actorFetches: () => actorFetches,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------
// The node under test, in its own process.

interface NodeProcess {
  pid: number;
  origin: string;
  /** The node's process.memoryUsage(), after a full GC when asked, through the probe (null if it does not answer within 5 s). */
  memory(gc?: boolean): Promise<NodeJS.MemoryUsage | null>;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  log: { warnings: number; errors: number; examples: string[] };
  stop(): Promise<void>;
}

/** Counts the node's warn and error lines (JSON from LogTape or Fastify) and keeps a few. */
function watchLog(stream: NodeJS.ReadableStream, log: NodeProcess["log"], all: string[], copy: fs.WriteStream | null): void {
  let pending = "";
  stream.on("data", (chunk: Buffer) => {
    copy?.write(chunk);
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      if (all.length < 50) all.push(line);
      let level: unknown = null;
      try {
        level = (JSON.parse(line) as { level?: unknown }).level;
      } catch {
        continue; // the banner and other plain text
      }
      const name = typeof level === "number" ? (level >= 50 ? "error" : level >= 40 ? "warn" : "") : String(level).toLowerCase();
      const isError = name === "error" || name === "fatal";
      const isWarn = name === "warn" || name === "warning";
      if (isError) log.errors++;
      if (isWarn) log.warnings++;
      if ((isError || isWarn) && log.examples.length < 5) log.examples.push(line.slice(0, 400));
    }
  });
}

/**
 * Loaded into the node with --import: answers { soakProbe } messages on the IPC channel with
 * process.memoryUsage(), so RSS can be split into V8's heap and memory outside it (PGlite's
 * WebAssembly memory is counted in `external`). With `gc: true` it first runs a full garbage
 * collection (the node runs with --expose-gc), which the soak asks for only while the node is
 * idle, before and after the traffic: the heap then holds only what is still reachable, so
 * a leak shows as a difference, whatever V8's collector was doing at the moment.
 */
const PROBE = `data:text/javascript,${encodeURIComponent(
  'process.on("message",(m)=>{if(m&&m.soakProbe){if(m.gc&&globalThis.gc)globalThis.gc();process.send({soakProbe:m.soakProbe,memory:process.memoryUsage()})}});process.channel?.unref();',
)}`;

async function startNodeProcess(env: Record<string, string>, origin: string, nodeFlags: string[], logFile: string | null): Promise<NodeProcess> {
  const child = spawn(process.execPath, ["--expose-gc", ...nodeFlags, "--import", PROBE, "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let probeId = 0;
  const memory = (gc = false) =>
    new Promise<NodeJS.MemoryUsage | null>((resolve) => {
      const id = ++probeId;
      const onMessage = (message: { soakProbe?: number; memory?: NodeJS.MemoryUsage }) => {
        if (message?.soakProbe !== id) return;
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(message.memory ?? null);
      };
      const timer = setTimeout(() => {
        child.off("message", onMessage);
        resolve(null);
      }, 5000);
      child.on("message", onMessage);
      try {
        child.send({ soakProbe: id, gc });
      } catch {
        clearTimeout(timer);
        child.off("message", onMessage);
        resolve(null);
      }
    });
  const log = { warnings: 0, errors: 0, examples: [] as string[] };
  const first: string[] = [];
  const copy = logFile ? fs.createWriteStream(logFile, { flags: "a" }) : null;
  watchLog(child.stdout!, log, first, copy);
  watchLog(child.stderr!, log, first, copy);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (copy) void exited.then(() => copy.end());
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (gone) return;
    child.kill("SIGTERM");
    if ((await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)])) === false) {
      note("the node did not stop within 20 s of SIGTERM; killing it");
      child.kill("SIGKILL");
      await exited;
    }
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (gone) throw new Error(`the node exited before it was ready:\n${first.join("\n")}`);
    try {
      const response = await fetch(`${origin}/healthz`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the node did not answer /healthz within 120 s:\n${first.join("\n")}`);
    }
    await sleep(100);
  }
  return { pid: child.pid!, origin, memory, exited, log, stop };
}

/** The process's resident set and its peak, in MiB (Linux /proc; `ps` elsewhere, without the peak). */
function readRss(pid: number): { rssMiB: number; peakMiB: number | null } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
      return m ? Number(m[1]) / 1024 : null;
    };
    return { rssMiB: kb("VmRSS") ?? NaN, peakMiB: kb("VmHWM") };
  } catch {
    const out = execFileSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" });
    return { rssMiB: Number(out.trim()) / 1024, peakMiB: null };
  }
}

// ---------------------------------------------------------------------------------------
// Statistics.

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latencyStats(latencies: number[], statuses: Record<string, number>): LatencyStats {
  const sorted = [...latencies].sort((a, b) => a - b);
  const count = Object.values(statuses).reduce((a, b) => a + b, 0);
  const ok = Object.entries(statuses).reduce((sum, [s, n]) => sum + (Number(s) >= 200 && Number(s) < 300 ? n : 0), 0);
  return { count, errors: count - ok, statuses, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? null };
}

/** Least-squares slope of y over x, and its standard error. */
function slope(points: Array<[number, number]>): { slope: number; stdErr: number } {
  const n = points.length;
  if (n < 3) return { slope: NaN, stdErr: NaN };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const b = sxy / sxx;
  const residual = points.reduce((s, [x, y]) => s + (y - my - b * (x - mx)) ** 2, 0);
  return { slope: b, stdErr: Math.sqrt(residual / (n - 2) / sxx) };
}

// ---------------------------------------------------------------------------------------
// HTTP.

function request(agent: http.Agent, url: URL, method: "GET" | "POST", headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (status: number) => {
      if (!done) resolve(status);
      done = true;
    };
    const req = http.request(url, { method, agent, headers: body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (response) => {
      response.resume();
      response.on("end", () => finish(response.statusCode ?? 0));
      response.on("error", () => finish(0));
    });
    req.on("error", () => finish(0));
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("timed out")));
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------

export async function benchSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const seconds = options.seconds ?? 60;
  const rate = options.rate ?? 50;
  const warmup = options.warmup ?? 5;
  const actors = options.actors ?? 200;
  const pgUrl = options.postgresAdminUrl ?? null;
  const signal = options.signal;
  const cleanups: Array<() => Promise<void>> = [];
  const checkAborted = () => {
    if (signal?.aborted) throw new Error("soak interrupted");
  };
  try {
    // The database, the pod and its charter, written by this process and closed again.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-soak-"));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    let databaseUrl: string | null = null;
    if (pgUrl) {
      const created = await createPostgresDatabase(pgUrl);
      cleanups.push(created.drop);
      databaseUrl = created.url;
    }
    checkAborted();
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: origin,
      POD_SLUG,
      POD_NAME: "Soak Commons",
      ALLOW_PRIVATE_ADDRESSES: "true",
      LOG_LEVEL: "warn",
      DATA_DIR: dataDir,
      ADMIN_SOCKET: "off",
      ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    };
    note(`preparing the pod and its charter (${pgUrl ? "PostgreSQL" : "PGlite"})`);
    const seed = await createAppContext(loadConfig({ ...env, LOG_LEVEL: "error" }));
    try {
      await ensureInitialPod(seed.deps);
      await publishCharterRevision(seed.deps, POD_SLUG, {
        title: "Commons charter",
        changeNote: "First charter",
        services: [{ name: "Tool library", description: "Borrow tools for a week.", category: "repair", since: "2026-01-04" }],
      });
    } finally {
      await seed.close();
    }
    checkAborted();

    const accepted = new Map<string, number>();
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const remote = await startSoakRemote(actors, publicKey.export({ type: "spki", format: "pem" }).toString(), (followId) => {
      if (!accepted.has(followId)) accepted.set(followId, performance.now());
    });
    cleanups.push(() => remote.close());

    note(`starting node src/main.ts on ${origin}`);
    const node = await startNodeProcess(env, origin, options.nodeFlags ?? [], options.nodeLog ?? null);
    cleanups.push(() => node.stop());
    checkAborted();

    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    cleanups.push(async () => agent.destroy());
    const report = await drive({ node, remote, agent, privateKey, accepted, seconds, rate, warmup, actors, signal });
    return { database: pgUrl ? "postgres" : "pglite", nodeFlags: options.nodeFlags ?? [], ...report, nodeLog: node.log };
  } finally {
    for (const step of cleanups.reverse()) await step().catch((error) => note(`clean-up step failed: ${String(error)}`));
  }
}

interface DriveContext {
  node: NodeProcess;
  remote: SoakRemote;
  agent: http.Agent;
  privateKey: KeyObject;
  accepted: Map<string, number>;
  seconds: number;
  rate: number;
  warmup: number;
  actors: number;
  signal: AbortSignal | undefined;
}

async function drive(c: DriveContext): Promise<Omit<SoakReport, "database" | "nodeFlags" | "nodeLog">> {
  const { node, remote, agent, privateKey, accepted } = c;
  const origin = node.origin;
  const actorUrl = `${origin}/pods/${POD_SLUG}`;
  const inbox = new URL(`/pods/${POD_SLUG}/inbox`, origin);
  const gets: Record<"actor" | "webfinger" | "charter", { url: URL; headers: Record<string, string> }> = {
    actor: { url: new URL(`/pods/${POD_SLUG}`, origin), headers: { accept: "application/activity+json" } },
    webfinger: { url: new URL(`/.well-known/webfinger?resource=acct:${POD_SLUG}@${new URL(origin).host}`, origin), headers: { accept: "application/jrd+json" } },
    charter: { url: new URL(`/pods/${POD_SLUG}/charter`, origin), headers: { accept: "application/activity+json" } },
  };
  for (const [name, g] of Object.entries(gets)) {
    const status = await request(agent, g.url, "GET", g.headers);
    if (status !== 200) throw new Error(`GET ${g.url.pathname}${g.url.search} answered ${status} before the soak (${name})`);
  }

  // Samples: RSS, the probe's memory figures and /healthz, taken at performance.now() `at`.
  type Taken = Omit<RssSample, "t"> & { at: number };
  const taken: Taken[] = [];
  let lastPeak: number | null = null;
  let deadLetters: number | null = null;
  const mib = (bytes: number | undefined) => (bytes === undefined ? null : Math.round((bytes / 2 ** 20) * 10) / 10);
  /** The live heap (after a full GC) and the RSS that follows it; only while no request is in flight. */
  const collected = async () => {
    const memory = await node.memory(true);
    return { heapUsedMiB: mib(memory?.heapUsed), rssMiB: Math.round(readRss(node.pid).rssMiB * 10) / 10 };
  };
  const sample = async (): Promise<Taken> => {
    const memory = await node.memory();
    const { rssMiB, peakMiB } = readRss(node.pid);
    lastPeak = peakMiB ?? lastPeak;
    const s: Taken = {
      at: performance.now(),
      rssMiB: Math.round(rssMiB * 10) / 10,
      heapUsedMiB: mib(memory?.heapUsed),
      heapTotalMiB: mib(memory?.heapTotal),
      externalMiB: mib(memory?.external),
      queued: null,
      leased: null,
      outboxPending: null,
    };
    try {
      const response = await fetch(`${origin}/healthz`);
      const health = (await response.json()) as { queue?: { queued?: number; leased?: number; dead?: number } | null; outboxPending?: number | null };
      s.queued = health.queue?.queued ?? null;
      s.leased = health.queue?.leased ?? null;
      s.outboxPending = health.outboxPending ?? null;
      deadLetters = health.queue?.dead ?? deadLetters;
    } catch {
      // a missing health figure is not a traffic error
    }
    taken.push(s);
    return s;
  };
  const interrupted = () => {
    if (c.signal?.aborted) throw new Error("soak interrupted");
  };
  await sleep(1000);
  const idle = await sample();
  const liveCold = await collected();

  // The follow cycle: idle actors follow; the oldest Follow is undone once answered.
  const idleActors = Array.from({ length: c.actors }, (_, i) => i);
  const outstanding: Array<{ actor: number; followId: string; sentAt: number }> = [];
  /** The measured part's Follows and when each was sent (the warm-up's are not timed). */
  const followSentAt = new Map<string, number>();
  const warmupFollows: string[] = [];
  const inboxPost = (type: "Follow" | "Undo", actor: number, follow: { id: string }) => {
    const actorId = remote.actorId(actor);
    const followObject = { id: follow.id, type: "Follow", actor: actorId, object: actorUrl };
    const activity =
      type === "Follow"
        ? { "@context": "https://www.w3.org/ns/activitystreams", ...followObject }
        : { "@context": "https://www.w3.org/ns/activitystreams", id: `${remote.origin}/undos/${randomUUID()}`, type: "Undo", actor: actorId, object: followObject };
    const body = JSON.stringify(activity);
    return { body, headers: signCavage({ method: "POST", url: inbox, body, keyId: remote.keyId(actor), privateKey }) };
  };
  const nextInbox = (now: number): { kind: "follow" | "undo"; actor: number; followId: string } => {
    const oldest = outstanding[0];
    const answered = oldest ? accepted.has(oldest.followId) || now - oldest.sentAt > UNDO_ANYWAY_MS : false;
    if (oldest && (answered || idleActors.length === 0)) {
      outstanding.shift();
      idleActors.push(oldest.actor);
      return { kind: "undo", actor: oldest.actor, followId: oldest.followId };
    }
    const actor = idleActors.shift()!;
    const followId = `${remote.origin}/follows/${randomUUID()}`;
    outstanding.push({ actor, followId, sentAt: now });
    return { kind: "follow", actor, followId };
  };

  // The schedule: the kinds take turns, one request every 1/rate seconds.
  const interval = 1000 / c.rate;
  const warmupCount = Math.round(c.warmup * c.rate);
  const measuredCount = Math.max(1, Math.round(c.seconds * c.rate));
  const cycle = ["actor", "webfinger", "charter", "inbox"] as const;
  const latencies = Object.fromEntries(SOAK_KINDS.map((k) => [k, [] as number[]])) as Record<SoakKind, number[]>;
  const statuses = Object.fromEntries(SOAK_KINDS.map((k) => [k, {} as Record<string, number>])) as Record<SoakKind, Record<string, number>>;
  const halves: [number[], number[]] = [[], []];
  const lags: number[] = [];
  let warmupErrors = 0;
  let turn = 0;
  const inFlight = new Set<Promise<void>>();

  /** Starts request i of a phase; `measured` phases record latency, status and the driver's lag. */
  const launch = (i: number, count: number, scheduled: number, measured: boolean) => {
    const startedAt = performance.now();
    if (measured) lags.push(startedAt - scheduled);
    const slot = cycle[turn++ % cycle.length]!;
    let kind: SoakKind;
    let sent: Promise<number>;
    if (slot === "inbox") {
      const next = nextInbox(startedAt);
      kind = next.kind;
      const { body, headers } = inboxPost(next.kind === "follow" ? "Follow" : "Undo", next.actor, { id: next.followId });
      if (kind === "follow") {
        if (measured) followSentAt.set(next.followId, startedAt);
        else warmupFollows.push(next.followId);
      }
      sent = request(agent, inbox, "POST", headers, body);
    } else {
      kind = slot;
      sent = request(agent, gets[slot].url, "GET", gets[slot].headers);
    }
    const p = sent.then((status) => {
      const ms = performance.now() - startedAt;
      const ok = status >= 200 && status < 300;
      if (!measured) {
        if (!ok) warmupErrors++;
        return;
      }
      statuses[kind][status] = (statuses[kind][status] ?? 0) + 1;
      latencies[kind].push(ms);
      halves[i < count / 2 ? 0 : 1].push(ms);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  let nextSample = performance.now() + SAMPLE_MS;
  let samplingNow: Promise<unknown> | null = null;
  /** Runs `count` requests on the schedule (open loop), sampling on the way; resolves when they have all been answered. */
  const phase = async (count: number, measured: boolean) => {
    const t0 = performance.now() + 10;
    let i = 0;
    while (i < count && !c.signal?.aborted) {
      const now = performance.now();
      while (i < count && t0 + i * interval <= now) {
        launch(i, count, t0 + i * interval, measured);
        i++;
      }
      if (now >= nextSample && !samplingNow) {
        nextSample = Math.max(nextSample + SAMPLE_MS, now);
        samplingNow = sample().finally(() => (samplingNow = null));
      }
      if (i < count) await sleep(Math.max(0, Math.min(t0 + i * interval, nextSample) - performance.now()));
    }
    const end = performance.now();
    interrupted();
    await samplingNow;
    await Promise.all(inFlight);
    return { start: t0, end };
  };

  note(`${c.warmup} s warm-up + ${c.seconds} s at ${c.rate} requests/s (actor, WebFinger, charter, inbox Follow/Undo in turn)`);
  if (warmupCount > 0) await phase(warmupCount, false);
  // The baseline for the leak test: the heap as the warm-up left it (code compiled, caches filled).
  await sleep(1000);
  const liveWarm = await collected();
  const loadStart = os.loadavg()[0]!;
  const traffic = await phase(measuredCount, true);
  const endSample = await sample(); // end of the measured part
  const loadEnd = os.loadavg()[0]!;

  // Accepts still on their way.
  const followIds = [...followSentAt.keys()];
  const settleBy = performance.now() + SETTLE_MS;
  while ([...warmupFollows, ...followIds].some((id) => !accepted.has(id)) && performance.now() < settleBy && !c.signal?.aborted) await sleep(100);
  interrupted();
  await sleep(AFTER_MS);
  const after = await sample(); // idle again, after the traffic
  const liveAfter = await collected();

  let followersAtEnd: number | null = null;
  try {
    const response = await fetch(`${origin}/pods/${POD_SLUG}/followers`, { headers: { accept: "application/activity+json" } });
    followersAtEnd = ((await response.json()) as { totalItems?: number }).totalItems ?? null;
  } catch {
    // reported as unknown
  }

  const seconds = (at: number) => Math.round((at - traffic.start) / 100) / 10;
  const samples: RssSample[] = taken.map(({ at, ...rest }) => ({ t: seconds(at), ...rest }));
  const measured = samples.filter((s, i) => taken[i]!.at >= traffic.start && taken[i]!.at <= endSample.at);
  const acceptMs = followIds.filter((id) => accepted.has(id)).map((id) => accepted.get(id)! - followSentAt.get(id)!).sort((a, b) => a - b);
  const secondHalf = slope(measured.filter((s) => s.t >= c.seconds / 2).map((s) => [s.t / 60, s.rssMiB]));
  const whole = slope(measured.map((s) => [s.t / 60, s.rssMiB]));
  const kinds = Object.fromEntries(SOAK_KINDS.map((kind) => [kind, latencyStats(latencies[kind], statuses[kind])])) as Record<SoakKind, LatencyStats>;
  const allStatuses: Record<string, number> = {};
  for (const kind of SOAK_KINDS) for (const [s, n] of Object.entries(statuses[kind])) allStatuses[s] = (allStatuses[s] ?? 0) + n;
  const sortedLags = lags.sort((a, b) => a - b);
  const numbers = (pick: (s: RssSample) => number | null) => measured.map(pick).filter((v): v is number => v !== null);
  const queued = numbers((s) => s.queued);
  const pending = numbers((s) => s.outboxPending);
  const startSample = measured[0] ?? samples.find((s) => s.t >= 0)!;
  const endOf = samples[taken.indexOf(endSample)]!;
  const split = (s: RssSample): MemorySplit => ({ heapTotalMiB: s.heapTotalMiB, heapUsedMiB: s.heapUsedMiB, externalMiB: s.externalMiB });
  return {
    seconds: c.seconds,
    warmup: c.warmup,
    rate: c.rate,
    achievedRate: measuredCount / Math.max(0.001, (traffic.end - traffic.start) / 1000 + 1 / c.rate),
    driverLagMs: { p99: percentile(sortedLags, 99) ?? 0, max: sortedLags.at(-1) ?? 0 },
    loadAverage: { start: Math.round(loadStart * 100) / 100, end: Math.round(loadEnd * 100) / 100 },
    kinds,
    overall: latencyStats(SOAK_KINDS.flatMap((kind) => latencies[kind]), allStatuses),
    overallP99ByHalf: [percentile(halves[0].sort((a, b) => a - b), 99), percentile(halves[1].sort((a, b) => a - b), 99)],
    warmupErrors,
    accepts: { follows: followIds.length, received: acceptMs.length, p50Ms: percentile(acceptMs, 50), p99Ms: percentile(acceptMs, 99), missing: followIds.length - acceptMs.length },
    remote: { posts: { ...remote.posts }, unexpected: remote.unexpected(), actorFetches: remote.actorFetches() },
    followers: { atEnd: followersAtEnd, outstanding: outstanding.length },
    rss: {
      idleMiB: idle.rssMiB,
      startMiB: startSample.rssMiB,
      endMiB: endOf.rssMiB,
      minMiB: Math.min(...measured.map((s) => s.rssMiB)),
      maxMiB: Math.max(...measured.map((s) => s.rssMiB)),
      afterMiB: after.rssMiB,
      liveHeap: { coldMiB: liveCold.heapUsedMiB, warmMiB: liveWarm.heapUsedMiB, afterMiB: liveAfter.heapUsedMiB, rssAfterGcMiB: liveAfter.rssMiB },
      peakMiB: lastPeak,
      slopeMiBPerMin: secondHalf.slope,
      slopeStdErr: secondHalf.stdErr,
      slopeWholeMiBPerMin: whole.slope,
      split: { start: split(startSample), end: split(endOf) },
      samples,
    },
    queue: {
      maxQueued: queued.length ? Math.max(...queued) : null,
      endQueued: after.queued,
      maxOutboxPending: pending.length ? Math.max(...pending) : null,
      dead: deadLetters,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Printing.

export function formatSoakReport(r: SoakReport): string {
  const ms = (x: number | null) => (x === null ? "—" : x < 10 ? x.toFixed(1) : x.toFixed(0));
  const mb = (x: number) => x.toFixed(0);
  const mbq = (x: number | null) => (x === null ? "?" : x.toFixed(0));
  const signed = (x: number) => (Number.isNaN(x) ? "—" : `${x >= 0 ? "+" : ""}${x.toFixed(1)}`);
  const statusList = (s: Record<string, number>) =>
    Object.entries(s)
      .filter(([code]) => !(Number(code) >= 200 && Number(code) < 300))
      .map(([code, n]) => `${code === "0" ? "network/timeout" : code} ×${n}`)
      .join(", ");
  const rows = [...SOAK_KINDS.map((k) => [k, r.kinds[k]] as const), ["overall", r.overall] as const].map(([name, s]) => [
    name,
    String(s.count),
    ms(s.p50Ms),
    ms(s.p99Ms),
    ms(s.maxMs),
    s.errors ? `${s.errors} (${statusList(s.statuses)})` : "0",
  ]);
  const header = ["kind", "requests", "p50 ms", "p99 ms", "max ms", "errors"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i === 0 || i === 5 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 || i === 5 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|")}|`;
  const rss = r.rss;
  const errors = r.overall.errors + r.warmupErrors;
  return [
    `Soak (${r.database}): ${r.seconds} s at ${r.rate} requests/s after ${r.warmup} s of warm-up, open loop (${r.achievedRate.toFixed(1)}/s started; driver lag p99 ${ms(r.driverLagMs.p99)} ms, max ${ms(r.driverLagMs.max)} ms; load average ${r.loadAverage.start} → ${r.loadAverage.end}); node: src/main.ts in its own process${r.nodeFlags.length ? ` with ${r.nodeFlags.join(" ")}` : ""}`,
    "",
    line(header),
    rule,
    ...rows.map(line),
    "",
    `  errors: ${errors} of ${r.overall.count} measured requests${r.warmupErrors ? ` (+${r.warmupErrors} in the warm-up)` : ""}; goal 0 → ${errors === 0 ? "met" : "NOT met"}`,
    `  overall p99 by half: ${ms(r.overallP99ByHalf[0])} ms, then ${ms(r.overallP99ByHalf[1])} ms`,
    `  Accepts: ${r.accepts.received} of ${r.accepts.follows} Follows answered (Follow POST → Accept at the remote: p50 ${ms(r.accepts.p50Ms)} ms, p99 ${ms(r.accepts.p99Ms)} ms); remote got ${JSON.stringify(r.remote.posts)}, ${r.remote.unexpected} unexpected requests, ${r.remote.actorFetches} actor fetches`,
    `  followers at the end: ${r.followers.atEnd ?? "?"} (Follows not undone: ${r.followers.outstanding}); queue: at most ${r.queue.maxQueued ?? "?"} waiting, ${r.queue.endQueued ?? "?"} after, ${r.queue.dead ?? "?"} dead; outbox pending at most ${r.queue.maxOutboxPending ?? "?"}`,
    `  node RSS: idle ${mb(rss.idleMiB)} MB; measured start ${mb(rss.startMiB)} → end ${mb(rss.endMiB)} MB (min ${mb(rss.minMiB)}, max ${mb(rss.maxMiB)}); idle after ${mb(rss.afterMiB)} MB; peak ${rss.peakMiB === null ? "?" : mb(rss.peakMiB)} MB`,
    `  of which V8 heap ${mbq(rss.split.start.heapTotalMiB)} → ${mbq(rss.split.end.heapTotalMiB)} MB (used ${mbq(rss.split.start.heapUsedMiB)} → ${mbq(rss.split.end.heapUsedMiB)}), external (PGlite's WebAssembly memory, buffers) ${mbq(rss.split.start.externalMiB)} → ${mbq(rss.split.end.externalMiB)} MB`,
    `  live V8 heap after a full GC, no request in flight: ${mbq(rss.liveHeap.coldMiB)} MB cold, ${mbq(rss.liveHeap.warmMiB)} MB after the warm-up, ${mbq(rss.liveHeap.afterMiB)} MB after the soak${rss.liveHeap.warmMiB !== null && rss.liveHeap.afterMiB !== null ? ` (${signed(rss.liveHeap.afterMiB - rss.liveHeap.warmMiB)} MB; goal ≈ 0)` : ""}; RSS after that GC ${mb(rss.liveHeap.rssAfterGcMiB)} MB`,
    `  RSS trend over the second half: ${signed(rss.slopeMiBPerMin)} ± ${rss.slopeStdErr.toFixed(1)} MB/min (whole run ${signed(rss.slopeWholeMiBPerMin)}); goal: no growth trend (≈ 0)`,
    `  node log: ${r.nodeLog.errors} errors, ${r.nodeLog.warnings} warnings${r.nodeLog.examples.length ? `; e.g. ${r.nodeLog.examples[0]}` : ""}`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      rate: { type: "string", default: "50" },
      warmup: { type: "string", default: "5" },
      actors: { type: "string", default: "200" },
      "node-flags": { type: "string", default: "" },
      "node-log": { type: "string" },
      postgres: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
  });
  const number = (name: string, raw: string, min: number, max: number, whole: boolean) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (whole && !Number.isInteger(n))) throw new Error(`--${name} must be a ${whole ? "whole " : ""}number between ${min} and ${max} (got ${raw})`);
    return n;
  };
  await configureLogging("error");
  const abort = new AbortController();
  process.once("SIGINT", () => {
    note("interrupted, cleaning up");
    abort.abort();
  });
  try {
    const report = await benchSoak({
      seconds: number("seconds", values.seconds, 1, 86_400, true),
      rate: number("rate", values.rate, 0.1, 10_000, false),
      warmup: number("warmup", values.warmup, 0, 600, true),
      actors: number("actors", values.actors, 1, 100_000, true),
      nodeFlags: values["node-flags"].split(/\s+/).filter(Boolean),
      nodeLog: values["node-log"] ?? null,
      postgresAdminUrl: process.env.BENCH_DATABASE_URL?.trim() || (values.postgres ? DEFAULT_POSTGRES_URL : null),
      signal: abort.signal,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatSoakReport(report));
    process.exit(0);
  } catch (error) {
    if (abort.signal.aborted) {
      note("stopped; the node, its data and the remote server are gone");
      process.exit(130);
    }
    process.stderr.write(`bench soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  }
}
