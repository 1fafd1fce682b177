/**
 * Sovereignty indicators and period summaries on the steward pages: define an indicator,
 * record dated counts of a counted one, and publish the summary of an ended period. The same
 * services as `…/indicators` and `…/summaries` of the steward API and `hyphae indicator|summary`.
 */
import type { FastifyInstance } from "fastify";
import { PERIOD_KINDS, type PeriodKind } from "../../domain/books/model.ts";
import { DomainError } from "../../domain/errors.ts";
import { html } from "../../lib/html.ts";
import * as books from "../../services/books.ts";
import * as indicators from "../../services/indicators.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { parseInstantText } from "../../services/summary-ops.ts";
import * as summaries from "../../services/summaries.ts";
import { booksPage, day, filled, KIND_LABELS, minute, naming, notFoundIfMissing, tidy } from "./books-common.ts";
import { emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";

const DAY = 86_400_000;
/** The window the indicators list shows (as the public books page: the last 28 days against the 28 before). */
const WINDOW_DAYS = 28;

const FLOW_KINDS = ["contribution", "draw", "expenditure", "transfer_out", "transfer_in"] as const;

const INDICATOR_LABELS: Record<string, string> = {
  key: "Key",
  name: "Name",
  description: "Description",
  source: "Where its value comes from",
  resource: "Resource",
  entryKind: "Kind of entry",
};
const COUNT_LABELS: Record<string, string> = { countedOn: "Date of the count", count: "Count", publicNote: "Public note" };
const SUMMARY_LABELS: Record<string, string> = { period: "Period", at: "A day in the period" };

const INDICATOR_NOTICES: Record<string, string> = {
  "indicator-added": "The indicator was added. Summaries and the books page show it from now on.",
  "count-recorded": "The count was recorded.",
};

const PERIOD_LABELS: Record<PeriodKind, string> = {
  week: "Week (Monday to Sunday, UTC)",
  lunar: "Lunar month (a mean synodic month)",
  month: "Calendar month",
};

const trendWord = (t: "up" | "down" | "flat" | null) => (t === "up" ? "up" : t === "down" ? "down" : t === "flat" ? "no change" : "");

// ---------------------------------------------------------------------------------------
// Indicators

async function indicatorsPage(ctx: StewardContext, state: FormState, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  state = tidy(state);
  const now = deps.clock.now();
  const [list, values, resources] = await Promise.all([
    indicators.listIndicators(deps, pod.slug),
    indicators.indicatorValues(deps, pod.slug, new Date(now.getTime() - WINDOW_DAYS * DAY), now),
    books.listResources(deps, pod.slug),
  ]);
  const valueOf = new Map(values.map((v) => [v.key, v]));
  const source = html`<fieldset><legend>Where its value comes from</legend>
${field({ name: "source", label: "Source", type: "select", required: true, options: [{ value: "count", label: "Counted by stewards (dated counts with a public note)" }, { value: "ledger", label: "From the ledger (a resource and a kind of entry)" }] }, state)}
${field({ name: "resource", label: "Resource (from the ledger only)", type: "select", options: [{ value: "", label: "None" }, ...resources.map((r) => ({ value: r.key, label: `${r.name} (${r.key})` }))] }, state)}
${field({ name: "entryKind", label: "Kind of entry (from the ledger only)", type: "select", options: [{ value: "", label: "None" }, ...FLOW_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))], hint: "“Meals prepared autonomously” is the quantity of meals drawn." }, state)}
</fieldset>`;
  return booksPage(
    ctx,
    { title: "Sovereignty indicators", section: "indicators" },
    html`<h1>Sovereignty indicators</h1>
${notice(query, INDICATOR_NOTICES)}${errorSummary(state, INDICATOR_LABELS)}
<p>Beside volumes, the dependence reduced: each indicator is counted by the stewards or derived from the ledger. The books page and each summary show its value, the value for the period before and the trend. A value drawn from entries that name only one or two members is shown as “fewer than 3”.</p>
${
  list.length
    ? html`<div class="table-wrap" tabindex="0"><table>
<caption class="muted small" style="text-align:left">Values over the last ${WINDOW_DAYS} days, against the ${WINDOW_DAYS} days before.</caption>
<thead><tr><th scope="col">Indicator</th><th scope="col">Source</th><th scope="col" class="num">Value</th><th scope="col" class="num">Before</th><th scope="col">Trend</th><th scope="col">Action</th></tr></thead>
<tbody>${list.map((i, n) => {
        const v = valueOf.get(i.key);
        return html`<tr><td id="ind-${n}">${i.name}<br><code class="small">${i.key}</code></td><td>${i.source === "count" ? "counted" : html`${KIND_LABELS[i.entryKind!]} of <code>${i.resource}</code>`}</td><td class="num">${v?.value ?? ""}</td><td class="num">${v?.previous ?? ""}</td><td>${trendWord(v?.trend ?? null)}</td><td>${
          i.source === "count" ? html`<a href="${base}/books/indicators/${i.key}" aria-describedby="ind-${n}">Record a count</a>` : html`<a href="${base}/books/indicators/${i.key}" aria-describedby="ind-${n}">Details</a>`
        }</td></tr>`;
      })}</tbody></table></div>`
    : html`<p class="muted">No indicators yet.</p>`
}
<h2 id="add">Add an indicator</h2>
${formStart(ctx, `${base}/books/indicators`, { label: "Add an indicator" })}
${field({ name: "key", label: "Key", required: true, maxlength: 40, autocomplete: "off", hint: "A short public name: lowercase letters, digits, - and _, such as disputes-resolved." }, state)}
${field({ name: "name", label: "Name", required: true, maxlength: 120, hint: "Public, such as “Disputes resolved without outside authority”." }, state)}
${field({ name: "description", label: "Description (optional)", type: "textarea", rows: 2, maxlength: 500, hint: "Public: what it counts and why." }, state)}
${source}
<button type="submit">Add the indicator</button>
</form>`,
  );
}

async function indicatorPage(ctx: StewardContext, key: string, state: FormState, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  state = tidy(state);
  const indicator = notFoundIfMissing((await indicators.listIndicators(deps, pod.slug)).find((i) => i.key === key), "INDICATOR_NOT_FOUND", `${pod.slug} has no indicator ${key}`);
  let body;
  if (indicator.source === "count") {
    const counts = await indicators.listIndicatorCounts(deps, pod.slug, key, 20);
    const today = day(deps.clock.now());
    const shown = state.values.countedOn === undefined ? { ...state, values: { ...state.values, countedOn: today } } : state;
    body = html`<h2 id="count">Record a count</h2>
${formStart(ctx, `${base}/books/indicators/${indicator.key}/counts`, { label: "Record a count" })}
${field({ name: "countedOn", label: "Date of the count", type: "date", required: true, hint: "The count belongs to the period that contains this day." }, shown)}
${field({ name: "count", label: "Count", required: true, inputmode: "decimal", autocomplete: "off", hint: "A number, 0 or more." }, shown)}
${field({ name: "publicNote", label: "Public note (optional)", type: "textarea", rows: 2, maxlength: 500, hint: "Shown with the value in summaries. Name no one." }, shown)}
<button type="submit">Record the count</button>
</form>
<h2>Latest counts</h2>
${
  counts.length
    ? html`<div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Date</th><th scope="col" class="num">Count</th><th scope="col">Public note</th><th scope="col">Recorded</th></tr></thead>
<tbody>${counts.map((c) => html`<tr><td>${c.countedOn}</td><td class="num">${c.count}</td><td>${c.publicNote}</td><td>${minute(c.recordedAt)}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">No counts yet.</p>`
}`;
  } else {
    body = html`<p>This indicator is derived from the ledger: the quantity of <code>${indicator.resource}</code> in entries of the kind “${KIND_LABELS[indicator.entryKind!]}”, with their corrections. It counts itself: record those entries and it follows.</p>`;
  }
  return booksPage(
    ctx,
    { title: `Indicator ${indicator.key}`, section: "indicators" },
    html`<h1>Indicator: ${indicator.name}</h1>
${notice(query, INDICATOR_NOTICES)}${errorSummary(state, COUNT_LABELS)}
<p>Key <code>${indicator.key}</code>. ${indicator.description}</p>
${body}
<p><a href="${base}/books/indicators">All indicators</a></p>`,
  );
}

// ---------------------------------------------------------------------------------------
// Summaries

async function summariesPage(ctx: StewardContext, state: FormState, query?: { done?: string; period?: string; version?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  state = tidy(state);
  const [list, settings] = await Promise.all([summaries.listSummaries(deps, pod.slug, { limit: 50 }), books.getBookSettings(deps, pod.slug)]);
  // The period in the confirmation comes from the redirect: shown only when it is one of the pod's summaries.
  const asked = /^(week|lunar|month)-(\d{4}-\d{2}-\d{2})$/.exec(query?.period ?? "");
  const published = asked ? await summaries.getSummary(deps, pod.slug, asked[1] as PeriodKind, asked[2]!) : null;
  const done =
    published && (query?.done === "summary-published" || query?.done === "summary-unchanged")
      ? html`<div class="done" role="status"><p>${
          query.done === "summary-published"
            ? html`The summary of the ${published.label} was published (version ${published.version}) and sent to the pod's followers.`
            : html`The ${published.label} was already published with these figures: nothing new was sent.`
        } <a href="${published.url}">See the summary</a>.</p></div>`
      : "";
  return booksPage(
    ctx,
    { title: "Summaries", section: "summaries" },
    html`<h1>Summaries</h1>
${done}${errorSummary(state, SUMMARY_LABELS)}
<p>A summary is the public account of a period: totals per resource and fund, value reclaimed, the indicators, and the head of the hash chain. It covers the entries <em>recorded</em> in the period, and is sent to the pod's followers as a post. Figures that describe one or two members are shown as “fewer than 3”.</p>
<p class="muted small">${
      settings.autoPeriods.length
        ? `The node publishes these periods by itself when they end: ${settings.autoPeriods.join(", ")}.`
        : "The node publishes no period by itself: publish each one here."
    }</p>
<h2 id="publish">Publish a summary</h2>
${formStart(ctx, `${base}/books/summaries`, { label: "Publish a summary" })}
${field({ name: "period", label: "Period", type: "select", required: true, value: "week", options: PERIOD_KINDS.map((k) => ({ value: k, label: PERIOD_LABELS[k] })) }, state)}
${field({ name: "at", label: "A day in the period (optional)", type: "date", hint: "Leave empty for the period that ended last. The period must have ended." }, state)}
<button type="submit">Publish</button>
</form>
<p class="muted small">Publishing a period again changes nothing unless its figures changed; then a new version is published and followers keep both.</p>
<h2>Published</h2>
${
  list.length
    ? html`<div class="table-wrap" tabindex="0"><table><thead><tr><th scope="col">Period</th><th scope="col" class="num">Entries</th><th scope="col" class="num">Version</th><th scope="col">Published</th></tr></thead>
<tbody>${list.map((s) => html`<tr><td><a href="${s.url}">${s.label}</a></td><td class="num">${s.entryCount}</td><td class="num">${s.version}</td><td>${minute(s.publishedAt)}</td></tr>`)}</tbody></table></div>`
    : html`<p class="muted">No summaries published yet.</p>`
}`,
  );
}

// ---------------------------------------------------------------------------------------
// Routes

const keyOf = (ctx: StewardContext) => (ctx.request.params as { key: string }).key;

export function registerReportForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string }>(app, deps, "/books/indicators", (ctx, query) => indicatorsPage(ctx, emptyState(), query));
  stewardPost(app, deps, "/books/indicators", {
    handle: async (ctx, input) => {
      const i = await indicators.addIndicator(deps, ctx.pod.slug, { description: "", ...filled(input.values, ["key", "name", "description", "source", "resource", "entryKind"]) });
      return `${ctx.base}/books/indicators/${i.key}?done=indicator-added`;
    },
    render: (ctx, state) => indicatorsPage(ctx, state),
  });
  stewardGet<{ done?: string }>(app, deps, "/books/indicators/:key", (ctx, query) => indicatorPage(ctx, keyOf(ctx), emptyState(), query));
  stewardPost(app, deps, "/books/indicators/:key/counts", {
    handle: async (ctx, input) => {
      await indicators.recordIndicatorCount(deps, ctx.pod.slug, keyOf(ctx), { publicNote: "", ...filled(input.values, ["countedOn", "count", "publicNote"]) });
      return `${ctx.base}/books/indicators/${keyOf(ctx)}?done=count-recorded`;
    },
    render: (ctx, state) => indicatorPage(ctx, keyOf(ctx), state),
  });

  stewardGet<{ done?: string; period?: string }>(app, deps, "/books/summaries", (ctx, query) => summariesPage(ctx, emptyState(), query));
  stewardPost(app, deps, "/books/summaries", {
    handle: async (ctx, input) => {
      const kind = (input.values.period ?? "") as PeriodKind;
      const atText = (input.values.at ?? "").trim();
      let outcome: summaries.PublishOutcome;
      try {
        const at = atText ? parseInstantText(atText, "at") : undefined;
        outcome = await summaries.publishSummaryOutcome(deps, ctx.pod.slug, kind, at);
      } catch (error) {
        // "This period has not ended" concerns the day chosen.
        throw error instanceof DomainError && error.code === "PERIOD_NOT_ENDED" ? naming(error, "at") : error;
      }
      const s = outcome.summary;
      return `${ctx.base}/books/summaries?done=${outcome.created ? "summary-published" : "summary-unchanged"}&period=${s.periodKind}-${day(s.periodStart)}`;
    },
    render: (ctx, state) => summariesPage(ctx, state),
  });
}
