/**
 * Steward pages: the congress view with one-click claims.
 *
 *   GET  /congress                     urgent needs first, matches both ways, each neighbour's
 *                                      offers and needs (the first few), ours, discrepancies
 *   GET  /congress?neighbour={actor}   one neighbour's open offers and needs, all of them (&page=N)
 *   POST /congress/claim               claim a neighbour's offer, or offer to give to its need
 *                                      (services/claims makeClaim, as POST …/claims), then the
 *                                      Claims page
 *
 * Every claim form carries the proposal's local id (what `hyphae claim` takes) and a quantity
 * filled in beforehand: what a match covers, else the service's suggestion (the minimum, one
 * lot, or what is left). The view itself is services/congress `congressView`, as the public
 * page, the JSON and the CLI read it.
 */
import type { FastifyInstance } from "fastify";
import { quantityText } from "../../domain/congress/totals.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import * as claims from "../../services/claims.ts";
import { congressView, type CongressMatch, type CongressNeighbour, type CongressProposal, type CongressView } from "../../services/congress.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { formStart, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { CONGRESS_STYLE, dayOf, lastDayText, plainState, rowErrorSummary, rowField, unitWord } from "./congress-forms.ts";
import { stewardPage } from "./layout.ts";

/** What one page shows, so it stays small on a phone (the rest is a link away). */
const URGENT_SHOWN = 8;
const MATCHES_SHOWN = 8;
/** Neighbours' offers (and needs) shown on the overview, shared among the neighbours. */
const NEIGHBOUR_BUDGET = 20;
const NEIGHBOUR_MOST = 6;
const OURS_SHOWN = 20;
const PER_PAGE = 30;

interface Failed {
  row: string;
  state: FormState;
}

interface Where {
  neighbour: string | null;
  page: number;
}

const amount = (p: CongressProposal) => {
  const q = p.remaining ?? p.quantity;
  return q === null ? "any amount" : quantityText(q, p.unit);
};
const neighbourName = (n: CongressNeighbour) => n.name ?? n.handle ?? n.actor;

/** Our own proposal's steward page (its congress id is `offer-3` / `need-3`). */
function ownPath(ctx: StewardContext, p: CongressProposal): string {
  const [kind, number] = p.id.split("-");
  return `${ctx.base}/offers/${kind}/${number}`;
}

/** `context` tells apart the forms of one proposal shown in several places (a match, the urgent list). */
function claimForm(ctx: StewardContext, p: CongressProposal, row: string, quantity: string, where: Where, failed: Failed | null, context = ""): SafeHtml {
  const mine = failed?.row === row;
  const error = mine ? (failed.state.errors.quantity ?? failed.state.errors.proposal ?? failed.state.message) : undefined;
  const value = mine ? (failed.state.values.quantity ?? quantity) : quantity;
  const giving = p.kind === "need";
  return html`${formStart(ctx, `${ctx.base}/congress/claim`, { label: `${giving ? "Give to" : "Claim"} ${p.name} (${p.podLabel})${context}` })}
<input type="hidden" name="proposal" value="${p.id}"><input type="hidden" name="row" value="${row}">${where.neighbour ? html`<input type="hidden" name="neighbour" value="${where.neighbour}"><input type="hidden" name="page" value="${String(where.page)}">` : ""}
<div class="row-form">${rowField({ id: `q-${row}`, name: "quantity", label: `${giving ? "Give" : "Claim"} how much (${unitWord(p.unit)})`, type: "number", value, required: true, ...(error !== undefined && { error }) })}
<button type="submit">${giving ? "Offer to give" : "Claim"}</button></div></form>`;
}

function facts(p: CongressProposal, withPod: boolean): SafeHtml {
  const parts: Array<SafeHtml | string> = [`${amount(p)} ${p.kind === "offer" ? "left" : "needed"}`];
  if (withPod) parts.push(p.ours ? "ours" : `from ${p.podLabel}`);
  if (p.category) parts.push(p.category);
  if (p.minimum) parts.push(`at least ${quantityText(p.minimum, p.unit)} per claim`);
  if (p.unitBased === true && p.quantity) parts.push(`in lots of ${quantityText(p.quantity, p.unit)}`);
  if (p.unitBased === false && p.quantity) parts.push(`taken whole (${quantityText(p.quantity, p.unit)})`);
  if (p.location) parts.push(p.location);
  if (p.availableFrom) parts.push(`from ${dayOf(p.availableFrom)}`);
  const until = p.availableUntil ?? p.expiresAt;
  if (until) parts.push(`until ${lastDayText(until)}`);
  return html`<p class="small">${parts.map((x, i) => html`${i ? " · " : ""}${x}`)}</p>`;
}

/** One offer or need; a neighbour's with its claim form. `level` is its heading's. */
function proposalItem(ctx: StewardContext, p: CongressProposal, row: string, level: 3 | 5, where: Where, failed: Failed | null, withPod = false, context = ""): SafeHtml {
  const title = html`${p.urgent ? html`<span class="urgent">URGENT</span> ` : ""}<a href="${p.ours ? ownPath(ctx, p) : p.url}"${p.ours ? "" : html` rel="nofollow"`}>${p.name}</a>`;
  return html`<li class="item${p.urgent ? " urgent-item" : ""}" id="p-${row}">
${level === 3 ? html`<h3>${title}</h3>` : html`<h5>${title}</h5>`}
${facts(p, withPod)}
${p.claim ? claimForm(ctx, p, row, p.claim.api.body.quantity, where, failed, context) : html`<p class="small"><a href="${ownPath(ctx, p)}">Edit or withdraw it</a></p>`}</li>`;
}

function matchItem(ctx: StewardContext, m: CongressMatch, row: string, where: Where, failed: Failed | null): SafeHtml {
  const target = m.claimOn ? (m.claimOn.kind === "offer" ? m.offer : m.need) : null;
  return html`<li class="item${m.urgent ? " urgent-item" : ""}" id="p-${row}">
<h4>${m.urgent ? html`<span class="urgent">URGENT</span> ` : ""}<a href="${m.offer.ours ? ownPath(ctx, m.offer) : m.offer.url}">${m.offer.name}</a> (${m.offer.ours ? "ours" : m.offer.podLabel}) for <a href="${m.need.ours ? ownPath(ctx, m.need) : m.need.url}">${m.need.name}</a> (${m.need.ours ? "ours" : m.need.podLabel})</h4>
<p class="small"><span class="status">${m.fit === "full" ? "covers it all" : "covers part"}</span> ${m.text} · ${m.by === "specification" ? "same definition" : "same category"}</p>
${target && m.claimOn ? claimForm(ctx, target, row, m.claimOn.quantity, where, failed, m.claimOn.kind === "offer" ? ` for our need ${m.need.name}` : ` from our offer ${m.offer.name}`) : ""}</li>`;
}

function overview(ctx: StewardContext, v: CongressView, failed: Failed | null): SafeHtml {
  const where: Where = { neighbour: null, page: 1 };
  const each = v.neighbours.length ? Math.min(NEIGHBOUR_MOST, Math.floor(NEIGHBOUR_BUDGET / v.neighbours.length)) : 0;
  const allLink = (n: CongressNeighbour) => `${ctx.base}/congress?neighbour=${encodeURIComponent(n.actor)}`;
  const list = (items: CongressProposal[], prefix: string, level: 3 | 5, limit: number, withPod = false, context = "") =>
    html`<ul class="items">${items.slice(0, limit).map((p, i) => proposalItem(ctx, p, `${prefix}${i}`, level, where, failed, withPod, context))}</ul>`;
  const ours = [...v.ours.needs, ...v.ours.offers];
  return html`<h1>Congress</h1>
${rowErrorSummary(failed?.state ?? null, failed ? `q-${failed.row}` : null)}
<p>${v.neighbours.length === 0 ? "No congress neighbours yet: pods that follow each other become neighbours. Follow a pod on the Follows page and ask it to follow back." : `${v.neighbours.length} neighbour${v.neighbours.length === 1 ? "" : "s"}.`} Claim what ${v.pod.name} needs from a neighbour's offer, or offer to give to a neighbour's need: the answer shows on the <a href="${ctx.base}/claims">Claims</a> page. Charters side by side and this cycle's totals are on the <a href="${v.pod.url}">public congress page</a>.</p>
<h2>Urgent needs</h2>
${v.urgentNeeds.length ? html`${list(v.urgentNeeds, "u", 3, URGENT_SHOWN, true, ", urgent")}${v.urgentNeeds.length > URGENT_SHOWN ? html`<p class="muted">${v.urgentNeeds.length - URGENT_SHOWN} more urgent needs: see each neighbour below.</p>` : ""}` : html`<p class="muted">None right now.</p>`}
<h2>Matches</h2>
<h3>Neighbours' offers for our needs</h3>
${v.matches.forOurNeeds.length ? html`<ul class="items">${v.matches.forOurNeeds.slice(0, MATCHES_SHOWN).map((m, i) => matchItem(ctx, m, `mo${i}`, where, failed))}</ul>` : html`<p class="muted">None right now.</p>`}
<h3>Our offers for neighbours' needs</h3>
${v.matches.forTheirNeeds.length ? html`<ul class="items">${v.matches.forTheirNeeds.slice(0, MATCHES_SHOWN).map((m, i) => matchItem(ctx, m, `mt${i}`, where, failed))}</ul>` : html`<p class="muted">None right now.</p>`}
${(() => {
  const hidden = Math.max(0, v.matches.forOurNeeds.length - MATCHES_SHOWN) + Math.max(0, v.matches.forTheirNeeds.length - MATCHES_SHOWN) + v.matches.more;
  return hidden ? html`<p class="muted">${hidden} more matches not shown: the best ones come first.</p>` : "";
})()}
<h2>Neighbours</h2>
${v.neighbours.length ? "" : html`<p class="muted">None yet.</p>`}
${v.neighbours.map(
  (n, ni) => html`<section class="item" aria-labelledby="nb-${ni}"><h3 id="nb-${ni}">${neighbourName(n)}</h3>
<p class="small muted">${n.handle ? html`<span class="handle">${n.handle}</span> · ` : ""}neighbours since ${dayOf(n.since)}${n.charter ? html` · provides ${n.charter.services.map((s) => s.name).join(", ") || "no services listed"}` : ""}</p>
<h4>Offers (${n.offers.length})</h4>
${each && n.offers.length ? list(n.offers, `n${ni}o`, 5, each) : n.offers.length ? "" : html`<p class="muted small">No open offers.</p>`}
<h4>Needs (${n.needs.length})</h4>
${each && n.needs.length ? list(n.needs, `n${ni}n`, 5, each) : n.needs.length ? "" : html`<p class="muted small">No open needs.</p>`}
${n.offers.length + n.needs.length > 0 && (n.offers.length > each || n.needs.length > each) ? html`<p><a href="${allLink(n)}">All of ${neighbourName(n)}'s offers and needs, with claim forms</a></p>` : ""}
</section>`,
)}
<h2>Ours</h2>
${ours.length ? html`${list(ours, "o", 3, OURS_SHOWN)}${ours.length > OURS_SHOWN ? html`<p class="muted">${ours.length - OURS_SHOWN} more on the <a href="${ctx.base}/offers">Offers &amp; needs</a> page.</p>` : ""}` : html`<p class="muted">No open offers or needs. <a href="${ctx.base}/offers">Add one.</a></p>`}
${
  v.discrepancies.length
    ? html`<h2>Transfers with a discrepancy</h2><ul>${v.discrepancies.slice(0, 20).map(
        (d) => html`<li>${d.direction === "out" ? "Sent" : "Received"} ${quantityText(d.quantity, d.unit)}, flagged by ${d.flaggedBy === "us" ? "us" : "the other pod"} on ${dayOf(d.flaggedAt)}${d.reason ? html`: ${d.reason}` : ""} <a href="${ctx.base}/claims#transfer-${d.transfer}">see the transfer</a></li>`,
      )}</ul>`
    : ""
}`;
}

function neighbourPage(ctx: StewardContext, v: CongressView, n: CongressNeighbour, page: number, failed: Failed | null): SafeHtml {
  const all = [...n.needs, ...n.offers];
  const pages = Math.max(1, Math.ceil(all.length / PER_PAGE));
  const at = Math.min(Math.max(1, page), pages);
  const where: Where = { neighbour: n.actor, page: at };
  const shown = all.slice((at - 1) * PER_PAGE, at * PER_PAGE);
  const link = (p: number) => `${ctx.base}/congress?neighbour=${encodeURIComponent(n.actor)}&page=${p}`;
  return html`<p><a href="${ctx.base}/congress">Back to the congress</a></p>
<h1>${neighbourName(n)}: offers and needs</h1>
${rowErrorSummary(failed?.state ?? null, failed ? `q-${failed.row}` : null)}
<p class="small muted">${n.handle ? html`<span class="handle">${n.handle}</span> · ` : ""}${n.offers.length} open offer${n.offers.length === 1 ? "" : "s"}, ${n.needs.length} open need${n.needs.length === 1 ? "" : "s"}${n.charter ? html` · charter: ${n.charter.title}` : ""}. Claims are answered by ${neighbourName(n)}; see the answers on the <a href="${ctx.base}/claims">Claims</a> page.</p>
<h2>${pages > 1 ? `Page ${at} of ${pages}` : "Open offers and needs"}</h2>
${shown.length ? html`<ul class="items">${shown.map((p, i) => proposalItem(ctx, p, `x${i}`, 3, where, failed))}</ul>` : html`<p class="muted">Nothing open right now.</p>`}
${pages > 1 ? html`<nav aria-label="Pages"><p class="actions">${at > 1 ? html`<a href="${link(at - 1)}">Previous page</a>` : ""} ${at < pages ? html`<a href="${link(at + 1)}">Next page</a>` : ""}</p></nav>` : ""}
<p class="muted small">${v.pod.name}'s congress has ${v.neighbours.length} neighbour${v.neighbours.length === 1 ? "" : "s"}.</p>`;
}

async function congressPage(ctx: StewardContext, where: { neighbour?: string | undefined; page?: string | undefined }, failed: Failed | null): Promise<string> {
  const v = await congressView(ctx.deps, ctx.pod.slug);
  const n = where.neighbour ? v.neighbours.find((x) => x.actor === where.neighbour) : undefined;
  if (where.neighbour && !n) {
    return stewardPage(
      ctx,
      { title: "Congress", section: "congress", style: CONGRESS_STYLE },
      html`<h1>Not a neighbour</h1>${rowErrorSummary(failed?.state ?? null, null)}<p>${where.neighbour} is not one of ${ctx.pod.name}'s congress neighbours (any more). <a href="${ctx.base}/congress">Back to the congress</a></p>`,
    );
  }
  const body = n ? neighbourPage(ctx, v, n, Number(where.page) || 1, failed) : overview(ctx, v, failed);
  return stewardPage(ctx, { title: n ? `Congress: ${neighbourName(n)}` : "Congress", section: "congress", style: CONGRESS_STYLE }, body);
}

export function registerCongressForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ neighbour?: string; page?: string }>(app, deps, "/congress", (ctx, query) => congressPage(ctx, query, null));

  stewardPost(app, deps, "/congress/claim", {
    handle: async (ctx, input) => {
      const claim = await claims.makeClaim(deps, ctx.pod.slug, { proposal: input.values.proposal ?? "", quantity: (input.values.quantity ?? "").trim() });
      return `${ctx.base}/claims?done=claimed#claim-${claim.id}`;
    },
    render: (ctx, state) =>
      congressPage(ctx, { neighbour: state.values.neighbour, page: state.values.page }, { row: state.values.row ?? "", state: plainState(state, { quantity: "Quantity" }) }),
  });
}
