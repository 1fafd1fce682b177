/**
 * Builds the Fastify application for a web process: the Fedify bridge first (it sees
 * every request), then node endpoints, the steward API and the HTML pages. Never listens.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { registerFedifyBridge } from "./federation/fastify-bridge.ts";
import { installErrorHandler } from "./http/errors.ts";
import { registerMeta } from "./http/meta.ts";
import { registerPages } from "./http/pages/routes.ts";
import { registerStewardApi } from "./http/api/steward.ts";
import type { AppContext } from "./wiring.ts";

export interface BuildAppOptions {
  /** Fastify logger option; defaults to JSON logs at the configured level. */
  logger?: FastifyServerOptions["logger"];
}

/** Paths browser clients read cross-origin (WebFinger, NodeInfo). */
const CORS_PATHS = /^\/(\.well-known\/|nodeinfo\/)/;

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    logger: options.logger ?? (config.logLevel === "silent" ? false : { level: config.logLevel }),
    trustProxy: config.trustProxy,
    // Steward API bodies are small; federation bodies are capped by the bridge.
    bodyLimit: 1_048_576,
    routerOptions: { ignoreTrailingSlash: true },
  });
  installErrorHandler(app);

  registerFedifyBridge(app, {
    federation: ctx.federation,
    contextData: () => ctx.deps,
    // NodeInfo 2.0 and 2.1 are served by src/http/meta.ts, not by Fedify.
    appPaths: ["/.well-known/nodeinfo"],
    notFound: (request, reply) =>
      reply.code(404).send({ error: "NOT_FOUND", message: `Nothing at ${request.method} ${request.url.split("?")[0]}` }),
  });

  app.addHook("onSend", async (request, reply, payload) => {
    if (CORS_PATHS.test(request.url)) reply.header("access-control-allow-origin", "*");
    return payload;
  });

  await registerMeta(app, {
    deps: ctx.deps,
    databaseKind: ctx.database.kind,
    queueDepth: () => ctx.queue.getDepth(),
    outboxPending: () => ctx.outbox.pending(),
  });
  await registerStewardApi(app, ctx.deps);
  await registerPages(app, ctx.deps);
  return app;
}
