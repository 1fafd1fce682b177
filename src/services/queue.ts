/**
 * The federation queue as operators see it: counts for `hyphae status`, listings of
 * waiting messages and dead letters, and re-enqueueing dead letters.
 */
import { invalid, notFound } from "../domain/errors.ts";
import * as queue from "../db/repos/queue.ts";
import type { ServiceDeps } from "./ports.ts";

export type { QueueStats } from "../db/repos/queue.ts";

export interface NodeStatus {
  database: "postgres" | "pglite";
  role: string;
  queue: queue.QueueStats;
}

export async function nodeStatus(deps: ServiceDeps): Promise<NodeStatus> {
  return {
    database: deps.config.databaseUrl ? "postgres" : "pglite",
    role: deps.config.role,
    queue: await queue.queueStats(deps.db),
  };
}

export function listQueue(deps: ServiceDeps, limit: number): Promise<queue.QueuedMessage[]> {
  return queue.listQueuedMessages(deps.db, limit);
}

export function listDeadLetters(deps: ServiceDeps, limit: number): Promise<queue.DeadLetter[]> {
  return queue.listDeadLetters(deps.db, limit);
}

/** Re-enqueues one dead letter (by id) or all of them; the message runs again with a fresh attempt count. */
export async function retryDeadLetters(deps: ServiceDeps, target: { id?: string; all?: boolean }): Promise<{ retried: queue.RetriedDeadLetter[] }> {
  if (target.all === true && target.id === undefined) return { retried: await queue.retryDeadLetters(deps.db, "all") };
  if (target.id === undefined || target.all === true) throw invalid("QUEUE_RETRY_TARGET", "Give one dead letter id, or --all");
  if (!/^\d{1,18}$/.test(target.id)) throw invalid("QUEUE_DEAD_LETTER_ID", `Not a dead letter id: ${target.id}`);
  const retried = await queue.retryDeadLetters(deps.db, [target.id]);
  if (retried.length === 0) throw notFound("QUEUE_DEAD_LETTER_NOT_FOUND", `No dead letter ${target.id} (see hyphae queue list --dead)`);
  return { retried };
}
