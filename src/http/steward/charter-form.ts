/**
 * The charter edit form: form values <-> the charter JSON the service takes
 * (docs/charter-format.md), the form itself, and refusals put in the form's terms.
 *
 * Input names are the service's field paths (`title`, `licence.url`, `services.2.name`,
 * `nextServices.0.targetDate`), so a refusal names the input it belongs to. The services now
 * and next are rows; a row left empty (or ticked "remove") is not sent, so the service's
 * list index and the form's row number can differ: `inFormTerms` maps one to the other.
 */
import { CHARTER_LIMITS, DEFAULT_LICENCE, SERVICE_CATEGORIES } from "../../domain/charter/constants.ts";
import type { CharterContent } from "../../domain/charter/model.ts";
import { DomainError } from "../../domain/errors.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import { field, type FormState } from "./forms.ts";

export type ListKey = "services" | "nextServices";
export const LISTS: readonly ListKey[] = ["services", "nextServices"];

const ROW_FIELDS: Record<ListKey, readonly string[]> = {
  services: ["name", "description", "category", "since", "figure"],
  nextServices: ["name", "why", "targetDate"],
};

/** The single fields, in the order of the form. */
const SINGLE_FIELDS = ["title", "preamble", "assemblyRhythm", "meetingPlace", "licence.name", "licence.url", "changeNote"] as const;

const SINGLE_LABELS: Record<string, string> = {
  title: "Title",
  preamble: "Preamble",
  services: "What we do now",
  nextServices: "What we take on next",
  assemblyRhythm: "When the assembly meets",
  meetingPlace: "Where the assembly meets",
  "licence.name": "Licence",
  "licence.url": "Licence address",
  changeNote: "What changed, and why",
};

const ROW_LABELS: Record<string, string> = {
  name: "Name",
  description: "What it is",
  category: "Category",
  since: "Provided since",
  figure: "A figure that shows its scale",
  why: "Why we take it on",
  targetDate: "Ready by",
  remove: "Remove",
};

const CATEGORY_EXAMPLES: Record<string, string> = {
  food: "meals, food bank, community fridge",
  energy: "solar co-op, fuel-bill help, warm space",
  care: "elder watch, childcare swaps, laundry",
  health: "first aid, going along to appointments",
  housing: "tenant support, emergency rooms, home repairs",
  education: "homework club, language classes, skill shares",
  safety: "walking buses, night watch, de-escalation",
  repair: "tool library, repair café, bike workshop",
  transport: "lift sharing, cargo bikes, deliveries",
  other: "anything else",
};

const CATEGORY_OPTIONS = [
  { value: "", label: "Choose a category" },
  ...SERVICE_CATEGORIES.map((c) => ({ value: c, label: `${c} (${CATEGORY_EXAMPLES[c] ?? ""})` })),
];

const ROW_KEY = /^(services|nextServices)\.(0|[1-9]\d{0,3})\.(\w+)$/;

/** Browsers send textarea line breaks as CRLF; the charter keeps LF, so an unchanged text stays unchanged. */
const norm = (v: string | undefined) => (v ?? "").replace(/\r\n?/g, "\n");

/** The row numbers present in the values for a list, ascending. */
export function rowsOf(values: Record<string, string>, list: ListKey): number[] {
  const rows = new Set<number>();
  for (const key of Object.keys(values)) {
    const m = ROW_KEY.exec(key);
    if (m && m[1] === list) rows.add(Number(m[2]));
  }
  return [...rows].sort((a, b) => a - b);
}

const isBlankRow = (values: Record<string, string>, list: ListKey, row: number) =>
  ROW_FIELDS[list].every((f) => norm(values[`${list}.${row}.${f}`]).trim() === "");

/** The form values showing a stored charter (with an empty change note: it is the next revision's). */
export function valuesFromCharter(content: CharterContent): Record<string, string> {
  const values: Record<string, string> = {
    title: content.title,
    preamble: content.preamble,
    assemblyRhythm: content.assemblyRhythm ?? "",
    meetingPlace: content.meetingPlace ?? "",
    "licence.name": content.licence.name,
    "licence.url": content.licence.url ?? "",
    changeNote: "",
  };
  content.services.forEach((s, i) => {
    Object.assign(values, { [`services.${i}.name`]: s.name, [`services.${i}.description`]: s.description, [`services.${i}.category`]: s.category, [`services.${i}.since`]: s.since, [`services.${i}.figure`]: s.figure ?? "" });
  });
  content.nextServices.forEach((s, i) => {
    Object.assign(values, { [`nextServices.${i}.name`]: s.name, [`nextServices.${i}.why`]: s.why, [`nextServices.${i}.targetDate`]: s.targetDate });
  });
  return values;
}

/** The values of a charter not yet written: only the default licence. */
export function blankValues(): Record<string, string> {
  return { "licence.name": DEFAULT_LICENCE.name, "licence.url": DEFAULT_LICENCE.url ?? "" };
}

export interface CharterForm {
  /** What the service takes (docs/charter-format.md). */
  input: Record<string, unknown>;
  /** The form values as sent on (preview → publish): empty and removed rows left out, rows numbered from 0. */
  values: Record<string, string>;
  /** For each list, the form row each of the service's entries came from. */
  rows: Record<ListKey, number[]>;
}

/** Reads the submitted form: single fields as they are, the rows that hold something. */
export function readCharterForm(values: Record<string, string>): CharterForm {
  const compact: Record<string, string> = {};
  for (const name of SINGLE_FIELDS) compact[name] = norm(values[name]);
  const rows: Record<ListKey, number[]> = { services: [], nextServices: [] };
  const lists: Record<ListKey, Array<Record<string, string>>> = { services: [], nextServices: [] };
  for (const list of LISTS) {
    for (const row of rowsOf(values, list)) {
      if (values[`${list}.${row}.remove`] === "on" || isBlankRow(values, list, row)) continue;
      const item: Record<string, string> = {};
      for (const f of ROW_FIELDS[list]) {
        item[f] = norm(values[`${list}.${row}.${f}`]);
        compact[`${list}.${rows[list].length}.${f}`] = item[f];
      }
      rows[list].push(row);
      lists[list].push(item);
    }
  }
  const licenceName = compact["licence.name"]!;
  const licenceUrl = compact["licence.url"]!;
  const input = {
    title: compact.title,
    preamble: compact.preamble,
    services: lists.services,
    nextServices: lists.nextServices,
    assemblyRhythm: compact.assemblyRhythm,
    meetingPlace: compact.meetingPlace,
    // Both left empty: the default licence, as when the key is absent.
    licence: licenceName.trim() || licenceUrl.trim() ? { name: licenceName, url: licenceUrl } : null,
    changeNote: compact.changeNote,
  };
  return { input, values: compact, rows };
}

/** The validator's wording, said to someone filling in a form. */
function plainMessage(message: string): string {
  if (message === "must not be empty") return "This cannot be empty.";
  const long = /^must be at most (\d+) characters \(got (\d+)\)$/.exec(message);
  if (long) return `This is too long: at most ${long[1]} characters (it has ${long[2]}).`;
  if (/^must be one of .* \(got ""\)$/.test(message)) return "Choose a category.";
  if (message.startsWith("must be one of")) return "Choose one of the categories in the list.";
  if (message.startsWith("must be a real calendar date")) return "Give a real date, written YYYY-MM-DD (for example 2026-11-23).";
  const past = /^must not be in the past \(got .*, today is (\d{4}-\d{2}-\d{2})\)$/.exec(message);
  if (past) return `This date has passed: choose today (${past[1]}) or later.`;
  if (message.startsWith("duplicate name")) return "Another service in this list has the same name (capitals do not count): give each its own name.";
  if (message.startsWith("the charter needs at least one service")) return "The charter needs at least one service: one the pod provides now or one it takes on next.";
  if (message.startsWith("must be an http(s) URL")) return "Give a web address starting with https:// (or http://), or leave it empty.";
  const many = /^at most (\d+) (services|next services) are allowed/.exec(message);
  if (many) return `Too many ${many[2]}: at most ${many[1]}.`;
  return message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith(".") ? "" : ".");
}

/** The service's field path as the form's input name: `services.1.name` → the row it came from. */
function formName(path: string, rows: Record<ListKey, number[]>): string {
  const m = /^(services|nextServices)\.(\d+)(\..*)?$/.exec(path);
  if (!m) return path;
  const list = m[1] as ListKey;
  const row = rows[list][Number(m[2])];
  return row === undefined ? list : `${list}.${row}${m[3] ?? ""}`;
}

/** A refusal of the charter, each issue moved to the input it concerns and worded plainly. */
export function inFormTerms(error: unknown, rows: Record<ListKey, number[]>): unknown {
  if (!(error instanceof DomainError) || error.code !== "VALIDATION_FAILED") return error;
  const issues = (error.details?.issues as Array<{ field: string; message: string }> | undefined) ?? [];
  const mapped = issues.map((i) => ({ field: formName(i.field, rows), message: plainMessage(i.message) }));
  return new DomainError(error.kind, error.code, "Please correct what is marked below. Nothing was published.", { issues: mapped });
}

/** Names for the error summary's links: the single fields, and "Service 2: name" for rows. */
export function errorLabels(state: FormState): Record<string, string> {
  const labels: Record<string, string> = { ...SINGLE_LABELS };
  for (const name of Object.keys(state.errors)) {
    const m = ROW_KEY.exec(name);
    if (m) labels[name] = `${m[1] === "services" ? "Service" : "Next service"} ${Number(m[2]) + 1}: ${(ROW_LABELS[m[3]!] ?? m[3]!).toLowerCase()}`;
  }
  return labels;
}

const L = CHARTER_LIMITS;

function serviceRow(state: FormState, row: number, shown: number, filled: boolean): SafeHtml {
  const n = (f: string) => `services.${row}.${f}`;
  return html`<fieldset id="services-${row}"><legend>Service ${shown}</legend>
${field({ name: n("name"), label: ROW_LABELS.name!, maxlength: L.serviceName, autocomplete: "off" }, state)}
${field({ name: n("description"), label: ROW_LABELS.description!, type: "textarea", rows: 3, maxlength: L.serviceDescription, hint: "Plain text. May be left empty." }, state)}
${field({ name: n("category"), label: ROW_LABELS.category!, type: "select", options: CATEGORY_OPTIONS }, state)}
${field({ name: n("since"), label: ROW_LABELS.since!, type: "date", hint: "The date it started, written YYYY-MM-DD." }, state)}
${field({ name: n("figure"), label: ROW_LABELS.figure!, maxlength: L.figure, hint: "Optional, for example “120 meals a week”." }, state)}
${filled ? field({ name: n("remove"), label: "Remove this service from the charter", type: "checkbox" }, state) : ""}
</fieldset>`;
}

function nextRow(state: FormState, row: number, shown: number, filled: boolean): SafeHtml {
  const n = (f: string) => `nextServices.${row}.${f}`;
  return html`<fieldset id="nextServices-${row}"><legend>Next service ${shown}</legend>
${field({ name: n("name"), label: ROW_LABELS.name!, maxlength: L.serviceName, autocomplete: "off" }, state)}
${field({ name: n("why"), label: ROW_LABELS.why!, type: "textarea", rows: 3, maxlength: L.why, hint: "Plain text. May be left empty." }, state)}
${field({ name: n("targetDate"), label: ROW_LABELS.targetDate!, type: "date", hint: "Today or later, written YYYY-MM-DD." }, state)}
${filled ? field({ name: n("remove"), label: "Remove this next service from the charter", type: "checkbox" }, state) : ""}
</fieldset>`;
}

/** A message for a whole list (none at all, too many), where the summary's link lands. */
function listError(state: FormState, list: ListKey): SafeHtml {
  const message = state.errors[list];
  return message ? html`<p class="error" id="f-${list}" tabindex="-1">${message}</p>` : html``;
}

/**
 * The form's fields: every field of the charter, the rows present in `state.values` and
 * `extra` empty rows after them per list (at least one when a list has none).
 */
export function charterFields(state: FormState, extra: Record<ListKey, number>): SafeHtml {
  const rowsHtml = (list: ListKey) => {
    const present = rowsOf(state.values, list);
    const more = Math.max(extra[list], present.length === 0 ? 1 : 0);
    const next = (present.at(-1) ?? -1) + 1;
    const all = [...present.map((row) => ({ row, filled: !isBlankRow(state.values, list, row) })), ...Array.from({ length: more }, (_, i) => ({ row: next + i, filled: false }))];
    const draw = list === "services" ? serviceRow : nextRow;
    return all.map(({ row, filled }, i) => html`${i === present.length ? html`<span id="${list}-new"></span>` : ""}${draw(state, row, i + 1, filled)}`);
  };
  return html`${field({ name: "title", label: SINGLE_LABELS.title!, required: true, maxlength: L.title, autocomplete: "off" }, state)}
${field({ name: "preamble", label: SINGLE_LABELS.preamble!, type: "textarea", rows: 8, maxlength: L.preamble, hint: "Who you are and what this charter is for. Plain text, or **bold**, *emphasis*, lists starting with “- ”, and links written [text](https://…). A blank line starts a new paragraph." }, state)}
<h3 id="services">What we do now</h3>
<p class="hint">Services the pod provides now. A row left empty is left out. The charter needs at least one service, now or next.</p>
${listError(state, "services")}
${rowsHtml("services")}
<h3 id="nextServices">What we take on next</h3>
<p class="hint">Services the pod means to take on, with the date it aims for.</p>
${listError(state, "nextServices")}
${rowsHtml("nextServices")}
<h3>Assemblies and licence</h3>
${field({ name: "assemblyRhythm", label: SINGLE_LABELS.assemblyRhythm!, maxlength: L.assemblyRhythm, hint: "Optional, for example “Thursdays 19:00, every other week”." }, state)}
${field({ name: "meetingPlace", label: SINGLE_LABELS.meetingPlace!, maxlength: L.meetingPlace, hint: "Optional. A coarse place such as a neighbourhood: this is public, so give an address only if the pod means to publish it." }, state)}
${field({ name: "licence.name", label: SINGLE_LABELS["licence.name"]!, maxlength: L.licenceName, hint: `The licence others may reuse the charter under. Leave both licence fields empty for ${DEFAULT_LICENCE.name}.` }, state)}
${field({ name: "licence.url", label: SINGLE_LABELS["licence.url"]!, type: "url", maxlength: L.url, hint: "Optional: where the licence can be read (https://…)." }, state)}
${field({ name: "changeNote", label: SINGLE_LABELS.changeNote!, type: "textarea", rows: 3, maxlength: L.changeNote, hint: "Shown with this revision on the charter page and in the post. Optional." }, state)}`;
}
