/**
 * The collection of a pod's congress neighbours (`/pods/{slug}/neighbours`), so others can
 * see who is in whose congress: an ActivityStreams OrderedCollection of the neighbours'
 * actor IRIs (pods that follow each other), public, in the neighbours' order (by handle).
 *
 * Without `?page`: the collection, with `totalItems`, `first` (and `last`), and the items
 * inline when there are at most NEIGHBOURS_PAGE_SIZE of them. `?page=n` (n ≥ 1): an
 * OrderedCollectionPage of up to NEIGHBOURS_PAGE_SIZE items with `partOf`, `next`, `prev`.
 * A page that is not a positive whole number, or past the last page, is not found (null).
 */
import { findPod } from "../services/pods.ts";
import { listNeighbours } from "../services/congress.ts";
import type { ServiceDeps } from "../services/ports.ts";

export const NEIGHBOURS_PAGE_SIZE = 100;
const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

export async function neighboursDocument(deps: ServiceDeps, slug: string, query: URLSearchParams): Promise<Record<string, unknown> | null> {
  const pod = await findPod(deps, slug);
  if (!pod) return null;
  const id = deps.uris.neighbours(pod.slug).href;
  const items = (await listNeighbours(deps, pod.slug)).map((n) => n.actorIri);
  const pages = Math.max(1, Math.ceil(items.length / NEIGHBOURS_PAGE_SIZE));
  const pageUrl = (n: number) => `${id}?page=${n}`;
  const asked = query.get("page");
  if (asked === null) {
    return {
      "@context": AS_CONTEXT,
      id,
      type: "OrderedCollection",
      summary: `The congress neighbours of ${pod.name}: pods that follow it and that it follows back`,
      attributedTo: deps.uris.actor(pod.slug).href,
      totalItems: items.length,
      first: pageUrl(1),
      last: pageUrl(pages),
      ...(items.length <= NEIGHBOURS_PAGE_SIZE && { orderedItems: items }),
    };
  }
  if (!/^[1-9]\d{0,6}$/.test(asked)) return null;
  const n = Number(asked);
  if (n > pages) return null;
  return {
    "@context": AS_CONTEXT,
    id: pageUrl(n),
    type: "OrderedCollectionPage",
    partOf: id,
    totalItems: items.length,
    startIndex: (n - 1) * NEIGHBOURS_PAGE_SIZE,
    orderedItems: items.slice((n - 1) * NEIGHBOURS_PAGE_SIZE, n * NEIGHBOURS_PAGE_SIZE),
    ...(n < pages && { next: pageUrl(n + 1) }),
    ...(n > 1 && { prev: pageUrl(n - 1) }),
  };
}
