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
