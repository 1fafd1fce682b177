/**
 * The open books' steward API on a real node (PGlite, or PostgreSQL in the pg run):
 * resources, members, entries (with receipts and Idempotency-Key), paging, CSV import
 * (text/csv bodies, duplicates, row/column errors, encoding), streamed exports,
 * verification, balances, settings and receipts; each bad input answered with its status,
 * code and field, and nothing written. Another pod's token gets 403 and never a name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const PREFIX = "/api/hyphae/v1";
const OAK = "oak-street";
const ELM = "elm-row";
const NAME = "Grace Hopper-Okafor";
const CONTACT = "grace@oak.example";
const PRIVATE_MEMO = "Her flat is above the launderette";

let node: TestNode;
let tokenOak: string;
let tokenElm: string;
let member = "";
let receipt = "";

beforeAll(async () => {
  node = await startTestNode({ podSlug: OAK, podName: "Oak Street" });
  await createPod(node.deps, { slug: ELM, name: "Elm Row" });
  tokenOak = await node.token(OAK);
  tokenElm = await node.token(ELM);
});

afterAll(async () => {
  await node?.stop();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function call(method: string, path: string, options: { json?: unknown; csv?: string | Uint8Array; token?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  const token = options.token === undefined ? tokenOak : options.token;
  const headers: Record<string, string> = { ...(token && { authorization: `Bearer ${token}` }), ...options.headers };
  let body: string | Blob | undefined;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.csv !== undefined) {
    headers["content-type"] ??= "text/csv";
    body = typeof options.csv === "string" ? options.csv : new Blob([Buffer.from(options.csv)]);
  }
  const response = await fetch(`${node.origin}${PREFIX}${path}`, { method, headers, ...(body !== undefined && { body }) });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

async function expectError(answer: Promise<Answer>, status: number, code: string, field?: string) {
  const r = await answer;
  expect({ status: r.status, error: r.body?.error, ...(field !== undefined && { field: r.body?.details?.field }) }).toEqual({ status, error: code, ...(field !== undefined && { field }) });
  expect(r.body.message).toEqual(expect.any(String));
  return r.body as { error: string; message: string; details?: any };
}

async function entryCount(): Promise<number> {
  const r = await call("GET", `/pods/${OAK}/ledger/verify`);
  expect(r.status).toBe(200);
  return r.body.entries as number;
}

const entry = (fields: Record<string, unknown>) => call("POST", `/pods/${OAK}/ledger/entries`, { json: fields });

describe("resources", () => {
  it("POST adds a resource (201) with its reference price; GET lists it", async () => {
    const r = await call("POST", `/pods/${OAK}/resources`, {
      json: { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2.40", referencePriceSource: "Market hall", referencePriceOn: "2026-11-01" },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      key: "squash",
      name: "Squash",
      unit: "kilogram",
      category: "food",
      specificationUri: null,
      referencePrice: "2.4",
      referencePriceSource: "Market hall",
      referencePriceOn: "2026-11-01",
      currency: "EUR",
    });
    expect((await call("POST", `/pods/${OAK}/resources`, { json: { key: "childcare", name: "Childcare", unit: "hour", category: "care", referencePrice: 20 } })).status).toBe(201);
    const list = await call("GET", `/pods/${OAK}/resources`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((x: any) => x.key).sort()).toEqual(["childcare", "squash"]);
  });

  it("refuses bad resources with a code naming the field, and adds nothing", async () => {
    const add = (json: Record<string, unknown>) => call("POST", `/pods/${OAK}/resources`, { json });
    const base = { key: "beans", name: "Beans", unit: "kilogram", category: "food" };
    await expectError(add({ ...base, key: "squash" }), 409, "RESOURCE_EXISTS", "key");
    await expectError(add({ ...base, key: "Bad Key" }), 400, "INVALID_RESOURCE_KEY", "key");
    await expectError(add({ ...base, unit: "furlong" }), 400, "UNKNOWN_UNIT", "unit");
    await expectError(add({ ...base, name: undefined }), 400, "FIELD_REQUIRED", "name");
    await expectError(add({ ...base, colour: "green" }), 400, "UNKNOWN_FIELD", "colour");
    await expectError(add({ ...base, referencePrice: "1.1234567" }), 400, "TOO_PRECISE", "referencePrice");
    await expectError(add({ ...base, referencePrice: "-1" }), 400, "NEGATIVE", "referencePrice");
    await expectError(add({ ...base, specificationUri: "ftp://x.example/beans" }), 400, "INVALID_URI", "specificationUri");
    const list = await call("GET", `/pods/${OAK}/resources`);
    expect(list.body.items).toHaveLength(2);
  });

  it("PATCH changes the price; the key cannot change; an unknown resource is 404", async () => {
    const r = await call("PATCH", `/pods/${OAK}/resources/squash`, { json: { referencePrice: "2.50", referencePriceOn: "2026-11-15" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ key: "squash", referencePrice: "2.5", referencePriceOn: "2026-11-15", referencePriceSource: "Market hall" });
    await expectError(call("PATCH", `/pods/${OAK}/resources/squash`, { json: { key: "marrow" } }), 400, "KEY_IMMUTABLE", "key");
    await expectError(call("PATCH", `/pods/${OAK}/resources/marrow`, { json: { name: "Marrow" } }), 404, "UNKNOWN_RESOURCE");
  });
});

describe("members", () => {
  it("POST registers a member under a pseudonym; GET shows the steward the name and contact", async () => {
    const r = await call("POST", `/pods/${OAK}/members`, { json: { name: NAME, contact: CONTACT } });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ pseudonym: expect.stringMatching(/^m-[0-9a-f]{4}$/), name: NAME, contact: CONTACT, joinedAt: expect.any(String) });
    member = r.body.pseudonym;
    const list = await call("GET", `/pods/${OAK}/members`);
    expect(list.body.items).toEqual([expect.objectContaining({ pseudonym: member, name: NAME, contact: CONTACT })]);
    await expectError(call("POST", `/pods/${OAK}/members`, { json: { contact: "x" } }), 400, "FIELD_REQUIRED", "name");
  });

  it("PATCH changes the name, the contact or both; a field left out keeps its value, a null contact clears it", async () => {
    const path = `/pods/${OAK}/members/${member}`;
    const contactOnly = await call("PATCH", path, { json: { contact: "flat 2" } });
    expect(contactOnly.status).toBe(200);
    expect(contactOnly.body).toEqual({ pseudonym: member, name: NAME, contact: "flat 2", joinedAt: expect.any(String) });
    const both = await call("PATCH", path, { json: { name: "Grace Okafor", contact: null } });
    expect(both.body).toMatchObject({ pseudonym: member, name: "Grace Okafor", contact: null });
    const back = await call("PATCH", path, { json: { name: NAME, contact: CONTACT } });
    expect(back.body).toMatchObject({ pseudonym: member, name: NAME, contact: CONTACT });
    const list = await call("GET", `/pods/${OAK}/members`);
    expect(list.body.items).toEqual([expect.objectContaining({ pseudonym: member, name: NAME, contact: CONTACT })]);
  });

  it("PATCH refuses bad input with a code naming the field (400), an unknown member (404), and changes nothing", async () => {
    const path = `/pods/${OAK}/members/${member}`;
    await expectError(call("PATCH", path, { json: { name: "  " } }), 400, "FIELD_REQUIRED", "name");
    await expectError(call("PATCH", path, { json: { name: "x".repeat(201) } }), 400, "TOO_LONG", "name");
    await expectError(call("PATCH", path, { json: { pseudonym: "m-ffff" } }), 400, "UNKNOWN_FIELD", "pseudonym");
    await expectError(call("PATCH", path, { json: { name: 42 } }), 400, "INVALID_FIELD", "name");
    await expectError(call("PATCH", `/pods/${OAK}/members/m-0000${member === "m-0000" ? "0" : ""}`, { json: { name: "Nobody" } }), 404, "UNKNOWN_MEMBER");
    const refused = await expectError(call("PATCH", path, { json: { name: "Intruder" }, token: tokenElm }), 403, "TOKEN_WRONG_POD");
    expect(JSON.stringify(refused)).not.toContain(NAME);
    const list = await call("GET", `/pods/${OAK}/members`);
    expect(list.body.items).toEqual([expect.objectContaining({ pseudonym: member, name: NAME, contact: CONTACT })]);
  });

  it("PATCH sent twice under one Idempotency-Key applies once and answers the same", async () => {
    const path = `/pods/${OAK}/members/${member}`;
    const key = "member-rename-1";
    const first = await call("PATCH", path, { json: { name: "Grace H." }, headers: { "idempotency-key": key } });
    expect(first.body).toMatchObject({ name: "Grace H." });
    // Changed again in between: a replay of the first request must not undo this.
    expect((await call("PATCH", path, { json: { name: NAME } })).status).toBe(200);
    const again = await call("PATCH", path, { json: { name: "Grace H." }, headers: { "idempotency-key": key } });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
    const list = await call("GET", `/pods/${OAK}/members`);
    expect(list.body.items).toEqual([expect.objectContaining({ pseudonym: member, name: NAME, contact: CONTACT })]);
  });
});

describe("ledger entries", () => {
  it("a contribution, then a draw with a receipt number and its page's URL", async () => {
    const c = await entry({ kind: "contribution", resource: "squash", quantity: "10", member, occurredAt: "2026-11-02" });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ seq: 1, kind: "contribution", quantity: "10", marketValue: "25", charged: "0", member, receipt: null, receiptUrl: null, corrects: null });
    expect(c.body.prevHash).toBe("0".repeat(64));

    const d = await entry({ kind: "draw", resource: "squash", quantity: "2.5", fund: "survival", member, privateMemo: PRIVATE_MEMO, publicMemo: "Pantry bag", occurredAt: "2026-11-03T10:00:00Z" });
    expect(d.status).toBe(201);
    expect(d.body).toMatchObject({ seq: 2, kind: "draw", fund: "survival", marketValue: "6.25", member, privateMemo: PRIVATE_MEMO, prevHash: c.body.hash });
    expect(d.body.receipt).toMatch(/^R1-[A-Z2-9]{6}$/);
    expect(d.body.receiptUrl).toBe(`${node.origin}/pods/${OAK}/receipts/${d.body.receipt}`);
    receipt = d.body.receipt;
  });

  it("the same Idempotency-Key twice records one entry and replays the first answer", async () => {
    const before = await entryCount();
    const send = () => call("POST", `/pods/${OAK}/ledger/entries`, { json: { kind: "draw", resource: "squash", quantity: "1", fund: "capacity_building" }, headers: { "idempotency-key": "draw-7f3a-1" } });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.body).toEqual(first.body);
    expect(await entryCount()).toBe(before + 1);
  });

  it("each bad entry is refused with its code and field, and nothing is written", async () => {
    const before = await entryCount();
    const draw = { kind: "draw", resource: "squash", quantity: "1", fund: "survival" };
    const cases: Array<[Record<string, unknown>, number, string, string]> = [
      [{ ...draw, quantity: "0" }, 400, "NOT_POSITIVE", "quantity"],
      [{ ...draw, quantity: "-2" }, 400, "NOT_POSITIVE", "quantity"],
      [{ ...draw, quantity: "two" }, 400, "INVALID_DECIMAL", "quantity"],
      [{ ...draw, quantity: "0.1234567" }, 400, "TOO_PRECISE", "quantity"],
      [{ ...draw, resource: "marrow" }, 400, "UNKNOWN_RESOURCE", "resource"],
      [{ ...draw, unit: "litre" }, 400, "UNIT_MISMATCH", "unit"],
      [{ ...draw, fund: undefined }, 400, "FUND_REQUIRED", "fund"],
      [{ ...draw, fund: "rainy_day" }, 400, "INVALID_FUND", "fund"],
      [{ ...draw, quantity: "1000" }, 400, "INSUFFICIENT_STOCK", "quantity"],
      [{ ...draw, member: "m-0000" === member ? "m-ffff" : "m-0000" }, 400, "UNKNOWN_MEMBER", "member"],
      [{ ...draw, occurredAt: "2099-01-01" }, 400, "FUTURE_DATE", "occurredAt"],
      [{ ...draw, occurredAt: "yesterday" }, 400, "INVALID_DATE", "occurredAt"],
      [{ ...draw, kind: "gift" }, 400, "INVALID_KIND", "kind"],
      [{ ...draw, colour: "green" }, 400, "UNKNOWN_FIELD", "colour"],
      [{ ...draw, member, counterpartyLabel: "The bakery" }, 400, "COUNTERPARTY_CONFLICT", "counterpartyLabel"],
    ];
    for (const [json, status, code, field] of cases) await expectError(entry(json), status, code, field);
    expect(await entryCount()).toBe(before);
  });

  it("GET pages through entries by `after` and `limit`; bad cursors are refused naming the query field", async () => {
    const page1 = await call("GET", `/pods/${OAK}/ledger/entries?limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((e: any) => e.seq)).toEqual([1, 2]);
    expect(page1.body.next).toBe(2);
    const page2 = await call("GET", `/pods/${OAK}/ledger/entries?after=2&limit=2`);
    expect(page2.body.items.map((e: any) => e.seq)).toEqual([3]);
    expect(page2.body.next).toBeNull();
    const one = await call("GET", `/pods/${OAK}/ledger/entries/2`);
    expect(one.body).toMatchObject({ seq: 2, receipt });
    await expectError(call("GET", `/pods/${OAK}/ledger/entries?after=-1`), 400, "INVALID_CURSOR", "after");
    await expectError(call("GET", `/pods/${OAK}/ledger/entries?limit=0`), 400, "INVALID_LIMIT", "limit");
    await expectError(call("GET", `/pods/${OAK}/ledger/entries?limit=1001`), 400, "INVALID_LIMIT", "limit");
    await expectError(call("GET", `/pods/${OAK}/ledger/entries/99`), 404, "ENTRY_NOT_FOUND");
  });
});

describe("CSV import", () => {
  const csv = ["kind,resource,quantity,fund,member,private_memo,occurred_at", "contribution,childcare,6,,,,2026-11-08", `draw,childcare,2.5,power_shifting,MEMBER,Needs a cot,2026-11-08T10:00:00Z`, ""].join("\r\n");

  it("imports a text/csv body with a BOM and CRLF (201); the same bytes again are 409; an Idempotency-Key replays", async () => {
    const body = "\uFEFF" + csv.replace("MEMBER", member);
    const before = await entryCount();
    const r = await call("POST", `/pods/${OAK}/ledger/import`, { csv: body, headers: { "idempotency-key": "import-1" } });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ importId: expect.any(String), rows: 2, firstSeq: before + 1, lastSeq: before + 2 });
    const replay = await call("POST", `/pods/${OAK}/ledger/import`, { csv: body, headers: { "idempotency-key": "import-1" } });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(r.body);
    const again = await expectError(call("POST", `/pods/${OAK}/ledger/import`, { csv: body }), 409, "LEDGER_IMPORT_DUPLICATE");
    expect(again.details).toMatchObject({ importId: r.body.importId, rows: 2 });
    expect(await entryCount()).toBe(before + 2);
  });

  it("a bad file is 400 CSV_INVALID listing row, column and code; nothing is written", async () => {
    const before = await entryCount();
    const bad = ["kind,resource,quantity,fund", "contribution,squash,1,", "draw,squash,abc,survival", "draw,squash,1,", "draw,nowhere,1,survival", ""].join("\n");
    const r = await expectError(call("POST", `/pods/${OAK}/ledger/import`, { csv: bad }), 400, "CSV_INVALID");
    expect(r.details.errors.map((e: any) => [e.row, e.column, e.code])).toEqual([
      [2, "quantity", "INVALID_DECIMAL"],
      [3, "fund", "FUND_REQUIRED"],
      [4, "resource", "UNKNOWN_RESOURCE"],
    ]);
    const missingColumn = await expectError(call("POST", `/pods/${OAK}/ledger/import`, { csv: "kind,resource\ncontribution,squash\n" }), 400, "CSV_INVALID");
    expect(missingColumn.details.errors[0]).toMatchObject({ row: 0 });
    const latin1 = Uint8Array.from([...Buffer.from("kind,resource,quantity,public_memo\ncontribution,squash,1,caf"), 0xe9, 0x0a]);
    const encoding = await expectError(call("POST", `/pods/${OAK}/ledger/import`, { csv: latin1 }), 400, "CSV_INVALID");
    expect(encoding.details.errors[0]).toMatchObject({ row: 1, code: "CSV_ENCODING" });
    expect(await entryCount()).toBe(before);
  });

  it("wants text/csv, and a token of the pod before the body is read", async () => {
    await expectError(call("POST", `/pods/${OAK}/ledger/import`, { json: { rows: [] } }), 400, "CSV_REQUIRED", "body");
    await expectError(call("POST", `/pods/${OAK}/ledger/import`, { csv: csv, token: null }), 401, "TOKEN_MISSING");
    await expectError(call("POST", `/pods/${OAK}/ledger/import`, { csv: csv, token: tokenElm }), 403, "TOKEN_WRONG_POD");
  });
});

describe("export, verify, balances, settings, receipts", () => {
  it("exports CSV (stream) without private fields unless private=true", async () => {
    const pub = await call("GET", `/pods/${OAK}/ledger/export`);
    expect(pub.status).toBe(200);
    expect(pub.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(pub.headers.get("content-disposition")).toBe(`attachment; filename="${OAK}-ledger.csv"`);
    const count = await entryCount();
    expect(pub.text.trimEnd().split(/\r?\n/)).toHaveLength(count + 1);
    expect(pub.text).not.toContain(PRIVATE_MEMO);
    expect(pub.text).not.toContain(member);
    const priv = await call("GET", `/pods/${OAK}/ledger/export?private=true`);
    expect(priv.text).toContain(PRIVATE_MEMO);
    expect(priv.text).toContain(member);
    for (const text of [pub.text, priv.text]) {
      expect(text).not.toContain(NAME);
      expect(text).not.toContain(CONTACT);
    }
  });

  it("exports JSON whose head matches verify; a bad format is refused", async () => {
    const r = await call("GET", `/pods/${OAK}/ledger/export?format=json`);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    const v = await call("GET", `/pods/${OAK}/ledger/verify`);
    expect(v.body).toEqual({ ok: true, entries: r.body.entries.length, headSeq: r.body.head.seq, headHash: r.body.head.hash, fault: null });
    expect(r.body.format).toBe("hyphae-ledger/1");
    await expectError(call("GET", `/pods/${OAK}/ledger/export?format=xml`), 400, "VALIDATION_FAILED");
  });

  it("balances now and at an earlier date; a bad date names `at`", async () => {
    const now = await call("GET", `/pods/${OAK}/books/balances`);
    expect(now.status).toBe(200);
    expect(now.body.stock.find((s: any) => s.resource === "squash").quantity).toBe("6.5");
    expect(now.body.stock.find((s: any) => s.resource === "childcare").quantity).toBe("3.5");
    const early = await call("GET", `/pods/${OAK}/books/balances?at=2026-11-02T12:00:00Z`);
    expect(early.body.stock.find((s: any) => s.resource === "squash").quantity).toBe("10");
    expect(early.body.entries).toBe(1);
    await expectError(call("GET", `/pods/${OAK}/books/balances?at=soon`), 400, "INVALID_DATE", "at");
  });

  it("settings: overdraw allowed by PATCH; the currency cannot change once entries exist", async () => {
    const get = await call("GET", `/pods/${OAK}/books/settings`);
    expect(get.body).toEqual({ currency: "EUR", allowOverdraw: false, autoPeriods: expect.any(Array), invoiceAddressee: null });
    const patched = await call("PATCH", `/pods/${OAK}/books/settings`, { json: { allowOverdraw: true, invoiceAddressee: "The Mayor" } });
    expect(patched.body).toMatchObject({ allowOverdraw: true, invoiceAddressee: "The Mayor" });
    expect((await entry({ kind: "draw", resource: "squash", quantity: "100", fund: "survival" })).status).toBe(201);
    await expectError(call("PATCH", `/pods/${OAK}/books/settings`, { json: { currency: "GBP" } }), 409, "CURRENCY_IN_USE", "currency");
  });

  it("a receipt by its number; an unknown number is 404", async () => {
    const r = await call("GET", `/pods/${OAK}/receipts/${receipt}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ number: receipt, seq: 2, quantity: "2.5", fund: "survival", marketValue: "6.25", charged: "0", valueReclaimed: "6.25", member });
    await expectError(call("GET", `/pods/${OAK}/receipts/R1-AAAAAA`), 404, "RECEIPT_NOT_FOUND");
  });
});

describe("privacy and authority", () => {
  const reads = () => [
    `/pods/${OAK}/members`,
    `/pods/${OAK}/ledger/entries`,
    `/pods/${OAK}/ledger/entries/2`,
    `/pods/${OAK}/ledger/export?private=true`,
    `/pods/${OAK}/ledger/export?format=json&private=true`,
    `/pods/${OAK}/receipts/${receipt}`,
    `/pods/${OAK}/resources`,
    `/pods/${OAK}/books/balances`,
  ];

  it("another pod's token gets 403 TOKEN_WRONG_POD and never a member's name, contact or private memo", async () => {
    for (const path of reads()) {
      const r = await call("GET", path, { token: tokenElm });
      expect({ path, status: r.status, error: r.body?.error }).toEqual({ path, status: 403, error: "TOKEN_WRONG_POD" });
      for (const secret of [NAME, CONTACT, PRIVATE_MEMO, member, receipt]) expect(r.text).not.toContain(secret);
    }
    await expectError(call("POST", `/pods/${OAK}/members`, { json: { name: "Intruder" }, token: tokenElm }), 403, "TOKEN_WRONG_POD");
    await expectError(call("POST", `/pods/${OAK}/ledger/entries`, { json: { kind: "contribution", resource: "squash", quantity: "1" }, token: tokenElm }), 403, "TOKEN_WRONG_POD");
  });

  it("no token: 401 everywhere", async () => {
    for (const path of reads()) {
      const r = await call("GET", path, { token: null });
      expect({ path, status: r.status }).toEqual({ path, status: 401 });
      expect(r.text).not.toContain(NAME);
    }
  });

  it("the OpenAPI document describes the books' routes, with a text/csv import body", async () => {
    const r = await call("GET", "/openapi.json", { token: null });
    const paths = r.body.paths;
    for (const p of ["/pods/{slug}/resources", "/pods/{slug}/members", "/pods/{slug}/ledger/entries", "/pods/{slug}/ledger/import", "/pods/{slug}/ledger/export", "/pods/{slug}/ledger/verify", "/pods/{slug}/books/balances", "/pods/{slug}/books/settings", "/pods/{slug}/receipts/{number}"]) {
      expect(paths[p], p).toBeDefined();
    }
    const memberPatch = paths["/pods/{slug}/members/{pseudonym}"].patch;
    expect(memberPatch.parameters.map((x: any) => x.name)).toEqual(["slug", "pseudonym", "Idempotency-Key"]);
    expect(Object.keys(memberPatch.requestBody.content["application/json"].schema.properties)).toEqual(["name", "contact"]);
    expect(Object.keys(paths["/pods/{slug}/ledger/import"].post.requestBody.content)).toEqual(["text/csv"]);
    expect(paths["/pods/{slug}/ledger/entries"].post.requestBody.content["application/json"].schema.required).toEqual(["kind", "quantity"]);
    expect(Object.keys(paths["/pods/{slug}/ledger/export"].get.responses["200"].content)).toEqual(["text/csv", "application/json"]);
  });
});
