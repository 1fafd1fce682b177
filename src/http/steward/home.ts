/** The steward overview: what needs a steward now, and where everything else is. */
import type { FastifyInstance } from "fastify";
import { html } from "../../lib/html.ts";
import * as claims from "../../services/claims.ts";
import * as follows from "../../services/follows.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { notice, stewardGet } from "./forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  "signed-in": "You are signed in. This browser stays signed in until you sign out or the session ends.",
};

export function registerHomePage(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string }>(app, deps, "/", async (ctx, query) => {
    const { pod, base } = ctx;
    const [pending, waiting] = await Promise.all([follows.listFollowers(deps, pod.slug, "pending"), claims.listClaims(deps, pod.slug, { direction: "incoming", status: "pending" })]);
    const todo = [
      pending.length ? html`<li><a href="${base}/follows">${pending.length === 1 ? "1 follow request" : `${pending.length} follow requests`}</a> waiting for an answer</li>` : "",
      waiting.length ? html`<li><a href="${base}/claims">${waiting.length === 1 ? "1 claim" : `${waiting.length} claims`}</a> from other pods waiting for an answer</li>` : "",
    ].filter(Boolean);
    return stewardPage(
      ctx,
      { title: "Overview", section: "home" },
      html`<h1>${pod.name}: steward pages</h1>
${notice(query, NOTICES)}
<h2>Waiting for you</h2>
${todo.length ? html`<ul>${todo}</ul>` : html`<p class="muted">Nothing is waiting for a steward right now.</p>`}
<h2>What you can do here</h2>
<ul>
<li><a href="${base}/charter">Charter</a>: edit the People's Service Charter, see the difference, publish it or confirm it unchanged.</li>
<li><a href="${base}/follows">Follows</a>: follow another pod, answer follow requests, unfollow.</li>
<li><a href="${base}/books">Books</a>: record entries, corrections and draws (with a printable receipt), import a CSV, publish a summary.</li>
<li><a href="${base}/offers">Offers &amp; needs</a>: post what the pod can give and what it needs, mark a need urgent.</li>
<li><a href="${base}/claims">Claims</a>: answer claims on your offers, record transfers, flag a discrepancy.</li>
<li><a href="${base}/congress">Congress</a>: the neighbouring pods' offers and needs beside yours, with one-click claims.</li>
<li><a href="${base}/stewards">Stewards</a>: invite the next steward, see and end signed-in browsers, step down.</li>
<li><a href="${base}/tokens">Tokens</a>: tokens for scripts that use the steward API.</li>
<li><a href="${base}/profile">Profile</a>: the pod's name, summary and icon.</li>
</ul>
<p class="muted small">Everything here does what the <code>hyphae</code> command and the steward API do, through the same rules. <a href="/pods/${pod.slug}">See the pod's public page.</a></p>`,
    );
  });
}
