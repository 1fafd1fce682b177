/** A pod as its ActivityPub actor: a Group, served by the actor dispatcher and sent in profile Updates. */
import type { Context } from "@fedify/fedify";
import { Endpoints, Group, Image } from "@fedify/vocab";
import type { Pod } from "../domain/pods.ts";
import { textToHtml } from "../lib/html.ts";
import type { ServiceDeps } from "../services/ports.ts";
import { dateToInstant } from "./temporal.ts";
import { podProfileUrl } from "./uris.ts";

/** The pod as an ActivityPub Group (also the object of the Update sent when its profile changes). */
export async function renderPodActor(ctx: Context<ServiceDeps>, pod: Pod): Promise<Group> {
  const keys = await ctx.getActorKeyPairs(pod.slug);
  return new Group({
    id: ctx.getActorUri(pod.slug),
    preferredUsername: pod.slug,
    name: pod.name,
    summary: pod.summary ? textToHtml(pod.summary) : null,
    url: podProfileUrl(new URL(ctx.canonicalOrigin), pod.slug),
    icon: pod.iconUrl ? new Image({ url: new URL(pod.iconUrl) }) : null,
    inbox: ctx.getInboxUri(pod.slug),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    outbox: ctx.getOutboxUri(pod.slug),
    followers: ctx.getFollowersUri(pod.slug),
    following: ctx.getFollowingUri(pod.slug),
    featured: ctx.getFeaturedUri(pod.slug),
    manuallyApprovesFollowers: pod.manuallyApprovesFollowers,
    discoverable: true,
    indexable: true,
    published: dateToInstant(pod.createdAt),
    publicKey: keys[0]?.cryptographicKey ?? null,
    assertionMethods: keys.filter((k) => k.privateKey.algorithm.name === "Ed25519").map((k) => k.multikey),
  });
}
