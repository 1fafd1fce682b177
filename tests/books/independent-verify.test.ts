/**
 * Anyone can verify a pod's books from the public export: this test fetches
 * `/pods/{slug}/books/export.json` over real HTTP from a running node and recomputes the
 * hash chain with its OWN implementation of the documented rule (docs/open-books.md):
 *
 *   hash = hex(SHA-256(bytes(prevHash) ‖ UTF-8(JCS(entry without "hash"))))
 *
 * written here with node:crypto and a small RFC 8785 canonicaliser — it imports neither
 * src/domain/books/chain.ts nor the `canonicalize` package. Changing one byte of one entry
 * makes the check fail at that entry; so does a row rewritten in the database.
 */
import { createHash } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedBooks, startClockedNode, type ClockedNode, type SeededBooks } from "./public-books-fixture.ts";

const SLUG = "oak-street";

// ---- An independent verifier ------------------------------------------------------------

/** RFC 8785 for JSON values made of strings, integers, booleans, null, arrays and objects. */
function jcs(value: unknown): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") {
    if (/[\uD800-\uDFFF]/.test(value.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""))) throw new Error("lone surrogate");
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    // The export has integers only; RFC 8785's number form for them is the decimal digits.
    if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (Array.isArray(value)) return `[${value.map(jcs).join(",")}]`;
  if (typeof value === "object") {
    const object = value as Record<string, unknown>;
    // Keys sorted by UTF-16 code units (what Array.prototype.sort does with no comparator).
    const keys = Object.keys(object).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${jcs(object[k])}`).join(",")}}`;
  }
  throw new Error(`not JSON: ${typeof value}`);
}

interface Verdict {
  ok: boolean;
  /** The seq of the first entry that does not verify. */
  badSeq: number | null;
  reason: string | null;
  headSeq: number;
  headHash: string;
}

function verifyExport(doc: any): Verdict {
  let prev: string = doc.genesis;
  let seq = 0;
  for (const raw of doc.entries as any[]) {
    const { hash, ...entry } = raw;
    if (entry.seq !== seq + 1) return { ok: false, badSeq: entry.seq, reason: "seq", headSeq: seq, headHash: prev };
    const expected = createHash("sha256").update(Buffer.from(prev, "hex")).update(jcs(entry), "utf8").digest("hex");
    if (expected !== hash) return { ok: false, badSeq: entry.seq, reason: "hash", headSeq: seq, headHash: prev };
    prev = hash;
    seq = entry.seq;
  }
  if (seq !== doc.head.seq || prev !== doc.head.hash) return { ok: false, badSeq: null, reason: "head", headSeq: seq, headHash: prev };
  return { ok: true, badSeq: null, reason: null, headSeq: seq, headHash: prev };
}

// ---- The node ---------------------------------------------------------------------------

let node: ClockedNode;
let seeded: SeededBooks;
let exportText: string;
let exported: any;

beforeAll(async () => {
  node = await startClockedNode({ podSlug: SLUG, podName: "Oak Street" });
  seeded = await seedBooks(node, SLUG, "verify");
  const response = await fetch(`${node.origin}/pods/${SLUG}/books/export.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  exportText = await response.text();
  exported = JSON.parse(exportText);
}, 180_000);

afterAll(async () => {
  await node?.stop();
});

describe("the public export, verified independently", () => {
  it("describes how to verify it", () => {
    expect(exported).toMatchObject({
      format: "hyphae-ledger/1",
      pod: node.actorUrl(SLUG),
      currency: "EUR",
      hash: "sha256",
      canonicalization: "RFC 8785 (JCS)",
      genesis: "0".repeat(64),
    });
    expect(exported.entries).toHaveLength(seeded.entries);
    expect(seeded.entries).toBeGreaterThanOrEqual(36);
    expect(exported.head.seq).toBe(seeded.entries);
    expect(exported.resources.map((r: any) => r.key).sort()).toEqual(["cash", "childcare", "meals", "solar", "squash"]);
  });

  it("holds draws, members' entries, a correction and entries with private memos, without their private side", () => {
    const kinds = new Set(exported.entries.map((e: any) => e.kind));
    for (const kind of ["contribution", "draw", "expenditure", "transfer_out", "transfer_in", "correction"]) expect(kinds).toContain(kind);
    const correction = exported.entries.find((e: any) => e.kind === "correction");
    expect(correction).toMatchObject({ corrects: seeded.correctedSeq, quantity: "-2" });
    expect(exported.entries.filter((e: any) => e.counterpartyKind === "member").length).toBeGreaterThan(10);
    for (const e of exported.entries) {
      expect(Object.keys(e).sort()).toEqual(
        ["charged", "corrects", "counterparty", "counterpartyKind", "currency", "fund", "hash", "id", "kind", "marketValue", "occurredAt", "privateDigest", "publicMemo", "quantity", "recordedAt", "resource", "seq", "unit"].sort(),
      );
      if (e.counterpartyKind === "member") expect(e.counterparty).toBeNull();
    }
    for (const secret of [...seeded.privateMemos, ...seeded.members.flatMap((m) => [m.name, m.contact, m.pseudonym]), ...seeded.receipts.map((r) => r.number)]) {
      expect(exportText).not.toContain(secret);
    }
  });

  it("verifies from the genesis to the head", () => {
    const verdict = verifyExport(exported);
    expect(verdict).toMatchObject({ ok: true, badSeq: null, headSeq: seeded.entries, headHash: exported.head.hash });
  });

  it("fails at the entry where one byte was changed", () => {
    for (const target of [1, 17, seeded.correctedSeq, seeded.entries]) {
      const entry = exported.entries[target - 1];
      // Change one byte inside that entry's text in the document as served: a digit of its id.
      const bytes = Buffer.from(exportText, "utf8");
      const idAt = bytes.indexOf(entry.id);
      expect(idAt).toBeGreaterThan(-1);
      expect(bytes.indexOf(entry.id, idAt + 1)).toBe(-1);
      const at = idAt + entry.id.search(/[0-9]/);
      const before = bytes[at]!;
      bytes[at] = before === 0x30 ? 0x31 : 0x30;
      const tampered = JSON.parse(bytes.toString("utf8"));
      expect(tampered.entries[target - 1].id).not.toBe(entry.id);
      expect(verifyExport(tampered)).toMatchObject({ ok: false, badSeq: target, reason: "hash" });
    }
  });

  it("fails at an entry whose figures were changed (0.1 kg more squash)", () => {
    const copy = structuredClone(exported);
    const draw = copy.entries.find((e: any) => e.kind === "draw" && e.quantity === "0.1");
    draw.quantity = "0.2";
    expect(verifyExport(copy)).toMatchObject({ ok: false, badSeq: draw.seq });
  });

  it("fails when an entry is dropped or the head is not the last entry's", () => {
    const dropped = structuredClone(exported);
    dropped.entries.splice(9, 1);
    expect(verifyExport(dropped)).toMatchObject({ ok: false, badSeq: 11, reason: "seq" });
    const truncated = structuredClone(exported);
    truncated.entries.pop();
    expect(verifyExport(truncated)).toMatchObject({ ok: false, reason: "head" });
  });

  it("fails at the entry rewritten in the database (trigger disabled by hand)", async () => {
    const target = 12;
    const pod = await node.deps.db.selectFrom("pods").select("id").where("slug", "=", SLUG).executeTakeFirstOrThrow();
    await sql`alter table ledger_entries disable trigger ledger_entries_append_only`.execute(node.deps.db);
    try {
      await sql`update ledger_entries set public_memo = public_memo || '!' where pod_id = ${pod.id} and seq = ${target}`.execute(node.deps.db);
    } finally {
      await sql`alter table ledger_entries enable trigger ledger_entries_append_only`.execute(node.deps.db);
    }
    const again = await (await fetch(`${node.origin}/pods/${SLUG}/books/export.json`)).json();
    expect(again.entries[target - 1].publicMemo).toMatch(/!$/);
    expect(verifyExport(again)).toMatchObject({ ok: false, badSeq: target, reason: "hash" });
  });
});
