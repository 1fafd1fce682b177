/**
 * Fedify's types name the global `Temporal` (TypeScript's esnext.temporal lib) while at
 * run time on Node 22 the values come from @js-temporal/polyfill, which Fedify uses too.
 */
import { Temporal as Polyfill } from "@js-temporal/polyfill";

export function dateToInstant(date: Date): Temporal.Instant {
  return Polyfill.Instant.fromEpochMilliseconds(date.getTime()) as unknown as Temporal.Instant;
}
