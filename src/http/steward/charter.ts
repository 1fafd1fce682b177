/**
 * Steward pages: the People's Service Charter.
 *
 *   GET  /charter           the charter as published (revision, dates, review), Confirm unchanged, the edit form
 *   POST /charter/preview   _action=preview (the default): the post, the page and the changes; stores nothing
 *                           _action=add-services | add-nextServices: the form again with one more empty row
 *                           _action=edit: the form again with the values sent (from the preview)
 *   POST /charter/publish   a new revision (services/charters publishCharterRevision, as POST …/charter)
 *   POST /charter/confirm   re-confirm unchanged (confirmCharter, as POST …/charter/confirm)
 *
 * The preview validates exactly as publishing does (previewCharterRevision), and its Publish
 * form carries the same values as hidden fields under a new one-time key.
 */
import type { FastifyInstance } from "fastify";
import { REVIEW_INTERVAL_DAYS } from "../../domain/charter/review.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import * as charters from "../../services/charters.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { podHandle } from "../../services/views.ts";
import { blankValues, charterFields, errorLabels, inFormTerms, readCharterForm, valuesFromCharter, type ListKey } from "./charter-form.ts";
import { changesPreview, date, pagePreview, postPreview, PREVIEW_STYLE } from "./charter-preview.ts";
import { buttonForm, emptyState, errorSummary, formStart, notice, sendPage, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  published: "The new revision is published. Followers get it as a post (the first revision) or as an update of the charter post.",
  confirmed: "The charter is confirmed unchanged: its review date is today, and followers get it as an update of the charter post.",
};

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The charter as it is now: revision, dates, review, links, and the Confirm button. */
function statusSection(ctx: StewardContext, charter: charters.CharterView | null): SafeHtml {
  const { deps, pod, base } = ctx;
  if (!charter) {
    return html`<p>${pod.name} has <strong>no charter yet</strong>. Write the first one below: it goes out to followers as a post and is pinned to the pod's profile.</p>`;
  }
  const { review } = charter;
  const charterUrl = deps.uris.charter(pod.slug).href;
  return html`<h2>As published now</h2>
<p><strong>${charter.content.title}</strong></p>
<ul>
<li>Revision ${charter.revision}, made ${date(charter.revisedAt)}</li>
<li>First published ${date(charter.publishedAt)}</li>
<li>Last revised or confirmed ${date(review.lastReviewedAt)} (${review.daysSinceReview === 0 ? "today" : `${plural(review.daysSinceReview, "day", "days")} ago`})</li>
</ul>
${review.due
  ? html`<p class="notice" role="status"><strong>Due for review.</strong> A charter is reviewed at least every ${REVIEW_INTERVAL_DAYS} days. Confirm it unchanged, or publish a new revision below.</p>`
  : html`<p>Next review due by ${date(review.dueAt)}.</p>`}
<p><a href="${charterUrl}">The public charter page</a> · <a href="${charterUrl}#history">its ${plural(charter.revision, "revision", "revisions")}</a></p>
<p class="hint" id="confirm-hint">Confirm unchanged when the assembly has looked at the charter and it still holds: its review date becomes today, nothing else changes, and followers get an update.</p>
<div class="actions">${buttonForm(ctx, `${base}/charter/confirm`, "Confirm unchanged", { kind: "secondary", describedBy: "confirm-hint" })}</div>`;
}

/** The edit form: every field, the rows, and the buttons (Preview first, so Enter previews). */
function editForm(ctx: StewardContext, state: FormState, extra: Record<ListKey, number>, hasCharter: boolean): SafeHtml {
  const action = `${ctx.base}/charter/preview`;
  return html`<h2 id="edit">${hasCharter ? "Write a new revision" : "Write the charter"}</h2>
<p>Nothing is published until you have seen the preview and pressed Publish. Revisions are never edited: each one is kept on the public charter page.</p>
${formStart(ctx, action, { label: "The charter", data: { "live-preview": action } })}
${charterFields(state, extra)}
<div class="actions"><button type="submit" name="_action" value="preview">Preview the post and the changes</button></div>
<div class="actions">
<button type="submit" class="secondary" name="_action" value="add-services" formaction="${action}#services-new" formnovalidate>Add another service (now)</button>
<button type="submit" class="secondary" name="_action" value="add-nextServices" formaction="${action}#nextServices-new" formnovalidate>Add another next service</button>
</div>
</form>`;
}

/** The charter page: status, then the form showing `state` (or the charter as published). */
async function charterPage(ctx: StewardContext, state: FormState, options: { query?: { done?: string }; add?: ListKey } = {}): Promise<string> {
  const charter = await charters.findCharter(ctx.deps, ctx.pod.slug);
  // A refused or re-shown form has the values sent; otherwise the form starts from what is published.
  const sent = "title" in state.values;
  const values = sent ? state.values : charter ? valuesFromCharter(charter.content) : blankValues();
  const extra: Record<ListKey, number> = { services: sent ? 0 : 1, nextServices: sent ? 0 : 1 };
  if (options.add) extra[options.add] += 1;
  return stewardPage(
    ctx,
    { title: "Charter", section: "charter" },
    html`<h1>Charter</h1>
${notice(options.query, NOTICES)}${errorSummary(state, errorLabels(state))}
${statusSection(ctx, charter)}
${editForm(ctx, { ...state, values }, extra, charter !== null)}`,
  );
}

/** The preview: what changes, the post, the page, then Publish (or back to the form) with the same values. */
function previewPage(ctx: StewardContext, preview: charters.CharterPreview, values: Record<string, string>): string {
  const { pod, base } = ctx;
  const hidden = Object.entries(values).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
  return stewardPage(
    ctx,
    { title: "Charter preview", section: "charter", style: PREVIEW_STYLE },
    html`<h1>Preview of revision ${preview.revision}</h1>
<p><strong>Nothing is published yet.</strong> Check the changes, the post and the page, then press Publish at the bottom. <a href="#publish">Go to Publish</a></p>
<h2>What changes</h2>
${changesPreview(preview.diff, preview.current?.revision ?? null)}
<h2>The post followers will see</h2>
<p class="hint">Exactly the text the charter's post carries: followers on Mastodon and other servers see it ${preview.current ? "as an edit of the charter post" : "as a new post"}.</p>
${postPreview(pod, podHandle(ctx.deps, pod.slug), preview.note)}
<h2>The charter page</h2>
<p class="hint">How the public charter page will show this revision.</p>
${pagePreview(preview.content, preview.revision, preview.changeNote)}
<h2 id="publish">Publish</h2>
${formStart(ctx, `${base}/charter/publish`, { label: "Publish this revision" })}
${hidden}
<div class="actions"><button type="submit">Publish revision ${preview.revision}</button>
<button type="submit" class="secondary" name="_action" value="edit" formaction="${base}/charter/preview#edit" formnovalidate>Back to editing</button></div>
</form>`,
  );
}

export function registerCharterForms(app: FastifyInstance, deps: ServiceDeps): void {
  const render = (ctx: StewardContext, state: FormState) => charterPage(ctx, state);

  stewardGet<{ done?: string }>(app, deps, "/charter", (ctx, query) => charterPage(ctx, emptyState(), { query }));

  // Shows a page in answer (the preview, or the form with one more row) and stores nothing.
  stewardPost(app, deps, "/charter/preview", {
    handle: async (ctx, input) => {
      const action = input.values._action ?? "preview";
      const values = { ...input.values };
      delete values._csrf;
      delete values._once;
      delete values._action;
      if (action === "add-services" || action === "add-nextServices" || action === "edit") {
        const add = action === "edit" ? undefined : action === "add-services" ? "services" : "nextServices";
        sendPage(ctx.reply, await charterPage(ctx, emptyState({ title: "", ...values }), { ...(add && { add }) }));
        return "";
      }
      const form = readCharterForm(values);
      let preview: charters.CharterPreview;
      try {
        preview = await charters.previewCharterRevision(deps, ctx.pod.slug, form.input);
      } catch (error) {
        throw inFormTerms(error, form.rows);
      }
      sendPage(ctx.reply, previewPage(ctx, preview, form.values));
      return "";
    },
    render,
  });

  stewardPost(app, deps, "/charter/publish", {
    handle: async (ctx, input) => {
      const form = readCharterForm(input.values);
      try {
        await charters.publishCharterRevision(deps, ctx.pod.slug, form.input);
      } catch (error) {
        throw inFormTerms(error, form.rows);
      }
      return `${ctx.base}/charter?done=published`;
    },
    render,
  });

  stewardPost(app, deps, "/charter/confirm", {
    handle: async (ctx) => {
      await charters.confirmCharter(deps, ctx.pod.slug);
      return `${ctx.base}/charter?done=confirmed`;
    },
    render,
  });
}
