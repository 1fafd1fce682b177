/**
 * Pieces the congress pages of the steward app share (offers and needs, claims, the
 * congress view): plain-words messages for the services' codes, inputs with their own ids
 * (a page with one small form per row needs more than one "quantity"), units, funds and
 * dates as the forms show them. Presentation only: the services decide.
 */
import { FUNDS, OM2_UNITS } from "../../domain/books/model.ts";
import { lastDayOf } from "../../domain/congress/proposals.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import type { FormState, StewardContext } from "./forms.ts";

/** Extra CSS of these pages. */
export const CONGRESS_STYLE = `
.urgent{color:#9b1c1c;font-weight:700}@media (prefers-color-scheme:dark){.urgent{color:#ffb4ab}}
.item{border:1px solid var(--line);border-radius:.5rem;padding:.6rem .8rem;margin:0 0 .8rem;background:var(--card)}
.item h3,.item h4{margin:.1rem 0 .3rem;font-size:1.05rem}.item ul{margin:.3rem 0;padding-left:1.2rem}
.item.urgent-item{border-left:.35rem solid #9b1c1c}
.status{display:inline-block;font-size:.85rem;padding:0 .45rem;border:1px solid var(--line);border-radius:1rem}
.row-form{display:flex;flex-wrap:wrap;gap:.4rem;align-items:flex-end;margin:.5rem 0 0}.row-form .field{margin:0;flex:1 1 9rem}
.row-form button{flex:0 0 auto}.row-form .error{flex-basis:100%}
ul.items{list-style:none;padding:0}
`;

/** Words for the services' codes whose own message names an API field rather than a form's. */
const PLAIN: Record<string, string | ((message: string) => string)> = {
  NOT_POSITIVE: "This must be more than zero.",
  INVALID_DECIMAL: "This must be a number, such as 12 or 0.5 (a dot before the decimals).",
  INVALID_QUANTITY: "This must be a number more than zero, such as 15 or 2.5.",
  TOO_PRECISE: "Use at most 6 digits after the point.",
  TOO_LARGE: "This number is too large.",
  NEGATIVE: "This cannot be negative.",
  FIELD_REQUIRED: "This cannot be empty.",
  INVALID_DATE: "Give a date, such as 2026-12-05.",
  EXPIRY_IN_PAST: "This day has passed: the offer or need must stay open until today or later.",
  WINDOW_IN_PAST: "This day has passed already: choose today or a later day.",
  WINDOW_ENDS_BEFORE_START: "The last day must come after the first day.",
  UNKNOWN_UNIT: "Choose a unit from the list.",
  UNKNOWN_RESOURCE: "Choose a resource from the list, or none.",
  INVALID_URI: "This must be a web address starting with https://.",
  INVALID_FUND: "Choose a fund from the list.",
  INVALID_TEXT: "Write plain text here: no HTML and no control characters.",
  TOO_LONG: (m) => {
    const n = /at most (\d+)/.exec(m)?.[1];
    return n ? `This is too long: at most ${n} characters.` : "This is too long.";
  },
  MINIMUM_ABOVE_TOTAL: "The smallest claim cannot be more than the whole amount.",
  MINIMUM_NOT_QUANTITY: "When each claim takes exactly one lot, the smallest claim is that lot: leave this empty.",
  TOTAL_BELOW_QUANTITY: "The whole amount cannot be less than one lot.",
  TOTAL_NOT_WHOLE_LOTS: "With lots, the whole amount must be a whole number of lots.",
  TOTAL_BELOW_CLAIMED: (m) => `${/Claims took \S+/.exec(m)?.[0] ?? "Claims took some"} already: the amount cannot be less than that.`,
  LOTS_CLAIMED: "Claims already took lots of this size: the lot size cannot change.",
  REASON_REQUIRED: "Say what does not match.",
};

/**
 * A refused form's state in plain words: each field's message from PLAIN when its code has
 * one, and the summary naming the field by its label.
 */
export function plainState(state: FormState, labels: Record<string, string> = {}): FormState {
  if (!state.code) return state;
  const errors: Record<string, string> = {};
  for (const [name, message] of Object.entries(state.errors)) {
    const plain = PLAIN[state.code];
    errors[name] = plain === undefined ? message : typeof plain === "string" ? plain : plain(message);
  }
  const [first] = Object.entries(errors);
  const message = first && labels[first[0]] ? `${labels[first[0]]}: ${first[1]}` : first ? first[1] : state.message;
  return { ...state, errors, ...(message !== undefined && { message }) };
}

/** The same plain words for a message shown on its own (no field). */
export function plainMessage(code: string | undefined, message: string): string {
  const plain = code ? PLAIN[code] : undefined;
  return plain === undefined ? message : typeof plain === "string" ? plain : plain(message);
}

export interface RowFieldSpec {
  id: string;
  name: string;
  label: string;
  type?: "text" | "number" | "date" | "select";
  value?: string;
  hint?: string;
  error?: string;
  required?: boolean;
  options?: Array<{ value: string; label: string }>;
  maxlength?: number;
}

/** A labelled input with an id of its own (several forms of one page share input names). */
export function rowField(spec: RowFieldSpec): SafeHtml {
  const described = [spec.hint ? `${spec.id}-hint` : "", spec.error ? `${spec.id}-error` : ""].filter(Boolean).join(" ");
  const common = html` id="${spec.id}" name="${spec.name}"${spec.required ? html` required` : ""}${described ? html` aria-describedby="${described}"` : ""}${spec.error ? html` aria-invalid="true"` : ""}`;
  const value = spec.value ?? "";
  const type = spec.type ?? "text";
  const control =
    type === "select"
      ? html`<select${common}>${(spec.options ?? []).map((o) => html`<option value="${o.value}"${o.value === value ? html` selected` : ""}>${o.label}</option>`)}</select>`
      : type === "number"
        ? html`<input type="number" step="any" min="0" inputmode="decimal"${common} value="${value}">`
        : html`<input type="${type}"${common} value="${value}"${spec.maxlength ? html` maxlength="${spec.maxlength}"` : ""}>`;
  return html`<div class="field${spec.error ? " has-error" : ""}"><label for="${spec.id}">${spec.label}</label>${spec.hint ? html`<span class="hint" id="${spec.id}-hint">${spec.hint}</span>` : ""}${control}${
    spec.error ? html`<span class="error" id="${spec.id}-error">${spec.error}</span>` : ""
  }</div>`;
}

/** The message on top of a page whose refused form is one of many rows: links to the row's field. */
export function rowErrorSummary(state: FormState | null, target: string | null): SafeHtml {
  if (!state || (!state.message && Object.keys(state.errors).length === 0)) return html``;
  return html`<div class="error-summary" role="alert" tabindex="-1" id="error-summary">
<h2>Nothing was saved</h2>
<p>${target ? html`<a href="#${target}">${state.message ?? "Please check the form."}</a>` : (state.message ?? "Please check the form.")}</p>
${state.code ? html`<p class="muted small">Error code: <code>${state.code}</code></p>` : ""}
</div>`;
}

/** Units a steward picks from: OM2 units by name, and the pod's currency. */
export function unitOptions(first: { value: string; label: string } | null, currency: string | null): Array<{ value: string; label: string }> {
  return [
    ...(first ? [first] : []),
    ...Object.entries(OM2_UNITS).map(([value, u]) => ({ value, label: u.symbol ? `${u.label} (${u.symbol})` : u.label })),
    ...(currency ? [{ value: currency, label: `money (${currency})` }] : []),
  ];
}

/** "kilograms", "items", "EUR": a unit as a form's label names it. */
export const unitWord = (unit: string) => OM2_UNITS[unit]?.label ?? unit;

export const FUND_LABELS: Record<(typeof FUNDS)[number], string> = {
  survival: "Survival fund",
  capacity_building: "Capacity-building fund",
  power_shifting: "Power-shifting fund",
};

export const fundOptions = (first?: { value: string; label: string }) => [...(first ? [first] : []), ...FUNDS.map((f) => ({ value: f, label: FUND_LABELS[f] }))];

/** A day as a date input shows it (UTC). */
export const dayOf = (at: Date | null): string => (at ? at.toISOString().slice(0, 10) : "");
/** The last day of a window or expiry that ends at `end` (a bare date ends at the next midnight). */
export const lastDayText = (end: Date | null): string => (end ? dayOf(lastDayOf(end)) : "");
/** "2026-11-28 14:05 UTC" */
export const when = (at: Date): string => `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** Today (UTC) on the node's clock, for date inputs' defaults. */
export const today = (ctx: StewardContext): string => dayOf(ctx.deps.clock.now());
