/**
 * Builds the Fedify federation: the pod actors, their collections and inbox listeners.
 * Context data is the services' dependency bundle, so handlers call services directly.
 */
import {
  createFederation,
  importJwk,
  type Context,
  type Federation,
  type KvStore,
  type MessageQueue,
} from "@fedify/fedify";
import { Endpoints, Group, Image, Tombstone } from "@fedify/vocab";
import type { Config } from "../config.ts";
import type { Pod } from "../domain/pods.ts";
import { textToHtml } from "../lib/html.ts";
import type { ServiceDeps } from "../services/ports.ts";
import { findPodCached, podKeyPairs } from "../services/pods.ts";
import { registerCharter } from "./charter.ts";
import { registerCollections } from "./collections.ts";
import { registerInboxListeners } from "./inbox/index.ts";
import { dateToInstant } from "./temporal.ts";
import { PATHS, podProfileUrl } from "./uris.ts";

export type HyphaeFederation = Federation<ServiceDeps>;

export interface FederationOptions {
  config: Config;
  kv: KvStore;
  queue: MessageQueue;
}

export function createHyphaeFederation(options: FederationOptions): HyphaeFederation {
  const { config } = options;
  const federation = createFederation<ServiceDeps>({
    kv: options.kv,
    queue: options.queue,
    // Processes start the queue themselves (web never does, worker and all do).
    manuallyStartQueue: true,
    origin: config.publicUrl.origin,
    allowPrivateAddress: config.allowPrivateAddresses,
    userAgent: undefined,
  });
  registerActors(federation);
  registerCollections(federation);
  registerCharter(federation);
  registerInboxListeners(federation);
  return federation;
}

/** Imported signing keys per pod id; keys never change once made, so this never goes stale. */
const keyCache = new Map<string, Promise<CryptoKeyPair[]>>();

async function loadKeyPairs(deps: ServiceDeps, podId: string): Promise<CryptoKeyPair[]> {
  let pairs = keyCache.get(podId);
  if (!pairs) {
    pairs = (async () => {
      const stored = await podKeyPairs(deps, podId);
      return Promise.all(
        stored.map(async (k) => ({
          privateKey: await importJwk(k.privateJwk, "private"),
          publicKey: await importJwk(k.publicJwk, "public"),
        })),
      );
    })();
    pairs.catch(() => keyCache.delete(podId));
    keyCache.set(podId, pairs);
  }
  return pairs;
}

/**
 * Rendering an actor costs milliseconds of CPU (key export to PEM and multibase, JSON-LD
 * compaction), and actors are fetched far more often than they change. Each process
 * keeps the rendered document per pod, keyed by the pod's `updated_at`, so a change made
 * by any process (or a restart) renders it afresh. Objects parsed from JSON-LD keep
 * their source document, which Fedify then serves as is.
 */
const actorCache = new Map<string, { stamp: number; actor: Group }>();

async function renderPodActor(ctx: Context<ServiceDeps>, pod: Pod): Promise<Group> {
  const keys = await ctx.getActorKeyPairs(pod.slug);
  return new Group({
    id: ctx.getActorUri(pod.slug),
    preferredUsername: pod.slug,
    name: pod.name,
    summary: pod.summary ? textToHtml(pod.summary) : null,
    url: podProfileUrl(new URL(ctx.origin), pod.slug),
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

function registerActors(federation: HyphaeFederation): void {
  federation
    .setActorDispatcher(PATHS.actor, async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      if (!pod) return null;
      // A retired pod: Fedify answers its actor with 410 Gone and this Tombstone, its
      // WebFinger with 410 and its personal inbox with 404. Its keys stay available to
      // sign the Delete that tells followers.
      if (pod.retiredAt) {
        return new Tombstone({ id: ctx.getActorUri(pod.slug), formerType: Group, deleted: dateToInstant(pod.retiredAt) });
      }
      const stamp = pod.updatedAt.getTime();
      const cached = actorCache.get(pod.id);
      if (cached && cached.stamp === stamp) return cached.actor;
      const rendered = await renderPodActor(ctx, pod);
      const json = await rendered.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
      const actor = await Group.fromJsonLd(json, { contextLoader: ctx.contextLoader, documentLoader: ctx.documentLoader });
      actorCache.set(pod.id, { stamp, actor });
      return actor;
    })
    .setKeyPairsDispatcher(async (ctx, identifier) => {
      const pod = await findPodCached(ctx.data, identifier);
      return pod ? loadKeyPairs(ctx.data, pod.id) : [];
    })
    // WebFinger: handles are matched case-insensitively; slugs are lowercase.
    .mapHandle((_ctx, username) => username.toLowerCase());
}
