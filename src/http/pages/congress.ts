/**
 * Public pages of the congress.
 *
 * `GET /pods/{slug}/congress` — the congress view (services/congress.ts `congressView`):
 *   HTML for browsers (no script; lists only, so it reads at 360 px), and the same data as
 *   JSON when the client prefers `application/json` (or `?format=json`). The JSON is a
 *   `CongressView` (dates as ISO 8601 text):
 *     pod {slug, name, actor, url, neighbours}, generatedAt,
 *     neighbours[] {actor, handle, name, url, since, charter {title, revision, services[{name,
 *       category}], next[{name, targetDate}]} | null, offers[], needs[], summaries[]},
 *     ours {offers[], needs[], summaries[]}, urgentNeeds[],
 *     matches {forOurNeeds[], forTheirNeeds[], more} — each {direction, by, urgent, fit
 *       (full|partial), enough, covers, unit, share, text, claim, claimOn {proposal, kind, quantity} | null, offer, need},
 *     sideBySide {categories[], upcoming[], partners[], gaps[], withoutCharter[]},
 *     totals {periodKind, periodStart, periodEnd, label, lines[{unit, quantity, text,
 *       byCategory[]}], text, counted[], withoutSummary[], withheld},
 *     discrepancies[] {transfer, direction, counterpart, quantity, unit, agreement,
 *       flaggedBy, reason, flaggedAt}.
 *   An offer or need: {id, pod, podLabel, ours, kind, url, name, description, unit,
 *   category, specificationUri, quantity, remaining, minimum, unitBased, location,
 *   availableFrom, availableUntil, expiresAt, urgent, claim {command, api} | null}; `id` of
 *   a neighbour's offer is the local id `hyphae claim` takes.
 *   A summary: {periodKind, label, periodStart, periodEnd, version, url, currency,
 *   participants, valueReclaimed, indicators[], funds[{fund, marketValue, withheld}],
 *   sent[{name, unit, quantity, text}], changedAfterPublication} — figures about fewer than
 *   3 members stay "fewer than 3", as published.
 * `GET /pods/{slug}/neighbours` — for browsers, the list of neighbours (ActivityPub clients
 *   get the OrderedCollection from congress-route.ts before this route is reached).
 *
 * `podCongressSection` is the pod page's card: urgent needs (ours and the neighbours')
 * first, counts of open offers and needs, and a link to the congress view.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { html, type SafeHtml } from "../../lib/html.ts";
import { congressGlance, congressView, listNeighbours, type CongressMatch, type CongressProposal, type CongressView, type SummaryBrief } from "../../services/congress.ts";
import { findPod } from "../../services/pods.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { Pod } from "../../domain/pods.ts";
import { quantityText } from "../../domain/congress/totals.ts";
import { notFoundPage, page, sendHtml } from "./layout.ts";

const STYLE = `.urgent{color:#b42318;font-weight:700}.urgent-box{border-left:.3rem solid #b42318}
.fit{display:inline-block;font-size:.8rem;padding:0 .4rem;border:1px solid var(--line);border-radius:1rem}
.fit-full{color:var(--accent)}.claim{font-size:.9rem}ul.plain{list-style:none;padding-left:0}`;

/** True when the client prefers JSON to HTML (`Accept`), or asked with `?format=json`. */
export function prefersJson(request: FastifyRequest): boolean {
  const format = (request.query as Record<string, unknown> | undefined)?.format;
  if (format === "json") return true;
  const header = request.headers.accept;
  if (!header) return false;
  let json = 0;
  let htmlQ = 0;
  for (const part of header.split(",")) {
    const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith("q="));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (!Number.isFinite(q)) continue;
    if (type === "application/json") json = Math.max(json, q);
    else if (type === "text/html") htmlQ = Math.max(htmlQ, q);
  }
  return json > 0 && json >= htmlQ;
}

const day = (at: Date | null) => (at ? at.toISOString().slice(0, 10) : null);
const amount = (p: CongressProposal) => {
  const q = p.remaining ?? p.quantity;
  return q === null ? "any amount" : quantityText(q, p.unit);
};

function proposalItem(p: CongressProposal, withPod: boolean): SafeHtml {
  return html`<li>${p.urgent ? html`<span class="urgent">URGENT</span> ` : ""}<a href="${p.url}" rel="nofollow">${p.name}</a> — ${amount(p)}${p.kind === "offer" ? " left" : " needed"}${p.category ? html` <span class="tag">${p.category}</span>` : ""}${withPod ? html` <span class="muted">from ${p.podLabel}</span>` : ""}${p.location ? html`, ${p.location}` : ""}${p.expiresAt ? html` <span class="muted">until ${day(p.expiresAt)}</span>` : ""}
${p.claim ? html`<br><span class="claim">${p.kind === "offer" ? "Claim it" : "Give to it"}: <code>${p.claim.command}</code> (or <code>POST ${p.claim.api.path}</code>)</span>` : ""}</li>`;
}

function matchItem(m: CongressMatch): SafeHtml {
  return html`<li>${m.urgent ? html`<span class="urgent">URGENT</span> ` : ""}<a href="${m.offer.url}" rel="nofollow">${m.offer.name}</a> <span class="muted">(${m.offer.podLabel})</span> → <a href="${m.need.url}" rel="nofollow">${m.need.name}</a> <span class="muted">(${m.need.podLabel})</span>
<span class="fit fit-${m.fit}">${m.fit === "full" ? "full" : "partly"}</span> ${m.text}${m.by === "specification" ? " · same specification" : " · same category"}
${m.claim ? html`<br><span class="claim"><code>${m.claim}</code></span>` : ""}</li>`;
}

function summaryItem(s: SummaryBrief): SafeHtml {
  return html`<li><a href="${s.url}" rel="nofollow">${s.label}</a> <span class="muted">(version ${s.version})</span>${s.changedAfterPublication ? html` <strong>books changed after publication</strong>` : ""}
<ul>
<li>Value reclaimed from the market: ${s.valueReclaimed === "fewer than 3" ? "fewer than 3 (withheld)" : `${s.valueReclaimed} ${s.currency}`}</li>
${s.funds.map((f) => html`<li>${f.fund.replace(/_/g, "-")} fund: ${f.marketValue} ${s.currency}${f.withheld ? html` <span class="muted">(${f.withheld} figure${f.withheld === 1 ? "" : "s"} about fewer than 3 members withheld)</span>` : ""}</li>`)}
${s.sent.length ? html`<li>Sent to other pods: ${s.sent.map((t, i) => html`${i ? ", " : ""}${t.text} ${t.name}`)}</li>` : ""}
${s.indicators.map((i) => html`<li>${i.name}: ${i.value}${i.trend ? html` <span class="muted">(${i.trend})</span>` : ""}</li>`)}
</ul></li>`;
}

function congressHtml(v: CongressView): SafeHtml {
  const side = v.sideBySide;
  const label = (pod: string) => (pod === v.pod.actor ? "us" : (v.neighbours.find((n) => n.actor === pod)?.handle ?? pod));
  return html`
<p><a href="${v.pod.actor}">${v.pod.name}</a> · <a href="${v.pod.neighbours}">neighbours (ActivityStreams collection)</a> · <a href="${v.pod.url}?format=json">this view as JSON</a></p>
<h1>Congress of ${v.pod.name}</h1>
<p class="muted">Pods that follow each other form a congress: they see each other's surplus, needs, charters and published books, and claim what they need. ${v.neighbours.length === 0 ? "This pod has no congress neighbours yet." : `${v.neighbours.length} neighbour${v.neighbours.length === 1 ? "" : "s"}.`}</p>

${v.urgentNeeds.length
    ? html`<div class="card urgent-box"><h2 style="margin-top:0"><span class="urgent">URGENT</span> needs</h2><ul>${v.urgentNeeds.map((p) => proposalItem(p, true))}</ul></div>`
    : ""}

<div class="card"><h2 style="margin-top:0">This lunar cycle</h2>
<p><strong>${v.totals.text.charAt(0).toUpperCase() + v.totals.text.slice(1)}.</strong></p>
${v.totals.lines.length ? html`<ul>${v.totals.lines.map((l) => html`<li>${l.text}${l.byCategory.some((c) => c.category) ? html` <span class="muted">(${l.byCategory.map((c, i) => html`${i ? ", " : ""}${c.category ?? "other"}: ${c.quantity}`)})</span>` : ""}</li>`)}</ul>` : ""}
<p class="muted">From the summaries the pods published for the ${v.totals.label}, never from private records.${v.totals.withoutSummary.length ? ` No summary yet from: ${v.totals.withoutSummary.map((p) => p.label).join(", ")}.` : ""}${v.totals.withheld ? ` ${v.totals.withheld} figure${v.totals.withheld === 1 ? "" : "s"} about fewer than 3 members withheld.` : ""}</p></div>

<h2>Matches</h2>
<h3>Neighbours' offers for our needs</h3>
${v.matches.forOurNeeds.length ? html`<ul>${v.matches.forOurNeeds.map(matchItem)}</ul>` : html`<p class="muted">None right now.</p>`}
<h3>Our offers for neighbours' needs</h3>
${v.matches.forTheirNeeds.length ? html`<ul>${v.matches.forTheirNeeds.map(matchItem)}</ul>` : html`<p class="muted">None right now.</p>`}
${v.matches.more ? html`<p class="muted">${v.matches.more} more matches not listed.</p>` : ""}

<h2>Neighbours</h2>
${v.neighbours.length === 0 ? html`<p class="muted">A pod that follows this pod, and that this pod follows back, becomes a neighbour.</p>` : ""}
${v.neighbours.map(
  (n) => html`<div class="card"><h3 style="margin-top:0"><a href="${n.url ?? n.actor}" rel="nofollow">${n.name ?? n.handle ?? n.actor}</a></h3>
<p class="muted">${n.handle ? html`<span class="handle">${n.handle}</span> · ` : ""}neighbours since ${day(n.since)}</p>
${n.charter
    ? html`<p>Charter: <strong>${n.charter.title}</strong> <span class="muted">(revision ${n.charter.revision})</span></p>
<ul>${n.charter.services.map((s) => html`<li>Provides ${s.name} <span class="tag">${s.category}</span></li>`)}${n.charter.next.map((s) => html`<li>Takes on next: ${s.name}, by ${s.targetDate}</li>`)}</ul>`
    : html`<p class="muted">No charter received yet.</p>`}
<h4>Offers</h4>${n.offers.length ? html`<ul>${n.offers.map((p) => proposalItem(p, false))}</ul>` : html`<p class="muted">No open offers.</p>`}
<h4>Needs</h4>${n.needs.length ? html`<ul>${n.needs.map((p) => proposalItem(p, false))}</ul>` : html`<p class="muted">No open needs.</p>`}
${n.summaries.length ? html`<h4>Latest summaries</h4><ul>${n.summaries.map(summaryItem)}</ul>` : ""}
</div>`,
)}

<h2>Our open offers and needs</h2>
${v.ours.offers.length || v.ours.needs.length ? html`<ul>${[...v.ours.needs, ...v.ours.offers].map((p) => proposalItem(p, false))}</ul>` : html`<p class="muted">None open.</p>`}
${v.ours.summaries.length ? html`<h3>Our latest summaries</h3><ul>${v.ours.summaries.map(summaryItem)}</ul>` : ""}

<h2>Charters side by side</h2>
${side.categories.length ? html`<ul>${side.categories.map((c) => html`<li><strong>${c.category}</strong>: ${c.providers.map((p, i) => html`${i ? "; " : ""}${p.pod === v.pod.actor ? "us" : p.label} (${p.services.join(", ")})`)}</li>`)}</ul>` : html`<p class="muted">No charter lists a service yet.</p>`}
${side.upcoming.length ? html`<h3>Taken on next</h3><ul>${side.upcoming.map((u) => html`<li>${u.targetDate}: ${u.name} — ${label(u.pod)}</li>`)}</ul>` : ""}
${side.partners.length ? html`<h3>Possible partners</h3><ul>${side.partners.map((p) => html`<li>${p.kind === "category" ? html`${p.category}: ` : html`next, ${p.name}: `}${p.pods.map(label).join(", ")}</li>`)}</ul>` : ""}
${side.gaps.length ? html`<h3>Gaps</h3><p class="muted">Needs in categories no charter covers now.</p><ul>${side.gaps.map((g) => html`<li><strong>${g.category}</strong>: ${g.needs.map((n, i) => html`${i ? "; " : ""}${n.urgent ? html`<span class="urgent">URGENT</span> ` : ""}${n.name} (${label(n.pod)})`)}${g.comingNext.length ? html` — coming: ${g.comingNext.map((u) => `${u.name} by ${u.targetDate} (${label(u.pod)})`).join("; ")}` : ""}</li>`)}</ul>` : ""}
${side.withoutCharter.length ? html`<p class="muted">No charter held for: ${side.withoutCharter.map((p) => (p.pod === v.pod.actor ? "us" : p.label)).join(", ")}.</p>` : ""}

${v.discrepancies.length
    ? html`<h2>Transfers with a discrepancy</h2><ul>${v.discrepancies.map((d) => html`<li>${d.direction === "out" ? "Sent" : "Received"} ${quantityText(d.quantity, d.unit)} ${d.direction === "out" ? "to" : "from"} ${label(d.counterpart)} — flagged by ${d.flaggedBy === "us" ? "us" : "them"} on ${day(d.flaggedAt)}${d.reason ? html`: ${d.reason}` : ""} <span class="muted">(<a href="${d.agreement}" rel="nofollow">agreement</a>)</span></li>`)}</ul>`
    : ""}`;
}

/**
 * The pod page's congress section (urgent needs first, then counts of open offers and
 * needs, and a link to its congress view). Empty when there is nothing to show.
 */
export async function podCongressSection(deps: ServiceDeps, pod: Pod): Promise<string> {
  const g = await congressGlance(deps, pod.slug);
  if (g.neighbours.count === 0 && g.ours.offers === 0 && g.ours.needs === 0) return "";
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;
  return html`<div class="card"${g.urgentNeeds.length ? html` style="border-left:.3rem solid #b42318"` : ""}>
<h2 style="margin-top:0">Congress</h2>
${g.urgentNeeds.length
    ? html`<ul>${g.urgentNeeds.slice(0, 10).map((p) => html`<li><span style="color:#b42318;font-weight:700">URGENT</span> <a href="${p.url}" rel="nofollow">${p.name}</a> — ${amount(p)} needed${p.ours ? "" : html` <span class="muted">by ${p.podLabel}</span>`}</li>`)}</ul>${g.urgentNeeds.length > 10 ? html`<p class="muted">${g.urgentNeeds.length - 10} more urgent needs.</p>` : ""}`
    : ""}
<p>This pod: ${plural(g.ours.offers, "open offer")}, ${plural(g.ours.needs, "open need")}.${g.neighbours.count ? ` Its ${plural(g.neighbours.count, "neighbour")}: ${plural(g.neighbours.offers, "open offer")}, ${plural(g.neighbours.needs, "open need")}.` : ""}</p>
<p><a href="${g.url}">See the congress: neighbours, matches and totals</a></p>
</div>`.value;
}

export async function registerCongressPages(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const origin = deps.config.publicUrl;
  const noSuchPod = (request: FastifyRequest, reply: FastifyReply, slug: string) =>
    prefersJson(request)
      ? reply.code(404).header("cache-control", "no-store").header("vary", "Accept").send({ error: "POD_NOT_FOUND", message: `There is no pod called ${slug} on this node.` })
      : sendHtml(reply.header("cache-control", "no-store"), notFoundPage(origin, "No such pod", html`<p>There is no pod called <code>${slug}</code> on this node. <a href="/">See the pods here.</a></p>`), 404);

  app.get<{ Params: { slug: string } }>("/pods/:slug/congress", async (request, reply) => {
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return noSuchPod(request, reply, request.params.slug);
    const view = await congressView(deps, pod.slug);
    reply.header("cache-control", "no-cache");
    if (prefersJson(request)) {
      return reply.code(200).header("vary", "Accept").header("content-type", "application/json; charset=utf-8").send(JSON.stringify(view));
    }
    const title = `Congress of ${pod.name}`;
    return sendHtml(
      reply,
      page({ title, description: `${title}: ${view.neighbours.length} neighbours, ${view.urgentNeeds.length} urgent needs. ${view.totals.text}.`, url: view.pod.url, type: "website", style: STYLE }, congressHtml(view)),
    );
  });

  app.get<{ Params: { slug: string } }>("/pods/:slug/neighbours", async (request, reply) => {
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return noSuchPod(request, reply, request.params.slug);
    const neighbours = await listNeighbours(deps, pod.slug);
    const url = deps.uris.neighbours(pod.slug).href;
    const body = html`<p><a href="${deps.uris.actor(pod.slug).href}">${pod.name}</a> · <a href="${deps.uris.congress(pod.slug).href}">congress</a></p>
<h1>Neighbours of ${pod.name}</h1>
<p class="muted">Pods that follow ${pod.name} and that it follows back. ActivityPub clients get this list as an OrderedCollection at the same address.</p>
${neighbours.length ? html`<ul>${neighbours.map((n) => html`<li><a href="${n.url ?? n.actorIri}" rel="nofollow">${n.name ?? n.handle ?? n.actorIri}</a>${n.handle ? html` <span class="handle">${n.handle}</span>` : ""} <span class="muted">since ${day(n.since)}</span></li>`)}</ul>` : html`<p>No neighbours yet.</p>`}`;
    return sendHtml(reply, page({ title: `Neighbours of ${pod.name}`, description: `${neighbours.length} congress neighbours`, url, activityPubUrl: url, type: "website", style: STYLE }, body));
  });
}
