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

export interface StartNodeOptions extends AppContextOptions, BuildAppOptions {
  /** Create the POD_SLUG pod when the database has none (default true). */
  initialPod?: boolean;
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
      cleanups.push(() => a.close());
    }
    if (config.role !== "web") {
      const abort = new AbortController();
      const queueDone = ctx.federation.startQueue(ctx.deps, { signal: abort.signal });
      const scheduler: Scheduler = startScheduler(ctx);
      // Hand over anything recorded while no worker was running.
      void ctx.outbox.flush().catch((error) => ctx.deps.log.error("Outbox flush failed", { error: String(error) }));
      cleanups.push(async () => {
        abort.abort();
        await scheduler.stop();
        await queueDone;
      });
    }
    if (config.adminSocket && !config.databaseUrl) {
      const admin = await startAdminSocket(config.adminSocket, ctx.deps);
      cleanups.push(() => admin.close());
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
          for (const cleanup of cleanups) await cleanup().catch((error) => ctx.deps.log.error("Shutdown step failed", { error: String(error) }));
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
