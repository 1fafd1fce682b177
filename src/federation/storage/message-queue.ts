/**
 * Fedify's message queue on our own database (table `fedify_queue`), at-least-once.
 *
 * A message stays in the table until its handler has succeeded. A worker claims due
 * rows by giving them a lease (`lease_until`, `leased_by`, `attempts + 1`), renews
 * the lease while the handler runs (heartbeat), and deletes the row afterwards. If
 * the worker dies, the lease runs out and any worker claims the row again.
 *
 * - Wake-ups: NOTIFY on `hyphae_queue` after every enqueue (payload = delay in ms),
 *   a poll every `pollSeconds` as fallback, and a timer for the earliest delayed
 *   message seen.
 * - Concurrency: up to `concurrency` handlers run at once per `listen()` call; several
 *   processes (or queue instances) may listen on the same table — `FOR UPDATE SKIP
 *   LOCKED` plus the lease keep them from taking the same row.
 * - Ordering keys: a keyed row is claimable only when no older row (smaller id) with
 *   the same key is left in the table, leased or not, so rows of one key run one at a
 *   time and in enqueue order. (Ids follow insertion order; Fedify enqueues one
 *   key's messages one after another, so that is also commit order.) No advisory
 *   locks, so it works on PGlite's single connection too.
 * - Fencing: every claim increments `attempts`; delete/renew/release statements match
 *   on (id, attempts), so a worker whose lease was taken over cannot touch the row.
 * - Timeouts: a handler still running after `handlerTimeoutSeconds` is given up on: the
 *   AbortSignal of its run (`currentQueueSignal()`) aborts, and from then on every
 *   database statement its code starts is refused (src/db/run-fence.ts), so it commits
 *   nothing more. Its message stays leased to this worker (the heartbeat goes on) until
 *   the handler really settles or `handlerHardCapSeconds` pass; only then is it released
 *   for a retry. So no other worker runs the message while the timed-out handler can
 *   still write, and its slot is free for other messages meanwhile.
 * - Retries and dead letters: `nativeRetrial = false`, Fedify re-enqueues failed work
 *   itself. A handler that still throws or times out gets its row released with a short
 *   backoff and its error kept in `last_error`. A claim beyond `maxAttempts` (a claim
 *   after a crash counts too) moves the row to `fedify_queue_dead` instead, in one
 *   fenced statement; `hyphae queue retry` moves it back.
 * - Restart: on the embedded database this process is the only one on the data
 *   directory, so the first listen() releases every lease a previous run left behind.
 *   On PostgreSQL other live workers may hold leases; those run out by themselves.
 * - Shutdown: after the signal aborts no more rows are claimed; running handlers get
 *   `shutdownGraceSeconds` to finish; the others are aborted (fenced) and their leases
 *   released so another worker picks them up at once, then `listen()` resolves.
 */
import { randomUUID } from "node:crypto";
import type { MessageQueue, MessageQueueDepth, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { sql } from "kysely";
import type { DatabaseHandle } from "../../db/connect.ts";
import { QUEUE_CHANNEL, queueStats, type QueueStats } from "../../db/repos/queue.ts";
import { currentRunSignal, runFenced, runUnfenced } from "../../db/run-fence.ts";
import { durationToMilliseconds } from "./duration.ts";
import { settleWithin, TIMED_OUT } from "../../lib/settle.ts";

export { QueueRunAbortedError } from "../../db/run-fence.ts";
export type { QueueStats } from "../../db/repos/queue.ts";

/**
 * The AbortSignal of the queue message the caller's handler is running, if any. It aborts
 * when the handler passes its timeout or its message is handed to another worker; from
 * then on the database refuses the handler's statements (QUEUE_RUN_ABORTED), so long
 * work can check it to stop early.
 */
export const currentQueueSignal: () => AbortSignal | undefined = currentRunSignal;

export interface QueueLog {
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

export interface KyselyMessageQueueOptions {
  /** How long a claim is valid without renewal; renewed every third of it while the handler runs. */
  readonly leaseSeconds: number;
  /** Fallback poll interval (wake-ups normally come from NOTIFY). */
  readonly pollSeconds: number;
  /** Handlers run at once per `listen()` call. */
  readonly concurrency: number;
  /** Recorded in `leased_by`; random by default. */
  readonly workerId?: string;
  /** A handler running longer is given up on (aborted and fenced) and its message retried. Default 60. */
  readonly handlerTimeoutSeconds?: number;
  /**
   * How long a timed-out handler may keep its message leased while it winds down, counted
   * from its start. Default five times the timeout.
   */
  readonly handlerHardCapSeconds?: number;
  /** Claims per message before it becomes a dead letter. Default 25. */
  readonly maxAttempts?: number;
  /**
   * This process is the only one using the database (embedded PGlite): the first listen()
   * releases leases left by a previous run at once. Default: true on PGlite.
   */
  readonly exclusiveDatabase?: boolean;
  /** After the listen signal aborts, how long running handlers may still finish. Default 10. */
  readonly shutdownGraceSeconds?: number;
  /** NOTIFY channel. Default `hyphae_queue`. */
  readonly channel?: string;
  readonly log?: QueueLog;
  /**
   * Called once a message this worker ran is done with (deleted, or released for a
   * retry), with its ordering key: the outbox hands over the next event to the same actor
   * only after the previous delivery left the queue, so it flushes again at once.
   */
  readonly onSettled?: (orderingKey: string | null) => void;
}

export const DEFAULT_QUEUE_CHANNEL = QUEUE_CHANNEL;
export const DEFAULT_MAX_ATTEMPTS = 25;

/** Rows per INSERT in enqueueMany (keeps well under PostgreSQL's parameter limit). */
const INSERT_CHUNK = 1000;
/** Longest single setTimeout we arm for a delayed message; the timer re-arms after. */
const MAX_TIMER_MS = 60 * 60 * 1000;

/** Longest `last_error` kept (error messages can quote a remote server's answer). */
const MAX_ERROR_CHARS = 1000;

interface ClaimedRow {
  id: string;
  message: unknown;
  ordering_key: string | null;
  attempts: number;
  last_error: string | null;
}

/** The reclaim of leases left by a previous run, once per embedded database handle. */
const reclaims = new WeakMap<DatabaseHandle, Promise<void>>();

export class KyselyMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly workerId: string;
  readonly #handle: DatabaseHandle;
  readonly #settings: WorkerSettings;

  constructor(handle: DatabaseHandle, options: KyselyMessageQueueOptions) {
    for (const name of ["leaseSeconds", "pollSeconds"] as const) {
      if (!(options[name] > 0)) throw new RangeError(`${name} must be positive`);
    }
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError("concurrency must be a positive integer");
    }
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError("maxAttempts must be a positive integer");
    const timeoutSeconds = options.handlerTimeoutSeconds ?? 60;
    const hardCapSeconds = options.handlerHardCapSeconds ?? timeoutSeconds * 5;
    if (!(timeoutSeconds > 0)) throw new RangeError("handlerTimeoutSeconds must be positive");
    if (!(hardCapSeconds >= timeoutSeconds)) throw new RangeError("handlerHardCapSeconds must be at least handlerTimeoutSeconds");
    this.#handle = handle;
    this.workerId = options.workerId ?? `worker-${randomUUID()}`;
    this.#settings = {
      leaseSeconds: options.leaseSeconds,
      pollMs: options.pollSeconds * 1000,
      concurrency: options.concurrency,
      handlerTimeoutMs: timeoutSeconds * 1000,
      hardCapMs: hardCapSeconds * 1000,
      maxAttempts,
      exclusive: options.exclusiveDatabase ?? handle.kind === "pglite",
      graceMs: (options.shutdownGraceSeconds ?? 10) * 1000,
      channel: options.channel ?? DEFAULT_QUEUE_CHANNEL,
      workerId: this.workerId,
      log: options.log ?? getLogger(["hyphae", "queue"]),
      onSettled: options.onSettled ?? null,
    };
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    await this.enqueueMany([message], options);
  }

  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return;
    const delayMs = options?.delay == null ? 0 : durationToMilliseconds(options.delay);
    const orderingKey = options?.orderingKey ?? null;
    const rows = messages.map((message) => {
      const json = JSON.stringify(message);
      if (json === undefined) throw new TypeError(`Cannot enqueue a message of type ${typeof message}`);
      return {
        message: json,
        ordering_key: orderingKey,
        // The database clock decides when a row is due, for every worker alike.
        available_at: sql<Date>`now() + ${delayMs}::float8 * interval '1 millisecond'`,
      };
    });
    const insert = async (db: DatabaseHandle["db"]) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await db.insertInto("fedify_queue").values(rows.slice(i, i + INSERT_CHUNK)).execute();
      }
    };
    if (rows.length > INSERT_CHUNK) await this.#handle.db.transaction().execute(insert);
    else await insert(this.#handle.db);
    try {
      await this.#handle.notify(this.#settings.channel, String(Math.ceil(delayMs)));
    } catch (error) {
      // The rows are committed; listeners will find them on their next poll.
      this.#settings.log.warn("Queue NOTIFY failed; listeners will pick the message up on their next poll", { error });
    }
  }

  /**
   * Runs `handler` for queued messages until `options.signal` aborts, then shuts down
   * gracefully (see the module comment). Never rejects; database errors are logged
   * and retried.
   */
  async listen(handler: (message: any) => Promise<void> | void, options?: MessageQueueListenOptions): Promise<void> {
    const loop = new ListenLoop(this.#handle, this.#settings, handler);
    await loop.run(options?.signal);
  }

  /**
   * Fedify's depth (queued = ready + delayed, not counting leased rows) plus what an
   * operator needs to see a stuck queue: leased rows, dead letters, the oldest due age.
   */
  async getDepth(): Promise<MessageQueueDepth & QueueStats> {
    return queueStats(this.#handle.db);
  }
}

interface WorkerSettings {
  readonly leaseSeconds: number;
  readonly pollMs: number;
  readonly concurrency: number;
  readonly handlerTimeoutMs: number;
  readonly hardCapMs: number;
  readonly maxAttempts: number;
  readonly exclusive: boolean;
  readonly graceMs: number;
  readonly channel: string;
  readonly workerId: string;
  readonly log: QueueLog;
  readonly onSettled: ((orderingKey: string | null) => void) | null;
}

interface Job {
  readonly id: string;
  /** Fencing token: the row's `attempts` after our claim. */
  readonly attempts: number;
  /** Aborts the handler's run: its database statements are refused from then on. */
  readonly controller: AbortController;
  /** performance.now() until which our lease surely holds (claim or last renewal sent + lease). */
  leaseValidUntil: number;
  /** Past its timeout: no longer counts against concurrency, still holds its lease. */
  timedOut: boolean;
  /** The handler has settled, or was given up on at the hard cap. */
  handlerDone: boolean;
  /** Shutdown released the lease while the handler was still running. */
  abandoned: boolean;
  /** Resolves once the row has been deleted or released (never rejects). */
  settled: Promise<void>;
}

class HandlerTimeoutError extends Error {
  constructor(ms: number) {
    super(`Queue handler did not finish within ${ms} ms`);
    this.name = "HandlerTimeoutError";
  }
}

class LeaseLostError extends Error {
  constructor() {
    super("The queue lease of this message could not be renewed in time; another worker may run it");
    this.name = "LeaseLostError";
  }
}

class ShutdownError extends Error {
  constructor() {
    super("The worker shut down while this handler was running; its message went to another worker");
    this.name = "ShutdownError";
  }
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

/** One `listen()` call: its wake-up sources, in-flight handlers and shutdown. */
class ListenLoop {
  readonly #handle: DatabaseHandle;
  readonly #s: WorkerSettings;
  readonly #handler: (message: any) => Promise<void> | void;
  /** Every claim this loop holds: running handlers and timed-out ones winding down. */
  readonly #jobs = new Map<string, Job>();
  #stopping = false;
  /** The running claim round, if any; rounds never overlap. */
  #pumping: Promise<void> | null = null;
  #pumpAgain = false;
  /** The next round should also look up when the next delayed message is due. */
  #lookAhead = false;
  #dueTimer: NodeJS.Timeout | null = null;
  #dueAt = Infinity;
  #unlisten: (() => Promise<void>) | null = null;
  #renewing = false;
  #subscribing = false;

  constructor(handle: DatabaseHandle, settings: WorkerSettings, handler: (message: any) => Promise<void> | void) {
    this.#handle = handle;
    this.#s = settings;
    this.#handler = handler;
  }

  run(signal: AbortSignal | undefined): Promise<void> {
    // The loop's own statements never belong to a handler's fenced run, even when
    // listen() is called from inside one.
    return runUnfenced(() => this.#run(signal));
  }

  async #run(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return;
    const aborted = new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
    const pollTimer = setInterval(() => {
      if (this.#unlisten === null && !this.#subscribing) void this.#subscribe();
      this.#wake(true);
    }, this.#s.pollMs);
    const heartbeat = setInterval(() => void this.#renewLeases(), (this.#s.leaseSeconds * 1000) / 3);
    try {
      await this.#reclaimPreviousRun();
      await this.#subscribe();
      this.#wake(true);
      await aborted;
      await this.#shutdown(pollTimer);
    } catch (error) {
      // Nothing above should throw; listen() must not reject regardless.
      this.#s.log.error("Queue listener failed", { error });
    } finally {
      clearInterval(pollTimer);
      clearInterval(heartbeat);
      this.#clearDueTimer();
    }
  }

  /**
   * On a database only this process uses, a lease present before our first claim was left
   * by a previous run that stopped (crash, kill -9): release it now rather than waiting
   * for it to run out. Once per handle; every listen() on it waits for it before claiming.
   */
  async #reclaimPreviousRun(): Promise<void> {
    if (!this.#s.exclusive) return;
    let reclaim = reclaims.get(this.#handle);
    if (!reclaim) {
      reclaim = (async () => {
        try {
          const { rows } = await sql<{ id: string }>`
            update fedify_queue
               set lease_until = null, leased_by = null,
                   last_error = 'the previous run (' || coalesce(leased_by, '?') || ') stopped while handling it'
             where lease_until is not null
            returning id`.execute(this.#handle.db);
          if (rows.length > 0) {
            this.#s.log.warn("Released queue messages left leased by the previous run; they run again now", {
              messageIds: rows.map((r) => String(r.id)),
            });
          }
        } catch (error) {
          this.#s.log.warn("Could not release the previous run's queue leases; they will run once their leases expire", { error });
        }
      })();
      reclaims.set(this.#handle, reclaim);
    }
    await reclaim;
  }

  async #subscribe(): Promise<void> {
    if (this.#stopping) return;
    this.#subscribing = true;
    try {
      const unlisten = await this.#handle.listen(this.#s.channel, (payload) => this.#onNotify(payload), {
        // Notifications sent while the listener was reconnecting were lost: look now.
        onReconnect: () => this.#wake(true),
      });
      if (this.#stopping) await unlisten();
      else this.#unlisten = unlisten;
    } catch (error) {
      this.#s.log.warn("Queue LISTEN failed; relying on polling until it succeeds", { error });
    } finally {
      this.#subscribing = false;
    }
  }

  #onNotify(payload: string): void {
    const delayMs = Number(payload);
    if (Number.isFinite(delayMs) && delayMs > 0) this.#armDueTimer(delayMs + 10);
    else this.#wake(false);
  }

  /** Starts a claim round, or asks the running one to go again. */
  #wake(lookAhead: boolean): void {
    if (this.#stopping) return;
    if (lookAhead) this.#lookAhead = true;
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = null;
    });
  }

  /** Handlers counting against `concurrency` (timed-out ones wind down outside it). */
  #active(): number {
    let n = 0;
    for (const job of this.#jobs.values()) if (!job.timedOut) n++;
    return n;
  }

  async #pump(): Promise<void> {
    do {
      this.#pumpAgain = false;
      const lookAhead = this.#lookAhead;
      this.#lookAhead = false;
      try {
        let drained = false;
        while (!this.#stopping && this.#active() < this.#s.concurrency) {
          const want = this.#s.concurrency - this.#active();
          const claimedAt = performance.now();
          const rows = await this.#claim(want);
          if (this.#stopping) {
            await this.#release(rows.map((r) => ({ id: r.id, attempts: r.attempts })));
            return;
          }
          for (const row of rows) {
            if (row.attempts > this.#s.maxAttempts) await this.#deadLetter(row.id, row.attempts, row.last_error ?? "claimed too often");
            else this.#start(row, claimedAt);
          }
          if (rows.length < want) {
            drained = true;
            break;
          }
        }
        if (!drained) {
          // All slots busy: keep the look-ahead for the round a finishing handler starts.
          if (lookAhead) this.#lookAhead = true;
        } else if (lookAhead) {
          await this.#armForNextDelayed();
        }
      } catch (error) {
        // E.g. the database is briefly unreachable: the next poll tries again.
        this.#s.log.warn("Queue poll failed; retrying on the next poll", { error });
      }
    } while (this.#pumpAgain && !this.#stopping);
  }

  /**
   * Leases up to `limit` due rows to this worker. Due = available, not leased (or
   * lease expired), not held here already, and — for a keyed row — no older row
   * with the same key left. SKIP LOCKED lets concurrent claimers pass each other; a
   * claimer that meets a row just leased by another re-checks it against the new
   * lease and leaves it. Taking over an expired lease records why in `last_error`.
   */
  async #claim(limit: number): Promise<ClaimedRow[]> {
    const held = `[${[...this.#jobs.keys()].join(",")}]`;
    const { rows } = await sql<ClaimedRow>`
      with candidates as materialized (
        select c.id
          from fedify_queue c
         where c.available_at <= now()
           and (c.lease_until is null or c.lease_until < now())
           and c.id not in (select value::bigint from jsonb_array_elements_text(${held}::jsonb))
           and (c.ordering_key is null or not exists (
                 select 1 from fedify_queue older
                  where older.ordering_key = c.ordering_key and older.id < c.id))
         order by c.available_at, c.id
         limit ${limit}
           for update skip locked
      )
      update fedify_queue q
         set lease_until = now() + ${this.#s.leaseSeconds}::float8 * interval '1 second',
             leased_by = ${this.#s.workerId},
             attempts = q.attempts + 1,
             last_error = case when q.lease_until is not null
                               then 'the lease of ' || coalesce(q.leased_by, '?') || ' ran out before it finished (its worker stopped or stalled)'
                               else q.last_error end
        from candidates
       where q.id = candidates.id
      returning q.id, q.message, q.ordering_key, q.attempts, q.last_error`.execute(this.#handle.db);
    return rows;
  }

  /**
   * Moves a message we hold to the dead letters, fenced on (id, attempts): one statement,
   * so it is either still queued or dead, never both or neither.
   */
  async #deadLetter(id: string, attempts: number, lastError: string): Promise<void> {
    try {
      const { rows } = await sql<{ id: string }>`
        with moved as (
          delete from fedify_queue where id = ${id} and attempts = ${attempts}
          returning id, message, ordering_key, attempts, created_at
        )
        insert into fedify_queue_dead (id, message, ordering_key, attempts, last_error, created_at)
        select id, message, ordering_key, attempts, ${lastError}, created_at from moved
        returning id`.execute(this.#handle.db);
      if (rows.length > 0) {
        this.#s.log.error("Queue message given up on after too many attempts; it is now a dead letter (hyphae queue list --dead)", {
          messageId: id,
          attempts,
          lastError,
        });
      }
    } catch (error) {
      // It stays leased; the next claim after the lease runs out tries again.
      this.#s.log.warn("Could not move a queue message to the dead letters; will try again after its lease", { error, messageId: id });
    }
  }

  /** Arms the due timer for the earliest delayed row in the table, if any. */
  async #armForNextDelayed(): Promise<void> {
    const { rows } = await sql<{ ms: number | null }>`
      select (extract(epoch from min(available_at) - now()) * 1000)::float8 as ms
        from fedify_queue
       where available_at > now()`.execute(this.#handle.db);
    const ms = rows[0]?.ms;
    if (ms != null) this.#armDueTimer(Math.max(0, ms) + 10);
  }

  #armDueTimer(ms: number): void {
    if (this.#stopping) return;
    const at = Date.now() + ms;
    if (this.#dueTimer !== null && this.#dueAt <= at) return;
    this.#clearDueTimer();
    this.#dueAt = at;
    this.#dueTimer = setTimeout(() => {
      this.#dueTimer = null;
      this.#dueAt = Infinity;
      // Look ahead again: covers early firing and timers capped at MAX_TIMER_MS.
      this.#wake(true);
    }, Math.min(ms, MAX_TIMER_MS));
  }

  #clearDueTimer(): void {
    if (this.#dueTimer !== null) clearTimeout(this.#dueTimer);
    this.#dueTimer = null;
    this.#dueAt = Infinity;
  }

  #start(row: ClaimedRow, claimedAt: number): void {
    const job: Job = {
      id: row.id,
      attempts: row.attempts,
      controller: new AbortController(),
      leaseValidUntil: claimedAt + this.#s.leaseSeconds * 1000,
      timedOut: false,
      handlerDone: false,
      abandoned: false,
      settled: Promise.resolve(),
    };
    this.#jobs.set(job.id, job);
    job.settled = this.#runJob(job, row.message).finally(() => {
      if (this.#jobs.get(job.id) === job) this.#jobs.delete(job.id);
      // A slot is free, and a successor with the same ordering key may now be due.
      this.#wake(false);
      try {
        this.#s.onSettled?.(row.ordering_key);
      } catch (error) {
        this.#s.log.warn("Queue onSettled callback failed", { error: errorText(error) });
      }
    });
  }

  async #runJob(job: Job, message: unknown): Promise<void> {
    const startedAt = performance.now();
    // The handler runs fenced: once job.controller aborts, its statements are refused.
    const outcome: Promise<{ error: unknown } | null> = runFenced(job.controller.signal, async () => this.#handler(message)).then(
      () => null,
      (error: unknown) => ({ error: error ?? new Error("Queue handler threw a nullish value") }),
    );
    let failure: unknown = null;
    const first = await settleWithin(outcome, this.#s.handlerTimeoutMs);
    if (first === TIMED_OUT) {
      failure = new HandlerTimeoutError(this.#s.handlerTimeoutMs);
      job.timedOut = true;
      job.controller.abort(failure);
      this.#s.log.warn("Queue handler passed its timeout; its database writes are refused from now on and its message stays leased until it stops", {
        messageId: job.id,
        attempts: job.attempts,
        timeoutMs: this.#s.handlerTimeoutMs,
      });
      // Its slot is free for other messages.
      this.#wake(false);
      const late = await settleWithin(outcome, Math.max(0, this.#s.hardCapMs - (performance.now() - startedAt)));
      if (late === TIMED_OUT) {
        this.#s.log.error("Queue handler still running at its hard cap; releasing its message for a retry (the handler can no longer write to the database)", {
          messageId: job.id,
          hardCapMs: this.#s.hardCapMs,
        });
      }
    } else if (first !== null) {
      failure = first.error;
    }
    job.handlerDone = true;
    // Shutdown already handed the row to other workers.
    if (job.abandoned) return;
    try {
      if (failure === null && job.controller.signal.aborted) failure = job.controller.signal.reason;
      if (failure === null) {
        await sql`delete from fedify_queue where id = ${job.id} and attempts = ${job.attempts}`.execute(this.#handle.db);
        return;
      }
      if (job.attempts >= this.#s.maxAttempts) {
        await this.#deadLetter(job.id, job.attempts, errorText(failure));
        return;
      }
      // Unusual: Fedify catches handler errors and re-enqueues on its own.
      const backoffSeconds = Math.min(60, 2 ** Math.min(job.attempts - 1, 6));
      this.#s.log.error("Queue handler failed; the message will be retried", {
        error: failure,
        messageId: job.id,
        attempts: job.attempts,
        retryInSeconds: backoffSeconds,
      });
      await sql`
        update fedify_queue
           set lease_until = null, leased_by = null, last_error = ${errorText(failure)},
               available_at = now() + ${backoffSeconds}::float8 * interval '1 second'
         where id = ${job.id} and attempts = ${job.attempts}`.execute(this.#handle.db);
      this.#armDueTimer(backoffSeconds * 1000 + 10);
    } catch (error) {
      // The lease will expire and the message will run again (at-least-once).
      this.#s.log.warn("Could not record the outcome of a queue message; it will be redelivered after its lease", {
        error,
        messageId: job.id,
      });
    }
  }

  /**
   * Extends the leases of handlers still running (heartbeat). A handler whose lease
   * we lost, or could not renew before it ran out, is aborted: another worker may run
   * its message now, so its database writes must stop.
   */
  async #renewLeases(): Promise<void> {
    const jobs = [...this.#jobs.values()].filter((j) => !j.handlerDone && !j.abandoned);
    for (const job of jobs) if (performance.now() > job.leaseValidUntil) this.#loseLease(job);
    if (jobs.length === 0 || this.#renewing) return;
    this.#renewing = true;
    const sentAt = performance.now();
    try {
      const { rows } = await sql<{ id: string }>`
        update fedify_queue q
           set lease_until = now() + ${this.#s.leaseSeconds}::float8 * interval '1 second'
          from jsonb_to_recordset(${fenceJson(jobs)}::jsonb) as mine(id bigint, attempts integer)
         where q.id = mine.id and q.attempts = mine.attempts
        returning q.id`.execute(this.#handle.db);
      const renewed = new Set(rows.map((r) => String(r.id)));
      const lost: string[] = [];
      for (const job of jobs) {
        if (renewed.has(job.id)) job.leaseValidUntil = sentAt + this.#s.leaseSeconds * 1000;
        else if (!job.handlerDone) {
          lost.push(job.id);
          this.#loseLease(job);
        }
      }
      if (lost.length > 0) {
        this.#s.log.warn("Lost the lease of running queue messages; another worker may run them again", { messageIds: lost });
      }
    } catch (error) {
      this.#s.log.warn("Could not renew queue leases", { error });
    } finally {
      this.#renewing = false;
    }
  }

  #loseLease(job: Job): void {
    if (!job.controller.signal.aborted) job.controller.abort(new LeaseLostError());
  }

  /** Clears the leases of the given claims so any worker can take them at once. */
  async #release(claims: readonly { id: string; attempts: number }[]): Promise<void> {
    if (claims.length === 0) return;
    await sql`
      update fedify_queue q
         set lease_until = null, leased_by = null
        from jsonb_to_recordset(${fenceJson(claims)}::jsonb) as mine(id bigint, attempts integer)
       where q.id = mine.id and q.attempts = mine.attempts`.execute(this.#handle.db);
  }

  async #shutdown(pollTimer: NodeJS.Timeout): Promise<void> {
    this.#stopping = true;
    clearInterval(pollTimer);
    this.#clearDueTimer();
    const unlisten = this.#unlisten;
    this.#unlisten = null;
    await unlisten?.().catch((error: unknown) => this.#s.log.warn("Queue UNLISTEN failed", { error }));

    // Let the current claim round and the running handlers finish, for a while.
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, this.#s.graceMs);
    });
    const pending = [this.#pumping, ...[...this.#jobs.values()].map((j) => j.settled)];
    await Promise.race([Promise.allSettled(pending), grace]);
    clearTimeout(graceTimer);

    const jobs = [...this.#jobs.values()];
    const unfinished = jobs.filter((j) => !j.handlerDone);
    // Handlers that are done are only recording their outcome (one statement): wait for that.
    const recording = jobs.filter((j) => j.handlerDone).map((j) => j.settled);
    if (unfinished.length === 0) {
      await Promise.allSettled(recording);
      return;
    }
    for (const job of unfinished) {
      job.abandoned = true;
      // Fence first: once released, another worker may run the message.
      if (!job.controller.signal.aborted) job.controller.abort(new ShutdownError());
      this.#jobs.delete(job.id);
    }
    this.#s.log.warn("Queue handlers still running at shutdown; releasing their messages to other workers", {
      messageIds: unfinished.map((j) => j.id),
    });
    try {
      await this.#release(unfinished);
    } catch (error) {
      this.#s.log.warn("Could not release queue leases at shutdown; they will expire", { error });
    }
    await Promise.allSettled(recording);
  }
}

/** (id, attempts) pairs as a JSON array for `jsonb_to_recordset`; ids are digit strings. */
function fenceJson(claims: readonly { id: string; attempts: number }[]): string {
  return `[${claims.map((c) => `{"id":${c.id},"attempts":${c.attempts}}`).join(",")}]`;
}
