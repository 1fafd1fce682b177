/** Pods' accounts and posts as entities, computing each pod's account once per answer. */
import { listPodAccounts, type PodAccount, type PodPost } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { accountEntity, statusEntity } from "./entities.ts";

/** `known`: accounts the caller already has; the others are looked up (once per answer). */
export async function statusesOf(deps: ServiceDeps, posts: readonly PodPost[], known: readonly PodAccount[] = []): Promise<Record<string, unknown>[]> {
  if (posts.length === 0) return [];
  const accounts = new Map(known.map((a) => [a.pod.id, a]));
  if (posts.some((p) => !accounts.has(p.pod.id))) for (const a of await listPodAccounts(deps)) accounts.set(a.pod.id, a);
  const entities = new Map<string, Record<string, unknown>>();
  const out: Record<string, unknown>[] = [];
  for (const post of posts) {
    const account = accounts.get(post.pod.id);
    if (!account) continue;
    let entity = entities.get(post.pod.id);
    if (!entity) entities.set(post.pod.id, (entity = accountEntity(deps, account)));
    out.push(statusEntity(deps, post, entity));
  }
  return out;
}
