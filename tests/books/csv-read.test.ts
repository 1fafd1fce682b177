// The ledger CSV reader (src/domain/books/csv.ts): shape, quoting, encoding, row numbers.
import { describe, expect, it } from "vitest";
import { csvRecord, decodeUtf8Chunks, readLedgerCsv, type CsvItem } from "../../src/domain/books/csv.ts";

const enc = new TextEncoder();
const bytes = (...parts: Array<string | number[]>) => {
  const chunks = parts.map((p) => (typeof p === "string" ? enc.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
};

/** Splits bytes into chunks of `size` (the reader must not care where chunks end). */
function chunked(b: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

async function read(input: string | Uint8Array | Uint8Array[]): Promise<CsvItem[]> {
  const chunks = Array.isArray(input) ? input : [typeof input === "string" ? enc.encode(input) : input];
  const items: CsvItem[] = [];
  for await (const item of readLedgerCsv(chunks)) items.push(item);
  return items;
}

const errorsOf = (items: CsvItem[]) => items.flatMap((i) => ("error" in i ? [i.error] : []));
const entriesOf = (items: CsvItem[]) => items.flatMap((i) => ("entry" in i ? [{ row: i.row, ...i.entry }] : []));

async function decodeAll(chunks: Uint8Array[]): Promise<string> {
  let text = "";
  for await (const t of decodeUtf8Chunks(chunks)) text += t;
  return text;
}

describe("ledger CSV: rows", () => {
  it("reads rows with case-insensitive headers in any order; empty cells are absent", async () => {
    const items = await read(
      "Quantity,KIND,resource,Fund,occurred_at,corrects\n" +
        "12.5,contribution,squash,,2026-11-20,\n" +
        "2,draw,squash,survival,2026-11-21T10:00:00Z,\n" +
        "-1,correction,squash,,,2\n",
    );
    expect(errorsOf(items)).toEqual([]);
    expect(entriesOf(items)).toEqual([
      { row: 1, kind: "contribution", resource: "squash", quantity: "12.5", occurredAt: "2026-11-20" },
      { row: 2, kind: "draw", resource: "squash", quantity: "2", fund: "survival", occurredAt: "2026-11-21T10:00:00Z" },
      { row: 3, kind: "correction", resource: "squash", quantity: "-1", corrects: 2 },
    ]);
  });

  it("maps every import column to its entry field", async () => {
    const header = "kind,resource,quantity,unit,fund,market_value,charged,member,counterparty_pod,counterparty_label,public_memo,private_memo,occurred_at,corrects\n";
    const row = "draw,drill,3,hour,capacity_building,4.50,0,m-7f3a,https://b.example/pods/elm,Elm St school,for the fence,ask Ana,2026-11-28,\n";
    expect(entriesOf(await read(header + row))).toEqual([
      {
        row: 1,
        kind: "draw",
        resource: "drill",
        quantity: "3",
        unit: "hour",
        fund: "capacity_building",
        marketValue: "4.50",
        charged: "0",
        member: "m-7f3a",
        counterpartyPod: "https://b.example/pods/elm",
        counterpartyLabel: "Elm St school",
        publicMemo: "for the fence",
        privateMemo: "ask Ana",
        occurredAt: "2026-11-28",
      },
    ]);
  });

  it("accepts a UTF-8 BOM and Windows line ends (also mixed with LF and split across chunks)", async () => {
    const text = "\uFEFFkind,resource,quantity\r\ncontribution,rice,1\r\ndraw,rice,0.5\ncontribution,rice,2\r\n";
    for (const size of [1, 2, 3, 7, 1000]) {
      const items = await read(chunked(enc.encode(text), size));
      expect(errorsOf(items)).toEqual([]);
      expect(entriesOf(items).map((e) => [e.row, e.kind, e.quantity])).toEqual([
        [1, "contribution", "1"],
        [2, "draw", "0.5"],
        [3, "contribution", "2"],
      ]);
    }
  });

  it("follows RFC 4180 quoting: commas, doubled quotes and line breaks inside quoted memos, kept verbatim", async () => {
    const items = await read('kind,resource,quantity,public_memo,private_memo\r\n"contribution", rice ,"1","a, ""quoted"" memo","line one\r\nline two "\r\n');
    expect(entriesOf(items)).toEqual([
      { row: 1, kind: "contribution", resource: "rice", quantity: "1", publicMemo: 'a, "quoted" memo', privateMemo: "line one\r\nline two " },
    ]);
  });

  it("numbers rows from the header: blank lines and cleared rows count as rows and are skipped", async () => {
    const items = await read("kind,resource,quantity\n\ncontribution,rice,1\n,,\ncontribution,rice,2\n\n");
    expect(errorsOf(items)).toEqual([]);
    // Row n is line n + 1 of the file.
    expect(entriesOf(items).map((e) => [e.row, e.quantity])).toEqual([
      [2, "1"],
      [4, "2"],
    ]);
  });

  it("reads seq and corrects as entry numbers; recorded_at and hash (export columns) are accepted and ignored", async () => {
    const items = await read("seq,kind,resource,quantity,corrects,recorded_at,hash\n7,correction,rice,-1,3,2026-11-28T10:00:00.000Z,abc\n");
    expect(items).toEqual([{ row: 1, seq: 7, entry: { kind: "correction", resource: "rice", quantity: "-1", corrects: 3 } }]);
    const bad = errorsOf(await read("seq,kind,resource,quantity,corrects\nx,draw,rice,1,\n2,correction,rice,-1,1.5\n3,correction,rice,-1,0\n"));
    expect(bad.map((e) => [e.row, e.column, e.code])).toEqual([
      [1, "seq", "INVALID_INTEGER"],
      [2, "corrects", "INVALID_INTEGER"],
      [3, "corrects", "INVALID_INTEGER"],
    ]);
  });

  it("an empty kind or quantity is FIELD_REQUIRED, naming the column; an empty resource is left to the ledger's rules (a correction may omit it)", async () => {
    const items = await read("kind,resource,quantity,corrects\ncorrection,,-1,4\n,rice,,\n");
    expect(entriesOf(items)).toEqual([{ row: 1, kind: "correction", quantity: "-1", corrects: 4 }]);
    expect(errorsOf(items).map((e) => [e.row, e.column, e.code])).toEqual([
      [2, "kind", "FIELD_REQUIRED"],
      [2, "quantity", "FIELD_REQUIRED"],
    ]);
  });
});

describe("ledger CSV: header", () => {
  it("a missing required column is CSV_MISSING_COLUMN and nothing else is read", async () => {
    const items = await read("kind,resource,unit\ncontribution,rice,kilogram\n");
    expect(items).toEqual([{ row: 0, error: expect.objectContaining({ row: 0, column: "quantity", code: "CSV_MISSING_COLUMN" }) }]);
  });

  it("unknown, unnamed and repeated columns are errors", async () => {
    const bad = errorsOf(await read("kind,resource,quantity,colour,,Kind\ncontribution,rice,1,red,,x\n"));
    expect(bad.map((e) => [e.row, e.column, e.code])).toEqual([
      [0, "colour", "CSV_UNKNOWN_COLUMN"],
      [0, "cell 5", "CSV_UNKNOWN_COLUMN"],
      [0, "kind", "CSV_DUPLICATE_COLUMN"],
    ]);
  });

  it("onHeader sees the columns and can stop before the rows", async () => {
    const seen: string[][] = [];
    const items: CsvItem[] = [];
    const text = "Kind,resource,quantity,corrects\ncontribution,rice,1,\n";
    for await (const item of readLedgerCsv([enc.encode(text)], { onHeader: (c) => (seen.push([...c]), "stop") })) items.push(item);
    expect([seen, items]).toEqual([[["kind", "resource", "quantity", "corrects"]], []]);
    for await (const item of readLedgerCsv([enc.encode(text)], { onHeader: () => "continue" })) items.push(item);
    expect(items).toHaveLength(1);
  });

  it("an empty file is CSV_EMPTY; a header alone gives no rows", async () => {
    expect(errorsOf(await read("")).map((e) => e.code)).toEqual(["CSV_EMPTY"]);
    expect(errorsOf(await read("\uFEFF")).map((e) => e.code)).toEqual(["CSV_EMPTY"]);
    expect(await read("kind,resource,quantity\r\n")).toEqual([]);
  });
});

describe("ledger CSV: malformed", () => {
  it("a row with an extra cell names the cell; a short row names the first missing column; reading goes on", async () => {
    const bad = errorsOf(await read("kind,resource,quantity,fund\ncontribution,rice,1,\ndraw,rice,1,survival,oops\ndraw,rice\ncontribution,rice,1,\n"));
    expect(bad.map((e) => [e.row, e.column, e.code])).toEqual([
      [2, "cell 5", "CSV_COLUMN_COUNT"],
      [3, "quantity", "CSV_COLUMN_COUNT"],
    ]);
  });

  it("a quote inside an unquoted value is CSV_QUOTING with row and column, and reading stops there", async () => {
    const items = await read('kind,resource,quantity,public_memo\ncontribution,rice,1,ok\ncontribution,rice,1,the "big" bag\ncontribution,rice,3,after\n');
    expect(entriesOf(items).map((e) => e.row)).toEqual([1]);
    expect(errorsOf(items)).toEqual([expect.objectContaining({ row: 2, column: "public_memo", code: "CSV_QUOTING" })]);
  });

  it("text after a closing quote is CSV_QUOTING", async () => {
    const bad = errorsOf(await read('kind,resource,quantity,public_memo\ncontribution,rice,1,"big" bag\n'));
    expect(bad.map((e) => [e.row, e.column, e.code])).toEqual([[1, "public_memo", "CSV_QUOTING"]]);
  });

  it("a quote never closed is CSV_QUOTING (short file) or CSV_ROW_TOO_LARGE (it would swallow the file)", async () => {
    const short = errorsOf(await read('kind,resource,quantity,public_memo\ncontribution,rice,1,"open\ncontribution,rice,2,x\n'));
    expect(short.map((e) => [e.row, e.code])).toEqual([[1, "CSV_QUOTING"]]);
    const long = errorsOf(await read('kind,resource,quantity,public_memo\ncontribution,rice,1,x\ncontribution,rice,1,"open\n' + "contribution,rice,2,x\n".repeat(10_000)));
    expect(long.map((e) => [e.row, e.code])).toEqual([[2, "CSV_ROW_TOO_LARGE"]]);
  });

  it("stops pulling the source after a fatal error", async () => {
    let pulled = 0;
    async function* source() {
      yield enc.encode('kind,resource,quantity\ncontribution,rice,"1"x\n');
      for (let i = 0; i < 10_000; i++) {
        pulled++;
        yield enc.encode("contribution,rice,1\n".repeat(100));
      }
    }
    const items: CsvItem[] = [];
    for await (const item of readLedgerCsv(source())) items.push(item);
    expect(errorsOf(items).map((e) => e.code)).toEqual(["CSV_QUOTING"]);
    expect(pulled).toBeLessThan(100);
  });
});

describe("ledger CSV: encoding", () => {
  it("a byte that is not UTF-8 (Latin-1 é) is CSV_ENCODING with its row and column; other rows still read", async () => {
    const file = bytes("kind,resource,quantity,public_memo\ncontribution,rice,1,ok\ncontribution,rice,2,caf", [0xe9], "\ncontribution,rice,3,fine\n");
    for (const size of [1, 5, 64, file.length]) {
      const items = await read(chunked(file, size));
      expect(errorsOf(items)).toEqual([expect.objectContaining({ row: 2, column: "public_memo", code: "CSV_ENCODING" })]);
      expect(entriesOf(items).map((e) => e.row)).toEqual([1, 3]);
    }
  });

  it("multi-byte characters split across chunks at every position decode exactly", async () => {
    const text = "kind,resource,quantity,public_memo\ncontribution,rice,1,é ñ 中文 🌱 ﬁ \uFEFF end\n";
    const file = enc.encode(text);
    for (let size = 1; size <= 8; size++) {
      expect(await decodeAll(chunked(file, size))).toBe(text);
      const items = await read(chunked(file, size));
      expect(entriesOf(items)[0]!.publicMemo).toBe("é ñ 中文 🌱 ﬁ \uFEFF end");
    }
  });

  it.each([
    ["a lone continuation byte", [0x80]],
    ["an overlong encoding of /", [0xc0, 0xaf]],
    ["a UTF-16 surrogate encoded in UTF-8", [0xed, 0xa0, 0x80]],
    ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["a lead byte without its continuation", [0xe2, 0x82]],
    ["a NUL character", [0x00]],
  ])("%s is CSV_ENCODING, also split across chunks", async (_name, bad) => {
    const file = bytes("kind,resource,quantity,private_memo\ncontribution,rice,1,x", bad, "y\n");
    for (const size of [1, 2, 3, file.length]) {
      const found = errorsOf(await read(chunked(file, size)));
      expect(found.map((e) => [e.row, e.column, e.code])).toEqual([[1, "private_memo", "CSV_ENCODING"]]);
    }
  });

  it("a sequence cut off at the end of the file is CSV_ENCODING", async () => {
    const file = bytes("kind,resource,quantity,public_memo\ncontribution,rice,1,x", [0xf0, 0x9f, 0x8c]);
    const found = errorsOf(await read(chunked(file, 4)));
    expect(found.map((e) => [e.row, e.column, e.code])).toEqual([[1, "public_memo", "CSV_ENCODING"]]);
  });

  it("a header that is not UTF-8 is CSV_ENCODING in row 0; a UTF-16 file is named as such", async () => {
    expect(errorsOf(await read(bytes("kind,resource,quantit", [0xe9], "\n"))).map((e) => [e.row, e.code])).toEqual([[0, "CSV_ENCODING"]]);
    const utf16 = new Uint8Array([0xff, 0xfe, ...Array.from(enc.encode("kind,resource,quantity\n")).flatMap((b) => [b, 0])]);
    const found = errorsOf(await read(utf16));
    expect(found).toEqual([expect.objectContaining({ row: 0, code: "CSV_ENCODING", message: expect.stringContaining("UTF-16") })]);
  });
});

describe("ledger CSV: writing", () => {
  it("quotes what needs quoting and reads back exactly", async () => {
    const memos = ['plain', 'with, comma', 'with "quotes"', "two\nlines", "crlf\r\nlines", " edge spaces ", "", "=1+1"];
    let text = csvRecord(["kind", "resource", "quantity", "public_memo"]);
    for (const memo of memos) text += csvRecord(["contribution", "rice", "1", memo]);
    expect(csvRecord(["a", null, 'b"c', 3])).toBe('a,,"b""c",3\r\n');
    const entries = entriesOf(await read(text));
    expect(entries.map((e) => e.publicMemo ?? "")).toEqual(memos);
  });
});
