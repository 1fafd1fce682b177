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
import { Group, Tombstone } from "@fedify/vocab";
import { Temporal as TemporalPolyfill } from "@js-temporal/polyfill";
import type { Config } from "../config.ts";
import type { ServiceDeps } from "../services/ports.ts";
import { removeGoneActor } from "../services/follows.ts";
import { findPodCached, podKeyPairs } from "../services/pods.ts";
import { registerCharter } from "./charter.ts";
import { registerCollections } from "./collections.ts";
import { registerInboxListeners } from "./inbox/index.ts";
import { remoteDocumentLoaders } from "./remote-documents.ts";
import { giveUpMs, retryDelayMs } from "./publish.ts";
import { dateToInstant } from "./temporal.ts";
import { PATHS } from "./uris.ts";
import { renderPodActor } from "./pod-actor.ts";

export type HyphaeFederation = Federation<ServiceDeps>;

export interface FederationOptions {
  config: Config;
  kv: KvStore;
  queue: MessageQueue;
}

export function createHyphaeFederation(options: FederationOptions): HyphaeFederation {
  const { config } = options;
  // Our own loader factories apply ALLOW_PRIVATE_ADDRESSES themselves (Fedify refuses its
  // own option beside custom factories): see remote-documents.ts.
  const loaders = remoteDocumentLoaders({ allowPrivateAddresses: config.allowPrivateAddresses, kv: options.kv });
  const federation = createFederation<ServiceDeps>({
    kv: options.kv,
    queue: options.queue,
    // Processes start the queue themselves (web never does, worker and all do).
    manuallyStartQueue: true,
    origin: config.publicUrl.origin,
    documentLoaderFactory: loaders.documentLoaderFactory,
    contextLoaderFactory: loaders.contextLoaderFactory,
    authenticatedDocumentLoaderFactory: loaders.authenticatedDocumentLoaderFactory,
    ...deliveryPolicy(config),
  });
  federation.setOutboxPermanentFailureHandler(onPermanentDeliveryFailure);
  registerActors(federation);
  registerCollections(federation);
  registerCharter(federation);
  registerInboxListeners(federation);
  return federation;
}

/**
 * Delivery to each recipient inbox (Fedify's queue) follows the outbox's policy: a server
 * that is down is retried with the same exponential backoff (30 s doubling up to 6 h by
 * default) until OUTBOX_GIVE_UP_HOURS have passed since the first attempt (72 h by
 * default; the whole schedule scales with it).
 *
 * Fedify 2.3's circuit breaker opens per remote host after 5 failures within 10 minutes
 * and then holds that host's deliveries (re-enqueued, not sent) until a probe succeeds;
 * a held delivery is dropped once it has been held for `heldActivityTtl` (168 h by
 * default). We hold for the full give-up age, so nothing is dropped before the retry
 * policy itself would give up, and probe a host again after 1/144 of it (30 min).
 */
const millisecondsToDuration = (ms: number) => TemporalPolyfill.Duration.from({ milliseconds: ms }) as unknown as Temporal.Duration;

function deliveryPolicy(config: Config) {
  const giveUp = giveUpMs(config);
  return {
    outboxRetryPolicy: ({ elapsedTime, attempts }: { elapsedTime: Temporal.Duration; attempts: number }) => {
      if (elapsedTime.total("millisecond") >= giveUp) return null;
      // attempts counts from 0; up to 10% jitter so hosts coming back are not hit all at once.
      const delay = retryDelayMs(attempts + 1, giveUp) * (1 + Math.random() * 0.1);
      return millisecondsToDuration(Math.ceil(delay));
    },
    circuitBreaker: {
      recoveryDelay: millisecondsToDuration(Math.max(1, Math.round(giveUp / 144))),
      heldActivityTtl: millisecondsToDuration(giveUp),
    },
  };
}

/**
 * Fedify gave up on one delivery for good: the inbox answered 404 or 410, or the circuit
 * breaker held it past its age. A 410 Gone from a follower's own inbox removes that
 * follower; anything else is logged.
 */
async function onPermanentDeliveryFailure(
  ctx: Context<ServiceDeps>,
  failure: { reason: string; inbox: URL; statusCode: number; actorIds: readonly URL[]; activity: { id: URL | null } },
): Promise<void> {
  if (failure.reason === "http" && failure.statusCode === 410) {
    for (const actor of failure.actorIds) await removeGoneActor(ctx.data, actor.href, failure.inbox.href);
    return;
  }
  ctx.data.log.warn("Gave up delivering an activity to an inbox", {
    inbox: failure.inbox.href,
    status: failure.statusCode,
    reason: failure.reason,
    activity: failure.activity.id?.href ?? null,
  });
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
