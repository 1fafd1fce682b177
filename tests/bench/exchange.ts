/**
 * Congress exchanges under load (issue 10's benchmark), on PGlite (and PostgreSQL when
 * asked):
 *
 *  1. Claims accepted per second between two real nodes, end to end: oak-street (node A)
 *     and elm-row (node B), each in its own process (exchange-node.ts) as in production,
 *     follow each other over loopback; A offers a large stock of squash
 *     with a rule that accepts neighbours' claims; B's steward service makes N claims (8 in
 *     flight). Timed from the first claim until B has recorded N Accepts: each claim is an
 *     Offer(Agreement) signed by B, verified and answered by A (remaining lowered
 *     atomically, Update of the offer to followers), and an Accept signed by A, verified
 *     and recorded by B. Goal ≥ 50/s; the ratio to the goal is printed.
 *  2. An urgent need reaching 50 neighbour nodes simulated on loopback: 50 small HTTP
 *     servers, each its own host (port) with one actor, are recorded as oak-street's
 *     neighbours (following and followed, set up directly in the database); the steward
 *     posts an urgent need and the time until the 50th server received the Create is
 *     measured. Goal ≤ 2 s.
 *
 * Run alone: node tests/bench/exchange.ts [--claims N] [--neighbours N] [--postgres] [--json]
 * `npm run bench -- --only exchange` runs it too.
 */
import { fork } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config.ts";
import { upsertFollower, upsertFollowing, upsertRemoteActor } from "../../src/db/repos/follows.ts";
import { getPodBySlug } from "../../src/db/repos/pods.ts";
import { configureLogging } from "../../src/lib/logging.ts";
import { startNode, type RunningNode } from "../../src/node.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { createTestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/infra.ts";
import type { ExchangeCall, ExchangeChildMessage } from "./exchange-node.ts";

const CLAIMS_GOAL_PER_S = 50;
const URGENT_GOAL_MS = 2000;

const note = (message: string) => process.stderr.write(`bench exchange: ${message}\n`);

export interface ExchangeReport {
  database: string;
  claims: { n: number; seconds: number; perSecond: number; cpuMsPerClaim: number; goal: number; ratioToGoal: number };
  urgent: { neighbours: number; ms: number; goalMs: number; ratioToGoal: number };
}

export interface Started {
  node: RunningNode;
  origin: string;
  drop: () => Promise<void>;
}

export async function startBenchNode(slug: string, postgresAdminUrl: string | null): Promise<Started> {
  const port = await freePort();
  const database = await createTestDatabase({ kind: postgresAdminUrl ? "postgres" : "pglite" });
  const origin = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: origin,
    POD_SLUG: slug,
    POD_NAME: slug,
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "error",
    QUEUE_POLL_SECONDS: process.env.BENCH_POLL ?? "1",
    ADMIN_SOCKET: "off",
    ...(database.url ? { DATABASE_URL: database.url } : {}),
  });
  const node = await startNode(config, { database: database.handle });
  return { node, origin, drop: () => database.drop() };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

type OutboundCount = { kind: string; sent: number; dropped: number };

/** A node in its own process (exchange-node.ts), driven over IPC. */
interface ChildNode {
  origin: string;
  call<T>(c: ExchangeCall): Promise<T>;
  stop(): Promise<void>;
}

async function startChildNode(slug: string, postgresAdminUrl: string | null): Promise<ChildNode> {
  // BENCH_PROFILE_DIR=/tmp/prof: each node process writes a CPU profile there when it stops.
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const child = fork(fileURLToPath(new URL("./exchange-node.ts", import.meta.url)), [], {
    execArgv: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
    env: { ...process.env, BENCH_SLUG: slug, BENCH_POSTGRES_ADMIN_URL: postgresAdminUrl ?? "" },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const origin = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`bench node ${slug} exited with ${code} before it was ready`)));
    child.on("message", (m: ExchangeChildMessage) => {
      if (m.type === "ready") resolve(m.origin);
      else if (m.type === "result") waiting.get(m.id)?.resolve(m.value);
      else waiting.get(m.id)?.reject(new Error(m.message));
      if (m.type !== "ready") waiting.delete(m.id);
    });
  });
  return {
    origin,
    call: <T>(c: ExchangeCall) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: "call", id, ...c });
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send({ type: "stop" });
      }),
  };
}

async function benchClaims(n: number, postgresAdminUrl: string | null): Promise<ExchangeReport["claims"]> {
  const [a, b] = await Promise.all([startChildNode("oak-street", postgresAdminUrl), startChildNode("elm-row", postgresAdminUrl)]);
  try {
    await b.call({ op: "follow", args: { slug: "elm-row", target: `${a.origin}/pods/oak-street` } });
    await a.call({ op: "follow", args: { slug: "oak-street", target: `${b.origin}/pods/elm-row` } });
    await waitUntil(
      async () => (await a.call<boolean>({ op: "followsAccepted", args: { slug: "oak-street" } })) && (await b.call<boolean>({ op: "followsAccepted", args: { slug: "elm-row" } })),
      60_000,
      "the follows",
    );
    const offerUrl = await a.call<string>({ op: "offer", args: { slug: "oak-street", quantity: String(n * 10), autoAcceptUpTo: "10" } });
    await waitUntil(() => b.call<boolean>({ op: "holdsOffer", args: { slug: "elm-row", offerUrl } }), 60_000, "B to hold the offer");

    const cpuOf = async () => (await a.call<number>({ op: "cpu", args: {} })) + (await b.call<number>({ op: "cpu", args: {} }));
    const cpuBefore = await cpuOf();
    const started = performance.now();
    await b.call({ op: "claims", args: { slug: "elm-row", offerUrl, n, inFlight: 8 } });
    await waitUntil(async () => (await b.call<number>({ op: "acceptedClaims", args: {} })) === n, 600_000, `${n} accepted claims`);
    const seconds = (performance.now() - started) / 1000;
    const cpuMsPerClaim = ((await cpuOf()) - cpuBefore) / n;
    const outbound = { a: await a.call<OutboundCount[]>({ op: "outboxKinds", args: {} }), b: await b.call<OutboundCount[]>({ op: "outboxKinds", args: {} }) };
    note(`outbound events, A: ${JSON.stringify(outbound.a)}; B: ${JSON.stringify(outbound.b)}`);
    const perSecond = n / seconds;
    return { n, seconds, perSecond, cpuMsPerClaim, goal: CLAIMS_GOAL_PER_S, ratioToGoal: perSecond / CLAIMS_GOAL_PER_S };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

/** One loopback "node": one actor and a shared inbox that records the first Create it gets. */
async function startNeighbourServer(onCreate: () => void): Promise<{ origin: string; actor: string; close: () => Promise<void> }> {
  let origin = "";
  let seen = false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST") {
        try {
          const activity = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type?: string };
          if (activity.type === "Create" && !seen) {
            seen = true;
            onCreate();
          }
        } catch {
          // not JSON: ignored
        }
        res.writeHead(202).end();
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, actor: `${origin}/users/pod`, close: () => new Promise((r) => server.close(() => r())) };
}

async function benchUrgent(neighbours: number, postgresAdminUrl: string | null): Promise<ExchangeReport["urgent"]> {
  const a = await startBenchNode("oak-street", postgresAdminUrl);
  let received = 0;
  let resolveAll: (at: number) => void = () => {};
  const all = new Promise<number>((resolve) => (resolveAll = resolve));
  const servers = await Promise.all(
    Array.from({ length: neighbours }, () =>
      startNeighbourServer(() => {
        received++;
        if (received === neighbours) resolveAll(performance.now());
      }),
    ),
  );
  try {
    const A = a.node.ctx.deps;
    const pod = (await getPodBySlug(A.db, "oak-street"))!;
    const now = new Date();
    for (const [i, s] of servers.entries()) {
      await upsertRemoteActor(A.db, { iri: s.actor, handle: `@pod@${new URL(s.origin).host}`, name: `Neighbour ${i}`, url: s.actor, inbox: `${s.actor}/inbox`, sharedInbox: `${s.origin}/inbox`, actorType: "Group" }, now);
      await upsertFollower(A.db, { podId: pod.id, actorIri: s.actor, followIri: `${s.actor}/follows/1`, status: "accepted" }, now);
      await upsertFollowing(A.db, { podId: pod.id, actorIri: s.actor, followIri: `${a.origin}/pods/oak-street/follows/${i}`, status: "accepted" }, now);
    }
    const started = performance.now();
    await createProposal(A, "oak-street", "request", { name: "Drinking water", quantity: "500", unit: "litre", category: "water", urgent: true });
    const done = await Promise.race([all, new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`only ${received} of ${neighbours} neighbours got the urgent need`)), 120_000).unref())]);
    const ms = done - started;
    return { neighbours, ms, goalMs: URGENT_GOAL_MS, ratioToGoal: ms / URGENT_GOAL_MS };
  } finally {
    await a.node.stop();
    await a.drop();
    await Promise.all(servers.map((s) => s.close()));
  }
}

export async function benchExchange(options: { claims?: number; neighbours?: number; postgresAdminUrl?: string | null } = {}): Promise<ExchangeReport> {
  const claims = options.claims ?? 300;
  const neighbours = options.neighbours ?? 50;
  const pgUrl = options.postgresAdminUrl ?? null;
  note(`claims: ${claims} between two nodes (${pgUrl ? "PostgreSQL" : "PGlite"})`);
  const claimResult = await benchClaims(claims, pgUrl);
  note(`urgent need: ${neighbours} neighbours`);
  const urgent = await benchUrgent(neighbours, pgUrl);
  return { database: pgUrl ? "postgres" : "pglite", claims: claimResult, urgent };
}

export function formatExchangeReport(r: ExchangeReport): string {
  return [
    `Congress exchanges (${r.database})`,
    `  claims accepted end to end: ${r.claims.perSecond.toFixed(1)}/s (${r.claims.n} in ${r.claims.seconds.toFixed(2)} s, ${r.claims.cpuMsPerClaim.toFixed(1)} ms of CPU each, both node processes); goal ≥ ${r.claims.goal}/s → ${r.claims.ratioToGoal.toFixed(2)}× the goal`,
    `  urgent need to ${r.urgent.neighbours} neighbour hosts: ${r.urgent.ms.toFixed(0)} ms; goal ≤ ${r.urgent.goalMs} ms → ${r.urgent.ratioToGoal.toFixed(2)} of the allowed time`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { claims: { type: "string" }, neighbours: { type: "string" }, postgres: { type: "boolean", default: false }, json: { type: "boolean", default: false } },
  });
  await configureLogging("error");
  const report = await benchExchange({
    ...(values.claims && { claims: Number(values.claims) }),
    ...(values.neighbours && { neighbours: Number(values.neighbours) }),
    postgresAdminUrl: process.env.BENCH_DATABASE_URL ?? (values.postgres ? "postgres://postgres@127.0.0.1:5432/postgres" : null),
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatExchangeReport(report));
  process.exit(0);
}
