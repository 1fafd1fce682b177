/**
 * Ledger export on a real node and database: the public JSON and CSV hold nothing private,
 * a steward's export holds each entry's private part (which matches its digest), the chain
 * verifies from the export, the document's head and entries agree while entries are being
 * added, and a steward's CSV imports into a pod with empty books to the same entries.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH, privateDigest, verifyChain, type PublicEntry } from "../../src/domain/books/chain.ts";
import { listMembers } from "../../src/services/books.ts";
import { getBalances, listEntries, recordEntry } from "../../src/services/ledger.ts";
import { exportLedgerCsv, exportLedgerJson, importLedgerCsv } from "../../src/services/ledger-io.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { readLedgerCsv } from "../../src/domain/books/csv.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { fixedDeps, newBookPod, withMembers, type BookPod } from "./import-books-fixture.ts";

let node: TestNode;
let deps: ServiceDeps;
let pod: BookPod;

const PUBLIC_KEYS = [
  "charged", "corrects", "counterparty", "counterpartyKind", "currency", "fund", "hash", "id", "kind", "marketValue",
  "occurredAt", "privateDigest", "publicMemo", "quantity", "recordedAt", "resource", "seq", "unit",
].sort();

async function collect(chunks: AsyncIterable<string>): Promise<{ text: string; chunks: number }> {
  let text = "";
  let n = 0;
  for await (const chunk of chunks) {
    expect(typeof chunk).toBe("string");
    text += chunk;
    n++;
  }
  return { text, chunks: n };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: "exporter" });
  deps = fixedDeps(node.deps);
  pod = await newBookPod(deps, "books");
  await importLedgerCsv(deps, pod.slug, { text: pod.example });
  // A few entries one by one, with private memos and a pod counterparty.
  await recordEntry(deps, pod.slug, { kind: "draw", resource: "tinned-food", quantity: "4", fund: "survival", member: pod.members.get("m-42d0"), privateMemo: "Leaves them with the neighbour at no. 9", occurredAt: "2026-11-20" });
  await recordEntry(deps, pod.slug, { kind: "transfer_out", resource: "squash", quantity: "1", fund: "power_shifting", counterpartyPod: "https://elm.example/pods/elm-row", publicMemo: "For the strike kitchen", occurredAt: "2026-11-21" });
});

afterAll(async () => {
  await node?.stop();
});

describe("public export", () => {
  it("the JSON has the documented header, the resources, and entries with exactly the public fields that verify as a chain", async () => {
    const { text } = await collect(exportLedgerJson(deps, pod.slug, { private: false }));
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual(["format", "pod", "currency", "hash", "canonicalization", "genesis", "head", "resources", "entries"]);
    expect(doc).toMatchObject({ format: "hyphae-ledger/1", pod: `${node.origin}/pods/${pod.slug}`, currency: "EUR", hash: "sha256", canonicalization: "RFC 8785 (JCS)", genesis: GENESIS_HASH });
    expect(doc.head.seq).toBe(24);
    expect(doc.resources.map((r: any) => r.key).sort()).toEqual(["cash", "childcare", "drill-loan", "nappies", "rice", "squash", "tinned-food"]);
    expect(doc.resources.find((r: any) => r.key === "rice")).toEqual({ key: "rice", name: "Rice", unit: "kilogram", category: "food", specificationUri: null, referencePrice: "2.4", referencePriceSource: null, referencePriceOn: null });
    expect(doc.entries).toHaveLength(24);
    for (const e of doc.entries) expect(Object.keys(e).sort()).toEqual(PUBLIC_KEYS);
    const result = verifyChain(doc.entries as Array<PublicEntry & { hash: string }>);
    expect(result).toEqual({ fault: null, headSeq: 24, headHash: doc.head.hash });
    // Members are counterparties, but not who.
    const memberDraw = doc.entries.find((e: any) => e.seq === 6);
    expect([memberDraw.counterpartyKind, memberDraw.counterparty]).toEqual(["member", null]);
  });

  it("neither the public JSON nor the public CSV contains a pseudonym, member detail, private memo, receipt number or salt", async () => {
    const steward = JSON.parse((await collect(exportLedgerJson(deps, pod.slug, { private: true }))).text);
    const secrets = new Set<string>();
    for (const e of steward.entries) {
      secrets.add(e.private.salt);
      if (e.private.member) secrets.add(e.private.member);
      if (e.private.privateMemo) secrets.add(e.private.privateMemo);
      if (e.private.receipt) secrets.add(e.private.receipt);
    }
    for (const m of await listMembers(deps, pod.slug)) {
      secrets.add(m.pseudonym);
      secrets.add(m.name);
      if (m.contact) secrets.add(m.contact);
    }
    // What we look for is really there to find: 24 salts, 5 pseudonyms, names and contacts, 10 receipts, private memos.
    expect(steward.entries.filter((e: any) => e.private.receipt).length).toBe(10);
    expect(secrets.size).toBeGreaterThan(24 + 5 + 5 + 5 + 10);
    const publicJson = (await collect(exportLedgerJson(deps, pod.slug, { private: false }))).text;
    const publicCsv = (await collect(exportLedgerCsv(deps, pod.slug, { private: false }))).text;
    for (const secret of secrets) {
      expect(publicJson.includes(secret), `public JSON contains ${secret}`).toBe(false);
      expect(publicCsv.includes(secret), `public CSV contains ${secret}`).toBe(false);
      // The private part's JSON escaping must not hide a secret either.
      expect(publicJson.includes(JSON.stringify(secret).slice(1, -1))).toBe(false);
    }
    expect(publicCsv.split("\r\n")[0]).toBe("seq,occurred_at,kind,resource,quantity,unit,fund,market_value,charged,counterparty_pod,counterparty_label,public_memo,corrects,recorded_at,hash");
  });

  it("streams in chunks, and the head and entries of one document agree while entries are added", async () => {
    const big = await newBookPod(deps, "big");
    const rows = Array.from({ length: 2500 }, (_, i) => `contribution,rice,${i + 1}.5,,2026-11-20,Sack number ${i + 1} from the co-op`);
    await importLedgerCsv(deps, big.slug, { text: "kind,resource,quantity,fund,occurred_at,public_memo\n" + rows.join("\n") });
    const iterator = exportLedgerJson(deps, big.slug, { private: false })[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    // An entry added while the export is being read is not in this document.
    await recordEntry(deps, big.slug, { kind: "contribution", resource: "rice", quantity: "1" });
    let text = first.value as string;
    let chunks = 1;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      text += r.value;
      chunks++;
      expect((r.value as string).length).toBeLessThan(70 * 1024);
    }
    expect(chunks).toBeGreaterThan(10);
    const doc = JSON.parse(text);
    expect(doc.head.seq).toBe(2500);
    expect(doc.entries).toHaveLength(2500);
    expect(verifyChain(doc.entries).fault).toBeNull();
    expect(doc.entries[2499]).toMatchObject({ seq: 2500, quantity: "2500.5", publicMemo: "Sack number 2500 from the co-op" });
  });

  it("an empty ledger exports a document with no entries at the genesis", async () => {
    const empty = await newBookPod(deps, "empty");
    const doc = JSON.parse((await collect(exportLedgerJson(deps, empty.slug, { private: false }))).text);
    expect([doc.head, doc.entries]).toEqual([{ seq: 0, hash: GENESIS_HASH }, []]);
    expect((await collect(exportLedgerCsv(deps, empty.slug, { private: true }))).text).toBe(
      "seq,occurred_at,kind,resource,quantity,unit,fund,market_value,charged,member,counterparty_pod,counterparty_label,public_memo,private_memo,corrects,recorded_at,hash\r\n",
    );
  });
});

describe("a steward's export", () => {
  it("adds each entry's private part, whose digest is the entry's privateDigest; without it the chain still verifies", async () => {
    const doc = JSON.parse((await collect(exportLedgerJson(deps, pod.slug, { private: true }))).text);
    expect(doc.private).toBe(true);
    const entries = await listEntries(deps, pod.slug);
    expect(doc.entries).toHaveLength(entries.length);
    for (const [i, e] of doc.entries.entries()) {
      expect(Object.keys(e.private).sort()).toEqual(["member", "privateMemo", "receipt", "salt"]);
      expect(privateDigest(e.private)).toBe(e.privateDigest);
      expect([e.private.member, e.private.privateMemo, e.private.receipt]).toEqual([entries[i]!.member, entries[i]!.privateMemo, entries[i]!.receipt]);
    }
    const stripped = doc.entries.map(({ private: _p, ...rest }: any) => rest);
    expect(verifyChain(stripped)).toEqual({ fault: null, headSeq: 24, headHash: doc.head.hash });
  });

  it("a steward's CSV export imports into a pod with empty books and gives the same entries and balances", async () => {
    const { text } = await collect(exportLedgerCsv(deps, pod.slug, { private: true }));
    // The CSV reads back: 24 rows, the import's columns plus seq, recorded_at and hash.
    let rows = 0;
    for await (const item of readLedgerCsv([new TextEncoder().encode(text)])) {
      expect("error" in item ? item.error : null).toBeNull();
      rows++;
    }
    expect(rows).toBe(24);

    const copy = await newBookPod(deps, "copy");
    // Pseudonyms belong to a pod: the copy's members have their own.
    const mapping = new Map([...pod.members].map(([example, original]) => [original, copy.members.get(example)!]));
    const result = await importLedgerCsv(deps, copy.slug, { text: withMembers(text, mapping) });
    expect(result).toMatchObject({ rows: 24, firstSeq: 1, lastSeq: 24 });

    const same = (e: Awaited<ReturnType<typeof listEntries>>[number], members: Map<string, string> | null) => ({
      seq: e.seq,
      kind: e.kind,
      resource: e.resource,
      unit: e.unit,
      quantity: e.quantity,
      fund: e.fund,
      marketValue: e.marketValue,
      charged: e.charged,
      currency: e.currency,
      counterpartyKind: e.counterpartyKind,
      counterparty: e.counterparty,
      member: e.member && members ? members.get(e.member) : e.member,
      publicMemo: e.publicMemo,
      privateMemo: e.privateMemo,
      occurredAt: e.occurredAt.toISOString(),
      corrects: e.corrects,
      hasReceipt: e.receipt !== null,
    });
    const original = (await listEntries(deps, pod.slug)).map((e) => same(e, mapping));
    const copied = (await listEntries(deps, copy.slug)).map((e) => same(e, null));
    expect(copied).toEqual(original);
    expect(original.filter((e) => e.kind === "correction")).toHaveLength(2);

    const a = await getBalances(deps, pod.slug);
    const b = await getBalances(deps, copy.slug);
    expect([b.stock, b.funds, b.valueReclaimed, b.entries]).toEqual([a.stock, a.funds, a.valueReclaimed, a.entries]);
  });
});
