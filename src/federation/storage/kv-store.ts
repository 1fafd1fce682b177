/**
 * Fedify's key–value store on our own database (table `fedify_kv`).
 *
 * - A key is stored as its JSON encoding (`["_fedify","publicKey","https://…"]`) in a
 *   `text collate "C"` primary key. JSON.stringify of a string array has no
 *   whitespace and encodes each element the same way wherever it appears, so "key
 *   starts with these elements" is "encoded key starts with the encoded prefix minus
 *   its closing bracket, followed by a comma" — a LIKE the primary-key index serves.
 * - Values are jsonb, always sent as `JSON.stringify(value)` (pg would otherwise send
 *   JS arrays as SQL arrays). A stored `null` is the jsonb value `null`, distinct
 *   from a missing row.
 * - Expiry is lazy: rows past `expires_at` are invisible to get/list/cas and are
 *   removed by `sweepExpired()`, which a periodic job calls.
 * - Time comes from `options.now` (default: the JS clock), so tests can move it.
 */
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import { type Kysely, type RawBuilder, type SqlBool, sql } from "kysely";
import type { Database } from "../../db/schema.ts";
import { durationToMilliseconds } from "./duration.ts";

export interface KyselyKvStoreOptions {
  /** Clock used for TTLs and expiry checks. */
  readonly now?: () => Date;
}

/** Rows fetched per round trip by `list()`. */
const LIST_PAGE_SIZE = 500;

export class KyselyKvStore implements KvStore {
  readonly #db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, options: KyselyKvStoreOptions = {}) {
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const now = this.#now();
    const row = await this.#db
      .selectFrom("fedify_kv")
      .select("value")
      .where("key", "=", encodeKey(key))
      .where(live(now))
      .executeTakeFirst();
    return row === undefined ? undefined : (row.value as T);
  }

  /** Stores `value`; `undefined` (not representable in JSON) deletes the key. */
  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    if (value === undefined) return this.delete(key);
    const now = this.#now();
    await this.#db
      .insertInto("fedify_kv")
      .values({ key: encodeKey(key), value: encodeValue(value), expires_at: expiresAt(now, options) })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet((eb) => ({ value: eb.ref("excluded.value"), expires_at: eb.ref("excluded.expires_at") })),
      )
      .execute();
  }

  async delete(key: KvKey): Promise<void> {
    await this.#db.deleteFrom("fedify_kv").where("key", "=", encodeKey(key)).execute();
  }

  /**
   * Sets `key` to `newValue` only if its current value deeply equals `expectedValue`
   * (jsonb equality: object key order is irrelevant). `expectedValue === undefined`
   * means "the key is absent (or expired)"; `newValue === undefined` deletes the key.
   *
   * Each case is one statement, so it is atomic without an explicit transaction: on
   * PostgreSQL a concurrent writer of the same row waits for the row lock and then
   * re-checks the condition against the committed value, and two racing inserts of
   * an absent key meet at the primary key (ON CONFLICT), so exactly one cas wins.
   */
  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    const now = this.#now();
    const encodedKey = encodeKey(key);

    if (expectedValue === undefined) {
      if (newValue === undefined) {
        // "Absent → absent": succeeds iff there is no live value.
        return (await this.get(key)) === undefined;
      }
      // Insert; an existing row may only be overwritten if it has expired.
      const result = await this.#db
        .insertInto("fedify_kv")
        .values({ key: encodedKey, value: encodeValue(newValue), expires_at: expiresAt(now, options) })
        .onConflict((oc) =>
          oc
            .column("key")
            .doUpdateSet((eb) => ({ value: eb.ref("excluded.value"), expires_at: eb.ref("excluded.expires_at") }))
            .where("fedify_kv.expires_at", "<=", now),
        )
        .returning("key")
        .executeTakeFirst();
      return result !== undefined;
    }

    // Current value is live and deeply equal to `expectedValue`.
    const matches = sql<SqlBool>`key = ${encodedKey} and ${live(now)} and value = ${encodeValue(expectedValue)}::jsonb`;

    if (newValue === undefined) {
      const result = await this.#db.deleteFrom("fedify_kv").where(matches).returning("key").executeTakeFirst();
      return result !== undefined;
    }

    const result = await this.#db
      .updateTable("fedify_kv")
      .set({ value: encodeValue(newValue), expires_at: expiresAt(now, options) })
      .where(matches)
      .returning("key")
      .executeTakeFirst();
    return result !== undefined;
  }

  /**
   * Entries whose key starts with all elements of `prefix` (the key equal to the
   * prefix included), or every entry without a prefix, ordered by encoded key (not
   * a documented part of the contract). Pages through the table by encoded key so a
   * large store is not loaded at once.
   */
  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    const now = this.#now();
    const exact = prefix === undefined ? null : encodeKey(prefix);
    // `["a","b"]` → LIKE '["a","b",%' (with LIKE metacharacters escaped).
    const like = exact === null ? null : `${escapeLike(exact.slice(0, -1))},%`;
    let after: string | null = null;
    for (;;) {
      let query = this.#db.selectFrom("fedify_kv").select(["key", "value"]).where(live(now));
      if (exact !== null && like !== null) {
        query = query.where((eb) => eb.or([eb("key", "=", exact), eb("key", "like", like)]));
      }
      if (after !== null) query = query.where("key", ">", after);
      const rows = await query.orderBy("key").limit(LIST_PAGE_SIZE).execute();
      for (const row of rows) yield { key: JSON.parse(row.key) as KvKey, value: row.value };
      if (rows.length < LIST_PAGE_SIZE) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Deletes every expired row; returns how many. */
  async sweepExpired(): Promise<number> {
    const result = await this.#db.deleteFrom("fedify_kv").where("expires_at", "<=", this.#now()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function encodeKey(key: KvKey): string {
  return JSON.stringify(key);
}

function encodeValue(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`Cannot store a value of type ${typeof value} in the key–value store`);
  return json;
}

function expiresAt(now: Date, options: KvStoreSetOptions | undefined): Date | null {
  if (options?.ttl == null) return null;
  return new Date(now.getTime() + durationToMilliseconds(options.ttl, now));
}

/** Row is not expired at `now`. */
function live(now: Date): RawBuilder<SqlBool> {
  return sql<SqlBool>`(expires_at is null or expires_at > ${now})`;
}

/** Escapes LIKE metacharacters (backslash is PostgreSQL's default LIKE escape). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
