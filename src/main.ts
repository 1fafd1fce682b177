/**
 * Process entry: `npm start`. Reads the configuration, starts the node for its role,
 * prints how to reach the pod, and shuts down gracefully on SIGTERM / SIGINT.
 */
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { DirectoryLockedError, InsecurePathError, LockUnavailableError } from "./db/lock.ts";
import { AdminSocketInsecureError } from "./http/admin-socket.ts";
import { configureLogging } from "./lib/logging.ts";
import { startNode, type RunningNode } from "./node.ts";
import { podView } from "./services/views.ts";
import { listPods } from "./services/pods.ts";
import { PublicUrlChangedError } from "./services/node-identity.ts";

function fail(message: string): never {
  process.stderr.write(`hyphae: ${message}\n`);
  process.exit(1);
}

async function printBanner(node: RunningNode): Promise<void> {
  // The node's recorded public origin, which may differ from the PUBLIC_URL default.
  const config = node.ctx.config;
  if (config.role === "worker") {
    process.stdout.write(`Hyphae worker started (queue concurrency ${config.queue.concurrency}).\n`);
    return;
  }
  const pods = await listPods(node.ctx.deps);
  const lines = [
    "",
    `Hyphae node is up at ${config.publicUrl.origin} (listening on ${node.address}, ${node.ctx.database.kind === "pglite" ? `embedded database in ${config.dataDir}` : "PostgreSQL"}, role ${config.role}).`,
  ];
  if (node.createdPod) lines.push(`Created the pod "${node.createdPod.name}" on this first start.`);
  for (const pod of pods) {
    const view = await podView(node.ctx.deps, pod);
    lines.push(`  ${view.name}: ${view.handle}  ${view.actorUrl}`);
  }
  if (pods[0]) {
    lines.push(`Follow it from Mastodon by searching for ${(await podView(node.ctx.deps, pods[0])).handle}.`);
    lines.push(`Sign in to its steward pages with a one-time link: npx hyphae steward invite --pod ${pods[0].slug}`);
    lines.push(`Get a steward token with: npx hyphae token issue --pod ${pods[0].slug}`);
  }
  lines.push("");
  process.stdout.write(lines.join("\n") + "\n");
}

async function main(): Promise<void> {
  // Everything this process creates (data directory, lock file, admin socket, logs written
  // to files) is for its own user only. PGlite ignores the umask; db/connect.ts fixes that.
  process.umask(0o077);
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  await configureLogging(config.logLevel);

  // Signal handlers go in before anything starts, so a SIGTERM that arrives while the
  // node is starting (or just after its banner) still shuts it down gracefully.
  let node: RunningNode | null = null;
  let stopRequested: string | null = null;
  const shutdown = (signal: string) => {
    if (stopRequested) {
      process.stderr.write("hyphae: second signal, exiting now\n");
      process.exit(1);
    }
    stopRequested = signal;
    if (node) stopAndExit(node, signal);
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  try {
    node = await startNode(config);
  } catch (error) {
    if (error instanceof DirectoryLockedError || error instanceof InsecurePathError || error instanceof LockUnavailableError) fail(error.message);
    if (error instanceof AdminSocketInsecureError) fail(error.message);
    if (error instanceof PublicUrlChangedError) fail(error.message);
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") fail(`port ${config.port} on ${config.host} is already in use; set PORT to another port`);
    throw error;
  }
  if (stopRequested) return stopAndExit(node, stopRequested);
  await printBanner(node);
}

function stopAndExit(node: RunningNode, signal: string): void {
  process.stdout.write(`Received ${signal}, shutting down…\n`);
  node.stop().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`hyphae: shutdown failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`hyphae: could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
