/**
 * A per-process memory in front of Fedify's key–value store, for the few keys Fedify reads
 * on every signed request although they rarely change. Measured on the inbox benchmark
 * before this layer: 14 of a Follow's 37 SQL statements were Fedify's KV, most of them
 * these reads and rewrites of unchanged values.
 *
 * Which keys (by their first two elements; everything else passes straight through):
 * - `["_fedify","httpMessageSignaturesSpec", origin]` — which signature spec a server
 *   accepts. Fedify reads it before every signed request and writes it back after, almost
 *   always unchanged: reads are served from memory, and a write of the value
 *   already remembered (and without an expiry) is skipped.
 * - `["_fedify","circuit", …]` — the circuit breaker's state per host, read twice per
 *   delivery: reads served from memory; `cas`, `set` and `delete` go to the
 *   database first and then update (or forget) the memory.
 * - `["_fedify","publicKey", keyId]` — remote public keys Fedify has fetched: reads served
 *   from memory, writes go through.
 *
 * Spec and key values are trusted for a minute, circuit states for two seconds (their
 * rows carry expiries the memory cannot see on a read); a write with a shorter expiry is
 * remembered only that long.
 *
 * Why this is safe with several processes: every write still reaches the database, so a
 * restarted or second process reads the truth; a process may see another's change up to
 * the trust period late. For the spec, that costs at most one extra "double knock"; for the circuit
 * breaker, a few more deliveries to a host another process just marked as failing; for a
 * public key, a signature checked against the previous key fails and Fedify refetches the
 * key (which writes through here). Idempotency records (`activityIdempotence`) and
 * everything else are never cached: they must be exactly the database's.
 */
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import { durationToMilliseconds } from "./duration.ts";

/** Which keys are remembered, and for how long at most (ms) without asking the database. */
const MEMO_TTL_MS: Readonly<Record<string, number>> = { httpMessageSignaturesSpec: 60_000, publicKey: 60_000, circuit: 2_000 };
/** Keys whose unchanged rewrites are skipped (Fedify writes them back after every use). */
const SKIP_SAME_WRITE = new Set(["httpMessageSignaturesSpec"]);

export interface KvMemoOptions {
  /** Scales every trust period (tests: 0 turns the memory off). */
  readonly ttlScale?: number;
  /** Most entries kept; the oldest are forgotten first. */
  readonly maxEntries?: number;
  /** Monotonic clock in ms (tests move it). */
  readonly now?: () => number;
}

interface Entry {
  /** `undefined`: known to be absent. */
  value: unknown;
  until: number;
}

export interface KvMemoStats {
  hits: number;
  misses: number;
  skippedWrites: number;
}

export class KvMemo implements KvStore {
  readonly #inner: KvStore;
  readonly #ttlScale: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly stats: KvMemoStats = { hits: 0, misses: 0, skippedWrites: 0 };

  constructor(inner: KvStore, options: KvMemoOptions = {}) {
    this.#inner = inner;
    this.#ttlScale = options.ttlScale ?? 1;
    this.#max = options.maxEntries ?? 5_000;
    this.#now = options.now ?? (() => performance.now());
  }

  async get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const id = memoId(key);
    if (id === null) return this.#inner.get<T>(key);
    const entry = this.#entries.get(id);
    if (entry && entry.until > this.#now()) {
      this.stats.hits++;
      return copyJson(entry.value) as T | undefined;
    }
    this.stats.misses++;
    const value = await this.#inner.get<T>(key);
    this.#remember(id, key, value);
    return value;
  }

  async set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    const id = memoId(key);
    if (id === null) return this.#inner.set(key, value, options);
    const entry = this.#entries.get(id);
    // Fedify writes these without an expiry; one with an expiry always goes through.
    if (SKIP_SAME_WRITE.has(String(key[1])) && options?.ttl == null && entry && entry.until > this.#now() && JSON.stringify(entry.value) === JSON.stringify(value)) {
      this.stats.skippedWrites++;
      return;
    }
    try {
      await this.#inner.set(key, value, options);
    } catch (error) {
      this.#entries.delete(id);
      throw error;
    }
    this.#remember(id, key, value, options);
  }

  async delete(key: KvKey): Promise<void> {
    const id = memoId(key);
    if (id !== null) this.#entries.delete(id);
    await this.#inner.delete(key);
  }

  async cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    if (!this.#inner.cas) throw new TypeError("The key–value store behind the memory has no compare-and-swap");
    const id = memoId(key);
    if (id !== null) this.#entries.delete(id);
    const swapped = await this.#inner.cas(key, expectedValue, newValue, options);
    if (id !== null && swapped) this.#remember(id, key, newValue, options);
    return swapped;
  }

  list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    if (!this.#inner.list) throw new TypeError("The key–value store behind the memory cannot list");
    return this.#inner.list(prefix);
  }

  /** Forgets everything (tests, and a process that wants the database's view at once). */
  clear(): void {
    this.#entries.clear();
  }

  #remember(id: string, key: KvKey, value: unknown, options?: KvStoreSetOptions): void {
    this.#entries.delete(id);
    let trust = (MEMO_TTL_MS[String(key[1])] ?? 0) * this.#ttlScale;
    // A value written with an expiry is remembered no longer than it lives.
    if (options?.ttl != null) trust = Math.min(trust, durationToMilliseconds(options.ttl, new Date()));
    if (trust <= 0) return;
    this.#entries.set(id, { value: copyJson(value), until: this.#now() + trust });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}

function memoId(key: KvKey): string | null {
  return key[0] === "_fedify" && String(key[1]) in MEMO_TTL_MS ? JSON.stringify(key) : null;
}

/** Callers get their own copy: Fedify may change an object it read. Values are JSON. */
function copyJson(value: unknown): unknown {
  return value === undefined || value === null || typeof value !== "object" ? value : JSON.parse(JSON.stringify(value));
}
