/** Read models shared by the steward API, the CLI and pages. */
import { z } from "zod";
import * as follows from "../db/repos/follows.ts";
import type { Pod } from "../domain/pods.ts";
import type { ServiceDeps } from "./ports.ts";

export const podViewSchema = z.object({
  slug: z.string(),
  name: z.string(),
  summary: z.string(),
  iconUrl: z.string().nullable(),
  manuallyApprovesFollowers: z.boolean(),
  /** hidden: the public sees only how many follow / are followed, and other pods; public: everyone. */
  networkVisibility: z.enum(["hidden", "public"]),
  handle: z.string(),
  actorUrl: z.string(),
  profileUrl: z.string(),
  followers: z.number().int(),
  pendingFollowers: z.number().int(),
  following: z.number().int(),
  createdAt: z.iso.datetime(),
  /** When the pod retired (hyphae pod retire); null while it is active. */
  retiredAt: z.iso.datetime().nullable(),
});
export type PodView = z.infer<typeof podViewSchema>;

export function podHandle(deps: ServiceDeps, slug: string): string {
  return `@${slug}@${deps.config.publicUrl.host}`;
}

export async function podView(deps: ServiceDeps, pod: Pod): Promise<PodView> {
  const [followers, pendingFollowers, following] = await Promise.all([
    follows.countFollowers(deps.db, pod.id, "accepted"),
    follows.countFollowers(deps.db, pod.id, "pending"),
    follows.countFollowing(deps.db, pod.id, "accepted"),
  ]);
  return {
    slug: pod.slug,
    name: pod.name,
    summary: pod.summary,
    iconUrl: pod.iconUrl,
    manuallyApprovesFollowers: pod.manuallyApprovesFollowers,
    networkVisibility: pod.networkVisibility,
    handle: podHandle(deps, pod.slug),
    actorUrl: deps.uris.actor(pod.slug).href,
    profileUrl: deps.uris.profile(pod.slug).href,
    followers,
    pendingFollowers,
    following,
    createdAt: pod.createdAt.toISOString(),
    retiredAt: pod.retiredAt?.toISOString() ?? null,
  };
}
