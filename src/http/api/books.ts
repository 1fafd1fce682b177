/**
 * Steward API routes of the open books: resources, members, ledger entries, CSV import,
 * export, verification, balances, settings and receipts. Every route needs the pod's
 * steward token. Bodies reach the services as sent: the services validate them and answer
 * with stable codes naming the field (the zod shapes here only document them).
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { ENTRY_KINDS, FUNDS, PERIOD_KINDS } from "../../domain/books/model.ts";
import { invalid, notFound } from "../../domain/errors.ts";
import { podSlugSchema } from "../../domain/pods.ts";
import { entryJson } from "../../services/book-ops.ts";
import * as books from "../../services/books.ts";
import * as ledger from "../../services/ledger.ts";
import * as ledgerIo from "../../services/ledger-io.ts";
import { storedResult } from "../../services/idempotency.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

/** The largest CSV body the API takes (about 700,000 rows); bigger files go through `hyphae ledger import`, which streams from disk. */
export const CSV_BODY_LIMIT = 64 * 1024 * 1024;

const slugParams = z.object({ slug: podSlugSchema });
const dateTime = z.iso.datetime();
const decimal = z.string().describe("An exact decimal in normal form, e.g. 12.5");

/** A JSON Schema property, for the OpenAPI document. */
const field = (type: string | string[], description: string, extra: Record<string, unknown> = {}) => ({ type, description, ...extra });
/**
 * A JSON object body passed to the service as sent: the service checks it and answers with
 * stable codes naming the field (FIELD_REQUIRED, UNKNOWN_FIELD…). The properties only document it.
 */
const documentedBody = (properties: Record<string, Record<string, unknown>>, required: string[] = []) =>
  z.record(z.string(), z.unknown()).meta({ properties, required, additionalProperties: false });

const resourceFields = {
  name: field("string", "Display name (1–100 characters)"),
  unit: field("string", "An OM2 unit (kilogram, litre, hour, one, day, kilowattHour…) or a currency code (EUR)"),
  category: field("string", "The charter's service category (1–60 characters); another is accepted with a warning"),
  specificationUri: field(["string", "null"], "A resource specification URI (http or https)"),
  referencePrice: field(["string", "number", "null"], "Market reference price per unit in the pod's currency (decimal ≥ 0, up to 6 places)"),
  referencePriceSource: field(["string", "null"], "Where the reference price comes from"),
  referencePriceOn: field(["string", "null"], "When that price was true (YYYY-MM-DD)"),
};
const newResourceBody = documentedBody({ key: field("string", "Public key, ^[a-z0-9][a-z0-9_-]{0,39}$; never changes"), ...resourceFields }, ["key", "name", "unit", "category"]);
const resourcePatchBody = documentedBody(resourceFields);

const resourceSchema = z.object({
  key: z.string(),
  name: z.string(),
  unit: z.string(),
  category: z.string(),
  specificationUri: z.string().nullable(),
  referencePrice: decimal.nullable(),
  referencePriceSource: z.string().nullable(),
  referencePriceOn: z.string().nullable(),
  currency: z.string(),
  warning: z.string().optional().describe("Set when the category is not one of the charter's service categories"),
});

const memberSchema = z.object({
  pseudonym: z.string().describe("m-7f3a: what entries, receipts and exports name"),
  name: z.string().describe("Private: only stewards see it"),
  contact: z.string().nullable().describe("Private: only stewards see it"),
  joinedAt: dateTime,
});
const memberJson = (m: books.MemberView) => ({ ...m, joinedAt: m.joinedAt.toISOString() });

const entryBody = documentedBody({
  kind: field("string", "What happened", { enum: [...ENTRY_KINDS] }),
  resource: field("string", "The resource's key (a correction takes its corrected entry's)"),
  quantity: field(["string", "number"], "How much, in the resource's unit: > 0, up to 6 places; a correction's signed non-zero change"),
  unit: field("string", "Checked against the resource's unit (UNIT_MISMATCH)"),
  fund: field("string", "Required on draw, expenditure and transfer_out", { enum: [...FUNDS] }),
  marketValue: field(["string", "number"], "Market-equivalent value (default: quantity × reference price)"),
  charged: field(["string", "number"], "The price actually charged (default 0)"),
  member: field("string", "The member's pseudonym (m-7f3a)"),
  counterpartyPod: field("string", "Another pod's actor URI"),
  counterpartyLabel: field("string", "Someone outside the network (≤ 200 characters)"),
  publicMemo: field("string", "Public memo (≤ 500 characters)"),
  privateMemo: field("string", "Private memo (≤ 2000 characters; stewards only)"),
  occurredAt: field("string", "2026-11-28 (midnight UTC) or a date and time with a zone; default now"),
  corrects: field(["integer", "string"], "The seq of the entry a correction corrects"),
}, ["kind", "quantity"]);

const entrySchema = z.object({
  seq: z.number().int(),
  id: z.string(),
  kind: z.enum(ENTRY_KINDS),
  resource: z.string(),
  resourceName: z.string(),
  unit: z.string(),
  quantity: decimal,
  fund: z.enum(FUNDS).nullable(),
  marketValue: decimal,
  charged: decimal,
  currency: z.string(),
  counterpartyKind: z.enum(["member", "pod", "outside", "none"]),
  counterparty: z.string().nullable(),
  member: z.string().nullable().describe("The member's pseudonym"),
  publicMemo: z.string(),
  privateMemo: z.string(),
  occurredAt: dateTime,
  recordedAt: dateTime,
  corrects: z.number().int().nullable(),
  receipt: z.string().nullable().describe("A draw's commons receipt number (private: the receipt page's unguessable address)"),
  agreement: z.string().nullable().describe("The congress agreement a transfer fulfils (its id), or null"),
  receiptUrl: z.string().nullable(),
  hash: z.string(),
  prevHash: z.string(),
});

const faultSchema = z.object({ seq: z.number().int(), reason: z.string(), expected: z.string(), found: z.string() });
const settingsSchema = z.object({ currency: z.string(), allowOverdraw: z.boolean(), autoPeriods: z.array(z.enum(PERIOD_KINDS)), invoiceAddressee: z.string().nullable() });

/** A whole number from a query string, or the error the service would give, naming the query field. */
function wholeNumber(raw: string | undefined, name: string, code: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max)) throw invalid(code, `${name} must be a whole number from ${min} to ${max}`, { field: name });
  return n;
}

/** `2026-11-28` (end of that day is not implied: midnight UTC) or an ISO date and time with a zone. */
function instant(raw: string, name: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}$/.test(raw) || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw);
  const at = ok ? new Date(/T/i.test(raw) ? raw : `${raw}T00:00:00Z`) : null;
  if (!at || Number.isNaN(at.getTime())) throw invalid("INVALID_DATE", `${name} must be a date (2026-11-28) or a date and time with a zone (2026-11-28T10:00:00Z)`, { field: name });
  return at;
}

/** Pulls the first piece before answering, so an unknown pod is a 404, not a broken stream. */
async function streamOf(chunks: AsyncIterable<string>): Promise<Readable> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  return Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })(),
    { objectMode: false },
  );
}

const isCsv = (request: FastifyRequest) => /^text\/csv\b/i.test(request.headers["content-type"] ?? "");

/**
 * text/csv bodies, for this API only: raw bytes (the import checks UTF-8 itself and names the
 * row), up to CSV_BODY_LIMIT. The API checks the token on request, before any body is read,
 * so only a steward of the pod can make the node hold one.
 */
function acceptCsv(app: FastifyInstance): void {
  app.addContentTypeParser("text/csv", { parseAs: "buffer", bodyLimit: CSV_BODY_LIMIT }, (_request, body, done) => done(null, body));
}

const MEMBER_URL = "/pods/:slug/members/:pseudonym";

/**
 * A member's pseudonym is in MEMBER_URL's address: its requests are logged at warn and above
 * only, as the steward pages of a member and the receipt pages are.
 */
function quietMemberRequests(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    if (route.url.endsWith(MEMBER_URL)) route.logLevel = "warn";
  });
}

export function addBookRoutes(table: RouteTable, deps: ServiceDeps): void {
  table.onRegister(acceptCsv);
  table.onRegister(quietMemberRequests);

  // -- Resources ----------------------------------------------------------------------
  table.add({
    method: "POST",
    url: "/pods/:slug/resources",
    summary: "Add a resource to the pod's catalogue (409 RESOURCE_EXISTS for a key in use)",
    auth: true,
    params: slugParams,
    body: newResourceBody,
    status: 201,
    response: resourceSchema,
    handler: async ({ params, body }) => books.addResource(deps, params.slug, body),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/resources",
    summary: "List the pod's resources",
    auth: true,
    params: slugParams,
    response: z.object({ items: z.array(resourceSchema) }),
    handler: async ({ params }) => ({ items: await books.listResources(deps, params.slug) }),
  });
  table.add({
    method: "PATCH",
    url: "/pods/:slug/resources/:key",
    summary: "Change a resource's name, category, price or specification (its key never; its unit only while no entry uses it)",
    auth: true,
    params: slugParams.extend({ key: z.string() }),
    body: resourcePatchBody,
    response: resourceSchema,
    handler: async ({ params, body }) => books.updateResource(deps, params.slug, params.key, body),
  });

  // -- Members ------------------------------------------------------------------------
  table.add({
    method: "POST",
    url: "/pods/:slug/members",
    summary: "Register a member under a fresh pseudonym (the name and contact stay private)",
    auth: true,
    params: slugParams,
    body: documentedBody({ name: field("string", "The member's name (private)"), contact: field(["string", "null"], "How to reach them (private)") }, ["name"]),
    status: 201,
    response: memberSchema,
    handler: async ({ params, body }) => memberJson(await books.addMember(deps, params.slug, body)),
  });
  table.add({
    method: "PATCH",
    url: MEMBER_URL,
    summary: "Change a member's name, contact or both (a field left out keeps its value; an empty or null contact clears it; the pseudonym never changes)",
    auth: true,
    params: slugParams.extend({ pseudonym: z.string().describe("The member's pseudonym (m-7f3a)") }),
    body: documentedBody({ name: field("string", "The member's name (private; 1–200 characters)"), contact: field(["string", "null"], "How to reach them (private; empty or null: none)") }),
    response: memberSchema,
    handler: async ({ params, body }) => memberJson(await books.updateMember(deps, params.slug, params.pseudonym, body)),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/members",
    summary: "List members with their names and contacts (steward-only data)",
    auth: true,
    params: slugParams,
    response: z.object({ items: z.array(memberSchema) }),
    handler: async ({ params }) => ({ items: (await books.listMembers(deps, params.slug)).map(memberJson) }),
  });

  // -- Ledger ---------------------------------------------------------------------------
  table.add({
    method: "POST",
    url: "/pods/:slug/ledger/entries",
    summary: "Append one entry (a draw issues a commons receipt); send an Idempotency-Key to retry safely",
    auth: true,
    params: slugParams,
    body: entryBody,
    status: 201,
    response: entrySchema,
    handler: async ({ params, body }) => entryJson(deps, params.slug, await ledger.recordEntry(deps, params.slug, body)),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/ledger/entries",
    summary: "List entries in seq order after `after` (default 0), at most `limit` (1–1000, default 100); `next` is the cursor for the next page",
    auth: true,
    params: slugParams,
    query: z.object({ after: z.string().optional(), limit: z.string().optional() }),
    response: z.object({ items: z.array(entrySchema), next: z.number().int().nullable() }),
    handler: async ({ params, query }) => {
      const after = wholeNumber(query.after, "after", "INVALID_CURSOR", 0, 0, Number.MAX_SAFE_INTEGER);
      const limit = wholeNumber(query.limit, "limit", "INVALID_LIMIT", 100, 1, 1000);
      const items = (await ledger.listEntries(deps, params.slug, { afterSeq: after, limit })).map((e) => entryJson(deps, params.slug, e));
      return { items, next: items.length === limit ? items[items.length - 1]!.seq : null };
    },
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/ledger/entries/:seq",
    summary: "One entry by its seq",
    auth: true,
    params: slugParams.extend({ seq: z.string() }),
    response: entrySchema,
    handler: async ({ params }) => {
      const seq = wholeNumber(params.seq, "seq", "INVALID_SEQ", 0, 1, Number.MAX_SAFE_INTEGER);
      return entryJson(deps, params.slug, await ledger.getEntry(deps, params.slug, seq));
    },
  });
  table.add({
    method: "POST",
    url: "/pods/:slug/ledger/import",
    summary: `Import a CSV file (Content-Type: text/csv, up to ${CSV_BODY_LIMIT / 2 ** 20} MiB; columns in docs/open-books.md): every row checked, then all written or none. 400 CSV_INVALID lists row, column, code and message; 409 LEDGER_IMPORT_DUPLICATE for the same bytes again`,
    auth: true,
    params: slugParams,
    bodyMediaType: "text/csv",
    status: 201,
    response: z.object({ importId: z.string(), rows: z.number().int(), firstSeq: z.number().int(), lastSeq: z.number().int() }),
    handler: async ({ params, request }) => {
      if (!isCsv(request)) throw invalid("CSV_REQUIRED", "Send the CSV file itself as the body, with Content-Type: text/csv", { field: "body" });
      // A retry under the same Idempotency-Key gets the first answer, not LEDGER_IMPORT_DUPLICATE.
      const prior = await storedResult<ledgerIo.ImportResult>(deps);
      if (prior) return prior.value;
      const bytes = ArrayBuffer.isView(request.body) ? (request.body as Buffer) : Buffer.alloc(0);
      return ledgerIo.importLedgerCsv(deps, params.slug, { bytes });
    },
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/ledger/export",
    summary: "The ledger as CSV or JSON, streamed; private=true adds private memos, member pseudonyms, receipt numbers and salts",
    auth: true,
    params: slugParams,
    query: z.object({ format: z.enum(["csv", "json"]).default("csv"), private: z.enum(["true", "false"]).default("false") }),
    produces: ["text/csv", "application/json"],
    response: z.string().describe("The export (format hyphae-ledger/1 for JSON; the import's columns plus seq, recorded_at and hash for CSV)"),
    handler: async ({ params, query, reply }) => {
      const opts = { private: query.private === "true" };
      const chunks = query.format === "json" ? ledgerIo.exportLedgerJson(deps, params.slug, opts) : ledgerIo.exportLedgerCsv(deps, params.slug, opts);
      const stream = await streamOf(chunks);
      const name = `${params.slug}-ledger${opts.private ? "-private" : ""}.${query.format}`;
      reply
        .type(query.format === "json" ? "application/json; charset=utf-8" : "text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="${name}"`)
        .header("cache-control", "no-store");
      return stream as never;
    },
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/ledger/verify",
    summary: "Recompute the whole hash chain (and private digests); ok=false names the first bad entry",
    auth: true,
    params: slugParams,
    response: z.object({ ok: z.boolean(), entries: z.number().int(), headSeq: z.number().int(), headHash: z.string(), fault: faultSchema.nullable() }),
    handler: async ({ params }) => ledger.verifyLedger(deps, params.slug),
  });

  // -- Books ----------------------------------------------------------------------------
  table.add({
    method: "GET",
    url: "/pods/:slug/books/balances",
    summary: "Stock per resource and in/out value per fund, at a date (entries that occurred at or before it; default now)",
    auth: true,
    params: slugParams,
    query: z.object({ at: z.string().optional() }),
    response: z.object({
      at: dateTime,
      currency: z.string(),
      stock: z.array(z.object({ resource: z.string(), name: z.string(), unit: z.string(), category: z.string(), quantity: decimal })),
      funds: z.array(z.object({ fund: z.enum(FUNDS), inflowValue: decimal, outflowValue: decimal, entries: z.number().int() })),
      valueReclaimed: decimal,
      entries: z.number().int(),
    }),
    handler: async ({ params, query }) => {
      const b = await ledger.getBalances(deps, params.slug, query.at === undefined ? undefined : instant(query.at, "at"));
      return { ...b, at: b.at.toISOString() };
    },
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/books/settings",
    summary: "The books' settings: currency, overdraw, automatic summaries, invoice addressee",
    auth: true,
    params: slugParams,
    response: settingsSchema,
    handler: async ({ params }) => books.getBookSettings(deps, params.slug),
  });
  table.add({
    method: "PATCH",
    url: "/pods/:slug/books/settings",
    summary: "Change the books' settings (the currency only while the ledger is empty: 409 CURRENCY_IN_USE)",
    auth: true,
    params: slugParams,
    body: documentedBody({
      currency: field("string", "ISO 4217 code, e.g. EUR"),
      allowOverdraw: field("boolean", "Allow draws larger than the stock"),
      autoPeriods: field("array", "Periods published automatically when they end", { items: { type: "string", enum: [...PERIOD_KINDS] } }),
      invoiceAddressee: field(["string", "null"], "Who the 'what the city would have charged us' page is addressed to"),
    }),
    response: settingsSchema,
    handler: async ({ params, body }) => books.updateBookSettings(deps, params.slug, body),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/receipts/:number",
    summary: "A commons receipt by its number (R42-K7QM9X)",
    auth: true,
    params: slugParams.extend({ number: z.string() }),
    response: z.object({
      number: z.string(),
      url: z.string(),
      seq: z.number().int(),
      issuedAt: dateTime,
      occurredAt: dateTime,
      resource: z.string(),
      resourceName: z.string(),
      unit: z.string(),
      quantity: decimal,
      fund: z.enum(FUNDS),
      marketValue: decimal,
      charged: decimal,
      currency: z.string(),
      valueReclaimed: decimal,
      member: z.string(),
    }),
    handler: async ({ params }) => {
      const r = await ledger.findReceipt(deps, params.slug, params.number);
      if (!r) throw notFound("RECEIPT_NOT_FOUND", `${params.slug} has no receipt ${params.number}`);
      return {
        number: r.number,
        url: deps.uris.receipt(params.slug, r.number).href,
        seq: r.seq,
        issuedAt: r.issuedAt.toISOString(),
        occurredAt: r.occurredAt.toISOString(),
        resource: r.resource,
        resourceName: r.resourceName,
        unit: r.unit,
        quantity: r.quantity,
        fund: r.fund,
        marketValue: r.marketValue,
        charged: r.charged,
        currency: r.currency,
        valueReclaimed: r.valueReclaimed,
        member: r.member,
      };
    },
  });
}
