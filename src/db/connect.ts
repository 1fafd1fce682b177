/**
 * Opens the node's database: PostgreSQL through `pg` when a URL is given, otherwise
 * embedded PGlite (PostgreSQL compiled to WASM) in the data directory. Both expose the
 * same Kysely instance plus a LISTEN/NOTIFY primitive used by the message queue.
 */
import path from "node:path";
import { PGlite, types } from "@electric-sql/pglite";
import { Kysely, PGliteDialect, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { getLogger } from "@logtape/logtape";
import type { Database } from "./schema.ts";
import { fencedDialect } from "./run-fence.ts";
import { acquireDirectoryLock, ensurePrivateDataDir, tightenModes, type DirectoryLock } from "./lock.ts";

export type DatabaseKind = "postgres" | "pglite";

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseKind;
  /**
   * Subscribe to a NOTIFY channel. Returns an unsubscribe function. On PostgreSQL a lost
   * listener connection is re-established (with backoff) and every channel subscribed
   * again; `onReconnect` then runs, since notifications sent meanwhile were lost.
   */
  listen(channel: string, onNotify: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface ListenOptions {
  onReconnect?: () => void;
}

/** Where the NOTIFY listener reports losing and regaining its connection. */
export interface ListenerLog {
  warn(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
}

export type OpenDatabaseOptions =
  | { readonly databaseUrl: string; readonly poolSize?: number; readonly listenerLog?: ListenerLog }
  | { readonly dataDir: string }
  /** In memory; `template` is a data-directory dump (PGlite's dumpDataDir) to start from. */
  | { readonly memory: true; readonly template?: Blob };

// pg hands back int8 and numeric as strings; PGlite is told to do the same so code
// behaves identically on both (exact decimals, ids beyond 2^53).
const keepText = (value: string) => value;
const SAME_AS_PG = { [types.INT8]: keepText, [types.NUMERIC]: keepText };

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if ("databaseUrl" in options) return openPostgres(options.databaseUrl, options.poolSize ?? 10, options.listenerLog ?? getLogger(["hyphae", "db"]));
  if ("dataDir" in options) return openPglite(options.dataDir);
  return openPglite(null, options.template);
}

async function openPostgres(url: string, poolSize: number, log: ListenerLog): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: fencedDialect(new PostgresDialect({ pool })) });
  const listener = new PgListener(url, log);
  return {
    db,
    kind: "postgres",
    listen: (channel, onNotify, options) => listener.listen(channel, onNotify, options),
    async notify(channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    async close() {
      await listener.close();
      await db.destroy();
    },
  };
}

/** First and longest wait before reconnecting the NOTIFY listener. */
const RECONNECT_FIRST_MS = 200;
const RECONNECT_MAX_MS = 30_000;

/**
 * One dedicated `pg` connection that LISTENs for every subscribed channel. When it is lost
 * (server restart, pg_terminate_backend, network), it reconnects with exponential backoff
 * and subscribes again; the loss is logged once at warn, the recovery at info. Until then
 * subscribers rely on their own polling.
 */
class PgListener {
  readonly #url: string;
  readonly #log: ListenerLog;
  readonly #subscribers = new Map<string, Set<{ onNotify: (payload: string) => void; options: ListenOptions | undefined }>>();
  #client: pg.Client | null = null;
  #connecting: Promise<void> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #backoffMs = RECONNECT_FIRST_MS;
  /** The connection was lost (or never made) and has not come back yet. */
  #down = false;
  #closed = false;

  constructor(url: string, log: ListenerLog) {
    this.#url = url;
    this.#log = log;
  }

  async listen(channel: string, onNotify: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>> {
    let set = this.#subscribers.get(channel);
    const first = !set;
    if (!set) this.#subscribers.set(channel, (set = new Set()));
    const subscriber = { onNotify, options };
    set.add(subscriber);
    // Connects (LISTENing to every channel); on failure the backoff loop takes over.
    if (!this.#client) await this.#connect();
    const client = this.#client;
    // LISTEN twice is harmless; it covers a channel added while a connect was under way.
    if (client && first) await client.query(`LISTEN ${quoteIdent(channel)}`).catch((error: unknown) => this.#lost(client, error));
    return async () => {
      set.delete(subscriber);
      if (set.size === 0 && this.#subscribers.get(channel) === set) {
        this.#subscribers.delete(channel);
        await this.#client?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
      }
    };
  }

  /** Connects once; never rejects (a failure schedules the next try). */
  #connect(): Promise<void> {
    this.#connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.#url, application_name: "hyphae-listen" });
      // Errors arrive as events too; without a handler they would crash the process.
      client.on("error", (error) => this.#lost(client, error));
      client.on("end", () => this.#lost(client, "connection ended"));
      client.on("notification", (msg) => {
        for (const s of this.#subscribers.get(msg.channel) ?? []) s.onNotify(msg.payload ?? "");
      });
      try {
        await client.connect();
        for (const channel of this.#subscribers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
      } catch (error) {
        client.removeAllListeners("end");
        await client.end().catch(() => {});
        this.#markDown(error);
        this.#scheduleReconnect();
        return;
      }
      if (this.#closed) {
        await client.end().catch(() => {});
        return;
      }
      this.#client = client;
      this.#backoffMs = RECONNECT_FIRST_MS;
      if (this.#down) {
        this.#down = false;
        this.#log.info("NOTIFY listener reconnected and subscribed again", { channels: [...this.#subscribers.keys()] });
        for (const set of this.#subscribers.values()) for (const s of set) s.options?.onReconnect?.();
      }
    })().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #lost(client: pg.Client, reason: unknown): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.removeAllListeners("end");
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#markDown(reason);
    this.#scheduleReconnect();
  }

  #markDown(reason: unknown): void {
    if (this.#down || this.#closed) return;
    this.#down = true;
    this.#log.warn("NOTIFY listener lost its database connection; reconnecting with backoff, the queue polls meanwhile", {
      error: reason instanceof Error ? reason.message : String(reason),
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retryTimer) return;
    const wait = this.#backoffMs * (0.8 + Math.random() * 0.4);
    this.#backoffMs = Math.min(RECONNECT_MAX_MS, this.#backoffMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, wait);
    // Reconnecting must not keep a process alive that has nothing else to do.
    this.#retryTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await this.#connecting;
    const client = this.#client;
    this.#client = null;
    client?.removeAllListeners("end");
    await client?.end().catch(() => {});
  }
}

/** How often the modes of PGlite's files are tightened again while a data directory is open. */
const TIGHTEN_EVERY_MS = 60_000;

/**
 * The embedded PostgreSQL's memory for a one-pod node: PostgreSQL's defaults (128 MB of
 * shared buffers, 4 MB per sort) are sized for a server, and in PGlite they live in this
 * process. A pod's database is a few megabytes; these settings took a restarted node from
 * about 410 to about 300 MB of RSS (docs/performance.md, "Footprint").
 */
const PGLITE_START_PARAMS = [
  ...PGlite.defaultStartParams,
  ...["shared_buffers=16MB", "work_mem=2MB", "maintenance_work_mem=16MB", "temp_buffers=2MB", "wal_buffers=1MB"].flatMap((s) => ["-c", s]),
];

async function openPglite(dataDir: string | null, template?: Blob): Promise<DatabaseHandle> {
  let lock: DirectoryLock | null = null;
  let pglite: PGlite;
  let tightener: NodeJS.Timeout | null = null;
  if (dataDir) {
    // Refuses a directory other users can reach, before anything is read or written in it.
    ensurePrivateDataDir(dataDir);
    lock = acquireDirectoryLock(dataDir);
    try {
      pglite = await PGlite.create(path.join(dataDir, "pglite"), { parsers: SAME_AS_PG, startParams: PGLITE_START_PARAMS });
    } catch (error) {
      lock.release();
      throw error;
    }
    // PGlite creates its files 0666 whatever the umask; the 0700 directory already keeps
    // others out, and 0600 files keep them out should the directory's mode ever be loosened.
    tightenModes(dataDir);
    tightener = setInterval(() => tightenModes(dataDir), TIGHTEN_EVERY_MS);
    tightener.unref();
  } else {
    pglite = await PGlite.create({ parsers: SAME_AS_PG, startParams: PGLITE_START_PARAMS, ...(template && { loadDataDir: template }) });
  }
  const db = new Kysely<Database>({ dialect: fencedDialect(new PGliteDialect({ pglite })) });
  return {
    db,
    kind: "pglite",
    async listen(channel, onNotify) {
      // PGlite's own listen() does not occupy Kysely's serialised connection.
      const unsubscribe = await pglite.listen(channel, onNotify);
      return async () => {
        if (!pglite.closed) await unsubscribe();
      };
    },
    async notify(channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    async close() {
      if (tightener) clearInterval(tightener);
      try {
        await db.destroy();
      } finally {
        if (dataDir) tightenModes(dataDir);
        lock?.release();
      }
    },
  };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
