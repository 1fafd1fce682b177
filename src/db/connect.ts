/**
 * Opens the node's database: PostgreSQL through `pg` when a URL is given, otherwise
 * embedded PGlite (PostgreSQL compiled to WASM) in the data directory. Both expose the
 * same Kysely instance plus a LISTEN/NOTIFY primitive used by the message queue.
 */
import path from "node:path";
import { PGlite, types } from "@electric-sql/pglite";
import { Kysely, PGliteDialect, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";
import { acquireDirectoryLock, ensurePrivateDataDir, tightenModes, type DirectoryLock } from "./lock.ts";

export type DatabaseKind = "postgres" | "pglite";

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly kind: DatabaseKind;
  /** Subscribe to a NOTIFY channel. Returns an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export type OpenDatabaseOptions =
  | { readonly databaseUrl: string; readonly poolSize?: number }
  | { readonly dataDir: string }
  /** In memory; `template` is a data-directory dump (PGlite's dumpDataDir) to start from. */
  | { readonly memory: true; readonly template?: Blob };

// pg hands back int8 and numeric as strings; PGlite is told to do the same so code
// behaves identically on both (exact decimals, ids beyond 2^53).
const keepText = (value: string) => value;
const SAME_AS_PG = { [types.INT8]: keepText, [types.NUMERIC]: keepText };

export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  if ("databaseUrl" in options) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  if ("dataDir" in options) return openPglite(options.dataDir);
  return openPglite(null, options.template);
}

async function openPostgres(url: string, poolSize: number): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let listener: pg.Client | null = null;
  const handlers = new Map<string, Set<(payload: string) => void>>();

  async function ensureListener(): Promise<pg.Client> {
    if (listener) return listener;
    const client = new pg.Client({ connectionString: url });
    client.on("error", () => {
      // The poll fallback keeps the queue moving; reconnect on next subscribe.
      if (listener === client) listener = null;
    });
    client.on("notification", (msg) => {
      for (const fn of handlers.get(msg.channel) ?? []) fn(msg.payload ?? "");
    });
    await client.connect();
    listener = client;
    for (const channel of handlers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
    return client;
  }

  return {
    db,
    kind: "postgres",
    async listen(channel, onNotify) {
      let set = handlers.get(channel);
      const first = !set;
      if (!set) handlers.set(channel, (set = new Set()));
      set.add(onNotify);
      const client = await ensureListener();
      if (first) await client.query(`LISTEN ${quoteIdent(channel)}`);
      return async () => {
        set.delete(onNotify);
        if (set.size === 0) {
          handlers.delete(channel);
          await listener?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => {});
        }
      };
    },
    async notify(channel, payload) {
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    async close() {
      const l = listener;
      listener = null;
      await l?.end().catch(() => {});
      await db.destroy();
    },
  };
}

/** How often the modes of PGlite's files are tightened again while a data directory is open. */
const TIGHTEN_EVERY_MS = 60_000;

async function openPglite(dataDir: string | null, template?: Blob): Promise<DatabaseHandle> {
  let lock: DirectoryLock | null = null;
  let pglite: PGlite;
  let tightener: NodeJS.Timeout | null = null;
  if (dataDir) {
    // Refuses a directory other users can reach, before anything is read or written in it.
    ensurePrivateDataDir(dataDir);
    lock = acquireDirectoryLock(dataDir);
    try {
      pglite = await PGlite.create(path.join(dataDir, "pglite"), { parsers: SAME_AS_PG });
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
    pglite = await PGlite.create({ parsers: SAME_AS_PG, ...(template && { loadDataDir: template }) });
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
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
