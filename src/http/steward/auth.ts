/**
 * Signing in and out, and the stewards page: who the stewards are (by number), inviting the
 * next steward with a one-time link, a sign-in link for one's own other device, the pod's
 * live sessions (any steward can end any), and stepping down.
 */
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import { html } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import * as sessions from "../../services/steward-sessions.ts";
import * as passkeys from "../../services/steward-passkeys.ts";
import { getPod } from "../../services/pods.ts";
import { buttonForm, emptyState, errorSummary, field, formStart, notice, sendPage, statusOf, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { plainStewardPage, stewardPage } from "./layout.ts";
import { assertCsrf, assertSameOrigin, clearSessionCookie, describeDevice, readCookie, SESSION_COOKIE, setSessionCookie, stewardBase } from "./session.ts";

const NOTICES: Record<string, string> = {
  "session-ended": "The session was ended. That browser must sign in again with a new link.",
  "steward-ended": "The stewardship was ended, with all of that steward's sessions and passkeys.",
  "passkey-added": "The passkey was added. On the sign-in page, “Sign in with a passkey” now signs you in from this device.",
  "passkey-removed": "The passkey was removed: it can no longer sign anyone in.",
};

const LINK_MINUTES = [
  { value: "60", label: "1 hour" },
  { value: "1440", label: "1 day" },
  { value: "10080", label: "7 days" },
];

const day = (d: Date) => d.toISOString().slice(0, 10);
const when = (d: Date) => `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;

async function signInPage(deps: ServiceDeps, slug: string, link: string | undefined, problem: { code: string; message: string } | null, signedOut = false): Promise<string> {
  const pod = await getPod(deps, slug);
  const path = sessions.signInPath(pod.slug);
  let body;
  if (!link) {
    body = html`<h1>Steward sign-in for ${pod.name}</h1>
${signedOut ? html`<div class="done" role="status">You have signed out. This browser no longer has access to the steward pages.</div>` : ""}
${problem ? html`<div class="error-summary" role="alert"><h2>You are not signed in</h2><p>${problem.message}</p><p class="muted small">Error code: <code>${problem.code}</code></p></div>` : ""}
<p>Stewards sign in with a one-time link: there is no password to remember. Ask another steward of ${pod.name} for a link (they make one on the Stewards page), or ask the node's operator, who runs <code>npx hyphae steward invite --pod ${pod.slug}</code>.</p>
${passkeys.passkeysPossible(deps) ? passkeySignIn(pod.slug) : ""}
<p><a href="/pods/${pod.slug}">Back to ${pod.name}'s page</a></p>`;
  } else {
    body = html`<h1>Sign in as a steward of ${pod.name}</h1>
${problem ? html`<div class="error-summary" role="alert"><h2>This link cannot be used</h2><p>${problem.message}</p><p class="muted small">Error code: <code>${problem.code}</code></p></div>` : ""}
${
  problem
    ? html`<p><a href="/pods/${pod.slug}">Back to ${pod.name}'s page</a></p>`
    : html`<p>This one-time link signs this browser in to ${pod.name}'s steward pages. Use it on your own phone or computer: once used, it cannot be used again.</p>
<form method="post" action="${path}">
<input type="hidden" name="link" value="${link}">
<button type="submit">Sign in to ${pod.name}</button>
</form>
<p class="muted small">The node records stewards by number ("Steward 3"), never by name. Signing in keeps this browser signed in for ${deps.config.stewardSessionDays} days, or until you sign out.</p>`
}`;
  }
  return plainStewardPage(deps, { title: `Steward sign-in — ${pod.name}`, url: path }, body);
}

/**
 * "Sign in with a passkey": hidden until passkeys.js finds WebAuthn in this browser (without
 * the script, or without passkey support, only the sign-in links show).
 */
function passkeySignIn(slug: string) {
  const base = stewardBase(slug);
  return html`<section id="passkey-sign-in" hidden aria-labelledby="passkey-sign-in-heading" data-options="${base}/passkeys/sign-in/options" data-finish="${base}/passkeys/sign-in">
<h2 id="passkey-sign-in-heading">Signing in with a passkey</h2>
<p>If you added a passkey for this pod on the Stewards page, this phone or computer can sign you in with it.</p>
<button type="button">Sign in with a passkey</button>
<p class="passkey-status" role="status"></p>
</section>
<script src="${base}/passkeys.js" defer></script>`;
}

function passkeySection(ctx: StewardContext, mine: passkeys.PasskeyView[], state: FormState) {
  const { base } = ctx;
  const possible = passkeys.passkeysPossible(ctx.deps);
  return html`<h2 id="passkeys">Your passkeys</h2>
<p>A passkey lets your own phone or computer sign you in again without a new link, with its screen lock (fingerprint, face or PIN). It is optional: sign-in links keep working. Each steward adds and removes their own.</p>
${
  mine.length
    ? html`<ul>${mine.map(
        (k) => html`<li>${k.name}<br><span class="muted small">added ${day(k.createdAt)}, ${k.lastUsedAt ? `last used ${when(k.lastUsedAt)}` : "not used yet"}</span>
<div class="actions">${buttonForm(ctx, `${base}/stewards/passkeys/${k.id}/remove`, `Remove the passkey “${k.name}”`, { kind: "secondary" })}</div></li>`,
      )}</ul>`
    : html`<p class="muted">You have no passkey for ${ctx.pod.name}.</p>`
}
${
  possible
    ? html`<form id="passkey-add" method="post" action="${base}/passkeys/register" hidden aria-label="Add a passkey" data-options="${base}/passkeys/register/options">
<input type="hidden" name="_csrf" value="${ctx.principal.csrfToken}">
${field({ name: "name", label: "Name of the new passkey", hint: "So you can tell your passkeys apart, such as “my phone”.", required: true, maxlength: 60, autocomplete: "off" }, state)}
<button type="submit">Add a passkey on this device</button>
<p class="passkey-status" role="status"></p>
</form>
<p id="passkey-needs" class="muted small">Adding a passkey needs a browser that supports passkeys, with JavaScript on.</p>
<script src="${base}/passkeys.js" defer></script>`
    : html`<p class="muted small">This node is reached by an IP address, so passkeys cannot be used here (they need a domain name).</p>`
}`;
}

function stewardsPage(
  ctx: StewardContext,
  list: sessions.StewardView[],
  live: sessions.SessionView[],
  keys: { mine: passkeys.PasskeyView[]; counts: Map<string, number> },
  state: FormState,
  issued: sessions.IssuedInvite | null,
  query?: { done?: string },
): string {
  const { base, principal } = ctx;
  const linkBox = issued
    ? issued.url
      ? html`<div class="done" role="status"><h2 style="margin-top:0">${issued.stewardNumber ? "Your sign-in link" : "The invitation link"}</h2>
<p>${issued.stewardNumber ? "Open it on your other device." : "Send it to the next steward, privately (a direct message, not a public post)."} It works once, until ${when(issued.expiresAt)}. It is shown only now.</p>
<code class="link-box" id="invite-link">${issued.url}</code></div>`
      : html`<div class="done" role="status"><p>This form was already sent, and its link was shown then; no second link was made. Make another below if you need one.</p></div>`
    : "";
  return stewardPage(
    ctx,
    { title: "Stewards", section: "stewards" },
    html`<h1>Stewards</h1>
${notice(query, NOTICES)}${linkBox}${errorSummary(state)}
<p>Stewards hand over by link: invite the next steward, and step down when your turn ends.</p>
<div class="table-wrap"><table>
<caption class="muted small" style="text-align:left">The pod's stewards, by number. Names are never recorded.</caption>
<thead><tr><th scope="col">Steward</th><th scope="col">Invited by</th><th scope="col">Since</th><th scope="col">Passkeys</th><th scope="col">Status</th></tr></thead>
<tbody>${list.map(
      (s) => html`<tr><td>Steward ${s.number}${s.id === principal.stewardId ? " (you)" : ""}</td><td>${s.invitedBy ? `Steward ${s.invitedBy}` : "the node's operator"}</td><td>${day(s.createdAt)}</td><td>${keys.counts.get(s.id) ?? 0}</td><td>${
        s.endedAt ? `stepped down ${day(s.endedAt)}` : html`active ${buttonForm(ctx, `${base}/stewards/${s.number}/end`, s.id === principal.stewardId ? "Step down" : `End Steward ${s.number}'s stewardship`, { kind: "danger" })}`
      }</td></tr>`,
    )}</tbody></table></div>

<h2 id="invite">Invite the next steward</h2>
${formStart(ctx, `${base}/stewards/invite`, { label: "Invite a steward" })}
${field({ name: "minutes", label: "The link works for", type: "select", options: LINK_MINUTES, value: "1440" }, state)}
<button type="submit">Make an invitation link</button>
</form>

<h2>Sign in on another device</h2>
${formStart(ctx, `${base}/stewards/device-link`, { label: "Sign-in link for my other device" })}
<p>A one-time link that signs <em>you</em> (Steward ${principal.stewardNumber}) in on another phone or computer, valid for an hour.</p>
<button type="submit" class="secondary">Make a link for my other device</button>
</form>

<h2>Signed-in browsers</h2>
<p>Every browser signed in to ${ctx.pod.name}'s steward pages. End any you do not recognise, or one left on a shared computer.</p>
<ul>${live.map(
      (s) => html`<li>Steward ${s.stewardNumber} — ${s.device || "a browser"}${s.id === principal.sessionId ? html` <strong>(this browser)</strong>` : ""}<br><span class="muted small">signed in ${when(s.createdAt)}, last seen ${when(s.lastSeenAt)}, until ${day(s.expiresAt)}</span>
<div class="actions">${buttonForm(ctx, `${base}/stewards/sessions/${s.id}/end`, s.id === principal.sessionId ? "Sign out here" : "End this session", { kind: "secondary" })}</div></li>`,
    )}</ul>
${passkeySection(ctx, keys.mine, state)}`,
  );
}

export function registerAuthPages(app: FastifyInstance, deps: ServiceDeps): void {
  // The link's page: a button, never an automatic sign-in (link previews in chat apps fetch the URL).
  app.get<{ Params: { slug: string }; Querystring: { link?: string; done?: string } }>("/sign-in", { config: { stewardPublic: true } }, async (request, reply) => {
    const { slug } = request.params;
    const link = typeof request.query.link === "string" ? request.query.link : undefined;
    const problem = link ? await sessions.checkInvite(deps, slug, link) : null;
    return sendPage(reply, await signInPage(deps, slug, link, problem, request.query.done === "signed-out"), problem ? 410 : 200);
  });

  app.post<{ Params: { slug: string }; Body: { link?: string } }>("/sign-in", { config: { stewardPublic: true } }, async (request, reply) => {
    const { slug } = request.params;
    assertSameOrigin(request, deps.config.publicUrl);
    const link = typeof request.body?.link === "string" ? request.body.link : "";
    try {
      // A browser signing in again leaves no orphaned session behind.
      const previous = readCookie(request, SESSION_COOKIE);
      if (previous) {
        const old = await sessions.verifySession(deps, slug, previous).catch(() => null);
        if (old) await sessions.endSession(deps, slug, old.sessionId);
      }
      const opened = await sessions.redeemInvite(deps, { podSlug: slug, link, device: describeDevice(request.headers["user-agent"]) });
      setSessionCookie(reply, deps.config.publicUrl, slug, opened.secret, opened.principal.expiresAt, deps.clock.now());
      return reply.code(303).header("location", `${stewardBase(slug)}/?done=signed-in`).send();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return sendPage(reply, await signInPage(deps, slug, link || "-", { code: error.code, message: error.message }), error.code === "POD_NOT_FOUND" ? 404 : statusOf(error));
    }
  });

  // Signing out needs the CSRF token (a forged sign-out is a nuisance), nothing else.
  app.post<{ Params: { slug: string } }>("/sign-out", async (request, reply) => {
    const { principal, pod } = request.steward!;
    assertSameOrigin(request, deps.config.publicUrl);
    assertCsrf(principal, (request.body as Record<string, unknown> | undefined)?._csrf);
    await sessions.endSession(deps, pod.slug, principal.sessionId);
    clearSessionCookie(reply, deps.config.publicUrl, pod.slug);
    return reply.code(303).header("location", `${sessions.signInPath(pod.slug)}?done=signed-out`).send();
  });

  const render = async (ctx: StewardContext, state: FormState, issued: sessions.IssuedInvite | null = null, query?: { done?: string }) =>
    stewardsPage(
      ctx,
      await sessions.listStewards(deps, ctx.pod.slug),
      await sessions.listSessions(deps, ctx.pod.slug),
      { mine: await passkeys.listMyPasskeys(deps, ctx.principal), counts: await passkeys.countPasskeys(deps, ctx.pod.slug) },
      state,
      issued,
      query,
    );

  stewardGet<{ done?: string }>(app, deps, "/stewards", (ctx, query) => render(ctx, emptyState(), null, query));

  // The new link is shown on the answer itself (it is never stored), so these two answer 200, not a redirect.
  const linkForm = (path: string, make: (ctx: StewardContext, minutes: number) => Promise<sessions.IssuedInvite>) =>
    stewardPost(app, deps, path, {
      handle: async (ctx, input) => {
        const minutes = Number(input.values.minutes ?? "60");
        const issued = await make(ctx, minutes);
        sendPage(ctx.reply, await render(ctx, emptyState(), issued));
        return "";
      },
      render: (ctx, state) => render(ctx, state),
    });
  linkForm("/stewards/invite", (ctx, minutes) => sessions.createInvite(deps, { podSlug: ctx.pod.slug, createdBy: ctx.principal.stewardId, minutes }));
  linkForm("/stewards/device-link", (ctx) => sessions.createInvite(deps, { podSlug: ctx.pod.slug, createdBy: ctx.principal.stewardId, stewardId: ctx.principal.stewardId, minutes: 60 }));

  stewardPost(app, deps, "/stewards/sessions/:id/end", {
    handle: async (ctx) => {
      const id = (ctx.request.params as { id: string }).id;
      await sessions.endSession(deps, ctx.pod.slug, id);
      if (id === ctx.principal.sessionId) {
        clearSessionCookie(ctx.reply, deps.config.publicUrl, ctx.pod.slug);
        return `${sessions.signInPath(ctx.pod.slug)}?done=signed-out`;
      }
      return `${ctx.base}/stewards?done=session-ended`;
    },
    render: (ctx, state) => render(ctx, state),
  });

  // Only one's own passkeys: another steward's cannot be named here (the service matches the owner).
  stewardPost(app, deps, "/stewards/passkeys/:id/remove", {
    handle: async (ctx) => {
      await passkeys.removePasskey(deps, ctx.principal, (ctx.request.params as { id: string }).id);
      return `${ctx.base}/stewards?done=passkey-removed#passkeys`;
    },
    render: (ctx, state) => render(ctx, state),
  });

  stewardPost(app, deps, "/stewards/:number/end", {
    handle: async (ctx) => {
      const number = Number((ctx.request.params as { number: string }).number);
      await sessions.endStewardship(deps, ctx.pod.slug, number);
      if (number === ctx.principal.stewardNumber) {
        clearSessionCookie(ctx.reply, deps.config.publicUrl, ctx.pod.slug);
        return `${sessions.signInPath(ctx.pod.slug)}?done=signed-out`;
      }
      return `${ctx.base}/stewards?done=steward-ended`;
    },
    render: (ctx, state) => render(ctx, state),
  });
}
