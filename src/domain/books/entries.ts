/**
 * Input rules of the open books (pure: no I/O, no clock; "now" is passed in).
 *
 * Shapes are checked with zod; every refusal is a DomainError of kind "invalid" with a
 * stable code and `details.field` naming the input field, so the API, the CLI and the
 * CSV import (which adds the row) can all point at it. The ledger rules that need the
 * pod's state (resources, members, running stock, the entry a correction corrects) are in
 * `prepareEntry`, which takes that state as a plain context object.
 */
import { z } from "zod";
import { invalid } from "../errors.ts";
import { findBadText } from "../text.ts";
import { isCalendarDate } from "../charter/dates.ts";
import { isHttpUrl } from "../charter/html.ts";
import { Dec, MONEY_SCALE, QUANTITY_SCALE, marketValueOf, normalizeDecimal, parseDecimal } from "./decimal.ts";
import { ENTRY_KINDS, FUNDS, INFLOW_KINDS, PERIOD_KINDS, PSEUDONYM, isKnownUnit, isOutflow, type CounterpartyKind, type EntryKind, type Fund, type PeriodKind } from "./model.ts";

export const LIMITS = {
  resourceKey: 40,
  resourceName: 200,
  category: 60,
  uri: 2000,
  priceSource: 500,
  memberName: 200,
  memberContact: 500,
  counterpartyLabel: 200,
  publicMemo: 500,
  privateMemo: 2000,
  invoiceAddressee: 500,
} as const;

export const RESOURCE_KEY = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** How far in the future an entry may be dated (clock skew, time zones). */
export const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------
// zod issues → stable codes with the field named

const decimalInput = z.union([z.string(), z.number()]);

function fieldOf(path: PropertyKey[]): string {
  return path.map(String).join(".") || "(root)";
}

/** Codes for a field whose value has the wrong type or form, by field name. */
const FORM_CODES: Record<string, string> = {
  kind: "INVALID_KIND",
  fund: "INVALID_FUND",
  autoPeriods: "INVALID_PERIOD",
  key: "INVALID_RESOURCE_KEY",
  unit: "UNKNOWN_UNIT",
  specificationUri: "INVALID_URI",
  counterpartyPod: "INVALID_URI",
  referencePriceOn: "INVALID_DATE",
  occurredAt: "INVALID_DATE",
  currency: "INVALID_CURRENCY",
  member: "UNKNOWN_MEMBER",
  corrects: "CORRECTION_TARGET",
};

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function parseShape<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw invalid("INVALID_INPUT", "Send an object with the fields of the request", { field: "(root)" });
  }
  const bad = findBadText(input);
  if (bad) throw invalid("INVALID_TEXT", `${bad.path || "(root)"} ${bad.problem}`, { field: bad.path || "(root)" });
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const field = fieldOf([...issue.path, issue.keys[0]!]);
    throw invalid("UNKNOWN_FIELD", `${field}: unknown field`, { field });
  }
  const field = fieldOf(issue.path);
  const top = String(issue.path[0] ?? "");
  if ((issue.code === "invalid_type" || issue.code === "invalid_union") && valueAt(input, issue.path) === undefined) {
    throw invalid("FIELD_REQUIRED", `${field} is required`, { field });
  }
  if (issue.code === "too_big") throw invalid("TOO_LONG", `${field}: ${issue.message}`, { field });
  if (issue.code === "too_small") throw invalid("FIELD_REQUIRED", `${field} must not be empty`, { field });
  throw invalid(FORM_CODES[top] ?? "INVALID_FIELD", `${field}: ${issue.message}`, { field });
}

const maxLength = (limit: number) => ({ error: () => `must be at most ${limit} characters` }) as const;
const text = (limit: number) => z.string().trim().max(limit, maxLength(limit));
const requiredText = (limit: number) => text(limit).min(1);
/** Absent, null and "" all become null. */
const optionalText = (limit: number) =>
  text(limit)
    .nullish()
    .transform((v) => (v ? v : null));

const calendarDate = z.string().trim().refine(isCalendarDate, "must be a real calendar date written YYYY-MM-DD");
const httpUrl = z.string().trim().max(LIMITS.uri, maxLength(LIMITS.uri)).refine(isHttpUrl, "must be an http(s) URL");

// ---------------------------------------------------------------------------
// Settings

export interface BookSettingsPatch {
  currency?: string;
  allowOverdraw?: boolean;
  autoPeriods?: PeriodKind[];
  invoiceAddressee?: string | null;
}

const settingsSchema = z.strictObject({
  currency: z
    .string()
    .trim()
    .regex(/^[A-Z]{3}$/, "must be an ISO 4217 code of three capitals, e.g. EUR")
    .optional(),
  allowOverdraw: z.boolean().optional(),
  autoPeriods: z
    .array(z.enum(PERIOD_KINDS, { error: () => `must each be one of ${PERIOD_KINDS.join(", ")}` }))
    .max(PERIOD_KINDS.length)
    .optional(),
  invoiceAddressee: optionalText(LIMITS.invoiceAddressee).optional(),
});

export function parseSettingsPatch(input: unknown): BookSettingsPatch {
  const data = parseShape(settingsSchema, input);
  const out: BookSettingsPatch = {};
  if (data.currency !== undefined) out.currency = data.currency;
  if (data.allowOverdraw !== undefined) out.allowOverdraw = data.allowOverdraw;
  if (data.autoPeriods !== undefined) out.autoPeriods = PERIOD_KINDS.filter((k) => data.autoPeriods!.includes(k));
  if (data.invoiceAddressee !== undefined) out.invoiceAddressee = data.invoiceAddressee;
  return out;
}

// ---------------------------------------------------------------------------
// Resources

export interface ResourceInput {
  key: string;
  name: string;
  unit: string;
  category: string;
  specificationUri: string | null;
  referencePrice: string | null;
  referencePriceSource: string | null;
  referencePriceOn: string | null;
}

const resourceFields = {
  name: requiredText(LIMITS.resourceName),
  unit: z.string().trim().refine(isKnownUnit, "must be an OM2 unit such as kilogram, litre, hour, one, or a currency code"),
  category: requiredText(LIMITS.category),
  specificationUri: httpUrl.nullish(),
  referencePrice: decimalInput.nullish(),
  referencePriceSource: optionalText(LIMITS.priceSource),
  referencePriceOn: calendarDate.nullish(),
};

const newResourceSchema = z.strictObject({
  key: z.string().trim().regex(RESOURCE_KEY, "must be 1–40 of a-z, 0-9, _ and - (starting with a letter or digit)"),
  ...resourceFields,
});

const resourcePatchSchema = z.strictObject({
  name: resourceFields.name.optional(),
  unit: resourceFields.unit.optional(),
  category: resourceFields.category.optional(),
  specificationUri: resourceFields.specificationUri,
  referencePrice: resourceFields.referencePrice,
  referencePriceSource: z.string().trim().max(LIMITS.priceSource, maxLength(LIMITS.priceSource)).nullish(),
  referencePriceOn: resourceFields.referencePriceOn,
});

function price(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  return normalizeDecimal(parseDecimal(value, "referencePrice", { scale: QUANTITY_SCALE, sign: "non_negative" }));
}

export function parseNewResource(input: unknown): ResourceInput {
  const d = parseShape(newResourceSchema, input);
  return {
    key: d.key,
    name: d.name,
    unit: d.unit,
    category: d.category,
    specificationUri: d.specificationUri ?? null,
    referencePrice: price(d.referencePrice),
    referencePriceSource: d.referencePriceSource,
    referencePriceOn: d.referencePriceOn ?? null,
  };
}

/** Only the fields present change; null clears an optional one. */
export type ResourcePatch = Partial<Omit<ResourceInput, "key">>;

export function parseResourcePatch(input: unknown): ResourcePatch {
  if (input !== null && typeof input === "object" && !Array.isArray(input) && "key" in input) {
    throw invalid("KEY_IMMUTABLE", "A resource's key cannot change (entries and exports refer to it); add a new resource instead", { field: "key" });
  }
  const d = parseShape(resourcePatchSchema, input);
  const out: ResourcePatch = {};
  if (d.name !== undefined) out.name = d.name;
  if (d.unit !== undefined) out.unit = d.unit;
  if (d.category !== undefined) out.category = d.category;
  if (d.specificationUri !== undefined) out.specificationUri = d.specificationUri;
  if (d.referencePrice !== undefined) out.referencePrice = price(d.referencePrice);
  if (d.referencePriceSource !== undefined) out.referencePriceSource = d.referencePriceSource || null;
  if (d.referencePriceOn !== undefined) out.referencePriceOn = d.referencePriceOn;
  return out;
}

export function assertResourceKey(key: string): string {
  if (!RESOURCE_KEY.test(key)) throw invalid("INVALID_RESOURCE_KEY", `${JSON.stringify(key)} is not a resource key`, { field: "key" });
  return key;
}

// ---------------------------------------------------------------------------
// Members

const memberSchema = z.strictObject({
  name: requiredText(LIMITS.memberName),
  contact: optionalText(LIMITS.memberContact),
});

export function parseNewMember(input: unknown): { name: string; contact: string | null } {
  const d = parseShape(memberSchema, input);
  return { name: d.name, contact: d.contact };
}

/** `m-` and `hexDigits` lowercase hex digits from the given random bytes. */
export function pseudonymFrom(bytes: Uint8Array, hexDigits: number): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, hexDigits);
  if (hex.length !== hexDigits) throw new TypeError("not enough random bytes for the pseudonym");
  const p = `m-${hex}`;
  if (!PSEUDONYM.test(p)) throw new TypeError(`pseudonym length out of range: ${hexDigits}`);
  return p;
}

// ---------------------------------------------------------------------------
// Entries

/** What a steward sends for one entry (API JSON, CLI flags, a CSV row). */
export interface EntryInput {
  kind: EntryKind;
  resource?: string;
  quantity: string;
  unit?: string;
  fund?: Fund;
  marketValue?: string;
  charged?: string;
  member?: string;
  counterpartyPod?: string;
  counterpartyLabel?: string;
  publicMemo?: string;
  privateMemo?: string;
  occurredAt?: string;
  corrects?: number;
  /** The congress agreement a transfer fulfils (set by the transfer service). */
  agreement?: string;
}

const emptyToUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);
const opt = <T extends z.ZodType>(s: T) => z.preprocess(emptyToUndefined, s.optional());

const entrySchema = z.strictObject({
  kind: z.enum(ENTRY_KINDS, { error: () => `must be one of ${ENTRY_KINDS.join(", ")}` }),
  resource: opt(z.string().trim()),
  quantity: decimalInput,
  unit: opt(z.string().trim()),
  fund: opt(z.enum(FUNDS, { error: () => `must be one of ${FUNDS.join(", ")}` })),
  marketValue: opt(decimalInput),
  charged: opt(decimalInput),
  member: opt(z.string().trim().regex(PSEUDONYM, "must be a member pseudonym such as m-7f3a")),
  counterpartyPod: opt(httpUrl),
  agreement: opt(httpUrl),
  counterpartyLabel: opt(text(LIMITS.counterpartyLabel)),
  publicMemo: opt(text(LIMITS.publicMemo)),
  privateMemo: opt(text(LIMITS.privateMemo)),
  occurredAt: opt(z.union([z.string().trim(), z.date()])),
  corrects: opt(
    z.preprocess(
      (v) => (typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v.trim()) : v),
      z.number().int("must be the seq (a whole number) of the entry to correct").positive("must be the seq of the entry to correct"),
    ),
  ),
});

export type ParsedEntryShape = z.output<typeof entrySchema>;

/** Checks the shape of one entry (types, lengths, unknown fields); no ledger rules yet. */
export function parseEntryShape(input: unknown): ParsedEntryShape {
  return parseShape(entrySchema, input);
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** `2026-11-28` (midnight UTC) or an ISO datetime with a zone (Z or ±hh:mm). */
export function parseOccurredAt(value: string | Date, field = "occurredAt"): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid("INVALID_DATE", `${field} is not a valid date`, { field });
    return value;
  }
  if (isCalendarDate(value)) return new Date(`${value}T00:00:00.000Z`);
  if (ISO_DATE_TIME.test(value) && isCalendarDate(value.slice(0, 10))) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw invalid("INVALID_DATE", `${field} must be a date (2026-11-28, read as midnight UTC) or an ISO datetime with a time zone (2026-11-28T10:00:00Z)`, { field });
}

/** A resource as the rules need it. */
export interface ResourceFacts {
  id: string;
  key: string;
  unit: string;
  referencePrice: string | null;
}

/** An earlier entry as a correction needs it. */
export interface EntryFacts {
  seq: number;
  kind: EntryKind;
  resourceId: string;
  fund: Fund | null;
  counterpartyKind: CounterpartyKind;
  memberId: string | null;
  counterparty: string | null;
  quantity: string;
  marketValue: string;
  charged: string;
  /** Σ of the corrections already recorded for it (signed quantity). */
  corrected: string;
}

export interface EntryContext {
  now: Date;
  currency: string;
  allowOverdraw: boolean;
  resourceByKey(key: string): ResourceFacts | undefined;
  resourceById(id: string): ResourceFacts | undefined;
  memberByPseudonym(pseudonym: string): { id: string; pseudonym: string } | undefined;
  memberById(id: string): { id: string; pseudonym: string } | undefined;
  /** The stock the books show for a resource now (all entries, prepared ones included). */
  stockOf(resourceId: string): Dec;
  /** An entry that exists (or was prepared earlier in the same batch), by seq. */
  entryBySeq(seq: number): EntryFacts | undefined;
}

/** A validated entry, before it gets its seq, hash and receipt number. */
export interface ValidEntry {
  kind: EntryKind;
  resourceId: string;
  resourceKey: string;
  unit: string;
  quantity: string;
  fund: Fund | null;
  marketValue: string;
  charged: string;
  currency: string;
  counterpartyKind: CounterpartyKind;
  memberId: string | null;
  member: string | null;
  counterparty: string | null;
  publicMemo: string;
  privateMemo: string;
  occurredAt: Date;
  correctsSeq: number | null;
  /** The congress agreement a transfer fulfils; null for every other entry. */
  agreement: string | null;
  /** The signed change of the resource's stock this entry makes. */
  stockEffect: string;
  /** Draws get a commons receipt. */
  needsReceipt: boolean;
}

/** +1 for inflows, -1 for outflows. */
export function direction(kind: Exclude<EntryKind, "correction">): 1 | -1 {
  return INFLOW_KINDS.includes(kind) ? 1 : -1;
}

/** Applies every ledger rule of the design note to one entry; throws DomainError naming the field. */
export function validateEntry(input: unknown, ctx: EntryContext): ValidEntry {
  const e = parseEntryShape(input);
  const occurredAt = e.occurredAt === undefined ? ctx.now : parseOccurredAt(e.occurredAt);
  if (occurredAt.getTime() > ctx.now.getTime() + FUTURE_TOLERANCE_MS) {
    throw invalid("FUTURE_DATE", "occurredAt is more than a day in the future", { field: "occurredAt" });
  }
  const named = (["member", "counterpartyPod", "counterpartyLabel"] as const).filter((f) => e[f] !== undefined);
  if (named.length > 1) {
    throw invalid("COUNTERPARTY_CONFLICT", `Name at most one counterparty: ${named.join(" and ")} were both given`, { field: named[1] });
  }
  const publicMemo = e.publicMemo ?? "";
  const privateMemo = e.privateMemo ?? "";
  if (e.kind === "correction") return validateCorrection(e, ctx, occurredAt, publicMemo, privateMemo);
  if (e.corrects !== undefined) {
    throw invalid("CORRECTION_TARGET", "Only a correction names the entry it corrects (kind correction)", { field: "corrects" });
  }
  if (e.agreement !== undefined && (!(e.kind === "transfer_in" || e.kind === "transfer_out") || e.counterpartyPod === undefined)) {
    throw invalid("AGREEMENT_NOT_TRANSFER", "Only a transfer to or from another pod (counterpartyPod) names an agreement", { field: "agreement" });
  }
  if (e.resource === undefined) throw invalid("FIELD_REQUIRED", "resource is required", { field: "resource" });
  const resource = ctx.resourceByKey(e.resource);
  if (!resource) throw invalid("UNKNOWN_RESOURCE", `No resource ${JSON.stringify(e.resource)} in these books: add it first`, { field: "resource" });
  if (e.unit !== undefined && e.unit !== resource.unit) {
    throw invalid("UNIT_MISMATCH", `${resource.key} is counted in ${resource.unit}, not ${e.unit}`, { field: "unit" });
  }
  const quantity = parseDecimal(e.quantity, "quantity", { scale: QUANTITY_SCALE, sign: "positive" });
  if (isOutflow(e.kind) && e.fund === undefined) {
    throw invalid("FUND_REQUIRED", `A ${e.kind} names the fund it comes from (${FUNDS.join(", ")})`, { field: "fund" });
  }
  const marketValue =
    e.marketValue !== undefined
      ? parseDecimal(e.marketValue, "marketValue", { scale: MONEY_SCALE, sign: "non_negative" })
      : resource.referencePrice !== null
        ? marketValueOf(quantity, resource.referencePrice)
        : new Dec(0);
  const charged = e.charged !== undefined ? parseDecimal(e.charged, "charged", { scale: MONEY_SCALE, sign: "non_negative" }) : new Dec(0);
  const member = e.member !== undefined ? ctx.memberByPseudonym(e.member) : undefined;
  if (e.member !== undefined && !member) throw invalid("UNKNOWN_MEMBER", `No member ${e.member} in these books`, { field: "member" });
  const effect = quantity.times(direction(e.kind));
  if (isOutflow(e.kind) && !ctx.allowOverdraw) {
    const stock = ctx.stockOf(resource.id);
    if (stock.plus(effect).isNeg()) {
      throw invalid("INSUFFICIENT_STOCK", `The books show ${normalizeDecimal(stock)} ${resource.unit} of ${resource.key}, less than ${normalizeDecimal(quantity)}`, {
        field: "quantity",
        stock: normalizeDecimal(stock),
      });
    }
  }
  const counterpartyKind: CounterpartyKind = member ? "member" : e.counterpartyPod !== undefined ? "pod" : e.counterpartyLabel !== undefined ? "outside" : "none";
  return {
    kind: e.kind,
    resourceId: resource.id,
    resourceKey: resource.key,
    unit: resource.unit,
    quantity: normalizeDecimal(quantity),
    fund: e.fund ?? null,
    marketValue: normalizeDecimal(marketValue),
    charged: normalizeDecimal(charged),
    currency: ctx.currency,
    counterpartyKind,
    memberId: member?.id ?? null,
    member: member?.pseudonym ?? null,
    counterparty: e.counterpartyPod ?? e.counterpartyLabel ?? null,
    publicMemo,
    privateMemo,
    occurredAt,
    correctsSeq: null,
    agreement: e.agreement ?? null,
    stockEffect: normalizeDecimal(effect),
    needsReceipt: e.kind === "draw",
  };
}

function validateCorrection(e: ParsedEntryShape, ctx: EntryContext, occurredAt: Date, publicMemo: string, privateMemo: string): ValidEntry {
  if (e.agreement !== undefined) throw invalid("AGREEMENT_NOT_TRANSFER", "A correction never names an agreement; it corrects the entry that did", { field: "agreement" });
  if (e.corrects === undefined) {
    throw invalid("CORRECTION_TARGET", "A correction names the seq of the entry it corrects (corrects)", { field: "corrects" });
  }
  const target = ctx.entryBySeq(e.corrects);
  if (!target) throw invalid("CORRECTION_TARGET", `There is no entry ${e.corrects} to correct`, { field: "corrects" });
  if (target.kind === "correction") {
    throw invalid("CORRECTION_TARGET", `Entry ${e.corrects} is itself a correction: correct the original entry instead`, { field: "corrects" });
  }
  const resource = ctx.resourceById(target.resourceId)!;
  if (e.resource !== undefined && e.resource !== resource.key) {
    throw invalid("CORRECTION_MISMATCH", `Entry ${target.seq} is about ${resource.key}, not ${e.resource}`, { field: "resource" });
  }
  if (e.unit !== undefined && e.unit !== resource.unit) {
    throw invalid("UNIT_MISMATCH", `${resource.key} is counted in ${resource.unit}, not ${e.unit}`, { field: "unit" });
  }
  if (e.fund !== undefined && e.fund !== target.fund) {
    throw invalid("CORRECTION_MISMATCH", `A correction keeps the fund of entry ${target.seq} (${target.fund ?? "none"})`, { field: "fund" });
  }
  const targetMember = target.memberId ? ctx.memberById(target.memberId) : undefined;
  if (e.member !== undefined && e.member !== targetMember?.pseudonym) {
    throw invalid("CORRECTION_MISMATCH", `A correction keeps the counterparty of entry ${target.seq}`, { field: "member" });
  }
  for (const f of ["counterpartyPod", "counterpartyLabel"] as const) {
    if (e[f] !== undefined && e[f] !== target.counterparty) {
      throw invalid("CORRECTION_MISMATCH", `A correction keeps the counterparty of entry ${target.seq}`, { field: f });
    }
  }
  const delta = parseDecimal(e.quantity, "quantity", { scale: QUANTITY_SCALE, sign: "any_nonzero" });
  const net = new Dec(target.quantity).plus(target.corrected).plus(delta);
  if (net.isNeg()) {
    throw invalid("CORRECTION_TOO_LARGE", `Entry ${target.seq} would then count ${normalizeDecimal(net)} ${resource.unit}, less than nothing`, { field: "quantity" });
  }
  const targetQuantity = new Dec(target.quantity);
  const marketValue =
    e.marketValue !== undefined
      ? parseSignedMoney(e.marketValue, "marketValue")
      : marketValueOf(delta, new Dec(target.marketValue).div(targetQuantity));
  const charged =
    e.charged !== undefined
      ? parseSignedMoney(e.charged, "charged")
      : marketValueOf(delta, new Dec(target.charged).div(targetQuantity));
  const effect = delta.times(direction(target.kind as Exclude<EntryKind, "correction">));
  return {
    kind: "correction",
    resourceId: resource.id,
    resourceKey: resource.key,
    unit: resource.unit,
    quantity: normalizeDecimal(delta),
    fund: target.fund,
    marketValue: normalizeDecimal(marketValue),
    charged: normalizeDecimal(charged),
    currency: ctx.currency,
    counterpartyKind: target.counterpartyKind,
    memberId: target.memberId,
    member: targetMember?.pseudonym ?? null,
    counterparty: target.counterparty,
    publicMemo,
    privateMemo,
    occurredAt,
    correctsSeq: target.seq,
    agreement: null,
    stockEffect: normalizeDecimal(effect),
    needsReceipt: false,
  };
}

/** A correction's change of a value or of the price charged: any sign, zero allowed. */
function parseSignedMoney(value: string | number, field: string): Dec {
  const negative = String(value).trim().startsWith("-");
  return parseDecimal(value, field, { scale: MONEY_SCALE, sign: negative ? "any_nonzero" : "non_negative" });
}
