/**
 * The ledger's write path on a real database: every entry kind, exact decimals, the
 * chain from the genesis, corrections, draws with receipts, balances at a date, and
 * every refusal naming its field and leaving nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import { addMember, addResource, updateBookSettings } from "../../src/services/books.ts";
import {
  findReceipt,
  getBalances,
  getLedgerHead,
  listEntries,
  publicEntries,
  recordEntry,
  verifyLedger,
  type EntryView,
} from "../../src/services/ledger.ts";
import { entryHash, GENESIS_HASH, privateDigest } from "../../src/domain/books/chain.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const POD = "oak-street";
const T0 = new Date("2026-11-20T10:00:00.000Z");

class ManualClock implements Clock {
  #now = T0.getTime();
  now = () => new Date(this.#now);
  set(at: Date) {
    this.#now = at.getTime();
  }
}

let node: TestNode;
let deps: ServiceDeps;
const clock = new ManualClock();

async function countRows(): Promise<number> {
  const { rows } = await sql<{ n: string }>`select count(*) as n from ledger_entries`.execute(deps.db);
  return Number(rows[0]!.n);
}

/** Expects `fn` to fail with `code` naming `field`, and to write no ledger row. */
async function refused(fn: () => Promise<unknown>, code: string, field: string): Promise<DomainError> {
  const before = await countRows();
  const error = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(DomainError);
  const d = error as DomainError;
  expect({ code: d.code, field: d.details?.field }).toEqual({ code, field });
  expect(await countRows()).toBe(before);
  return d;
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD });
  deps = { ...node.deps, clock };
  await addResource(deps, POD, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2.40" });
  await addResource(deps, POD, { key: "soup", name: "Soup", unit: "litre", category: "food" });
  await addResource(deps, POD, { key: "big", name: "Big numbers", unit: "one", category: "other" });
});

afterAll(async () => {
  await node?.stop();
});

describe("recording entries", () => {
  let first: EntryView;
  let draw: EntryView;

  it("chains the first entry from the genesis and values it at the reference price", async () => {
    first = await recordEntry(deps, POD, {
      kind: "contribution",
      resource: "squash",
      quantity: "0.1",
      publicMemo: "from the allotment",
      occurredAt: "2026-11-19",
    });
    expect(first).toMatchObject({ seq: 1, kind: "contribution", quantity: "0.1", unit: "kilogram", marketValue: "0.24", charged: "0", currency: "EUR" });
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(first.occurredAt.toISOString()).toBe("2026-11-19T00:00:00.000Z");
    expect(first.recordedAt.toISOString()).toBe(T0.toISOString());
  });

  it("adds 0.1 + 0.2 kg exactly", async () => {
    const second = await recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "0.2", unit: "kilogram" });
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    const b = await getBalances(deps, POD);
    expect(b.stock.find((s) => s.resource === "squash")!.quantity).toBe("0.3");
  });

  it("keeps 18-digit values exact", async () => {
    await recordEntry(deps, POD, { kind: "contribution", resource: "big", quantity: "123456789012345678.9", marketValue: "123456789012345678.9" });
    await recordEntry(deps, POD, { kind: "contribution", resource: "big", quantity: "0.000001", marketValue: "0.01" });
    const b = await getBalances(deps, POD);
    expect(b.stock.find((s) => s.resource === "big")!.quantity).toBe("123456789012345678.900001");
  });

  it("gives a draw a receipt that findReceipt returns with the value reclaimed", async () => {
    await recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "10" });
    const member = await addMember(deps, POD, { name: "Ada Lovelace", contact: "ada@example.org" });
    draw = await recordEntry(deps, POD, {
      kind: "draw",
      resource: "squash",
      quantity: "5",
      fund: "survival",
      charged: "1.50",
      member: member.pseudonym,
      privateMemo: "for the Tuesday soup",
    });
    expect(draw.receipt).toMatch(/^R1-[A-Z2-9]{6}$/);
    expect(draw).toMatchObject({ member: member.pseudonym, counterpartyKind: "member", counterparty: null, marketValue: "12", charged: "1.5" });
    const receipt = await findReceipt(deps, POD, draw.receipt!);
    expect(receipt).toMatchObject({
      number: draw.receipt,
      podSlug: POD,
      seq: draw.seq,
      resource: "squash",
      quantity: "5",
      fund: "survival",
      marketValue: "12",
      charged: "1.5",
      valueReclaimed: "10.5",
      member: member.pseudonym,
      currency: "EUR",
    });
    expect(await findReceipt(deps, POD, "R1-AAAAAA")).toBeNull();
    expect(await findReceipt(deps, POD, "not a receipt")).toBeNull();
    const second = await recordEntry(deps, POD, { kind: "draw", resource: "squash", quantity: "1", fund: "survival" });
    expect(second.receipt).toMatch(/^R2-[A-Z2-9]{6}$/);
  });

  it("applies a correction in the direction of the entry it corrects", async () => {
    const before = (await getBalances(deps, POD)).stock.find((s) => s.resource === "squash")!.quantity;
    const correction = await recordEntry(deps, POD, { kind: "correction", corrects: draw.seq, quantity: "-2", publicMemo: "only 3 were taken" });
    expect(correction).toMatchObject({ kind: "correction", resource: "squash", fund: "survival", quantity: "-2", corrects: draw.seq, marketValue: "-4.8", charged: "-0.6", receipt: null });
    expect(correction.member).toBe(draw.member);
    const after = (await getBalances(deps, POD)).stock.find((s) => s.resource === "squash")!.quantity;
    expect(after).toBe(String(Number(before) + 2)); // small integers: exact in a float too
  });

  it("records every other kind", async () => {
    await recordEntry(deps, POD, { kind: "transfer_in", resource: "soup", quantity: "20", counterpartyPod: "https://elsewhere.example/pods/elm" });
    await recordEntry(deps, POD, { kind: "transfer_out", resource: "soup", quantity: "5", fund: "capacity_building", counterpartyLabel: "the school kitchen" });
    await recordEntry(deps, POD, { kind: "expenditure", resource: "soup", quantity: "1", fund: "power_shifting" });
    const soup = (await getBalances(deps, POD)).stock.find((s) => s.resource === "soup")!;
    expect(soup).toMatchObject({ quantity: "14", unit: "litre" });
    const entries = await listEntries(deps, POD, { afterSeq: 0, limit: 1000 });
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(entries.find((e) => e.kind === "transfer_in")).toMatchObject({ counterpartyKind: "pod", counterparty: "https://elsewhere.example/pods/elm" });
    expect(entries.find((e) => e.kind === "transfer_out")).toMatchObject({ counterpartyKind: "outside", counterparty: "the school kitchen" });
  });

  it("exposes public entries that chain to the head, without private fields", async () => {
    let prev = GENESIS_HASH;
    let n = 0;
    for await (const e of publicEntries(deps, POD, { batch: 3 })) {
      const { hash, ...rest } = e;
      expect(entryHash(prev, rest)).toBe(hash);
      expect(JSON.stringify(e)).not.toMatch(/Tuesday soup|R\d+-|m-[0-9a-f]{4}/);
      prev = hash;
      n++;
    }
    expect(await getLedgerHead(deps, POD)).toEqual({ seq: n, hash: prev });
    const upTo3: number[] = [];
    for await (const e of publicEntries(deps, POD, { batch: 2, untilSeq: 3 })) upTo3.push(e.seq);
    expect(upTo3).toEqual([1, 2, 3]);
    const report = await verifyLedger(deps, POD, { batch: 4 });
    expect(report).toEqual({ ok: true, entries: n, headSeq: n, headHash: prev, fault: null });
  });

  it("stores a private digest that matches the salt and the private part", async () => {
    const { rows } = await sql<{ private_salt: string; private_digest: string; private_memo: string; receipt_number: string }>`
      select private_salt, private_digest, private_memo, receipt_number from ledger_entries where seq = ${draw.seq}`.execute(deps.db);
    const r = rows[0]!;
    expect(privateDigest({ salt: r.private_salt, member: draw.member, privateMemo: r.private_memo, receipt: r.receipt_number })).toBe(r.private_digest);
  });
});

describe("balances at a date", () => {
  it("counts only entries that occurred at or before the date", async () => {
    const podSlug = POD;
    const b = await getBalances(deps, podSlug, new Date("2026-11-19T12:00:00.000Z"));
    expect(b.entries).toBe(1);
    expect(b.stock.find((s) => s.resource === "squash")!.quantity).toBe("0.1");
    expect(b.valueReclaimed).toBe("0");
    const now = await getBalances(deps, podSlug);
    // draw 5 × 2.40 − 1.50, correction −4.80 + 0.60, draw 1 × 2.40, transfer out of unpriced soup
    expect(now.valueReclaimed).toBe("8.7");
    expect(now.funds.find((f) => f.fund === "survival")).toEqual({ fund: "survival", inflowValue: "0", outflowValue: "9.6", entries: 3 });
  });
});

describe("refusals name the field and write nothing", () => {
  it("refuses bad entries", async () => {
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "nothing", quantity: "1" }), "UNKNOWN_RESOURCE", "resource");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", unit: "litre" }), "UNIT_MISMATCH", "unit");
    await refused(() => recordEntry(deps, POD, { kind: "draw", resource: "squash", quantity: "1" }), "FUND_REQUIRED", "fund");
    await refused(() => recordEntry(deps, POD, { kind: "draw", resource: "soup", quantity: "1000", fund: "survival" }), "INSUFFICIENT_STOCK", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "draw", resource: "squash", quantity: "1", fund: "survival", member: "m-0000" }), "UNKNOWN_MEMBER", "member");
    clock.set(T0);
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", occurredAt: "2026-11-22" }), "FUTURE_DATE", "occurredAt");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", occurredAt: "yesterday" }), "INVALID_DATE", "occurredAt");
    await refused(() => recordEntry(deps, POD, { kind: "correction", resource: "squash", quantity: "1" }), "CORRECTION_TARGET", "corrects");
    await refused(() => recordEntry(deps, POD, { kind: "correction", corrects: 9999, quantity: "1" }), "CORRECTION_TARGET", "corrects");
    const correction = (await listEntries(deps, POD, { limit: 1000 })).find((e) => e.kind === "correction")!;
    await refused(() => recordEntry(deps, POD, { kind: "correction", corrects: correction.seq, quantity: "1" }), "CORRECTION_TARGET", "corrects");
    await refused(() => recordEntry(deps, POD, { kind: "correction", corrects: 1, quantity: "-5" }), "CORRECTION_TOO_LARGE", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "0.0000001" }), "TOO_PRECISE", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", marketValue: "1.001" }), "TOO_PRECISE", "marketValue");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1e3" }), "INVALID_DECIMAL", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "0" }), "NOT_POSITIVE", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", charged: "-1" }), "NEGATIVE", "charged");
    await refused(() => recordEntry(deps, POD, { kind: "correction", corrects: 1, quantity: "0" }), "ZERO_DELTA", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1234567890123456789" }), "TOO_LARGE", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "gift", resource: "squash", quantity: "1" }), "INVALID_KIND", "kind");
    await refused(() => recordEntry(deps, POD, { kind: "draw", resource: "squash", quantity: "1", fund: "rainy_day" }), "INVALID_FUND", "fund");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", colour: "red" }), "UNKNOWN_FIELD", "colour");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash" }), "FIELD_REQUIRED", "quantity");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", publicMemo: "x".repeat(501) }), "TOO_LONG", "publicMemo");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", privateMemo: "x".repeat(2001) }), "TOO_LONG", "privateMemo");
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", counterpartyPod: "ftp://x.example/" }), "INVALID_URI", "counterpartyPod");
    await refused(
      () => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", counterpartyPod: "https://x.example/p", counterpartyLabel: "x" }),
      "COUNTERPARTY_CONFLICT",
      "counterpartyLabel",
    );
    await refused(() => recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "1", publicMemo: "a\u0000b" }), "INVALID_TEXT", "publicMemo");
  });

  it("lets allow_overdraw lift the stock check", async () => {
    await updateBookSettings(deps, POD, { allowOverdraw: true });
    const overdraw = await recordEntry(deps, POD, { kind: "draw", resource: "soup", quantity: "1000", fund: "survival" });
    expect(overdraw.quantity).toBe("1000");
    expect((await getBalances(deps, POD)).stock.find((s) => s.resource === "soup")!.quantity).toBe("-986");
    await updateBookSettings(deps, POD, { allowOverdraw: false });
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
  });
});
