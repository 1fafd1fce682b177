/**
 * Starts and stops a node process according to its role: `web` serves HTTP and only
 * enqueues federation work, `worker` processes the queue and periodic jobs, `all` does
 * both. Used by src/main.ts and by tests that run real nodes.
 */
import type { FastifyInstance } from "fastify";
import { buildApp, type BuildAppOptions } from "./app.ts";
import type { Config } from "./config.ts";
import { startAdminSocket } from "./http/admin-socket.ts";
import { startScheduler, type Scheduler } from "./jobs/scheduler.ts";
import type { Pod } from "./domain/pods.ts";
import { ensureInitialPod } from "./services/pods.ts";
import { settleWithin, TIMED_OUT } from "./lib/settle.ts";
import { createAppContext, type AppContext, type AppContextOptions } from "./wiring.ts";

export interface RunningNode {
  readonly ctx: AppContext;
  readonly app: FastifyInstance | null;
  /** The pod created on this start, if the database was empty. */
  readonly createdPod: Pod | null;
  /** Address the HTTP server listens on (web and all roles). */
  readonly address: string | null;
  stop(): Promise<void>;
}

/** How long in-flight HTTP requests may run after a stop begins. */
const REQUEST_GRACE_MS = 5_000;
/** The longest one shutdown step may take (the queue's own grace is 10 s). */
const STEP_DEADLINE_MS = 15_000;
export interface StartNodeOptions extends AppContextOptions, BuildAppOptions {
  /** Create the POD_SLUG pod when the database has none (default true). */
  initialPod?: boolean;
  /** How long in-flight HTTP requests may run once a stop begins (default 5 s). */
  requestGraceMs?: number;
}

export async function startNode(config: Config, options: StartNodeOptions = {}): Promise<RunningNode> {
  const ctx = await createAppContext(config, options);
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const createdPod = options.initialPod === false ? null : await ensureInitialPod(ctx.deps);
    let app: FastifyInstance | null = null;
    let address: string | null = null;
    if (config.role !== "worker") {
      app = await buildApp(ctx, options);
      address = await app.listen({ host: config.host, port: config.port });
      const a = app;
      cleanups.push(async function httpServer() {
        // In-flight requests get a moment to finish; then their connections are cut, so a
        // request waiting on another node that is going away cannot hold the stop.
        const graceMs = options.requestGraceMs ?? REQUEST_GRACE_MS;
        if ((await settleWithin(a.close(), graceMs)) === TIMED_OUT) {
          ctx.deps.log.warn("Requests still running at shutdown; closing their connections", { graceMs });
          a.server.closeAllConnections();
        }
      });
    }
    if (config.role !== "web") {
      const abort = new AbortController();
      const queueDone = ctx.federation.startQueue(ctx.deps, { signal: abort.signal });
      const scheduler: Scheduler = startScheduler(ctx);
      // Hand over anything recorded while no worker was running.
      void ctx.outbox.flush().catch((error) => ctx.deps.log.error("Outbox flush failed", { error: String(error) }));
      cleanups.push(async function queueAndJobs() {
        abort.abort();
        await scheduler.stop();
        await queueDone;
      });
    }
    if (config.adminSocket && !config.databaseUrl) {
      const admin = await startAdminSocket(config.adminSocket, ctx.deps);
      cleanups.push(function adminSocket() {
        return admin.close();
      });
    }
    let stopping: Promise<void> | null = null;
    return {
      ctx,
      app,
      createdPod,
      address,
      stop() {
        stopping ??= (async () => {
          // Stop taking requests first, then let in-flight queue work finish or be released.
          // Each step is bounded: a stuck step is logged by name and the stop goes on.
          for (const cleanup of cleanups) {
            const step = cleanup().catch((error) => ctx.deps.log.error("Shutdown step failed", { error: String(error) }));
            if ((await settleWithin(step, STEP_DEADLINE_MS)) === TIMED_OUT) {
              ctx.deps.log.error("Shutdown step did not finish in time; going on without it", { step: cleanup.name || "unnamed", deadlineMs: STEP_DEADLINE_MS });
            }
          }
          await ctx.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    await ctx.close();
    throw error;
  }
}
