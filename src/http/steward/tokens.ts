/**
 * Tokens for the steward API (scripts, other tools): the pod's tokens by label and expiry,
 * never the token itself; issuing one, shown once on the answer page (it is not kept, only
 * its id); revoking one of this pod's own. The same services as `hyphae token …`.
 */
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import { html } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import * as tokens from "../../services/tokens.ts";
import { buttonForm, emptyState, errorSummary, field, formStart, notice, sendPage, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  "token-revoked": "The token was revoked. Anything still using it is refused from now on.",
};

const LABELS: Record<string, string> = { label: "Label", days: "Valid for (days)" };

/** The newest tokens shown; older ones are still listed by `hyphae token list`. */
const SHOWN = 100;

const day = (d: Date) => d.toISOString().slice(0, 10);
const when = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

type TokenRow = Awaited<ReturnType<typeof tokens.listTokens>>[number];

/** What the answer to "issue a token" shows: the token once, or why none was made this time. */
type Issued = { kind: "new"; token: string; label: string | null; expiresAt: Date } | { kind: "repeat"; label: string | null };

function tokensPage(ctx: StewardContext, list: TokenRow[], state: FormState, issued: Issued | null, query?: { done?: string }): string {
  const { base, deps } = ctx;
  const now = deps.clock.now();
  const newest = [...list].reverse().slice(0, SHOWN);
  const stateOf = (t: TokenRow) => (t.revokedAt ? `revoked ${day(t.revokedAt)}` : t.expiresAt <= now ? "expired" : "active");
  const answer = !issued
    ? ""
    : issued.kind === "new"
      ? html`<div class="done" role="status"><h2 style="margin-top:0">Your new token${issued.label ? html`: ${issued.label}` : ""}</h2>
<p>Copy it now and keep it somewhere safe: <strong>it is shown only this once</strong>. It works until ${when(issued.expiresAt)}, or until a steward revokes it.</p>
<code class="link-box" id="new-token">${issued.token}</code>
<p class="small">Send it with each request to the steward API: <code>Authorization: Bearer &lt;token&gt;</code></p></div>`
      : html`<div class="done" role="status"><p>This form was already sent, and its token was shown then; no second token was made.${issued.label ? html` It is the one labelled “${issued.label}” below.` : ""} If it was not copied, revoke it and issue another.</p></div>`;
  return stewardPage(
    ctx,
    { title: "Tokens", section: "tokens" },
    html`<h1>API tokens</h1>
${notice(query, NOTICES)}${answer}${errorSummary(state, LABELS)}
<p>A token lets a script or another tool act for ${ctx.pod.name} through the steward API, as a steward can. Give each one a label that says where it is used, and revoke it when that ends.</p>

<h2 id="issue">Issue a token</h2>
${formStart(ctx, `${base}/tokens/issue`, { label: "Issue a token" })}
${field({ name: "label", label: "Label", maxlength: 200, autocomplete: "off", hint: "Where it will be used, such as “stock script on the shop laptop”." }, state)}
${field({ name: "days", label: "Valid for (days)", type: "number", min: "1", step: "1", inputmode: "numeric", required: true, value: String(deps.config.tokenTtlDays), hint: "From 1 to 3650 days." }, state)}
<button type="submit">Issue a token</button>
</form>

<h2 id="list">The pod's tokens</h2>
${
  newest.length
    ? html`<div class="table-wrap" tabindex="0"><table>
<caption class="muted small" style="text-align:left">Newest first. The tokens themselves are never kept here, only their labels and dates.</caption>
<thead><tr><th scope="col">Label</th><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
<tbody>${newest.map(
        (t, i) => html`<tr><td id="tk-${i}">${t.label || html`<span class="muted">no label</span>`}<br><span class="muted small">id ${t.jti.slice(0, 8)}</span></td><td>${day(t.issuedAt)}</td><td>${day(t.expiresAt)}</td><td>${stateOf(t)}</td><td>${
          t.revokedAt || t.expiresAt <= now ? "" : buttonForm(ctx, `${base}/tokens/${t.jti}/revoke`, "Revoke", { kind: "danger", describedBy: `tk-${i}` })
        }</td></tr>`,
      )}</tbody></table></div>
${list.length > SHOWN ? html`<p class="muted small">${list.length - SHOWN} older tokens are not shown; <code>npx hyphae token list --pod ${ctx.pod.slug}</code> lists them all.</p>` : ""}`
    : html`<p class="muted">${ctx.pod.name} has no tokens yet.</p>`
}`,
  );
}

export function registerTokenForms(app: FastifyInstance, deps: ServiceDeps): void {
  const render = async (ctx: StewardContext, state: FormState, issued: Issued | null = null, query?: { done?: string }) =>
    tokensPage(ctx, await tokens.listTokens(deps, ctx.pod.slug), state, issued, query);

  stewardGet<{ done?: string }>(app, deps, "/tokens", (ctx, query) => render(ctx, emptyState(), null, query));

  // The new token is shown on the answer itself (it is never stored), so this answers 200, not a redirect.
  stewardPost(app, deps, "/tokens/issue", {
    handle: async (ctx, input) => {
      const days = (input.values.days ?? "").trim();
      let issued: Issued;
      try {
        const made = await tokens.issueToken(deps, { podSlug: ctx.pod.slug, label: input.values.label ?? null, ...(days !== "" && { ttlDays: Number(days) }) });
        issued = { kind: "new", token: made.token, label: made.label, expiresAt: made.expiresAt };
      } catch (error) {
        if (!(error instanceof DomainError) || error.code !== "TOKEN_ALREADY_ISSUED") throw error;
        issued = { kind: "repeat", label: (error.details?.label as string | null | undefined) ?? null };
      }
      sendPage(ctx.reply, await render(ctx, emptyState(), issued));
      return "";
    },
    render: (ctx, state) => render(ctx, state),
    fieldFor: (path) => (path === "ttlDays" ? "days" : undefined),
  });

  stewardPost(app, deps, "/tokens/:jti/revoke", {
    handle: async (ctx) => {
      await tokens.revokeToken(deps, (ctx.request.params as { jti: string }).jti, ctx.pod.slug);
      return `${ctx.base}/tokens?done=token-revoked`;
    },
    render: (ctx, state) => render(ctx, { ...state, values: {} }),
  });
}
