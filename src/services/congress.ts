/**
 * Congress neighbours (pods that follow each other) and the congress view. (Partly a
 * stub: the view is filled in by the congress view work.)
 */
import * as congress from "../db/repos/congress.ts";
import { getPodBySlug } from "../db/repos/pods.ts";
import { notFound } from "../domain/errors.ts";
import type { ServiceDeps } from "./ports.ts";

export type { NeighbourRecord } from "../db/repos/congress.ts";

/** True when the pod and the actor follow each other (both follows accepted). */
export function isNeighbour(deps: ServiceDeps, podId: string, actorIri: string): Promise<boolean> {
  return congress.isNeighbour(deps.db, podId, actorIri);
}

/** The pod's congress neighbours. */
export async function listNeighbours(deps: ServiceDeps, podSlug: string): Promise<congress.NeighbourRecord[]> {
  const pod = await getPodBySlug(deps.db, podSlug);
  if (!pod) throw notFound("POD_NOT_FOUND", `No pod named ${podSlug} on this node`);
  return congress.listNeighbours(deps.db, pod.id);
}
