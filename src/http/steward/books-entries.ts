/**
 * Ledger entries on the steward pages: the list (a page at a time), one entry with its
 * private side and its receipt, and the forms that add one — every kind the API takes,
 * a correction of an earlier entry, and the solidarity draw whose receipt can be printed.
 * Every form calls `recordEntry`, the service of `POST …/ledger/entries` and `hyphae ledger add`.
 */
import type { FastifyInstance } from "fastify";
import { ENTRY_KINDS, isOutflow, type EntryKind } from "../../domain/books/model.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import * as books from "../../services/books.ts";
import * as ledger from "../../services/ledger.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { booksPage, day, filled, formatAmount, formatMoney, fundOptions, FUND_LABELS, KIND_LABELS, minute, tidy, unitLabel, wholeNumber } from "./books-common.ts";
import { emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";

/** Entries per page of the list. */
export const ENTRIES_PER_PAGE = 50;
/** More members than this and the form asks for a pseudonym instead of listing everyone. */
const MEMBER_SELECT_MAX = 500;

/** The fields a form sends to recordEntry, by their API names. */
const ENTRY_FIELDS = ["kind", "resource", "quantity", "fund", "marketValue", "charged", "member", "counterpartyPod", "counterpartyLabel", "publicMemo", "privateMemo", "occurredAt", "corrects"] as const;

const LABELS: Record<string, string> = {
  kind: "Kind of entry",
  resource: "Resource",
  quantity: "Quantity",
  fund: "Fund",
  marketValue: "Market value",
  charged: "Charged",
  member: "Member",
  counterpartyPod: "Another pod",
  counterpartyLabel: "Someone outside the network",
  publicMemo: "Public memo",
  privateMemo: "Private memo",
  occurredAt: "Date",
  corrects: "Entry to correct",
};

const NOTICES: Record<string, string> = {
  "entry-recorded": "The entry was recorded and chained into the books.",
  "draw-recorded": "The draw was recorded and its commons receipt issued.",
  "correction-recorded": "The correction was recorded. The entry it corrects stays as it was; the books count both.",
};

const KIND_PURPOSE: Readonly<Record<EntryKind, string>> = {
  contribution: "Something given to the commons: food, hours of care, tools, money.",
  draw: "Something taken from the commons by a member or neighbour, usually at a solidarity price of 0. It issues a commons receipt you can print.",
  expenditure: "Money or materials the pod spent.",
  transfer_out: "Something sent to another pod.",
  transfer_in: "Something received from another pod.",
  correction: "Fixes an earlier entry with a new one: the books never edit or delete an entry.",
};

type MemberView = books.MemberView;
type EntryView = ledger.EntryView;

/** Who an entry names, as stewards see it (the member's name is private: steward pages only). */
export function whoOf(e: EntryView, names: Map<string, string>): SafeHtml | string {
  if (e.member) return html`<code>${e.member}</code>${names.has(e.member) ? html` (${names.get(e.member)})` : ""}`;
  if (e.counterpartyKind === "pod") return html`<span class="hash">${e.counterparty}</span>`;
  if (e.counterpartyKind === "outside") return e.counterparty ?? "";
  return html`<span class="muted">none</span>`;
}

const memberNames = (members: MemberView[]) => new Map(members.map((m) => [m.pseudonym, m.name]));

/** A table of entries, newest first, with links to each and to draws' receipts. */
export function entriesTable(ctx: StewardContext, entries: EntryView[], members: MemberView[], caption: string): SafeHtml {
  const names = memberNames(members);
  const base = `${ctx.base}/books/entries`;
  return html`<div class="table-wrap" tabindex="0"><table>
<caption class="muted small" style="text-align:left">${caption}</caption>
<thead><tr><th scope="col">No.</th><th scope="col">Date</th><th scope="col">What</th><th scope="col" class="num">Quantity</th><th scope="col">Fund</th><th scope="col" class="num">Value</th><th scope="col">Who</th><th scope="col">Public memo</th></tr></thead>
<tbody>${entries.map(
    (e) => html`<tr><td><a href="${base}/${e.seq}">${e.seq}</a></td><td>${day(e.occurredAt)}</td><td>${KIND_LABELS[e.kind]}${e.corrects ? html` of <a href="${base}/${e.corrects}">no. ${e.corrects}</a>` : ""}<br><span class="muted small">${e.resourceName}</span>${
      e.receipt ? html`<br><a href="${ctx.deps.uris.receipt(ctx.pod.slug, e.receipt).href}" class="small">receipt ${e.receipt}</a>` : ""
    }</td><td class="num">${formatAmount(e.quantity, e.unit)}</td><td>${e.fund ? FUND_LABELS[e.fund] : ""}</td><td class="num">${formatMoney(e.marketValue, e.currency)}${
      e.charged !== "0" ? html`<br><span class="muted small">charged ${formatMoney(e.charged, e.currency)}</span>` : ""
    }</td><td>${whoOf(e, names)}</td><td>${e.publicMemo}</td></tr>`,
  )}</tbody></table></div>`;
}

// ---------------------------------------------------------------------------------------
// The forms

interface FormData {
  resources: books.ResourceView[];
  members: MemberView[];
  stock: Map<string, string>;
  currency: string;
}

async function formData(ctx: StewardContext): Promise<FormData> {
  const slug = ctx.pod.slug;
  const [resources, members, balances] = await Promise.all([books.listResources(ctx.deps, slug), books.listMembers(ctx.deps, slug), ledger.getBalances(ctx.deps, slug)]);
  return { resources, members, stock: new Map(balances.stock.map((s) => [s.resource, s.quantity])), currency: balances.currency };
}

function memberField(data: FormData, state: FormState, kind: EntryKind): SafeHtml {
  const hint = kind === "draw" ? "Who drew it. The receipt names only the pseudonym." : "A member of this pod.";
  if (data.members.length > MEMBER_SELECT_MAX) {
    return field({ name: "member", label: "Member's pseudonym", hint: `${hint} Write the pseudonym (such as m-7f3a); the Members page lists them.`, autocomplete: "off" }, state);
  }
  const options = [{ value: "", label: "No member" }, ...data.members.map((m) => ({ value: m.pseudonym, label: `${m.pseudonym} — ${m.name}` }))];
  return field({ name: "member", label: "Member", type: "select", options, hint }, state);
}

function counterpartyFields(data: FormData, state: FormState, kind: EntryKind): SafeHtml {
  const pod = field({ name: "counterpartyPod", label: "Another pod", type: "url", autocomplete: "off", hint: "The pod's address (actor URL), such as https://node.example/pods/elm-row." }, state);
  const outside = field({ name: "counterpartyLabel", label: "Someone outside the network", maxlength: 200, autocomplete: "off", hint: "A shop, a council, a neighbour who is not a member (public)." }, state);
  const member = memberField(data, state, kind);
  const ordered = kind === "transfer_in" || kind === "transfer_out" ? [pod, member, outside] : kind === "expenditure" ? [outside, member, pod] : [member, outside, pod];
  return html`<fieldset><legend>Who (at most one, or none)</legend>${ordered}</fieldset>`;
}

function kindChooser(ctx: StewardContext): SafeHtml {
  const href = (k: EntryKind) => `${ctx.base}/books/entries/new?kind=${k}`;
  return html`<ul class="links">${ENTRY_KINDS.map((k) => html`<li><a href="${href(k)}">${KIND_LABELS[k]}</a>: ${KIND_PURPOSE[k]}</li>`)}</ul>`;
}

function entryForm(ctx: StewardContext, data: FormData, kind: Exclude<EntryKind, "correction">, state: FormState): SafeHtml {
  if (data.resources.length === 0) {
    return html`<p>The books have no resources yet. <a href="${ctx.base}/books/resources">Add a resource</a> first (what the pod shares, and how it is counted).</p>`;
  }
  const outflow = isOutflow(kind);
  const resourceOptions = [
    { value: "", label: "Choose a resource" },
    ...data.resources.map((r) => ({ value: r.key, label: `${r.name} (${r.key}, in ${unitLabel(r.unit)}; ${formatAmount(data.stock.get(r.key) ?? "0", r.unit)} in stock)` })),
  ];
  return html`${formStart(ctx, `${ctx.base}/books/entries`, { label: KIND_LABELS[kind] })}
<input type="hidden" name="kind" value="${kind}">
${field({ name: "resource", label: "Resource", type: "select", options: resourceOptions, required: true }, state)}
${field({ name: "quantity", label: "Quantity", required: true, inputmode: "decimal", autocomplete: "off", hint: "In the resource's unit, more than zero: a dot before any decimals (up to 6), such as 2.5." }, state)}
${field({ name: "fund", label: outflow ? "Fund" : "Fund (optional)", type: "select", options: fundOptions(!outflow), required: outflow, hint: outflow ? "Which of the three funds it comes from." : "Which fund it goes to, if any." }, state)}
${field({ name: "marketValue", label: "Market value (optional)", inputmode: "decimal", autocomplete: "off", hint: `What the market would charge, in ${data.currency}, up to 2 decimals. Leave empty for quantity × the resource's reference price (0 without one).` }, state)}
${outflow ? field({ name: "charged", label: "Charged (optional)", inputmode: "decimal", autocomplete: "off", hint: `What was actually charged, in ${data.currency}. Leave empty for 0, the solidarity price.` }, state) : ""}
${counterpartyFields(data, state, kind)}
${field({ name: "occurredAt", label: "Date (optional)", type: "date", hint: "When it happened. Leave empty for now." }, state)}
${field({ name: "publicMemo", label: "Public memo (optional)", type: "textarea", rows: 2, maxlength: 500, hint: "Shown on the public books page and in the export. Name no one here." }, state)}
${field({ name: "privateMemo", label: "Private memo (optional)", type: "textarea", rows: 2, maxlength: 2000, hint: "Only stewards see it; the public books hold only a salted digest of it." }, state)}
<button type="submit">${kind === "draw" ? "Record the draw and issue its receipt" : "Record the entry"}</button>
</form>`;
}

function entryFacts(ctx: StewardContext, e: EntryView, members: MemberView[], more: SafeHtml | string = ""): SafeHtml {
  const names = memberNames(members);
  return html`<dl class="facts">
<dt>Entry</dt><dd><a href="${ctx.base}/books/entries/${e.seq}">no. ${e.seq}</a>, ${KIND_LABELS[e.kind]}${e.corrects ? html` of <a href="${ctx.base}/books/entries/${e.corrects}">no. ${e.corrects}</a>` : ""}</dd>
<dt>Resource</dt><dd>${e.resourceName} (<code>${e.resource}</code>)</dd>
<dt>Quantity</dt><dd>${formatAmount(e.quantity, e.unit)}</dd>
<dt>Fund</dt><dd>${e.fund ? FUND_LABELS[e.fund] : "none"}</dd>
<dt>Market value</dt><dd>${formatMoney(e.marketValue, e.currency)}</dd>
<dt>Charged</dt><dd>${formatMoney(e.charged, e.currency)}</dd>
<dt>Who</dt><dd>${whoOf(e, names)}</dd>
<dt>Occurred</dt><dd>${minute(e.occurredAt)}</dd>
${more}</dl>`;
}

function correctionForm(ctx: StewardContext, target: EntryView | null, members: MemberView[], state: FormState): SafeHtml {
  const values = target && state.values.corrects === undefined ? { ...state, values: { ...state.values, corrects: String(target.seq) } } : state;
  return html`${
    target
      ? html`<h2>The entry it corrects</h2>${entryFacts(ctx, target, members)}`
      : html`<p>Find the entry's number on the <a href="${ctx.base}/books/entries">list of entries</a> (each entry there has a “Correct it” link), or write it below.</p>`
  }
<h2>The correction</h2>
${formStart(ctx, `${ctx.base}/books/entries`, { label: "Correction" })}
<input type="hidden" name="kind" value="correction">
${field({ name: "corrects", label: "Entry to correct (its number)", type: "number", min: "1", step: "1", inputmode: "numeric", required: true, hint: "A correction keeps that entry's resource, fund and counterparty." }, values)}
${field({ name: "quantity", label: "Change in quantity", required: true, inputmode: "decimal", autocomplete: "off", hint: "Signed: -2 means 2 fewer than recorded, 3 means 3 more. The entry cannot end below zero." }, values)}
${field({ name: "marketValue", label: "Change in market value (optional)", inputmode: "decimal", autocomplete: "off", hint: "Signed. Leave empty to change it in proportion to the quantity." }, values)}
${field({ name: "charged", label: "Change in what was charged (optional)", inputmode: "decimal", autocomplete: "off", hint: "Signed. Leave empty to change it in proportion to the quantity." }, values)}
${field({ name: "occurredAt", label: "Date (optional)", type: "date", hint: "When the correction applies. Leave empty for now." }, values)}
${field({ name: "publicMemo", label: "Public memo (optional)", type: "textarea", rows: 2, maxlength: 500, hint: "Why, in public words, such as “counted twice”." }, values)}
${field({ name: "privateMemo", label: "Private memo (optional)", type: "textarea", rows: 2, maxlength: 2000, hint: "Only stewards see it." }, values)}
<button type="submit">Record the correction</button>
</form>`;
}

async function newEntryPage(ctx: StewardContext, kindText: string | undefined, state: FormState, correctsText?: string): Promise<string> {
  const kind = (ENTRY_KINDS as readonly string[]).includes(kindText ?? "") ? (kindText as EntryKind) : null;
  state = tidy(state);
  if (!kind) {
    return booksPage(
      ctx,
      { title: "Add an entry", section: "new" },
      html`<h1>Add an entry</h1>${errorSummary(state, LABELS)}
<p>What happened? Each kind has its own form with the fields it needs.</p>${kindChooser(ctx)}
<p class="muted small">Many entries at once? <a href="${ctx.base}/books/import">Import a CSV file</a>.</p>`,
    );
  }
  const data = await formData(ctx);
  let body: SafeHtml;
  if (kind === "correction") {
    const seq = wholeNumber(state.values.corrects ?? correctsText);
    const target = seq ? await ledger.getEntry(ctx.deps, ctx.pod.slug, seq).catch(() => null) : null;
    body = correctionForm(ctx, target && target.kind !== "correction" ? target : null, data.members, state);
  } else {
    body = entryForm(ctx, data, kind, state);
  }
  const title = kind === "correction" ? "Correct an entry" : kind === "draw" ? "Record a draw" : `Add an entry: ${KIND_LABELS[kind].toLowerCase()}`;
  return booksPage(
    ctx,
    { title, section: "new" },
    html`<h1>${title}</h1>${errorSummary(state, LABELS)}
<p>${KIND_PURPOSE[kind]} <a href="${ctx.base}/books/entries/new">Another kind of entry</a>.</p>
${body}`,
  );
}

// ---------------------------------------------------------------------------------------
// Routes

export function registerEntryForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ before?: string }>(app, deps, "/books/entries", async (ctx, query) => {
    const slug = ctx.pod.slug;
    const head = await ledger.getLedgerHead(deps, slug);
    const before = wholeNumber(query.before);
    const upTo = before !== null ? Math.min(before - 1, head.seq) : head.seq;
    const from = Math.max(0, upTo - ENTRIES_PER_PAGE);
    const [entries, members] = await Promise.all([upTo > 0 ? ledger.listEntries(deps, slug, { afterSeq: from, limit: upTo - from }) : Promise.resolve([]), books.listMembers(deps, slug)]);
    const newest = [...entries].reverse();
    const pager = html`<nav class="pager" aria-label="More entries">${
      upTo < head.seq ? html`<a href="${ctx.base}/books/entries${upTo + ENTRIES_PER_PAGE < head.seq ? `?before=${upTo + ENTRIES_PER_PAGE + 1}` : ""}">Newer entries</a>` : ""
    }${from > 0 ? html`<a href="${ctx.base}/books/entries?before=${from + 1}">Older entries</a>` : ""}</nav>`;
    return booksPage(
      ctx,
      { title: "Entries", section: "entries" },
      html`<h1>Entries</h1>
<p>${head.seq === 0 ? "The books have no entries yet." : `The books hold ${head.seq} ${head.seq === 1 ? "entry" : "entries"}. Open one to see its private side, its receipt, or to correct it.`}</p>
<p><a class="button" href="${ctx.base}/books/entries/new">Add an entry</a> <a class="button secondary" href="${ctx.base}/books/entries/new?kind=draw">Record a draw</a></p>
${newest.length ? entriesTable(ctx, newest, members, `Entries ${from + 1} to ${upTo}, newest first.`) : ""}
${pager}`,
    );
  });

  stewardGet<{ kind?: string; corrects?: string }>(app, deps, "/books/entries/new", (ctx, query) => newEntryPage(ctx, query.kind, emptyState(), query.corrects));

  stewardGet<{ done?: string }>(app, deps, "/books/entries/:seq", async (ctx, query) => {
    const seqText = (ctx.request.params as { seq: string }).seq;
    const e = await ledger.getEntry(deps, ctx.pod.slug, wholeNumber(seqText) ?? 0);
    const members = await books.listMembers(deps, ctx.pod.slug);
    const receiptUrl = e.receipt ? deps.uris.receipt(ctx.pod.slug, e.receipt).href : null;
    return booksPage(
      ctx,
      { title: `Entry ${e.seq}`, section: "entries" },
      html`<h1>Entry ${e.seq}: ${KIND_LABELS[e.kind].toLowerCase()}</h1>
${notice(query, NOTICES)}
${
  receiptUrl
    ? html`<div class="receipt-box"><h2 style="margin-top:0">Commons receipt ${e.receipt}</h2>
<p><a href="${receiptUrl}" id="receipt-link">Open the receipt to print it</a> (your browser's Print, or Ctrl+P). Its address is the only key to it: give it only to the member it was issued to.</p></div>`
    : ""
}
${entryFacts(
  ctx,
  e,
  members,
  html`<dt>Public memo</dt><dd>${e.publicMemo || html`<span class="muted">none</span>`}</dd>
<dt>Private memo</dt><dd>${e.privateMemo || html`<span class="muted">none</span>`} <span class="muted small">(stewards only)</span></dd>
<dt>Recorded</dt><dd>${minute(e.recordedAt)}</dd>
<dt>Hash</dt><dd class="hash">${e.hash}</dd>`,
)}
${e.kind === "correction" ? html`<p>A correction cannot itself be corrected: <a href="${ctx.base}/books/entries/new?kind=correction&amp;corrects=${e.corrects}">correct entry ${e.corrects} again</a>.</p>` : html`<p><a href="${ctx.base}/books/entries/new?kind=correction&amp;corrects=${e.seq}">Correct it</a></p>`}
<p><a href="${ctx.base}/books/entries">All entries</a></p>`,
    );
  });

  stewardPost(app, deps, "/books/entries", {
    handle: async (ctx, input) => {
      const e = await ledger.recordEntry(deps, ctx.pod.slug, filled(input.values, ENTRY_FIELDS));
      const done = e.kind === "draw" ? "draw-recorded" : e.kind === "correction" ? "correction-recorded" : "entry-recorded";
      return `${ctx.base}/books/entries/${e.seq}?done=${done}`;
    },
    render: (ctx, state) => newEntryPage(ctx, state.values.kind, state),
  });
}
