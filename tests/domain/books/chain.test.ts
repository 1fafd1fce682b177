/**
 * The chain's canonical form: the fast serialiser for entries and private parts must give
 * exactly the RFC 8785 text of the `canonicalize` package, whatever the strings hold.
 */
import { describe, expect, it } from "vitest";
import canonicalize from "canonicalize";
import { canonicalEntryJson, canonicalPrivateJson, entryHash, GENESIS_HASH, verifyChain, type PublicEntry } from "../../../src/domain/books/chain.ts";

const NASTY = ["", "plain", 'quote " and \\ backslash', "tab\tnew\nline\r", "\u0000\u001f\u007f", "é ü 漢字 😀", "\u2028\u2029", "</script>"];

function entry(i: number): PublicEntry {
  const pick = (k: number) => NASTY[(i + k) % NASTY.length]!;
  return {
    seq: i + 1,
    id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    kind: i % 2 ? "draw" : "contribution",
    resource: "squash",
    unit: "kilogram",
    quantity: i % 3 ? "12.5" : "-0.000001",
    fund: i % 2 ? "survival" : null,
    marketValue: "123456789012345678.99",
    charged: "0",
    currency: "EUR",
    counterpartyKind: i % 4 ? "outside" : "none",
    counterparty: i % 4 ? pick(1) : null,
    publicMemo: pick(2),
    occurredAt: "2026-11-28T10:00:00.000Z",
    recordedAt: "2026-11-28T10:00:00.123Z",
    corrects: i % 5 ? null : 9007199254740991,
    privateDigest: "ab".repeat(32),
  };
}

describe("canonical form", () => {
  it("of an entry is the RFC 8785 text, for every kind of string", () => {
    for (let i = 0; i < 60; i++) expect(canonicalEntryJson(entry(i))).toBe(canonicalize(entry(i)));
  });

  it("of a private part is the RFC 8785 text", () => {
    for (const memo of NASTY) {
      const part = { salt: "c2FsdA", member: memo ? "m-7f3a" : null, privateMemo: memo, receipt: memo ? "R1-ABCDEF" : null };
      expect(canonicalPrivateJson(part)).toBe(canonicalize(part));
    }
  });

  it("falls back to the general algorithm for other shapes (extra key, fraction, nested value)", () => {
    const extra = { ...entry(1), extra: "x" } as PublicEntry;
    expect(canonicalEntryJson(extra)).toBe(canonicalize(extra));
    const fraction = { ...entry(1), seq: 1.5 } as PublicEntry;
    expect(canonicalEntryJson(fraction)).toBe(canonicalize(fraction));
    const nested = { ...entry(1), publicMemo: { b: 1, a: [2] } } as unknown as PublicEntry;
    expect(canonicalEntryJson(nested)).toBe(canonicalize(nested));
    const missing = { ...entry(1) } as Partial<PublicEntry>;
    delete missing.unit;
    expect(canonicalEntryJson(missing as PublicEntry)).toBe(canonicalize(missing));
  });

  it("refuses a lone surrogate, like the general algorithm", () => {
    const bad = { ...entry(1), publicMemo: "\ud800 lone" };
    expect(() => canonicalize(bad)).toThrow();
    expect(() => canonicalEntryJson(bad)).toThrow();
  });

  it("chains, and a changed byte breaks the chain at that entry", () => {
    const entries = [];
    let prev = GENESIS_HASH;
    for (let i = 0; i < 5; i++) {
      const e = entry(i);
      const hash = entryHash(prev, e);
      entries.push({ ...e, hash });
      prev = hash;
    }
    expect(verifyChain(entries).fault).toBeNull();
    entries[2] = { ...entries[2]!, publicMemo: entries[2]!.publicMemo + " " };
    expect(verifyChain(entries).fault).toMatchObject({ seq: 3, reason: "hash_mismatch" });
  });
});
