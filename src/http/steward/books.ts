/**
 * Steward pages: the open books. This overview shows the stock, the funds, the value
 * reclaimed and the latest entries, with the public pages beside them; the forms live in
 * books-entries.ts (entries, corrections, draws), books-import.ts (CSV), books-catalogue.ts
 * (resources, members), books-reports.ts (indicators, summaries) and books-settings.ts
 * (settings, the chain check). Every form calls the
 * service the steward API and the `hyphae` command call.
 */
import type { FastifyInstance } from "fastify";
import { FUNDS } from "../../domain/books/model.ts";
import { html } from "../../lib/html.ts";
import * as books from "../../services/books.ts";
import * as ledger from "../../services/ledger.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { booksPage, formatAmount, formatMoney, FUND_LABELS } from "./books-common.ts";
import { registerCatalogueForms } from "./books-catalogue.ts";
import { entriesTable, registerEntryForms } from "./books-entries.ts";
import { registerImportForms } from "./books-import.ts";
import { registerReportForms } from "./books-reports.ts";
import { registerSettingsForms } from "./books-settings.ts";
import { stewardGet, type StewardContext } from "./forms.ts";

/** Entries on the overview; the Entries page has them all. */
const LATEST = 10;

async function overview(ctx: StewardContext): Promise<string> {
  const { deps, pod, base } = ctx;
  const slug = pod.slug;
  const head = await ledger.getLedgerHead(deps, slug);
  const [balances, resources, members, latest, settings] = await Promise.all([
    ledger.getBalances(deps, slug),
    books.listResources(deps, slug),
    books.listMembers(deps, slug),
    head.seq > 0 ? ledger.listEntries(deps, slug, { afterSeq: Math.max(0, head.seq - LATEST), limit: LATEST }) : Promise.resolve([]),
    books.getBookSettings(deps, slug),
  ]);
  const money = (v: string) => formatMoney(v, balances.currency);
  const fundsByKey = new Map(balances.funds.map((f) => [f.fund, f]));
  const start =
    resources.length === 0
      ? html`<div class="done"><p><strong>To begin:</strong> <a href="${base}/books/resources">add the resources</a> the pod shares (what they are, how they are counted, what the market charges), <a href="${base}/books/members">register members</a> who draw from the commons, then record entries one by one or import a spreadsheet.</p></div>`
      : "";
  return booksPage(
    ctx,
    { title: "Books", section: "overview" },
    html`<h1>Open books</h1>
${start}
<p><a class="button" href="${base}/books/entries/new">Add an entry</a> <a class="button" href="${base}/books/entries/new?kind=draw">Record a draw</a> <a class="button secondary" href="${base}/books/entries/new?kind=correction">Correct an entry</a> <a class="button secondary" href="${base}/books/import">Import a CSV</a></p>

<h2>Value reclaimed from the market</h2>
<p class="big">${money(balances.valueReclaimed)}</p>
<p class="muted small">What the market would have charged for everything drawn or sent out at a solidarity price, over ${balances.entries} ${balances.entries === 1 ? "entry" : "entries"}.</p>

<h2>Stock</h2>
${
  balances.stock.length
    ? html`<div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Resource</th><th scope="col">Category</th><th scope="col" class="num">In stock</th></tr></thead>
<tbody>${balances.stock.map((s) => html`<tr><td>${s.name} <code class="small">${s.resource}</code></td><td>${s.category}</td><td class="num">${formatAmount(s.quantity, s.unit)}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">No resources yet.</p>`
}

<h2>Funds</h2>
<div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Fund</th><th scope="col" class="num">In</th><th scope="col" class="num">Out</th><th scope="col" class="num">Entries</th></tr></thead>
<tbody>${FUNDS.map((f) => {
      const row = fundsByKey.get(f);
      return html`<tr><td>${FUND_LABELS[f]}</td><td class="num">${money(row?.inflowValue ?? "0")}</td><td class="num">${money(row?.outflowValue ?? "0")}</td><td class="num">${row?.entries ?? 0}</td></tr>`;
    })}</tbody></table></div>
<p class="muted small">Market value that came in and went out of each fund. Currency: ${balances.currency}.</p>

<h2>Latest entries</h2>
${latest.length ? entriesTable(ctx, [...latest].reverse(), members, `The last ${latest.length} of ${head.seq}, newest first.`) : html`<p class="muted">No entries yet.</p>`}
<p><a href="${base}/books/entries">All entries</a></p>

<h2>The public side</h2>
<ul class="links">
<li><a href="${deps.uris.books(slug).href}">The public books page</a>: balances, funds, value reclaimed and indicators, with no member named.</li>
<li><a href="${deps.uris.booksExport(slug).href}">The public export</a> (JSON) that anyone can verify${head.seq ? html`; the chain's head is entry ${head.seq}, <span class="hash">${head.hash.slice(0, 16)}…</span>` : ""}.</li>
<li><a href="${deps.uris.books(slug).href}/invoice">“What the city would have charged us”</a>, to print for an assembly.</li>
<li><a href="${base}/books/summaries">Summaries</a> published for each period.</li>
</ul>
<p><a class="button secondary" href="${base}/books/verify">Verify the chain</a> <span class="muted small">Recomputes every entry's hash and names the first that does not match.</span></p>
<p class="muted small">Currency ${balances.currency}; draws larger than the stock ${settings.allowOverdraw ? "allowed" : "refused"}. <a href="${base}/books/settings">Books settings</a></p>`,
  );
}

export function registerBookForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet(app, deps, "/books", (ctx) => overview(ctx));
  registerEntryForms(app, deps);
  registerImportForms(app, deps);
  registerCatalogueForms(app, deps);
  registerReportForms(app, deps);
  registerSettingsForms(app, deps);
}
