/**
 * The congress's totals: what moved between pods in a period, summed from the summaries
 * the pods PUBLISHED (never from private data). Pure: no I/O, no clock.
 *
 * For a period (the current lunar cycle in the congress view), each pod counts with its
 * latest summary of exactly that period; pods with none are listed as such. From each,
 * the `transfer_out` totals are added per unit: units of one dimension are summed in the
 * dimension's base unit (grams and tonnes as kilograms, cubic metres as litres, days as
 * hours); currencies and other units only with themselves. A figure withheld as "fewer
 * than 3" is never guessed at: it is counted as withheld. A category is given when the
 * caller can tell a resource's category (`categoryOf`), else null.
 */
import { Dec } from "../books/decimal.ts";
import { isCurrencyCode, OM2_UNITS } from "../books/model.ts";
import type { Period } from "../books/periods.ts";
import { SUPPRESSED, type SummaryContent } from "../books/summary.ts";
import { DIMENSION_UNITS, UNIT_DIMENSIONS } from "./matching.ts";

export interface PodSummaryInput {
  /** The pod (actor IRI). */
  pod: string;
  /** A readable name for the pod (its handle or name). */
  label: string;
  /** The pod's published summaries (any kinds, periods and versions). */
  summaries: ReadonlyArray<{ periodKind: string; periodStart: Date; version: number; content: SummaryContent; url?: string | null }>;
}

export interface CongressTotalLine {
  /** The unit the quantity is in (the dimension's base unit for convertible units). */
  unit: string;
  quantity: string;
  /** "120 kg", "14 hours". */
  text: string;
  byCategory: Array<{ category: string | null; quantity: string }>;
}

export interface CongressTotals {
  periodKind: string;
  periodStart: Date;
  periodEnd: Date;
  label: string;
  lines: CongressTotalLine[];
  /** "our congress moved 120 kg and 14 hours between pods this lunar cycle". */
  text: string;
  /** Pods whose summary of the period was counted (with the version and its page). */
  counted: Array<{ pod: string; label: string; version: number; url: string | null }>;
  /** Pods that published no summary of the period. */
  withoutSummary: Array<{ pod: string; label: string }>;
  /** transfer_out figures withheld as "fewer than 3" (not added). */
  withheld: number;
}

/** "120 kg", "14 hours", "3 items", "20 EUR". */
export function quantityText(quantity: string, unit: string): string {
  if (isCurrencyCode(unit)) return `${quantity} ${unit}`;
  if (unit === "hour") return `${quantity} ${quantity === "1" ? "hour" : "hours"}`;
  if (unit === "day") return `${quantity} ${quantity === "1" ? "day" : "days"}`;
  if (unit === "one") return `${quantity} ${quantity === "1" ? "item" : "items"}`;
  const known = OM2_UNITS[unit];
  if (!known) return `${quantity} ${unit}`;
  return known.symbol ? `${quantity} ${known.symbol}` : `${quantity} ${known.label}`;
}

const norm = (d: Dec) => (d.isZero() ? "0" : d.toFixed());

/** "a, b and c" */
export function joinAnd(parts: readonly string[]): string {
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`;
}

const PERIOD_WORDS: Record<string, string> = { lunar: "this lunar cycle", week: "this week", month: "this month" };

/**
 * Sums the pods' `transfer_out` totals of `period`. `categoryOf(pod, resource)` names a
 * resource's category when the caller knows it.
 */
export function congressTotals(
  pods: readonly PodSummaryInput[],
  period: Period,
  categoryOf: (pod: string, resource: string) => string | null = () => null,
): CongressTotals {
  const sums = new Map<string, { total: Dec; byCategory: Map<string | null, Dec> }>();
  const counted: CongressTotals["counted"] = [];
  const withoutSummary: CongressTotals["withoutSummary"] = [];
  let withheld = 0;
  for (const pod of pods) {
    let latest: PodSummaryInput["summaries"][number] | null = null;
    for (const s of pod.summaries) {
      if (s.periodKind !== period.kind || s.periodStart.getTime() !== period.start.getTime()) continue;
      if (!latest || s.version > latest.version) latest = s;
    }
    if (!latest) {
      withoutSummary.push({ pod: pod.pod, label: pod.label });
      continue;
    }
    counted.push({ pod: pod.pod, label: pod.label, version: latest.version, url: latest.url ?? null });
    for (const t of latest.content.totals ?? []) {
      if (t.kind !== "transfer_out") continue;
      if (t.quantity === SUPPRESSED || t.suppressed) {
        withheld++;
        continue;
      }
      const dim = UNIT_DIMENSIONS[t.unit];
      const unit = dim ? DIMENSION_UNITS[dim.dimension] : t.unit;
      const quantity = new Dec(t.quantity).times(dim ? new Dec(dim.factor) : 1);
      const entry = sums.get(unit) ?? { total: new Dec(0), byCategory: new Map<string | null, Dec>() };
      entry.total = entry.total.plus(quantity);
      const category = categoryOf(pod.pod, t.resource)?.toLowerCase() ?? null;
      entry.byCategory.set(category, (entry.byCategory.get(category) ?? new Dec(0)).plus(quantity));
      sums.set(unit, entry);
    }
  }
  const lines: CongressTotalLine[] = [...sums.entries()]
    .filter(([, s]) => !s.total.isZero())
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([unit, s]) => ({
      unit,
      quantity: norm(s.total),
      text: quantityText(norm(s.total), unit),
      byCategory: [...s.byCategory.entries()]
        .sort(([a], [b]) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
        .map(([category, q]) => ({ category, quantity: norm(q) })),
    }));
  const when = PERIOD_WORDS[period.kind] ?? `in the ${period.label}`;
  const text = lines.length
    ? `our congress moved ${joinAnd(lines.map((l) => l.text))} between pods ${when}`
    : counted.length
      ? `our congress moved nothing between pods ${when}, as far as published summaries tell`
      : `no pod of our congress has published a summary for ${when} yet`;
  return {
    periodKind: period.kind,
    periodStart: period.start,
    periodEnd: period.end,
    label: period.label,
    lines,
    text,
    counted,
    withoutSummary,
    withheld,
  };
}
