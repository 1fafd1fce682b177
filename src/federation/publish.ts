/**
 * The transactional outbox. Services `record` outbound events in the same transaction
 * as the change that caused them; after commit, `flush` turns each event into an
 * activity and hands it to Fedify, which signs it and enqueues the delivery. A worker
 * also flushes periodically, so an event whose process died right after commit still
 * goes out. Delivery is at-least-once: activity ids are derived from the event id, so a
 * repeated send carries the same id and receivers drop the duplicate.
 */
import type { Context } from "@fedify/fedify";
import type { Transaction } from "kysely";
import { Accept, Follow, Reject, Undo, type Activity } from "@fedify/vocab";
import type { Database } from "../db/schema.ts";
import { getPodById } from "../db/repos/pods.ts";
import { getRemoteActor } from "../db/repos/follows.ts";
import type { OutboundEvent, Outbox, ServiceDeps } from "../services/ports.ts";
import type { HyphaeFederation } from "./federation.ts";
import { charterEventToActivity } from "./charter.ts";
import { podActivityUrl } from "./uris.ts";

const BATCH = 50;

export class FederationOutbox implements Outbox {
  #federation: HyphaeFederation | null = null;
  #deps: ServiceDeps | null = null;
  #running: Promise<void> | null = null;
  #again = false;

  /** Wiring calls this once the federation and the dependency bundle exist. */
  attach(federation: HyphaeFederation, deps: ServiceDeps): void {
    this.#federation = federation;
    this.#deps = deps;
  }

  async record(trx: Transaction<Database>, event: OutboundEvent): Promise<void> {
    await trx.insertInto("outbox_events").values({ pod_id: event.podId, kind: event.kind, payload: JSON.stringify(event) }).execute();
  }

  /** Sends every unsent event. Concurrent calls in one process share one drain loop. */
  flush(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#drain();
        } while (this.#again);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  /** Number of recorded events not yet handed to delivery (for health checks). */
  async pending(): Promise<number> {
    if (!this.#deps) return 0;
    const row = await this.#deps.db
      .selectFrom("outbox_events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("sent_at", "is", null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async #drain(): Promise<void> {
    const federation = this.#federation;
    const deps = this.#deps;
    if (!federation || !deps) return;
    const ctx = federation.createContext(deps.config.publicUrl, deps);
    for (;;) {
      const rows = await deps.db
        .selectFrom("outbox_events")
        .select(["id", "payload"])
        .where("sent_at", "is", null)
        .orderBy("id")
        .limit(BATCH)
        .execute();
      if (rows.length === 0) return;
      for (const row of rows) {
        const event = row.payload as unknown as OutboundEvent;
        try {
          await this.#send(ctx, deps, row.id, event);
        } catch (error) {
          // Leave it unsent; the next flush (or the worker's periodic flush) retries.
          deps.log.error("Could not hand an outbound event to delivery", { id: row.id, kind: event.kind, error: String(error) });
          return;
        }
        await deps.db.updateTable("outbox_events").set({ sent_at: deps.clock.now() }).where("id", "=", row.id).execute();
      }
    }
  }

  async #send(
    ctx: Context<ServiceDeps>,
    deps: ServiceDeps,
    eventId: string,
    event: OutboundEvent,
  ): Promise<void> {
    if (event.kind === "charter_published") {
      // Public post: to every follower, one delivery per shared inbox.
      const built = await charterEventToActivity(ctx, event.podId, event.charterEventId);
      if (!built) {
        deps.log.warn("Dropped a charter event that no longer resolves", { id: eventId });
        return;
      }
      await ctx.sendActivity({ identifier: built.slug }, "followers", built.activity, { preferSharedInbox: true });
      return;
    }
    const pod = await getPodById(deps.db, event.podId);
    const remote = await getRemoteActor(deps.db, event.actorIri);
    if (!pod || !remote) {
      deps.log.warn("Dropped an outbound event whose pod or remote actor is gone", { id: eventId, kind: event.kind });
      return;
    }
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
    // Follow-related activities go to the personal inbox, as Mastodon expects.
    await ctx.sendActivity(
      { identifier: pod.slug },
      { id: them, inboxId: new URL(remote.inbox), endpoints: remote.shared_inbox ? { sharedInbox: new URL(remote.shared_inbox) } : null },
      activity,
      { preferSharedInbox: false },
    );
  }
}
