/**
 * Temporal.Duration helpers for TTLs and queue delays.
 *
 * Fedify's types name the global `Temporal` (TypeScript's esnext.temporal lib), while
 * on Node 22 the values are @js-temporal/polyfill objects — possibly from another copy
 * of the polyfill than ours, or native ones on newer runtimes. So durations are read
 * through our polyfill's `Duration.from`, which accepts any object with duration fields.
 */
import { Temporal as Polyfill } from "@js-temporal/polyfill";

/** A Temporal.Duration typed the way Fedify's APIs expect it. */
export function duration(like: Temporal.DurationLike | string): Temporal.Duration {
  return Polyfill.Duration.from(like as Polyfill.DurationLike | string) as unknown as Temporal.Duration;
}

/**
 * Length of `value` in milliseconds, never negative. Durations with calendar units
 * (years, months, weeks) have no fixed length and are measured from `relativeTo`
 * (default: now), in UTC.
 */
export function durationToMilliseconds(value: Temporal.Duration | Temporal.DurationLike, relativeTo: Date = new Date()): number {
  const d = Polyfill.Duration.from(value as Polyfill.DurationLike);
  const calendarUnits = d.years !== 0 || d.months !== 0 || d.weeks !== 0;
  const ms = calendarUnits
    ? d.total({
        unit: "millisecond",
        relativeTo: Polyfill.Instant.fromEpochMilliseconds(relativeTo.getTime()).toZonedDateTimeISO("UTC"),
      })
    : d.total("millisecond");
  return Math.max(0, ms);
}
