/**
 * Admin operations of period summaries and sovereignty indicators for the `hyphae` CLI
 * and the admin socket; merged into OPS in admin-ops.ts. Arguments travel as JSON, so
 * dates are text here.
 */
import { z } from "zod";
import { PERIOD_KINDS, type PeriodKind } from "../domain/books/model.ts";
import { parseUtcDate } from "../domain/books/periods.ts";
import { invalid, notFound } from "../domain/errors.ts";
import { podSlugSchema } from "../domain/pods.ts";
import * as indicators from "./indicators.ts";
import * as summaries from "./summaries.ts";
import type { ServiceDeps } from "./ports.ts";

const pod = z.object({ pod: podSlugSchema });

/** `2026-11-28` (midnight UTC) or an ISO 8601 date and time with a zone (`2026-11-28T10:00:00Z`). */
export function parseInstantText(text: string, field: string): Date {
  const day = parseUtcDate(text);
  if (day) return day;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw invalid("INVALID_DATE", `${field} must be a date (2026-11-28) or a date and time with a zone (2026-11-28T10:00:00Z)`, { field });
  }
  return at;
}

export const SUMMARY_OPS = {
  "summary.publish": {
    args: pod.extend({ period: z.enum(PERIOD_KINDS), at: z.string().optional() }),
    run: async (deps: ServiceDeps, a: { pod: string; period: PeriodKind; at?: string }) => {
      const outcome = await summaries.publishSummaryOutcome(deps, a.pod, a.period, a.at === undefined ? undefined : parseInstantText(a.at, "at"));
      return { ...outcome.summary, created: outcome.created };
    },
  },
  "summary.list": {
    args: pod.extend({ limit: z.number().int().min(1).max(500).default(50) }),
    run: (deps: ServiceDeps, a: { pod: string; limit: number }) => summaries.listSummaries(deps, a.pod, { limit: a.limit }),
  },
  "summary.show": {
    args: pod.extend({ period: z.enum(PERIOD_KINDS), start: z.string(), version: z.number().int().min(1).optional() }),
    run: async (deps: ServiceDeps, a: { pod: string; period: PeriodKind; start: string; version?: number }) => {
      const found = await summaries.getSummary(deps, a.pod, a.period, a.start, a.version);
      if (!found) throw notFound("SUMMARY_NOT_FOUND", `${a.pod} has no summary of the ${a.period} starting ${a.start}${a.version ? ` (version ${a.version})` : ""}`);
      return found;
    },
  },
  "indicator.add": {
    args: pod.extend({ indicator: z.record(z.string(), z.unknown()) }),
    run: (deps: ServiceDeps, a: { pod: string; indicator: Record<string, unknown> }) => indicators.addIndicator(deps, a.pod, a.indicator),
  },
  "indicator.list": {
    args: pod,
    run: (deps: ServiceDeps, a: { pod: string }) => indicators.listIndicators(deps, a.pod),
  },
  "indicator.count": {
    args: pod.extend({ key: z.string().min(1).max(40), count: z.record(z.string(), z.unknown()) }),
    run: (deps: ServiceDeps, a: { pod: string; key: string; count: Record<string, unknown> }) => indicators.recordIndicatorCount(deps, a.pod, a.key, a.count),
  },
} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never) => Promise<unknown> }>;

/** Summary operations that write for a pod: a retired pod refuses them. */
export const SUMMARY_POD_WRITES: readonly string[] = ["summary.publish", "indicator.add", "indicator.count"];
