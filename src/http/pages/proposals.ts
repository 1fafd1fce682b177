/**
 * Public HTML pages of offers and needs: `/pods/{slug}/offers/{n}` and `/needs/{n}` (the
 * same URL as the ActivityPub id: browsers get this page, ActivityPub clients the JSON-LD
 * from congress-route.ts), and the lists `/pods/{slug}/offers` and `/pods/{slug}/needs`
 * (open ones, urgent first; closed ones below). Everything shown is pod-level and public.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { formatQuantity } from "../../domain/books/summary.ts";
import { formatDay, lastDayOf, proposalDetailLines, proposalHeadline, proposalStatusLine } from "../../domain/congress/proposals.ts";
import { html, textToHtml, raw } from "../../lib/html.ts";
import { findPod } from "../../services/pods.ts";
import { findProposal, listProposals, type ProposalView } from "../../services/proposals.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { notFoundPage, page, sendHtml } from "./layout.ts";

const STYLE = `.urgent{color:#b42318;font-weight:700}.status{display:inline-block;font-size:.85rem;padding:0 .5rem;border-radius:1rem;border:1px solid var(--line)}
.status-open{color:var(--accent)}.closed{opacity:.75}`;

export async function registerProposalPages(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const origin = deps.config.publicUrl;

  const noSuchPod = (reply: FastifyReply, slug: string) =>
    sendHtml(reply.header("cache-control", "no-store"), notFoundPage(origin, "No such pod", html`<p>There is no pod called <code>${slug}</code> on this node. <a href="/">See the pods here.</a></p>`), 404);

  const statusBadge = (p: ProposalView) => html`<span class="status status-${p.status}">${p.status}</span>`;

  const item = (p: ProposalView) => html`<li class="${p.status === "open" ? "" : "closed"}">
${p.urgent ? html`<span class="urgent">URGENT</span> ` : ""}<a href="${p.url}">${p.name}</a> — ${formatQuantity(p.remaining, p.unit)} of ${formatQuantity(p.total, p.unit)} left${p.location ? html`, ${p.location}` : ""}
${p.status === "open" ? html`<span class="muted">until ${formatDay(lastDayOf(p.expiresAt))}</span>` : statusBadge(p)}</li>`;

  for (const kind of ["offer", "need"] as const) {
    const plural = `${kind}s`;
    const purpose = kind === "offer" ? "offer" : "request";

    app.get<{ Params: { slug: string } }>(`/pods/:slug/${plural}`, async (request, reply) => {
      const pod = await findPod(deps, request.params.slug);
      if (!pod) return noSuchPod(reply, request.params.slug);
      const all = await listProposals(deps, pod.slug, kind, { status: "all", limit: 200 });
      const open = all.filter((p) => p.status === "open");
      const closed = all.filter((p) => p.status !== "open").slice(0, 50);
      const url = new URL(`/pods/${pod.slug}/${plural}`, origin).href;
      const title = `${kind === "offer" ? "Offers" : "Needs"} of ${pod.name}`;
      const body = html`
<p><a href="${deps.uris.actor(pod.slug).href}">${pod.name}</a></p>
<h1>${title}</h1>
<p class="muted">${kind === "offer" ? "Surplus this pod shares" : "What this pod needs"}. Pods in this pod's congress (pods that follow each other) claim ${kind === "offer" ? "offers" : "needs"} from their own node; followers on Mastodon see each one as a post.</p>
${open.length ? html`<ul>${open.map(item)}</ul>` : html`<p>No open ${plural} right now.</p>`}
${closed.length ? html`<h2>Closed</h2><ul>${closed.map(item)}</ul>` : ""}`;
      return sendHtml(reply, page({ title, description: `${title}: ${open.length} open`, url, type: "website", style: STYLE }, body));
    });

    app.get<{ Params: { slug: string; number: string } }>(`/pods/:slug/${plural}/:number`, async (request, reply) => {
      const pod = await findPod(deps, request.params.slug);
      if (!pod) return noSuchPod(reply, request.params.slug);
      const n = /^[1-9]\d{0,8}$/.test(request.params.number) ? Number(request.params.number) : 0;
      const found = n ? await findProposal(deps, pod.slug, purpose, n) : null;
      if (!found) {
        return sendHtml(
          reply.header("cache-control", "no-store"),
          notFoundPage(origin, `No such ${kind}`, html`<p>${pod.name} has no ${kind} ${request.params.number}. <a href="/pods/${pod.slug}/${plural}">See its ${plural}.</a></p>`),
          404,
        );
      }
      const p = found.proposal;
      const headline = proposalHeadline(p);
      const status = proposalStatusLine(p);
      const claim =
        p.status === "open"
          ? html`<div class="card"><h2 style="margin-top:0">How to claim it</h2><p>Pods in this pod's congress (pods that follow ${pod.name} and that it follows back) claim it from their own node: <code>hyphae claim ${p.url} --pod &lt;your pod&gt; --quantity &lt;q&gt;</code>, or through their steward API. ${pod.name}'s stewards, or its rules, accept or reject each claim.</p></div>`
          : "";
      const body = html`
<p><a href="${deps.uris.actor(pod.slug).href}">${pod.name}</a> · <a href="/pods/${pod.slug}/${plural}">all ${plural}</a></p>
${status ? html`<p class="notice"><strong>${status}</strong></p>` : ""}
<h1>${p.urgent ? html`<span class="urgent">URGENT</span> ` : ""}${headline}</h1>
<p>${statusBadge(p)} <span class="muted">version ${p.version}, published ${p.createdAt.toISOString().slice(0, 10)}${p.version > 1 ? `, updated ${p.updatedAt.toISOString().slice(0, 16).replace("T", " ")} UTC` : ""}</span></p>
${p.description ? raw(textToHtml(p.description)) : ""}
<ul>
<li>${formatQuantity(p.remaining, p.unit)} of ${formatQuantity(p.total, p.unit)} left</li>
${proposalDetailLines(p).filter((l) => !/ left$/.test(l)).map((l) => html`<li>${l}</li>`)}
<li>Category: ${p.category}${p.specificationUri ? html` (<a href="${p.specificationUri}" rel="nofollow noopener">what kind</a>)` : ""}</li>
${p.availableFrom || p.availableUntil ? html`<li>Window: ${p.availableFrom ? formatDay(p.availableFrom) : "now"} to ${p.availableUntil ? formatDay(lastDayOf(p.availableUntil)) : "open-ended"}</li>` : ""}
</ul>
${claim}`;
      return sendHtml(
        reply,
        page(
          {
            title: `${headline} — ${pod.name}`,
            description: `${headline}. ${status ?? `${formatQuantity(p.remaining, p.unit)} left.`}`,
            url: p.url,
            activityPubUrl: p.url,
            type: "article",
            publishedAt: p.createdAt,
            modifiedAt: p.updatedAt,
            style: STYLE,
          },
          body,
        ),
      );
    });
  }
}
