/**
 * Values remembered per process for a moment, per database: for what the fediverse reads on
 * every request and stewards change rarely (a pod, its charter's stamp). A change made in
 * this process calls `forget` and is seen at once; one made by another process (several web
 * processes on PostgreSQL) within `ms`.
 */
import type { ServiceDeps } from "./ports.ts";

/** Entries kept at most per database; past that the cache starts afresh. */
const MAX_ENTRIES = 10_000;

export interface MomentCache<T> {
  get(deps: ServiceDeps, key: string, load: () => Promise<T>): Promise<T>;
  forget(deps: ServiceDeps, key: string): void;
}

export function momentCache<T>(ms: number): MomentCache<T> {
  const byDb = new WeakMap<object, Map<string, { value: T; at: number }>>();
  return {
    async get(deps, key, load) {
      let cache = byDb.get(deps.db);
      if (!cache) byDb.set(deps.db, (cache = new Map()));
      const now = performance.now();
      const hit = cache.get(key);
      if (hit && now - hit.at < ms) return hit.value;
      const value = await load();
      if (cache.size > MAX_ENTRIES) cache.clear();
      cache.set(key, { value, at: now });
      return value;
    },
    forget(deps, key) {
      byDb.get(deps.db)?.delete(key);
    },
  };
}
