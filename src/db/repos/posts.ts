/**
 * The small queries behind a pod's posts (services/posts.ts): which Notes exist, when each
 * was first published, and the row that holds it now, for active pods only. Nothing here
 * reads contents; the service loads those only for the posts it shows.
 *
 * - charter: one per pod with a charter (charters.published_at; key: the pod id);
 * - summary: one per published period (key and creation: version 1's id and publication;
 *   `ref`: the latest version's id, what the Note shows now);
 * - offer / need: one per proposal whatever its status (key and ref: the proposal id).
 */
import { sql, type Kysely } from "kysely";
import type { Pod } from "../../domain/pods.ts";
import type { Database } from "../schema.ts";
import { podFromRow } from "./pods.ts";

export type PostRowKind = "charter" | "summary" | "offer" | "need";

export interface PostRow {
  kind: PostRowKind;
  podId: string;
  /** What the post's id hashes: stable for the post's whole life. */
  key: string;
  /** First publication: the time in the post's id. */
  createdAt: Date;
  /** The row to read the Note from now (the latest summary version; else the key). */
  ref: string;
  /** Urgent need (its hashtags differ); false for everything else. */
  urgent: boolean;
  /** Changes whenever what the Note says changes (with the pod's profile): a cache key for its rendering. */
  stamp: string;
}

/** Rows created in [from, to), for looking one id up; all rows when no window is given. */
interface Filter {
  podId?: string;
  from?: Date;
  to?: Date;
}

export async function listActivePods(db: Kysely<Database>, opts: { from?: Date; to?: Date } = {}): Promise<Pod[]> {
  let q = db.selectFrom("pods").selectAll().where("retired_at", "is", null);
  if (opts.from) q = q.where("created_at", ">=", opts.from);
  if (opts.to) q = q.where("created_at", "<", opts.to);
  const rows = await q.orderBy("created_at").orderBy("slug").execute();
  return rows.map(podFromRow);
}

export async function listCharterPostRows(db: Kysely<Database>, f: Filter = {}): Promise<PostRow[]> {
  let q = db
    .selectFrom("charters as c")
    .innerJoin("pods as p", "p.id", "c.pod_id")
    .select(["c.pod_id", "c.published_at", "c.updated_at", "c.current_revision"])
    .where("p.retired_at", "is", null);
  if (f.podId) q = q.where("c.pod_id", "=", f.podId);
  if (f.from) q = q.where("c.published_at", ">=", f.from);
  if (f.to) q = q.where("c.published_at", "<", f.to);
  const rows = await q.execute();
  return rows.map((r) => ({
    kind: "charter",
    podId: r.pod_id,
    key: r.pod_id,
    createdAt: new Date(r.published_at),
    ref: r.pod_id,
    urgent: false,
    stamp: `${r.current_revision}/${new Date(r.updated_at).getTime()}`,
  }));
}

export async function listSummaryPostRows(db: Kysely<Database>, f: Filter = {}): Promise<PostRow[]> {
  const rows = await sql<{ pod_id: string; first_id: string; first_published_at: Date; latest_id: string }>`
    select distinct on (s.pod_id, s.period_kind, s.period_start)
      s.pod_id, f.id as first_id, f.published_at as first_published_at, s.id as latest_id
    from book_summaries s
    join book_summaries f
      on f.pod_id = s.pod_id and f.period_kind = s.period_kind and f.period_start = s.period_start and f.version = 1
    join pods p on p.id = s.pod_id and p.retired_at is null
    where true
      ${f.podId ? sql`and s.pod_id = ${f.podId}` : sql``}
      ${f.from ? sql`and f.published_at >= ${f.from}` : sql``}
      ${f.to ? sql`and f.published_at < ${f.to}` : sql``}
    order by s.pod_id, s.period_kind, s.period_start, s.version desc`.execute(db);
  return rows.rows.map((r) => ({
    kind: "summary",
    podId: r.pod_id,
    key: r.first_id,
    createdAt: new Date(r.first_published_at),
    ref: r.latest_id,
    urgent: false,
    // Versions are never rewritten: the latest version's id says what the Note shows.
    stamp: r.latest_id,
  }));
}

export async function listProposalPostRows(db: Kysely<Database>, f: Filter & { kind?: "offer" | "need" } = {}): Promise<PostRow[]> {
  let q = db
    .selectFrom("proposals as r")
    .innerJoin("pods as p", "p.id", "r.pod_id")
    .select(["r.id", "r.pod_id", "r.purpose", "r.urgent", "r.created_at", "r.version"])
    .where("p.retired_at", "is", null);
  if (f.kind) q = q.where("r.purpose", "=", f.kind === "offer" ? "offer" : "request");
  if (f.podId) q = q.where("r.pod_id", "=", f.podId);
  if (f.from) q = q.where("r.created_at", ">=", f.from);
  if (f.to) q = q.where("r.created_at", "<", f.to);
  const rows = await q.execute();
  return rows.map((r) => ({
    kind: r.purpose === "offer" ? "offer" : "need",
    podId: r.pod_id,
    key: r.id,
    createdAt: new Date(r.created_at),
    ref: r.id,
    urgent: r.urgent,
    // Every change to a proposal bumps its version.
    stamp: String(r.version),
  }));
}

/** Every post row of active pods (or of one pod). */
export async function listPostRows(db: Kysely<Database>, f: { podId?: string } = {}): Promise<PostRow[]> {
  const [charters, summaries, proposals] = await Promise.all([listCharterPostRows(db, f), listSummaryPostRows(db, f), listProposalPostRows(db, f)]);
  return [...charters, ...summaries, ...proposals];
}

/** Rows of one kind first published in [from, to) (the candidates for one post id). */
export async function listPostRowsCreatedIn(db: Kysely<Database>, kind: PostRowKind, from: Date, to: Date): Promise<PostRow[]> {
  if (kind === "charter") return listCharterPostRows(db, { from, to });
  if (kind === "summary") return listSummaryPostRows(db, { from, to });
  return listProposalPostRows(db, { kind, from, to });
}

/** Accepted followers and accepted follows per pod (pods with none are absent). */
export async function countFollowsByPod(db: Kysely<Database>, podIds: readonly string[]): Promise<Map<string, { followers: number; following: number }>> {
  const counts = new Map<string, { followers: number; following: number }>();
  if (podIds.length === 0) return counts;
  const [followers, following] = await Promise.all([
    db
      .selectFrom("followers")
      .select(["pod_id", (eb) => eb.fn.countAll<string>().as("n")])
      .where("status", "=", "accepted")
      .where("pod_id", "in", podIds)
      .groupBy("pod_id")
      .execute(),
    db
      .selectFrom("following")
      .select(["pod_id", (eb) => eb.fn.countAll<string>().as("n")])
      .where("status", "=", "accepted")
      .where("pod_id", "in", podIds)
      .groupBy("pod_id")
      .execute(),
  ]);
  const entry = (podId: string) => counts.get(podId) ?? counts.set(podId, { followers: 0, following: 0 }).get(podId)!;
  for (const r of followers) entry(r.pod_id).followers = Number(r.n);
  for (const r of following) entry(r.pod_id).following = Number(r.n);
  return counts;
}
