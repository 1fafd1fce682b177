/**
 * The open-books pages as pure functions of plain data (no I/O, no clock): the books page,
 * a commons receipt, a period summary and the "what the city would have charged us"
 * invoice. books.ts reads the services and hands their views to these functions.
 *
 * What these pages may show is fixed by the books' privacy rule: aggregates, resources,
 * funds, the chain head; a member's pseudonym only on the receipt page (reached by its
 * unguessable number). Never a member's name, contact, a private memo or a receipt number
 * anywhere else. The input types below carry nothing more than that, on purpose.
 */
import type { Fund, PeriodKind } from "../../domain/books/model.ts";
import { OM2_UNITS } from "../../domain/books/model.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import {
  FUND_LABELS,
  FUND_ORDER,
  formatAmount,
  formatDay,
  formatMoney,
  formatMonth,
  formatShortDay,
  isoDay,
  KIND_LABELS,
} from "./books-format.ts";
import { barChart, CHART_STYLE, compactMoneyAxis, lineChart, stackedBarChart } from "./charts.ts";

// ---------------------------------------------------------------------------------------
// Style: the layout's look, plus tables of figures, the receipt, the invoice and paper.

export const BOOKS_STYLE = `${CHART_STYLE}
.lede{font-size:1.05rem}.big{font-size:clamp(1.6rem,7vw,2.3rem);font-weight:700;line-height:1.15;margin:.2rem 0;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table.figures{border-collapse:collapse;width:100%;font-size:.95rem;margin:.4rem 0}
.figures th,.figures td{overflow-wrap:break-word;padding:.35rem .4rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
.figures thead th{font-size:.85rem;color:var(--muted);font-weight:600}
.figures .num{text-align:right;overflow-wrap:normal;font-variant-numeric:tabular-nums;white-space:nowrap}
.figures tfoot th,.figures tfoot td{border-top:2px solid var(--fg);border-bottom:0;font-weight:700}
.figures tr.sub th,.figures tr.sub td{font-weight:600;border-bottom:1px solid var(--muted)}
.figures th .muted{font-weight:400}
.hash{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.85em;word-break:break-all}
.trend{white-space:nowrap}.suppressed{font-style:italic;color:var(--muted)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.6rem 0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.paper{background:var(--card);border:1px solid var(--line);border-radius:.4rem;padding:1.1rem;margin:1rem 0;position:relative;overflow:hidden}
.paper header{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.4rem 1rem;border-bottom:2px solid var(--fg);padding-bottom:.6rem;margin-bottom:.6rem}
.paper h1{margin:0;font-size:1.35rem;letter-spacing:.04em;text-transform:uppercase}
.stamp{display:block;width:max-content;max-width:100%;margin:1.3rem auto 1.5rem;transform:rotate(-7deg);padding:.25rem .7rem;border:.3rem double #b3261e;border-radius:.4rem;color:#b3261e;font-weight:800;font-size:clamp(1.15rem,6.2vw,2.1rem);letter-spacing:.06em;white-space:nowrap;text-transform:uppercase;opacity:.85}
@media (prefers-color-scheme:dark){.stamp{color:#ff8a80;border-color:#ff8a80}}
.invoice tr.line th{font-weight:400;padding-left:1rem}.invoice tr.sub th::first-letter{text-transform:uppercase}
.invoice-form{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:end}.invoice-form label{display:flex;flex-direction:column;font-size:.9rem}
.invoice-form input{font:inherit;padding:.25rem .4rem;border:1px solid var(--line);border-radius:.3rem;background:var(--card);color:var(--fg)}
.invoice-form button{font:inherit;padding:.3rem .8rem;border-radius:.3rem;border:1px solid var(--accent);background:var(--accent);color:var(--bg)}
@media print{
:root{--fg:#000;--muted:#444;--bg:#fff;--card:#fff;--line:#aaa;--accent:#1d4d27;color-scheme:light}
body{font-size:11pt;background:#fff}main{max-width:none;padding:0}footer,.no-print{display:none!important}
a{color:inherit;text-decoration:none}.paper{border:0;padding:0;margin:0}.card{break-inside:avoid}
h2{break-after:avoid}.stamp{color:#b3261e;border-color:#b3261e;opacity:.9}
}
@media (max-width:400px){main{padding:.8rem}.paper{padding:.8rem}.figures th,.figures td{padding:.3rem .25rem}}
`;

// ---------------------------------------------------------------------------------------
// Inputs (shapes of the services' views, limited to what is public)

export interface PodInfo {
  slug: string;
  name: string;
  /** `@slug@host` */
  handle: string;
  actorUrl: string;
  retired: boolean;
}

export interface BalancesInput {
  currency: string;
  entries: number;
  valueReclaimed: string;
  stock: Array<{ resource: string; name: string; unit: string; category: string; quantity: string }>;
  funds: Array<{ fund: Fund; inflowValue: string; outflowValue: string; entries: number }>;
}

export interface SeriesPointInput {
  start: Date;
  valueReclaimed: string;
  cumulativeValueReclaimed: string;
  outflowByFund: Partial<Record<Fund, string>>;
}

type Suppressible = string | "fewer than 3";

export interface IndicatorInput {
  key: string;
  name: string;
  description?: string;
  value: Suppressible;
  previous: string | null;
  trend: "up" | "down" | "flat" | null;
  note?: string;
}

export interface SummaryLink {
  label: string;
  periodKind: PeriodKind;
  periodStart: Date;
  url: string;
  version: number;
  publishedAt: Date;
  entryCount: number;
}

export interface BooksPageInput {
  pod: PodInfo;
  balances: BalancesInput;
  series: { bucket: "week" | "month"; points: SeriesPointInput[] };
  indicators: { from: Date; to: Date; values: IndicatorInput[] };
  summaries: SummaryLink[];
  head: { seq: number; hash: string };
  links: { export: string; invoice: string; pod: string };
}

// ---------------------------------------------------------------------------------------
// Small pieces

const time = (at: Date, text = formatDay(at)) => html`<time datetime="${at.toISOString()}">${text}</time>`;
const day = (at: Date) => html`<time datetime="${isoDay(at)}">${formatDay(at)}</time>`;
const plural = (n: number, one: string, many: string) => `${n.toLocaleString("en-GB")} ${n === 1 ? one : many}`;

function shown(value: Suppressible, format: (v: string) => string): SafeHtml {
  return value === "fewer than 3"
    ? html`<span class="suppressed" title="Figures about fewer than 3 people are not published">fewer than 3</span>`
    : html`${format(value)}`;
}

function unitGroupLabel(unit: string): string {
  const known = OM2_UNITS[unit];
  return known ? `In ${known.label}` : `In ${unit}`;
}

export function bucketLabel(bucket: "week" | "month", start: Date): { label: string; shortLabel: string } {
  return bucket === "week"
    ? { label: `week of ${formatDay(start)}`, shortLabel: formatShortDay(start) }
    : { label: formatMonth(start), shortLabel: formatMonth(start) };
}

function trendText(i: IndicatorInput): SafeHtml {
  if (i.trend === null || i.previous === null) return html``;
  const arrow = i.trend === "up" ? "↑" : i.trend === "down" ? "↓" : "→";
  const words = i.trend === "up" ? "up from" : i.trend === "down" ? "down from" : "the same as";
  return html`<span class="trend"><span aria-hidden="true">${arrow}</span> ${words} ${shown(i.previous, (v) => formatAmount(v, "one"))} before</span>`;
}

function indicatorList(values: IndicatorInput[]): SafeHtml {
  return html`<ul>${values.map(
    (i) => html`<li><strong>${i.name}</strong>: ${shown(i.value, (v) => formatAmount(v, "one"))} ${trendText(i)}${i.note ? html`<br><span class="muted">${i.note}</span>` : ""}</li>`,
  )}</ul>`;
}

// ---------------------------------------------------------------------------------------
// The books page

export function booksPageBody(input: BooksPageInput): SafeHtml {
  const { pod, balances, head } = input;
  const money = (v: string) => formatMoney(v, balances.currency);
  const intro = html`<p><a href="${input.links.pod}">${pod.name}</a> <span class="handle">${pod.handle}</span></p>
<h1>Open books</h1>
${pod.retired ? html`<p class="notice">This pod has retired; its books stay here as they were.</p>` : ""}`;

  if (head.seq === 0) {
    return html`${intro}
<p class="lede">${pod.name} keeps its books in the open: what comes in, what goes out, and what was given outside the market.</p>
<div class="card"><p style="margin:0"><strong>Nothing is recorded in these books yet.</strong> When the stewards record the first entry, the balances, the funds and the value reclaimed will appear here.</p></div>`;
  }

  const outflowFunds = FUND_ORDER.filter((f) => balances.funds.some((x) => x.fund === f));
  const fundRows = FUND_ORDER.map((fund) => balances.funds.find((f) => f.fund === fund)).filter((f) => f !== undefined);
  const points = input.series.points;
  const bucketWord = input.series.bucket === "week" ? "Week" : "Month";

  const reclaimedChart = lineChart({
    id: "chart-reclaimed",
    title: "Value we reclaimed from the market, running total",
    description:
      points.length > 0
        ? `From ${money(points[0]!.cumulativeValueReclaimed)} in the ${bucketLabel(input.series.bucket, points[0]!.start).label} to ${money(points[points.length - 1]!.cumulativeValueReclaimed)} in the ${bucketLabel(input.series.bucket, points[points.length - 1]!.start).label}.`
        : "No outflows yet.",
    periodHeading: bucketWord,
    valueHeading: "Value reclaimed so far",
    format: money,
    axisFormat: compactMoneyAxis(balances.currency),
    points: points.map((p) => ({ ...bucketLabel(input.series.bucket, p.start), value: p.cumulativeValueReclaimed })),
    empty: "nothing has left the commons yet.",
  });

  const flowsChart = stackedBarChart({
    id: "chart-outflows",
    title: `What left the commons, by fund and ${bucketWord.toLowerCase()}`,
    description: `The market value of draws, expenditure and transfers out, per ${bucketWord.toLowerCase()}, stacked by fund.`,
    periodHeading: bucketWord,
    totalHeading: "All funds",
    series: FUND_ORDER.map((f) => ({ key: f, label: FUND_LABELS[f] })),
    buckets: points.map((p) => ({ ...bucketLabel(input.series.bucket, p.start), values: p.outflowByFund as Record<string, string> })),
    format: money,
    axisFormat: compactMoneyAxis(balances.currency),
    empty: "nothing has left the commons yet.",
  });

  const stockChart = barChart({
    id: "chart-stock",
    title: "What the commons holds now",
    description:
      balances.stock.length > 0
        ? `Stock of ${plural(balances.stock.length, "resource", "resources")}: what came in, minus what went out, with corrections. Bars of the same unit share a scale.`
        : "No resources yet.",
    labelHeading: "Resource",
    valueHeading: "In stock",
    groupLabel: unitGroupLabel,
    bars: balances.stock.map((s) => ({ label: s.name, value: s.quantity, valueText: formatAmount(s.quantity, s.unit), group: s.unit })),
    empty: "no resources are catalogued yet.",
  });

  return html`${intro}
<p class="lede">What flows through ${pod.name} — what comes in, what goes out, and to which fund — is recorded here. Corrections are new entries, never silent edits, and anyone can check that nothing was rewritten.</p>

<section class="card" aria-labelledby="reclaimed">
<h2 id="reclaimed" style="margin-top:0">Value we reclaimed from the market: ${money(balances.valueReclaimed)}</h2>
<p class="muted">What the market would have charged for everything that left the commons at a solidarity price (draws and transfers to other pods), minus what was actually charged. Market values come from the reference prices the stewards record, with their source and date.</p>
${reclaimedChart}
</section>

<section aria-labelledby="stock">
<h2 id="stock">What the commons holds</h2>
${stockChart}
</section>

<section aria-labelledby="funds">
<h2 id="funds">Flows per fund</h2>
<p class="muted">Everything that leaves the commons names one of three funds: <strong>survival</strong> (direct relief: food, medicine, repairs), <strong>capacity-building</strong> (what keeps the work going) and <strong>power-shifting</strong> (what reduces dependency). Values are market-equivalent, in ${balances.currency}.</p>
${
  fundRows.length > 0
    ? html`<div class="scroll"><table class="figures">
<thead><tr><th scope="col">Fund</th><th scope="col" class="num">In</th><th scope="col" class="num">Out</th><th scope="col" class="num">Entries</th></tr></thead>
<tbody>${fundRows.map((f) => html`<tr><th scope="row">${FUND_LABELS[f.fund]}</th><td class="num">${money(f.inflowValue)}</td><td class="num">${money(f.outflowValue)}</td><td class="num">${f.entries.toLocaleString("en-GB")}</td></tr>`)}</tbody>
</table></div>`
    : html`<p class="muted">No entry has named a fund yet.</p>`
}
${outflowFunds.length > 0 ? flowsChart : ""}
</section>

${
  input.indicators.values.length > 0
    ? html`<section aria-labelledby="indicators">
<h2 id="indicators">Sovereignty indicators</h2>
<p class="muted">Dependence reduced, ${day(input.indicators.from)} to ${day(new Date(input.indicators.to.getTime() - 1))}, compared with the same length of time before.</p>
${indicatorList(input.indicators.values)}
</section>`
    : ""
}

${
  input.summaries.length > 0
    ? html`<section aria-labelledby="summaries">
<h2 id="summaries">Recent summaries</h2>
<ul>${input.summaries.map((s) => html`<li><a href="${s.url}">${s.label}</a> <span class="muted">· ${plural(s.entryCount, "entry", "entries")} · published ${day(s.publishedAt)}${s.version > 1 ? ` · version ${s.version}` : ""}</span></li>`)}</ul>
</section>`
    : ""
}

<section class="card" aria-labelledby="invoice">
<h2 id="invoice" style="margin-top:0">What the city would have charged us</h2>
<p>An invoice, at market prices, for everything ${pod.name} provided in a period, by service category: <a href="${input.links.invoice}">print or project it at an assembly</a>.</p>
</section>

<section aria-labelledby="verify">
<h2 id="verify">Verify these books</h2>
<p>These books hold ${plural(head.seq, "entry", "entries")}. The hash of the latest entry, number ${head.seq.toLocaleString("en-GB")}, is</p>
<p class="hash">${head.hash}</p>
<p>Each entry's hash is the SHA-256 of the previous entry's hash followed by the entry's canonical JSON (RFC 8785); the first entry follows a hash of 64 zeros. Change one figure anywhere and every hash after it changes. Names, contact details and private notes are not in the export: they enter the hash only as a salted digest.</p>
<ul>
<li><a href="${input.links.export}" type="application/json">Download the public export (JSON)</a>: every entry with its hash, and the resources.</li>
<li>How to check it yourself, with a 20-line script: <cite>Open books</cite> (<code>docs/open-books.md</code>) in Hyphae's documentation.</li>
${input.summaries.length > 0 ? html`<li>Each summary above names the hash at the end of its period; pods that follow ${pod.name} keep copies of them.</li>` : ""}
</ul>
</section>`;
}

// ---------------------------------------------------------------------------------------
// A commons receipt

export interface ReceiptInput {
  number: string;
  podName: string;
  issuedAt: Date;
  occurredAt: Date;
  resourceName: string;
  unit: string;
  quantity: string;
  fund: Fund;
  marketValue: string;
  charged: string;
  currency: string;
  valueReclaimed: string;
  /** The member's pseudonym, or "" when the draw named no member. */
  member: string;
}

export function receiptBody(r: ReceiptInput, links: { books: string; pod: string }): SafeHtml {
  const money = (v: string) => formatMoney(v, r.currency);
  return html`<article class="paper receipt" aria-labelledby="receipt-title">
<header>
<div><h1 id="receipt-title">Commons receipt</h1><div class="muted">${r.podName}</div></div>
<dl class="facts" style="margin:0">
<dt>Receipt</dt><dd><strong>${r.number}</strong></dd>
<dt>Date</dt><dd>${day(r.occurredAt)}</dd>
${r.member ? html`<dt>Issued to</dt><dd><code>${r.member}</code></dd>` : ""}
</dl>
</header>
<div class="scroll"><table class="figures">
<thead><tr><th scope="col">Drawn from the commons</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Market value</th></tr></thead>
<tbody><tr><th scope="row">${r.resourceName}<br><span class="muted">${FUND_LABELS[r.fund]} fund</span></th><td class="num">${formatAmount(r.quantity, r.unit)}</td><td class="num">${money(r.marketValue)}</td></tr></tbody>
<tfoot>
<tr class="sub"><th scope="row" colspan="2">Market value</th><td class="num">${money(r.marketValue)}</td></tr>
<tr class="sub"><th scope="row" colspan="2">Solidarity price</th><td class="num">${money(r.charged)}</td></tr>
<tr><th scope="row" colspan="2">Value reclaimed from the market</th><td class="num">${money(r.valueReclaimed)}</td></tr>
</tfoot>
</table></div>
<p class="stamp" aria-label="Stamp: void by solidarity">VOID BY SOLIDARITY</p>
<p class="muted" style="font-size:.85rem">Nothing is owed. This is a draw from the commons of ${r.podName}, recorded in its open books on ${time(r.issuedAt)}${r.member ? "; the member is named only by a pseudonym" : ""}.</p>
</article>
<p class="no-print"><a href="${links.books}">The open books of ${r.podName}</a></p>`;
}

// ---------------------------------------------------------------------------------------
// A period summary

export interface SummaryTotalInput {
  resource: string;
  name: string;
  unit: string;
  kind: string;
  fund: Fund | null;
  quantity: Suppressible;
  marketValue: Suppressible;
  suppressed: boolean;
}

export interface SummaryInput {
  label: string;
  periodKind: PeriodKind;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  publishedAt: Date;
  headSeq: number;
  headHash: string;
  entryCount: number;
  content: {
    currency: string;
    participants: number | "fewer than 3";
    entries: number;
    lateEntries: number;
    totals: SummaryTotalInput[];
    valueReclaimed: Suppressible;
    indicators: IndicatorInput[];
    firstSeq: number | null;
    headSeq: number;
    headHash: string;
  };
}

const PERIOD_NAMES: Record<PeriodKind, string> = { week: "week", lunar: "lunar cycle", month: "month" };

export function summaryBody(
  s: SummaryInput,
  links: { pod: string; books: string; export: string; versions: Array<{ version: number; url: string }> },
  podName: string,
): SafeHtml {
  const c = s.content;
  const money = (v: string) => formatMoney(v, c.currency);
  const lastDay = new Date(s.periodEnd.getTime() - 1);
  const seqRange = c.firstSeq !== null && c.entries > 0 ? `entries ${c.firstSeq} to ${c.headSeq}` : "no entries";
  return html`<p><a href="${links.pod}">${podName}</a> · <a href="${links.books}">Open books</a></p>
<h1>${podName}: ${s.label}</h1>
<p class="muted">Summary of the ${PERIOD_NAMES[s.periodKind]} ${
  s.periodKind === "lunar"
    ? html`from ${time(s.periodStart, `${formatDay(s.periodStart)}, ${s.periodStart.toISOString().slice(11, 16)}`)} to ${time(s.periodEnd, `${formatDay(s.periodEnd)}, ${s.periodEnd.toISOString().slice(11, 16)}`)} UTC`
    : html`from ${time(s.periodStart, formatDay(s.periodStart))} to ${time(lastDay, formatDay(lastDay))} (UTC, last day included)`
} · published ${day(s.publishedAt)}${s.version > 1 ? ` · version ${s.version}` : ""}</p>
${s.version > 1 ? html`<p class="notice">This period was published more than once: the books changed after the first publication. Every version is kept: ${links.versions.map((v, i) => html`${i ? ", " : ""}<a href="${v.url}">version ${v.version}</a>`)}.</p>` : ""}
<dl class="facts">
<dt>Value reclaimed</dt><dd><strong>${shown(c.valueReclaimed, money)}</strong></dd>
<dt>Entries</dt><dd>${c.entries.toLocaleString("en-GB")}${c.lateEntries > 0 ? html` <span class="muted">(of which recorded late: ${c.lateEntries})</span>` : ""}</dd>
<dt>Participants</dt><dd>${c.participants === "fewer than 3" ? shown(c.participants, String) : c.participants.toLocaleString("en-GB")}</dd>
</dl>
<h2>Totals</h2>
${
  c.totals.length > 0
    ? html`<div class="scroll"><table class="figures totals">
<thead><tr><th scope="col">Resource, movement and fund</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Market value</th></tr></thead>
<tbody>${c.totals.map(
  (t) => html`<tr><th scope="row">${t.name}<br><span class="muted">${KIND_LABELS[t.kind] ?? t.kind}${t.fund ? ` · ${FUND_LABELS[t.fund]}` : ""}</span></th><td class="num">${shown(t.quantity, (v) => formatAmount(v, t.unit))}</td><td class="num">${shown(t.marketValue, money)}</td></tr>`,
)}</tbody>
</table></div>`
    : html`<p class="muted">Nothing was recorded in this period.</p>`
}
${c.indicators.length > 0 ? html`<h2>Sovereignty indicators</h2>${indicatorList(c.indicators)}` : ""}
<h2>Verify</h2>
<p>This summary covers the entries recorded in the period (${seqRange}). At the end of the period the books held ${plural(c.headSeq, "entry", "entries")}, and the hash of the last one was</p>
<p class="hash">${c.headHash}</p>
<p class="muted">Figures that would describe fewer than 3 members are shown as “fewer than 3”. Entries recorded late (they happened before the period began) are counted in the period they were recorded in. <a href="${links.export}">The public export</a> lets anyone recompute the hash.</p>`;
}

// ---------------------------------------------------------------------------------------
// The invoice: "what the city would have charged us"

export interface InvoiceInput {
  podName: string;
  podActorUrl: string;
  addressee: string | null;
  from: Date;
  /** Inclusive last day. */
  lastDay: Date;
  issuedOn: Date;
  provided: {
    currency: string;
    total: string;
    byCategory: Array<{ category: string; value: string; lines: Array<{ resource: string; name: string; unit: string; quantity: string; value: string }> }>;
  };
}

export function invoiceBody(i: InvoiceInput, form: { action: string; from: string; to: string; toName: string }, links: { books: string }): SafeHtml {
  const money = (v: string) => formatMoney(v, i.provided.currency);
  const p = i.provided;
  return html`<article class="paper invoice" aria-labelledby="invoice-title">
<header>
<div><h1 id="invoice-title">Invoice</h1><div class="muted">What the city would have charged us</div></div>
<dl class="facts" style="margin:0">
<dt>From</dt><dd><strong>${i.podName}</strong></dd>
<dt>To</dt><dd><strong>${i.addressee ?? "Whom it may concern"}</strong></dd>
<dt>Period</dt><dd>${day(i.from)} – ${day(i.lastDay)}</dd>
<dt>Issued</dt><dd>${day(i.issuedOn)}</dd>
</dl>
</header>
<p>For services that ${i.podName} provided to its neighbours in this period, valued at the market prices a neighbour would otherwise have paid.</p>
${
  p.byCategory.length > 0
    ? html`<div class="scroll"><table class="figures">
<thead><tr><th scope="col">Service</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Market value</th></tr></thead>
${p.byCategory.map(
  (c) => html`<tbody class="category">
<tr class="sub"><th scope="rowgroup" colspan="2">${c.category}</th><td class="num category-total">${money(c.value)}</td></tr>
${c.lines.map((l) => html`<tr class="line"><th scope="row">${l.name}</th><td class="num">${formatAmount(l.quantity, l.unit)}</td><td class="num line-value">${money(l.value)}</td></tr>`)}
</tbody>`,
)}
<tfoot><tr><th scope="row" colspan="2">Total at market prices</th><td class="num invoice-total">${money(p.total)}</td></tr></tfoot>
</table></div>`
    : html`<p><strong>Nothing was provided in this period</strong>, by the books.</p>`
}
<p class="muted" style="font-size:.9rem">We provided all of this at a solidarity price of zero. Market values are the reference prices the stewards recorded, with their source and date, at the time of each entry. Source: the open books of ${i.podName}, <a href="${links.books}">${links.books}</a>.</p>
</article>
<form class="invoice-form no-print card" method="get" action="${form.action}">
<label>From <input type="date" name="from" value="${form.from}" required></label>
<label>To (last day) <input type="date" name="to" value="${form.to}" required></label>
<label>Addressed to <input type="text" name="to_name" value="${form.toName}" maxlength="200" placeholder="${i.addressee ?? "The Mayor"}"></label>
<button type="submit">Show</button>
</form>`;
}
