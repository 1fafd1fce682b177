/**
 * Periodic jobs a worker runs: flush the transactional outbox (catches events whose
 * process stopped between commit and send), sweep expired key-value entries, and forget
 * inbox activity records older than 30 days and idempotency keys older than a day, and
 * publish the summaries of the open books' periods that have ended.
 */
import type { AppContext } from "../wiring.ts";
import { sweepIdempotencyKeys } from "../services/idempotency.ts";
import { sweepInboxActivities } from "../services/inbox.ts";
import { closeDuePeriods } from "../services/summaries.ts";
import { expireProposals } from "../services/proposals.ts";

export interface Scheduler {
  stop(): Promise<void>;
}

export function startScheduler(ctx: AppContext): Scheduler {
  const running = new Set<Promise<unknown>>();
  const every = (ms: number, name: string, job: () => Promise<unknown>) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const p = job()
        .catch((error) => ctx.deps.log.error(`Job ${name} failed`, { error: String(error) }))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    }, ms);
    timer.unref();
    return timer;
  };
  const timers = [
    every(ctx.config.queue.pollSeconds * 1000, "outbox-flush", () => ctx.outbox.flush()),
    every(10 * 60 * 1000, "kv-sweep", () => ctx.kv.sweepExpired()),
    every(60 * 60 * 1000, "inbox-sweep", () => sweepInboxActivities(ctx.deps)),
    every(60 * 60 * 1000, "idempotency-sweep", () => sweepIdempotencyKeys(ctx.deps)),
    // Publishes each pod's ended periods once (safe with several workers).
    every(60 * 1000, "close-periods", () => closeDuePeriods(ctx.deps)),
    // Offers and needs past their expiry: withdrawn and federated as such (once each).
    every(60 * 1000, "expire-proposals", () => expireProposals(ctx.deps)),
  ];
  return {
    async stop() {
      timers.forEach(clearInterval);
      await Promise.allSettled([...running]);
    },
  };
}
