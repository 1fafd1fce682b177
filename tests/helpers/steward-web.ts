/**
 * A cookie-keeping HTTP client for the steward web app's route tests: it signs in with a real
 * one-time link (made by the same service the CLI calls), keeps the session cookie, and fills
 * each form's hidden `_csrf` and `_once` from the page it came from, as a browser would.
 */
import { expect } from "vitest";
import { createInvite } from "../../src/services/steward-sessions.ts";
import type { TestNode } from "./node.ts";

export interface WebResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Where a 303 sends the browser. */
  location: string | null;
}

/** The hidden fields (and action) of the first form on a page whose action ends with `action`. */
export function formOf(page: string, action: string): Record<string, string> {
  const forms = page.split(/<form\b/).slice(1);
  const form = forms.find((f) => {
    const m = /action="([^"]*)"/.exec(f);
    return m && m[1]!.replace(/&amp;/g, "&").endsWith(action);
  });
  if (!form) throw new Error(`no form posting to …${action} on this page`);
  const body = form.slice(0, form.indexOf("</form>"));
  const fields: Record<string, string> = {};
  for (const m of body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return fields;
}

export class StewardClient {
  readonly origin: string;
  readonly slug: string;
  cookie: string | null = null;

  constructor(origin: string, slug: string) {
    this.origin = origin;
    this.slug = slug;
  }

  get base(): string {
    return `/pods/${this.slug}/steward`;
  }

  /** A new steward signed in through a link the CLI's service made. */
  static async signIn(node: TestNode, slug: string): Promise<StewardClient> {
    const client = new StewardClient(node.origin, slug);
    const invite = await createInvite(node.deps, { podSlug: slug });
    const r = await client.useLink(invite.url!);
    if (r.status !== 303) throw new Error(`sign-in failed: ${r.status} ${r.text.slice(0, 300)}`);
    return client;
  }

  /** Opens a sign-in link's page and presses its button. */
  async useLink(url: string): Promise<WebResponse> {
    const link = new URL(url).searchParams.get("link") ?? "";
    return this.post(`${this.base}/sign-in`, { link }, { csrf: false });
  }

  async request(method: string, path: string, init: { body?: string | FormData; headers?: Record<string, string> } = {}): Promise<WebResponse> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookie) headers.cookie = this.cookie;
    const response = await fetch(this.origin + path, { method, headers, redirect: "manual", ...(init.body !== undefined && { body: init.body }) });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) {
      const [pair] = setCookie.split(";");
      this.cookie = /Max-Age=0/.test(setCookie) ? null : pair!;
    }
    return { status: response.status, headers: response.headers, text: await response.text(), location: response.headers.get("location") };
  }

  get(path: string): Promise<WebResponse> {
    return this.request("GET", path);
  }

  /**
   * Posts a form. By default the hidden fields come from the page at `from` (the form whose
   * action is `path`): `csrf: false` sends none, `fields` override any of them.
   */
  async post(path: string, fields: Record<string, string | string[]>, options: { from?: string; csrf?: boolean; headers?: Record<string, string> } = {}): Promise<WebResponse> {
    let hidden: Record<string, string> = {};
    if (options.csrf !== false) {
      const page = await this.get(options.from ?? path.replace(/\/[^/]*$/, "") ?? this.base);
      hidden = formOf(page.text, path);
    }
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...hidden, ...fields })) {
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
    }
    return this.request("POST", path, {
      body: body.toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.origin, ...options.headers },
    });
  }

  /** Posts a multipart form (file uploads), hidden fields taken from the page at `from`. */
  async upload(path: string, from: string, fields: Record<string, string>, files: Record<string, { name: string; type: string; bytes: Uint8Array<ArrayBuffer> }>): Promise<WebResponse> {
    const page = await this.get(from);
    const form = new FormData();
    for (const [name, value] of Object.entries({ ...formOf(page.text, path), ...fields })) form.append(name, value);
    for (const [name, f] of Object.entries(files)) form.append(name, new Blob([f.bytes], { type: f.type }), f.name);
    return this.request("POST", path, { body: form, headers: { origin: this.origin } });
  }
}

/**
 * Scripts on a steward page: none inline, only the node's own enhance.js (a script whose
 * source is this node, deferred, with no body). Returns how many there are.
 */
export function scriptsOf(page: string): string[] {
  return [...page.matchAll(/<script\b[^>]*>[\s\S]*?<\/script>|<script\b[^>]*>/gi)].map((m) => m[0]);
}
export const ENHANCE_SCRIPT = /^<script src="\/pods\/[a-z0-9_-]+\/steward\/enhance\.js" defer><\/script>$/;
/** The passkey pages' second script of our own (Stewards and sign-in pages, on a node with a domain name). */
export const PASSKEYS_SCRIPT = /^<script src="\/pods\/[a-z0-9_-]+\/steward\/passkeys\.js" defer><\/script>$/;
export const onlyOwnScripts = (page: string) => scriptsOf(page).every((s) => ENHANCE_SCRIPT.test(s) || PASSKEYS_SCRIPT.test(s));

/** A page's HTML checks: under 100 kB, no inline script, unique ids, a label for every visible control, one h1. */
export function expectAccessible(page: string): void {
  expect(page.length).toBeLessThan(100_000);
  expect(onlyOwnScripts(page)).toBe(true);
  const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  expect(new Set(ids).size).toBe(ids.length);
  for (const m of page.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
    if (/type="hidden"/.test(m[2]!)) continue;
    const id = /\sid="([^"]+)"/.exec(m[2]!)?.[1];
    expect(id, m[0]).toBeTruthy();
    expect(page, `label for ${id}`).toContain(`<label for="${id}">`);
  }
  expect(page.match(/<h1[\s>]/g)?.length).toBe(1);
}
