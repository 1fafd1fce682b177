/**
 * What the steward pages of the open books share: their sub-navigation, their labels for
 * kinds and funds, their small CSS, and the wording of refusals (the services' messages name
 * the API's field first, which the form's label already says).
 */
import { FUNDS, OM2_UNITS, type EntryKind, type Fund } from "../../domain/books/model.ts";
import { DomainError, notFound } from "../../domain/errors.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import { formatAmount, formatMoney, FUND_LABELS } from "../pages/books-format.ts";
import type { FormState, StewardContext } from "./forms.ts";
import { stewardPage } from "./layout.ts";

export { formatAmount, formatMoney, FUND_LABELS };

export const BOOKS_STEWARD_STYLE = `
nav.books ul{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;gap:.3rem .9rem;font-size:.95rem}
nav.books a[aria-current=page]{font-weight:700;text-decoration:none;color:var(--fg)}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:.6rem 0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.big{font-size:1.6rem;font-weight:700;margin:.2rem 0;font-variant-numeric:tabular-nums}
.hash{font-family:ui-monospace,monospace;font-size:.85em;word-break:break-all}
.receipt-box{border:2px solid var(--accent);border-radius:.5rem;padding:.6rem .9rem;margin:1rem 0;background:var(--card)}
ul.links li{margin:.35rem 0}
@media print{nav.steward,nav.books,.stewardbar,footer,form{display:none!important}}
`;

export type BooksSection = "overview" | "entries" | "new" | "import" | "resources" | "members" | "indicators" | "summaries" | "settings";

const SUBPAGES: Array<[BooksSection, string, string]> = [
  ["overview", "Overview", ""],
  ["entries", "Entries", "/entries"],
  ["new", "Add an entry", "/entries/new"],
  ["import", "Import a CSV", "/import"],
  ["resources", "Resources", "/resources"],
  ["members", "Members", "/members"],
  ["indicators", "Indicators", "/indicators"],
  ["summaries", "Summaries", "/summaries"],
  ["settings", "Settings", "/settings"],
];

/** A books page: the steward frame, the books' own links, then the body. */
export function booksPage(ctx: StewardContext, options: { title: string; section: BooksSection }, body: SafeHtml): string {
  const books = `${ctx.base}/books`;
  const nav = html`<nav class="books" aria-label="Books pages"><ul>${SUBPAGES.map(
    ([key, label, path]) => html`<li><a href="${books}${path}"${key === options.section ? html` aria-current="page"` : ""}>${label}</a></li>`,
  )}</ul></nav>`;
  return stewardPage(ctx, { title: options.title, section: "books", style: BOOKS_STEWARD_STYLE }, html`${nav}${body}`);
}

export const KIND_LABELS: Readonly<Record<EntryKind, string>> = {
  contribution: "Contribution",
  draw: "Draw",
  expenditure: "Expenditure",
  transfer_out: "Transfer to another pod",
  transfer_in: "Transfer from another pod",
  correction: "Correction",
};

export const FUND_HINTS: Readonly<Record<Fund, string>> = {
  survival: "direct relief: food, medicine, repairs",
  capacity_building: "what keeps the work going: bikes, storage, legal help",
  power_shifting: "what reduces dependency: land trusts, mesh networks, co-operatives",
};

export const fundOptions = (withNone: boolean) => [
  ...(withNone ? [{ value: "", label: "No fund" }] : [{ value: "", label: "Choose a fund" }]),
  ...FUNDS.map((f) => ({ value: f, label: `${FUND_LABELS[f]} (${FUND_HINTS[f]})` })),
];

/** The units a resource can be counted in: OM2's, and the pod's currency for money. */
export const unitOptions = (currency: string) => [
  { value: "", label: "Choose a unit" },
  ...Object.entries(OM2_UNITS).map(([value, u]) => ({ value, label: u.symbol ? `${u.label} (${u.symbol})` : u.label })),
  { value: currency, label: `money (${currency})` },
];

export const unitLabel = (unit: string) => OM2_UNITS[unit]?.label ?? unit;

const day = (d: Date) => d.toISOString().slice(0, 10);
const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
export { day, minute };

/** A form's values with the empty ones left out and the rest trimmed (services treat "absent" as "default"). */
export function filled(values: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = (values[name] ?? "").trim();
    if (v !== "") out[name] = v;
  }
  return out;
}

/** A copy of `error` that names `field` (for refusals that name none but plainly concern one input). */
export function naming(error: unknown, field: string): unknown {
  if (!(error instanceof DomainError) || typeof error.details?.field === "string") return error;
  return new DomainError(error.kind, error.code, error.message, { ...error.details, field });
}

/**
 * The refusal in plain words next to each field: "quantity must be more than zero" becomes
 * "This must be more than zero." beside the Quantity input.
 */
export function tidy(state: FormState): FormState {
  const errors: Record<string, string> = {};
  for (const [name, message] of Object.entries(state.errors)) errors[name] = plainMessage(name, message);
  return { ...state, errors };
}

function plainMessage(name: string, message: string): string {
  const own = name.replace(/[^\w]/g, "");
  const prefix = new RegExp(`^(?:${own}(?::\\s*|\\s+(?=(?:must|is|has|cannot|would)\\b))|[a-zA-Z.]+:\\s+)`).exec(message);
  let text = prefix ? message.slice(prefix[0].length) : message;
  if (/^(is required|must not be empty|This cannot be empty\.)$/.test(text)) return "This cannot be empty.";
  if (/^(must|is|has|cannot|would)\b/.test(text)) text = `This ${text}`;
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(text) ? text : `${text}.`;
}

/** A positive whole number from a query or path, or null. */
export function wholeNumber(text: string | undefined): number | null {
  return text !== undefined && /^[1-9]\d{0,14}$/.test(text) ? Number(text) : null;
}

/** `value`, or a 404 page saying what is missing. */
export function notFoundIfMissing<T>(value: T | undefined | null, code: string, message: string): T {
  if (value === undefined || value === null) throw notFound(code, message);
  return value;
}
