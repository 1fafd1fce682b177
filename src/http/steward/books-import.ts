/**
 * Importing a CSV file into the books from the browser: the same service as
 * `POST …/ledger/import` and `hyphae ledger import`. The service checks every row before it
 * writes anything, then writes all rows in one transaction or none; this page says so, and a
 * refused file comes back with each bad row's number, column and reason in a table.
 *
 * The upload is one request and the answer comes when the import is done: there is no live
 * progress (that would need a script or a streamed page); the answer tells how many rows were read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError, invalid } from "../../domain/errors.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import { storedResult } from "../../services/idempotency.ts";
import * as ledgerIo from "../../services/ledger-io.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { booksPage, naming, tidy, wholeNumber } from "./books-common.ts";
import { emptyState, errorSummary, field, formStart, sendPage, stateFromError, stewardGet, stewardPost, type FormState, type StewardContext, type UploadedFile } from "./forms.ts";
import { stewardBase } from "./session.ts";

/** The largest file this form takes (about 100,000 rows); bigger files go through `hyphae ledger import`. */
export const CSV_UPLOAD_MAX_BYTES = 10 * 1024 * 1024;

interface RowError {
  row: number;
  column: string | null;
  code: string;
  message: string;
}

interface Refused {
  errors: RowError[];
  total: number;
  more: number;
  rows: number | null;
}

/** What a file's first bytes say it is, when it is plainly not a CSV file. */
function notCsvReason(file: UploadedFile): string | null {
  const b = file.bytes;
  const starts = (...sig: number[]) => sig.every((x, i) => b[i] === x);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return "This is a spreadsheet workbook or a zip archive (such as .xlsx or .ods), not a CSV file.";
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) return "This is an old Excel workbook (.xls), not a CSV file.";
  if (starts(0x25, 0x50, 0x44, 0x46)) return "This is a PDF, not a CSV file.";
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff) || starts(0x47, 0x49, 0x46, 0x38)) return "This is a picture, not a CSV file.";
  // Text has no NUL bytes (UTF-16 files have many: the import reads UTF-8).
  if (b.subarray(0, 64 * 1024).includes(0)) return "This file is not plain text: it may be a workbook, or text saved as UTF-16.";
  return null;
}

function checkUpload(file: UploadedFile | undefined): UploadedFile {
  if (!file || (file.bytes.length === 0 && !file.filename)) throw invalid("FILE_REQUIRED", "Choose a CSV file to import.", { field: "file" });
  if (file.bytes.length === 0) throw invalid("FILE_EMPTY", "This file is empty: there is nothing to import.", { field: "file" });
  const reason = notCsvReason(file);
  if (reason) {
    throw invalid("NOT_CSV", `${reason} In your spreadsheet, save or download the sheet as “CSV (comma-separated values)”, then choose that file.`, { field: "file" });
  }
  return file;
}

/** "Row 3 (line 4 of the file)"; the header is row 0. */
const rowLabel = (row: number) => (row === 0 ? "The header (line 1)" : `Row ${row} (line ${row + 1})`);

/** The service's row message begins with "row 3, quantity:" at times: the table's own columns say that. */
const rowMessage = (e: RowError) => {
  const text = e.message.replace(/^row \d+(, [^:]+)?: /, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
};

function refusedTable(refused: Refused): SafeHtml {
  const { errors, total, more, rows } = refused;
  const distinct = new Set(errors.map((e) => e.row)).size;
  return html`<div class="error-summary" role="alert" tabindex="-1" id="error-summary">
<h2>Nothing was imported</h2>
<p>${rows !== null ? `The node read ${rows} ${rows === 1 ? "row" : "rows"}, and ` : ""}the file has ${total} ${total === 1 ? "problem" : "problems"}${more === 0 ? ` in ${distinct} ${distinct === 1 ? "row" : "rows"}` : ""}. The books take a whole file or none of it, so no row was written. Fix ${total === 1 ? "this row" : "these rows"} in the spreadsheet and import the file again.</p>
${more > 0 ? html`<p>The first ${errors.length} problems are listed; ${more} more are not.</p>` : ""}
</div>
<div class="table-wrap" tabindex="0"><table id="row-errors">
<caption class="muted small" style="text-align:left">Each problem, by row. Rows count from the first line after the header.</caption>
<thead><tr><th scope="col">Row</th><th scope="col">Column</th><th scope="col">Problem</th><th scope="col">Code</th></tr></thead>
<tbody>${errors.map((e) => html`<tr><td>${rowLabel(e.row)}</td><td>${e.column ? html`<code>${e.column}</code>` : html`<span class="muted">the whole row</span>`}</td><td>${rowMessage(e)}</td><td><code>${e.code}</code></td></tr>`)}</tbody>
</table></div>`;
}

function importPage(ctx: StewardContext, state: FormState, options: { refused?: Refused; done?: { rows: number; first: number; last: number } } = {}): string {
  const { base, pod } = ctx;
  state = tidy(state);
  const done = options.done;
  return booksPage(
    ctx,
    { title: "Import a CSV", section: "import" },
    html`<h1>Import a CSV file</h1>
${
  done
    ? html`<div class="done" role="status"><p>Imported <strong>${done.rows} ${done.rows === 1 ? "row" : "rows"}</strong>: the node read ${done.rows} ${done.rows === 1 ? "row" : "rows"} and recorded ${done.rows === 1 ? html`<a href="${base}/books/entries/${done.first}">entry ${done.first}</a>` : html`entries <a href="${base}/books/entries/${done.first}">${done.first}</a> to <a href="${base}/books/entries/${done.last}">${done.last}</a>`}.</p></div>`
    : ""
}
${options.refused ? refusedTable(options.refused) : errorSummary(state, { file: "CSV file" })}
<p>Books kept in a spreadsheet come in here. The first line names the columns, in any order: <code>kind</code>, <code>resource</code> and <code>quantity</code> always; <code>fund</code> for draws, expenditure and transfers out; <code>corrects</code> for corrections; and, as needed, <code>unit</code>, <code>market_value</code>, <code>charged</code>, <code>member</code> (a pseudonym), <code>counterparty_pod</code>, <code>counterparty_label</code>, <code>public_memo</code>, <code>private_memo</code>, <code>occurred_at</code> (such as 2026-11-28).</p>
<ul>
<li><strong>All or nothing.</strong> The node checks every row against the books first, with the running stock. If any row is wrong, nothing is imported and this page lists each bad row. If all are right, all are written at once.</li>
<li>The same file is never imported twice: the node remembers each file it imported.</li>
<li>UTF-8 text, commas between cells, quotes as a spreadsheet writes them. Up to ${Math.floor(CSV_UPLOAD_MAX_BYTES / (1024 * 1024))} MB here; bigger files: <code>npx hyphae ledger import --pod ${pod.slug} file.csv</code>.</li>
<li>The import happens while this page waits (with JavaScript on, a bar shows the file being sent, then that the node is checking it); a file of tens of thousands of rows can take a minute.</li>
</ul>
${formStart(ctx, `${base}/books/import`, { multipart: true, label: "Import a CSV file" })}
${field({ name: "file", label: "CSV file", type: "file", accept: ".csv,text/csv", required: true, hint: "A .csv file saved from a spreadsheet." }, state)}
<button type="submit">Check and import</button>
</form>`,
  );
}

function refusedOf(error: DomainError): Refused {
  const d = error.details ?? {};
  const errors = Array.isArray(d.errors) ? (d.errors as RowError[]) : [];
  return { errors, total: typeof d.total === "number" ? d.total : errors.length, more: typeof d.more === "number" ? d.more : 0, rows: typeof d.rows === "number" ? d.rows : null };
}

/** Room for the form's other fields and the multipart boundaries around the file. */
const FORM_OVERHEAD = 64 * 1024;

/**
 * A browser says how big its upload is before sending it: a file plainly over the limit is
 * answered at once, next to the file input, without reading it. (Files just over the limit
 * are stopped while they are read, by the form's own cap.)
 */
async function refuseOversize(deps: ServiceDeps, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const steward = request.steward;
  const length = Number(request.headers["content-length"] ?? 0);
  if (request.method !== "POST" || !steward || !(length > CSV_UPLOAD_MAX_BYTES + FORM_OVERHEAD)) return;
  const ctx: StewardContext = { deps, principal: steward.principal, pod: steward.pod, base: stewardBase(steward.pod.slug), request, reply };
  const error = invalid("FILE_TOO_LARGE", `The file is too large: at most ${CSV_UPLOAD_MAX_BYTES / (1024 * 1024)} MB here. Import bigger files with the hyphae command.`, { field: "file" });
  // The rest of the upload is not read; the connection closes after the answer.
  reply.header("connection", "close");
  await sendPage(reply, importPage(ctx, stateFromError(error, {})), 413);
}

export function registerImportForms(app: FastifyInstance, deps: ServiceDeps): void {
  void app.register(async (scope) => {
    // After the steward scope's own session check (a parent hook runs first).
    scope.addHook("preHandler", (request, reply) => refuseOversize(deps, request, reply));
    registerImportRoutes(scope, deps);
  });
}

function registerImportRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string; rows?: string; first?: string; last?: string }>(app, deps, "/books/import", async (ctx, query) => {
    const [rows, first, last] = [wholeNumber(query.rows), wholeNumber(query.first), wholeNumber(query.last)];
    const done = query.done === "imported" && rows && first && last ? { rows, first, last } : undefined;
    return importPage(ctx, emptyState(), { ...(done && { done }) });
  });

  stewardPost(app, deps, "/books/import", {
    maxFileBytes: CSV_UPLOAD_MAX_BYTES,
    handle: async (ctx, input) => {
      const file = checkUpload(input.files.get("file"));
      let result: ledgerIo.ImportResult;
      try {
        // The same form sent again gets the first answer, not "already imported".
        const prior = await storedResult<ledgerIo.ImportResult>(deps);
        result = prior ? prior.value : await ledgerIo.importLedgerCsv(deps, ctx.pod.slug, { bytes: file.bytes });
      } catch (error) {
        if (error instanceof DomainError && error.code === "CSV_INVALID") {
          sendPage(ctx.reply, importPage(ctx, emptyState(), { refused: refusedOf(error) }), 400);
          return "";
        }
        throw naming(error, "file");
      }
      return `${ctx.base}/books/import?done=imported&rows=${result.rows}&first=${result.firstSeq}&last=${result.lastSeq}`;
    },
    render: async (ctx, state) => importPage(ctx, state),
  });
}
