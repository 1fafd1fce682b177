/**
 * The hash chain of a pod's ledger. This file IS the specification that
 * docs/open-books.md describes and that anyone can re-implement from the public export:
 *
 *   hash(entry) = hex( SHA-256( bytes(prevHash) ‖ UTF-8( JCS(publicEntry) ) ) )
 *
 * - `bytes(prevHash)`: the 32 bytes of the previous entry's hash (hex-decoded); the first
 *   entry's previous hash is 64 zeros (GENESIS_HASH).
 * - `JCS`: RFC 8785 JSON canonicalisation of the PublicEntry object below, exactly the
 *   fields of an entry in `/pods/{slug}/books/export.json` minus `hash`.
 * - Private fields (which member, the private memo, the receipt number) enter only
 *   through `privateDigest` = hex(SHA-256(UTF-8(JCS(PrivatePart)))), where PrivatePart
 *   carries a random 32-byte salt, so the digest reveals nothing, yet a steward can show
 *   the private part and its salt to prove a field was not changed.
 *
 * Decimals are strings in normal form (normalizeDecimal): "12.5", never "12.500000".
 * Times are ISO 8601 in UTC with milliseconds ("2026-11-28T10:00:00.000Z").
 */
import { createHash, randomBytes } from "node:crypto";
import canonicalize from "canonicalize";
import type { CounterpartyKind, EntryKind, Fund } from "./model.ts";

export const GENESIS_HASH = "0".repeat(64);

/** What enters the hash, and what the public export shows of an entry (plus `hash`). */
export interface PublicEntry {
  seq: number;
  id: string;
  kind: EntryKind;
  /** The resource's key, e.g. "squash". */
  resource: string;
  unit: string;
  /** Normal-form decimal; negative only for a correction. */
  quantity: string;
  fund: Fund | null;
  /** Market-equivalent value in `currency`, normal-form decimal. */
  marketValue: string;
  /** The price actually charged (usually "0"). */
  charged: string;
  currency: string;
  counterpartyKind: CounterpartyKind;
  /** Another pod's actor URI, or an outside label; null for a member (private) or none. */
  counterparty: string | null;
  publicMemo: string;
  occurredAt: string;
  recordedAt: string;
  /** The seq of the entry a correction corrects. */
  corrects: number | null;
  privateDigest: string;
  /**
   * The congress agreement a transfer fulfils (its id). Present only on such transfers:
   * entries without one hash exactly as before this field existed.
   */
  agreement?: string;
}

/** The private side of an entry; only its digest is public. */
export interface PrivatePart {
  /** 32 random bytes, base64url. */
  salt: string;
  /** The member's pseudonym (m-7f3a), when the counterparty is a member. */
  member: string | null;
  privateMemo: string;
  /** The commons receipt number of a draw. */
  receipt: string | null;
}

export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value cannot be canonicalised");
  return text;
}

const PUBLIC_KEYS: readonly string[] = [
  "seq", "id", "kind", "resource", "unit", "quantity", "fund", "marketValue", "charged", "currency",
  "counterpartyKind", "counterparty", "publicMemo", "occurredAt", "recordedAt", "corrects", "privateDigest",
].sort();
const PRIVATE_KEYS: readonly string[] = ["salt", "member", "privateMemo", "receipt"].sort();

/**
 * RFC 8785 for a flat object with exactly `keys` (sorted) whose values are strings, safe
 * integers or null: the same text as canonicalJson (JCS serialises strings and integers as
 * JSON.stringify does), built without the generic walk, since verifying a long chain does
 * this once per entry. Anything else falls back to canonicalJson.
 */
function flatCanonicalJson(value: object, keys: readonly string[]): string {
  const record = value as Record<string, unknown>;
  let count = 0;
  for (const _ in record) count++;
  if (count !== keys.length) return canonicalJson(value);
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(record, key)) return canonicalJson(value);
    const v = record[key];
    let text: string;
    if (typeof v === "string") {
      // A lone surrogate has no canonical form: canonicalJson refuses it.
      if (!(v as string & { isWellFormed(): boolean }).isWellFormed()) return canonicalJson(value);
      text = JSON.stringify(v);
    }
    else if (v === null) text = "null";
    else if (typeof v === "number" && Number.isSafeInteger(v)) text = String(v);
    else return canonicalJson(value);
    out += (i === 0 ? '"' : ',"') + key + '":' + text;
  }
  return out + "}";
}

/** JCS of a PublicEntry (fast path of canonicalJson). */
export const canonicalEntryJson = (entry: PublicEntry): string => flatCanonicalJson(entry, PUBLIC_KEYS);
/** JCS of a PrivatePart (fast path of canonicalJson). */
export const canonicalPrivateJson = (part: PrivatePart): string => flatCanonicalJson(part, PRIVATE_KEYS);

/** Random bytes drawn in blocks: an import makes a salt per row. */
let pool = Buffer.alloc(0);
let poolAt = 0;

export function newSalt(): string {
  if (poolAt + 32 > pool.length) {
    pool = randomBytes(32 * 512);
    poolAt = 0;
  }
  const salt = pool.subarray(poolAt, poolAt + 32).toString("base64url");
  poolAt += 32;
  return salt;
}

export function privateDigest(part: PrivatePart): string {
  return createHash("sha256").update(canonicalPrivateJson(part), "utf8").digest("hex");
}

export function entryHash(prevHash: string, entry: PublicEntry): string {
  if (!/^[0-9a-f]{64}$/.test(prevHash)) throw new TypeError("prevHash must be 64 lowercase hex digits");
  return createHash("sha256").update(Buffer.from(prevHash, "hex")).update(canonicalEntryJson(entry), "utf8").digest("hex");
}

export interface ChainFault {
  seq: number;
  reason: "hash_mismatch" | "prev_hash_mismatch" | "seq_gap";
  expected: string;
  found: string;
}

/**
 * Checks entries in seq order, starting after `prevHash` at `prevSeq` (GENESIS_HASH and 0
 * for the whole chain). Returns the first fault, or null with the head reached.
 */
export function verifyChain(
  entries: Iterable<PublicEntry & { hash: string; prevHash?: string }>,
  start: { prevSeq: number; prevHash: string } = { prevSeq: 0, prevHash: GENESIS_HASH },
): { fault: ChainFault | null; headSeq: number; headHash: string } {
  let prev = start.prevHash;
  let seq = start.prevSeq;
  for (const e of entries) {
    if (e.seq !== seq + 1) return { fault: { seq: e.seq, reason: "seq_gap", expected: String(seq + 1), found: String(e.seq) }, headSeq: seq, headHash: prev };
    if (e.prevHash !== undefined && e.prevHash !== prev) {
      return { fault: { seq: e.seq, reason: "prev_hash_mismatch", expected: prev, found: e.prevHash }, headSeq: seq, headHash: prev };
    }
    const { hash, prevHash: _p, ...rest } = e;
    const computed = entryHash(prev, rest as PublicEntry);
    if (computed !== hash) return { fault: { seq: e.seq, reason: "hash_mismatch", expected: computed, found: hash }, headSeq: seq, headHash: prev };
    prev = hash;
    seq = e.seq;
  }
  return { fault: null, headSeq: seq, headHash: prev };
}
