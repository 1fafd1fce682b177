/**
 * Snowflake-like ids for things the Mastodon client API shows (pods as accounts, their
 * posts). Mastodon clients sort and page by id and expect numeric strings that grow with
 * time, so an id is derived from the row itself and needs no table of its own:
 *
 *   (creation time in ms) << 16 | kind << 13 | (FNV-1a of the row's key) & 0x1fff
 *
 * The kind (3 bits) keeps a pod's charter, summaries, offers and needs made in the same
 * millisecond apart; the hash (13 bits) tells rows of one kind and millisecond apart.
 * The result fits a signed 64-bit integer (what Mastodon's ids are) until the year 6429.
 */

/** Kind codes: 0 pods (account ids), 1 charter, 2 summary, 3 offer, 4 need. */
export const SNOWFLAKE_KINDS = { pod: 0, charter: 1, summary: 2, offer: 3, need: 4 } as const;

const HASH_BITS = 13n;
const KIND_BITS = 3n;
const HASH_MASK = (1 << Number(HASH_BITS)) - 1; // 0x1fff
const KIND_MAX = (1 << Number(KIND_BITS)) - 1; // 7
const MS_MAX = 2 ** 47 - 1; // keeps the id at or below 2^63 - 1
const INT64_MAX = 2n ** 63n - 1n;

/** 32-bit FNV-1a over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The id of the row `rowKey` of kind `kindCode` created at `createdAt`, as a decimal string. */
export function snowflakeId(createdAt: Date, kindCode: number, rowKey: string): string {
  const ms = createdAt.getTime();
  if (!Number.isInteger(ms) || ms < 0 || ms > MS_MAX) throw new RangeError(`snowflakeId: time out of range (${String(createdAt)})`);
  if (!Number.isInteger(kindCode) || kindCode < 0 || kindCode > KIND_MAX) throw new RangeError(`snowflakeId: kind must be 0..${KIND_MAX}`);
  const id = (BigInt(ms) << (KIND_BITS + HASH_BITS)) | (BigInt(kindCode) << HASH_BITS) | BigInt(fnv1a32(rowKey) & HASH_MASK);
  return id.toString();
}

/** An id's parts, or null for anything that is not such an id (never throws). */
export function decodeSnowflake(id: string): { ms: number; kindCode: number; hash: number } | null {
  const value = parseSnowflake(id);
  if (value === null) return null;
  return {
    ms: Number(value >> (KIND_BITS + HASH_BITS)),
    kindCode: Number((value >> HASH_BITS) & BigInt(KIND_MAX)),
    hash: Number(value & BigInt(HASH_MASK)),
  };
}

/** A well-formed id as a bigint (1 to 19 digits, no leading zero, at most 2^63 - 1), or null. */
export function parseSnowflake(id: unknown): bigint | null {
  if (typeof id !== "string" || !/^[1-9][0-9]{0,18}$/.test(id)) return null;
  const value = BigInt(id);
  return value <= INT64_MAX ? value : null;
}
