/**
 * Pod use cases: create a pod (with its keys), read and update its profile.
 */
import { conflict, notFound } from "../domain/errors.ts";
import { newPodSchema, parseOrThrow, podPatchSchema, assertValidSlug, assertPodActive, type Pod } from "../domain/pods.ts";
import { generateJwkPair } from "../lib/keys.ts";
import * as pods from "../db/repos/pods.ts";
import { writeOnce } from "./idempotency.ts";
import type { ServiceDeps } from "./ports.ts";
import { momentCache } from "./moment-cache.ts";

export async function createPod(deps: ServiceDeps, input: unknown): Promise<Pod> {
  const data = parseOrThrow(newPodSchema, input);
  if (await pods.getPodBySlug(deps.db, data.slug)) {
    throw conflict("POD_EXISTS", `A pod named ${data.slug} already exists on this node`);
  }
  // Key generation takes a while (RSA); do it before opening the transaction.
  const keys = await Promise.all([generateJwkPair("RSASSA-PKCS1-v1_5"), generateJwkPair("Ed25519")]);
  const now = deps.clock.now();
  const pod: Pod = {
    id: deps.ids.uuid(),
    slug: data.slug,
    name: data.name,
    summary: data.summary,
    iconUrl: data.iconUrl,
    manuallyApprovesFollowers: data.manuallyApprovesFollowers,
    networkVisibility: data.networkVisibility,
    createdAt: now,
    updatedAt: now,
    retiredAt: null,
  };
  try {
    await deps.db.transaction().execute(async (trx) => {
      await pods.insertPod(trx, pod);
      await pods.insertPodKeys(trx, pod.id, keys);
    });
  } catch (error) {
    // Lost a race with another process creating the same slug.
    if ((error as { code?: string }).code === "23505") {
      throw conflict("POD_EXISTS", `A pod named ${data.slug} already exists on this node`);
    }
    throw error;
  }
  forgetPod(deps, pod.slug);
  deps.log.info("Pod created", { slug: pod.slug });
  return pod;
}

export async function getPod(deps: ServiceDeps, slug: string): Promise<Pod> {
  const pod = await pods.getPodBySlug(deps.db, slug);
  if (!pod) throw notFound("POD_NOT_FOUND", `No pod named ${slug} on this node`);
  return pod;
}

export async function findPod(deps: ServiceDeps, slug: string): Promise<Pod | null> {
  return pods.getPodBySlug(deps.db, slug);
}

/**
 * Read path for documents served to the fediverse (actor, collections, WebFinger):
 * pods change rarely and are read on every request, so each process remembers them for
 * two seconds (moment-cache.ts); a change made in this process is seen at once.
 */
const podCache = momentCache<Pod | null>(2000);

export async function findPodCached(deps: ServiceDeps, slug: string): Promise<Pod | null> {
  return podCache.get(deps, slug, () => pods.getPodBySlug(deps.db, slug));
}

/** Drops this process's remembered copy of a pod after a change made outside this file (its icon). */
export function forgetPod(deps: ServiceDeps, slug: string): void {
  podCache.forget(deps, slug);
}

export async function findPodById(deps: ServiceDeps, id: string): Promise<Pod | null> {
  return pods.getPodById(deps.db, id);
}

/** A pod's stored key pairs, RSA first. */
export async function podKeyPairs(deps: ServiceDeps, podId: string) {
  return pods.listPodKeys(deps.db, podId);
}

export async function countPods(deps: ServiceDeps): Promise<number> {
  return pods.countPods(deps.db);
}

export async function listPods(deps: ServiceDeps): Promise<Pod[]> {
  return pods.listPods(deps.db);
}

/** Whether a patch changes what other servers show of the pod (its actor document). */
export function profileChanged(pod: Pod, patch: Partial<Pick<Pod, "name" | "summary" | "iconUrl" | "manuallyApprovesFollowers">>): boolean {
  return (
    (patch.name !== undefined && patch.name !== pod.name) ||
    (patch.summary !== undefined && patch.summary !== pod.summary) ||
    (patch.iconUrl !== undefined && patch.iconUrl !== pod.iconUrl) ||
    (patch.manuallyApprovesFollowers !== undefined && patch.manuallyApprovesFollowers !== pod.manuallyApprovesFollowers)
  );
}

export async function updatePod(deps: ServiceDeps, slug: string, input: unknown): Promise<Pod> {
  const pod = assertPodActive(await getPod(deps, slug));
  const patch = parseOrThrow(podPatchSchema, input);
  await writeOnce(deps, async (trx) => {
    await pods.updatePodProfile(trx, pod.id, patch, deps.clock.now());
    // Followers' servers keep a copy of the actor: tell them when what they show changed.
    if (profileChanged(pod, patch)) await deps.outbox.record(trx, { kind: "update_actor", podId: pod.id });
  });
  await deps.outbox.flush();
  forgetPod(deps, slug);
  return getPod(deps, slug);
}

/**
 * On the first start of an empty node, create the pod named by POD_SLUG / POD_NAME so
 * `npm start` alone gives a followable pod. Returns the pod when it was created now.
 */
export async function ensureInitialPod(deps: ServiceDeps): Promise<Pod | null> {
  if ((await pods.countPods(deps.db)) > 0) return null;
  assertValidSlug(deps.config.podSlug);
  try {
    return await createPod(deps, { slug: deps.config.podSlug, name: deps.config.podName });
  } catch (error) {
    // Another process (a second web process on PostgreSQL) created it first.
    if ((error as { code?: string }).code === "POD_EXISTS") return null;
    throw error;
  }
}

/** The pod, when it takes changes: a retired pod answers POD_RETIRED (409). */
export async function getActivePod(deps: ServiceDeps, slug: string): Promise<Pod> {
  return assertPodActive(await getPod(deps, slug));
}

/**
 * Removes a pod that has published nothing, with all its rows, in one transaction.
 *
 * "Published nothing" means: no charter revision, no outbound event ever recorded (sent
 * or still pending: every Accept, Reject, Follow, Undo, charter post or Delete goes
 * through the outbox), no accepted follower or followed actor, and nothing in its open
 * books' append-only tables (ledger entries, indicator counts, summaries). Such a pod has never
 * sent a signed activity anywhere, so nothing elsewhere refers to it except, at most, a
 * cached copy of its actor or a follow request still waiting for approval (dropped
 * unanswered). Anything else is refused with POD_HAS_PUBLISHED: retire it instead.
 * The slug is free again afterwards.
 */
export async function deletePod(deps: ServiceDeps, slug: string): Promise<{ slug: string; deleted: true }> {
  const found = await getPod(deps, slug);
  await deps.db.transaction().execute(async (trx) => {
    // Lock first: a charter revision or follow written concurrently waits, then fails its
    // foreign key; one that committed first is counted below.
    const pod = await pods.lockPod(trx, found.id);
    if (!pod) throw notFound("POD_NOT_FOUND", `No pod named ${slug} on this node`);
    const traces = await pods.countPublishedTraces(trx, pod.id);
    const published = Object.values(traces).some((n) => n > 0);
    if (published) {
      throw conflict(
        "POD_HAS_PUBLISHED",
        `${slug} has already published (${describeTraces(traces)}), so other servers may hold its records; retire it instead: hyphae pod retire ${slug}`,
        publishedDetails(traces),
      );
    }
    await pods.deletePodRows(trx, pod.id);
  });
  forgetPod(deps, slug);
  deps.log.info("Pod deleted", { slug });
  return { slug, deleted: true };
}

/** The four classic counts always; the open books' counts only when there are some. */
function publishedDetails(t: pods.PublishedTraces): Record<string, number> {
  const { ledgerEntries, indicatorCounts, bookSummaries, ...core } = t;
  return {
    ...core,
    ...(ledgerEntries > 0 && { ledgerEntries }),
    ...(indicatorCounts > 0 && { indicatorCounts }),
    ...(bookSummaries > 0 && { bookSummaries }),
  };
}

function describeTraces(t: pods.PublishedTraces): string {
  const parts = [
    t.charterRevisions && `${t.charterRevisions} charter revision${t.charterRevisions === 1 ? "" : "s"}`,
    t.outboxEvents && `${t.outboxEvents} federated activit${t.outboxEvents === 1 ? "y" : "ies"}`,
    t.acceptedFollowers && `${t.acceptedFollowers} follower${t.acceptedFollowers === 1 ? "" : "s"}`,
    t.acceptedFollowing && `follows ${t.acceptedFollowing}`,
    t.ledgerEntries && `${t.ledgerEntries} ledger entr${t.ledgerEntries === 1 ? "y" : "ies"}`,
    t.indicatorCounts && `${t.indicatorCounts} indicator count${t.indicatorCounts === 1 ? "" : "s"}`,
    t.bookSummaries && `${t.bookSummaries} book summar${t.bookSummaries === 1 ? "y" : "ies"}`,
  ];
  return parts.filter(Boolean).join(", ");
}

/**
 * Retires a pod: records `retired_at` and, in the same transaction, the outbound Delete
 * of its actor to its followers. Its actor then answers 410 Gone with a Tombstone,
 * WebFinger stops resolving it, new Follows are refused, and steward writes answer
 * POD_RETIRED. Nothing is deleted: charter revisions, followers and the outbox stay for
 * the books. Retiring a retired pod changes nothing and says so.
 */
export async function retirePod(deps: ServiceDeps, slug: string): Promise<{ pod: Pod; alreadyRetired: boolean }> {
  const found = await getPod(deps, slug);
  const now = deps.clock.now();
  const retiredNow = await deps.db.transaction().execute(async (trx) => {
    const pod = await pods.lockPod(trx, found.id);
    if (!pod) throw notFound("POD_NOT_FOUND", `No pod named ${slug} on this node`);
    if (!(await pods.markPodRetired(trx, pod.id, now))) return false;
    await deps.outbox.record(trx, { kind: "delete_actor", podId: pod.id });
    return true;
  });
  forgetPod(deps, slug);
  if (retiredNow) {
    deps.log.info("Pod retired", { slug });
    await deps.outbox.flush();
  }
  return { pod: await getPod(deps, slug), alreadyRetired: !retiredNow };
}
