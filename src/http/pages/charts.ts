/**
 * Charts for the open-books pages, rendered on the server as inline SVG with d3-scale
 * (positions) and d3-shape (paths). Pure functions of plain data: no I/O, no clock.
 *
 * Every chart is a `<figure>` holding
 * - an `<svg role="img">` labelled by its own `<title>` and `<desc>` (aria-labelledby),
 * - a visible legend or caption (`<figcaption>`),
 * - a visually hidden `<table>` with every figure of the chart as text, so a screen reader,
 *   a text browser or a copy-paste gets the exact numbers, not the picture.
 * No script, no external font: the page reads the same without JavaScript and prints as is.
 *
 * Figures arrive as exact decimal strings. The table shows them exactly (formatted as
 * strings); only the drawing converts them to floating point, because SVG coordinates are
 * floats: a bar can be a hair off, a figure never is.
 */
import { scaleBand, scaleLinear } from "d3-scale";
import { area, line, stack, stackOffsetDiverging } from "d3-shape";
import { Dec } from "../../domain/books/decimal.ts";
import { html, type SafeHtml } from "../../lib/html.ts";

/** Width and height of every chart's viewBox; the SVG scales to its container's width. */
export const CHART_WIDTH = 400;
const PLOT_HEIGHT = 220;
const MARGIN = { top: 14, right: 10, bottom: 36, left: 56 };
/** Font sizes in viewBox units (a 400-unit chart on a 360 px phone is drawn at ~0.8 scale). */
const AXIS_FONT = 14;
const LABEL_FONT = 16;

/** Palette for series (funds first); each colour also has a class so the page's CSS can adapt it. */
export const SERIES_COLOURS: readonly string[] = ["#b5542c", "#2f6b3a", "#6d55a3", "#8a6d1f", "#1f6d8a"];

/** CSS for charts and text alternatives; the pages add it to their style block. */
export const CHART_STYLE = `
.chart{margin:1rem 0}.chart svg{display:block;width:100%;height:auto;max-width:32rem;color:var(--fg);overflow:visible}
.chart .axis{fill:var(--muted)}.chart .grid{stroke:var(--line)}.chart .zero{stroke:var(--muted)}
.chart .line{stroke:var(--accent)}.chart .area{fill:var(--accent);fill-opacity:.14}.chart .dot{fill:var(--accent)}
.chart figcaption{font-size:.9rem;color:var(--muted)}.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;list-style:none;padding:0;margin:.3rem 0}
.legend li{margin:0}.legend svg{display:inline-block;width:.8rem;height:.8rem;vertical-align:-.05rem;margin-right:.3rem}
.visually-hidden{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap;border:0}
@media print{.chart{break-inside:avoid}.chart svg{max-width:28rem}}
`;

/** Pixel geometry from an exact decimal (drawing only; see the header). */
const toFloat = (value: string): number => new Dec(value).toNumber();
/** SVG coordinates with one decimal: smaller pages, stable output. */
const px = (n: number): string => String(Math.round(n * 10) / 10);

export interface ChartText {
  /** Unique on the page: the ids of the title, description and table derive from it. */
  id: string;
  title: string;
  /** One or two sentences saying what the chart shows (its `<desc>`). */
  description: string;
}

export interface Figures {
  /** Exact text of a figure for the table and the labels ("€1,234.50"). */
  format: (value: string) => string;
  /** Short text of an axis tick ("€1.2K"). */
  axisFormat: (value: number) => string;
}

function svgOpen(c: ChartText, height: number): SafeHtml {
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" role="img" aria-labelledby="${c.id}-title ${c.id}-desc" focusable="false">
<title id="${c.id}-title">${c.title}</title>
<desc id="${c.id}-desc">${c.description}</desc>`;
}

function dataTable(c: ChartText, head: string[], rows: string[][]): SafeHtml {
  return html`<table class="visually-hidden" id="${c.id}-data">
<caption>${c.title} (the chart's figures)</caption>
<thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((row) => html`<tr>${row.map((cell, i) => (i === 0 ? html`<th scope="row">${cell}</th>` : html`<td>${cell}</td>`))}</tr>`)}</tbody>
</table>`;
}

function swatch(colour: string, className: string): SafeHtml {
  return html`<svg viewBox="0 0 10 10" aria-hidden="true" focusable="false"><rect class="${className}" width="10" height="10" rx="2" fill="${colour}"/></svg>`;
}

/** Horizontal grid lines and y tick labels. */
function yAxis(y: ReturnType<typeof scaleLinear<number, number>>, figures: Figures, x0: number, x1: number): SafeHtml {
  const ticks = y.ticks(4);
  return html`<g aria-hidden="true">${ticks.map((t) => {
    const at = px(y(t));
    return html`<line class="${t === 0 ? "zero" : "grid"}" x1="${px(x0)}" x2="${px(x1)}" y1="${at}" y2="${at}" stroke="#c8cec3" stroke-width="1"/>
<text class="axis" x="${px(x0 - 6)}" y="${at}" dy="0.32em" text-anchor="end" fill="currentColor" font-size="${AXIS_FONT}">${figures.axisFormat(t)}</text>`;
  })}</g>`;
}

/** At most `max` evenly spread indices of `n` items, always including the first and the last. */
export function labelIndices(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>();
  for (let k = 0; k < max; k++) picked.add(Math.round((k * (n - 1)) / (max - 1)));
  return [...picked].sort((a, b) => a - b);
}

function valueDomain(values: number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  return hi === lo ? [lo, lo + 1] : [lo, hi];
}

function emptyChart(c: ChartText, message: string): SafeHtml {
  return html`<figure class="chart" id="${c.id}"><figcaption><strong>${c.title}</strong>: ${message}</figcaption></figure>`;
}

// ---------------------------------------------------------------------------------------
// A running total over time (value reclaimed): a line over a shaded area.

export interface LinePoint {
  /** The bucket as readers name it ("week of 23 Nov 2026"), for the table. */
  label: string;
  /** A short form for the x axis ("23 Nov"). */
  shortLabel: string;
  /** The figure at this point (exact decimal). */
  value: string;
}

export function lineChart(c: ChartText & Figures & { points: LinePoint[]; valueHeading: string; periodHeading: string; empty?: string }): SafeHtml {
  const { points } = c;
  if (points.length === 0) return emptyChart(c, c.empty ?? "nothing to show yet.");
  const height = PLOT_HEIGHT;
  const [x0, x1] = [MARGIN.left, CHART_WIDTH - MARGIN.right];
  const x = (i: number) => (points.length === 1 ? (x0 + x1) / 2 : scaleLinear().domain([0, points.length - 1]).range([x0, x1])(i));
  const values = points.map((p) => toFloat(p.value));
  const y = scaleLinear().domain(valueDomain(values)).range([height - MARGIN.bottom, MARGIN.top]).nice(4);
  const xy = values.map((v, i) => [x(i), y(v)] as [number, number]);
  const linePath = line().x((d) => d[0]).y((d) => d[1])(xy) ?? "";
  const areaPath = area().x((d) => d[0]).y0(y(0)).y1((d) => d[1])(xy) ?? "";
  const labelled = labelIndices(points.length, 4);
  const last = points.length - 1;
  return html`<figure class="chart" id="${c.id}">
${svgOpen(c, height)}
${yAxis(y, c, x0, x1)}
<g aria-hidden="true">
${points.length > 1 ? html`<path class="area" d="${areaPath}" fill="#2f6b3a" fill-opacity="0.14"/><path class="line" d="${linePath}" fill="none" stroke="#2f6b3a" stroke-width="2.5" stroke-linejoin="round"/>` : ""}
${xy.map(([cx, cy], i) => (i === last || points.length <= 16 ? html`<circle class="dot" cx="${px(cx)}" cy="${px(cy)}" r="${i === last ? 4 : 2.5}" fill="#2f6b3a"/>` : ""))}
${labelled.map((i) => html`<text class="axis" x="${px(x(i))}" y="${height - MARGIN.bottom + 20}" text-anchor="${points.length > 1 && i === 0 ? "start" : points.length > 1 && i === last ? "end" : "middle"}" fill="currentColor" font-size="${AXIS_FONT}">${points[i]!.shortLabel}</text>`)}
</g>
</svg>
<figcaption>${c.description}</figcaption>
${dataTable(c, [c.periodHeading, c.valueHeading], points.map((p) => [p.label, c.format(p.value)]))}
</figure>`;
}

// ---------------------------------------------------------------------------------------
// Stacked bars: outflows per fund per bucket.

export interface StackSeries {
  key: string;
  label: string;
}

export interface StackBucket {
  label: string;
  shortLabel: string;
  /** Exact decimals by series key; a missing key is zero. */
  values: Readonly<Record<string, string>>;
}

export function stackedBarChart(
  c: ChartText & Figures & { series: readonly StackSeries[]; buckets: StackBucket[]; periodHeading: string; totalHeading: string; empty?: string },
): SafeHtml {
  const { buckets, series } = c;
  if (buckets.length === 0) return emptyChart(c, c.empty ?? "nothing to show yet.");
  const height = PLOT_HEIGHT;
  const [x0, x1] = [MARGIN.left, CHART_WIDTH - MARGIN.right];
  const keys = series.map((s) => s.key);
  const rows = buckets.map((b) => Object.fromEntries(keys.map((k) => [k, toFloat(b.values[k] ?? "0")])) as Record<string, number>);
  const layers = stack<Record<string, number>>().keys(keys).offset(stackOffsetDiverging)(rows);
  const extremes = layers.flatMap((layer) => layer.flatMap((d) => [d[0], d[1]]));
  const y = scaleLinear().domain(valueDomain(extremes)).range([height - MARGIN.bottom, MARGIN.top]).nice(4);
  const band = scaleBand<number>().domain(buckets.map((_, i) => i)).range([x0, x1]).paddingInner(0.2).paddingOuter(0.1);
  const width = band.bandwidth();
  const labelled = labelIndices(buckets.length, 4);
  const total = (b: StackBucket) => normalTotal(keys.map((k) => b.values[k] ?? "0"));
  return html`<figure class="chart" id="${c.id}">
${svgOpen(c, height)}
${yAxis(y, c, x0, x1)}
<g aria-hidden="true">
${layers.map((layer, s) => {
  const colour = SERIES_COLOURS[s % SERIES_COLOURS.length]!;
  return html`<g class="series-${series[s]!.key}" fill="${colour}">${layer.map((d, i) => {
    const top = y(Math.max(d[0], d[1]));
    const h = Math.abs(y(d[0]) - y(d[1]));
    return h > 0 ? html`<rect x="${px(band(i)!)}" y="${px(top)}" width="${px(width)}" height="${px(h)}"/>` : "";
  })}</g>`;
})}
${labelled.map((i) => html`<text class="axis" x="${px(band(i)! + width / 2)}" y="${height - MARGIN.bottom + 20}" text-anchor="middle" fill="currentColor" font-size="${AXIS_FONT}">${buckets[i]!.shortLabel}</text>`)}
</g>
</svg>
<figcaption><ul class="legend">${series.map((s, i) => html`<li>${swatch(SERIES_COLOURS[i % SERIES_COLOURS.length]!, `series-${s.key}`)}${s.label}</li>`)}</ul>${c.description}</figcaption>
${dataTable(
  c,
  [c.periodHeading, ...series.map((s) => s.label), c.totalHeading],
  buckets.map((b) => [b.label, ...keys.map((k) => c.format(b.values[k] ?? "0")), c.format(total(b))]),
)}
</figure>`;
}

function normalTotal(values: string[]): string {
  let sum = new Dec(0);
  for (const v of values) sum = sum.plus(v);
  return sum.isZero() ? "0" : sum.toFixed();
}

// ---------------------------------------------------------------------------------------
// Horizontal bars: stock per resource. Quantities in different units are not comparable,
// so bars are grouped by unit, each group with its own scale (its longest bar spans the
// width) under its own heading.

export interface Bar {
  label: string;
  /** Exact decimal. */
  value: string;
  /** The figure as shown ("12.5 kg"). */
  valueText: string;
  /** Bars with the same group (unit) share a scale. */
  group: string;
}

const BAR_ROW = 46;
const GROUP_ROW = 26;

export function barChart(
  c: ChartText & { bars: Bar[]; groupLabel?: (group: string) => string; labelHeading: string; valueHeading: string; empty?: string },
): SafeHtml {
  if (c.bars.length === 0) return emptyChart(c, c.empty ?? "nothing to show yet.");
  const groups = [...new Set(c.bars.map((b) => b.group))];
  const left = 8;
  const right = CHART_WIDTH - 8;
  const showGroups = groups.length > 1;
  const rows: SafeHtml[] = [];
  let top = 4;
  for (const group of groups) {
    const bars = c.bars.filter((b) => b.group === group);
    const x = scaleLinear().domain(valueDomain(bars.map((b) => toFloat(b.value)))).range([left, right]);
    if (showGroups) {
      rows.push(html`<text class="axis" x="${left}" y="${top + 17}" fill="currentColor" font-size="${AXIS_FONT}" font-style="italic">${c.groupLabel ? c.groupLabel(group) : group}</text>`);
      top += GROUP_ROW;
    }
    for (const b of bars) {
      const v = toFloat(b.value);
      const from = x(Math.min(0, v));
      const w = Math.abs(x(v) - x(0));
      rows.push(html`<text x="${left}" y="${top + 16}" fill="currentColor" font-size="${LABEL_FONT}">${b.label} <tspan font-weight="bold">${b.valueText}</tspan></text>
<rect class="bar-track" x="${left}" y="${top + 24}" width="${right - left}" height="14" rx="2" fill="#999" fill-opacity="0.15"/>
${w > 0 ? html`<rect class="bar${v < 0 ? " negative" : ""}" x="${px(from)}" y="${top + 24}" width="${px(Math.max(w, 1))}" height="14" rx="2" fill="${v < 0 ? SERIES_COLOURS[0]! : SERIES_COLOURS[1]!}"/>` : ""}`);
      top += BAR_ROW;
    }
  }
  const height = top + 4;
  const ordered = groups.flatMap((g) => c.bars.filter((b) => b.group === g));
  return html`<figure class="chart" id="${c.id}">
${svgOpen(c, height)}
<g aria-hidden="true">
${rows}
</g>
</svg>
<figcaption>${c.description}</figcaption>
${dataTable(c, [c.labelHeading, c.valueHeading], ordered.map((b) => [b.label, b.valueText]))}
</figure>`;
}

/** A compact axis label for money: "€1.2K". */
export function compactMoneyAxis(currency: string): (value: number) => string {
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat("en-GB", { style: "currency", currency, currencyDisplay: "narrowSymbol", notation: "compact", minimumFractionDigits: 0, maximumFractionDigits: 1 });
  } catch {
    format = new Intl.NumberFormat("en-GB", { notation: "compact", maximumFractionDigits: 1 });
  }
  return (value) => format.format(value);
}
