/**
 * Builds the Fastify application for a web process. Hooks run in this order for every
 * request: the host guard (421 for any host but the public origin's), the inbox rate limit,
 * then the Fedify bridge; then node endpoints, the steward API and the HTML pages. Never
 * listens.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { registerFedifyBridge } from "./federation/fastify-bridge.ts";
import { createVfDivert } from "./federation/inbox/vf-divert.ts";
import { registerSummaryDocuments } from "./federation/summary-route.ts";
import { registerCongressDocuments } from "./federation/congress-route.ts";
import { installErrorHandler } from "./http/errors.ts";
import { registerMeta } from "./http/meta.ts";
import { installHostGuard, installInboxRateLimit, installSecurityHeaders, requestLogSerializer } from "./http/security.ts";
import { registerPages } from "./http/pages/routes.ts";
import { registerStewardApi } from "./http/api/steward.ts";
import { registerStewardWeb } from "./http/steward/index.ts";
import { installCors, registerMastodonApi } from "./http/mastodon/index.ts";
import type { AppContext } from "./wiring.ts";

export interface BuildAppOptions {
  /** Fastify logger option; defaults to JSON logs at the configured level. */
  logger?: FastifyServerOptions["logger"];
}

/** The shared inbox and each pod's inbox (PATHS.sharedInbox, PATHS.inbox). */
const INBOX_PATH = /^\/(?:pods\/[^/]+\/)?inbox\/?$/;
export const isInboxPath = (pathname: string): boolean => INBOX_PATH.test(pathname);

/** Answered whatever the Host: probes reach the node by IP (the Docker HEALTHCHECK does). */
const ANY_HOST_PATHS = ["/healthz"];

function loggerOption(config: AppContext["config"], logger: BuildAppOptions["logger"]): FastifyServerOptions["logger"] {
  const serializers = { req: requestLogSerializer(config.logClientIps) };
  if (logger === undefined) return config.logLevel === "silent" ? false : { level: config.logLevel, serializers };
  if (logger === true) return { level: config.logLevel, serializers };
  if (logger && typeof logger === "object") return { ...logger, serializers: { ...serializers, ...logger.serializers } };
  return logger;
}

export async function buildApp(ctx: AppContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = ctx;
  const app = Fastify({
    logger: loggerOption(config, options.logger),
    trustProxy: config.trustProxy,
    // Steward API bodies are small; federation bodies are capped by the bridge.
    bodyLimit: 1_048_576,
    routerOptions: { ignoreTrailingSlash: true },
  });
  installErrorHandler(app);
  // First hook: nothing below ever sees a request for another host.
  installHostGuard(app, { publicOrigin: config.publicUrl, anyHostPaths: ANY_HOST_PATHS });
  await installInboxRateLimit(app, { max: config.inboxRateLimit, isInboxPath });
  installSecurityHeaders(app);
  // Browser apps on other origins read /api, /oauth, /.well-known and /nodeinfo; preflights are answered here, before the bridge.
  installCors(app);

  registerFedifyBridge(app, {
    federation: ctx.federation,
    contextData: () => ctx.deps,
    publicOrigin: config.publicUrl,
    // Bonfire-spelled offers and needs Fedify's vocabulary cannot parse are read by our own code.
    inbox: { isInboxPath, divert: createVfDivert(ctx.federation, ctx.deps) },
    // NodeInfo 2.0 and 2.1 are served by src/http/meta.ts, not by Fedify.
    appPaths: ["/.well-known/nodeinfo"],
    // Pod actors and WebFinger, the most fetched documents, answered as last rendered while valid.
    documentCache: ctx.documents,
    notFound: (request, reply) =>
      reply.code(404).send({ error: "NOT_FOUND", message: `Nothing at ${request.method} ${request.url.split("?")[0]}` }),
  });

  // Summary Notes for ActivityPub clients; browsers go on to the summary's HTML page.
  registerSummaryDocuments(app, ctx.deps);
  // Offers, needs, claims, agreements, transfers and neighbours, the same way.
  registerCongressDocuments(app, ctx.deps);

  await registerMeta(app, {
    deps: ctx.deps,
    databaseKind: ctx.database.kind,
    queueDepth: () => ctx.queue.getDepth(),
    outboxPending: () => ctx.outbox.pending(),
  });
  await registerStewardApi(app, ctx.deps);
  // The steward web app (/pods/{slug}/steward/): forms over the same services, for signed-in stewards.
  await registerStewardWeb(app, ctx.deps);
  // The Mastodon client API (read-only): pods as accounts, their Notes as statuses.
  await registerMastodonApi(app, ctx.deps);
  await registerPages(app, ctx.deps);
  return app;
}
