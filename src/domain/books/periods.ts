/**
 * Summary periods, all in UTC:
 *
 * - `week`: the ISO week, from Monday 00:00Z to the next Monday 00:00Z;
 * - `month`: the calendar month, from the 1st 00:00Z to the next 1st 00:00Z;
 * - `lunar`: a mean synodic month of 29.530588853 days, counted from the new moon of
 *   2000-01-06T18:14:00Z (LUNAR_EPOCH). Cycle n starts at
 *   LUNAR_EPOCH + floor(n × 29.530588853 days), to the millisecond (computed exactly, with
 *   integers), so consecutive cycles are 2 551 442 876 or 2 551 442 877 ms apart. The mean
 *   month differs from a real new moon by up to about 14 hours: it is a fixed, documented
 *   calendar, not an astronomical prediction.
 *
 * A period is the half-open interval [start, end). Its id in URLs is
 * `{kind}-{YYYY-MM-DD}` with the UTC date of its start (e.g. `week-2026-11-23`): lunar
 * cycles start on distinct dates, so the id is unique for every kind.
 */
import { PERIOD_KINDS, type PeriodKind } from "./model.ts";

export interface Period {
  kind: PeriodKind;
  start: Date;
  end: Date;
  /** "week of 2026-11-23", "November 2026", "lunar cycle of 2026-11-20". */
  label: string;
}

const DAY_MS = 86_400_000;
/** The new moon of 6 January 2000, 18:14 UTC. */
export const LUNAR_EPOCH = new Date("2000-01-06T18:14:00.000Z");
/** The mean synodic month, in days, as text: the only form the arithmetic uses. */
export const SYNODIC_MONTH_DAYS = "29.530588853";
/** The mean synodic month in units of 1/10 000 ms (29.530588853 × 86 400 000 × 10 000), exact. */
const SYNODIC_TENTH_MICROS = 25_514_428_768_992n;
const TENTH_MICROS_PER_MS = 10_000n;

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
] as const;

/** The UTC calendar date of an instant, YYYY-MM-DD. */
export function utcDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function isPeriodKind(value: unknown): value is PeriodKind {
  return typeof value === "string" && (PERIOD_KINDS as readonly string[]).includes(value);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** The start of lunar cycle n (n = 0 starts at the epoch; negative n are earlier cycles). */
export function lunarCycleStart(n: number): Date {
  const offsetMs = floorDiv(BigInt(n) * SYNODIC_TENTH_MICROS, TENTH_MICROS_PER_MS);
  return new Date(LUNAR_EPOCH.getTime() + Number(offsetMs));
}

/** The number of the lunar cycle that contains `at`. */
export function lunarCycleOf(at: Date): number {
  const sinceEpoch = BigInt(at.getTime() - LUNAR_EPOCH.getTime()) * TENTH_MICROS_PER_MS;
  let n = Number(floorDiv(sinceEpoch, SYNODIC_TENTH_MICROS));
  // The start is floored to the millisecond: step over the boundary if `at` lies in the
  // sub-millisecond gap the flooring created.
  while (lunarCycleStart(n).getTime() > at.getTime()) n--;
  while (lunarCycleStart(n + 1).getTime() <= at.getTime()) n++;
  return n;
}

function assertInstant(at: Date): void {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError("a period needs a valid instant");
}

/** The period of `kind` that contains the instant `at`. */
export function periodOf(kind: PeriodKind, at: Date): Period {
  assertInstant(at);
  switch (kind) {
    case "week": {
      const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
      // getUTCDay: Sunday 0 … Saturday 6; ISO weeks start on Monday.
      const sinceMonday = (at.getUTCDay() + 6) % 7;
      const start = new Date(midnight - sinceMonday * DAY_MS);
      return { kind, start, end: new Date(start.getTime() + 7 * DAY_MS), label: `week of ${utcDate(start)}` };
    }
    case "month": {
      const start = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
      const end = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
      return { kind, start, end, label: `${MONTHS[start.getUTCMonth()]} ${start.getUTCFullYear()}` };
    }
    case "lunar": {
      const n = lunarCycleOf(at);
      const start = lunarCycleStart(n);
      return { kind, start, end: lunarCycleStart(n + 1), label: `lunar cycle of ${utcDate(start)}` };
    }
  }
}

/** The period just before `period` (same kind). */
export function previousPeriod(period: Period): Period {
  return periodOf(period.kind, new Date(period.start.getTime() - 1));
}

/** The most recent period of `kind` that has ended at `now` (end ≤ now). */
export function lastEndedPeriod(kind: PeriodKind, now: Date): Period {
  return previousPeriod(periodOf(kind, now));
}

/** `week-2026-11-23` for the period starting on 2026-11-23. */
export function periodId(period: Pick<Period, "kind" | "start">): string {
  return `${period.kind}-${utcDate(period.start)}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Midnight UTC of a YYYY-MM-DD date, or null when it is not a real calendar date. */
export function parseUtcDate(text: string): Date | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(Date.UTC(y, mo - 1, d));
  return at.getUTCFullYear() === y && at.getUTCMonth() === mo - 1 && at.getUTCDate() === d ? at : null;
}

/**
 * The period of `kind` that starts on the UTC date `startDate` (YYYY-MM-DD), or null when
 * no period of that kind starts that day (a week on a Tuesday, a month on the 2nd, a
 * lunar cycle on a day without a new moon).
 */
export function periodStartingOn(kind: PeriodKind, startDate: string): Period | null {
  const day = parseUtcDate(startDate);
  if (!day) return null;
  // The period containing the last millisecond of that day started that day, if any did.
  const period = periodOf(kind, new Date(day.getTime() + DAY_MS - 1));
  return utcDate(period.start) === startDate ? period : null;
}

/** `week-2026-11-23` → the period, or null for anything else. */
export function parsePeriodId(id: string): Period | null {
  const m = /^(week|lunar|month)-(\d{4}-\d{2}-\d{2})$/.exec(id);
  return m ? periodStartingOn(m[1] as PeriodKind, m[2]!) : null;
}

/**
 * The first calendar date (YYYY-MM-DD) whose midnight UTC is at or after `at`: dated
 * records (indicator counts) belong to the period that contains their date's midnight,
 * so those of a period [start, end) are the dates in [dateCeil(start), dateCeil(end)).
 */
export function dateCeil(at: Date): string {
  const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  return utcDate(new Date(midnight === at.getTime() ? midnight : midnight + DAY_MS));
}
