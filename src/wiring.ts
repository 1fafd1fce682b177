/**
 * The composition root: opens the database, runs migrations, and builds the services'
 * dependencies and the federation. Used by the server, the worker, the CLI and tests.
 */
import os from "node:os";
import type { Config } from "./config.ts";
import { openDatabase, type DatabaseHandle } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { FederationActorDirectory } from "./federation/actor-directory.ts";
import { createHyphaeFederation, type HyphaeFederation } from "./federation/federation.ts";
import { ACTOR_KEY_PREFIX } from "./db/repos/outbox.ts";
import { FederationOutbox } from "./federation/publish.ts";
import { podUris } from "./federation/uris.ts";
import { KyselyKvStore } from "./federation/storage/kv-store.ts";
import { KvMemo } from "./federation/storage/kv-memo.ts";
import { KyselyMessageQueue } from "./federation/storage/message-queue.ts";
import { serviceLogger } from "./lib/logging.ts";
import { settlePublicOrigin } from "./services/node-identity.ts";
import { randomIds, systemClock, type Clock, type Ids, type ServiceDeps } from "./services/ports.ts";
import { PodDocumentCache } from "./federation/document-cache.ts";

export interface AppContext {
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly deps: ServiceDeps;
  readonly federation: HyphaeFederation;
  readonly kv: KyselyKvStore;
  readonly queue: KyselyMessageQueue;
  readonly outbox: FederationOutbox;
  /** The pod actors and WebFinger answers as Fedify rendered them (the bridge's documentCache). */
  readonly documents: PodDocumentCache;
  close(): Promise<void>;
}

export interface AppContextOptions {
  /** Use this database instead of opening one from the config (tests). */
  database?: DatabaseHandle;
  clock?: Clock;
  ids?: Ids;
  /** Run migrations (default true). */
  migrate?: boolean;
}

export async function createAppContext(config: Config, options: AppContextOptions = {}): Promise<AppContext> {
  const database =
    options.database ??
    (await openDatabase(config.databaseUrl ? { databaseUrl: config.databaseUrl, poolSize: config.queue.concurrency + 6 } : { dataDir: config.dataDir }));
  const clock = options.clock ?? systemClock;
  try {
    if (options.migrate !== false) await migrateToLatest(database.db);
    // Ids are built from the origin recorded at first start, whatever this process was told.
    config = await settlePublicOrigin(database.db, config, clock.now());
  } catch (error) {
    if (!options.database) await database.close();
    throw error;
  }
  const log = serviceLogger();
  const kv = new KyselyKvStore(database.db);
  const queue = new KyselyMessageQueue(database, {
    leaseSeconds: config.queue.leaseSeconds,
    pollSeconds: config.queue.pollSeconds,
    concurrency: config.queue.concurrency,
    maxAttempts: config.queue.maxAttempts,
    handlerTimeoutSeconds: config.queue.handlerTimeoutSeconds,
    // host:pid makes `leased_by` in fedify_queue point at the process holding a message.
    workerId: `${os.hostname()}:${process.pid}:${randomIds.uuid().slice(0, 8)}`,
    log: serviceLogger("queue"),
    // A delivery to one actor left the queue: the next event to that actor may go now.
    onSettled: (orderingKey) => {
      if (orderingKey?.startsWith(ACTOR_KEY_PREFIX)) void outbox.flush();
    },
  });
  const outbox = new FederationOutbox();
  const actors = new FederationActorDirectory();
  const deps: ServiceDeps = {
    db: database.db,
    config,
    clock,
    ids: options.ids ?? randomIds,
    log,
    outbox,
    actors,
    uris: podUris(config.publicUrl),
  };
  // Fedify sees the store through a per-process memory for its read-mostly keys (kv-memo.ts).
  const federation = createHyphaeFederation({ config, kv: new KvMemo(kv), queue });
  outbox.attach(federation, deps);
  actors.attach(federation, deps);
  let closed = false;
  return {
    config,
    database,
    deps,
    federation,
    kv,
    queue,
    outbox,
    documents: new PodDocumentCache(deps),
    async close() {
      if (closed) return;
      closed = true;
      if (!options.database) await database.close();
    },
  };
}
