/**
 * The transactional outbox. Services `record` outbound events in the same transaction
 * as the change that caused them; after commit they call `flush`, which turns each due
 * event into an activity and hands it to Fedify (`sendActivity` signs it and enqueues
 * one delivery per recipient inbox). A worker also flushes periodically, so an event
 * whose process died right after commit still goes out.
 *
 * - Claimed: any process may flush; each event is leased to one claim at a time
 *   (`db/repos/outbox.ts`), so no event is handed to Fedify twice at once.
 * - Per event: an event that fails (its publisher throws or times out) gets its own
 *   next attempt with exponential backoff on the services' clock, and is dead-lettered
 *   once it has failed for `OUTBOX_GIVE_UP_HOURS`. Other events go on; only later events
 *   with the same ordering key wait for it.
 * - Ordered: events to one remote actor are keyed by pod + actor, posts to followers by
 *   pod + "followers"; the key is passed to Fedify as `orderingKey` (Fedify appends the
 *   inbox origin per delivery).
 * - Best effort after commit: `flush` never throws; what it could not send stays for the
 *   next flush.
 * - At-least-once: activity ids derive from the event id, so a repeated send (a process
 *   killed between handing an event over and recording it) carries the same id, and
 *   receivers drop the duplicate.
 *
 * Adding a kind of event: add it to `OutboundEvent` (services/ports.ts) and a publisher to
 * PUBLISHERS below. An event that names one remote actor (`actorIri`) is ordered per pod
 * and actor; any other per pod's followers (see `outboundOrderingKey`).
 */
import os from "node:os";
import { randomUUID } from "node:crypto";
import type { Context } from "@fedify/fedify";
import type { Transaction } from "kysely";
import { Accept, Delete, Follow, PUBLIC_COLLECTION, Reject, Undo, Update, type Activity } from "@fedify/vocab";
import type { Database } from "../db/schema.ts";
import { getPodById } from "../db/repos/pods.ts";
import { getRemoteActor } from "../db/repos/follows.ts";
import {
  ACTOR_KEY_PREFIX,
  claimDueOutboxEvents,
  insertOutboxEvent,
  markOutboxEventSent,
  recordOutboxFailure,
  renewOutboxClaim,
  summarizeOutbox,
  type OutboxEventRow,
} from "../db/repos/outbox.ts";
import type { Config } from "../config.ts";
import type { OutboundEvent, Outbox, ServiceDeps } from "../services/ports.ts";
import type { HyphaeFederation } from "./federation.ts";
import { renderPodActor } from "./pod-actor.ts";
import { charterEventToActivity } from "./charter.ts";
import { summaryEventToActivity } from "./summary.ts";
import { publishProposal } from "./proposal.ts";
import { publishClaimAnswer, publishClaimOffer } from "./claims.ts";
import { publishTransferEvent, publishTransferFlag } from "./transfers.ts";
import { podActivityUrl } from "./uris.ts";

/** Events claimed per round. */
const BATCH = 20;
/** A publisher taking longer than this counts as failed (its claim's lease is longer). */
const PUBLISH_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------
// Retry schedule, shared with Fedify's per-recipient retries (federation.ts).

/** How long an event, or one delivery of it, is retried before it is given up on. */
export const giveUpMs = (config: Config): number => config.outbox.giveUpHours * 3_600_000;

/**
 * Delay before attempt `attempt + 1`, after `attempt` failures (1, 2, …): exponential,
 * starting at 1/8640 of the give-up age and capped at 1/12 of it — 30 s doubling up to
 * 6 h for the default 72 h. The whole schedule scales with OUTBOX_GIVE_UP_HOURS.
 */
export function retryDelayMs(attempt: number, giveUp: number): number {
  const first = giveUp / 8640;
  const cap = giveUp / 12;
  return Math.min(cap, first * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
}

// ---------------------------------------------------------------------------------------
// Ordering keys and publishers: the extension point for new kinds of events.

/**
 * Events with the same key leave in the order they were recorded. A claim and its answer
 * are ordered per claim, not per remote actor: claims between two pods are independent of
 * each other (each is checked on arrival against the proposal as it is then), so many travel
 * at once instead of one delivery at a time; every other event to a remote actor (Follow,
 * Undo, their answers, transfers and flags) stays in one line per pod and actor.
 */
export function outboundOrderingKey(event: OutboundEvent): string {
  if (event.kind === "claim_offer" || event.kind === "claim_answer") return `${ACTOR_KEY_PREFIX}${event.podId} ${event.actorIri} claim ${event.claimId}`;
  return "actorIri" in event ? `${ACTOR_KEY_PREFIX}${event.podId} ${event.actorIri}` : `followers ${event.podId}`;
}

export interface PublishEnv {
  ctx: Context<ServiceDeps>;
  deps: ServiceDeps;
  /** The outbox event id: activity ids derive from it. */
  eventId: string;
  orderingKey: string;
}

/** `sent`: handed to Fedify. `dropped`: nothing left to send (its subject is gone); not retried. */
export type PublishResult = { sent: true } | { dropped: string };
export type Publisher<E extends OutboundEvent> = (env: PublishEnv, event: E) => Promise<PublishResult>;
type Publishers = { [K in OutboundEvent["kind"]]?: Publisher<Extract<OutboundEvent, { kind: K }>> };

type FollowEvent = Extract<OutboundEvent, { kind: "accept_follow" | "reject_follow" | "send_follow" | "undo_follow" }>;

/** Follow activities and their answers go to the remote actor's personal inbox, as Mastodon expects. */
const publishFollowActivity: Publisher<FollowEvent> = async ({ ctx, deps, eventId, orderingKey }, event) => {
  const pod = await getPodById(deps.db, event.podId);
  const remote = await getRemoteActor(deps.db, event.actorIri);
  if (!pod || !remote) return { dropped: "its pod or remote actor is gone" };
  const origin = new URL(ctx.origin);
  const me = ctx.getActorUri(pod.slug);
  const them = new URL(remote.iri);
  let activity: Activity;
  switch (event.kind) {
    case "accept_follow":
    case "reject_follow": {
      const follow = new Follow({ id: new URL(event.followIri), actor: them, object: me });
      const Kind = event.kind === "accept_follow" ? Accept : Reject;
      const fragment = event.kind === "accept_follow" ? "accepts" : "rejects";
      activity = new Kind({ id: podActivityUrl(origin, pod.slug, fragment, eventId), actor: me, object: follow, to: them });
      break;
    }
    case "send_follow":
      activity = new Follow({ id: new URL(event.followIri), actor: me, object: them, to: them });
      break;
    case "undo_follow":
      activity = new Undo({
        id: podActivityUrl(origin, pod.slug, "undo", eventId),
        actor: me,
        object: new Follow({ id: new URL(event.followIri), actor: me, object: them }),
        to: them,
      });
      break;
  }
  await ctx.sendActivity(
    { identifier: pod.slug },
    { id: them, inboxId: new URL(remote.inbox), endpoints: remote.shared_inbox ? { sharedInbox: new URL(remote.shared_inbox) } : null },
    activity,
    { preferSharedInbox: false, orderingKey },
  );
  return { sent: true };
};

const PUBLISHERS: Publishers = {
  accept_follow: publishFollowActivity,
  reject_follow: publishFollowActivity,
  send_follow: publishFollowActivity,
  undo_follow: publishFollowActivity,
  // A public post: to every follower, one delivery per shared inbox.
  charter_published: async ({ ctx, orderingKey }, event) => {
    const built = await charterEventToActivity(ctx, event.podId, event.charterEventId);
    if (!built) return { dropped: "its charter event no longer resolves" };
    await ctx.sendActivity({ identifier: built.slug }, "followers", built.activity, { preferSharedInbox: true, orderingKey });
    return { sent: true };
  },
  // A period summary of the open books (Create for version 1, Update after): like the charter.
  summary_published: async ({ ctx, orderingKey }, event) => {
    const built = await summaryEventToActivity(ctx, event.podId, event.summaryId);
    if (!built) return { dropped: "its summary no longer resolves" };
    await ctx.sendActivity({ identifier: built.slug }, "followers", built.activity, { preferSharedInbox: true, orderingKey });
    return { sent: true };
  },
  // Congress: offers and needs to followers (federation/proposal.ts); claims, answers,
  // transfers and discrepancy flags to the one pod concerned (claims.ts, transfers.ts).
  proposal_published: publishProposal,
  claim_offer: publishClaimOffer,
  claim_answer: publishClaimAnswer,
  transfer_event: publishTransferEvent,
  transfer_flag: publishTransferFlag,
  // A retired pod deletes its actor (actor = object), to Public and every follower. Its
  // actor already answers 410; followers verify with the key they stored while following.
  delete_actor: async ({ ctx, deps, eventId, orderingKey }, event) => {
    const pod = await getPodById(deps.db, event.podId);
    if (!pod) return { dropped: "its pod is gone" };
    const me = ctx.getActorUri(pod.slug);
    const activity = new Delete({
      id: podActivityUrl(new URL(ctx.origin), pod.slug, "delete", eventId),
      actor: me,
      object: me,
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(pod.slug),
    });
    await ctx.sendActivity({ identifier: pod.slug }, "followers", activity, { preferSharedInbox: true, orderingKey });
    return { sent: true };
  },
  // The pod's profile changed: an Update carrying the actor as it is now (Mastodon refreshes
  // the account from it). Sent after a retirement it would be wrong, so it is dropped then.
  update_actor: async ({ ctx, deps, eventId, orderingKey }, event) => {
    const pod = await getPodById(deps.db, event.podId);
    if (!pod || pod.retiredAt) return { dropped: "its pod is gone or retired" };
    const me = ctx.getActorUri(pod.slug);
    const activity = new Update({
      id: podActivityUrl(new URL(ctx.origin), pod.slug, "update", eventId),
      actor: me,
      object: await renderPodActor(ctx, pod),
      to: PUBLIC_COLLECTION,
      cc: ctx.getFollowersUri(pod.slug),
    });
    await ctx.sendActivity({ identifier: pod.slug }, "followers", activity, { preferSharedInbox: true, orderingKey });
    return { sent: true };
  },
};

// ---------------------------------------------------------------------------------------

export interface DrainReport {
  sent: number;
  failed: number;
  dead: number;
}

class PublishTimeoutError extends Error {
  constructor() {
    super(`publishing took longer than ${PUBLISH_TIMEOUT_MS / 1000} s`);
    this.name = "PublishTimeoutError";
  }
}

export class FederationOutbox implements Outbox {
  #federation: HyphaeFederation | null = null;
  #deps: ServiceDeps | null = null;
  #running: Promise<DrainReport> | null = null;
  #again = false;
  /** Prefix of this process's claim tokens: host:pid points at the process holding a lease. */
  readonly #processId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  /** Wiring calls this once the federation and the dependency bundle exist. */
  attach(federation: HyphaeFederation, deps: ServiceDeps): void {
    this.#federation = federation;
    this.#deps = deps;
  }

  async record(trx: Transaction<Database>, event: OutboundEvent): Promise<void> {
    await insertOutboxEvent(trx, {
      podId: event.podId,
      kind: event.kind,
      payload: JSON.stringify(event),
      orderingKey: outboundOrderingKey(event),
      now: this.#deps?.clock.now() ?? new Date(),
    });
  }

  /**
   * Hands every due event to delivery, best effort: never rejects (a failure is logged
   * once, at warn); whatever is left goes out on a later flush.
   */
  async flush(): Promise<void> {
    try {
      await this.drain();
    } catch (error) {
      this.#deps?.log.warn("Outbox flush failed; a later flush sends what is left", { error: describe(error) });
    }
  }

  /** Like `flush`, but reports what it did and lets errors through (the scheduler and tests). Concurrent calls share one loop. */
  drain(): Promise<DrainReport> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      const total: DrainReport = { sent: 0, failed: 0, dead: 0 };
      try {
        do {
          this.#again = false;
          const report = await this.#drainOnce();
          total.sent += report.sent;
          total.failed += report.failed;
          total.dead += report.dead;
        } while (this.#again);
        return total;
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  /** Number of recorded events not yet handed to delivery, dead letters excluded (health checks). */
  async pending(): Promise<number> {
    if (!this.#deps) return 0;
    return (await summarizeOutbox(this.#deps.db)).pending;
  }

  async #drainOnce(): Promise<DrainReport> {
    const report: DrainReport = { sent: 0, failed: 0, dead: 0 };
    const federation = this.#federation;
    const deps = this.#deps;
    if (!federation || !deps) return report;
    const ctx = federation.createContext(deps.config.publicUrl, deps);
    // Only events due when this round began: one that just failed waits for its next attempt.
    const now = deps.clock.now();
    for (;;) {
      const claimer = `${this.#processId}:${randomUUID().slice(0, 8)}`;
      const rows = await claimDueOutboxEvents(deps.db, { now, limit: BATCH, leaseSeconds: deps.config.queue.leaseSeconds, claimer });
      if (rows.length === 0) return report;
      if (deps.config.testFaults.includes("kill-after-outbox-claim")) process.kill(process.pid, "SIGKILL");
      const leaseSeconds = deps.config.queue.leaseSeconds;
      // Keep the claim alive while the batch runs (renewed every third of the lease).
      const heartbeat = setInterval(() => {
        renewOutboxClaim(deps.db, claimer, leaseSeconds).catch((error: unknown) =>
          deps.log.warn("Could not renew the outbox claim", { error: describe(error) }),
        );
      }, (leaseSeconds * 1000) / 3);
      heartbeat.unref();
      try {
        // One claim holds events of distinct keys only, so they may leave in any order.
        for (const row of rows) {
          // Still ours? (A process stalled past its lease must not hand over what another took.)
          if ((await renewOutboxClaim(deps.db, claimer, leaseSeconds, row.id)).length === 0) {
            deps.log.warn("Lost the claim on an outbound event before handing it over; another process has it", { id: row.id });
            continue;
          }
          report[await this.#publish(ctx, deps, row, claimer)]++;
        }
      } finally {
        clearInterval(heartbeat);
      }
    }
  }

  async #publish(ctx: Context<ServiceDeps>, deps: ServiceDeps, row: OutboxEventRow, claimer: string): Promise<keyof DrainReport> {
    const event = row.payload as unknown as OutboundEvent;
    try {
      const publisher = PUBLISHERS[event.kind] as Publisher<OutboundEvent> | undefined;
      if (!publisher) throw new Error(`No publisher for outbound events of kind ${event.kind}`);
      const result = await withTimeout(publisher({ ctx, deps, eventId: row.id, orderingKey: row.ordering_key }, event));
      const note = "dropped" in result ? `dropped: ${result.dropped}` : null;
      if (note) deps.log.warn("Dropped an outbound event with nothing left to send", { id: row.id, kind: event.kind, reason: note });
      if (!(await markOutboxEventSent(deps.db, row.id, claimer, deps.clock.now(), note))) {
        deps.log.warn("Handed an outbound event over after its claim had expired; it may be sent twice (same activity id)", { id: row.id });
      }
      return "sent";
    } catch (error) {
      const now = deps.clock.now();
      const giveUp = giveUpMs(deps.config);
      const since = new Date(row.retried_at ?? row.created_at).getTime();
      const dead = now.getTime() - since >= giveUp;
      const nextAttemptAt = new Date(now.getTime() + retryDelayMs(row.attempts, giveUp));
      const message = describe(error);
      try {
        await recordOutboxFailure(deps.db, row.id, claimer, { error: message, nextAttemptAt, deadAt: dead ? now : null });
      } catch (recordError) {
        deps.log.warn("Could not record an outbound event's failure; it is retried once its claim expires", { id: row.id, error: describe(recordError) });
      }
      if (dead) {
        deps.log.error("Gave up on an outbound event: it is a dead letter now (hyphae outbox list --failed; hyphae outbox retry)", {
          id: row.id,
          kind: event.kind,
          attempts: row.attempts,
          error: message,
        });
        return "dead";
      }
      deps.log.warn("Could not hand an outbound event to delivery; it will be retried", {
        id: row.id,
        kind: event.kind,
        attempts: row.attempts,
        nextAttemptAt: nextAttemptAt.toISOString(),
        error: message,
      });
      return "failed";
    }
  }
}

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeoutError()), PUBLISH_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
