/**
 * What an operator sees of the outbox and can do about it: pending events and dead
 * letters (`hyphae outbox list [--failed]`, /healthz) and bringing dead letters back
 * (`hyphae outbox retry <id>|--all`). Delivery itself is `federation/publish.ts`.
 */
import { invalid, notFound, conflict } from "../domain/errors.ts";
import * as outbox from "../db/repos/outbox.ts";
import type { ServiceDeps } from "./ports.ts";

export interface OutboxEventView {
  id: string;
  kind: string;
  pod: string;
  /** The remote actor it is addressed to, or "followers". */
  to: string;
  state: "pending" | "dead";
  createdAt: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  deadAt: string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function view(row: outbox.OutboxListEntry): OutboxEventView {
  const payload = row.payload as { actorIri?: unknown };
  return {
    id: row.id,
    kind: row.kind,
    pod: row.pod_slug,
    to: typeof payload.actorIri === "string" ? payload.actorIri : "followers",
    state: row.dead_at ? "dead" : "pending",
    createdAt: iso(row.created_at)!,
    attempts: row.attempts,
    nextAttemptAt: row.dead_at ? null : iso(row.next_attempt_at),
    lastError: row.last_error,
    deadAt: iso(row.dead_at),
  };
}

export async function listOutboxEvents(deps: ServiceDeps, options: { failed?: boolean; limit?: number } = {}): Promise<OutboxEventView[]> {
  const rows = await outbox.listOutboxEvents(deps.db, options.failed ? "failed" : "pending", options.limit ?? 100);
  return rows.map(view);
}

/**
 * Brings dead letters back for another round of attempts (counted afresh, with a new
 * give-up age), then flushes. One id, or every dead letter.
 */
export async function retryOutboxEvents(deps: ServiceDeps, target: { id: string } | { all: true }): Promise<{ retried: string[] }> {
  let ids: string[] | null = null;
  if ("id" in target) {
    if (!/^\d{1,18}$/.test(target.id)) throw invalid("INVALID_OUTBOX_EVENT_ID", `Outbox event ids are whole numbers; got ${JSON.stringify(target.id)}`);
    const row = await outbox.getOutboxEvent(deps.db, target.id);
    if (!row) throw notFound("OUTBOX_EVENT_NOT_FOUND", `No outbox event ${target.id}`);
    if (row.sent_at) throw conflict("OUTBOX_EVENT_SENT", `Outbox event ${target.id} was already handed to delivery`);
    if (!row.dead_at) throw conflict("OUTBOX_EVENT_NOT_DEAD", `Outbox event ${target.id} is still being tried; only dead letters can be retried`);
    ids = [target.id];
  }
  const retried = await outbox.reviveDeadOutboxEvents(deps.db, ids, deps.clock.now());
  if (retried.length > 0) {
    deps.log.info("Outbox dead letters retried", { ids: retried });
    await deps.outbox.flush();
  }
  return { retried };
}

export interface OutboxHealth {
  /** Events waiting to be handed to delivery (retrying ones included). */
  pending: number;
  /** Dead letters waiting for an operator. */
  dead: number;
  oldestPendingSeconds: number | null;
  oldestDeadSeconds: number | null;
}

export async function outboxHealth(deps: ServiceDeps): Promise<OutboxHealth> {
  const s = await outbox.summarizeOutbox(deps.db);
  const now = deps.clock.now().getTime();
  const age = (d: Date | null) => (d === null ? null : Math.max(0, Math.round((now - d.getTime()) / 1000)));
  return { pending: s.pending, dead: s.dead, oldestPendingSeconds: age(s.oldestPendingAt), oldestDeadSeconds: age(s.oldestDeadAt) };
}
