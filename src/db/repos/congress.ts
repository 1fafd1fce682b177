/**
 * Congress neighbours: two pods are neighbours when each follows the other (our pod's
 * follow of them accepted, and their follow of our pod accepted).
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../schema.ts";

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
