/**
 * Public pages of the open books: the books page, its JSON export, commons receipts,
 * period summaries and the "what the city would have charged us" invoice.
 *
 * Routes read services only (ledger, books, summaries, indicators, ledger-io) and hand
 * their views to the pure renderers in books-render.ts. What is public is decided there and
 * in the services: aggregates and the chain, never a member's name, contact or private memo.
 *
 * A summary's page is at its Note's id: ActivityPub clients get the Note from Fedify on the
 * same URL (the bridge hands browsers on to this route).
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import { PERIOD_KINDS, type PeriodKind } from "../../domain/books/model.ts";
import type { Pod } from "../../domain/pods.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import { getBookSettings } from "../../services/books.ts";
import { indicatorValues } from "../../services/indicators.ts";
import { exportLedgerJson } from "../../services/ledger-io.ts";
import { findReceipt, getBalances, getBookSeries, getLedgerHead, getProvidedValue } from "../../services/ledger.ts";
import { findPod } from "../../services/pods.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { getSummary, listSummaries } from "../../services/summaries.ts";
import { podHandle } from "../../services/views.ts";
import { formatDay, isoDay } from "./books-format.ts";
import { BOOKS_STYLE, booksPageBody, invoiceBody, receiptBody, summaryBody, type PodInfo } from "./books-render.ts";
import { notFoundPage, page, sendHtml } from "./layout.ts";
import { transfersSection } from "./transfers.ts";

const DAY = 86_400_000;
/** The window of the sovereignty indicators on the books page (compared with the one before). */
const INDICATOR_DAYS = 28;
/** More weekly points than this and the charts switch to months. */
const MAX_WEEKS = 26;
const RECENT_SUMMARIES = 8;

/** Pages change when an entry is recorded; a short shared-cache life keeps them fresh. */
const PUBLIC_CACHE = "public, max-age=60";

export async function registerBookPages(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const origin = deps.config.publicUrl;

  const podInfo = (pod: Pod): PodInfo => ({
    slug: pod.slug,
    name: pod.name,
    handle: podHandle(deps, pod.slug),
    actorUrl: deps.uris.actor(pod.slug).href,
    retired: pod.retiredAt !== null,
  });

  const noSuchPod = (reply: FastifyReply, slug: string) =>
    sendHtml(reply.header("cache-control", "no-store"), notFoundPage(origin, "No such pod", html`<p>There is no pod called <code>${slug}</code> on this node. <a href="/">See the pods here.</a></p>`), 404);

  const badRequest = (reply: FastifyReply, heading: string, message: string) =>
    sendHtml(reply.header("cache-control", "no-store"), page({ title: heading, description: message, url: origin.href }, html`<h1>${heading}</h1><p>${message}</p>`), 400);

  // ---- The books page -------------------------------------------------------------------
  app.get<{ Params: { slug: string } }>("/pods/:slug/books", async (request, reply) => {
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return noSuchPod(reply, request.params.slug);
    const slug = pod.slug;
    const now = deps.clock.now();
    const head = await getLedgerHead(deps, slug);
    const links = { export: deps.uris.booksExport(slug).href, invoice: `${deps.uris.books(slug).href}/invoice`, pod: deps.uris.actor(slug).href };
    let body;
    if (head.seq === 0) {
      const balances = await getBalances(deps, slug, now);
      body = booksPageBody({ pod: podInfo(pod), balances, series: { bucket: "week", points: [] }, indicators: { from: now, to: now, values: [] }, summaries: [], head, links });
    } else {
      const from = new Date(now.getTime() - INDICATOR_DAYS * DAY);
      const [balances, weeks, indicators, summaries] = await Promise.all([
        getBalances(deps, slug, now),
        getBookSeries(deps, slug, { bucket: "week", to: now }),
        indicatorValues(deps, slug, from, now),
        listSummaries(deps, slug, { limit: RECENT_SUMMARIES }),
      ]);
      const series = weeks.length > MAX_WEEKS ? { bucket: "month" as const, points: await getBookSeries(deps, slug, { bucket: "month", to: now }) } : { bucket: "week" as const, points: weeks };
      body = booksPageBody({
        pod: podInfo(pod),
        balances,
        series,
        indicators: { from, to: now, values: indicators },
        summaries: summaries.map((s) => ({ label: s.label, periodKind: s.periodKind, periodStart: s.periodStart, url: s.url, version: s.version, publishedAt: s.publishedAt, entryCount: s.entryCount })),
        head,
        links,
      });
    }
    // Transfers between pods (congress agreements), with their status on both sides.
    body = html`${body}${await transfersSection(deps, slug)}`;
    const url = deps.uris.books(slug).href;
    return sendHtml(
      reply.header("cache-control", PUBLIC_CACHE),
      page({ title: `Open books — ${pod.name}`, description: `The open books of ${pod.name}: balances, funds, value reclaimed from the market, and how to verify them.`, url, type: "website", style: BOOKS_STYLE }, body),
    );
  });

  // ---- The public export ------------------------------------------------------------------
  app.get<{ Params: { slug: string } }>("/pods/:slug/books/export.json", async (request, reply) => {
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return reply.code(404).header("cache-control", "no-store").send({ error: "POD_NOT_FOUND", message: `There is no pod called ${request.params.slug} on this node.` });
    const chunks = exportLedgerJson(deps, pod.slug, { private: false });
    return reply
      .code(200)
      .header("content-type", "application/json; charset=utf-8")
      .header("cache-control", PUBLIC_CACHE)
      // Public data, meant to be checked by anyone, from anywhere (a browser script too).
      .header("access-control-allow-origin", "*")
      .send(Readable.from(chunks, { objectMode: false }));
  });

  // ---- Commons receipts ---------------------------------------------------------------------
  // The receipt number is the only key to the page, so it stays out of request logs (this
  // route logs at warn and above) and out of shared caches.
  app.get<{ Params: { slug: string; number: string } }>("/pods/:slug/receipts/:number", { logLevel: "warn" }, async (request, reply) => {
    reply.header("cache-control", "private, no-store");
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return noSuchPod(reply, request.params.slug);
    const number = request.params.number;
    const receipt = /^R\d{1,18}-[A-Z2-9]{6}$/.test(number) ? await findReceipt(deps, pod.slug, number) : null;
    if (!receipt) {
      return sendHtml(
        reply,
        page(
          { title: "No such receipt", description: "No such receipt", url: origin.href, noindex: true },
          html`<h1>No such receipt</h1><p>${pod.name} has no commons receipt with this number. Receipt numbers look like <code>R42-K7QM9X</code>; check the letters and digits after the dash.</p><p><a href="${deps.uris.books(pod.slug).href}">The open books of ${pod.name}</a></p>`,
        ),
        404,
      );
    }
    const body = receiptBody(receipt, { books: deps.uris.books(pod.slug).href, pod: deps.uris.actor(pod.slug).href });
    return sendHtml(
      reply,
      page(
        { title: `Commons receipt — ${pod.name}`, description: `A commons receipt of ${pod.name}: void by solidarity.`, url: deps.uris.receipt(pod.slug, receipt.number).href, type: "website", style: BOOKS_STYLE, noindex: true },
        body,
      ),
    );
  });

  // ---- Period summaries --------------------------------------------------------------------
  app.get<{ Params: { slug: string; period: string }; Querystring: { version?: string } }>("/pods/:slug/books/summaries/:period", async (request, reply) => {
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return noSuchPod(reply, request.params.slug);
    const match = /^([a-z]+)-(\d{4}-\d{2}-\d{2})$/.exec(request.params.period);
    const kind = match && (PERIOD_KINDS as readonly string[]).includes(match[1]!) ? (match[1] as PeriodKind) : null;
    const versionText = request.query.version;
    const version = versionText === undefined ? undefined : /^[1-9]\d{0,5}$/.test(versionText) ? Number(versionText) : NaN;
    const summary = kind && !Number.isNaN(version) ? await getSummary(deps, pod.slug, kind, match![2]!, version) : null;
    if (!summary) {
      return sendHtml(
        reply.header("cache-control", "no-store"),
        notFoundPage(origin, "No such summary", html`<p>${pod.name} has not published a summary for <code>${request.params.period}</code>${version ? ` (version ${version})` : ""}. <a href="${deps.uris.books(pod.slug).href}">See its open books.</a></p>`),
        404,
      );
    }
    const startDate = isoDay(summary.periodStart);
    const base = deps.uris.summary(pod.slug, summary.periodKind, startDate).href;
    const latest = version === undefined ? summary : await getSummary(deps, pod.slug, summary.periodKind, startDate);
    const versions = Array.from({ length: latest?.version ?? summary.version }, (_, i) => ({ version: i + 1, url: `${base}?version=${i + 1}` }));
    const body = summaryBody(summary, { pod: deps.uris.actor(pod.slug).href, books: deps.uris.books(pod.slug).href, export: deps.uris.booksExport(pod.slug).href, versions }, pod.name);
    return sendHtml(
      reply.header("cache-control", PUBLIC_CACHE),
      page(
        {
          title: `${pod.name}: ${summary.label}`,
          description: `Open books of ${pod.name}, ${summary.label}: ${summary.content.entries} entries.`,
          url: version === undefined ? base : `${base}?version=${version}`,
          activityPubUrl: base,
          type: "article",
          publishedAt: summary.publishedAt,
          style: BOOKS_STYLE,
        },
        body,
      ),
    );
  });

  // ---- The invoice ----------------------------------------------------------------------
  app.get<{ Params: { slug: string }; Querystring: { from?: string; to?: string; to_name?: string } }>("/pods/:slug/books/invoice", async (request, reply) => {
    const pod = await findPod(deps, request.params.slug);
    if (!pod) return noSuchPod(reply, request.params.slug);
    const now = deps.clock.now();
    const period = invoicePeriod(request.query.from, request.query.to, now);
    if ("error" in period) return badRequest(reply, "Cannot make this invoice", period.error);
    const toName = (request.query.to_name ?? "").trim().slice(0, 200);
    const [settings, provided] = await Promise.all([getBookSettings(deps, pod.slug), getProvidedValue(deps, pod.slug, period.from, period.toExclusive)]);
    const addressee = toName || settings.invoiceAddressee || null;
    const action = `${deps.uris.books(pod.slug).href}/invoice`;
    const body = invoiceBody(
      { podName: pod.name, podActorUrl: deps.uris.actor(pod.slug).href, addressee, from: period.from, lastDay: period.lastDay, issuedOn: now, provided },
      { action, from: isoDay(period.from), to: isoDay(period.lastDay), toName },
      { books: deps.uris.books(pod.slug).href },
    );
    const query = new URLSearchParams({ from: isoDay(period.from), to: isoDay(period.lastDay) });
    return sendHtml(
      reply.header("cache-control", PUBLIC_CACHE),
      page(
        {
          title: `What the city would have charged us — ${pod.name}`,
          description: `${pod.name}'s services from ${formatDay(period.from)} to ${formatDay(period.lastDay)}, at market prices.`,
          url: `${action}?${query}`,
          type: "website",
          style: BOOKS_STYLE,
        },
        body,
      ),
    );
  });
}

/**
 * The pod page's link to the open books: only once the books have an entry (a pod that keeps
 * no books is not promised any).
 */
export async function podBooksLink(deps: ServiceDeps, pod: Pod): Promise<SafeHtml> {
  const head = await getLedgerHead(deps, pod.slug);
  if (head.seq === 0) return html``;
  return html`<h2>Open books</h2>
<p>Everything that comes in and goes out, the value reclaimed from the market, and how to check it: <a href="${deps.uris.books(pod.slug).href}">the open books of ${pod.name}</a>.</p>`;
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(text: string): Date | null {
  if (!ISO_DAY.test(text)) return null;
  const at = new Date(`${text}T00:00:00.000Z`);
  return Number.isNaN(at.getTime()) || isoDay(at) !== text ? null : at;
}

/**
 * The invoice's period from `from` and `to` (both YYYY-MM-DD, `to` is the last day, included).
 * Without both: the previous calendar month; with only `from`: up to today. Returns `toExclusive` for the [from, to) query.
 */
export function invoicePeriod(fromText: string | undefined, toText: string | undefined, now: Date): { from: Date; lastDay: Date; toExclusive: Date } | { error: string } {
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const previousMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const from = fromText ? parseDay(fromText) : previousMonth;
  if (!from) return { error: "“from” must be a date written YYYY-MM-DD, such as 2026-11-01." };
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const lastDay = toText ? parseDay(toText) : fromText ? today : new Date(monthStart - DAY);
  if (!lastDay) return { error: "“to” must be a date written YYYY-MM-DD, such as 2026-11-30 (the last day included)." };
  if (lastDay < from) return { error: "“to” (the last day of the period) must not be before “from”." };
  return { from, lastDay, toExclusive: new Date(lastDay.getTime() + DAY) };
}
