/**
 * Period summaries of the open books: what a pod publishes about a period, built from
 * aggregates the database computes (db/repos/summaries.ts). Pure: no I/O, no clock.
 *
 * "Publish numbers, protect people": any figure that describes fewer than 3 distinct
 * members (K_ANONYMITY) is replaced by the text "fewer than 3" (`suppressed: true`):
 * a totals cell whose entries name 1 or 2 distinct members, the participants count when
 * it is 1 or 2, value reclaimed when its entries name 1 or 2 members, and a ledger-derived
 * indicator whose entries name 1 or 2 members. Figures whose entries name no member (only
 * other pods, outside parties or nobody) are shown. Members are never named: not by
 * name, not by pseudonym.
 *
 * The digest of a summary is SHA-256 over the RFC 8785 canonical JSON of its content
 * (chain.ts canonicalJson): two publications of a period are the same exactly when their
 * digests are equal.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "./chain.ts";
import { Dec, normalizeDecimal } from "./decimal.ts";
import { ENTRY_KINDS, FUNDS, OM2_UNITS, isCurrencyCode, type EntryKind, type Fund } from "./model.ts";
import { escapeHtml, isHttpUrl } from "../charter/html.ts";
import { z } from "zod";
import { parseOrThrow } from "../pods.ts";

export const K_ANONYMITY = 3;
export const SUPPRESSED = "fewer than 3" as const;
export type Suppressed = typeof SUPPRESSED;
export type Figure = string | Suppressed;

export const SUMMARY_HASHTAGS = ["OpenBooks", "MutualAid"] as const;

/** The kinds totals are kept under: a correction counts under the kind of the entry it corrects. */
export type FlowKind = Exclude<EntryKind, "correction">;
export type Trend = "up" | "down" | "flat";

/** One cell of the period's totals, as the database sums it (decimals as text). */
export interface TotalsCellInput {
  resource: string;
  name: string;
  unit: string;
  kind: FlowKind;
  fund: Fund | null;
  quantity: string;
  marketValue: string;
  /** Distinct members named by the cell's entries. */
  members: number;
}

/** What the database reports about a period's entries (recorded in [start, end)). */
export interface PeriodAggregate {
  currency: string;
  entries: number;
  /** Entries recorded in the period that occurred before it started. */
  lateEntries: number;
  /** Distinct members named by the period's entries. */
  participants: number;
  /** The first entry of the period, or null when none was recorded. */
  firstSeq: number | null;
  /** The chain head at period end: the last entry recorded before it (0 and the genesis hash for none). */
  headSeq: number;
  headHash: string;
  cells: TotalsCellInput[];
  /** Σ (market value − charged) over draws and transfers out (and corrections of them). */
  valueReclaimed: { value: string; members: number };
}

export interface SummaryTotal {
  resource: string;
  name: string;
  unit: string;
  kind: FlowKind;
  fund: Fund | null;
  quantity: Figure;
  marketValue: Figure;
  suppressed: boolean;
}

export interface SummaryIndicator {
  key: string;
  name: string;
  value: Figure;
  previous: string | null;
  trend: Trend | null;
  note?: string;
}

/** The published content of a summary (the digest covers exactly this object). */
export interface SummaryContent {
  currency: string;
  participants: number | Suppressed;
  entries: number;
  lateEntries: number;
  totals: SummaryTotal[];
  valueReclaimed: Figure;
  indicators: SummaryIndicator[];
  firstSeq: number | null;
  headSeq: number;
  headHash: string;
}

/** True when a figure describes 1 or 2 distinct members (0 members: nobody to protect). */
export const mustSuppress = (members: number): boolean => members > 0 && members < K_ANONYMITY;

export function suppressFigure(value: string, members: number): Figure {
  return mustSuppress(members) ? SUPPRESSED : normalizeDecimal(value);
}

/** up / down / flat between two shown figures; null when either is missing or suppressed. */
export function trendOf(value: Figure | null, previous: Figure | null): Trend | null {
  if (value === null || previous === null || value === SUPPRESSED || previous === SUPPRESSED) return null;
  const cmp = new Dec(value).comparedTo(new Dec(previous));
  return cmp > 0 ? "up" : cmp < 0 ? "down" : "flat";
}

const kindOrder = (k: FlowKind) => ENTRY_KINDS.indexOf(k);
const fundOrder = (f: Fund | null) => (f === null ? -1 : FUNDS.indexOf(f));
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Builds the content from the period's aggregate and its indicators (in a stable order). */
export function buildSummaryContent(aggregate: PeriodAggregate, indicators: SummaryIndicator[]): SummaryContent {
  const totals = [...aggregate.cells]
    .sort(
      (a, b) =>
        compareText(a.resource, b.resource) ||
        compareText(a.unit, b.unit) ||
        kindOrder(a.kind) - kindOrder(b.kind) ||
        fundOrder(a.fund) - fundOrder(b.fund),
    )
    .map((c): SummaryTotal => {
      const suppressed = mustSuppress(c.members);
      return {
        resource: c.resource,
        name: c.name,
        unit: c.unit,
        kind: c.kind,
        fund: c.fund,
        quantity: suppressed ? SUPPRESSED : normalizeDecimal(c.quantity),
        marketValue: suppressed ? SUPPRESSED : normalizeDecimal(c.marketValue),
        suppressed,
      };
    });
  return {
    currency: aggregate.currency,
    participants: mustSuppress(aggregate.participants) ? SUPPRESSED : aggregate.participants,
    entries: aggregate.entries,
    lateEntries: aggregate.lateEntries,
    totals,
    valueReclaimed: suppressFigure(aggregate.valueReclaimed.value, aggregate.valueReclaimed.members),
    indicators: [...indicators]
      .sort((a, b) => compareText(a.key, b.key))
      .map((i) => ({
        key: i.key,
        name: i.name,
        value: i.value,
        previous: i.previous,
        trend: i.trend,
        ...(i.note !== undefined && i.note !== "" && { note: i.note }),
      })),
    firstSeq: aggregate.firstSeq,
    headSeq: aggregate.headSeq,
    headHash: aggregate.headHash,
  };
}

/** SHA-256 (hex) of the content's RFC 8785 canonical JSON. */
export function summaryDigest(content: SummaryContent): string {
  return createHash("sha256").update(canonicalJson(content), "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------
// The Note's HTML: paragraphs and lists only (Mastodon strips tables), every text escaped.

/** Every tag summaryToNoteHtml emits; all of them are tags Mastodon keeps. */
export const SUMMARY_HTML_TAGS = ["p", "br", "strong", "ul", "li", "a", "span"] as const;

const KIND_LABELS: Record<FlowKind, string> = {
  contribution: "contributed",
  draw: "drawn from the commons",
  expenditure: "spent",
  transfer_out: "sent to other pods",
  transfer_in: "received from other pods",
};
const FUND_LABELS: Record<Fund, string> = {
  survival: "survival fund",
  capacity_building: "capacity-building fund",
  power_shifting: "power-shifting fund",
};
const TREND_LABELS: Record<Trend, string> = { up: "up", down: "down", flat: "unchanged" };

/** "12.5 kg", "3 items", "20 EUR", "4 hours". */
export function formatQuantity(quantity: string, unit: string): string {
  if (isCurrencyCode(unit)) return `${quantity} ${unit}`;
  const known = OM2_UNITS[unit];
  if (!known) return `${quantity} ${unit}`;
  return known.symbol ? `${quantity} ${known.symbol}` : `${quantity} ${known.label}`;
}

export interface SummaryRenderContext {
  podName: string;
  /** "week of 2026-11-23" */
  label: string;
  periodKind: string;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  /** The summary's HTML page. */
  pageUrl: string;
  /** The public ledger export that anyone can verify the head against. */
  exportUrl: string;
  tagUrl: (tag: string) => string;
}

const link = (url: string, label: string) =>
  isHttpUrl(url) ? `<a href="${escapeHtml(url)}" rel="nofollow noopener">${escapeHtml(label)}</a>` : escapeHtml(label);

function hashtag(tag: string, url: string): string {
  const label = `#<span>${escapeHtml(tag)}</span>`;
  return isHttpUrl(url) ? `<a href="${escapeHtml(url)}" class="mention hashtag" rel="tag">${label}</a>` : label;
}

/** The period's span for people: dates for weeks and months, minutes for lunar cycles. */
export function periodSpanText(kind: string, start: Date, end: Date): string {
  if (kind === "lunar") {
    const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")}`;
    return `${minute(start)} to ${minute(end)} UTC`;
  }
  const lastDay = new Date(end.getTime() - 1).toISOString().slice(0, 10);
  return `${start.toISOString().slice(0, 10)} to ${lastDay} (UTC)`;
}

function totalItem(t: SummaryTotal, currency: string): string {
  const where = t.fund ? ` (${FUND_LABELS[t.fund]})` : "";
  const head = `<strong>${escapeHtml(t.name)}</strong> ${KIND_LABELS[t.kind]}${where}`;
  if (t.suppressed) return `<li>${head}: ${SUPPRESSED} members, figures withheld</li>`;
  return `<li>${head}: ${escapeHtml(formatQuantity(String(t.quantity), t.unit))}, market value ${escapeHtml(String(t.marketValue))} ${escapeHtml(currency)}</li>`;
}

function indicatorItem(i: SummaryIndicator): string {
  const value = i.value === SUPPRESSED ? `${SUPPRESSED} members, withheld` : escapeHtml(i.value);
  const before = i.previous === null ? "" : `; previous period ${escapeHtml(i.previous)}${i.trend ? `, ${TREND_LABELS[i.trend]}` : ""}`;
  const note = i.note ? ` (${escapeHtml(i.note)})` : "";
  return `<li><strong>${escapeHtml(i.name)}</strong>: ${value}${before}${note}</li>`;
}

/** The summary as HTML that survives Mastodon's sanitizer: p, br, strong, ul, li, a, span. */
export function summaryToNoteHtml(content: SummaryContent, ctx: SummaryRenderContext): string {
  const html: string[] = [];
  html.push(
    `<p><strong>Open books of ${escapeHtml(ctx.podName)}: ${escapeHtml(ctx.label)}</strong><br>` +
      `${escapeHtml(periodSpanText(ctx.periodKind, ctx.periodStart, ctx.periodEnd))}</p>`,
  );
  if (ctx.version > 1) {
    html.push(`<p>Version ${Math.trunc(ctx.version)}: the books of this period changed after an earlier summary was published.</p>`);
  }
  const vr = content.valueReclaimed === SUPPRESSED ? `${SUPPRESSED} members, withheld` : `${escapeHtml(content.valueReclaimed)} ${escapeHtml(content.currency)}`;
  const late = content.lateEntries > 0 ? ` (of which recorded late: ${content.lateEntries})` : "";
  html.push(
    `<p>Value we reclaimed from the market: <strong>${vr}</strong><br>` +
      `Entries: ${content.entries}${late}<br>Participants: ${content.participants}</p>`,
  );
  if (content.totals.length > 0) {
    html.push(`<p><strong>What moved</strong></p>`, `<ul>${content.totals.map((t) => totalItem(t, content.currency)).join("")}</ul>`);
  } else {
    html.push(`<p>No entries were recorded in this period.</p>`);
  }
  if (content.indicators.length > 0) {
    html.push(`<p><strong>Sovereignty indicators</strong></p>`, `<ul>${content.indicators.map(indicatorItem).join("")}</ul>`);
  }
  html.push(
    `<p>Ledger at period end: entry ${content.headSeq}, hash ${escapeHtml(content.headHash)}<br>` +
      `${link(ctx.exportUrl, "Verify the books")} · ${link(ctx.pageUrl, "This summary")}</p>`,
  );
  html.push(`<p>${SUMMARY_HASHTAGS.map((t) => hashtag(t, ctx.tagUrl(t))).join(" ")}</p>`);
  return html.join("");
}

/** One line of plain text (previews, logs): "week of 2026-11-23: 12 entries, value reclaimed 40 EUR". */
export function summaryText(content: SummaryContent, label: string): string {
  const vr = content.valueReclaimed === SUPPRESSED ? SUPPRESSED : `${content.valueReclaimed} ${content.currency}`;
  return `${label}: ${content.entries} ${content.entries === 1 ? "entry" : "entries"}, value reclaimed ${vr}`;
}

// ---------------------------------------------------------------------------------------
// Reading a summary another pod published (its Note's `openBooks` term).

const decimalText = z.string().regex(/^-?\d{1,18}(\.\d{1,6})?$/, "must be a decimal in normal form");
const figure = z.union([z.literal(SUPPRESSED), decimalText]);
const shortText = (max: number) => z.string().max(max);

const contentSchema = z
  .object({
    currency: z.string().regex(/^[A-Z]{3}$/),
    participants: z.union([z.literal(SUPPRESSED), z.number().int().min(0)]),
    entries: z.number().int().min(0),
    lateEntries: z.number().int().min(0),
    totals: z
      .array(
        z
          .object({
            resource: shortText(40),
            name: shortText(200),
            unit: shortText(40),
            kind: z.enum(["contribution", "draw", "expenditure", "transfer_out", "transfer_in"]),
            fund: z.enum(FUNDS).nullable(),
            quantity: figure,
            marketValue: figure,
            suppressed: z.boolean(),
          })
          .strict()
          .refine((t) => t.suppressed === (t.quantity === SUPPRESSED) && t.suppressed === (t.marketValue === SUPPRESSED), {
            message: "suppressed must match the withheld figures",
          }),
      )
      .max(10_000),
    valueReclaimed: figure,
    indicators: z
      .array(
        z
          .object({
            key: shortText(40),
            name: shortText(200),
            value: figure,
            previous: decimalText.nullable(),
            trend: z.enum(["up", "down", "flat"]).nullable(),
            note: shortText(2000).optional(),
          })
          .strict(),
      )
      .max(1000),
    firstSeq: z.number().int().min(1).nullable(),
    headSeq: z.number().int().min(0),
    headHash: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/**
 * Checks the shape of a summary received from another pod (DomainError VALIDATION_FAILED
 * naming the field). The caller compares its digest with the one the pod published.
 */
export function parseSummaryContent(input: unknown): SummaryContent {
  return parseOrThrow(contentSchema, input) as SummaryContent;
}
