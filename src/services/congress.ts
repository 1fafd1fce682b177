/**
 * Congress neighbours (pods that follow each other) and the congress view: for one of our
 * pods, its neighbours with their current charters, open offers and needs (urgent first)
 * and latest summaries; its own open offers and needs; the matches both ways; charters side
 * by side (partners and gaps); the congress's totals for the current lunar cycle, from
 * PUBLISHED summaries only; and transfers with an open discrepancy.
 *
 * Everything in the view is pod-level and public (no member is ever named: summaries carry
 * their own "fewer than 3" suppression, which is kept as published). The page, its JSON,
 * the CLI and the admin socket all call `congressView`.
 */
import * as congress from "../db/repos/congress.ts";
import { listResources } from "../db/repos/books.ts";
import { getPodBySlug } from "../db/repos/pods.ts";
import { listTransfers } from "../db/repos/transfers.ts";
import { Dec } from "../domain/books/decimal.ts";
import { periodOf, type Period } from "../domain/books/periods.ts";
import { SUPPRESSED, type Figure, type SummaryContent } from "../domain/books/summary.ts";
import type { CharterContent } from "../domain/charter/model.ts";
import { convertQuantity, isLive, matchProposalsCounted, type Match, type MatchProposal } from "../domain/congress/matching.ts";
import { sideBySide, type SideBySide } from "../domain/congress/side-by-side.ts";
import { congressTotals, quantityText, type CongressTotals } from "../domain/congress/totals.ts";
import { notFound } from "../domain/errors.ts";
import { findCharter, listFollowedCharters } from "./charters.ts";
import { getPod } from "./pods.ts";
import { listProposals, type ProposalView } from "./proposals.ts";
import type { ServiceDeps } from "./ports.ts";
import { listSummaries } from "./summaries.ts";

export type { NeighbourRecord } from "../db/repos/congress.ts";

/** True when the pod and the actor follow each other (both follows accepted). */
export function isNeighbour(deps: ServiceDeps, podId: string, actorIri: string): Promise<boolean> {
  return congress.isNeighbour(deps.db, podId, actorIri);
}

/** The pod's congress neighbours. */
export async function listNeighbours(deps: ServiceDeps, podSlug: string): Promise<congress.NeighbourRecord[]> {
  const pod = await getPodBySlug(deps.db, podSlug);
  if (!pod) throw notFound("POD_NOT_FOUND", `No pod named ${podSlug} on this node`);
  return congress.listNeighbours(deps.db, pod.id);
}

// ---------------------------------------------------------------------------------------
// The view's shapes (the JSON of `/pods/{slug}/congress` is exactly a CongressView)

/** The steward API route a claim is made through (src/http/api/claims.ts). */
export const CLAIM_API_PATH = (slug: string) => `/api/hyphae/v1/pods/${slug}/claims`;

/** An offer or need in the view: ours, or our copy of a neighbour's. */
export interface CongressProposal {
  /**
   * Ours: `offer-<n>` / `need-<n>`. A neighbour's: the local id of our copy (what
   * `hyphae claim <id>` takes).
   */
  id: string;
  /** The pod's actor IRI. */
  pod: string;
  /** The pod's handle or name. */
  podLabel: string;
  ours: boolean;
  kind: "offer" | "need";
  /** The proposal's id (its page). */
  url: string;
  name: string;
  description: string;
  unit: string;
  category: string | null;
  specificationUri: string | null;
  quantity: string | null;
  /** Left of an offer, still needed of a need; null: not said. */
  remaining: string | null;
  minimum: string | null;
  unitBased: boolean | null;
  location: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date | null;
  urgent: boolean;
  /**
   * A neighbour's open offer or need: how one of our stewards claims it (for a need, our
   * pod gives). Null for our own.
   */
  claim: { command: string; api: { method: "POST"; path: string; body: { proposal: string; quantity: string } } } | null;
}

export interface SummaryBrief {
  periodKind: string;
  label: string;
  periodStart: Date;
  periodEnd: Date;
  version: number;
  url: string;
  currency: string;
  participants: number | typeof SUPPRESSED;
  valueReclaimed: Figure;
  indicators: Array<{ key: string; name: string; value: Figure; trend: string | null }>;
  /** Market value per fund (figures withheld as "fewer than 3" are not added; `withheld` counts them). */
  funds: Array<{ fund: string; marketValue: string; withheld: number }>;
  /** What the pod sent to other pods (transfer_out), as published. */
  sent: Array<{ name: string; unit: string; quantity: Figure; text: string }>;
  changedAfterPublication: boolean;
}

export interface CongressNeighbour {
  actor: string;
  handle: string | null;
  name: string | null;
  /** The pod's profile page. */
  url: string | null;
  since: Date;
  charter: {
    title: string;
    revision: number;
    services: Array<{ name: string; category: string }>;
    next: Array<{ name: string; targetDate: string }>;
  } | null;
  offers: CongressProposal[];
  needs: CongressProposal[];
  /** The latest summary of each period kind, newest period first. */
  summaries: SummaryBrief[];
}

export interface CongressMatch {
  direction: "for_our_need" | "for_their_need";
  by: Match["by"];
  urgent: boolean;
  fit: Match["fit"];
  enough: boolean;
  /** How much of the need the offer covers, in the need's unit (null: any amount). */
  covers: string | null;
  unit: string;
  /** Covered share of the need, 0 to 1. */
  share: number;
  /** "covers all 20 kg" / "covers 5 kg of 20 kg". */
  text: string;
  /**
   * The command that makes the match happen, with the covered quantity in the unit of the
   * proposal claimed: a claim on the neighbour's offer, or (our offer, their need) on the
   * neighbour's need, where our pod gives. Null when neither side is a neighbour's.
   */
  claim: string | null;
  /** The same claim as data (what the steward pages' one-click form posts); null with `claim`. */
  claimOn: { proposal: string; kind: "offer" | "need"; quantity: string } | null;
  offer: CongressProposal;
  need: CongressProposal;
}

export interface CongressDiscrepancy {
  transfer: string;
  direction: "out" | "in";
  counterpart: string;
  quantity: string;
  unit: string;
  agreement: string;
  flaggedBy: "us" | "them";
  reason: string | null;
  flaggedAt: Date;
}

export interface CongressView {
  pod: { slug: string; name: string; actor: string; url: string; neighbours: string };
  generatedAt: Date;
  neighbours: CongressNeighbour[];
  ours: { offers: CongressProposal[]; needs: CongressProposal[]; summaries: SummaryBrief[] };
  /** Every open urgent need of the congress (ours and the neighbours'). */
  urgentNeeds: CongressProposal[];
  matches: { forOurNeeds: CongressMatch[]; forTheirNeeds: CongressMatch[]; more: number };
  sideBySide: SideBySide;
  totals: CongressTotals;
  discrepancies: CongressDiscrepancy[];
}

/** Matches kept per need (the best ones). */
export const MATCHES_PER_NEED = 5;
/** The most neighbours' live offers and needs one view reads (urgent first, newest first). */
export const REMOTE_PROPOSALS_READ = 50_000;
/** Matches listed per direction. */
export const MATCHES_LISTED = 200;

// ---------------------------------------------------------------------------------------

const labelOf = (n: { handle: string | null; name: string | null; actorIri: string }) => n.handle ?? n.name ?? n.actorIri;

function ourProposal(p: ProposalView, actor: string, label: string): CongressProposal {
  return {
    id: `${p.kind}-${p.number}`,
    pod: actor,
    podLabel: label,
    ours: true,
    kind: p.kind,
    url: p.url,
    name: p.name,
    description: p.description,
    unit: p.unit,
    category: p.category,
    specificationUri: p.specificationUri,
    quantity: p.quantity,
    remaining: p.remaining,
    minimum: p.minimum,
    unitBased: p.unitBased,
    location: p.location,
    availableFrom: p.availableFrom,
    availableUntil: p.availableUntil,
    expiresAt: p.expiresAt,
    urgent: p.urgent,
    claim: null,
  };
}

/** A sensible quantity to suggest in the claim command: the minimum, else the remaining, else one lot. */
function suggestedQuantity(r: congress.NeighbourProposalRecord): string {
  return r.minimum ?? (r.unitBased === true ? r.quantity : null) ?? r.remaining ?? r.quantity ?? "1";
}

function remoteProposal(r: congress.NeighbourProposalRecord, label: string, slug: string): CongressProposal {
  const kind = r.purpose === "offer" ? "offer" : "need";
  const q = suggestedQuantity(r);
  return {
    id: r.id,
    pod: r.actorIri,
    podLabel: label,
    ours: false,
    kind,
    url: r.objectIri,
    name: r.name,
    description: r.description,
    unit: r.unit,
    category: r.category,
    specificationUri: r.specificationUri,
    quantity: r.quantity,
    remaining: r.remaining,
    minimum: r.minimum,
    unitBased: r.unitBased,
    location: r.location,
    availableFrom: r.availableFrom,
    availableUntil: r.availableUntil,
    expiresAt: r.expiresAt,
    urgent: r.urgent,
    claim: { command: `hyphae claim ${r.id} --pod ${slug} --quantity ${q}`, api: { method: "POST", path: CLAIM_API_PATH(slug), body: { proposal: r.id, quantity: q } } },
  };
}

const toMatchable = (p: CongressProposal, key: string): MatchProposal => ({
  key,
  pod: p.pod,
  purpose: p.kind === "offer" ? "offer" : "request",
  name: p.name,
  unit: p.unit,
  category: p.category,
  specificationUri: p.specificationUri,
  quantity: p.quantity,
  remaining: p.remaining,
  minimum: p.minimum,
  urgent: p.urgent,
  status: "open",
  expiresAt: p.expiresAt,
  availableUntil: p.availableUntil,
});

function summaryBrief(
  s: { periodKind: string; periodStart: Date; periodEnd: Date; version: number; content: SummaryContent; changedAfterPublication: boolean },
  url: string,
): SummaryBrief {
  const c = s.content;
  const period = periodOf(s.periodKind as Period["kind"], s.periodStart);
  const funds = new Map<string, { value: Dec; withheld: number }>();
  for (const t of c.totals ?? []) {
    if (!t.fund) continue;
    const f = funds.get(t.fund) ?? { value: new Dec(0), withheld: 0 };
    if (t.marketValue === SUPPRESSED || t.suppressed) f.withheld++;
    else f.value = f.value.plus(t.marketValue);
    funds.set(t.fund, f);
  }
  return {
    periodKind: s.periodKind,
    label: period.label,
    periodStart: s.periodStart,
    periodEnd: s.periodEnd,
    version: s.version,
    url,
    currency: c.currency,
    participants: c.participants,
    valueReclaimed: c.valueReclaimed,
    indicators: (c.indicators ?? []).map((i) => ({ key: i.key, name: i.name, value: i.value, trend: i.trend })),
    funds: [...funds.entries()].map(([fund, f]) => ({ fund, marketValue: f.value.isZero() ? "0" : f.value.toFixed(), withheld: f.withheld })),
    sent: (c.totals ?? [])
      .filter((t) => t.kind === "transfer_out")
      .map((t) => ({ name: t.name, unit: t.unit, quantity: t.quantity, text: t.quantity === SUPPRESSED ? `${SUPPRESSED} (withheld)` : quantityText(t.quantity, t.unit) })),
    changedAfterPublication: s.changedAfterPublication,
  };
}

function matchText(m: Match, need: CongressProposal): string {
  if (m.covers === null) return "covers the need (any amount)";
  if (m.fit === "full") return `covers all ${quantityText(m.covers, m.unit)}`;
  const whole = need.remaining ?? need.quantity;
  return `covers ${quantityText(m.covers, m.unit)}${whole ? ` of ${quantityText(whole, need.unit)}` : ""}${m.enough ? "" : " (less than the need's minimum)"}`;
}

/** The claim of a match, for the covered quantity in the claimed proposal's unit. */
function matchClaim(m: Match, offer: CongressProposal, need: CongressProposal): Pick<CongressMatch, "claim" | "claimOn"> {
  const target = offer.claim ? offer : need.claim ? need : null;
  if (!target?.claim) return { claim: null, claimOn: null };
  const quantity = m.covers === null ? target.claim.api.body.quantity : (convertQuantity(m.covers, m.unit, target.unit) ?? target.claim.api.body.quantity);
  return {
    claim: target.claim.command.replace(/--quantity \S+$/, `--quantity ${quantity}`),
    claimOn: { proposal: target.id, kind: target.kind, quantity },
  };
}

const byRecent = (a: { periodStart: Date; periodKind: string }, b: { periodStart: Date; periodKind: string }) =>
  b.periodStart.getTime() - a.periodStart.getTime() || (a.periodKind < b.periodKind ? -1 : 1);

/** The congress view of one of our pods at `now`. */
export async function congressView(deps: ServiceDeps, slug: string, now: Date = deps.clock.now()): Promise<CongressView> {
  const pod = await getPod(deps, slug);
  const actor = deps.uris.actor(pod.slug).href;
  const ourLabel = `@${pod.slug}@${deps.config.publicUrl.host}`;
  const neighbours = await congress.listNeighbours(deps.db, pod.id);
  const actors = neighbours.map((n) => n.actorIri);
  const lunar = periodOf("lunar", now);

  const [ourOffers, ourNeeds, remote, charters, ourCharter, ourSummaries, theirSummaries, resources, discrepancies] = await Promise.all([
    listProposals(deps, pod.slug, "offer", { status: "open" }),
    listProposals(deps, pod.slug, "need", { status: "open" }),
    congress.listNeighbourProposals(deps.db, actors, now, REMOTE_PROPOSALS_READ),
    listFollowedCharters(deps, pod.slug),
    findCharter(deps, pod.slug),
    listSummaries(deps, pod.slug, { limit: 60 }),
    congress.listLatestSummariesOf(deps.db, actors),
    listResources(deps.db, pod.id),
    listTransfers(deps.db, pod.id, { discrepanciesOnly: true, limit: 100 }),
  ]);

  const labels = new Map(neighbours.map((n) => [n.actorIri, labelOf(n)]));
  const charterOf = new Map(charters.filter((c) => labels.has(c.actorIri)).map((c) => [c.actorIri, c]));
  const live = (p: CongressProposal) => isLive({ status: "open", expiresAt: p.expiresAt, availableUntil: p.availableUntil }, now);

  const ours = {
    offers: ourOffers.map((p) => ourProposal(p, actor, ourLabel)).filter(live),
    needs: ourNeeds.map((p) => ourProposal(p, actor, ourLabel)).filter(live),
  };
  const theirs = remote.filter((r) => labels.has(r.actorIri)).map((r) => remoteProposal(r, labels.get(r.actorIri)!, pod.slug)).filter(live);

  // Our own summaries: the latest of each kind.
  const ourLatest = new Map<string, (typeof ourSummaries)[number]>();
  for (const s of ourSummaries) {
    const held = ourLatest.get(s.periodKind);
    if (!held || s.periodStart > held.periodStart) ourLatest.set(s.periodKind, s);
  }
  const ourBriefs = [...ourLatest.values()]
    .sort(byRecent)
    .map((s) => summaryBrief({ ...s, content: s.content, changedAfterPublication: false }, s.url));

  // Each neighbour's proposals, in the order read (one pass, not one per neighbour).
  const theirsByPod = new Map<string, CongressProposal[]>();
  for (const p of theirs) {
    const list = theirsByPod.get(p.pod);
    if (list) list.push(p);
    else theirsByPod.set(p.pod, [p]);
  }
  const neighbourViews: CongressNeighbour[] = neighbours.map((n) => {
    const c = charterOf.get(n.actorIri);
    const content = c?.content as CharterContent | undefined;
    const mine = theirsByPod.get(n.actorIri) ?? [];
    return {
      actor: n.actorIri,
      handle: n.handle,
      name: n.name,
      url: n.url,
      since: n.since,
      charter: content
        ? {
            title: content.title,
            revision: c!.revision,
            services: (content.services ?? []).map((s) => ({ name: s.name, category: s.category })),
            next: (content.nextServices ?? []).map((s) => ({ name: s.name, targetDate: s.targetDate })),
          }
        : null,
      offers: mine.filter((p) => p.kind === "offer"),
      needs: mine.filter((p) => p.kind === "need"),
      summaries: theirSummaries
        .filter((s) => s.actorIri === n.actorIri)
        .sort(byRecent)
        .map((s) => summaryBrief({ ...s, content: s.content as unknown as SummaryContent }, s.objectIri)),
    };
  });

  // Matches both ways. A proposal's key is its place in its list ("o3": the fourth offer).
  const theirOfferList = theirs.filter((p) => p.kind === "offer");
  const theirNeedList = theirs.filter((p) => p.kind === "need");
  const keyed = (list: readonly CongressProposal[], prefix: "o" | "n") => list.map((p, i) => toMatchable(p, `${prefix}${i}`));
  const at = (list: readonly CongressProposal[], key: string) => list[Number(key.slice(1))]!;
  const dress = (direction: CongressMatch["direction"], offers: readonly CongressProposal[], needs: readonly CongressProposal[]) => (m: Match): CongressMatch => {
    const need = at(needs, m.need);
    const offer = at(offers, m.offer);
    return { direction, by: m.by, urgent: m.urgent, fit: m.fit, enough: m.enough, covers: m.covers, unit: m.unit, share: m.share, text: matchText(m, need), ...matchClaim(m, offer, need), offer, need };
  };
  const forOur = matchProposalsCounted(keyed(theirOfferList, "o"), keyed(ours.needs, "n"), now, { perNeed: MATCHES_PER_NEED, limit: MATCHES_LISTED });
  const forTheir = matchProposalsCounted(keyed(ours.offers, "o"), keyed(theirNeedList, "n"), now, { perNeed: MATCHES_PER_NEED, limit: MATCHES_LISTED });
  const more = forOur.total - forOur.matches.length + (forTheir.total - forTheir.matches.length);

  // Charters side by side (ours from our own charter).
  const allNeeds = [...ours.needs, ...theirNeedList];
  const side = sideBySide(
    [
      { pod: actor, label: ourLabel, charter: ourCharter?.content ?? null },
      ...neighbours.map((n) => ({ pod: n.actorIri, label: labels.get(n.actorIri)!, charter: (charterOf.get(n.actorIri)?.content as CharterContent | undefined) ?? null })),
    ],
    allNeeds.map((p) => ({ pod: p.pod, label: p.podLabel, name: p.name, category: p.category, urgent: p.urgent, url: p.url })),
  );

  // Totals of the current lunar cycle from published summaries.
  const categories = new Map(resources.map((r) => [r.key, r.category]));
  const totals = congressTotals(
    [
      { pod: actor, label: ourLabel, summaries: ourSummaries.map((s) => ({ periodKind: s.periodKind, periodStart: s.periodStart, version: s.version, content: s.content, url: s.url })) },
      ...neighbours.map((n) => ({
        pod: n.actorIri,
        label: labels.get(n.actorIri)!,
        summaries: theirSummaries
          .filter((s) => s.actorIri === n.actorIri)
          .map((s) => ({ periodKind: s.periodKind, periodStart: s.periodStart, version: s.version, content: s.content as unknown as SummaryContent, url: s.objectIri })),
      })),
    ],
    lunar,
    (p, resource) => (p === actor ? (categories.get(resource) ?? null) : null),
  );

  const urgentNeeds = allNeeds.filter((p) => p.urgent).sort((a, b) => Number(b.ours) - Number(a.ours) || a.podLabel.localeCompare(b.podLabel));

  return {
    pod: { slug: pod.slug, name: pod.name, actor, url: deps.uris.congress(pod.slug).href, neighbours: deps.uris.neighbours(pod.slug).href },
    generatedAt: now,
    neighbours: neighbourViews,
    ours: { ...ours, summaries: ourBriefs },
    urgentNeeds,
    matches: {
      forOurNeeds: forOur.matches.map(dress("for_our_need", theirOfferList, ours.needs)),
      forTheirNeeds: forTheir.matches.map(dress("for_their_need", ours.offers, theirNeedList)),
      more,
    },
    sideBySide: side,
    totals,
    discrepancies: discrepancies
      .filter((t) => t.discrepancyAt && t.discrepancyBy)
      .map((t) => ({
        transfer: t.id,
        direction: t.direction,
        counterpart: t.counterpartIri,
        quantity: t.quantity,
        unit: t.unit,
        agreement: t.agreementIri,
        flaggedBy: t.discrepancyBy!,
        reason: t.discrepancyReason,
        flaggedAt: t.discrepancyAt!,
      })),
  };
}

// ---------------------------------------------------------------------------------------
// The pod page's congress section

export interface CongressGlance {
  urgentNeeds: CongressProposal[];
  ours: { offers: number; needs: number };
  neighbours: { count: number; offers: number; needs: number };
  url: string;
}

/** What the pod page shows of the congress (no matching, no summaries: cheap). */
export async function congressGlance(deps: ServiceDeps, slug: string, now: Date = deps.clock.now()): Promise<CongressGlance> {
  const pod = await getPod(deps, slug);
  const actor = deps.uris.actor(pod.slug).href;
  const ourLabel = `@${pod.slug}@${deps.config.publicUrl.host}`;
  const neighbours = await congress.listNeighbours(deps.db, pod.id);
  const labels = new Map(neighbours.map((n) => [n.actorIri, labelOf(n)]));
  const [offers, needs, remote] = await Promise.all([
    listProposals(deps, pod.slug, "offer", { status: "open" }),
    listProposals(deps, pod.slug, "need", { status: "open" }),
    congress.listNeighbourProposals(deps.db, [...labels.keys()], now, REMOTE_PROPOSALS_READ),
  ]);
  const live = (p: CongressProposal) => isLive({ status: "open", expiresAt: p.expiresAt, availableUntil: p.availableUntil }, now);
  const ourNeeds = needs.map((p) => ourProposal(p, actor, ourLabel)).filter(live);
  const ourOffers = offers.map((p) => ourProposal(p, actor, ourLabel)).filter(live);
  const theirs = remote.map((r) => remoteProposal(r, labels.get(r.actorIri)!, pod.slug)).filter(live);
  return {
    urgentNeeds: [...ourNeeds, ...theirs.filter((p) => p.kind === "need")].filter((p) => p.urgent),
    ours: { offers: ourOffers.length, needs: ourNeeds.length },
    neighbours: { count: neighbours.length, offers: theirs.filter((p) => p.kind === "offer").length, needs: theirs.filter((p) => p.kind === "need").length },
    url: deps.uris.congress(pod.slug).href,
  };
}
