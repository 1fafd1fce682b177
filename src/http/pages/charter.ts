/**
 * The People's Service Charter as server-rendered HTML: a section on the pod page, the
 * charter page with its revision timeline (at the charter Note's id, so browsers land here
 * while ActivityPub clients get the Note from Fedify), and one page per revision.
 *
 * Every piece of charter text goes through the escaping `html` template; the preamble is
 * the only markup, and it comes solely from the domain's Markdown-subset renderer, which
 * escapes first and only ever emits links to http(s) URLs.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { diffCharters, type CharterDiff, type FieldChange, type ServiceChange } from "../../domain/charter/diff.ts";
import { isHttpUrl } from "../../domain/charter/html.ts";
import { renderMarkdownSubset } from "../../domain/charter/markdown.ts";
import type { CharterContent, CharterService, NextService } from "../../domain/charter/model.ts";
import { charterSummaryText } from "../../domain/charter/render.ts";
import { isoDate, REVIEW_INTERVAL_DAYS } from "../../domain/charter/review.ts";
import { serviceKey } from "../../domain/charter/validate.ts";
import type { Pod } from "../../domain/pods.ts";
import { escapeHtml, html, raw, type SafeHtml } from "../../lib/html.ts";
import * as charters from "../../services/charters.ts";
import { findPod } from "../../services/pods.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { podHandle } from "../../services/views.ts";
import { FOLLOW_BOX_STYLE, followBox } from "./follow-box.ts";
import { notFoundPage, page, sendHtml } from "./layout.ts";

type CharterView = charters.CharterView;
type RevisionRecord = Awaited<ReturnType<typeof charters.listCharterRevisions>>[number];
/** What the diff and change-note pieces need of a revision. */
type RevisionText = Pick<RevisionRecord, "number" | "content" | "changeNote">;
type Level = 2 | 3 | 4;

// ---------------------------------------------------------------------------------------
// Small pieces

const DATE_FORMAT = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** A calendar date (YYYY-MM-DD or an instant, read in UTC) as `<time>`: "23 November 2026". */
function date(value: Date | string): SafeHtml {
  const iso = typeof value === "string" ? value : isoDate(value);
  const instant = typeof value === "string" ? new Date(`${value}T00:00:00Z`) : value;
  return html`<time datetime="${iso}">${Number.isNaN(instant.getTime()) ? iso : DATE_FORMAT.format(instant)}</time>`;
}

/** Escaped text with its line breaks kept. */
const lines = (text: string): SafeHtml => raw(escapeHtml(text.trim()).replace(/\r\n?|\n/g, "<br>"));

const heading = (level: Level, text: string | SafeHtml, id?: string): SafeHtml =>
  html`${raw(`<h${level}`)}${id ? html` id="${id}"` : ""}>${text}${raw(`</h${level}>`)}`;

/** A short quoted value for a list of changes. */
function quoted(value: string | null): string {
  if (value === null) return "none";
  const flat = value.replace(/\s+/g, " ").trim();
  const chars = Array.from(flat);
  return `“${chars.length > 80 ? `${chars.slice(0, 79).join("")}…` : flat}”`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------
// The charter itself

function serviceItem(s: CharterService): SafeHtml {
  const facts = [s.figure ? html`<strong>${s.figure}</strong>` : null, html`since ${date(s.since)}`].filter(Boolean);
  return html`<li><strong>${s.name}</strong> <span class="tag">${s.category}</span>
${s.description.trim() ? html`<br>${lines(s.description)}` : ""}
<br><span class="muted">${facts.map((f, i) => (i === 0 ? f : html` · ${f}`))}</span></li>`;
}

function nextItem(s: NextService): SafeHtml {
  return html`<li><strong>${s.name}</strong> — by ${date(s.targetDate)}${s.why.trim() ? html`<br>${lines(s.why)}` : ""}</li>`;
}

function licenceHtml(licence: CharterContent["licence"]): SafeHtml {
  return licence.url !== null && isHttpUrl(licence.url)
    ? html`<a rel="license nofollow noopener" href="${licence.url}">${licence.name}</a>`
    : html`${licence.name}`;
}

/** Preamble, services now and next, assembly and licence; subsection headings at `level` (the steward preview shows it too). */
export function charterBody(content: CharterContent, level: Level): SafeHtml {
  return html`
${content.preamble.trim() ? raw(renderMarkdownSubset(content.preamble)) : ""}
${heading(level, "What we do now")}
${content.services.length > 0
  ? html`<ul>${content.services.map(serviceItem)}</ul>`
  : html`<p class="muted">No services yet: see what we take on next.</p>`}
${heading(level, "What we take on next")}
${content.nextServices.length > 0
  ? html`<ul>${content.nextServices.map(nextItem)}</ul>`
  : html`<p class="muted">Nothing planned yet.</p>`}
${heading(level, "Assemblies")}
<p>${content.assemblyRhythm ? html`<strong>When:</strong> ${content.assemblyRhythm}` : html`<span class="muted">The stewards have not set an assembly rhythm.</span>`}
${content.meetingPlace ? html`<br><strong>Where:</strong> ${content.meetingPlace}` : ""}</p>
<p class="muted">This charter is shared under ${licenceHtml(content.licence)}.</p>`;
}

/** "Revision N, reviewed <date>" and, when it is time, a clear notice that review is due. */
function reviewLine(charter: CharterView): SafeHtml {
  const { review } = charter;
  return html`<p class="muted">Revision ${charter.revision}, reviewed ${date(review.lastReviewedAt)} · last revised ${date(charter.revisedAt)} by the stewards</p>
${review.due
  ? html`<p class="notice" role="status"><strong>Due for review.</strong> The stewards last reviewed this charter ${plural(review.daysSinceReview, "day", "days")} ago, on ${date(review.lastReviewedAt)}; a charter is reviewed at least every ${REVIEW_INTERVAL_DAYS} days.</p>`
  : html`<p class="muted">Next review due by ${date(review.dueAt)}.</p>`}`;
}

// ---------------------------------------------------------------------------------------
// Differences between revisions

const FIELD_LABELS: Record<FieldChange["field"], string> = {
  title: "Title",
  preamble: "Preamble",
  assemblyRhythm: "Assembly rhythm",
  meetingPlace: "Meeting place",
  licence: "Licence",
};

const SERVICE_FIELD_LABELS: Record<string, string> = {
  name: "name",
  description: "description",
  category: "category",
  since: "since",
  figure: "figure",
  why: "why",
  targetDate: "target date",
};

/** Long texts are reported as rewritten; short ones with their old and new values. */
const REWRITTEN = new Set(["description", "why"]);

function fieldChange(f: FieldChange): SafeHtml {
  const label = FIELD_LABELS[f.field];
  if (f.field === "preamble") return html`<li>Preamble rewritten</li>`;
  if (f.before === null) return html`<li>${label} set to ${quoted(f.after)}</li>`;
  if (f.after === null) return html`<li>${label} removed (was ${quoted(f.before)})</li>`;
  return html`<li>${label} changed from ${quoted(f.before)} to ${quoted(f.after)}</li>`;
}

function changedFields<T extends object>(change: ServiceChange<T>): SafeHtml[] {
  return change.fields.map((field) => {
    const label = SERVICE_FIELD_LABELS[field] ?? field;
    if (REWRITTEN.has(field)) return html`${label} rewritten`;
    const value = (s: T | null) => {
      const v = s ? (s as Record<string, unknown>)[field] : null;
      return typeof v === "string" ? v : null;
    };
    return html`${label} ${quoted(value(change.before))} → ${quoted(value(change.after))}`;
  });
}

const joined = (parts: SafeHtml[]) => parts.map((p, i) => (i === 0 ? p : html`; ${p}`));

/** The differences as list items, in words; services moved from "next" to "now" are said so. */
function diffItems(diff: CharterDiff): SafeHtml[] {
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
    } else if (s.after === null) items.push(html`<li>Service ended: <strong>${s.name}</strong></li>`);
    else items.push(html`<li>Changed <strong>${s.name}</strong>: ${joined(changedFields(s))}</li>`);
  }
  for (const s of diff.nextServices) {
    if (s.before === null && s.after !== null) items.push(html`<li>Taking on next: <strong>${s.name}</strong>, by ${date(s.after.targetDate)}</li>`);
    else if (s.after === null) {
      if (!addedNow.has(serviceKey(s.name))) items.push(html`<li>No longer planned: <strong>${s.name}</strong></li>`);
    } else items.push(html`<li>Changed next service <strong>${s.name}</strong>: ${joined(changedFields(s))}</li>`);
  }
  return items;
}

function diffList(before: RevisionText | null, after: RevisionText): SafeHtml {
  if (!before) return html`<p class="muted">The first revision of the charter.</p>`;
  const diff = diffCharters(before.content, after.content);
  if (diff.unchanged) return html`<p class="muted">No changes to the text since revision ${before.number}.</p>`;
  return html`<ul class="diff" aria-label="Changes from revision ${before.number}">${diffItems(diff)}</ul>`;
}

function changeNote(revision: RevisionText): SafeHtml | "" {
  return revision.changeNote.trim() ? html`<p>${lines(revision.changeNote)}</p>` : "";
}

/** Newest first: number, date, change note, the role that made it, and what changed. */
function timeline(deps: ServiceDeps, slug: string, revisions: RevisionRecord[]): SafeHtml {
  const byNumber = new Map(revisions.map((r) => [r.number, r]));
  return html`<ol class="timeline" reversed>${revisions.map(
    (r) => html`<li id="revision-${r.number}">
${heading(3, html`<a href="${deps.uris.charterRevision(slug, r.number).href}">Revision ${r.number}</a>`)}
<p class="muted">${date(r.createdAt)} · by the ${r.madeByRole === "steward" ? "stewards" : r.madeByRole}</p>
${changeNote(r)}
${diffList(byNumber.get(r.number - 1) ?? null, r)}
</li>`,
  )}</ol>`;
}

// ---------------------------------------------------------------------------------------
// Pages

export interface RenderedPage {
  status: number;
  body: string;
}

function noSuchPod(deps: ServiceDeps, slug: string): RenderedPage {
  return {
    status: 404,
    body: notFoundPage(deps.config.publicUrl, "No such pod", html`<p>There is no pod called <code>${slug}</code> on this node. <a href="/">See the pods here.</a></p>`),
  };
}

/** The charter section of the pod page, and the OpenGraph description it implies. */
export async function podCharterSection(deps: ServiceDeps, pod: Pod): Promise<{ html: SafeHtml; description: string | null }> {
  const charter = await charters.findCharter(deps, pod.slug);
  if (!charter) {
    return {
      html: html`<section id="charter" class="card"><h2 style="margin-top:0">People's Service Charter</h2><p class="muted">This pod has not published its charter yet.</p></section>`,
      description: null,
    };
  }
  const previous = charter.revision > 1 ? await findRevision(deps, pod.slug, charter.revision - 1) : null;
  const current: RevisionText = { number: charter.revision, content: charter.content, changeNote: charter.changeNote };
  const charterUrl = deps.uris.charter(pod.slug).href;
  const body = html`<section id="charter">
<h2>${charter.content.title}</h2>
${reviewLine(charter)}
${charterBody(charter.content, 3)}
${charter.revision > 1
  ? html`<h3>What changed in revision ${charter.revision}</h3>${changeNote(current)}${diffList(previous, current)}`
  : ""}
<p><a href="${charterUrl}">Read the full charter and its ${plural(charter.revision, "revision", "revisions")}</a></p>
</section>`;
  return { html: body, description: charterSummaryText(charter.content) };
}

async function findRevision(deps: ServiceDeps, slug: string, n: number): Promise<RevisionRecord | null> {
  try {
    return await charters.getCharterRevision(deps, slug, n);
  } catch (error) {
    if ((error as { kind?: string }).kind === "not_found") return null;
    throw error;
  }
}

/** `GET /pods/:slug/charter`: the current charter and its revision timeline. */
export async function renderCharterPage(deps: ServiceDeps, slug: string): Promise<RenderedPage> {
  const pod = await findPod(deps, slug);
  if (!pod) return noSuchPod(deps, slug);
  const charter = await charters.findCharter(deps, pod.slug);
  const profileUrl = deps.uris.profile(pod.slug).href;
  if (!charter) {
    return {
      status: 404,
      body: notFoundPage(
        deps.config.publicUrl,
        "No charter yet",
        html`<p>${pod.name} has not published its People's Service Charter yet. <a href="${profileUrl}">See the pod's page.</a></p>`,
      ),
    };
  }
  const revisions = await charters.listCharterRevisions(deps, pod.slug);
  const charterUrl = deps.uris.charter(pod.slug).href;
  const body = html`
<p class="muted">People's Service Charter of <a href="${profileUrl}">${pod.name}</a></p>
<h1>${charter.content.title}</h1>
${reviewLine(charter)}
${await followBox(deps, pod, podHandle(deps, pod.slug))}
${charterBody(charter.content, 2)}
<section id="history">
<h2>History</h2>
<p class="muted">${plural(revisions.length, "revision", "revisions")}, newest first. Revisions are never edited or deleted.</p>
${timeline(deps, pod.slug, revisions)}
</section>`;
  return {
    status: 200,
    body: page(
      {
        title: `${charter.content.title} · ${pod.name}`,
        description: charterSummaryText(charter.content),
        url: charterUrl,
        activityPubUrl: charterUrl,
        image: pod.iconUrl,
        type: "article",
        publishedAt: charter.publishedAt,
        modifiedAt: charter.updatedAt,
        style: FOLLOW_BOX_STYLE,
      },
      body,
    ),
  };
}

const REVISION_NUMBER = /^[1-9][0-9]{0,8}$/;

/** `GET /pods/:slug/charter/revisions/:n`: one revision as it was, and what it changed. */
export async function renderRevisionPage(deps: ServiceDeps, slug: string, n: string): Promise<RenderedPage> {
  const pod = await findPod(deps, slug);
  if (!pod) return noSuchPod(deps, slug);
  const charter = await charters.findCharter(deps, pod.slug);
  const number = REVISION_NUMBER.test(n) ? Number(n) : null;
  const revision = charter && number !== null && number <= charter.revision ? await findRevision(deps, pod.slug, number) : null;
  const charterUrl = deps.uris.charter(pod.slug).href;
  if (!charter || !revision) {
    return {
      status: 404,
      body: notFoundPage(
        deps.config.publicUrl,
        "No such revision",
        charter
          ? html`<p>${pod.name}'s charter has no revision <code>${n}</code>; it has ${plural(charter.revision, "revision", "revisions")}. <a href="${charterUrl}">Read the current charter.</a></p>`
          : html`<p>${pod.name} has not published its charter yet. <a href="${deps.uris.profile(pod.slug).href}">See the pod's page.</a></p>`,
      ),
    };
  }
  const previous = revision.number > 1 ? await findRevision(deps, pod.slug, revision.number - 1) : null;
  const revisionUrl = deps.uris.charterRevision(pod.slug, revision.number).href;
  const objectUrl = deps.uris.charterRevisionObject(pod.slug, revision.number).href;
  const isCurrent = revision.number === charter.revision;
  const body = html`
<p class="muted">People's Service Charter of <a href="${deps.uris.profile(pod.slug).href}">${pod.name}</a></p>
<h1>${revision.content.title}</h1>
<p class="muted">Revision ${revision.number} of ${charter.revision}, published ${date(revision.createdAt)} by the stewards</p>
${isCurrent
  ? html`<p>This is the current revision. <a href="${charterUrl}">See the charter with its review status and history.</a></p>`
  : html`<p class="notice">This is an earlier revision, kept as it was. The charter is now at revision ${charter.revision}: <a href="${charterUrl}">read the current charter</a>.</p>`}
<nav class="pager" aria-label="Revisions">
${revision.number > 1 ? html`<a rel="prev" href="${deps.uris.charterRevision(pod.slug, revision.number - 1).href}">← Revision ${revision.number - 1}</a>` : ""}
<a href="${charterUrl}">Current charter</a>
${!isCurrent ? html`<a rel="next" href="${deps.uris.charterRevision(pod.slug, revision.number + 1).href}">Revision ${revision.number + 1} →</a>` : ""}
</nav>
<section id="changes">
<h2>${previous ? `What changed from revision ${previous.number}` : "What changed"}</h2>
${changeNote(revision)}
${diffList(previous, revision)}
</section>
${charterBody(revision.content, 2)}`;
  return {
    status: 200,
    body: page(
      {
        title: `${revision.content.title} (revision ${revision.number}) · ${pod.name}`,
        description: charterSummaryText(revision.content),
        url: revisionUrl,
        activityPubUrl: objectUrl,
        image: pod.iconUrl,
        type: "article",
        publishedAt: revision.createdAt,
      },
      body,
    ),
  };
}

const send = (reply: FastifyReply, rendered: RenderedPage) => sendHtml(reply, rendered.body, rendered.status);

export async function registerCharterPages(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  app.get<{ Params: { slug: string }; Querystring: { revision?: string | string[] } }>("/pods/:slug/charter", async (request, reply) => {
    const { slug } = request.params;
    const asked = request.query.revision;
    if (asked === undefined) return send(reply, await renderCharterPage(deps, slug));
    // A browser opening a revision snapshot's id goes to that revision's page.
    const pod = typeof asked === "string" && REVISION_NUMBER.test(asked) ? await findPod(deps, slug) : null;
    if (pod) return reply.header("vary", "Accept").redirect(deps.uris.charterRevision(pod.slug, Number(asked)).href, 303);
    return send(reply, await renderRevisionPage(deps, slug, String(asked)));
  });
  app.get<{ Params: { slug: string; n: string } }>("/pods/:slug/charter/revisions/:n", async (request, reply) =>
    send(reply, await renderRevisionPage(deps, request.params.slug, request.params.n)),
  );
}
