/**
 * Public HTML pages of transfers between pods: `/pods/{slug}/transfers/{id}` (our side of a
 * transfer: who gave whom what, the agreement, both sides' status and any discrepancy) and
 * `/pods/{slug}/agreements/{id}` (an agreement our pod made: proposal, parties, quantity,
 * transfers). ActivityPub clients get the JSON on the same URLs (congress-route.ts answers
 * them first). Transfers and agreements are pod-level records: nothing about members.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { html, type SafeHtml } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { findAgreementView, findTransferView, listTransfers, type TransferView } from "../../services/transfers.ts";
import { notFoundPage, page, sendHtml } from "./layout.ts";

const PUBLIC_CACHE = "public, max-age=60";

const when = (d: Date) => d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
const party = (iri: string, handle: string | null) => html`<a href="${iri}">${handle ?? iri}</a>`;

/** The status line of a transfer: acknowledged or not, and any discrepancy with who flagged it and why. */
export function transferStatus(t: TransferView): SafeHtml {
  const ack =
    t.direction === "out"
      ? t.acknowledgedAt
        ? html`Acknowledged by ${party(t.counterpart, t.counterpartHandle)} on ${when(t.acknowledgedAt)}${t.counterpartEvent ? html` (<a href="${t.counterpartEvent}">their record</a>)` : ""}.`
        : html`Not acknowledged by ${party(t.counterpart, t.counterpartHandle)} yet.`
      : html`Booked on receipt of <a href="${t.counterpartEvent ?? t.counterpart}">the giver's record</a>; our acknowledgement was sent back.`;
  const discrepancy = t.discrepancy
    ? html`<p class="notice"><strong>Discrepancy</strong> flagged by ${t.discrepancy.by === "us" ? "this pod" : party(t.counterpart, t.counterpartHandle)} on ${when(t.discrepancy.at)}: ${t.discrepancy.reason}</p>`
    : html`<p class="muted">No discrepancy flagged.</p>`;
  return html`<p>${ack}</p>${discrepancy}`;
}

function transferBody(t: TransferView, podHandle: string): SafeHtml {
  const gave = t.direction === "out";
  const me = html`<a href="/pods/${t.pod}">${podHandle}</a>`;
  const them = party(t.counterpart, t.counterpartHandle);
  return html`<h1>${gave ? "Transfer out" : "Transfer in"}: ${t.quantity} ${t.unit} of ${t.resourceName || t.resource}</h1>
<p>${gave ? me : them} gave ${t.quantity} ${t.unit} of ${t.resourceName || t.resource} to ${gave ? them : me} on ${when(t.occurredAt)},
under agreement <a href="${t.agreement}">${t.agreement}</a>.</p>
<div class="card">
<h2>Status</h2>
${transferStatus(t)}
</div>
<h2>In the open books</h2>
<p>Entry #${t.ledgerSeq} of <a href="/pods/${t.pod}/books">${podHandle}'s ledger</a> (${gave ? "transfer_out" : "transfer_in"}${t.fund ? html`, fund ${t.fund}` : ""}): <code>${t.ledgerHash}</code></p>
${t.publicMemo ? html`<p class="muted">${t.publicMemo}</p>` : ""}`;
}

export async function registerTransferPages(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const origin = deps.config.publicUrl;
  const podHandle = (slug: string) => `@${slug}@${origin.host}`;
  const missing = (reply: FastifyReply, what: string) =>
    sendHtml(reply.header("cache-control", "no-store"), notFoundPage(origin, `No such ${what}`, html`<p>There is no ${what} at this address.</p>`), 404);

  app.get<{ Params: { slug: string; id: string } }>("/pods/:slug/transfers/:id", async (request, reply) => {
    const t = await findTransferView(deps, request.params.slug, request.params.id);
    if (!t) return missing(reply, "transfer");
    const title = `${t.direction === "out" ? "Transfer out" : "Transfer in"}: ${t.quantity} ${t.unit} of ${t.resourceName || t.resource}`;
    return sendHtml(
      reply.header("cache-control", PUBLIC_CACHE),
      page(
        { title, description: `${title}, ${t.direction === "out" ? "to" : "from"} ${t.counterpartHandle ?? t.counterpart}, under a congress agreement.`, url: t.url, activityPubUrl: t.url, type: "article" },
        transferBody(t, podHandle(t.pod)),
      ),
    );
  });

  app.get<{ Params: { slug: string; id: string } }>("/pods/:slug/agreements/:id", async (request, reply) => {
    const a = await findAgreementView(deps, request.params.slug, request.params.id);
    if (!a) return missing(reply, "agreement");
    const title = `Agreement: ${a.quantity} ${a.unit} of ${a.proposal.name}`;
    const body = html`<h1>${title}</h1>
<p>${party(a.giver.iri, a.giver.handle)} gives ${a.quantity} ${a.unit} of ${a.proposal.name} to ${party(a.receiver.iri, a.receiver.handle)},
a claim on <a href="${a.proposal.iri}">${a.proposal.purpose === "offer" ? "an offer" : "a need"}</a>${a.decidedAt ? html`, agreed on ${when(a.decidedAt)}` : ""}.</p>
<h2>Transfers</h2>
${
  a.transfers.length
    ? a.transfers.map(
        (t) => html`<div class="card"><p><a href="${t.url}">${t.direction === "out" ? "Given" : "Received"}: ${t.quantity} ${t.unit}</a> on ${when(t.occurredAt)} (ledger entry #${t.ledgerSeq})</p>${transferStatus(t)}</div>`,
      )
    : html`<p class="muted">Nothing has changed hands under this agreement yet.</p>`
}`;
    return sendHtml(
      reply.header("cache-control", PUBLIC_CACHE),
      page({ title, description: `${title}: a congress agreement of ${podHandle(a.pod)}.`, url: a.url, activityPubUrl: a.url, type: "article" }, body),
    );
  });
}

/** The "Transfers between pods" section of the books page (the latest ones, with their status). */
export async function transfersSection(deps: ServiceDeps, slug: string): Promise<SafeHtml> {
  const rows = await listTransfers(deps, slug, { limit: 20 });
  if (rows.length === 0) return html``;
  return html`<h2>Transfers between pods</h2>
<ul>${rows.map(
    (t) =>
      html`<li><a href="${t.url}">${t.direction === "out" ? "Gave" : "Received"} ${t.quantity} ${t.unit} of ${t.resourceName || t.resource}</a> ${t.direction === "out" ? "to" : "from"} ${t.counterpartHandle ?? t.counterpart}, ${when(t.occurredAt)}${
        t.acknowledgedAt ? html` <span class="tag">acknowledged</span>` : ""
      }${t.discrepancy ? html` <span class="tag">discrepancy flagged by ${t.discrepancy.by === "us" ? "us" : "them"}</span>` : ""}</li>`,
  )}</ul>`;
}
