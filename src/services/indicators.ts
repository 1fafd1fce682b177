/**
 * Sovereignty indicators: beside volumes, a pod tracks the dependence it reduced. An
 * indicator is either
 *
 * - derived from the ledger (`source: "ledger"`): the quantity of one resource moved by one
 *   kind of entry ("meals prepared autonomously" = quantity of `meal` drawn), over the
 *   entries RECORDED in the period, like the summaries; corrections of such entries count.
 *   Its value is withheld ("fewer than 3") when those entries name 1 or 2 distinct members;
 * - counted by stewards (`source: "count"`): dated counts with a public note ("disputes
 *   resolved without outside authority"). A count dated D belongs to the period that
 *   contains D 00:00 UTC; the value is the sum of the period's counts.
 *
 * Each value comes with the previous period's value and a trend (up, down, flat).
 */
import { z } from "zod";
import * as repo from "../db/repos/summaries.ts";
import { parseDecimal, normalizeDecimal } from "../domain/books/decimal.ts";
import { dateCeil, parseUtcDate, utcDate } from "../domain/books/periods.ts";
import { SUPPRESSED, mustSuppress, trendOf, type Figure, type FlowKind, type Trend } from "../domain/books/summary.ts";
import { conflict, invalid, notFound, unprocessable } from "../domain/errors.ts";
import { parseOrThrow } from "../domain/pods.ts";
import { findBadText } from "../domain/text.ts";
import { writeOnce } from "./idempotency.ts";
import { getActivePod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";

export const INDICATOR_KEY = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const FLOW_KINDS = ["contribution", "draw", "expenditure", "transfer_out", "transfer_in"] as const;
const NOTE_MAX = 500;

export interface IndicatorView {
  key: string;
  name: string;
  description: string;
  source: "ledger" | "count";
  /** The resource's key, for a ledger indicator. */
  resource: string | null;
  /** The kind of entry it sums, for a ledger indicator. */
  entryKind: FlowKind | null;
  createdAt: Date;
}

export interface IndicatorCountView {
  key: string;
  /** YYYY-MM-DD */
  countedOn: string;
  count: string;
  publicNote: string;
  recordedAt: Date;
}

export interface IndicatorValue {
  key: string;
  name: string;
  description: string;
  source: "ledger" | "count";
  value: Figure;
  previous: string | null;
  trend: Trend | null;
  /** The public notes of a counted indicator's counts in the period. */
  note?: string;
}

const view = (r: repo.IndicatorRecord): IndicatorView => ({
  key: r.key,
  name: r.name,
  description: r.description,
  source: r.source,
  resource: r.resource,
  entryKind: r.entryKind,
  createdAt: r.createdAt,
});

const indicatorInput = z
  .object({
    key: z.string().regex(INDICATOR_KEY, "must be 1 to 40 lowercase letters, digits, - or _, starting with a letter or digit"),
    name: z.string().trim().min(1, "must not be empty").max(120),
    description: z.string().trim().max(500).default(""),
    source: z.enum(["ledger", "count"]),
    resource: z.string().min(1).max(40).optional(),
    entryKind: z.enum(FLOW_KINDS).optional(),
  })
  .strict();

function refuseBadText(input: unknown): void {
  const bad = findBadText(input);
  if (bad) throw invalid("INVALID_TEXT", `${bad.path || "input"} ${bad.problem}`, { field: bad.path });
}

/** Defines an indicator. Errors: VALIDATION_FAILED, INDICATOR_FIELDS, UNKNOWN_RESOURCE, INDICATOR_EXISTS (conflict). */
export async function addIndicator(deps: ServiceDeps, podSlug: string, input: unknown): Promise<IndicatorView> {
  refuseBadText(input);
  const pod = await getActivePod(deps, podSlug);
  const a = parseOrThrow(indicatorInput, input);
  if (a.source === "ledger" && (a.resource === undefined || a.entryKind === undefined)) {
    const field = a.resource === undefined ? "resource" : "entryKind";
    throw invalid("INDICATOR_FIELDS", `An indicator derived from the ledger names a resource and an entry kind (${field} is missing)`, { field });
  }
  if (a.source === "count" && (a.resource !== undefined || a.entryKind !== undefined)) {
    const field = a.resource !== undefined ? "resource" : "entryKind";
    throw invalid("INDICATOR_FIELDS", `A counted indicator takes no resource or entry kind (${field} was given)`, { field });
  }
  const resourceId = a.resource === undefined ? null : await repo.findResourceId(deps.db, pod.id, a.resource);
  if (a.resource !== undefined && resourceId === null) {
    throw invalid("UNKNOWN_RESOURCE", `${pod.slug} has no resource ${a.resource}`, { field: "resource" });
  }
  const record = {
    id: deps.ids.uuid(),
    podId: pod.id,
    key: a.key,
    name: a.name,
    description: a.description,
    source: a.source,
    resourceId,
    entryKind: a.entryKind ?? null,
    createdAt: deps.clock.now(),
  };
  const inserted = await writeOnce(deps, (trx) => repo.insertIndicator(trx, record));
  if (!inserted) throw conflict("INDICATOR_EXISTS", `${pod.slug} already has an indicator ${a.key}`, { field: "key" });
  deps.log.info("Indicator defined", { pod: pod.slug, key: a.key, source: a.source });
  return view({ ...record, resource: a.resource ?? null });
}

export async function listIndicators(deps: ServiceDeps, podSlug: string): Promise<IndicatorView[]> {
  const pod = await getPod(deps, podSlug);
  return (await repo.listIndicatorRecords(deps.db, pod.id)).map(view);
}

const countInput = z
  .object({
    countedOn: z.string().refine((v) => parseUtcDate(v) !== null, "must be a date YYYY-MM-DD"),
    count: z.unknown(),
    publicNote: z.string().trim().max(NOTE_MAX).default(""),
  })
  .strict();

/**
 * Records a dated count of a counted indicator (append-only). Errors: INDICATOR_NOT_FOUND,
 * INDICATOR_NOT_COUNTED (a ledger indicator counts itself), VALIDATION_FAILED,
 * INVALID_DECIMAL / TOO_PRECISE / NEGATIVE (count), FUTURE_DATE (countedOn after tomorrow).
 */
export async function recordIndicatorCount(deps: ServiceDeps, podSlug: string, key: string, input: unknown): Promise<IndicatorCountView> {
  refuseBadText(input);
  const pod = await getActivePod(deps, podSlug);
  const indicator = await repo.getIndicatorRecord(deps.db, pod.id, key);
  if (!indicator) throw notFound("INDICATOR_NOT_FOUND", `${pod.slug} has no indicator ${key}`);
  if (indicator.source !== "count") {
    throw unprocessable("INDICATOR_NOT_COUNTED", `${key} is derived from the ledger; record ledger entries instead of counts`);
  }
  const a = parseOrThrow(countInput, input);
  const count = normalizeDecimal(parseDecimal(a.count, "count", { scale: 6, sign: "non_negative" }));
  const now = deps.clock.now();
  if (a.countedOn > utcDate(new Date(now.getTime() + 86_400_000))) {
    throw invalid("FUTURE_DATE", `countedOn ${a.countedOn} is in the future`, { field: "countedOn" });
  }
  const record: repo.IndicatorCountRecord = {
    id: deps.ids.uuid(),
    podId: pod.id,
    indicatorId: indicator.id,
    countedOn: a.countedOn,
    count,
    publicNote: a.publicNote,
    recordedAt: now,
  };
  await writeOnce(deps, (trx) => repo.insertIndicatorCount(trx, record));
  deps.log.info("Indicator count recorded", { pod: pod.slug, key, countedOn: a.countedOn });
  return { key, countedOn: record.countedOn, count, publicNote: record.publicNote, recordedAt: now };
}

/** The latest counts of a counted indicator, newest date first. */
export async function listIndicatorCounts(deps: ServiceDeps, podSlug: string, key: string, limit = 100): Promise<IndicatorCountView[]> {
  const pod = await getPod(deps, podSlug);
  const indicator = await repo.getIndicatorRecord(deps.db, pod.id, key);
  if (!indicator) throw notFound("INDICATOR_NOT_FOUND", `${pod.slug} has no indicator ${key}`);
  return (await repo.listIndicatorCounts(deps.db, indicator.id, limit)).map((c) => ({
    key,
    countedOn: c.countedOn,
    count: normalizeDecimal(c.count),
    publicNote: c.publicNote,
    recordedAt: c.recordedAt,
  }));
}

interface Range {
  from: Date;
  to: Date;
}

function clipNotes(notes: string[]): string | undefined {
  const text = [...new Set(notes.map((n) => n.trim()).filter(Boolean))].join("; ");
  if (!text) return undefined;
  const chars = [...text];
  return chars.length <= NOTE_MAX ? text : `${chars.slice(0, NOTE_MAX - 1).join("")}…`;
}

/** Values of every indicator of a pod (by id) over `range`, with the values over `previous`. */
export async function indicatorValuesForPod(deps: ServiceDeps, podId: string, range: Range, previous: Range): Promise<IndicatorValue[]> {
  const indicators = await repo.listIndicatorRecords(deps.db, podId);
  if (indicators.length === 0) return [];
  const [ledgerNow, ledgerBefore, countsNow, countsBefore] = [
    await repo.sumLedgerIndicators(deps.db, podId, range.from, range.to),
    await repo.sumLedgerIndicators(deps.db, podId, previous.from, previous.to),
    await repo.sumCountedIndicators(deps.db, podId, dateCeil(range.from), dateCeil(range.to)),
    await repo.sumCountedIndicators(deps.db, podId, dateCeil(previous.from), dateCeil(previous.to)),
  ];
  return indicators.map((i): IndicatorValue => {
    let value: Figure;
    let before: string | null;
    let note: string | undefined;
    if (i.source === "ledger") {
      const now = ledgerNow.get(i.id) ?? { quantity: "0", members: 0 };
      const then = ledgerBefore.get(i.id) ?? { quantity: "0", members: 0 };
      value = mustSuppress(now.members) ? SUPPRESSED : normalizeDecimal(now.quantity);
      before = mustSuppress(then.members) ? null : normalizeDecimal(then.quantity);
    } else {
      const now = countsNow.get(i.id) ?? { count: "0", notes: [] };
      const then = countsBefore.get(i.id) ?? { count: "0", notes: [] };
      value = normalizeDecimal(now.count);
      before = normalizeDecimal(then.count);
      note = clipNotes(now.notes);
    }
    return {
      key: i.key,
      name: i.name,
      description: i.description,
      source: i.source,
      value,
      previous: before,
      trend: trendOf(value, before),
      ...(note !== undefined && { note }),
    };
  });
}

/**
 * The pod's indicators over [from, to), with their values over `previous` (by default the
 * range of the same length just before) and the trend between the two.
 */
export async function indicatorValues(
  deps: ServiceDeps,
  podSlug: string,
  from: Date,
  to: Date,
  previous?: { from: Date; to: Date },
): Promise<IndicatorValue[]> {
  if (!(from.getTime() < to.getTime())) throw invalid("INVALID_RANGE", "from must be before to", { field: "from" });
  const pod = await getPod(deps, podSlug);
  const span = to.getTime() - from.getTime();
  return indicatorValuesForPod(deps, pod.id, { from, to }, previous ?? { from: new Date(from.getTime() - span), to: from });
}
