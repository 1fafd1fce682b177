/**
 * Matching in a congress (issue 10's benchmark): 50 pods with 200 open offers and 200 open
 * needs each (PODS, PER_POD). Goal: ≤ 50 ms per view computation.
 *
 *  1. Pure domain (`matchProposals`) on generated data: one pod's view is its 200 needs
 *     against the 49 neighbours' 9 800 offers, plus its 200 offers against their 9 800
 *     needs, as congressView computes it (best MATCHES_PER_NEED per need, the best
 *     MATCHES_LISTED kept with exact quantities, all of them counted). Reported: the
 *     median of RUNS runs after a warm-up, and its ratio to the goal. Beside it, the whole
 *     congress at once (10 000 offers × 10 000 needs), for scale: the median of WHOLE_RUNS.
 *  2. The whole `congressView` (services/congress.ts) against a real database holding that
 *     many rows: one pod, 49 neighbours (follows accepted both ways), its 400 proposals and
 *     the neighbours' 19 600 copies in remote_proposals. Reported: median of VIEW_RUNS
 *     calls (queries, matching, side by side, totals), PGlite in a temporary data directory,
 *     and PostgreSQL when a server answers (BENCH_DATABASE_URL, else the local one); beside
 *     it, the median of reading the neighbours' copies alone, as the view reads them
 *     (`listNeighbourProposals`).
 *
 * Generated data: 10 categories; units drawn from kilogram, gram, tonne, litre, hour, day,
 * one and EUR (so conversions happen); a third of the proposals carry a specification URI
 * out of 40; quantities 1 to 100; one need in ten urgent; some minimums.
 *
 * Run alone:  node tests/bench/congress.ts [--json] [--databases pglite,postgres]
 * `npm run bench -- --only congress` runs it too.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../../src/config.ts";
import { matchProposalsCounted, type MatchProposal } from "../../src/domain/congress/matching.ts";
import { configureLogging } from "../../src/lib/logging.ts";
import { listNeighbourProposals } from "../../src/db/repos/congress.ts";
import { congressView, MATCHES_LISTED, MATCHES_PER_NEED, REMOTE_PROPOSALS_READ } from "../../src/services/congress.ts";
import { createPod } from "../../src/services/pods.ts";
import { createAppContext } from "../../src/wiring.ts";
import { createPostgresDatabase } from "../helpers/infra.ts";

const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const PODS = 50;
export const PER_POD = 200;
export const GOAL_MS = 50;
const RUNS = 21;
const WHOLE_RUNS = 5;
const VIEW_RUNS = 7;
const POD = "commons";
const CATEGORIES = ["food", "energy", "care", "health", "housing", "education", "safety", "repair", "transport", "other"];
const UNITS = ["kilogram", "gram", "tonne", "litre", "hour", "day", "one", "EUR"];

const note = (message: string) => process.stderr.write(`bench congress: ${message}\n`);

/** A small deterministic generator (mulberry32), so every run matches the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Generated {
  pod: string;
  purpose: "offer" | "request";
  name: string;
  unit: string;
  category: string;
  specificationUri: string | null;
  quantity: string;
  minimum: string | null;
  urgent: boolean;
}

export function generateCongress(pods = PODS, perPod = PER_POD, seed = 42): Generated[][] {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  return Array.from({ length: pods }, (_, p) => {
    const pod = `http://pod${p}.example/pods/pod${p}`;
    const out: Generated[] = [];
    for (const purpose of ["offer", "request"] as const) {
      for (let i = 0; i < perPod; i++) {
        const quantity = String(1 + Math.floor(rnd() * 100));
        out.push({
          pod,
          purpose,
          name: `${purpose} ${p}-${i}`,
          unit: pick(UNITS),
          category: pick(CATEGORIES),
          specificationUri: rnd() < 0.33 ? `https://www.wikidata.org/wiki/Q${1000 + Math.floor(rnd() * 40)}` : null,
          quantity,
          minimum: rnd() < 0.2 ? String(Math.max(1, Math.floor(Number(quantity) / 4))) : null,
          urgent: purpose === "request" && rnd() < 0.1,
        });
      }
    }
    return out;
  });
}

const FAR = new Date("2100-01-01T00:00:00Z");
const asMatchable = (g: Generated, key: string): MatchProposal => ({
  key,
  pod: g.pod,
  purpose: g.purpose,
  name: g.name,
  unit: g.unit,
  category: g.category,
  specificationUri: g.specificationUri,
  quantity: g.quantity,
  remaining: g.quantity,
  minimum: g.minimum,
  urgent: g.urgent,
  status: "open",
  expiresAt: FAR,
  availableUntil: null,
});

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;

function time<T>(fn: () => T): { ms: number; result: T } {
  const t = performance.now();
  const result = fn();
  return { ms: performance.now() - t, result };
}

export interface PureResult {
  pods: number;
  perPod: number;
  /** One pod's view: both directions. */
  viewMedianMs: number;
  viewMatches: number;
  ratioToGoal: number;
  /** Every offer against every need of the congress at once (median of WHOLE_RUNS). */
  wholeCongressMs: number;
  wholeCongressMatches: number;
}

export function benchPure(data = generateCongress()): PureResult {
  const now = new Date();
  const all = data.flatMap((list, p) => list.map((g, i) => asMatchable(g, `${p}:${i}`)));
  const mine = all.filter((m) => m.key.startsWith("0:"));
  const theirs = all.filter((m) => !m.key.startsWith("0:"));
  const view = () => {
    const opts = { perNeed: MATCHES_PER_NEED, limit: MATCHES_LISTED };
    const a = matchProposalsCounted(theirs.filter((m) => m.purpose === "offer"), mine.filter((m) => m.purpose === "request"), now, opts);
    const b = matchProposalsCounted(mine.filter((m) => m.purpose === "offer"), theirs.filter((m) => m.purpose === "request"), now, opts);
    return a.total + b.total;
  };
  for (let i = 0; i < 3; i++) view();
  const runs: number[] = [];
  let matches = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = time(view);
    runs.push(r.ms);
    matches = r.result;
  }
  const wholeRuns: number[] = [];
  let wholeMatches = 0;
  for (let i = 0; i < WHOLE_RUNS; i++) {
    const whole = time(() => matchProposalsCounted(all.filter((m) => m.purpose === "offer"), all.filter((m) => m.purpose === "request"), now, { perNeed: MATCHES_PER_NEED, limit: MATCHES_LISTED }).total);
    wholeRuns.push(whole.ms);
    wholeMatches = whole.result;
  }
  const viewMedianMs = median(runs);
  return { pods: data.length, perPod: data[0]!.length / 2, viewMedianMs, viewMatches: matches, ratioToGoal: viewMedianMs / GOAL_MS, wholeCongressMs: median(wholeRuns), wholeCongressMatches: wholeMatches };
}

export interface ViewResult {
  database: "pglite" | "postgres";
  rows: { proposals: number; remoteProposals: number; neighbours: number };
  loadSeconds: number;
  viewMedianMs: number;
  /** Of which: reading the neighbours' copies (one query and its rows). */
  readMedianMs: number;
  ratioToGoal: number;
  matches: number;
}

async function benchView(kind: "pglite" | "postgres", env: Record<string, string>, data: Generated[][]): Promise<ViewResult> {
  const config = loadConfig({ PUBLIC_URL: "http://127.0.0.1:9", POD_SLUG: POD, LOG_LEVEL: "silent", ADMIN_SOCKET: "off", ...env });
  await configureLogging(config.logLevel);
  const ctx = await createAppContext(config);
  try {
    const deps = ctx.deps;
    const db = deps.db;
    const pod = (await db.selectFrom("pods").select("id").where("slug", "=", POD).executeTakeFirst()) ?? (await createPod(deps, { slug: POD, name: "Bench Commons" }));
    const t = performance.now();
    const now = new Date();
    const expires = new Date(now.getTime() + 30 * 86_400_000);
    const neighbours = data.slice(1).map((list) => list[0]!.pod);
    await db
      .insertInto("remote_actors")
      .values(neighbours.map((iri, i) => ({ iri, handle: `@pod${i + 1}@pod${i + 1}.example`, name: `Pod ${i + 1}`, url: iri, inbox: `${iri}/inbox`, shared_inbox: null, actor_type: "Group", updated_at: now })))
      .execute();
    await db.insertInto("following").values(neighbours.map((iri) => ({ pod_id: pod.id, actor_iri: iri, follow_iri: `${iri}#out`, status: "accepted" as const, created_at: now, updated_at: now }))).execute();
    await db.insertInto("followers").values(neighbours.map((iri) => ({ pod_id: pod.id, actor_iri: iri, follow_iri: `${iri}#in`, status: "accepted" as const, created_at: now, updated_at: now }))).execute();
    await db
      .insertInto("proposals")
      .values(
        data[0]!.map((g, i) => ({
          id: randomUUID(),
          pod_id: pod.id,
          number: i + 1,
          purpose: g.purpose,
          action: g.unit === "hour" || g.unit === "day" ? ("deliverService" as const) : ("transfer" as const),
          name: g.name,
          resource_id: null,
          unit: g.unit,
          category: g.category,
          specification_uri: g.specificationUri,
          quantity: g.quantity,
          total: g.quantity,
          remaining: g.quantity,
          minimum: g.minimum,
          unit_based: null,
          reciprocal: null,
          location: null,
          available_from: null,
          available_until: null,
          expires_at: expires,
          urgent: g.urgent,
          fund: null,
          created_at: now,
          updated_at: now,
          closed_at: null,
        })),
      )
      .execute();
    const remote = data.slice(1).flatMap((list) => list.map((g, i) => ({ g, i })));
    for (let start = 0; start < remote.length; start += 1000) {
      await db
        .insertInto("remote_proposals")
        .values(
          remote.slice(start, start + 1000).map(({ g, i }) => ({
            actor_iri: g.pod,
            object_iri: `${g.pod}/${g.purpose === "offer" ? "offers" : "needs"}/${i + 1}`,
            intent_iri: `${g.pod}/${g.purpose === "offer" ? "offers" : "needs"}/${i + 1}#primary`,
            purpose: g.purpose,
            action: "transfer",
            name: g.name,
            unit: g.unit,
            category: g.category,
            specification_uri: g.specificationUri,
            quantity: g.quantity,
            remaining: g.quantity,
            minimum: g.minimum,
            unit_based: null,
            reciprocal: null,
            location: null,
            available_from: null,
            available_until: null,
            expires_at: expires,
            urgent: g.urgent,
            status: "open" as const,
            remote_updated_at: now,
            received_at: now,
          })),
        )
        .execute();
    }
    const loadSeconds = (performance.now() - t) / 1000;
    let matches = 0;
    await congressView(deps, POD); // warm-up
    const runs: number[] = [];
    for (let i = 0; i < VIEW_RUNS; i++) {
      const s = performance.now();
      const v = await congressView(deps, POD);
      runs.push(performance.now() - s);
      matches = v.matches.forOurNeeds.length + v.matches.forTheirNeeds.length + v.matches.more;
    }
    const viewMedianMs = median(runs);
    const reads: number[] = [];
    for (let i = 0; i < VIEW_RUNS; i++) {
      const s = performance.now();
      await listNeighbourProposals(db, neighbours, new Date(), REMOTE_PROPOSALS_READ);
      reads.push(performance.now() - s);
    }
    return { readMedianMs: median(reads), database: kind, rows: { proposals: data[0]!.length, remoteProposals: remote.length, neighbours: neighbours.length }, loadSeconds, viewMedianMs, ratioToGoal: viewMedianMs / GOAL_MS, matches };
  } finally {
    await ctx.close();
  }
}

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface CongressBenchReport {
  goalMs: number;
  pure: PureResult;
  views: ViewResult[];
  skipped: string[];
}

export async function benchCongress(options: { databases?: Array<"pglite" | "postgres">; postgresAdminUrl?: string | null } = {}): Promise<CongressBenchReport> {
  const data = generateCongress();
  note(`pure matching: ${PODS} pods × ${PER_POD} offers and ${PER_POD} needs`);
  const pure = benchPure(data);
  const views: ViewResult[] = [];
  const skipped: string[] = [];
  const wanted = options.databases ?? ["pglite", "postgres"];
  if (wanted.includes("pglite")) {
    note("congressView on PGlite");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-bench-congress-"));
    try {
      views.push(await benchView("pglite", { DATA_DIR: dir }, data));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  if (wanted.includes("postgres")) {
    const adminUrl = options.postgresAdminUrl ?? (process.env.BENCH_DATABASE_URL?.trim() || DEFAULT_POSTGRES_URL);
    if (await postgresReachable(adminUrl)) {
      note("congressView on PostgreSQL");
      const created = await createPostgresDatabase(adminUrl);
      try {
        views.push(await benchView("postgres", { DATABASE_URL: created.url }, data));
      } finally {
        await created.drop();
      }
    } else {
      skipped.push(`postgres: no server answered at ${adminUrl.replace(/\/\/[^@/]*@/, "//…@")}`);
    }
  }
  return { goalMs: GOAL_MS, pure, views, skipped };
}

export function formatCongressReport(r: CongressBenchReport): string {
  const lines = [
    "",
    `Congress matching: ${r.pure.pods} pods × ${r.pure.perPod} open offers and ${r.pure.perPod} open needs (goal ≤ ${r.goalMs} ms per view)`,
    "",
    `  pure matching, one pod's view (both ways): ${r.pure.viewMedianMs.toFixed(2)} ms median, ${r.pure.viewMatches} matches — ${r.pure.ratioToGoal.toFixed(2)}× the goal`,
    `  pure matching, the whole congress at once: ${r.pure.wholeCongressMs.toFixed(1)} ms median, ${r.pure.wholeCongressMatches} matches`,
  ];
  for (const v of r.views) {
    lines.push(
      `  congressView on ${v.database} (${v.rows.proposals} own proposals, ${v.rows.remoteProposals} neighbours' copies, ${v.rows.neighbours} neighbours; loaded in ${v.loadSeconds.toFixed(1)} s): ` +
        `${v.viewMedianMs.toFixed(1)} ms median (reading the neighbours' copies alone: ${v.readMedianMs.toFixed(1)} ms), ${v.matches} matches — ${v.ratioToGoal.toFixed(2)}× the goal`,
    );
  }
  lines.push(`  (load average while measuring: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs)`);
  for (const s of r.skipped) lines.push(`  skipped ${s}`);
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false }, databases: { type: "string", default: "pglite,postgres" } } });
  const databases = values.databases.split(",").map((s) => s.trim());
  for (const d of databases) if (d !== "pglite" && d !== "postgres") throw new Error(`--databases takes pglite and/or postgres (got ${d})`);
  const report = await benchCongress({ databases: databases as Array<"pglite" | "postgres"> });
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : formatCongressReport(report));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench congress failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
