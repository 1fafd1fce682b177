/**
 * Idempotency keys for steward writes (the `Idempotency-Key` header of the API).
 *
 * The HTTP layer runs a request inside `withIdempotencyKey`; the first write transaction
 * the request's service opens through `writeOnce` stores its result under the key **in
 * the same transaction** as its effect. A retry with the same key — after a timeout, a
 * connection error or a node killed right after commit — finds that result and returns
 * it without applying the write again; two copies racing meet the primary key and the
 * loser returns the winner's result. Reusing a key for a different request is refused.
 * Keys are kept for a day.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { getIdempotencyRecord, insertIdempotencyRecord, deleteIdempotencyRecordsBefore, type IdempotencyRecord } from "../db/repos/idempotency.ts";
import { unprocessable } from "../domain/errors.ts";
import type { ServiceDeps } from "./ports.ts";

export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export interface IdempotencyClaim {
  /** Whose results these are (e.g. the pod a token acts for): keys never cross scopes. */
  readonly scope: string;
  readonly key: string;
  /** A digest of what was asked (method, route, body). */
  readonly fingerprint: string;
}

interface ActiveClaim extends IdempotencyClaim {
  used: boolean;
  replayed: boolean;
}

const active = new AsyncLocalStorage<ActiveClaim>();

/** Runs `fn` (one request) under an idempotency key; `replayed` tells whether its write was answered from a stored result. */
export async function withIdempotencyKey<T>(claim: IdempotencyClaim, fn: () => Promise<T>): Promise<{ value: T; replayed: boolean }> {
  const state: ActiveClaim = { ...claim, used: false, replayed: false };
  const value = await active.run(state, fn);
  return { value, replayed: state.replayed };
}

/**
 * A service's write transaction. Under an idempotency key (the first call of a request),
 * it runs at most once per key; otherwise it is a plain transaction.
 */
export async function writeOnce<T>(deps: ServiceDeps, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const claim = active.getStore();
  if (!claim || claim.used) return deps.db.transaction().execute(work);
  claim.used = true;
  const now = deps.clock.now();
  const notBefore = new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS);
  const earlier = await getIdempotencyRecord(deps.db, claim.scope, claim.key, notBefore);
  if (earlier) return replay<T>(claim, earlier);
  let value: T;
  try {
    value = await deps.db.transaction().execute(async (trx) => {
      const result = await work(trx);
      await insertIdempotencyRecord(trx, { scope: claim.scope, key: claim.key, fingerprint: claim.fingerprint, result: encode(result), createdAt: now });
      return result;
    });
  } catch (error) {
    // Another copy of this request committed first.
    if ((error as { code?: string }).code === "23505") {
      const winner = await getIdempotencyRecord(deps.db, claim.scope, claim.key, notBefore);
      if (winner) return replay<T>(claim, winner);
    }
    throw error;
  }
  // Tests kill the process here to prove a retry after commit applies nothing twice.
  if (deps.config.testFaults.includes("exit-after-idempotent-commit")) process.kill(process.pid, "SIGKILL");
  return value;
}

/**
 * Under an idempotency key whose write already committed (a retry): the stored result,
 * checked against this request's fingerprint, with the request marked replayed; else null.
 * For a write whose own checks would refuse a repeat before it reaches writeOnce (a CSV
 * file is refused once imported): ask this first, so a retry gets the first answer.
 */
export async function storedResult<T>(deps: ServiceDeps): Promise<{ value: T } | null> {
  const claim = active.getStore();
  if (!claim || claim.used) return null;
  const earlier = await getIdempotencyRecord(deps.db, claim.scope, claim.key, new Date(deps.clock.now().getTime() - IDEMPOTENCY_KEY_TTL_MS));
  if (!earlier) return null;
  claim.used = true;
  return { value: replay<T>(claim, earlier) };
}

function replay<T>(claim: ActiveClaim, record: IdempotencyRecord): T {
  if (record.fingerprint !== claim.fingerprint) {
    throw unprocessable("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used for a different request; use a new key for a new request");
  }
  claim.replayed = true;
  return decode(record.result) as T;
}

/** Results (also `undefined`) keep their Dates through JSON. */
function encode(value: unknown): string {
  return JSON.stringify({ value }, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : v;
  });
}

function decode(stored: unknown): unknown {
  const revived = JSON.parse(JSON.stringify(stored), (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { $date?: unknown }).$date === "string"
      ? new Date((v as { $date: string }).$date)
      : v,
  ) as { value?: unknown };
  return revived.value;
}

/** Forgets keys older than a day (run by the worker's periodic jobs). */
export async function sweepIdempotencyKeys(deps: ServiceDeps): Promise<number> {
  return deleteIdempotencyRecordsBefore(deps.db, new Date(deps.clock.now().getTime() - IDEMPOTENCY_KEY_TTL_MS));
}
