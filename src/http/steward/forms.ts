/**
 * How a steward form works, for every page of the web app:
 *
 * - `stewardGet` / `stewardPost` register a route under `/pods/:slug/steward/…` whose handler
 *   gets a `StewardContext` (the signed-in steward, the pod, the service deps). Sessions are
 *   checked by the plugin (index.ts) before the handler runs.
 * - A POST is checked for its origin and CSRF token, refused when a text field carries HTML,
 *   then run under the form's one-time key (`_once`), so the same form sent twice applies once
 *   and answers the same way (the services' `writeOnce`, as the API's Idempotency-Key).
 * - `handle` calls a service and returns where to go next (303, Post/Redirect/Get). A
 *   DomainError re-renders the form with `render`, its message next to the field it names.
 *
 * No business rule lives here: the services decide; this file only carries values and errors.
 */
import { createHash, randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { DomainError, invalid } from "../../domain/errors.ts";
import { STATUS_OF_KIND } from "../errors.ts";
import type { Pod } from "../../domain/pods.ts";
import { findBadText, hasMarkup } from "../../domain/text.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import { withIdempotencyKey } from "../../services/idempotency.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { StewardPrincipal } from "../../services/steward-sessions.ts";
import { assertCsrf, assertSameOrigin, stewardBase } from "./session.ts";

declare module "fastify" {
  interface FastifyRequest {
    steward: { principal: StewardPrincipal; pod: Pod } | null;
  }
}

export interface StewardContext {
  deps: ServiceDeps;
  principal: StewardPrincipal;
  pod: Pod;
  /** `/pods/{slug}/steward` */
  base: string;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** A submitted form: single values by name, every value of a repeated name, and uploaded files. */
export interface FormInput {
  values: Record<string, string>;
  all(name: string): string[];
  files: Map<string, UploadedFile>;
}

export interface UploadedFile {
  filename: string;
  /** What the browser says it is (check the bytes, not this). */
  mediaType: string;
  bytes: Buffer;
}

/** What a form shows after a refused submission: the values sent and a message per field. */
export interface FormState {
  values: Record<string, string>;
  errors: Record<string, string>;
  /** The error that names no field (or all of them). */
  message?: string;
  code?: string;
}

export const emptyState = (values: Record<string, string> = {}): FormState => ({ values, errors: {} });

export const statusOf = (error: DomainError) => STATUS_OF_KIND[error.kind];

/**
 * The form state for a refused submission: each zod issue's message goes to the field it
 * names (`fieldFor` maps a service's field path, such as `services.0.name`, to an input name;
 * by default the path itself, then its first part), the first message also on top.
 */
export function stateFromError(error: DomainError, values: Record<string, string>, fieldFor?: (path: string) => string | undefined): FormState {
  const errors: Record<string, string> = {};
  const issues = (error.details?.issues as Array<{ field: string; message: string }> | undefined) ?? [];
  const named = typeof error.details?.field === "string" ? [{ field: error.details.field, message: error.message }] : [];
  for (const issue of [...issues, ...named]) {
    const path = issue.field.replace(/^body\./, "");
    const name = fieldFor?.(path) ?? (path in values ? path : path.split(/[.[]/)[0]!);
    if (name && name !== "(root)" && !errors[name]) errors[name] = plain(issue.message);
  }
  return { values, errors, message: plain(error.message), code: error.code };
}

/** zod's wording, made plain for a form ("Too small: expected string to have >=1 characters" → "This cannot be empty"). */
function plain(message: string): string {
  if (/expected string to have >=1 characters/.test(message) || /^Required$/.test(message)) return "This cannot be empty.";
  const tooLong = /expected string to have <=(\d+) characters/.exec(message);
  if (tooLong) return `This is too long: at most ${tooLong[1]} characters.`;
  if (/Invalid input: expected number, received NaN/.test(message)) return "This must be a number.";
  return message;
}

function fingerprint(request: FastifyRequest, input: FormInput): string {
  const entries = Object.entries(input.values).filter(([k]) => k !== "_csrf" && k !== "_once").sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const files = [...input.files].map(([name, f]) => [name, createHash("sha256").update(f.bytes).digest("hex")]);
  return createHash("sha256").update(JSON.stringify([request.url.split("?")[0], entries, files])).digest("base64url");
}

/** Turns a urlencoded body (as @fastify/formbody parsed it) into a FormInput. */
function fromUrlEncoded(body: unknown): FormInput {
  const values: Record<string, string> = {};
  const lists = new Map<string, string[]>();
  if (body && typeof body === "object") {
    for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
      const list = (Array.isArray(value) ? value : [value]).map((v) => String(v ?? ""));
      lists.set(name, list);
      values[name] = list[0] ?? "";
    }
  }
  return { values, all: (name) => lists.get(name) ?? [], files: new Map() };
}

/** Reads a multipart body (fields and files) with a cap on each file's size. */
async function fromMultipart(request: FastifyRequest, maxFileBytes: number): Promise<FormInput> {
  const values: Record<string, string> = {};
  const lists = new Map<string, string[]>();
  const files = new Map<string, UploadedFile>();
  let fileField = "file";
  const tooLarge = (field: string) => invalid("FILE_TOO_LARGE", `The file is too large: at most ${Math.floor(maxFileBytes / 1024)} kB.`, { field });
  try {
    for await (const part of request.parts({ limits: { fileSize: maxFileBytes, files: 4, fields: 200 } })) {
      if (part.type === "file") {
        fileField = part.fieldname;
        const bytes = await part.toBuffer();
        if (part.filename || bytes.length) files.set(part.fieldname, { filename: part.filename, mediaType: part.mimetype, bytes });
      } else {
        const value = String(part.value ?? "");
        lists.set(part.fieldname, [...(lists.get(part.fieldname) ?? []), value]);
        values[part.fieldname] ??= value;
      }
    }
  } catch (error) {
    // Over the cap, @fastify/multipart throws from toBuffer or from the loop itself (when the
    // file ends just past the limit): either way it is the form's message, next to the file.
    if ((error as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE") throw tooLarge(fileField);
    throw error;
  }
  return { values, all: (name) => lists.get(name) ?? [], files };
}

/** NUL, lone surrogates and HTML markup are refused in every text field, naming the field. */
function refuseBadInput(input: FormInput, allowMarkup: readonly string[]): void {
  for (const [name, list] of [...new Set(Object.keys(input.values))].map((n) => [n, input.all(n)] as const)) {
    for (const value of list) {
      const bad = findBadText(value);
      if (bad) throw invalid("INVALID_TEXT", `This ${bad.problem}.`, { field: name });
      if (!allowMarkup.includes(name) && hasMarkup(value)) {
        throw invalid("MARKUP_NOT_ALLOWED", "Write plain text here: HTML tags and scripts are not accepted, so nothing was saved.", { field: name });
      }
    }
  }
}

function contextOf(deps: ServiceDeps, request: FastifyRequest, reply: FastifyReply): StewardContext {
  const steward = request.steward;
  if (!steward) throw new Error("steward route reached without a session (the plugin's hook must run first)");
  return { deps, principal: steward.principal, pod: steward.pod, base: stewardBase(steward.pod.slug), request, reply };
}

export function sendPage(reply: FastifyReply, body: string, status = 200) {
  return reply.code(status).header("content-type", "text/html; charset=utf-8").send(body);
}

/** A GET page of the steward app. `render` returns the whole HTML document. */
export function stewardGet<Q = Record<string, string | undefined>>(
  app: FastifyInstance,
  deps: ServiceDeps,
  path: string,
  render: (ctx: StewardContext, query: Q) => Promise<string>,
): void {
  app.get(path, async (request, reply) => {
    const ctx = contextOf(deps, request, reply);
    const body = await render(ctx, (request.query ?? {}) as Q);
    if (reply.sent) return reply;
    return sendPage(reply, body);
  });
}

export interface PostOptions {
  /** Calls the service; returns the path (or URL) to go to next. */
  handle: (ctx: StewardContext, input: FormInput) => Promise<string>;
  /** The form page again, showing a refused submission. */
  render: (ctx: StewardContext, state: FormState) => Promise<string>;
  /** Maps a service's field path to the form's input name. */
  fieldFor?: (path: string) => string | undefined;
  /** Fields whose text may hold markup (none do today). */
  allowMarkup?: readonly string[];
  /** For forms with a file input (enctype multipart/form-data): the largest file accepted. */
  maxFileBytes?: number;
}

/** A POST of the steward app: checks, runs once, redirects; a refused submission re-renders the form. */
export function stewardPost(app: FastifyInstance, deps: ServiceDeps, path: string, options: PostOptions): void {
  app.post(path, async (request, reply) => {
    const ctx = contextOf(deps, request, reply);
    assertSameOrigin(request, deps.config.publicUrl);
    let input: FormInput;
    if (request.isMultipart()) {
      if (!options.maxFileBytes) throw invalid("UNSUPPORTED_FORM", "This form takes no files.");
      try {
        input = await fromMultipart(request, options.maxFileBytes);
      } catch (error) {
        // The CSRF token may not have been read yet: an oversized file is reported, nothing stored.
        if (error instanceof DomainError) return sendPage(reply, await options.render(ctx, stateFromError(error, {})), statusOf(error));
        throw error;
      }
    } else {
      input = fromUrlEncoded(request.body);
    }
    assertCsrf(ctx.principal, input.values._csrf);
    try {
      refuseBadInput(input, options.allowMarkup ?? []);
      const once = input.values._once;
      const run = () => options.handle(ctx, input);
      let next: string;
      if (once && /^[\x21-\x7e]{1,255}$/.test(once)) {
        const claim = { scope: `web:${ctx.principal.podId}`, key: once, fingerprint: fingerprint(request, input) };
        next = (await withIdempotencyKey(claim, run)).value;
      } else {
        next = await run();
      }
      if (reply.sent) return reply;
      return reply.code(303).header("location", next).send();
    } catch (error) {
      if (!(error instanceof DomainError) || error.kind === "unavailable") throw error;
      const values = { ...input.values };
      delete values._csrf;
      delete values._once;
      return sendPage(reply, await options.render(ctx, stateFromError(error, values, options.fieldFor)), statusOf(error));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Building forms

/** The opening tag of a steward form, with its CSRF token and one-time key. */
export function formStart(ctx: StewardContext, action: string, options: { multipart?: boolean; id?: string; label?: string; data?: Record<string, string> } = {}): SafeHtml {
  const data = Object.entries(options.data ?? {}).map(([name, value]) => html` data-${name.replace(/[^a-z-]/g, "")}="${value}"`);
  return html`<form method="post" action="${action}"${options.multipart ? html` enctype="multipart/form-data"` : ""}${options.id ? html` id="${options.id}"` : ""}${options.label ? html` aria-label="${options.label}"` : ""}${data}>
<input type="hidden" name="_csrf" value="${ctx.principal.csrfToken}">
<input type="hidden" name="_once" value="${randomUUID()}">`;
}

/** A form that is only a button (accept, withdraw, end a session). */
export function buttonForm(ctx: StewardContext, action: string, label: string, options: { hidden?: Record<string, string>; kind?: "secondary" | "danger"; describedBy?: string } = {}): SafeHtml {
  return html`${formStart(ctx, action)}${Object.entries(options.hidden ?? {}).map(([n, v]) => html`<input type="hidden" name="${n}" value="${v}">`)}<button type="submit"${options.kind ? html` class="${options.kind}"` : ""}${options.describedBy ? html` aria-describedby="${options.describedBy}"` : ""}>${label}</button></form>`;
}

export interface FieldSpec {
  name: string;
  label: string;
  type?: "text" | "number" | "email" | "url" | "date" | "datetime-local" | "textarea" | "select" | "checkbox" | "file" | "password";
  hint?: string;
  required?: boolean;
  /** Shown when the state has no value for the field. */
  value?: string;
  options?: Array<{ value: string; label: string }>;
  rows?: number;
  /** For number fields: "any" for decimals. */
  step?: string;
  min?: string;
  accept?: string;
  autocomplete?: string;
  inputmode?: "decimal" | "numeric" | "text";
  maxlength?: number;
}

/** A labelled input with its hint and its error, linked for screen readers. */
export function field(spec: FieldSpec, state: FormState = emptyState()): SafeHtml {
  const id = `f-${spec.name.replace(/[^\w-]/g, "-")}`;
  const error = state.errors[spec.name];
  const value = state.values[spec.name] ?? spec.value ?? "";
  const described = [spec.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  const common = html` id="${id}" name="${spec.name}"${spec.required ? html` required` : ""}${described ? html` aria-describedby="${described}"` : ""}${error ? html` aria-invalid="true"` : ""}`;
  const hint = spec.hint ? html`<span class="hint" id="${id}-hint">${spec.hint}</span>` : "";
  const err = error ? html`<span class="error" id="${id}-error">${error}</span>` : "";
  const type = spec.type ?? "text";
  if (type === "checkbox") {
    const checked = state.values[spec.name] !== undefined ? state.values[spec.name] === "on" || state.values[spec.name] === "true" : spec.value === "on";
    return html`<div class="field check"><input type="checkbox"${common}${checked ? html` checked` : ""}> <label for="${id}">${spec.label}</label>${hint}${err}</div>`;
  }
  let control: SafeHtml;
  if (type === "textarea") {
    control = html`<textarea${common} rows="${spec.rows ?? 5}"${spec.maxlength ? html` maxlength="${spec.maxlength}"` : ""}>${value}</textarea>`;
  } else if (type === "select") {
    control = html`<select${common}>${(spec.options ?? []).map((o) => html`<option value="${o.value}"${o.value === value ? html` selected` : ""}>${o.label}</option>`)}</select>`;
  } else {
    control = html`<input type="${type}"${common}${type === "file" ? "" : html` value="${value}"`}${spec.step ? html` step="${spec.step}"` : ""}${spec.min ? html` min="${spec.min}"` : ""}${spec.accept ? html` accept="${spec.accept}"` : ""}${spec.autocomplete ? html` autocomplete="${spec.autocomplete}"` : ""}${spec.inputmode ? html` inputmode="${spec.inputmode}"` : ""}${spec.maxlength ? html` maxlength="${spec.maxlength}"` : ""}>`;
  }
  return html`<div class="field${error ? " has-error" : ""}"><label for="${id}">${spec.label}${spec.required ? html` <span class="req">(required)</span>` : ""}</label>${hint}${control}${err}</div>`;
}

/** The message on top of a refused form, listing what to fix with links to the fields. */
export function errorSummary(state: FormState, labels: Record<string, string> = {}): SafeHtml {
  if (!state.message && Object.keys(state.errors).length === 0) return html``;
  const named = Object.entries(state.errors);
  return html`<div class="error-summary" role="alert" tabindex="-1" id="error-summary">
<h2>Nothing was saved</h2>
<p>${state.message ?? "Please check the fields below."}</p>
${named.length > 1 || (named.length === 1 && labels[named[0]![0]]) ? html`<ul>${named.map(([name, message]) => html`<li><a href="#f-${name.replace(/[^\w-]/g, "-")}">${labels[name] ?? name}</a>: ${message}</li>`)}</ul>` : ""}
${state.code ? html`<p class="muted small">Error code: <code>${state.code}</code></p>` : ""}
</div>`;
}

/** A confirmation after a redirect (`?done=code`), from the page's own messages; unknown codes show nothing. */
export function notice(query: { done?: string } | undefined, messages: Record<string, string>): SafeHtml {
  const code = query?.done;
  if (!code || !Object.hasOwn(messages, code)) return html``;
  return html`<div class="done" role="status">${messages[code]}</div>`;
}
