/**
 * `npm run bench` — throughput of a real Hyphae node, in one run:
 *
 *  1. GET of the pod actor (`Accept: application/activity+json`) and of its WebFinger
 *     document, each next to a bare Fastify 5 route that serves the very same bytes and
 *     headers (fetched from the node first). The ratio node/bare is what Hyphae and Fedify
 *     cost on top of HTTP itself.
 *  2. Signed inbox Follows: a fake remote server on loopback hosts N Person actors; N
 *     Follows signed like Mastodon's (draft-cavage rsa-sha256) are POSTed to the pod's
 *     inbox with bounded concurrency. Reported: 202s per second, and N divided by the time
 *     until the pod lists N followers and until all N Accepts reached the remote server.
 *  3. The Mastodon client API (target `mastodon`, tests/bench/mastodon-api.ts): with the pod
 *     given a charter and 49 offers and needs, GET /api/v1/accounts/:id/statuses and
 *     /api/v1/timelines/public (limit 20), each next to a bare route serving the same bytes
 *     and headers, as in 1; and `hyphae --version` wall time next to `node -e 0`.
 *  4. A bounded soak (target `soak`, tests/bench/soak.ts): a node in a child process of its own
 *     takes `--seconds` of mixed traffic (actor, WebFinger, charter Note, signed inbox Follows
 *     and their Undos) at `--rate` requests/s, open loop; p50/p99 and errors per kind, and the
 *     node's RSS over time (start, end, trend) and its live heap before and after.
 *
 * Fairness: the node and the bare route live in THIS process and are measured one after
 * the other, so both are served by the same single event loop, with the same Node flags
 * and heap, while the node's background work (queue listener, scheduler) idles alike in
 * both runs. The load generator (autocannon) runs in a child process (tests/bench/load.ts)
 * so it never competes for that event loop. Server CPU per request is process.cpuUsage()
 * over the measured run divided by the requests served (PostgreSQL's own CPU is not in it).
 *
 * Database: embedded PGlite in a temporary DATA_DIR by default; PostgreSQL with
 * `--postgres` or `BENCH_DATABASE_URL` (a server URL whose path names a database to connect
 * to; a fresh database is created beside it and dropped afterwards).
 */
import { execFileSync, fork } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import { sql } from "kysely";
import { loadConfig, type Config } from "../../src/config.ts";
import { countFollowers } from "../../src/db/repos/follows.ts";
import { configureLogging } from "../../src/lib/logging.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import { findPod } from "../../src/services/pods.ts";
import { findCharter, publishCharterRevision } from "../../src/services/charters.ts";
import { createPostgresDatabase, freePort } from "../helpers/infra.ts";
import { signCavage } from "./cavage.ts";
import { measureCryptoFloor, type CryptoFloor } from "./crypto-floor.ts";
import { startFakeRemote } from "./fake-remote.ts";
import type { LoadMessage, LoadRequest, LoadSummary } from "./load.ts";
import { benchBooks, formatBooksReport } from "./books.ts";
import { benchCongress, formatCongressReport } from "./congress.ts";
import { benchExchange, formatExchangeReport } from "./exchange.ts";
import { benchFanout, formatFanoutReport } from "./fanout.ts";
import { benchSoak, formatSoakReport, type SoakReport } from "./soak.ts";
import { benchFootprint, formatFootprintReport } from "./footprint.ts";
import { formatVersionReport, mastodonTargets, MASTODON_POSTS, seedMastodonPod, timeVersion, type VersionTiming } from "./mastodon-api.ts";

const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const LOAD_SCRIPT = new URL("./load.ts", import.meta.url);
const REPO_ROOT = new URL("../../", import.meta.url);
const POD_SLUG = "commons";
/** The performance issue's inbox goal: signed Follows fully processed per second. */
const INBOX_GOAL_PER_S = 200;
const TARGETS = ["actor", "webfinger", "charter", "featured", "inbox", "mastodon", "books", "congress", "exchange", "fanout", "soak", "footprint"] as const;
type Target = (typeof TARGETS)[number];

const USAGE = `Usage: npm run bench -- [options]
  --duration S       measured seconds per HTTP run (default 10)
  --warmup S         warm-up seconds before each HTTP run, discarded (default 5)
  --connections N    autocannon connections (default 50)
  --follows N        inbox Follows to send (default 200)
  --concurrency N    Follow POSTs in flight (default 16)
  --timeout S        give up waiting for followers/Accepts after S seconds (default 300)
  --only LIST        comma-separated subset of ${TARGETS.join(",")}
                     (mastodon: account statuses and public timeline GETs, hyphae --version time)
                     (footprint: first start, idle RSS, restart, hyphae --version/--help; PGlite only)
  --seconds N        soak: measured seconds of mixed traffic (default 60; 3600 for an hour)
  --rate R           soak: requests per second, all kinds together (default 50)
  --no-bare          skip the bare-route runs (for profiling the node with --cpu-prof)
  --postgres         use PostgreSQL (fresh database on ${DEFAULT_POSTGRES_URL}, or BENCH_DATABASE_URL)
  --json             print the results as JSON instead of a table`;

interface Options {
  duration: number;
  warmup: number;
  connections: number;
  follows: number;
  concurrency: number;
  timeout: number;
  only: Set<Target>;
  seconds: number;
  rate: number;
  bare: boolean;
  postgresAdminUrl: string | null;
  json: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: {
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "5" },
      connections: { type: "string", default: "50" },
      follows: { type: "string", default: "200" },
      concurrency: { type: "string", default: "16" },
      timeout: { type: "string", default: "300" },
      only: { type: "string", default: TARGETS.join(",") },
      seconds: { type: "string", default: "60" },
      rate: { type: "string", default: "50" },
      bare: { type: "boolean", default: true },
      postgres: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  const int = (name: string, raw: string, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number between ${min} and ${max} (got ${raw})`);
    return n;
  };
  const positive = (name: string, raw: string, max: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new Error(`--${name} must be a number above 0 and at most ${max} (got ${raw})`);
    return n;
  };
  const only = new Set<Target>();
  for (const name of values.only.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (!(TARGETS as readonly string[]).includes(name)) throw new Error(`--only takes ${TARGETS.join(", ")} (got ${name})`);
    only.add(name as Target);
  }
  const envUrl = process.env.BENCH_DATABASE_URL?.trim() || null;
  return {
    duration: int("duration", values.duration, 1, 600),
    warmup: int("warmup", values.warmup, 0, 600),
    connections: int("connections", values.connections, 1, 1000),
    follows: int("follows", values.follows, 1, 100_000),
    concurrency: int("concurrency", values.concurrency, 1, 256),
    timeout: int("timeout", values.timeout, 1, 3600),
    only,
    seconds: int("seconds", values.seconds, 1, 86_400),
    rate: positive("rate", values.rate, 10_000),
    bare: values.bare,
    postgresAdminUrl: envUrl ?? (values.postgres ? DEFAULT_POSTGRES_URL : null),
    json: values.json,
  };
}

const note = (message: string) => process.stderr.write(`bench: ${message}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------
// Set-up helpers come from tests/helpers/infra.ts, which does not load vitest.

// ---------------------------------------------------------------------------------------
// Machine and build description.

interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverage: number[];
  commit: string | null;
  srcDirty: boolean | null;
}

function machineInfo(): MachineInfo {
  const git = (...args: string[]) => {
    try {
      return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return null;
    }
  };
  const status = git("status", "--porcelain", "--", "src");
  return {
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    commit: git("rev-parse", "--short", "HEAD"),
    srcDirty: status === null ? null : status.length > 0,
  };
}

async function databaseInfo(node: RunningNode): Promise<{ kind: string; version: string }> {
  const { rows } = await sql<{ version: string }>`select version()`.execute(node.ctx.deps.db);
  const server = rows[0]?.version.split(",")[0] ?? "unknown";
  if (node.ctx.database.kind === "postgres") return { kind: "postgres", version: server };
  let pglite = "";
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("node_modules/@electric-sql/pglite/package.json", REPO_ROOT), "utf8")) as { version: string };
    pglite = `PGlite ${pkg.version}, `;
  } catch {
    // version unknown
  }
  return { kind: "pglite", version: `${pglite}${server}` };
}

// ---------------------------------------------------------------------------------------
// HTTP GET throughput: the node next to a bare Fastify route serving the same bytes.

interface Snapshot {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

// Headers that describe the connection or the moment rather than the document.
const NOT_COPIED = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);

async function snapshot(url: string, headers: Record<string, string>): Promise<Snapshot> {
  const response = await fetch(url, { headers });
  const copied: Record<string, string> = {};
  for (const [name, value] of response.headers) if (!NOT_COPIED.has(name)) copied[name] = value;
  return { status: response.status, headers: copied, body: Buffer.from(await response.arrayBuffer()) };
}

async function startBareServer(routes: Array<{ path: string; snapshot: Snapshot }>) {
  const app = Fastify({ logger: false });
  for (const { path: routePath, snapshot: s } of routes) {
    app.get(routePath.split("?")[0]!, (_request, reply) => reply.code(s.status).headers(s.headers).send(s.body));
  }
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, origin: `http://127.0.0.1:${(app.server.address() as net.AddressInfo).port}` };
}

interface HttpRun extends LoadSummary {
  /** Server-process CPU (user + system) per request served, in milliseconds. */
  cpuMsPerRequest: number;
}

/** One warm-up + measured autocannon run from a child process; this process's CPU is sampled over the measured part. */
function measureHttp(request: LoadRequest): Promise<HttpRun> {
  // execArgv: [] keeps flags such as --cpu-prof for the server process only.
  const child = fork(LOAD_SCRIPT, [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    let cpuStart: NodeJS.CpuUsage | null = null;
    let settled = false;
    child.on("message", (message: LoadMessage) => {
      if (message.type === "measuring") {
        cpuStart = process.cpuUsage();
      } else if (message.type === "done") {
        const cpu = process.cpuUsage(cpuStart ?? undefined);
        settled = true;
        resolve({ ...message.result, cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / Math.max(1, message.result.totalRequests) });
      } else {
        settled = true;
        reject(new Error(`load generator failed: ${message.error}`));
      }
    });
    child.once("exit", (code) => {
      if (!settled) reject(new Error(`load generator exited with code ${code} before reporting`));
    });
    child.send(request);
  });
}

interface HttpComparison {
  path: string;
  contentType: string;
  bytes: number;
  hyphae: HttpRun;
  bare: HttpRun | null;
  /** hyphae req/s ÷ bare req/s */
  ratio: number | null;
  /** hyphae server CPU per request ÷ bare's */
  cpuRatio: number | null;
}

async function compareHttp(
  name: string,
  target: { path: string; headers: Record<string, string> },
  nodeOrigin: string,
  bareOrigin: string,
  snap: Snapshot,
  options: Options,
): Promise<HttpComparison> {
  const load = (origin: string): LoadRequest => ({
    url: origin + target.path,
    headers: target.headers,
    connections: options.connections,
    warmup: options.warmup,
    duration: options.duration,
  });
  note(`${name}: Hyphae node (${options.warmup} s warm-up + ${options.duration} s, ${options.connections} connections)`);
  const hyphae = await measureHttp(load(nodeOrigin));
  let bare: HttpRun | null = null;
  if (options.bare) {
    note(`${name}: bare Fastify route`);
    bare = await measureHttp(load(bareOrigin));
  }
  for (const [who, run] of [["Hyphae", hyphae], ["bare", bare]] as const) {
    if (run && (run.non2xx || run.errors || run.timeouts)) {
      note(`warning: ${name} ${who}: ${run.non2xx} non-2xx, ${run.errors} errors, ${run.timeouts} timeouts`);
    }
  }
  return {
    path: target.path,
    contentType: snap.headers["content-type"] ?? "",
    bytes: snap.body.length,
    hyphae,
    bare,
    ratio: bare ? hyphae.requestsPerSecond / bare.requestsPerSecond : null,
    cpuRatio: bare ? hyphae.cpuMsPerRequest / bare.cpuMsPerRequest : null,
  };
}

// ---------------------------------------------------------------------------------------
// Signed inbox Follows.

interface InboxResult {
  follows: number;
  concurrency: number;
  /** Responses by status code (0 = network error). */
  statuses: Record<string, number>;
  /** Seconds from the first POST until the last 202. */
  acceptSeconds: number;
  acceptedPerSecond: number;
  /** Seconds until the pod lists all N as accepted followers (null: timed out). */
  followersSeconds: number | null;
  followersPerSecond: number | null;
  /** Seconds until all N Accepts reached the remote server (null: timed out). */
  acceptsDeliveredSeconds: number | null;
  acceptsDeliveredPerSecond: number | null;
  followersRecorded: number;
  acceptsDelivered: number;
  /** Actor documents the pod fetched from the remote server, per Follow. */
  actorFetchesPerFollow: number;
  /** This process's CPU per Follow until both end points (includes the fake remote and the POSTing, which are small). */
  cpuMsPerFollow: number;
  /** The performance issue's goal, Follows fully processed per second. */
  goalPerSecond: number;
  /** Baselines measured in the same run (tests/bench/crypto-floor.ts). */
  floor: CryptoFloor;
}

function postOnce(url: URL, headers: Record<string, string>, body: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: "POST", agent, headers: { ...headers, "content-length": String(Buffer.byteLength(body)) } }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", () => resolve(0));
    });
    request.on("error", () => resolve(0));
    request.setTimeout(60_000, () => request.destroy(new Error("timed out")));
    request.end(body);
  });
}

/** Resolves with `promise`'s value, or null once `deadline` (performance.now()) passes. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), Math.max(0, deadline - performance.now()))));
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

async function benchInbox(node: RunningNode, config: Config, options: Options): Promise<InboxResult> {
  const n = options.follows;
  const deps = node.ctx.deps;
  const pod = await findPod(deps, POD_SLUG);
  if (!pod) throw new Error(`pod ${POD_SLUG} missing`);
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const remote = await startFakeRemote({ actors: n, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() });
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    const actorUrl = new URL(`/pods/${POD_SLUG}`, config.publicUrl).href;
    const inbox = new URL(`/pods/${POD_SLUG}/inbox`, config.publicUrl);
    note(`inbox: signing ${n} Follows`);
    const date = new Date();
    const follows = Array.from({ length: n }, (_, i) => {
      const body = JSON.stringify({
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${remote.origin}/${randomUUID()}`,
        type: "Follow",
        actor: remote.actorId(i),
        object: actorUrl,
      });
      return { body, headers: signCavage({ method: "POST", url: inbox, body, keyId: remote.keyId(i), privateKey, date }) };
    });

    note(`inbox: POSTing ${n} Follows, ${options.concurrency} at a time`);
    const statuses: Record<string, number> = {};
    const cpuStart = process.cpuUsage();
    const t0 = performance.now();
    const deadline = t0 + options.timeout * 1000;
    let lastAccepted = t0;
    let followersRecorded = 0;

    const followersDone = (async () => {
      while (performance.now() < deadline) {
        followersRecorded = await countFollowers(deps.db, pod.id, "accepted");
        if (followersRecorded >= n) return performance.now();
        await sleep(50);
      }
      return null;
    })();
    const acceptsDone = beforeDeadline(remote.whenAccepted(n), deadline);

    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency, n) }, async () => {
        while (next < n) {
          const follow = follows[next++]!;
          const status = await postOnce(inbox, follow.headers, follow.body, agent);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 202) lastAccepted = performance.now();
        }
      }),
    );
    const ok = statuses[202] ?? 0;
    if (ok < n) note(`warning: only ${ok} of ${n} Follows were answered 202: ${JSON.stringify(statuses)}`);
    note("inbox: waiting for the pod's followers and the Accepts");
    const [followersAt, acceptsAt] = await Promise.all([followersDone, acceptsDone]);
    const cpu = process.cpuUsage(cpuStart);
    const seconds = (at: number | null) => (at === null ? null : (at - t0) / 1000);
    const rate = (s: number | null) => (s === null ? null : n / s);
    const acceptSeconds = (lastAccepted - t0) / 1000;
    return {
      follows: n,
      concurrency: options.concurrency,
      statuses,
      acceptSeconds,
      acceptedPerSecond: acceptSeconds > 0 ? ok / acceptSeconds : 0,
      followersSeconds: seconds(followersAt),
      followersPerSecond: rate(seconds(followersAt)),
      acceptsDeliveredSeconds: seconds(acceptsAt),
      acceptsDeliveredPerSecond: rate(seconds(acceptsAt)),
      followersRecorded,
      acceptsDelivered: remote.acceptedCount(),
      actorFetchesPerFollow: remote.actorFetches() / n,
      cpuMsPerFollow: (cpu.user + cpu.system) / 1000 / n,
      goalPerSecond: INBOX_GOAL_PER_S,
      floor: await measureCryptoFloor(deps.db, pod.id),
    };
  } finally {
    agent.destroy();
    await remote.close();
  }
}

// ---------------------------------------------------------------------------------------
// Report.

interface Report {
  startedAt: string;
  machine: MachineInfo;
  database: { kind: string; version: string };
  settings: Omit<Options, "only" | "seconds" | "rate" | "bare" | "postgresAdminUrl" | "json"> & { queueConcurrency: number };
  http: Partial<Record<HttpTarget, HttpComparison>>;
  inbox: InboxResult | null;
  /** Posts on the pod when the Mastodon API GETs were measured. */
  mastodonPosts: number | null;
  version: VersionTiming | null;
}

type HttpTarget = "actor" | "webfinger" | "account statuses" | "public timeline";
type HttpTargetSpec = { path: string; headers: Record<string, string> };

/** A Markdown table with columns padded to width; numeric columns (align "r") right-aligned. */
function markdownTable(header: string[], rows: string[][], align: Array<"l" | "r">): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, c) => (align[c] === "r" ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, c) => (align[c] === "r" ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)];
}

function formatTable(report: Report): string {
  const { machine: m, settings: s } = report;
  const fixed = (x: number | null, digits = 0) => (x === null ? "—" : x.toFixed(digits));
  const lines = [
    "",
    `Hyphae benchmark, ${report.startedAt}, commit ${m.commit ?? "?"}${m.srcDirty ? " (src/ has uncommitted changes)" : ""}`,
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; load average at start ${m.loadAverage.join(" ")}`,
    `Database: ${report.database.kind} (${report.database.version}); queue concurrency ${s.queueConcurrency}`,
  ];
  const comparisons = Object.entries(report.http);
  if (comparisons.length > 0) {
    lines.push(
      `HTTP: autocannon in a child process, ${s.connections} connections, ${s.warmup} s warm-up + ${s.duration} s measured; node and bare route in this process`,
      "",
    );
    const row = (name: string, who: string, r: HttpRun, ratio: string, cpuRatio: string) =>
      [name, who, fixed(r.requestsPerSecond), fixed(r.latencyP50), fixed(r.latencyP99), fixed(r.cpuMsPerRequest, 3), ratio, cpuRatio];
    const rows = comparisons.flatMap(([name, c]) => [
      row(name, "Hyphae", c.hyphae, c.ratio === null ? "—" : c.ratio.toPrecision(3), c.cpuRatio === null ? "—" : `${c.cpuRatio.toPrecision(3)}×`),
      ...(c.bare && c.ratio !== null ? [row(name, "bare Fastify", c.bare, `(1/${fixed(1 / c.ratio)})`, "")] : []),
    ]);
    lines.push(
      ...markdownTable(
        ["endpoint", "server", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "node/bare req/s", "node/bare CPU"],
        rows,
        ["l", "l", "r", "r", "r", "r", "r", "r"],
      ),
    );
    for (const [name, c] of comparisons) lines.push(`  ${name}: GET ${c.path} → ${c.bytes} bytes of ${c.contentType}`);
  }
  const i = report.inbox;
  if (i) {
    lines.push(
      "",
      `Inbox: ${i.follows} signed Follows (draft-cavage rsa-sha256, distinct actors), ${i.concurrency} POSTs in flight; responses ${JSON.stringify(i.statuses)}`,
      "",
      ...markdownTable(
        ["measure", "seconds", "per second"],
        [
          ["HTTP 202 acceptance", fixed(i.acceptSeconds, 2), fixed(i.acceptedPerSecond, 1)],
          [`followers recorded (${i.followersRecorded}/${i.follows})`, fixed(i.followersSeconds, 2), fixed(i.followersPerSecond, 1)],
          [`Accepts delivered (${i.acceptsDelivered}/${i.follows})`, fixed(i.acceptsDeliveredSeconds, 2), fixed(i.acceptsDeliveredPerSecond, 1)],
        ],
        ["l", "r", "r"],
      ),
      "",
      `  process CPU ${fixed(i.cpuMsPerFollow, 2)} ms per Follow; ${i.actorFetchesPerFollow.toFixed(2)} actor-document fetches per Follow`,
      `  goal ≥ ${i.goalPerSecond} Follows/s fully processed (Accept delivered): ${fixed(i.acceptsDeliveredPerSecond === null ? null : i.acceptsDeliveredPerSecond / i.goalPerSecond, 2)}× the goal`,
      `  crypto floor in this run (verify the Follow's RSA-2048 signature and digest, sign the Accept): ${i.floor.floorMsPerFollow.toFixed(2)} ms = ${i.floor.floorFollowsPerSecond.toFixed(0)} Follows/s on one core; the node spends ${(i.cpuMsPerFollow / i.floor.floorMsPerFollow).toFixed(1)}× that CPU per Follow`,
      `  keys: the pod signs with RSA-${i.floor.podRsaBits ?? "?"} (goal: 2048 for new pods); one signature ${i.floor.signMs2048.toFixed(2)} ms at 2048 bits, ${i.floor.signMs4096.toFixed(2)} ms at 4096 (${(i.floor.signMs4096 / i.floor.signMs2048).toFixed(1)}×)`,
    );
  }
  if (report.mastodonPosts !== null) lines.push(`  (Mastodon API GETs on a pod with ${report.mastodonPosts} posts: its charter, offers and needs)`);
  return lines.join("\n") + "\n" + (report.version ? formatVersionReport(report.version) : "");
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const cleanups: Array<() => Promise<void>> = [];
  let cleaning: Promise<void> | null = null;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      for (const step of cleanups.reverse()) await step().catch((error) => note(`clean-up step failed: ${String(error)}`));
    })());
  process.once("SIGINT", () => {
    note("interrupted, cleaning up");
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    const machine = machineInfo();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-bench-"));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    let databaseUrl: string | null = null;
    if (options.postgresAdminUrl) {
      const created = await createPostgresDatabase(options.postgresAdminUrl);
      cleanups.push(created.drop);
      databaseUrl = created.url;
      note(`created database ${new URL(databaseUrl).pathname.slice(1)}`);
    }
    const port = await freePort();
    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      POD_SLUG,
      POD_NAME: "Bench Commons",
      ALLOW_PRIVATE_ADDRESSES: "true",
      LOG_LEVEL: "silent",
      DATA_DIR: dataDir,
      ADMIN_SOCKET: "off",
      ...(databaseUrl && { DATABASE_URL: databaseUrl }),
    });
    await configureLogging(config.logLevel);
    note(`starting the node on ${config.publicUrl.origin} (${databaseUrl ? "PostgreSQL" : "PGlite"})`);
    const node = await startNode(config);
    cleanups.push(() => node.stop());

    const report: Report = {
      startedAt: new Date().toISOString(),
      machine,
      database: await databaseInfo(node),
      settings: {
        duration: options.duration,
        warmup: options.warmup,
        connections: options.connections,
        follows: options.follows,
        concurrency: options.concurrency,
        timeout: options.timeout,
        queueConcurrency: config.queue.concurrency,
      },
      http: {},
      inbox: null,
      mastodonPosts: null,
      version: null,
    };

    const origin = config.publicUrl.origin;
    /** Snapshots each target from the node, checks a bare route serves the same, and measures both. */
    const measureTargets = async (targets: Partial<Record<HttpTarget, HttpTargetSpec>>) => {
      const names = Object.keys(targets) as HttpTarget[];
      const snaps = new Map<HttpTarget, Snapshot>();
      for (const name of names) {
        const snap = await snapshot(origin + targets[name]!.path, targets[name]!.headers);
        if (snap.status !== 200) throw new Error(`GET ${targets[name]!.path} answered ${snap.status}: ${snap.body.toString()}`);
        snaps.set(name, snap);
      }
      const bare = await startBareServer(names.map((name) => ({ path: targets[name]!.path, snapshot: snaps.get(name)! })));
      cleanups.push(() => bare.app.close());
      for (const name of names) {
        const mine = snaps.get(name)!;
        const theirs = await snapshot(bare.origin + targets[name]!.path, targets[name]!.headers);
        if (!theirs.body.equals(mine.body) || theirs.headers["content-type"] !== mine.headers["content-type"]) {
          throw new Error(`the bare route for ${name} does not serve the node's bytes`);
        }
      }
      for (const name of names) {
        report.http[name] = await compareHttp(name, targets[name]!, origin, bare.origin, snaps.get(name)!, options);
      }
    };

    const fediverse = {
      actor: { path: `/pods/${POD_SLUG}`, headers: { accept: "application/activity+json" } },
      webfinger: { path: `/.well-known/webfinger?resource=acct:${POD_SLUG}@${config.publicUrl.host}`, headers: { accept: "application/jrd+json" } },
    };
    const fediverseTargets = (["actor", "webfinger"] as const).filter((t) => options.only.has(t));
    // Measured before the Mastodon target gives the pod a charter, so the actor stays as in earlier runs.
    if (fediverseTargets.length > 0) await measureTargets(Object.fromEntries(fediverseTargets.map((t) => [t, fediverse[t]])));
    if (options.only.has("mastodon")) {
      note(`mastodon: publishing a charter and ${MASTODON_POSTS - 1} offers and needs`);
      await measureTargets(mastodonTargets(await seedMastodonPod(node.ctx.deps, POD_SLUG)));
      report.mastodonPosts = MASTODON_POSTS;
      note("mastodon: timing hyphae --version");
      report.version = timeVersion(5);
    }
    // The charter Note and the featured collection (which holds it), beside bare routes too.
    const charterTargets = (["charter", "featured"] as const).filter((t) => options.only.has(t));
    if (charterTargets.length > 0) {
      if (!(await findCharter(node.ctx.deps, POD_SLUG))) {
        await publishCharterRevision(node.ctx.deps, POD_SLUG, {
          title: "Commons charter",
          changeNote: "First charter",
          services: [{ name: "Tool library", description: "Borrow tools for a week.", category: "repair", since: "2026-01-04" }],
        });
      }
      const charterDocs = {
        charter: { path: `/pods/${POD_SLUG}/charter`, headers: { accept: "application/activity+json" } },
        featured: { path: `/pods/${POD_SLUG}/featured`, headers: { accept: "application/activity+json" } },
      };
      await measureTargets(Object.fromEntries(charterTargets.map((t) => [t, charterDocs[t]])));
    }
    if (options.only.has("inbox")) report.inbox = await benchInbox(node, config, options);

    // The open books (tests/bench/books.ts): child processes on fresh databases, PGlite and PostgreSQL when reachable; BENCH_BOOKS_ROWS sets N.
    const books = options.only.has("books") ? await benchBooks(options.postgresAdminUrl ? { postgresAdminUrl: options.postgresAdminUrl } : {}) : null;
    // Congress matching (tests/bench/congress.ts): pure matching and the whole view on PGlite and PostgreSQL when reachable.
    const congress = options.only.has("congress") ? await benchCongress(options.postgresAdminUrl ? { postgresAdminUrl: options.postgresAdminUrl } : {}) : null;
    // Exchanges between nodes (tests/bench/exchange.ts): claims accepted end to end, an urgent need to 50 neighbour hosts.
    const exchange = options.only.has("exchange") ? await benchExchange({ postgresAdminUrl: options.postgresAdminUrl }) : null;
    // One charter revision to 1,000 followers on 100 loopback hosts (tests/bench/fanout.ts).
    const fanout = options.only.has("fanout") ? await benchFanout({ postgresAdminUrl: options.postgresAdminUrl }) : null;
    // The soak (tests/bench/soak.ts): its own node process; Ctrl-C stops it and removes what it made before we exit.
    let soak: SoakReport | null = null;
    if (options.only.has("soak")) {
      const abort = new AbortController();
      const running = benchSoak({ seconds: options.seconds, rate: options.rate, warmup: options.warmup, postgresAdminUrl: options.postgresAdminUrl, signal: abort.signal });
      cleanups.push(async () => {
        abort.abort();
        await running.catch(() => {});
      });
      soak = await running;
    }
    // Footprint (tests/bench/footprint.ts): a node in its own process on a fresh embedded database, started twice; the CLI's start-up.
    const footprint = options.only.has("footprint") ? await benchFootprint() : null;
    process.stdout.write(
      options.json
        ? JSON.stringify({ ...report, books, congress, exchange, fanout, ...(soak && { soak }), ...(footprint && { footprint }) }, null, 2) + "\n"
        : formatTable(report) +
            (books ? formatBooksReport(books) : "") +
            (congress ? formatCongressReport(congress) : "") +
            (exchange ? `\n${formatExchangeReport(exchange)}\n` : "") +
            (fanout ? `\n${formatFanoutReport(fanout)}\n` : "") +
            (soak ? `\n${formatSoakReport(soak)}\n` : "") +
            (footprint ? `\n${formatFootprintReport(footprint)}` : ""),
    );
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
