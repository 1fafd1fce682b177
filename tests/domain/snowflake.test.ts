/**
 * Snowflake-like ids: round trip of time, kind and hash; ids grow with time whatever the
 * kind and row; the parser refuses anything that is not such an id, and never throws.
 */
import { describe, expect, it } from "vitest";
import { decodeSnowflake, fnv1a32, parseSnowflake, snowflakeId, SNOWFLAKE_KINDS } from "../../src/domain/snowflake.ts";

describe("snowflakeId", () => {
  it("round-trips the time, the kind and the row's hash", () => {
    const at = new Date("2026-11-28T12:00:00.123Z");
    for (const kind of [0, 1, 2, 3, 4, 7]) {
      const id = snowflakeId(at, kind, "row-1");
      expect(id).toMatch(/^[1-9]\d*$/);
      expect(decodeSnowflake(id)).toEqual({ ms: at.getTime(), kindCode: kind, hash: fnv1a32("row-1") & 0x1fff });
    }
  });

  it("uses 32-bit FNV-1a (reference values) over UTF-8", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(fnv1a32("é")).not.toBe(fnv1a32("e"));
  });

  it("grows with time, whatever the kind and the row", () => {
    const base = Date.parse("2026-11-28T12:00:00Z");
    const ids = [0, 1, 2, 1000, 86_400_000].map((d, i) =>
      BigInt(snowflakeId(new Date(base + d), [4, 0, 3, 1, 2][i]!, `row-${10 - i}`)),
    );
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    // Same millisecond: the kind comes before the hash.
    const need = BigInt(snowflakeId(new Date(base), SNOWFLAKE_KINDS.need, "a"));
    const offer = BigInt(snowflakeId(new Date(base), SNOWFLAKE_KINDS.offer, "b"));
    expect(need > offer).toBe(true);
    expect(need >> 16n).toBe(offer >> 16n);
  });

  it("is the same for the same row, and differs between rows of one millisecond", () => {
    const at = new Date("2026-01-01T00:00:00Z");
    expect(snowflakeId(at, 3, "x")).toBe(snowflakeId(new Date(at), 3, "x"));
    expect(snowflakeId(at, 3, "x")).not.toBe(snowflakeId(at, 3, "y"));
  });

  it("refuses times and kinds it cannot encode", () => {
    expect(() => snowflakeId(new Date(Number.NaN), 1, "x")).toThrow(RangeError);
    expect(() => snowflakeId(new Date(-1), 1, "x")).toThrow(RangeError);
    expect(() => snowflakeId(new Date(2 ** 47), 1, "x")).toThrow(RangeError);
    expect(() => snowflakeId(new Date(0), 8, "x")).toThrow(RangeError);
    expect(() => snowflakeId(new Date(0), 1.5, "x")).toThrow(RangeError);
    // The largest time still fits a signed 64-bit integer.
    expect(BigInt(snowflakeId(new Date(2 ** 47 - 1), 7, "x")) <= 2n ** 63n - 1n).toBe(true);
  });
});

describe("decodeSnowflake", () => {
  it.each(["", "abc", "-1", "01", "0", "12345678901234567890", "9223372036854775808", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "1e5", " 12", "12 ", "1.5", "+12", "١٢"])(
    "gives null for %j",
    (input) => {
      expect(decodeSnowflake(input)).toBeNull();
      expect(parseSnowflake(input)).toBeNull();
    },
  );

  it("gives null for what is not a string", () => {
    for (const input of [undefined, null, 12, 12n, {}, ["1"]]) expect(parseSnowflake(input)).toBeNull();
  });

  it("accepts 1 to 19 digits up to 2^63 - 1", () => {
    expect(decodeSnowflake("1")).toEqual({ ms: 0, kindCode: 0, hash: 1 });
    expect(decodeSnowflake("9223372036854775807")).toEqual({ ms: 2 ** 47 - 1, kindCode: 7, hash: 0x1fff });
  });
});
