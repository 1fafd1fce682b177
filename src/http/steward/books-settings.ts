/**
 * The books' settings and the chain check on the steward pages. The settings form calls
 * `updateBookSettings`, as `PATCH …/books/settings` and `hyphae books settings` do; the check
 * calls `verifyLedger`, as `GET …/ledger/verify` and `hyphae ledger verify` do. Reading the
 * chain changes nothing, so the check is a GET page.
 */
import type { FastifyInstance } from "fastify";
import { PERIOD_KINDS, type PeriodKind } from "../../domain/books/model.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import * as books from "../../services/books.ts";
import * as ledger from "../../services/ledger.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { booksPage, tidy } from "./books-common.ts";
import { emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";

const SETTINGS_LABELS: Record<string, string> = {
  currency: "Currency",
  allowOverdraw: "Draws larger than the stock",
  autoPeriods: "Summaries published automatically",
  invoiceAddressee: "Invoice addressed to",
};

const SETTINGS_NOTICES: Record<string, string> = { "settings-saved": "The settings were saved." };

const PERIOD_WORDS: Record<PeriodKind, string> = {
  week: "Each week (Monday to Sunday, UTC)",
  lunar: "Each lunar month",
  month: "Each calendar month",
};

/** The form's names for the settings: one checkbox per period, so each keeps its own state. */
const periodInput = (k: PeriodKind) => `period-${k}`;

function settingsValues(s: books.BookSettings): Record<string, string> {
  const values: Record<string, string> = { currency: s.currency, invoiceAddressee: s.invoiceAddressee ?? "" };
  if (s.allowOverdraw) values.allowOverdraw = "on";
  for (const k of s.autoPeriods) values[periodInput(k)] = "on";
  return values;
}

/** What the form sends, as the service takes it: every setting, as the form shows them all. */
function settingsPatch(values: Record<string, string>): Record<string, unknown> {
  return {
    currency: (values.currency ?? "").trim(),
    allowOverdraw: values.allowOverdraw === "on",
    autoPeriods: PERIOD_KINDS.filter((k) => values[periodInput(k)] === "on"),
    invoiceAddressee: (values.invoiceAddressee ?? "").trim() || null,
  };
}

function periodsFieldset(state: FormState): SafeHtml {
  const error = state.errors.autoPeriods;
  return html`<fieldset${error ? html` aria-describedby="f-autoPeriods-error"` : ""}><legend>Summaries published automatically</legend>
<p class="hint" id="f-autoPeriods-hint">When a period ends, the node publishes its summary to followers by itself. Stewards can always publish one by hand on the Summaries page.</p>
${PERIOD_KINDS.map((k) => {
  const id = `f-${periodInput(k)}`;
  return html`<div class="field check"><input type="checkbox" id="${id}" name="${periodInput(k)}"${state.values[periodInput(k)] === "on" ? html` checked` : ""}> <label for="${id}">${PERIOD_WORDS[k]}</label></div>`;
})}
${error ? html`<span class="error" id="f-autoPeriods-error">${error}</span>` : ""}
</fieldset>`;
}

async function settingsPage(ctx: StewardContext, state: FormState | null, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  const [settings, head] = await Promise.all([books.getBookSettings(deps, pod.slug), ledger.getLedgerHead(deps, pod.slug)]);
  const shown = tidy(state ?? emptyState(settingsValues(settings)));
  const currencyHint =
    head.seq > 0
      ? `Three capital letters (ISO 4217). The books already hold ${head.seq} ${head.seq === 1 ? "entry" : "entries"} valued in ${settings.currency}, so it cannot change now.`
      : "Three capital letters (ISO 4217), such as EUR. It can change only while the ledger has no entries.";
  return booksPage(
    ctx,
    { title: "Books settings", section: "settings" },
    html`<h1>Books settings</h1>
${notice(query, SETTINGS_NOTICES)}${errorSummary(shown, SETTINGS_LABELS)}
<p>How ${pod.name} keeps its books. The same settings as <code>hyphae books settings</code>.</p>
${formStart(ctx, `${base}/books/settings`, { label: "Books settings" })}
${field({ name: "currency", label: "Currency", required: true, maxlength: 3, autocomplete: "off", hint: currencyHint }, shown)}
${field({ name: "allowOverdraw", label: "Allow draws larger than the stock", type: "checkbox", hint: "Leave it off to have such a draw refused, so the stock never goes below zero." }, shown)}
${periodsFieldset(shown)}
${field({ name: "invoiceAddressee", label: "Invoice addressed to (optional)", maxlength: 500, hint: "Who the public “What the city would have charged us” page is addressed to, such as a council. Leave empty to name nobody." }, shown)}
<button type="submit">Save the settings</button>
</form>`,
  );
}

/** The first bad entry, in plain words. */
function faultWords(f: ledger.LedgerFault): string {
  switch (f.reason) {
    case "hash_mismatch":
      return `Entry ${f.seq} was changed after it was recorded: its content no longer matches its hash.`;
    case "prev_hash_mismatch":
      return `Entry ${f.seq} does not follow the entry before it: the link between them is broken, so an entry was removed, added or replaced.`;
    case "seq_gap":
      return `Entry ${f.expected} is missing: the ledger jumps to entry ${f.found}.`;
    case "private_digest_mismatch":
      return `The private side of entry ${f.seq} (its member, private memo or receipt) was changed after it was recorded.`;
    case "head_mismatch":
      return `The chain's head does not match its last entry: the entries end at ${f.expected}, the head says ${f.found}.`;
  }
}

async function verifyPage(ctx: StewardContext): Promise<string> {
  const { deps, pod, base } = ctx;
  const report = await ledger.verifyLedger(deps, pod.slug);
  const headText = html`<span class="hash">${report.headHash}</span>`;
  const result = report.ok
    ? html`<div class="done" role="status"><h2>The chain is whole</h2>
<p><strong>Chain OK: ${report.entries} ${report.entries === 1 ? "entry" : "entries"}, head ${headText}</strong>${report.entries ? html` (entry ${report.headSeq})` : " (the ledger is empty)"}.</p>
<p>Every entry still matches its hash and its private digest, and follows the one before it.</p></div>`
    : html`<div class="error-summary" role="alert"><h2>The chain is broken</h2>
<p><strong>${faultWords(report.fault!)}</strong></p>
<p>${report.entries ? html`${report.entries === 1 ? "The entry before it verifies" : `The ${report.entries} entries before it verify`} (up to entry ${report.headSeq}, head ${headText}).` : "No entry before it verifies."}</p>
${report.fault!.seq > 0 ? html`<p><a href="${base}/books/entries/${report.fault!.seq}">Open entry ${report.fault!.seq}</a></p>` : ""}
<dl class="facts"><dt>Expected</dt><dd class="hash">${report.fault!.expected}</dd><dt>Found</dt><dd class="hash">${report.fault!.found}</dd></dl>
<p>Nobody can fix a broken chain from here: the entries are append-only. Keep the database as it is, compare it with a backup or an export others have kept, and tell the pod.</p></div>`;
  return booksPage(
    ctx,
    { title: "Verify the chain", section: "overview" },
    html`<h1>Verify the chain</h1>
<p>Each entry of ${pod.name}'s ledger carries the hash of the entry before it. This check recomputes every hash from the stored entries, as <code>hyphae ledger verify</code> does, and names the first entry that does not match.</p>
${result}
<p><a class="button secondary" href="${base}/books/verify">Check again</a> <a href="${base}/books">Back to the books</a></p>`,
  );
}

export function registerSettingsForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string }>(app, deps, "/books/settings", (ctx, query) => settingsPage(ctx, null, query));
  stewardPost(app, deps, "/books/settings", {
    handle: async (ctx, input) => {
      await books.updateBookSettings(deps, ctx.pod.slug, settingsPatch(input.values));
      return `${ctx.base}/books/settings?done=settings-saved`;
    },
    // A period that is not one of the three names the list, not a checkbox.
    fieldFor: (path) => (path.startsWith("autoPeriods") ? "autoPeriods" : undefined),
    render: (ctx, state) => settingsPage(ctx, state),
  });
  stewardGet(app, deps, "/books/verify", (ctx) => verifyPage(ctx));
}
