/**
 * The node's identity. Every id the node publishes is built from its public origin, and
 * ids on the fediverse cannot change, so the origin is recorded in the database at first
 * start. Later starts and the CLI use the recorded origin (PUBLIC_URL may be left out);
 * a PUBLIC_URL that disagrees with it stops the node until an operator moves the origin
 * on purpose with `hyphae node move-origin`.
 */
import type { Kysely } from "kysely";
import type { Config } from "../config.ts";
import type { Database } from "../db/schema.ts";
import { getNodeSetting, insertNodeSettingIfAbsent, putNodeSetting } from "../db/repos/node-settings.ts";
import { invalid } from "../domain/errors.ts";

const ORIGIN = "public_origin";

export interface StoredOrigin {
  /** The origin every id is built from, e.g. https://pods.example */
  origin: string;
  recordedAt: string;
  /** Origins this node published under before, oldest first. */
  previous: Array<{ origin: string; until: string }>;
}

export class PublicUrlChangedError extends Error {
  readonly code = "PUBLIC_URL_CHANGED";
  readonly stored: string;
  readonly requested: string;
  constructor(stored: string, requested: string) {
    super(
      `PUBLIC_URL is ${requested}, but this node published everything under ${stored} (recorded at its first start). ` +
        `Ids on the fediverse cannot change: set PUBLIC_URL=${stored} (or leave it unset), or, to move the node on purpose, ` +
        `stop it and run: npx hyphae node move-origin ${requested} (see docs/operations.md, "Moving a node to a new origin").`,
    );
    this.name = "PublicUrlChangedError";
    this.stored = stored;
    this.requested = requested;
  }
}

/**
 * Returns the configuration with the node's recorded public origin. On the first start
 * the configured origin is recorded (first writer wins when several processes start).
 */
export async function settlePublicOrigin(db: Kysely<Database>, config: Config, now: Date): Promise<Config> {
  const configured = config.publicUrl.origin;
  const stored = await insertNodeSettingIfAbsent<StoredOrigin>(db, ORIGIN, { origin: configured, recordedAt: now.toISOString(), previous: [] }, now);
  if (stored.origin === configured) return config;
  if (config.publicUrlFromEnv) throw new PublicUrlChangedError(stored.origin, configured);
  // PUBLIC_URL left out: use the recorded origin rather than the http://localhost:PORT default.
  return Object.freeze({ ...config, publicUrl: new URL(stored.origin) });
}

export async function getStoredOrigin(db: Kysely<Database>): Promise<StoredOrigin | null> {
  return getNodeSetting<StoredOrigin>(db, ORIGIN);
}

/** `hyphae node move-origin`: records a new public origin, keeping the old one in `previous`. */
export async function movePublicOrigin(db: Kysely<Database>, to: string, now: Date): Promise<{ from: string | null; to: string }> {
  let url: URL;
  try {
    url = new URL(to);
  } catch {
    throw invalid("INVALID_ORIGIN", `${to} is not a URL; give an origin such as https://pods.example`);
  }
  if (!/^https?:$/.test(url.protocol) || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username || url.password) {
    throw invalid("INVALID_ORIGIN", `${to} is not an origin; give scheme, host and port only, such as https://pods.example`);
  }
  return db.transaction().execute(async (trx) => {
    const current = await getNodeSetting<StoredOrigin>(trx, ORIGIN);
    if (current?.origin === url.origin) return { from: current.origin, to: url.origin };
    const next: StoredOrigin = {
      origin: url.origin,
      recordedAt: now.toISOString(),
      previous: current ? [...current.previous, { origin: current.origin, until: now.toISOString() }] : [],
    };
    await putNodeSetting(trx, ORIGIN, next, now);
    return { from: current?.origin ?? null, to: url.origin };
  });
}
