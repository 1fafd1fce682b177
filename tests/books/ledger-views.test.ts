/**
 * What the books page and the importer read and write through: balances at a date,
 * weekly and monthly series, the provided value by category, sessions (running stock,
 * corrections of entries prepared in the same batch, a ledger that moved underneath),
 * and recordEntry under an Idempotency-Key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import { addResource } from "../../src/services/books.ts";
import {
  appendPrepared,
  getBalances,
  getBookSeries,
  getLedgerHead,
  getProvidedValue,
  listEntries,
  openLedgerSession,
  recordEntry,
  verifyLedger,
} from "../../src/services/ledger.ts";
import { withIdempotencyKey } from "../../src/services/idempotency.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { normalizeDecimal } from "../../src/domain/books/decimal.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const POD = "oak-street";
const clock: Clock = { now: () => new Date("2026-11-28T12:00:00.000Z") };

let node: TestNode;
let deps: ServiceDeps;

const d = (s: string) => new Date(s);

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD });
  deps = { ...node.deps, clock };
  await addResource(deps, POD, { key: "rice", name: "Rice", unit: "kilogram", category: "food", referencePrice: "2" });
  await addResource(deps, POD, { key: "repairs", name: "Repair hours", unit: "hour", category: "repair", referencePrice: "15" });
  await recordEntry(deps, POD, { kind: "contribution", resource: "repairs", quantity: "10", occurredAt: "2026-11-01" }); // 1
  await recordEntry(deps, POD, { kind: "contribution", resource: "rice", quantity: "100", occurredAt: "2026-11-02" }); // 2
  await recordEntry(deps, POD, { kind: "draw", resource: "rice", quantity: "10", fund: "survival", charged: "5", occurredAt: "2026-11-03T09:30:00Z" }); // 3
  await recordEntry(deps, POD, { kind: "transfer_out", resource: "rice", quantity: "5", fund: "capacity_building", occurredAt: "2026-11-10" }); // 4
  await recordEntry(deps, POD, { kind: "expenditure", resource: "rice", quantity: "1", fund: "power_shifting", occurredAt: "2026-11-11" }); // 5
  await recordEntry(deps, POD, { kind: "draw", resource: "repairs", quantity: "2", fund: "survival", occurredAt: "2026-11-12T23:59:59+02:00" }); // 6
  await recordEntry(deps, POD, { kind: "correction", corrects: 3, quantity: "-2", occurredAt: "2026-11-24" }); // 7
});

afterAll(async () => {
  await node?.stop();
});

describe("balances", () => {
  it("at a date counts what occurred up to then", async () => {
    const b = await getBalances(deps, POD, d("2026-11-05T00:00:00Z"));
    expect(b).toMatchObject({ currency: "EUR", entries: 3, valueReclaimed: "15" });
    expect(b.stock).toEqual([
      { resource: "repairs", name: "Repair hours", unit: "hour", category: "repair", quantity: "10" },
      { resource: "rice", name: "Rice", unit: "kilogram", category: "food", quantity: "90" },
    ]);
    expect(b.funds).toEqual([
      { fund: "survival", inflowValue: "0", outflowValue: "20", entries: 1 },
      { fund: "capacity_building", inflowValue: "0", outflowValue: "0", entries: 0 },
      { fund: "power_shifting", inflowValue: "0", outflowValue: "0", entries: 0 },
    ]);
  });

  it("now includes corrections in their entry's direction", async () => {
    const b = await getBalances(deps, POD);
    expect(b.at).toEqual(clock.now());
    expect(b.entries).toBe(7);
    expect(b.valueReclaimed).toBe("52");
    expect(b.stock.map((s) => [s.resource, s.quantity])).toEqual([
      ["repairs", "8"],
      ["rice", "86"],
    ]);
    expect(b.funds.find((f) => f.fund === "survival")).toEqual({ fund: "survival", inflowValue: "0", outflowValue: "46", entries: 3 });
  });
});

describe("series", () => {
  it("gives one point per UTC week from Monday with a running total", async () => {
    const weeks = await getBookSeries(deps, POD, { bucket: "week" });
    expect(weeks.map((p) => [p.start.toISOString().slice(0, 10), p.valueReclaimed, p.cumulativeValueReclaimed])).toEqual([
      ["2026-10-26", "0", "0"],
      ["2026-11-02", "15", "15"],
      ["2026-11-09", "40", "55"],
      ["2026-11-16", "0", "55"],
      ["2026-11-23", "-3", "52"],
    ]);
    expect(weeks[2]!.outflowByFund).toEqual({ survival: "30", capacity_building: "10", power_shifting: "2" });
    expect(weeks[4]!.outflowByFund).toEqual({ survival: "-4", capacity_building: "0", power_shifting: "0" });
  });

  it("starts the running total with what came before `from`, and stops before `to`", async () => {
    const weeks = await getBookSeries(deps, POD, { bucket: "week", from: d("2026-11-18T00:00:00Z"), to: d("2026-11-23T00:00:00Z") });
    expect(weeks.map((p) => [p.start.toISOString(), p.valueReclaimed, p.cumulativeValueReclaimed])).toEqual([["2026-11-16T00:00:00.000Z", "0", "55"]]);
  });

  it("gives one point per calendar month", async () => {
    const months = await getBookSeries(deps, POD, { bucket: "month", from: d("2026-10-15T00:00:00Z") });
    expect(months).toEqual([
      { start: d("2026-10-01T00:00:00Z"), valueReclaimed: "0", cumulativeValueReclaimed: "0", outflowByFund: { survival: "0", capacity_building: "0", power_shifting: "0" } },
      { start: d("2026-11-01T00:00:00Z"), valueReclaimed: "52", cumulativeValueReclaimed: "52", outflowByFund: { survival: "46", capacity_building: "10", power_shifting: "2" } },
    ]);
  });

  it("refuses an unknown bucket", async () => {
    await expect(getBookSeries(deps, POD, { bucket: "year" as "week" })).rejects.toMatchObject({ code: "INVALID_BUCKET" });
  });
});

describe("provided value", () => {
  it("sums what was drawn and transferred out, by category, in [from, to)", async () => {
    expect(await getProvidedValue(deps, POD, d("2026-11-01T00:00:00Z"), d("2026-12-01T00:00:00Z"))).toEqual({
      currency: "EUR",
      total: "56",
      byCategory: [
        { category: "food", value: "26", lines: [{ resource: "rice", name: "Rice", unit: "kilogram", quantity: "13", value: "26" }] },
        { category: "repair", value: "30", lines: [{ resource: "repairs", name: "Repair hours", unit: "hour", quantity: "2", value: "30" }] },
      ],
    });
    const late = await getProvidedValue(deps, POD, d("2026-11-13T00:00:00Z"), d("2026-12-01T00:00:00Z"));
    expect(late.total).toBe("-4");
    expect(await getProvidedValue(deps, POD, d("2026-12-01T00:00:00Z"), d("2027-01-01T00:00:00Z"))).toEqual({ currency: "EUR", total: "0", byCategory: [] });
  });
});

describe("sessions", () => {
  it("keep a running stock and let a batch correct its own entries", async () => {
    const head = await getLedgerHead(deps, POD);
    const session = await openLedgerSession(deps, POD);
    expect(session.settings.currency).toBe("EUR");
    const a = session.prepare({ kind: "contribution", resource: "rice", quantity: "4" });
    const b = session.prepare({ kind: "draw", resource: "rice", quantity: "90", fund: "survival" }); // 86 + 4
    expect(() => session.prepare({ kind: "draw", resource: "rice", quantity: "0.000001", fund: "survival" })).toThrowError(
      expect.objectContaining({ code: "INSUFFICIENT_STOCK" }),
    );
    const c = session.prepare({ kind: "correction", corrects: head.seq + 1, quantity: "-1" });
    expect(() => session.prepare({ kind: "correction", corrects: head.seq + 1, quantity: "-4" })).toThrowError(expect.objectContaining({ code: "CORRECTION_TOO_LARGE" }));
    expect([a.expectedSeq, b.expectedSeq, c.expectedSeq]).toEqual([head.seq + 1, head.seq + 2, head.seq + 3]);
    const range = await deps.db.transaction().execute((trx) => appendPrepared(deps, trx, session, [a, b, c]));
    expect(range).toEqual({ firstSeq: head.seq + 1, lastSeq: head.seq + 3 });
    const [, drawn, corrected] = await listEntries(deps, POD, { afterSeq: head.seq });
    expect(drawn!.receipt).toMatch(/^R3-/);
    expect(corrected).toMatchObject({ kind: "correction", corrects: head.seq + 1, quantity: "-1" });
    expect((await getBalances(deps, POD)).stock.find((s) => s.resource === "rice")!.quantity).toBe("-1");
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
  });

  it("refuse to append a batch whose corrections point into it after the ledger moved", async () => {
    const head = await getLedgerHead(deps, POD);
    const session = await openLedgerSession(deps, POD);
    const a = session.prepare({ kind: "contribution", resource: "repairs", quantity: "1" });
    const c = session.prepare({ kind: "correction", corrects: head.seq + 1, quantity: "1" });
    await recordEntry(deps, POD, { kind: "contribution", resource: "repairs", quantity: "3" });
    const before = await getLedgerHead(deps, POD);
    const error = await deps.db
      .transaction()
      .execute((trx) => appendPrepared(deps, trx, session, [a, c]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe("LEDGER_CHANGED");
    expect(await getLedgerHead(deps, POD)).toEqual(before);
  });
});

describe("recordEntry under an Idempotency-Key", () => {
  it("writes once and answers a retry with the same entry", async () => {
    const claim = { scope: "pod:test", key: "k-1", fingerprint: "same request" };
    const input = { kind: "contribution", resource: "rice", quantity: "2.5", publicMemo: "retry me" };
    const first = await withIdempotencyKey(claim, () => recordEntry(deps, POD, input));
    const again = await withIdempotencyKey(claim, () => recordEntry(deps, POD, input));
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.value).toEqual(first.value);
    const { rows } = await sql<{ n: string }>`select count(*) as n from ledger_entries where public_memo = 'retry me'`.execute(deps.db);
    expect(Number(rows[0]!.n)).toBe(1);
  });
});

describe("the running stock", () => {
  it("kept by every append equals the sum over the entries (corrections included)", async () => {
    const kept = await sql<{ key: string; quantity: string }>`
      select r.key, s.quantity::text as quantity from ledger_stock s join book_resources r on r.id = s.resource_id
      join pods p on p.id = s.pod_id where p.slug = ${POD} order by r.key`.execute(node.deps.db);
    const summed = await getBalances(deps, POD, d("2100-01-01T00:00:00Z"));
    expect(kept.rows.map((r) => [r.key, normalizeDecimal(r.quantity)])).toEqual(
      summed.stock.map((s) => [s.resource, s.quantity]),
    );
    expect(summed.stock.length).toBeGreaterThan(0);
  });
});
