/**
 * The pure entry rules (src/domain/books/entries.ts) against a hand-made context: dates
 * and the future limit, JSON numbers, default market values and their rounding,
 * counterparties, corrections copying their target, and receipt numbers.
 */
import { describe, expect, it } from "vitest";
import { Dec } from "../../src/domain/books/decimal.ts";
import { parseOccurredAt, validateEntry, type EntryContext, type EntryFacts, type ResourceFacts } from "../../src/domain/books/entries.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { newReceiptNumber } from "../../src/services/ledger.ts";

const NOW = new Date("2026-11-28T12:00:00.000Z");

const resources: ResourceFacts[] = [
  { id: "r1", key: "squash", unit: "kilogram", referencePrice: "1.255" },
  { id: "r2", key: "hours", unit: "hour", referencePrice: null },
];
const members = [{ id: "u1", pseudonym: "m-7f3a" }];
const target: EntryFacts = {
  seq: 4,
  kind: "draw",
  resourceId: "r1",
  fund: "survival",
  counterpartyKind: "member",
  memberId: "u1",
  counterparty: null,
  quantity: "3",
  marketValue: "3.77",
  charged: "1",
  corrected: "0",
};

function ctx(over: Partial<EntryContext> = {}): EntryContext {
  return {
    now: NOW,
    currency: "EUR",
    allowOverdraw: false,
    resourceByKey: (k) => resources.find((r) => r.key === k),
    resourceById: (id) => resources.find((r) => r.id === id),
    memberByPseudonym: (p) => members.find((m) => m.pseudonym === p),
    memberById: (id) => members.find((m) => m.id === id),
    stockOf: () => new Dec(10),
    entryBySeq: (seq) => (seq === 4 ? target : seq === 5 ? { ...target, seq: 5, kind: "correction" } : undefined),
    ...over,
  };
}

function code(fn: () => unknown): { code: string; field: unknown } | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (!(e instanceof DomainError)) throw e;
    return { code: e.code, field: e.details?.field };
  }
}

describe("occurredAt", () => {
  it("reads a date as midnight UTC and a datetime with its zone", () => {
    expect(parseOccurredAt("2026-11-28").toISOString()).toBe("2026-11-28T00:00:00.000Z");
    expect(parseOccurredAt("2026-11-28T10:00:00+02:00").toISOString()).toBe("2026-11-28T08:00:00.000Z");
    expect(parseOccurredAt("2026-11-28T10:00Z").toISOString()).toBe("2026-11-28T10:00:00.000Z");
    expect(parseOccurredAt("2026-11-28T10:00:00.123456Z").toISOString()).toBe("2026-11-28T10:00:00.123Z");
  });

  it("refuses dates that are not real or have no zone", () => {
    for (const bad of ["2026-02-30", "2026-11-28T10:00:00", "28/11/2026", "2026-11-28T25:00:00Z", "now"]) {
      expect(code(() => parseOccurredAt(bad)), bad).toEqual({ code: "INVALID_DATE", field: "occurredAt" });
    }
  });

  it("allows up to a day in the future, not a millisecond more", () => {
    const at = (iso: string) => validateEntry({ kind: "contribution", resource: "hours", quantity: "1", occurredAt: iso }, ctx());
    expect(at("2026-11-29T12:00:00.000Z").occurredAt.toISOString()).toBe("2026-11-29T12:00:00.000Z");
    expect(code(() => at("2026-11-29T12:00:00.001Z"))).toEqual({ code: "FUTURE_DATE", field: "occurredAt" });
    expect(validateEntry({ kind: "contribution", resource: "hours", quantity: "1" }, ctx()).occurredAt).toEqual(NOW);
  });
});

describe("entries", () => {
  it("takes JSON numbers and rounds the default market value half-up to cents", () => {
    const e = validateEntry({ kind: "contribution", resource: "squash", quantity: 0.1 }, ctx());
    expect(e).toMatchObject({ quantity: "0.1", marketValue: "0.13", charged: "0", stockEffect: "0.1", counterpartyKind: "none", fund: null, needsReceipt: false });
    expect(validateEntry({ kind: "contribution", resource: "hours", quantity: "2" }, ctx()).marketValue).toBe("0");
    expect(validateEntry({ kind: "contribution", resource: "hours", quantity: "2", marketValue: "30" }, ctx()).marketValue).toBe("30");
  });

  it("treats empty strings and nulls as absent (CSV cells)", () => {
    const e = validateEntry({ kind: "contribution", resource: "hours", quantity: "1", unit: "", fund: null, member: "", publicMemo: "", corrects: "" }, ctx());
    expect(e).toMatchObject({ fund: null, counterpartyKind: "none", publicMemo: "", correctsSeq: null });
  });

  it("checks the stock of outflows only, unless overdraw is allowed", () => {
    expect(code(() => validateEntry({ kind: "transfer_out", resource: "hours", quantity: "10.000001", fund: "survival" }, ctx()))).toEqual({
      code: "INSUFFICIENT_STOCK",
      field: "quantity",
    });
    expect(validateEntry({ kind: "expenditure", resource: "hours", quantity: "10", fund: "survival" }, ctx()).stockEffect).toBe("-10");
    expect(validateEntry({ kind: "draw", resource: "hours", quantity: "11", fund: "survival" }, ctx({ allowOverdraw: true })).needsReceipt).toBe(true);
    expect(code(() => validateEntry({ kind: "transfer_out", resource: "hours", quantity: "11" }, ctx({ allowOverdraw: true })))).toEqual({ code: "FUND_REQUIRED", field: "fund" });
  });

  it("refuses corrects on anything but a correction", () => {
    expect(code(() => validateEntry({ kind: "contribution", resource: "hours", quantity: "1", corrects: 4 }, ctx()))).toEqual({ code: "CORRECTION_TARGET", field: "corrects" });
  });
});

describe("corrections", () => {
  it("copy resource, unit, fund and member; value the delta at the target's unit value", () => {
    const c = validateEntry({ kind: "correction", corrects: "4", quantity: "-1" }, ctx());
    expect(c).toMatchObject({
      kind: "correction",
      resourceKey: "squash",
      unit: "kilogram",
      fund: "survival",
      counterpartyKind: "member",
      member: "m-7f3a",
      quantity: "-1",
      marketValue: "-1.26",
      charged: "-0.33",
      stockEffect: "1",
      correctsSeq: 4,
    });
    expect(validateEntry({ kind: "correction", corrects: 4, quantity: "1", marketValue: "0", charged: "-1" }, ctx())).toMatchObject({ marketValue: "0", charged: "-1", stockEffect: "-1" });
  });

  it("refuse a correction of a correction, a different resource, fund or member, and going below nothing", () => {
    expect(code(() => validateEntry({ kind: "correction", corrects: 5, quantity: "1" }, ctx()))).toEqual({ code: "CORRECTION_TARGET", field: "corrects" });
    expect(code(() => validateEntry({ kind: "correction", corrects: 4, quantity: "1", resource: "hours" }, ctx()))).toEqual({ code: "CORRECTION_MISMATCH", field: "resource" });
    expect(code(() => validateEntry({ kind: "correction", corrects: 4, quantity: "1", fund: "power_shifting" }, ctx()))).toEqual({ code: "CORRECTION_MISMATCH", field: "fund" });
    expect(code(() => validateEntry({ kind: "correction", corrects: 4, quantity: "1", member: "m-0000" }, ctx()))).toEqual({ code: "CORRECTION_MISMATCH", field: "member" });
    expect(code(() => validateEntry({ kind: "correction", corrects: 4, quantity: "1", unit: "hour" }, ctx()))).toEqual({ code: "UNIT_MISMATCH", field: "unit" });
    expect(code(() => validateEntry({ kind: "correction", corrects: 4, quantity: "-3.000001" }, ctx()))).toEqual({ code: "CORRECTION_TOO_LARGE", field: "quantity" });
    expect(validateEntry({ kind: "correction", corrects: 4, quantity: "-3", resource: "squash", fund: "survival", member: "m-7f3a" }, ctx()).quantity).toBe("-3");
    expect(code(() => validateEntry({ kind: "correction", corrects: 4.5, quantity: "1" }, ctx()))).toEqual({ code: "CORRECTION_TARGET", field: "corrects" });
  });
});

describe("receipt numbers", () => {
  it("are R<n>- and six characters of A-Z2-9, different each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const n = newReceiptNumber(42);
      expect(n).toMatch(/^R42-[A-Z2-9]{6}$/);
      seen.add(n);
    }
    expect(seen.size).toBe(500);
  });
});
