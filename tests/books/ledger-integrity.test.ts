/**
 * The ledger cannot be rewritten: the database refuses UPDATE, DELETE and TRUNCATE, and
 * when someone goes around that (disabling the trigger), verifyLedger recomputes the chain
 * and the private digests from the rows and names the first bad entry. A pod with ledger
 * entries cannot be deleted; one with only a catalogue can.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { listEntries, recordEntry, verifyLedger } from "../../src/services/ledger.ts";
import { createPod, deletePod } from "../../src/services/pods.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const POD = "oak-street";

let node: TestNode;
let deps: ServiceDeps;

async function rawError(statement: string): Promise<string> {
  try {
    await sql.raw(statement).execute(deps.db);
    return "no error";
  } catch (error) {
    return String((error as Error).message);
  }
}

/** Runs `statement` with the append-only trigger switched off, as an intruder with the owner's rights would. */
async function tamper(statement: string): Promise<void> {
  await sql.raw("alter table ledger_entries disable trigger ledger_entries_append_only").execute(deps.db);
  try {
    await sql.raw(statement).execute(deps.db);
  } finally {
    await sql.raw("alter table ledger_entries enable trigger ledger_entries_append_only").execute(deps.db);
  }
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD });
  deps = node.deps;
  await addResource(deps, POD, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2" });
  const member = await addMember(deps, POD, { name: "Grace Hopper" });
  await recordEntry(deps, POD, { kind: "contribution", resource: "squash", quantity: "20" });
  for (let i = 0; i < 6; i++) {
    await recordEntry(deps, POD, { kind: "draw", resource: "squash", quantity: "1.5", fund: "survival", member: member.pseudonym, privateMemo: `visit ${i}` });
  }
});

afterAll(async () => {
  await node?.stop();
});

describe("the database refuses to rewrite the books", () => {
  it("refuses UPDATE, DELETE and TRUNCATE on ledger_entries", async () => {
    const before = await listEntries(deps, POD, { limit: 1000 });
    expect(await rawError("update ledger_entries set quantity = 99 where seq = 2")).toMatch(/ledger_entries rows are append-only/);
    expect(await rawError("delete from ledger_entries where seq = 7")).toMatch(/ledger_entries rows are append-only/);
    expect(await rawError("truncate ledger_entries cascade")).toMatch(/ledger_entries rows are append-only/);
    expect(await listEntries(deps, POD, { limit: 1000 })).toEqual(before);
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
  });
});

describe("verifyLedger finds tampering", () => {
  it("names the entry whose quantity was changed behind the trigger's back", async () => {
    await tamper("update ledger_entries set quantity = 7 where seq = 4");
    try {
      const report = await verifyLedger(deps, POD, { batch: 2 });
      expect(report.ok).toBe(false);
      expect(report.fault).toMatchObject({ seq: 4, reason: "hash_mismatch" });
      expect(report.entries).toBe(3);
      expect(report.headSeq).toBe(3);
    } finally {
      await tamper("update ledger_entries set quantity = 1.5 where seq = 4");
    }
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
  });

  it("names the entry whose private memo was changed (its private digest no longer matches)", async () => {
    const original = (await listEntries(deps, POD, { afterSeq: 5, limit: 1 }))[0]!;
    expect(original.seq).toBe(6);
    await tamper("update ledger_entries set private_memo = 'someone else' where seq = 6");
    try {
      const report = await verifyLedger(deps, POD, { batch: 4 });
      expect(report).toMatchObject({ ok: false, entries: 5, headSeq: 5, fault: { seq: 6, reason: "private_digest_mismatch" } });
    } finally {
      await tamper(`update ledger_entries set private_memo = '${original.privateMemo}' where seq = 6`);
    }
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
  });

  it("notices a re-linked prev_hash, a removed last entry and a head that does not match", async () => {
    await tamper("update ledger_entries set prev_hash = repeat('a', 64) where seq = 3");
    try {
      expect((await verifyLedger(deps, POD)).fault).toMatchObject({ seq: 3, reason: "prev_hash_mismatch" });
    } finally {
      await tamper("update ledger_entries e set prev_hash = p.hash from ledger_entries p where p.pod_id = e.pod_id and p.seq = 2 and e.seq = 3");
    }
    await sql`update ledger_heads set hash = repeat('b', 64)`.execute(deps.db);
    const report = await verifyLedger(deps, POD);
    expect(report).toMatchObject({ ok: false, entries: 7, fault: { seq: 7, reason: "head_mismatch" } });
    await sql`update ledger_heads h set hash = e.hash from ledger_entries e where e.pod_id = h.pod_id and e.seq = h.seq`.execute(deps.db);
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
  });
});

describe("deleting a pod with open books", () => {
  it("refuses a pod with ledger entries, naming them", async () => {
    const error = await deletePod(deps, POD).then(
      () => null,
      (e: unknown) => e as DomainError,
    );
    expect(error).toBeInstanceOf(DomainError);
    expect(error!.code).toBe("POD_HAS_PUBLISHED");
    expect(error!.details).toMatchObject({ ledgerEntries: 7 });
    expect(error!.message).toMatch(/7 ledger entries/);
    expect((await verifyLedger(deps, POD)).entries).toBe(7);
  });

  it("deletes a pod whose books hold only resources, members and an empty head", async () => {
    await createPod(deps, { slug: "quiet-lane", name: "Quiet Lane" });
    await addResource(deps, "quiet-lane", { key: "soup", name: "Soup", unit: "litre", category: "food" });
    await addMember(deps, "quiet-lane", { name: "Nobody" });
    // A refused entry leaves no head row behind, but an empty head can exist (an empty import); make one.
    const pod = await deps.db.selectFrom("pods").select("id").where("slug", "=", "quiet-lane").executeTakeFirstOrThrow();
    await deps.db.insertInto("ledger_heads").values({ pod_id: pod.id, seq: 0, hash: "0".repeat(64), receipts: 0, updated_at: new Date() }).execute();
    expect(await deletePod(deps, "quiet-lane")).toEqual({ slug: "quiet-lane", deleted: true });
    const left = await deps.db.selectFrom("book_resources").select("id").where("pod_id", "=", pod.id).execute();
    expect(left).toEqual([]);
  });
});
