/**
 * Congress neighbours: two pods are neighbours when each follows the other (our pod's
 * follow of them accepted, and their follow of our pod accepted).
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../schema.ts";
import type { RemoteProposalRecord } from "./proposals.ts";

type Db = Kysely<Database> | Transaction<Database>;

export interface NeighbourRecord {
  actorIri: string;
  handle: string | null;
  name: string | null;
  url: string | null;
  inbox: string;
  sharedInbox: string | null;
  /** When the later of the two follows was accepted (the pair became neighbours). */
  since: Date;
}

function neighbourQuery(db: Db, podId: string) {
  return db
    .selectFrom("following as out")
    .innerJoin("followers as back", (j) => j.onRef("back.actor_iri", "=", "out.actor_iri").onRef("back.pod_id", "=", "out.pod_id"))
    .innerJoin("remote_actors as a", "a.iri", "out.actor_iri")
    .select(["a.iri", "a.handle", "a.name", "a.url", "a.inbox", "a.shared_inbox", "out.updated_at as out_at", "back.updated_at as back_at"])
    .where("out.pod_id", "=", podId)
    .where("out.status", "=", "accepted")
    .where("back.status", "=", "accepted");
}

/** The pod's neighbours, by handle (then IRI). */
export async function listNeighbours(db: Db, podId: string): Promise<NeighbourRecord[]> {
  const rows = await neighbourQuery(db, podId).orderBy("a.handle").orderBy("a.iri").execute();
  return rows.map((r) => ({
    actorIri: r.iri,
    handle: r.handle,
    name: r.name,
    url: r.url,
    inbox: r.inbox,
    sharedInbox: r.shared_inbox,
    since: new Date(Math.max(new Date(r.out_at).getTime(), new Date(r.back_at).getTime())),
  }));
}

export async function isNeighbour(db: Db, podId: string, actorIri: string): Promise<boolean> {
  const row = await neighbourQuery(db, podId).where("out.actor_iri", "=", actorIri).executeTakeFirst();
  return row !== undefined;
}

export async function countNeighbours(db: Db, podId: string): Promise<number> {
  const rows = await neighbourQuery(db, podId).execute();
  return rows.length;
}

export interface NeighbourSummaryRecord {
  actorIri: string;
  objectIri: string;
  periodKind: string;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  content: Record<string, unknown>;
  changedAfterPublication: boolean;
}

/**
 * The latest summary of each period kind (the latest period, then its highest version) of
 * each of the given actors: at most one row per actor and kind.
 */
export async function listLatestSummariesOf(db: Db, actorIris: readonly string[]): Promise<NeighbourSummaryRecord[]> {
  if (actorIris.length === 0) return [];
  const rows = await db
    .selectFrom("remote_summaries")
    .distinctOn(["actor_iri", "period_kind"])
    .select(["actor_iri", "object_iri", "period_kind", "period_start", "period_end", "version", "content", "changed_after_publication"])
    .where("actor_iri", "in", actorIris)
    .orderBy("actor_iri")
    .orderBy("period_kind")
    .orderBy("period_start", "desc")
    .orderBy("version", "desc")
    .orderBy("received_at", "desc")
    .execute();
  return rows.map((r) => ({
    actorIri: r.actor_iri,
    objectIri: r.object_iri,
    periodKind: r.period_kind,
    periodStart: new Date(r.period_start),
    periodEnd: new Date(r.period_end),
    version: r.version,
    content: r.content,
    changedAfterPublication: r.changed_after_publication,
  }));
}

/** What the congress view shows of a neighbour's offer or need (and matches it by). */
export type NeighbourProposalRecord = Pick<
  RemoteProposalRecord,
  | "id"
  | "actorIri"
  | "objectIri"
  | "purpose"
  | "name"
  | "description"
  | "unit"
  | "category"
  | "specificationUri"
  | "quantity"
  | "remaining"
  | "minimum"
  | "unitBased"
  | "location"
  | "availableFrom"
  | "availableUntil"
  | "expiresAt"
  | "urgent"
>;

/** One neighbour's proposal as the JSON array `listNeighbourProposals` reads. */
type NeighbourProposalTuple = [
  /** Its place in the order asked for, from 1. */
  position: number,
  id: string,
  actorIri: string,
  objectIri: string,
  purpose: NeighbourProposalRecord["purpose"],
  name: string,
  description: string,
  unit: string,
  category: string | null,
  specificationUri: string | null,
  quantity: string | null,
  remaining: string | null,
  minimum: string | null,
  unitBased: boolean | null,
  location: string | null,
  /** Milliseconds since the epoch (floored, as the drivers read a timestamp). */
  availableFrom: number | null,
  availableUntil: number | null,
  expiresAt: number | null,
  urgent: boolean,
];

const dateOf = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/**
 * The open offers and needs of the given actors that are live at `now` (neither expired nor
 * past their window, as `isLive` says), urgent first, then the most recently updated, then
 * in the order received; at most `limit`.
 *
 * Built for 20,000 rows and more: only the columns the congress view shows are read, as one
 * JSON array of arrays (both drivers spend far more on each row and field of a result than
 * on parsing one JSON text); only the narrow sort keys are sorted, and each proposal carries
 * its place in that order, so the wide rows are never sorted. Quantities and ids travel as
 * text (quantities without trailing zeros, as `trimNumeric` gives them), so nothing goes
 * through a float; times as whole milliseconds.
 */
export async function listNeighbourProposals(db: Db, actorIris: readonly string[], now: Date, limit: number): Promise<NeighbourProposalRecord[]> {
  if (actorIris.length === 0) return [];
  const result = await sql<{ rows: NeighbourProposalTuple[] | string }>`
    select coalesce(json_agg(json_build_array(
      k.position, p.id::text, p.actor_iri, p.object_iri, p.purpose, p.name, p.description, p.unit, p.category, p.specification_uri,
      trim_scale(p.quantity)::text, trim_scale(p.remaining)::text, trim_scale(p.minimum)::text, p.unit_based, p.location,
      floor(extract(epoch from p.available_from) * 1000), floor(extract(epoch from p.available_until) * 1000),
      floor(extract(epoch from p.expires_at) * 1000), p.urgent
    )), '[]') as rows
    from (
      select id, row_number() over (order by urgent desc, remote_updated_at desc, id) as position
      from remote_proposals
      where actor_iri in (${sql.join(actorIris)}) and status = 'open'
        and (expires_at is null or expires_at > ${now}) and (available_until is null or available_until > ${now})
      order by urgent desc, remote_updated_at desc, id
      limit ${limit}
    ) k
    join remote_proposals p on p.id = k.id`.execute(db);
  const raw = result.rows[0]?.rows ?? [];
  const tuples: NeighbourProposalTuple[] = typeof raw === "string" ? (JSON.parse(raw) as NeighbourProposalTuple[]) : raw;
  const records = new Array<NeighbourProposalRecord>(tuples.length);
  for (const t of tuples) {
    records[t[0] - 1] = {
      id: t[1],
      actorIri: t[2],
      objectIri: t[3],
      purpose: t[4],
      name: t[5],
      description: t[6],
      unit: t[7],
      category: t[8],
      specificationUri: t[9],
      quantity: t[10],
      remaining: t[11],
      minimum: t[12],
      unitBased: t[13],
      location: t[14],
      availableFrom: dateOf(t[15]),
      availableUntil: dateOf(t[16]),
      expiresAt: dateOf(t[17]),
      urgent: t[18],
    };
  }
  return records;
}
