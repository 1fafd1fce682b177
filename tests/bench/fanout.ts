/**
 * Fan-out (the performance issue's fourth goal): one charter revision delivered to 1,000
 * followers on 100 hosts. Each host is a small HTTP server on its own loopback port with 10
 * Person actors that share its inbox (`endpoints.sharedInbox`), as Mastodon servers do. The
 * followers are recorded directly in the pod's database; then the steward publishes a charter
 * revision through the service, and the time until every host's shared inbox has received
 * the Create is measured. Reported: that time against the 2 s goal, and POSTs (each one
 * signature) per host: the goal is one.
 *
 * Run alone: node tests/bench/fanout.ts [--hosts N] [--per-host N] [--postgres] [--json]
 * `npm run bench -- --only fanout` runs it too.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { upsertFollower, upsertRemoteActor } from "../../src/db/repos/follows.ts";
import { getPodBySlug } from "../../src/db/repos/pods.ts";
import { configureLogging } from "../../src/lib/logging.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { startBenchNode } from "./exchange.ts";

const GOAL_MS = 2000;
const note = (message: string) => process.stderr.write(`bench fanout: ${message}\n`);

export interface FanoutReport {
  database: string;
  hosts: number;
  followers: number;
  /** From publishing until the last host's shared inbox got the Create. */
  ms: number;
  goalMs: number;
  ratioToGoal: number;
  /** POSTs (one signature each) per host: the fewest and the most. */
  postsPerHost: { min: number; max: number };
  /** POSTs that reached a personal inbox instead of the shared one. */
  personalInboxPosts: number;
}

interface Host {
  origin: string;
  actor(i: number): string;
  posts: () => number;
  personal: () => number;
  close(): Promise<void>;
}

/** A host whose actors share one inbox; counts the POSTs and calls `onCreate` at the first Create. */
async function startHost(onCreate: () => void): Promise<Host> {
  let posts = 0;
  let personal = 0;
  let created = false;
  let origin = "";
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0]!;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && (path === "/inbox" || /^\/users\/u\d+\/inbox$/.test(path))) {
        posts++;
        if (path !== "/inbox") personal++;
        try {
          const activity = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { type?: string };
          if (activity.type === "Create" && !created) {
            created = true;
            onCreate();
          }
        } catch {
          // counted all the same
        }
        res.writeHead(202).end();
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    actor: (i) => `${origin}/users/u${i}`,
    posts: () => posts,
    personal: () => personal,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function benchFanout(options: { hosts?: number; perHost?: number; postgresAdminUrl?: string | null } = {}): Promise<FanoutReport> {
  const hostCount = options.hosts ?? 100;
  const perHost = options.perHost ?? 10;
  const pgUrl = options.postgresAdminUrl ?? null;
  note(`${hostCount} hosts × ${perHost} followers (${pgUrl ? "PostgreSQL" : "PGlite"})`);
  const node = await startBenchNode("oak-street", pgUrl);
  let reached = 0;
  let resolveAll: (at: number) => void = () => {};
  const all = new Promise<number>((resolve) => (resolveAll = resolve));
  const hosts = await Promise.all(
    Array.from({ length: hostCount }, () =>
      startHost(() => {
        reached++;
        if (reached === hostCount) resolveAll(performance.now());
      }),
    ),
  );
  try {
    const deps = node.node.ctx.deps;
    const pod = (await getPodBySlug(deps.db, "oak-street"))!;
    const now = new Date();
    for (const host of hosts) {
      for (let i = 0; i < perHost; i++) {
        const actor = host.actor(i);
        await upsertRemoteActor(deps.db, { iri: actor, handle: `@u${i}@${new URL(host.origin).host}`, name: `Follower ${i}`, url: actor, inbox: `${actor}/inbox`, sharedInbox: `${host.origin}/inbox`, actorType: "Person" }, now);
        await upsertFollower(deps.db, { podId: pod.id, actorIri: actor, followIri: `${actor}/follows/1`, status: "accepted" }, now);
      }
    }
    note("followers recorded; publishing a charter revision");
    const started = performance.now();
    await publishCharterRevision(deps, "oak-street", {
      title: "Oak Street charter",
      changeNote: "First charter",
      services: [{ name: "Squash share", description: "Squash from the allotments every week.", category: "food", since: "2026-01-04" }],
    });
    const done = await Promise.race([
      all,
      new Promise<number>((_, reject) => setTimeout(() => reject(new Error(`only ${reached} of ${hostCount} hosts got the Create`)), 120_000).unref()),
    ]);
    // Let any extra (duplicate) deliveries arrive before counting them.
    await new Promise((r) => setTimeout(r, 1000));
    const counts = hosts.map((h) => h.posts());
    const ms = done - started;
    return {
      database: pgUrl ? "postgres" : "pglite",
      hosts: hostCount,
      followers: hostCount * perHost,
      ms,
      goalMs: GOAL_MS,
      ratioToGoal: ms / GOAL_MS,
      postsPerHost: { min: Math.min(...counts), max: Math.max(...counts) },
      personalInboxPosts: hosts.reduce((sum, h) => sum + h.personal(), 0),
    };
  } finally {
    await node.node.stop();
    await node.drop();
    await Promise.all(hosts.map((h) => h.close()));
  }
}

export function formatFanoutReport(r: FanoutReport): string {
  return [
    `Fan-out (${r.database})`,
    `  one charter revision to ${r.followers} followers on ${r.hosts} hosts: ${r.ms.toFixed(0)} ms; goal ≤ ${r.goalMs} ms → ${r.ratioToGoal.toFixed(2)} of the allowed time`,
    `  POSTs (signatures) per host: ${r.postsPerHost.min}–${r.postsPerHost.max} (goal 1); to personal inboxes: ${r.personalInboxPosts}`,
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { hosts: { type: "string" }, "per-host": { type: "string" }, postgres: { type: "boolean", default: false }, json: { type: "boolean", default: false } },
  });
  await configureLogging("error");
  const report = await benchFanout({
    ...(values.hosts && { hosts: Number(values.hosts) }),
    ...(values["per-host"] && { perHost: Number(values["per-host"]) }),
    postgresAdminUrl: process.env.BENCH_DATABASE_URL ?? (values.postgres ? "postgres://postgres@127.0.0.1:5432/postgres" : null),
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatFanoutReport(report));
  process.exit(0);
}
