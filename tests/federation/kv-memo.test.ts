/**
 * The per-process memory in front of Fedify's key–value store (src/federation/storage/kv-memo.ts):
 * which keys it remembers, how long, that unchanged rewrites are skipped and changed ones
 * are not, that the database stays the truth for a second process, and that idempotency
 * records always come from the database.
 */
import type { KvKey, KvStore, KvStoreSetOptions } from "@fedify/fedify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { duration } from "../../src/federation/storage/duration.ts";
import { KvMemo } from "../../src/federation/storage/kv-memo.ts";
import { KyselyKvStore } from "../../src/federation/storage/kv-store.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
});
beforeEach(async () => {
  await testDb.handle.db.deleteFrom("fedify_kv").execute();
});

/** The real store, counting what reaches the database. */
function countingStore() {
  const inner = new KyselyKvStore(testDb.handle.db);
  const calls = { get: 0, set: 0, delete: 0, cas: 0 };
  const store: KvStore = {
    get: (key) => (calls.get++, inner.get(key)),
    set: (key: KvKey, value: unknown, options?: KvStoreSetOptions) => (calls.set++, inner.set(key, value, options)),
    delete: (key) => (calls.delete++, inner.delete(key)),
    cas: (key, expected, value, options) => (calls.cas++, inner.cas(key, expected, value, options)),
    list: (prefix) => inner.list(prefix),
  };
  return { store, inner, calls };
}

function memoWithClock(store: KvStore) {
  let now = 1_000;
  const memo = new KvMemo(store, { now: () => now });
  return { memo, advance: (ms: number) => (now += ms) };
}

const SPEC: KvKey = ["_fedify", "httpMessageSignaturesSpec", "https://remote.example"];
const KEY: KvKey = ["_fedify", "publicKey", "https://remote.example/users/a#main-key"];
const CIRCUIT: KvKey = ["_fedify", "circuit", "remote.example"];
const IDEMPOTENCE: KvKey = ["_fedify", "activityIdempotence", "https://remote.example/activities/1"];

describe("KvMemo", () => {
  it("reads a signature spec from the database once, then from memory", async () => {
    const { store, calls, inner } = countingStore();
    await inner.set(SPEC, "draft-cavage-http-signatures-12");
    const { memo } = memoWithClock(store);
    expect(await memo.get(SPEC)).toBe("draft-cavage-http-signatures-12");
    expect(await memo.get(SPEC)).toBe("draft-cavage-http-signatures-12");
    expect(await memo.get(SPEC)).toBe("draft-cavage-http-signatures-12");
    expect(calls.get).toBe(1);
    expect(memo.stats).toMatchObject({ hits: 2, misses: 1 });
  });

  it("remembers an absent spec too, and writes the first value", async () => {
    const { store, calls, inner } = countingStore();
    const { memo } = memoWithClock(store);
    expect(await memo.get(SPEC)).toBeUndefined();
    expect(await memo.get(SPEC)).toBeUndefined();
    expect(calls.get).toBe(1);
    await memo.set(SPEC, "rfc9421");
    expect(calls.set).toBe(1);
    expect(await inner.get(SPEC)).toBe("rfc9421");
  });

  it("skips rewriting an unchanged spec, and writes a changed one through", async () => {
    const { store, calls, inner } = countingStore();
    const { memo } = memoWithClock(store);
    await memo.set(SPEC, "rfc9421");
    await memo.set(SPEC, "rfc9421");
    await memo.set(SPEC, "rfc9421");
    expect(calls.set).toBe(1);
    expect(memo.stats.skippedWrites).toBe(2);
    await memo.set(SPEC, "draft-cavage-http-signatures-12");
    expect(calls.set).toBe(2);
    expect(await inner.get(SPEC)).toBe("draft-cavage-http-signatures-12");
    expect(await memo.get(SPEC)).toBe("draft-cavage-http-signatures-12");
  });

  it("asks the database again once the trust period is over (a second process's change is seen)", async () => {
    const { store, calls } = countingStore();
    const { memo, advance } = memoWithClock(store);
    const other = new KvMemo(new KyselyKvStore(testDb.handle.db));
    await memo.set(SPEC, "rfc9421");
    await other.set(SPEC, "draft-cavage-http-signatures-12");
    expect(await memo.get(SPEC)).toBe("rfc9421");
    advance(59_000);
    expect(await memo.get(SPEC)).toBe("rfc9421");
    advance(2_000);
    expect(await memo.get(SPEC)).toBe("draft-cavage-http-signatures-12");
    expect(calls.get).toBe(1);
    // The unchanged-write shortcut follows what it last read, not what it once wrote.
    await memo.set(SPEC, "rfc9421");
    expect(calls.set).toBe(2);
  });

  it("trusts a circuit breaker state for two seconds only, and updates it on a successful cas", async () => {
    const { store, calls } = countingStore();
    const { memo, advance } = memoWithClock(store);
    const open = { state: "open", failures: 5 };
    expect(await memo.cas(CIRCUIT, undefined, open)).toBe(true);
    expect(await memo.get(CIRCUIT)).toEqual(open);
    expect(calls.get).toBe(0);
    advance(2_100);
    expect(await memo.get(CIRCUIT)).toEqual(open);
    expect(calls.get).toBe(1);
    // A cas that loses (the database holds something else) is not remembered as won.
    expect(await memo.cas(CIRCUIT, { state: "closed" }, { state: "half-open" })).toBe(false);
    expect(await memo.get(CIRCUIT)).toEqual(open);
    expect(calls.get).toBe(2);
  });

  it("remembers a value written with an expiry no longer than it lives", async () => {
    const { store, calls } = countingStore();
    const { memo, advance } = memoWithClock(store);
    await memo.set(KEY, null, { ttl: duration({ seconds: 1 }) });
    expect(await memo.get(KEY)).toBeNull();
    expect(calls.get).toBe(0);
    advance(1_500);
    await memo.get(KEY);
    expect(calls.get).toBe(1);
  });

  it("forgets a deleted key at once", async () => {
    const { store, inner } = countingStore();
    const { memo } = memoWithClock(store);
    await memo.set(KEY, { id: "https://remote.example/users/a#main-key" });
    await memo.delete(KEY);
    expect(await memo.get(KEY)).toBeUndefined();
    expect(await inner.get(KEY)).toBeUndefined();
  });

  it("never remembers idempotency records or other keys", async () => {
    const { store, calls, inner } = countingStore();
    const { memo } = memoWithClock(store);
    await memo.set(IDEMPOTENCE, true);
    await memo.set(IDEMPOTENCE, true);
    expect(calls.set).toBe(2);
    expect(await memo.get(IDEMPOTENCE)).toBe(true);
    await inner.delete(IDEMPOTENCE);
    expect(await memo.get(IDEMPOTENCE)).toBeUndefined();
    expect(calls.get).toBe(2);
  });

  it("hands out copies: changing a value read does not change what is remembered", async () => {
    const { store } = countingStore();
    const { memo } = memoWithClock(store);
    await memo.set(KEY, { id: "k", publicKeyPem: "PEM" });
    const first = (await memo.get<{ id: string; publicKeyPem: string }>(KEY))!;
    first.publicKeyPem = "changed";
    expect(await memo.get(KEY)).toEqual({ id: "k", publicKeyPem: "PEM" });
  });

  it("forgets the value when a write fails, and lets the error through", async () => {
    const { store } = countingStore();
    const { memo } = memoWithClock(store);
    await memo.set(SPEC, "rfc9421");
    const failing: KvStore = { ...store, set: () => Promise.reject(new Error("disk full")) };
    const broken = new KvMemo(failing, { now: () => 1_000 });
    await broken.get(SPEC);
    await expect(broken.set(SPEC, "draft-cavage-http-signatures-12")).rejects.toThrow("disk full");
    expect(await broken.get(SPEC)).toBe("rfc9421");
  });
});
