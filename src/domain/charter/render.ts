/**
 * The charter as HTML that survives Mastodon's sanitizer (mastodon-interop.md §5), for the
 * federated Note's `content` and for pages; and as one line of plain text for previews.
 *
 * The output only ever contains the tags in NOTE_HTML_TAGS: p, br, strong, em, ul, li and
 * a (href + rel), plus ol from numbered lists in the preamble and the span Mastodon's own
 * hashtag markup uses; all of them are tags Mastodon keeps. No headings: a heading is
 * `<p><strong>…</strong></p>`. Every text field is escaped; only http(s) URLs become links.
 */
import type { CharterContent, CharterService, NextService } from "./model.ts";
import { escapeHtml, isHttpUrl, linkOrText } from "./html.ts";
import { renderMarkdownSubset } from "./markdown.ts";

export interface CharterRenderContext {
  revision: number;
  /** The charter's HTML page. */
  pageUrl: string;
  /** The URL of a hashtag's page, e.g. https://host/tags/MutualAid. */
  tagUrl: (tag: string) => string;
  /** YYYY-MM-DD */
  reviewedAt: string;
}

export const CHARTER_HASHTAGS = ["PeoplesCharter", "MutualAid"] as const;

/** Every tag charterToNoteHtml may emit (a subset of what Mastodon keeps). */
export const NOTE_HTML_TAGS = ["p", "br", "strong", "em", "ul", "ol", "li", "a", "span"] as const;

/** Plain text to HTML: escaped, newlines as <br>. */
const textHtml = (s: string) => escapeHtml(s.trim()).replace(/\r\n?|\n/g, "<br>");
const heading = (s: string) => `<p><strong>${escapeHtml(s)}</strong></p>`;

function serviceItem(s: CharterService): string {
  const parts = [`<strong>${textHtml(s.name)}</strong> (${escapeHtml(s.category)})`];
  if (s.description.trim()) parts[0] += `: ${textHtml(s.description)}`;
  if (s.figure) parts.push(textHtml(s.figure));
  parts.push(`since ${escapeHtml(s.since)}`);
  return `<li>${parts.join(" — ")}</li>`;
}

function nextItem(s: NextService): string {
  const why = s.why.trim() ? `: ${textHtml(s.why)}` : "";
  return `<li><strong>${textHtml(s.name)}</strong>, by ${escapeHtml(s.targetDate)}${why}</li>`;
}

function hashtag(tag: string, url: string): string {
  const label = `#<span>${escapeHtml(tag)}</span>`;
  return isHttpUrl(url) ? `<a href="${escapeHtml(url)}" class="mention hashtag" rel="tag">${label}</a>` : label;
}

export function charterToNoteHtml(content: CharterContent & { changeNote: string }, ctx: CharterRenderContext): string {
  const html: string[] = [heading(content.title)];
  if (content.preamble.trim()) html.push(renderMarkdownSubset(content.preamble));
  if (content.services.length > 0) {
    html.push(heading("What we do now"), `<ul>${content.services.map(serviceItem).join("")}</ul>`);
  }
  if (content.nextServices.length > 0) {
    html.push(heading("What we take on next"), `<ul>${content.nextServices.map(nextItem).join("")}</ul>`);
  }
  const meeting: string[] = [];
  if (content.assemblyRhythm) meeting.push(`Assembly: ${textHtml(content.assemblyRhythm)}`);
  if (content.meetingPlace) meeting.push(`Meeting place: ${textHtml(content.meetingPlace)}`);
  if (meeting.length > 0) html.push(`<p>${meeting.join("<br>")}</p>`);
  html.push(`<p>Licence: ${linkOrText(content.licence.url, content.licence.name)}</p>`);
  const note = content.changeNote.trim() ? `: ${textHtml(content.changeNote)}` : "";
  html.push(`<p>Revision ${Math.trunc(ctx.revision)}${note}<br>Reviewed ${escapeHtml(ctx.reviewedAt)}</p>`);
  html.push(`<p>${linkOrText(ctx.pageUrl, "Read the full charter")}</p>`);
  html.push(`<p>${CHARTER_HASHTAGS.map((t) => hashtag(t, ctx.tagUrl(t))).join(" ")}</p>`);
  return html.join("");
}

export const SUMMARY_MAX = 300;

/** Collapses whitespace and cuts at `max` characters (code points), ending with "…". */
function clip(s: string, max: number): string {
  const chars = Array.from(s.replace(/\s+/g, " ").trim());
  return chars.length <= max ? chars.join("") : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * One plain-text line (at most 300 characters) for OpenGraph descriptions, e.g.
 * "Oak Street People's Charter: 3 services now (food, care, repair), 1 next (Solar co-op)".
 * Not HTML-escaped: the caller escapes it for its attribute.
 */
export function charterSummaryText(content: CharterContent): string {
  const categories = [...new Set(content.services.map((s) => s.category))];
  const now =
    content.services.length > 0
      ? `${plural(content.services.length, "service", "services")} now (${categories.join(", ")})`
      : "no services yet";
  const next =
    content.nextServices.length > 0
      ? `, ${content.nextServices.length} next (${content.nextServices.map((s) => s.name).join(", ")})`
      : "";
  const title = clip(content.title, 120);
  return clip(`${title}: ${now}${next}`, SUMMARY_MAX);
}
