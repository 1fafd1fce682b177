/**
 * The Mastodon client API under load (issue 11's benchmark), run by tests/bench/run.ts as
 * target `mastodon` (`npm run bench -- --only mastodon`):
 *
 *  1. The pod gets a charter and 49 offers and needs (50 posts), through the same services
 *     stewards use. run.ts then measures GET /api/v1/accounts/:id/statuses?limit=20 and
 *     GET /api/v1/timelines/public?limit=20 beside a bare Fastify route serving the same
 *     bytes and headers, exactly as it measures the actor and WebFinger GETs.
 *  2. `hyphae --version` wall time: the median of 5 spawns of `node src/cli/hyphae.ts
 *     --version` beside the median of 5 spawns of `node -e 0` (Node's own start-up).
 *
 * This file holds the seeding, the targets and the version timing; the HTTP measurement is
 * run.ts's, shared with the other GETs.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { findPodAccountBySlug } from "../../src/services/posts.ts";
import { createProposal } from "../../src/services/proposals.ts";

const REPO_ROOT = new URL("../../", import.meta.url);
const CHARTER = JSON.parse(fs.readFileSync(new URL("docs/charter.example.json", REPO_ROOT), "utf8")) as Record<string, unknown>;

/** Posts on the pod: the charter plus offers and needs. */
export const MASTODON_POSTS = 50;
const CATEGORIES = ["food", "care", "repair", "tools", "housing"] as const;

/** A charter and MASTODON_POSTS - 1 offers and needs on the pod; answers the pod's account id. */
export async function seedMastodonPod(deps: ServiceDeps, slug: string): Promise<string> {
  await publishCharterRevision(deps, slug, { ...CHARTER, changeNote: "First charter" });
  for (let i = 1; i < MASTODON_POSTS; i++) {
    const category = CATEGORIES[i % CATEGORIES.length]!;
    if (i % 2 === 0) {
      await createProposal(deps, slug, "offer", { name: `Spare ${category} kit ${i}`, description: `Lot ${i}, collect from the hall on Saturdays.`, quantity: String(1 + (i % 7)), unit: "one", category });
    } else {
      await createProposal(deps, slug, "need", { name: `Help with ${category}, week ${i}`, description: `Request ${i} from a neighbour.`, quantity: String(1 + (i % 5)), unit: "one", category });
    }
  }
  const account = await findPodAccountBySlug(deps, slug);
  if (!account) throw new Error(`pod ${slug} has no account`);
  if (account.postsCount !== MASTODON_POSTS) throw new Error(`expected ${MASTODON_POSTS} posts on ${slug}, found ${account.postsCount}`);
  return account.id;
}

/** The two GETs, as run.ts's HTTP targets (an app's default page of 20). */
export function mastodonTargets(accountId: string) {
  const headers = { accept: "application/json" };
  return {
    "account statuses": { path: `/api/v1/accounts/${accountId}/statuses?limit=20`, headers },
    "public timeline": { path: "/api/v1/timelines/public?limit=20", headers },
  };
}

export interface VersionTiming {
  runs: number;
  /** Median wall time of `node src/cli/hyphae.ts --version`, ms. */
  hyphaeMs: number;
  /** Median wall time of `node -e 0`, ms. */
  nodeMs: number;
  /** hyphaeMs ÷ nodeMs */
  ratio: number;
  /** What --version printed. */
  printed: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function spawnTimed(args: string[]): { ms: number; stdout: string } {
  const t0 = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: fileURLToPath(REPO_ROOT), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - t0;
  if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited with ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout.trim() };
}

/** Median of `runs` spawns each, alternating, so a burst of load hits both alike. */
export function timeVersion(runs = 5): VersionTiming {
  const hyphae: number[] = [];
  const bare: number[] = [];
  let printed = "";
  for (let i = 0; i < runs; i++) {
    const h = spawnTimed(["src/cli/hyphae.ts", "--version"]);
    hyphae.push(h.ms);
    printed = h.stdout;
    bare.push(spawnTimed(["-e", "0"]).ms);
  }
  const hyphaeMs = median(hyphae);
  const nodeMs = median(bare);
  return { runs, hyphaeMs, nodeMs, ratio: hyphaeMs / nodeMs, printed };
}

export function formatVersionReport(v: VersionTiming): string {
  return `\nhyphae --version (${v.printed}): ${v.hyphaeMs.toFixed(0)} ms wall, median of ${v.runs}; node -e 0: ${v.nodeMs.toFixed(0)} ms; ratio ${v.ratio.toFixed(1)}×\n`;
}
