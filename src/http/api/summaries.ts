/** Steward API routes of period summaries and sovereignty indicators. */
import { z } from "zod";
import { PERIOD_KINDS } from "../../domain/books/model.ts";
import { parsePeriodId } from "../../domain/books/periods.ts";
import { invalid, notFound } from "../../domain/errors.ts";
import { podSlugSchema } from "../../domain/pods.ts";
import * as indicators from "../../services/indicators.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { parseInstantText } from "../../services/summary-ops.ts";
import * as summaries from "../../services/summaries.ts";
import type { RouteTable } from "./route.ts";

const slugParams = z.object({ slug: podSlugSchema });
const dateTime = z.iso.datetime();
const figure = z.string().describe('A decimal, or "fewer than 3" when it describes 1 or 2 members');

const contentSchema = z.object({
  currency: z.string(),
  participants: z.union([z.number().int(), z.literal("fewer than 3")]),
  entries: z.number().int(),
  lateEntries: z.number().int(),
  totals: z.array(
    z.object({
      resource: z.string(),
      name: z.string(),
      unit: z.string(),
      kind: z.string(),
      fund: z.string().nullable(),
      quantity: figure,
      marketValue: figure,
      suppressed: z.boolean(),
    }),
  ),
  valueReclaimed: figure,
  indicators: z.array(
    z.object({ key: z.string(), name: z.string(), value: figure, previous: z.string().nullable(), trend: z.enum(["up", "down", "flat"]).nullable(), note: z.string().optional() }),
  ),
  firstSeq: z.number().int().nullable(),
  headSeq: z.number().int(),
  headHash: z.string(),
});

const summarySchema = z.object({
  id: z.string(),
  pod: z.string(),
  period: z.string().describe("The period's id, e.g. week-2026-11-23"),
  periodKind: z.enum(PERIOD_KINDS),
  periodStart: dateTime,
  periodEnd: dateTime,
  label: z.string(),
  version: z.number().int(),
  headSeq: z.number().int(),
  headHash: z.string(),
  entryCount: z.number().int(),
  publishedAt: dateTime,
  url: z.string(),
  content: contentSchema,
});

const toJson = (s: summaries.SummaryView) => ({
  id: s.id,
  pod: s.pod,
  period: `${s.periodKind}-${s.periodStart.toISOString().slice(0, 10)}`,
  periodKind: s.periodKind,
  periodStart: s.periodStart.toISOString(),
  periodEnd: s.periodEnd.toISOString(),
  label: s.label,
  version: s.version,
  headSeq: s.headSeq,
  headHash: s.headHash,
  entryCount: s.entryCount,
  publishedAt: s.publishedAt.toISOString(),
  url: s.url,
  content: s.content,
});

const indicatorSchema = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string(),
  source: z.enum(["ledger", "count"]),
  resource: z.string().nullable(),
  entryKind: z.string().nullable(),
  createdAt: dateTime,
});
const indicatorJson = (i: indicators.IndicatorView) => ({ ...i, createdAt: i.createdAt.toISOString() });

export function addSummaryRoutes(table: RouteTable, deps: ServiceDeps): void {
  table.add({
    method: "POST",
    url: "/pods/:slug/summaries",
    summary: "Publish the summary of an ended period (default: the last one); an unchanged period is returned as it was (created: false)",
    auth: true,
    params: slugParams,
    body: z.object({ period: z.enum(PERIOD_KINDS), at: z.string().max(40).optional() }).strict(),
    response: summarySchema.extend({ created: z.boolean() }),
    handler: async ({ params, body }) => {
      const at = body.at === undefined ? undefined : parseInstantText(body.at, "at");
      const outcome = await summaries.publishSummaryOutcome(deps, params.slug, body.period, at);
      return { ...toJson(outcome.summary), created: outcome.created };
    },
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/summaries",
    summary: "The pod's published summaries (the latest version of each period), newest period first",
    auth: true,
    params: slugParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    response: z.object({ items: z.array(summarySchema) }),
    handler: async ({ params, query }) => ({ items: (await summaries.listSummaries(deps, params.slug, { limit: query.limit })).map(toJson) }),
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/summaries/:period",
    summary: "One period's summary by id (e.g. week-2026-11-23): the latest version, or ?version=n",
    auth: true,
    params: slugParams.extend({ period: z.string().max(40) }),
    query: z.object({ version: z.coerce.number().int("must be a whole number").min(1, "must be 1 or more").optional() }),
    response: summarySchema,
    handler: async ({ params, query }) => {
      const period = parsePeriodId(params.period);
      if (!/^(week|lunar|month)-\d{4}-\d{2}-\d{2}$/.test(params.period)) {
        throw invalid("INVALID_PERIOD", "A period id looks like week-2026-11-23, lunar-2026-11-09 or month-2026-11-01", { field: "period" });
      }
      const found = period && (await summaries.getSummary(deps, params.slug, period.kind, params.period.slice(-10), query.version));
      if (!found) throw notFound("SUMMARY_NOT_FOUND", `${params.slug} has no summary ${params.period}${query.version ? ` version ${query.version}` : ""}`);
      return toJson(found);
    },
  });

  table.add({
    method: "POST",
    url: "/pods/:slug/indicators",
    summary: "Define a sovereignty indicator: derived from the ledger (resource + entryKind) or counted (source: count)",
    auth: true,
    params: slugParams,
    body: z.record(z.string(), z.unknown()).describe("{ key, name, description?, source: ledger|count, resource?, entryKind? }"),
    status: 201,
    response: indicatorSchema,
    handler: async ({ params, body }) => indicatorJson(await indicators.addIndicator(deps, params.slug, body)),
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/indicators",
    summary: "The pod's indicators",
    auth: true,
    params: slugParams,
    response: z.object({ items: z.array(indicatorSchema) }),
    handler: async ({ params }) => ({ items: (await indicators.listIndicators(deps, params.slug)).map(indicatorJson) }),
  });

  const countSchema = z.object({ key: z.string(), countedOn: z.string(), count: z.string(), publicNote: z.string(), recordedAt: dateTime });
  table.add({
    method: "POST",
    url: "/pods/:slug/indicators/:key/counts",
    summary: "Record a dated count of a counted indicator, with a public note",
    auth: true,
    params: slugParams.extend({ key: z.string().max(40) }),
    body: z.record(z.string(), z.unknown()).describe("{ countedOn: YYYY-MM-DD, count: decimal ≥ 0, publicNote? }"),
    status: 201,
    response: countSchema,
    handler: async ({ params, body }) => {
      const c = await indicators.recordIndicatorCount(deps, params.slug, params.key, body);
      return { ...c, recordedAt: c.recordedAt.toISOString() };
    },
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/indicators/:key/counts",
    summary: "The latest counts of a counted indicator, newest date first",
    auth: true,
    params: slugParams.extend({ key: z.string().max(40) }),
    response: z.object({ items: z.array(countSchema) }),
    handler: async ({ params }) => ({
      items: (await indicators.listIndicatorCounts(deps, params.slug, params.key)).map((c) => ({ ...c, recordedAt: c.recordedAt.toISOString() })),
    }),
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/following/summaries",
    summary: "Summaries of the pods this pod follows, as this node holds them; changedAfterPublication flags a period published twice with different content",
    auth: true,
    params: slugParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    response: z.object({
      items: z.array(
        z.object({
          actor: z.string(),
          handle: z.string().nullable(),
          object: z.string(),
          period: z.string(),
          periodKind: z.enum(PERIOD_KINDS),
          periodStart: dateTime,
          periodEnd: dateTime,
          version: z.number().int(),
          headSeq: z.number().int(),
          headHash: z.string(),
          digest: z.string(),
          changedAfterPublication: z.boolean(),
          receivedAt: dateTime,
          content: contentSchema,
        }),
      ),
    }),
    handler: async ({ params, query }) => ({
      items: (await summaries.listRemoteSummaries(deps, params.slug, { limit: query.limit })).map((r) => ({
        ...r,
        period: `${r.periodKind}-${r.periodStart.toISOString().slice(0, 10)}`,
        periodStart: r.periodStart.toISOString(),
        periodEnd: r.periodEnd.toISOString(),
        receivedAt: r.receivedAt.toISOString(),
      })),
    }),
  });
}
