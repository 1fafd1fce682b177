import type { KvKey } from "@fedify/fedify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { duration } from "../../src/federation/storage/duration.ts";
import { KyselyKvStore } from "../../src/federation/storage/kv-store.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let testDb: TestDatabase;
let store: KyselyKvStore;

beforeAll(async () => {
  testDb = await createTestDatabase();
  store = new KyselyKvStore(testDb.handle.db);
});
afterAll(async () => {
  await testDb?.drop();
});
beforeEach(async () => {
  await testDb.handle.db.deleteFrom("fedify_kv").execute();
});

async function listKeys(s: KyselyKvStore, prefix?: KvKey): Promise<KvKey[]> {
  const keys: KvKey[] = [];
  for await (const entry of s.list(prefix)) keys.push(entry.key);
  // The store promises no particular order; compare sorted.
  return keys.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** A store whose clock the test moves by hand. */
function storeWithClock(start = new Date("2030-01-01T00:00:00Z")) {
  let now = start.getTime();
  const s = new KyselyKvStore(testDb.handle.db, { now: () => new Date(now) });
  return { store: s, advance: (ms: number) => (now += ms) };
}

describe("KyselyKvStore get/set/delete", () => {
  it("returns undefined for a missing key", async () => {
    expect(await store.get(["missing"])).toBeUndefined();
  });

  it("round-trips JSON values of every kind, arrays as JSON arrays", async () => {
    const values: unknown[] = [
      "text",
      42,
      1.5,
      true,
      false,
      [1, "two", [3]],
      { nested: { list: [1, 2], flag: false }, s: "x" },
      { id: "https://example.com/users/a#main-key", publicKey: { kty: "RSA", n: "abc", e: "AQAB" } },
    ];
    for (const [i, value] of values.entries()) await store.set(["v", String(i)], value);
    for (const [i, value] of values.entries()) expect(await store.get(["v", String(i)])).toEqual(value);
    // The array is stored as a jsonb array, not a PostgreSQL array.
    const row = await testDb.handle.db
      .selectFrom("fedify_kv")
      .select((eb) => eb.fn<string>("jsonb_typeof", ["value"]).as("type"))
      .where("key", "=", JSON.stringify(["v", "5"]))
      .executeTakeFirstOrThrow();
    expect(row.type).toBe("array");
  });

  it("keeps a stored null distinct from an absent key", async () => {
    await store.set(["_fedify", "publicKey", "https://a.example/key"], null);
    expect(await store.get(["_fedify", "publicKey", "https://a.example/key"])).toBeNull();
    expect(await store.get(["_fedify", "publicKey", "https://b.example/key"])).toBeUndefined();
    expect(await listKeys(store, ["_fedify", "publicKey"])).toEqual([["_fedify", "publicKey", "https://a.example/key"]]);
  });

  it("overwrites a value and its TTL", async () => {
    const { store: s, advance } = storeWithClock();
    await s.set(["k"], 1, { ttl: duration({ seconds: 5 }) });
    await s.set(["k"], 2);
    advance(10_000);
    expect(await s.get(["k"])).toBe(2);
  });

  it("deletes a key, and deleting a missing key is harmless", async () => {
    await store.set(["a", "b"], "x");
    await store.set(["a", "c"], "y");
    await store.delete(["a", "b"]);
    await store.delete(["nothing", "here"]);
    expect(await store.get(["a", "b"])).toBeUndefined();
    expect(await store.get(["a", "c"])).toBe("y");
  });

  it("treats setting undefined as a delete", async () => {
    await store.set(["u"], 1);
    await store.set(["u"], undefined);
    expect(await store.get(["u"])).toBeUndefined();
  });

  it("keeps keys that differ only in how elements are split apart", async () => {
    await store.set(["a", "b"], 1);
    await store.set(["a,b"], 2);
    await store.set(['a","b'], 3);
    expect(await store.get(["a", "b"])).toBe(1);
    expect(await store.get(["a,b"])).toBe(2);
    expect(await store.get(['a","b'])).toBe(3);
  });
});

describe("KyselyKvStore list", () => {
  it("lists by element prefix, including the key equal to the prefix", async () => {
    await store.set(["a"], 0);
    await store.set(["a", "b"], 1);
    await store.set(["a", "b", "c"], 2);
    await store.set(["a", "bc"], 3);
    await store.set(["ab"], 4);
    await store.set(["z"], 5);

    expect(await listKeys(store, ["a", "b"])).toEqual([
      ["a", "b", "c"],
      ["a", "b"],
    ]);
    expect(await listKeys(store, ["a"])).toEqual([["a", "b", "c"], ["a", "b"], ["a", "bc"], ["a"]]);
    expect(await listKeys(store, ["nothing"])).toEqual([]);
    const all: { key: KvKey; value: unknown }[] = [];
    for await (const entry of store.list()) all.push(entry);
    expect(all).toHaveLength(6);
    expect(all.find((e) => e.key.length === 1 && e.key[0] === "z")?.value).toBe(5);
  });

  it("does not treat %, _, quotes or backslashes in a prefix as patterns", async () => {
    await store.set(["p%", "1"], "percent");
    await store.set(["pq", "1"], "not percent");
    await store.set(["pXq", "1"], "wide");
    await store.set(["a_", "1"], "underscore");
    await store.set(["ab", "1"], "not underscore");
    await store.set(['q"', "1"], "quote");
    await store.set(["q", "1"], "no quote");
    await store.set(["b\\", "1"], "backslash");
    await store.set(["b\\\\", "1"], "two backslashes");
    await store.set(["b", "1"], "no backslash");

    expect(await listKeys(store, ["p%"])).toEqual([["p%", "1"]]);
    expect(await listKeys(store, ["a_"])).toEqual([["a_", "1"]]);
    expect(await listKeys(store, ['q"'])).toEqual([['q"', "1"]]);
    expect(await listKeys(store, ["b\\"])).toEqual([["b\\", "1"]]);
    expect(await listKeys(store, ["p%", "1"])).toEqual([["p%", "1"]]);
  });

  it("pages through more entries than one round trip fetches", async () => {
    const rows = Array.from({ length: 1234 }, (_, i) => ({
      key: JSON.stringify(["bulk", String(i).padStart(5, "0")]),
      value: JSON.stringify(i),
    }));
    await testDb.handle.db.insertInto("fedify_kv").values(rows).execute();
    await store.set(["other"], true);
    const seen: number[] = [];
    for await (const entry of store.list(["bulk"])) seen.push(entry.value as number);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 1234 }, (_, i) => i));
  });
});

describe("KyselyKvStore TTL", () => {
  it("hides expired entries from get, list and cas, and sweeps them", async () => {
    const { store: s, advance } = storeWithClock();
    await s.set(["t", "short"], "a", { ttl: duration({ seconds: 10 }) });
    await s.set(["t", "long"], "b", { ttl: duration({ days: 1 }) });
    await s.set(["t", "forever"], "c");

    advance(9_000);
    expect(await s.get(["t", "short"])).toBe("a");
    expect(await s.sweepExpired()).toBe(0);

    advance(2_000);
    expect(await s.get(["t", "short"])).toBeUndefined();
    expect(await listKeys(s, ["t"])).toEqual([
      ["t", "forever"],
      ["t", "long"],
    ]);
    // An expired key counts as absent for cas.
    expect(await s.cas(["t", "short"], "a", "z")).toBe(false);

    advance(24 * 3600_000);
    expect(await s.get(["t", "long"])).toBeUndefined();
    expect(await s.sweepExpired()).toBe(2);
    const left = await testDb.handle.db.selectFrom("fedify_kv").select("key").execute();
    expect(left.map((r) => JSON.parse(r.key))).toEqual([["t", "forever"]]);
    expect(await s.sweepExpired()).toBe(0);
  });

  it("expires entries on the real clock too", async () => {
    await store.set(["real"], 1, { ttl: duration({ milliseconds: 300 }) });
    expect(await store.get(["real"])).toBe(1);
    await new Promise((r) => setTimeout(r, 600));
    expect(await store.get(["real"])).toBeUndefined();
  });

  it("measures calendar units from the store's clock", async () => {
    const { store: s, advance } = storeWithClock(new Date("2030-02-01T00:00:00Z"));
    await s.set(["month"], 1, { ttl: duration({ months: 1 }) });
    advance(27 * 24 * 3600_000); // 2030-02-28: February has 28 days
    expect(await s.get(["month"])).toBe(1);
    advance(24 * 3600_000 + 1); // just past 2030-03-01
    expect(await s.get(["month"])).toBeUndefined();
  });
});

describe("KyselyKvStore cas", () => {
  it("swaps when the current value deeply equals the expected one", async () => {
    await store.set(["c"], { a: 1, b: [1, 2], c: { d: null } });
    // Key order does not matter; array order does.
    expect(await store.cas(["c"], { c: { d: null }, b: [1, 2], a: 1 }, { a: 2 })).toBe(true);
    expect(await store.get(["c"])).toEqual({ a: 2 });
    expect(await store.cas(["c"], { a: 2, extra: true }, "no")).toBe(false);
    expect(await store.cas(["c"], [2], "no")).toBe(false);
    expect(await store.get(["c"])).toEqual({ a: 2 });
    await store.set(["arr"], [1, 2]);
    expect(await store.cas(["arr"], [2, 1], "no")).toBe(false);
    expect(await store.cas(["arr"], [1, 2], [3])).toBe(true);
    expect(await store.get(["arr"])).toEqual([3]);
  });

  it("fails when the key is absent but a value was expected", async () => {
    expect(await store.cas(["absent"], "x", "y")).toBe(false);
    expect(await store.cas(["absent"], null, "y")).toBe(false);
    expect(await store.get(["absent"])).toBeUndefined();
  });

  it("matches a stored null only with an expected null", async () => {
    await store.set(["n"], null);
    expect(await store.cas(["n"], undefined, 1)).toBe(false);
    expect(await store.cas(["n"], null, 1)).toBe(true);
    expect(await store.get(["n"])).toBe(1);
  });

  it("with expected undefined, creates the key only if absent", async () => {
    expect(await store.cas(["new"], undefined, "first")).toBe(true);
    expect(await store.get(["new"])).toBe("first");
    expect(await store.cas(["new"], undefined, "second")).toBe(false);
    expect(await store.get(["new"])).toBe("first");
    // absent → absent succeeds, present → absent does not
    expect(await store.cas(["other"], undefined, undefined)).toBe(true);
    expect(await store.cas(["new"], undefined, undefined)).toBe(false);
    expect(await store.get(["new"])).toBe("first");
  });

  it("replaces an expired entry when expected is undefined", async () => {
    const { store: s, advance } = storeWithClock();
    await s.set(["e"], "old", { ttl: duration({ seconds: 1 }) });
    expect(await s.cas(["e"], undefined, "new")).toBe(false);
    advance(2_000);
    expect(await s.cas(["e"], undefined, "new", { ttl: duration({ seconds: 5 }) })).toBe(true);
    expect(await s.get(["e"])).toBe("new");
    advance(6_000);
    expect(await s.get(["e"])).toBeUndefined();
  });

  it("deletes when the new value is undefined (nonce consumption)", async () => {
    await store.set(["_fedify", "acceptSignatureNonce", "abc"], true);
    expect(await store.cas(["_fedify", "acceptSignatureNonce", "abc"], false, undefined)).toBe(false);
    expect(await store.get(["_fedify", "acceptSignatureNonce", "abc"])).toBe(true);
    expect(await store.cas(["_fedify", "acceptSignatureNonce", "abc"], true, undefined)).toBe(true);
    expect(await store.get(["_fedify", "acceptSignatureNonce", "abc"])).toBeUndefined();
    // The nonce can be consumed only once.
    expect(await store.cas(["_fedify", "acceptSignatureNonce", "abc"], true, undefined)).toBe(false);
  });

  it("applies the TTL of the new value", async () => {
    const { store: s, advance } = storeWithClock();
    await s.set(["ttl"], 1);
    expect(await s.cas(["ttl"], 1, 2, { ttl: duration({ minutes: 1 }) })).toBe(true);
    advance(59_000);
    expect(await s.get(["ttl"])).toBe(2);
    advance(2_000);
    expect(await s.get(["ttl"])).toBeUndefined();
  });

  it("lets exactly one of many concurrent swaps from the same value win", async () => {
    await store.set(["race"], { n: 0 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.cas(["race"], { n: 0 }, { n: i + 1 })));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.get(["race"])).toEqual({ n: winner + 1 });
  });

  it("lets exactly one of many concurrent creates of an absent key win", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.cas(["race", "create"], undefined, i)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.get(["race", "create"])).toBe(results.indexOf(true));
  });

  it("lets exactly one of many concurrent consumers delete a nonce", async () => {
    await store.set(["race", "nonce"], true);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.cas(["race", "nonce"], true, undefined)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.get(["race", "nonce"])).toBeUndefined();
  });
});
