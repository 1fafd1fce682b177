/**
 * What a steward sees before publishing a charter revision: the post as followers receive
 * it, the charter as its public page shows it, and what changes from the current revision.
 *
 * The post is the charter Note's own HTML (services/charters previewCharterRevision, built
 * by the same producer federation uses), which only ever holds escaped text and the few
 * tags Mastodon keeps. Everything else here goes through the escaping `html` template.
 */
import type { CharterDiff, FieldChange, ServiceChange } from "../../domain/charter/diff.ts";
import type { CharterContent } from "../../domain/charter/model.ts";
import { isoDate } from "../../domain/charter/review.ts";
import { serviceKey } from "../../domain/charter/validate.ts";
import { escapeHtml, html, raw, type SafeHtml } from "../../lib/html.ts";
import type { NoteParts } from "../../services/notes.ts";
import { charterBody } from "../pages/charter.ts";

export const PREVIEW_STYLE = `
.post{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:.8rem 1rem;max-width:38rem;overflow-wrap:anywhere}
.post .who{display:flex;flex-wrap:wrap;gap:0 .5rem;align-items:baseline;border-bottom:1px solid var(--line);padding-bottom:.4rem;margin-bottom:.4rem}
.post p{margin:.5rem 0}.post ul,.post ol{padding-left:1.3rem}
.page-preview{overflow-wrap:anywhere}
.diff li{margin:.3rem 0}.before-after{display:grid;gap:.5rem;grid-template-columns:1fr}@media (min-width:40rem){.before-after{grid-template-columns:1fr 1fr}}
.before-after div{background:var(--card);border:1px solid var(--line);border-radius:.4rem;padding:.4rem .6rem;white-space:pre-wrap;overflow-wrap:anywhere}
`;

const DATE_FORMAT = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** A calendar date (YYYY-MM-DD or an instant, read in UTC) as `<time>`: "23 November 2026". */
export function date(value: Date | string): SafeHtml {
  const iso = typeof value === "string" ? value : isoDate(value);
  const instant = typeof value === "string" ? new Date(`${value}T00:00:00Z`) : value;
  return html`<time datetime="${iso}">${Number.isNaN(instant.getTime()) ? iso : DATE_FORMAT.format(instant)}</time>`;
}

/** Escaped text with its line breaks kept. */
const lines = (text: string): SafeHtml => raw(escapeHtml(text.trim()).replace(/\r\n?|\n/g, "<br>"));

const heading = (level: 3 | 4, text: string | SafeHtml): SafeHtml => html`${raw(`<h${level}>`)}${text}${raw(`</h${level}>`)}`;

// ---------------------------------------------------------------------------------------
// The post

/** The Note's content in a frame like a fediverse post: who posts it, then its HTML as sent. */
export function postPreview(pod: { name: string }, handle: string, note: NoteParts): SafeHtml {
  return html`<article class="post" aria-label="The post as followers see it">
<div class="who"><strong>${pod.name}</strong> <span class="muted small">${handle}</span></div>
${raw(note.contentHtml)}
</article>`;
}

// ---------------------------------------------------------------------------------------
// The page (as the public charter page shows it, headings one level down)

export function pagePreview(content: CharterContent, revision: number, changeNote: string): SafeHtml {
  return html`<div class="card page-preview">
${heading(3, content.title)}
<p class="muted">Revision ${revision}</p>
${charterBody(content, 4)}
${changeNote.trim() ? html`${heading(4, `What changed in revision ${revision}`)}<p>${lines(changeNote)}</p>` : ""}
</div>`;
}

// ---------------------------------------------------------------------------------------
// The changes

const FIELD_LABELS: Record<FieldChange["field"], string> = {
  title: "Title",
  preamble: "Preamble",
  assemblyRhythm: "When the assembly meets",
  meetingPlace: "Where the assembly meets",
  licence: "Licence",
};

const SERVICE_FIELD_LABELS: Record<string, string> = {
  name: "name",
  description: "description",
  category: "category",
  since: "since",
  figure: "figure",
  why: "why",
  targetDate: "ready by",
};

/** Texts too long to quote inline: shown before and after, folded. */
const LONG = new Set(["preamble", "description", "why"]);

const quoted = (value: string | null) => (value === null || value.trim() === "" ? html`<em>nothing</em>` : html`“${value.replace(/\s+/g, " ").trim()}”`);

function beforeAfter(label: string, before: string | null, after: string | null): SafeHtml {
  return html`<details><summary>${label} rewritten: see before and after</summary>
<div class="before-after"><div><strong>Before</strong>
${before ?? ""}</div><div><strong>After</strong>
${after ?? ""}</div></div></details>`;
}

function fieldChange(f: FieldChange): SafeHtml {
  const label = FIELD_LABELS[f.field];
  if (LONG.has(f.field)) return html`<li>${beforeAfter(label, f.before, f.after)}</li>`;
  return html`<li>${label}: ${quoted(f.before)} → ${quoted(f.after)}</li>`;
}

function serviceFieldChanges<T extends object>(change: ServiceChange<T>): SafeHtml[] {
  const value = (s: T | null, key: string) => {
    const v = s ? (s as Record<string, unknown>)[key] : null;
    return typeof v === "string" ? v : null;
  };
  return change.fields.map((key) => {
    const label = SERVICE_FIELD_LABELS[key] ?? key;
    return LONG.has(key) ? beforeAfter(`Its ${label}`, value(change.before, key), value(change.after, key)) : html`<span>its ${label}: ${quoted(value(change.before, key))} → ${quoted(value(change.after, key))}</span>`;
  });
}

const joined = (parts: SafeHtml[]) => parts.map((p, i) => (i === 0 ? p : html`; ${p}`));

/** The changes in words, one list item each; a service moved from "next" to "now" is said so. */
export function diffItems(diff: CharterDiff): SafeHtml[] {
  const items = diff.fields.map(fieldChange);
  const addedNow = new Set(diff.services.filter((s) => s.before === null).map((s) => serviceKey(s.name)));
  const droppedNext = new Set(diff.nextServices.filter((s) => s.after === null).map((s) => serviceKey(s.name)));
  for (const s of diff.services) {
    if (s.before === null && s.after !== null) {
      items.push(
        droppedNext.has(serviceKey(s.name))
          ? html`<li>Now provided: <strong>${s.name}</strong> <span class="tag">${s.after.category}</span> (was planned next)</li>`
          : html`<li>New service: <strong>${s.name}</strong> <span class="tag">${s.after.category}</span></li>`,
      );
    } else if (s.after === null) items.push(html`<li>Service removed: <strong>${s.name}</strong></li>`);
    else items.push(html`<li>Service <strong>${s.name}</strong> changed: ${joined(serviceFieldChanges(s))}</li>`);
  }
  for (const s of diff.nextServices) {
    if (s.before === null && s.after !== null) items.push(html`<li>Taking on next: <strong>${s.name}</strong>, by ${date(s.after.targetDate)}</li>`);
    else if (s.after === null) {
      if (!addedNow.has(serviceKey(s.name))) items.push(html`<li>No longer planned: <strong>${s.name}</strong></li>`);
    } else items.push(html`<li>Next service <strong>${s.name}</strong> changed: ${joined(serviceFieldChanges(s))}</li>`);
  }
  return items;
}

/** The changes from the current revision, or what the first revision means. */
export function changesPreview(diff: CharterDiff | null, currentRevision: number | null): SafeHtml {
  if (!diff || currentRevision === null) return html`<p>This is the charter's first revision: followers get it as a new post, pinned to the pod's profile.</p>`;
  if (diff.unchanged)
    return html`<p class="notice">Nothing in the text changes from revision ${currentRevision}. Publishing still makes a new revision; to say the charter still holds as it is, use “Confirm unchanged” on the charter page instead.</p>`;
  return html`<ul class="diff" aria-label="Changes from revision ${currentRevision}">${diffItems(diff)}</ul>`;
}
