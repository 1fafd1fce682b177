/**
 * Two connections pools on one PostgreSQL database (as two processes would have) append
 * to the same pod's ledger at once: the head lock serialises them into one chain, with
 * seqs 1..100 and distinct receipt numbers, that verifies; the stock check sees every
 * committed draw, so concurrent draws never take more than the stock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "../../src/db/connect.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { addResource } from "../../src/services/books.ts";
import { getBalances, listEntries, recordEntry, verifyLedger } from "../../src/services/ledger.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { otherHandle } from "../helpers/queue.ts";

const POD = "oak-street";

let node: TestNode;
let depsA: ServiceDeps;
let depsB: ServiceDeps;
const opened: DatabaseHandle[] = [];

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD });
  depsA = node.deps;
  const other = await otherHandle(node.database, opened);
  expect(other.db).not.toBe(depsA.db);
  depsB = { ...node.deps, db: other.db };
  await addResource(depsA, POD, { key: "rice", name: "Rice", unit: "kilogram", category: "food", referencePrice: "1.2" });
  await addResource(depsA, POD, { key: "oil", name: "Oil", unit: "litre", category: "food" });
});

afterAll(async () => {
  for (const h of opened) await h.close();
  await node?.stop();
});

describe("concurrent appends from two connections", () => {
  it("make one chain of 100 entries, seqs 1..100, that verifies", async () => {
    const work = (deps: ServiceDeps, who: string) =>
      Array.from({ length: 50 }, (_, i) =>
        i % 5 === 4
          ? recordEntry(deps, POD, { kind: "draw", resource: "rice", quantity: "0.1", fund: "survival", publicMemo: `${who}${i}` })
          : recordEntry(deps, POD, { kind: "contribution", resource: "rice", quantity: "1.1", publicMemo: `${who}${i}` }),
      );
    // Draws may run before enough contributions committed: give them stock to take from.
    await recordEntry(depsA, POD, { kind: "contribution", resource: "rice", quantity: "5" });
    const results = await Promise.all([...work(depsA, "a"), ...work(depsB, "b")]);
    expect(results).toHaveLength(100);
    const entries = await listEntries(depsA, POD, { limit: 1000 });
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(new Set(entries.map((e) => e.publicMemo)).size).toBe(101);
    const receipts = entries.flatMap((e) => (e.receipt ? [e.receipt] : []));
    expect(receipts).toHaveLength(20);
    expect(new Set(receipts.map((r) => r.split("-")[0])).size).toBe(20);
    const report = await verifyLedger(depsB, POD, { batch: 17 });
    expect(report).toMatchObject({ ok: true, entries: 101, headSeq: 101, fault: null });
    // 5 + 80 × 1.1 − 20 × 0.1, exactly
    expect((await getBalances(depsA, POD)).stock.find((s) => s.resource === "rice")!.quantity).toBe("91");
  });

  it("never lets concurrent draws take more than the stock", async () => {
    await recordEntry(depsA, POD, { kind: "contribution", resource: "oil", quantity: "10" });
    const draws = Array.from({ length: 30 }, (_, i) =>
      recordEntry(i % 2 ? depsA : depsB, POD, { kind: "draw", resource: "oil", quantity: "1", fund: "survival" }).then(
        () => "ok",
        (e: unknown) => (e instanceof DomainError ? e.code : String(e)),
      ),
    );
    const outcomes = await Promise.all(draws);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
    expect(outcomes.filter((o) => o !== "ok").every((o) => o === "INSUFFICIENT_STOCK")).toBe(true);
    expect((await getBalances(depsB, POD)).stock.find((s) => s.resource === "oil")!.quantity).toBe("0");
    expect((await verifyLedger(depsA, POD)).ok).toBe(true);
  });
});
