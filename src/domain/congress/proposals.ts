/**
 * Input rules of offers and needs (FEP-0837 proposals) and the readable text of the post
 * that carries them. Pure: no I/O, no clock ("now" is passed in).
 *
 * Every refusal is a DomainError of kind "invalid" with a stable code and `details.field`
 * naming the input field; nothing is written for a refused input. The rules that need the
 * pod's state (its resource, what claims took) take that state as plain arguments.
 *
 * Quantities (FEP-0837):
 * - `quantity` is the Intent's resourceQuantity: the whole amount, or one lot when
 *   `unitBased` is true (claims in whole multiples of it) or false (claims of exactly it);
 * - `total` is the availableQuantity first published (default `quantity`); with lots it
 *   must be a whole number of them;
 * - `minimum` is the minimumQuantity of one claim (at most the total).
 */
import { z } from "zod";
import { Dec, QUANTITY_SCALE, normalizeDecimal, parseDecimal } from "../books/decimal.ts";
import { FUNDS, isKnownUnit, type Fund } from "../books/model.ts";
import { formatQuantity } from "../books/summary.ts";
import { isCalendarDate } from "../charter/dates.ts";
import { escapeHtml, isHttpUrl } from "../charter/html.ts";
import { invalid } from "../errors.ts";
import { findBadText } from "../text.ts";
import type { ProposalAction, ProposalPurpose, ProposalStatus, ReciprocalTerms } from "./model.ts";
import { PROPOSAL_ACTIONS } from "./vf.ts";

export const PROPOSAL_LIMITS = {
  name: 200,
  description: 2000,
  category: 60,
  location: 120,
  uri: 2000,
  resourceKey: 40,
} as const;

/** An offer or need without a window or expiry is open this long. */
export const DEFAULT_PROPOSAL_LIFETIME_MS = 14 * 24 * 60 * 60 * 1000;

/** Control characters other than tab and newline (refused in every text field). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** Something that reads as an HTML tag, comment or entity opener: `<p`, `</`, `<!`. */
const MARKUP = /<\s*[a-zA-Z/!?]/;

// ---------------------------------------------------------------------------------------
// Shapes

const decimalInput = z.union([z.string(), z.number()]);
const dateInput = z.string();
const textIn = z.string();

const reciprocalSchema = z.strictObject({
  name: textIn,
  unit: textIn,
  quantity: decimalInput.nullish(),
  specificationUri: textIn.nullish(),
});

const common = {
  name: textIn,
  description: textIn.nullish(),
  category: textIn.nullish(),
  specificationUri: textIn.nullish(),
  minimum: decimalInput.nullish(),
  unitBased: z.boolean().nullish(),
  reciprocal: reciprocalSchema.nullish(),
  location: textIn.nullish(),
  availableFrom: dateInput.nullish(),
  availableUntil: dateInput.nullish(),
  expiresAt: dateInput.nullish(),
  urgent: z.boolean().optional(),
  fund: textIn.nullish(),
};

const newSchema = z.strictObject({
  ...common,
  resource: textIn.nullish(),
  unit: textIn.nullish(),
  action: textIn.nullish(),
  quantity: decimalInput,
  total: decimalInput.nullish(),
});

const patchSchema = z.strictObject({
  ...common,
  name: textIn.optional(),
  quantity: decimalInput.optional(),
  total: decimalInput.optional(),
});

/** Field → the code of a value of the wrong type. */
const TYPE_CODES: Record<string, string> = {
  quantity: "INVALID_DECIMAL",
  total: "INVALID_DECIMAL",
  minimum: "INVALID_DECIMAL",
  unitBased: "INVALID_UNIT_BASED",
  urgent: "INVALID_URGENT",
  availableFrom: "INVALID_DATE",
  availableUntil: "INVALID_DATE",
  expiresAt: "INVALID_DATE",
  reciprocal: "INVALID_RECIPROCAL",
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
    throw invalid("INVALID_INPUT", "Send an object with the fields of the offer or need", { field: "(root)" });
  }
  const bad = findBadText(input);
  if (bad) throw invalid("INVALID_TEXT", `${bad.path || "(root)"} ${bad.problem}`, { field: bad.path || "(root)" });
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const field = [...issue.path, issue.keys[0]!].map(String).join(".");
    throw invalid("UNKNOWN_FIELD", `${field}: unknown field`, { field });
  }
  const field = issue.path.map(String).join(".") || "(root)";
  if (valueAt(input, issue.path) === undefined) throw invalid("FIELD_REQUIRED", `${field} is required`, { field });
  const top = String(issue.path[0] ?? "");
  throw invalid(TYPE_CODES[top] ?? "INVALID_FIELD", `${field}: ${issue.message}`, { field });
}

// ---------------------------------------------------------------------------------------
// Field rules

/** Trimmed text with no control characters (tab and newline only where `multiline`) and no markup. */
export function cleanText(value: string, field: string, limit: number, opts: { required?: boolean; multiline?: boolean } = {}): string | null {
  const text = value.replace(/\r\n?/g, "\n").trim();
  if (text === "") {
    if (opts.required) throw invalid("FIELD_REQUIRED", `${field} must not be empty`, { field });
    return null;
  }
  const control = opts.multiline ? CONTROL : /[\u0000-\u001f\u007f-\u009f]/;
  if (control.test(text)) throw invalid("INVALID_TEXT", `${field} contains a control character`, { field });
  if (MARKUP.test(text)) throw invalid("INVALID_TEXT", `${field} must be plain text, not HTML`, { field });
  if (text.length > limit) throw invalid("TOO_LONG", `${field} must be at most ${limit} characters`, { field });
  return text;
}

const positive = (value: unknown, field: string): string => normalizeDecimal(parseDecimal(value, field, { scale: QUANTITY_SCALE, sign: "positive" }));

function unitOf(value: string, field: string): string {
  const unit = value.trim();
  if (!isKnownUnit(unit)) throw invalid("UNKNOWN_UNIT", `${field} must be an OM2 unit such as kilogram, litre, hour, one, or a currency code (EUR)`, { field });
  return unit;
}

function uriOf(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined || value.trim() === "") return null;
  const v = value.trim();
  if (v.length > PROPOSAL_LIMITS.uri || !isHttpUrl(v)) throw invalid("INVALID_URI", `${field} must be an http(s) URL`, { field });
  return v;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * A date (`2026-12-05`, UTC) or a date and time with a zone. A bare date means the start of
 * that day for `availableFrom`, and the end of it (next midnight UTC) for `availableUntil`
 * and `expiresAt`: "until Saturday" includes Saturday.
 */
export function parseProposalDate(value: string, field: string, end: boolean): Date {
  const v = value.trim();
  if (isCalendarDate(v)) {
    const start = new Date(`${v}T00:00:00Z`);
    return end ? new Date(start.getTime() + 86_400_000) : start;
  }
  const at = INSTANT.test(v) ? new Date(v) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw invalid("INVALID_DATE", `${field} must be a date (2026-12-05) or a date and time with a zone (2026-12-05T18:00:00Z)`, { field });
  }
  return at;
}

const optionalDate = (value: string | null | undefined, field: string, end: boolean): Date | null =>
  value === null || value === undefined || value.trim() === "" ? null : parseProposalDate(value, field, end);

function fundOf(value: string): Fund {
  const v = value.trim();
  if (!(FUNDS as readonly string[]).includes(v)) throw invalid("INVALID_FUND", `fund must be one of ${FUNDS.join(", ")}`, { field: "fund" });
  return v as Fund;
}

function reciprocalOf(value: z.output<typeof reciprocalSchema> | null | undefined): ReciprocalTerms | null {
  if (value === null || value === undefined) return null;
  return {
    name: cleanText(value.name, "reciprocal.name", PROPOSAL_LIMITS.name, { required: true })!,
    unit: unitOf(value.unit, "reciprocal.unit"),
    quantity: value.quantity === null || value.quantity === undefined || value.quantity === "" ? null : positive(value.quantity, "reciprocal.quantity"),
    specificationUri: uriOf(value.specificationUri, "reciprocal.specificationUri"),
  };
}

// ---------------------------------------------------------------------------------------
// A new proposal

/** The pod's resource an offer or need names (its catalogue entry in the books). */
export interface ProposalResource {
  id: string;
  key: string;
  name: string;
  unit: string;
  category: string;
  specificationUri: string | null;
}

/** A checked new offer or need, before the pod's resource is looked up. */
export interface ParsedNewProposal {
  purpose: ProposalPurpose;
  resourceKey: string | null;
  name: string;
  description: string;
  unit: string | null;
  category: string | null;
  specificationUri: string | null;
  action: ProposalAction | null;
  quantity: string;
  total: string | null;
  minimum: string | null;
  unitBased: boolean | null;
  reciprocal: ReciprocalTerms | null;
  location: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date | null;
  urgent: boolean;
  fund: Fund | null;
}

/** What is stored for a new proposal once the resource is known (NewProposal without ids and times). */
export interface ProposalValues {
  action: ProposalAction;
  name: string;
  description: string;
  resourceId: string | null;
  unit: string;
  category: string;
  specificationUri: string | null;
  quantity: string;
  total: string;
  minimum: string | null;
  unitBased: boolean | null;
  reciprocal: ReciprocalTerms | null;
  location: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date;
  urgent: boolean;
  fund: Fund | null;
}

function actionOf(value: string | null | undefined): ProposalAction | null {
  if (value === null || value === undefined || value.trim() === "") return null;
  const v = value.trim();
  if (!(PROPOSAL_ACTIONS as readonly string[]).includes(v)) {
    throw invalid("INVALID_ACTION", `action must be one of ${PROPOSAL_ACTIONS.join(", ")}`, { field: "action" });
  }
  return v as ProposalAction;
}

/** Checks the shape and every rule that needs no state (except the resource and the clock). */
export function parseNewProposal(purpose: ProposalPurpose, input: unknown): ParsedNewProposal {
  const d = parseShape(newSchema, input);
  if (purpose === "offer" && d.urgent === true) throw invalid("URGENT_OFFER", "Only a need can be urgent", { field: "urgent" });
  if (purpose === "request" && d.fund !== null && d.fund !== undefined) {
    throw invalid("FUND_ON_NEED", "A need has no fund: the fund says what a transfer out of an offer is booked to", { field: "fund" });
  }
  const resourceKey = d.resource === null || d.resource === undefined || d.resource.trim() === "" ? null : d.resource.trim();
  if (resourceKey !== null && !/^[a-z0-9][a-z0-9_-]{0,39}$/.test(resourceKey)) {
    throw invalid("UNKNOWN_RESOURCE", `resource ${JSON.stringify(resourceKey.slice(0, 60))} is not a resource key`, { field: "resource" });
  }
  return {
    purpose,
    resourceKey,
    name: cleanText(d.name, "name", PROPOSAL_LIMITS.name, { required: true })!,
    description: cleanText(d.description ?? "", "description", PROPOSAL_LIMITS.description, { multiline: true }) ?? "",
    unit: d.unit === null || d.unit === undefined || d.unit.trim() === "" ? null : unitOf(d.unit, "unit"),
    category: cleanText(d.category ?? "", "category", PROPOSAL_LIMITS.category),
    specificationUri: uriOf(d.specificationUri, "specificationUri"),
    action: actionOf(d.action),
    quantity: positive(d.quantity, "quantity"),
    total: d.total === null || d.total === undefined || d.total === "" ? null : positive(d.total, "total"),
    minimum: d.minimum === null || d.minimum === undefined || d.minimum === "" ? null : positive(d.minimum, "minimum"),
    unitBased: d.unitBased ?? null,
    reciprocal: reciprocalOf(d.reciprocal),
    location: cleanText(d.location ?? "", "location", PROPOSAL_LIMITS.location),
    availableFrom: optionalDate(d.availableFrom, "availableFrom", false),
    availableUntil: optionalDate(d.availableUntil, "availableUntil", true),
    expiresAt: optionalDate(d.expiresAt, "expiresAt", true),
    urgent: d.urgent ?? false,
    fund: purpose === "offer" ? (d.fund === null || d.fund === undefined ? "survival" : fundOf(d.fund)) : null,
  };
}

/** Quantity rules shared by new proposals and patches. */
function checkQuantities(q: { quantity: string; total: string; minimum: string | null; unitBased: boolean | null }): void {
  const quantity = new Dec(q.quantity);
  const total = new Dec(q.total);
  if (total.lt(quantity)) throw invalid("TOTAL_BELOW_QUANTITY", `total (${q.total}) must be at least the quantity (${q.quantity})`, { field: "total" });
  if (q.unitBased !== null && !total.mod(quantity).isZero()) {
    throw invalid("TOTAL_NOT_WHOLE_LOTS", `total (${q.total}) must be a whole number of lots of ${q.quantity} (unitBased)`, { field: "total" });
  }
  if (q.minimum !== null) {
    const minimum = new Dec(q.minimum);
    if (minimum.gt(total)) throw invalid("MINIMUM_ABOVE_TOTAL", `minimum (${q.minimum}) is more than the total (${q.total})`, { field: "minimum" });
    if (q.unitBased === false && !minimum.eq(quantity)) {
      throw invalid("MINIMUM_NOT_QUANTITY", `With unitBased false every claim is exactly ${q.quantity}: minimum must be that or absent`, { field: "minimum" });
    }
  }
}

/** Window and expiry rules: the window must not end before it starts, and the expiry must be in the future. */
function checkTimes(t: { availableFrom: Date | null; availableUntil: Date | null; expiresAt: Date }, now: Date, fields: { expiresAt: string }): void {
  if (t.availableFrom && t.availableUntil && t.availableUntil.getTime() <= t.availableFrom.getTime()) {
    throw invalid("WINDOW_ENDS_BEFORE_START", "availableUntil must be after availableFrom", { field: "availableUntil" });
  }
  if (t.availableUntil && t.availableUntil.getTime() <= now.getTime()) {
    throw invalid("WINDOW_IN_PAST", "availableUntil has passed already", { field: "availableUntil" });
  }
  if (t.expiresAt.getTime() <= now.getTime()) {
    throw invalid("EXPIRY_IN_PAST", "The expiry must be in the future", { field: fields.expiresAt });
  }
}

/**
 * Completes a parsed proposal with the pod's resource (null when none was named; the caller
 * refuses an unknown key with UNKNOWN_RESOURCE) and checks the rules that need it and the
 * clock. Unit, category and specification default to the resource's; a unit other than the
 * resource's is refused (UNIT_MISMATCH).
 */
export function resolveNewProposal(p: ParsedNewProposal, resource: ProposalResource | null, now: Date): ProposalValues {
  if (resource && p.unit !== null && p.unit !== resource.unit) {
    throw invalid("UNIT_MISMATCH", `The resource ${resource.key} is counted in ${resource.unit}, not ${p.unit}`, { field: "unit" });
  }
  const unit = p.unit ?? resource?.unit ?? null;
  if (unit === null) throw invalid("FIELD_REQUIRED", "unit is required (or a resource whose unit it takes)", { field: "unit" });
  const category = p.category ?? resource?.category ?? null;
  if (category === null) throw invalid("FIELD_REQUIRED", "category is required (or a resource whose category it takes)", { field: "category" });
  const total = p.total ?? p.quantity;
  checkQuantities({ quantity: p.quantity, total, minimum: p.minimum, unitBased: p.unitBased });
  const expiresAt = p.expiresAt ?? p.availableUntil ?? new Date(now.getTime() + DEFAULT_PROPOSAL_LIFETIME_MS);
  checkTimes({ availableFrom: p.availableFrom, availableUntil: p.availableUntil, expiresAt }, now, { expiresAt: p.expiresAt ? "expiresAt" : "availableUntil" });
  return {
    action: p.action ?? (unit === "hour" ? "deliverService" : "transfer"),
    name: p.name,
    description: p.description,
    resourceId: resource?.id ?? null,
    unit,
    category,
    specificationUri: p.specificationUri ?? resource?.specificationUri ?? null,
    quantity: p.quantity,
    total,
    minimum: p.minimum,
    unitBased: p.unitBased,
    reciprocal: p.reciprocal,
    location: p.location,
    availableFrom: p.availableFrom,
    availableUntil: p.availableUntil,
    expiresAt,
    urgent: p.urgent,
    fund: p.fund,
  };
}

// ---------------------------------------------------------------------------------------
// A change

/** The proposal as it stands (what a patch is checked against). */
export interface ProposalState {
  purpose: ProposalPurpose;
  status: ProposalStatus;
  quantity: string;
  total: string;
  remaining: string;
  minimum: string | null;
  unitBased: boolean | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date;
}

/** The fields a patch changes (repo ProposalPatch), with `remaining` recomputed and `status` when it fills up. */
export interface ProposalChange {
  name?: string;
  description?: string;
  category?: string;
  specificationUri?: string | null;
  quantity?: string;
  total?: string;
  remaining?: string;
  minimum?: string | null;
  unitBased?: boolean | null;
  reciprocal?: ReciprocalTerms | null;
  location?: string | null;
  availableFrom?: Date | null;
  availableUntil?: Date | null;
  expiresAt?: Date;
  urgent?: boolean;
  fund?: Fund;
  status?: ProposalStatus;
  closedAt?: Date | null;
}

/**
 * Checks a change to an open proposal. The total may go up or down but never below what
 * claims took already (TOTAL_BELOW_CLAIMED); `remaining` follows it. Without lots
 * (unitBased absent), quantity and total move together. The lot size of a
 * proposal that claims took from cannot change (LOTS_CLAIMED). Null fields clear optional
 * ones. Returns only what changes (an empty object: nothing to do).
 */
export function parseProposalPatch(state: ProposalState, input: unknown, now: Date): ProposalChange {
  if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    for (const field of ["resource", "unit", "action"]) {
      if (field in input) throw invalid("FIELD_IMMUTABLE", `${field} cannot change: withdraw this one and publish another`, { field });
    }
  }
  const d = parseShape(patchSchema, input);
  if (state.purpose === "offer" && d.urgent === true) throw invalid("URGENT_OFFER", "Only a need can be urgent", { field: "urgent" });
  if (state.purpose === "request" && d.fund !== undefined && d.fund !== null) {
    throw invalid("FUND_ON_NEED", "A need has no fund", { field: "fund" });
  }
  const out: ProposalChange = {};
  if (d.name !== undefined) out.name = cleanText(d.name, "name", PROPOSAL_LIMITS.name, { required: true })!;
  if (d.description !== undefined) out.description = cleanText(d.description ?? "", "description", PROPOSAL_LIMITS.description, { multiline: true }) ?? "";
  if (d.category !== undefined) out.category = cleanText(d.category ?? "", "category", PROPOSAL_LIMITS.category, { required: true })!;
  if (d.specificationUri !== undefined) out.specificationUri = uriOf(d.specificationUri, "specificationUri");
  if (d.reciprocal !== undefined) out.reciprocal = reciprocalOf(d.reciprocal);
  if (d.location !== undefined) out.location = cleanText(d.location ?? "", "location", PROPOSAL_LIMITS.location);
  if (d.urgent !== undefined) out.urgent = d.urgent;
  if (d.fund !== undefined && d.fund !== null) out.fund = fundOf(d.fund);
  if (d.availableFrom !== undefined) out.availableFrom = optionalDate(d.availableFrom, "availableFrom", false);
  if (d.availableUntil !== undefined) out.availableUntil = optionalDate(d.availableUntil, "availableUntil", true);
  if (d.expiresAt !== undefined) {
    const at = optionalDate(d.expiresAt, "expiresAt", true);
    if (at === null) throw invalid("FIELD_REQUIRED", "expiresAt cannot be cleared: give a date in the future", { field: "expiresAt" });
    out.expiresAt = at;
  }

  // Quantities.
  const claimed = new Dec(state.total).minus(state.remaining);
  const unitBased = d.unitBased !== undefined ? d.unitBased : state.unitBased;
  if (d.unitBased !== undefined) out.unitBased = d.unitBased;
  let quantity = state.quantity;
  let total = state.total;
  if (d.quantity !== undefined) {
    quantity = positive(d.quantity, "quantity");
    if (unitBased !== null && state.unitBased !== null && quantity !== state.quantity && claimed.gt(0)) {
      throw invalid("LOTS_CLAIMED", "Claims took lots of this size already: the lot size cannot change", { field: "quantity" });
    }
    if (unitBased === null && d.total === undefined) total = quantity;
  }
  if (d.total !== undefined) {
    total = positive(d.total, "total");
    // Without lots the quantity is the whole amount: it follows the total.
    if (unitBased === null && d.quantity === undefined) quantity = total;
  }
  const minimum = d.minimum === undefined ? state.minimum : d.minimum === null || d.minimum === "" ? null : positive(d.minimum, "minimum");
  if (d.minimum !== undefined) out.minimum = minimum;
  if (new Dec(total).lt(claimed)) {
    throw invalid("TOTAL_BELOW_CLAIMED", `Claims took ${normalizeDecimal(claimed)} already: the total cannot be less than that`, { field: d.total !== undefined ? "total" : "quantity" });
  }
  checkQuantities({ quantity, total, minimum, unitBased });
  if (quantity !== state.quantity) out.quantity = quantity;
  if (total !== state.total) {
    out.total = total;
    const remaining = new Dec(total).minus(claimed);
    out.remaining = normalizeDecimal(remaining);
    if (remaining.isZero()) {
      out.status = "fulfilled";
      out.closedAt = now;
    }
  }

  const times = {
    availableFrom: out.availableFrom !== undefined ? out.availableFrom : state.availableFrom,
    availableUntil: out.availableUntil !== undefined ? out.availableUntil : state.availableUntil,
    expiresAt: out.expiresAt ?? state.expiresAt,
  };
  // Moving the window's end moves an expiry that followed it.
  if (out.availableUntil && out.expiresAt === undefined && state.availableUntil && state.expiresAt.getTime() === state.availableUntil.getTime()) {
    out.expiresAt = times.expiresAt = out.availableUntil;
  }
  if (out.availableFrom !== undefined || out.availableUntil !== undefined) {
    if (times.availableFrom && times.availableUntil && times.availableUntil.getTime() <= times.availableFrom.getTime()) {
      throw invalid("WINDOW_ENDS_BEFORE_START", "availableUntil must be after availableFrom", { field: out.availableUntil !== undefined ? "availableUntil" : "availableFrom" });
    }
    if (out.availableUntil && out.availableUntil.getTime() <= now.getTime()) {
      throw invalid("WINDOW_IN_PAST", "availableUntil has passed already", { field: "availableUntil" });
    }
  }
  if (out.expiresAt !== undefined && out.expiresAt.getTime() <= now.getTime()) {
    throw invalid("EXPIRY_IN_PAST", "The expiry must be in the future", { field: d.expiresAt !== undefined ? "expiresAt" : "availableUntil" });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Readable text (the Note's content and the pages share these lines)

export const PROPOSAL_HTML_TAGS = ["p", "br", "a", "span", "strong", "em", "ul", "li"] as const;

/** "Saturday 5 December" (UTC). */
export function formatDay(at: Date): string {
  return at.toLocaleDateString("en-GB", { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" });
}

/** The last day of a window ending at `end` (a window ending at midnight ends the day before). */
export const lastDayOf = (end: Date): Date => new Date(end.getTime() - 1);

export interface ProposalTextParts {
  purpose: ProposalPurpose;
  name: string;
  description: string;
  unit: string;
  quantity: string;
  total: string;
  remaining: string;
  minimum: string | null;
  unitBased: boolean | null;
  reciprocal: ReciprocalTerms | null;
  location: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date;
  urgent: boolean;
  status: ProposalStatus;
  category: string;
}

/** The headline: "Offer: 40 kg squash, until Saturday 5 December"; "URGENT need: …". */
export function proposalHeadline(p: ProposalTextParts): string {
  const what = `${p.purpose === "offer" ? "Offer" : p.urgent ? "URGENT need" : "Need"}: ${formatQuantity(p.total, p.unit)} ${p.name}`;
  return p.availableUntil ? `${what}, until ${formatDay(lastDayOf(p.availableUntil))}` : what;
}

/** The status line for a closed proposal, or null while open. */
export function proposalStatusLine(p: Pick<ProposalTextParts, "purpose" | "status">): string | null {
  switch (p.status) {
    case "withdrawn":
      return `Withdrawn: this ${p.purpose === "offer" ? "offer" : "need"} is no longer open.`;
    case "expired":
      return `Expired: this ${p.purpose === "offer" ? "offer" : "need"} is no longer open.`;
    case "fulfilled":
      return p.purpose === "offer" ? "Fulfilled: all of it has been claimed." : "Fulfilled: this need has been met.";
    default:
      return null;
  }
}

/** Plain-text detail lines (each escaped by the caller). */
export function proposalDetailLines(p: ProposalTextParts): string[] {
  const lines: string[] = [];
  if (p.remaining !== p.total || p.status === "fulfilled") {
    lines.push(`${formatQuantity(p.remaining, p.unit)} of ${formatQuantity(p.total, p.unit)} left`);
  }
  if (p.unitBased === true) lines.push(`In lots of ${formatQuantity(p.quantity, p.unit)}`);
  if (p.unitBased === false) lines.push(`Exactly ${formatQuantity(p.quantity, p.unit)} per claim`);
  if (p.minimum !== null) lines.push(`At least ${formatQuantity(p.minimum, p.unit)} per claim`);
  if (p.availableFrom) lines.push(`Available from ${formatDay(p.availableFrom)}`);
  if (p.location) lines.push(`Where: ${p.location}`);
  if (p.reciprocal) {
    lines.push(`Wanted in return: ${p.reciprocal.quantity === null ? "" : `${formatQuantity(p.reciprocal.quantity, p.reciprocal.unit)} `}${p.reciprocal.name}`);
  }
  if (p.status === "open") lines.push(`Open until ${formatDay(lastDayOf(p.expiresAt))}`);
  return lines;
}

/** Hashtags of the post (without "#"). */
export function proposalHashtags(p: Pick<ProposalTextParts, "purpose" | "urgent">): string[] {
  if (p.purpose === "offer") return ["MutualAid", "Offer"];
  return p.urgent ? ["MutualAidUrgent", "MutualAid", "Need"] : ["MutualAid", "Need"];
}

/**
 * The Note's HTML: paragraphs, a list and links only (tags Mastodon keeps), every text
 * escaped. `tagUrl` builds a hashtag's link.
 */
export function proposalNoteHtml(p: ProposalTextParts, ctx: { podName: string; pageUrl: string; tagUrl: (tag: string) => string }): string {
  const parts: string[] = [];
  const status = proposalStatusLine(p);
  if (status) parts.push(`<p><strong>${escapeHtml(status)}</strong></p>`);
  parts.push(`<p><strong>${escapeHtml(proposalHeadline(p))}</strong></p>`);
  if (p.description) parts.push(`<p>${escapeHtml(p.description).replace(/\n/g, "<br>")}</p>`);
  const lines = proposalDetailLines(p);
  if (lines.length) parts.push(`<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`);
  const how = p.status === "open" ? ` Pods in the congress of ${ctx.podName} claim it from their node.` : "";
  parts.push(`<p>From ${escapeHtml(ctx.podName)}.${escapeHtml(how)} <a href="${escapeHtml(ctx.pageUrl)}">${escapeHtml(ctx.pageUrl)}</a></p>`);
  const tags = proposalHashtags(p).map(
    (t) => `<a href="${escapeHtml(ctx.tagUrl(t))}" class="mention hashtag" rel="tag">#<span>${escapeHtml(t)}</span></a>`,
  );
  parts.push(`<p>${tags.join(" ")}</p>`);
  return parts.join("");
}
