/**
 * Offers and needs (FEP-0837 proposals): the pod's own, and copies of its neighbours'.
 *
 * - The steward API, the CLI and other services call these same functions. Input rules
 *   are in domain/congress/proposals.ts; every refusal has a stable code naming the field
 *   and writes nothing.
 * - Every change (create, edit, withdrawal, expiry, and claims taking from an offer) bumps
 *   the proposal's version in its transaction and records a `proposal_published` event
 *   there (recordProposalPublished): Create at version 1, Update after, of the same object.
 *   The outbox is flushed after commit.
 * - expireProposals (a worker job, every minute) closes open proposals past their expiry,
 *   one transaction each under the row lock, so several workers expire each one once.
 * - Copies of followed pods' proposals (receiveRemoteProposal) are stored under applyOnce:
 *   a replayed activity changes nothing, and an older copy never replaces a newer one.
 */
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import * as repo from "../db/repos/proposals.ts";
import type { ProposalRecord, RemoteProposalRecord } from "../db/repos/proposals.ts";
import * as books from "../db/repos/books.ts";
import type { Fund } from "../domain/books/model.ts";
import { conflict, invalid, notFound } from "../domain/errors.ts";
import type { ProposalAction, ProposalPurpose, ProposalStatus, ReciprocalTerms, RemoteProposalInput } from "../domain/congress/model.ts";
import { parseNewProposal, parseProposalPatch, resolveNewProposal, type ProposalState } from "../domain/congress/proposals.ts";
import { findBadText } from "../domain/text.ts";
import type { Pod } from "../domain/pods.ts";
import { followingPodFor } from "./charters.ts";
import { writeOnce } from "./idempotency.ts";
import { applyOnce, DUPLICATE, type InboxActivityRef } from "./inbox.ts";
import { findPodById, findPodCached, getActivePod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";

export type { ProposalRecord, RemoteProposalRecord };

/**
 * In the transaction that changed a proposal (and bumped its version): records the
 * outbound event that federates this version (Create at 1, Update after). Every service
 * that changes a proposal calls this (claims taking from it, withdrawals, expiry, edits).
 */
export async function recordProposalPublished(deps: ServiceDeps, trx: Transaction<Database>, proposal: ProposalRecord): Promise<void> {
  await deps.outbox.record(trx, { kind: "proposal_published", podId: proposal.podId, proposalId: proposal.id, version: proposal.version });
}

// ---------------------------------------------------------------------------------------
// Views

/** An offer or need of ours as stewards and the API see it (all of it is public). */
export interface ProposalView {
  id: string;
  pod: string;
  number: number;
  purpose: ProposalPurpose;
  /** "offer" or "need" (the purpose as the API's paths name it). */
  kind: "offer" | "need";
  /** The proposal's id and HTML page. */
  url: string;
  /** The primary Intent's id (what claims name in `satisfies`). */
  intent: string;
  name: string;
  description: string;
  /** The pod's resource key, or null. */
  resource: string | null;
  action: ProposalAction;
  unit: string;
  category: string;
  specificationUri: string | null;
  quantity: string;
  total: string;
  remaining: string;
  minimum: string | null;
  unitBased: boolean | null;
  reciprocal: ReciprocalTerms | null;
  location: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date;
  urgent: boolean;
  fund: Fund | null;
  status: ProposalStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
}

export const kindOf = (purpose: ProposalPurpose): "offer" | "need" => (purpose === "offer" ? "offer" : "need");

export function proposalView(deps: ServiceDeps, slug: string, r: ProposalRecord, resourceKey: string | null): ProposalView {
  const url = deps.uris.proposal(slug, r.purpose, r.number).href;
  return {
    id: r.id,
    pod: slug,
    number: r.number,
    purpose: r.purpose,
    kind: kindOf(r.purpose),
    url,
    intent: `${url}#primary`,
    name: r.name,
    description: r.description,
    resource: resourceKey,
    action: r.action,
    unit: r.unit,
    category: r.category,
    specificationUri: r.specificationUri,
    quantity: r.quantity,
    total: r.total,
    remaining: r.remaining,
    minimum: r.minimum,
    unitBased: r.unitBased,
    reciprocal: r.reciprocal,
    location: r.location,
    availableFrom: r.availableFrom,
    availableUntil: r.availableUntil,
    expiresAt: r.expiresAt,
    urgent: r.urgent,
    fund: r.fund,
    status: r.status,
    version: r.version,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    closedAt: r.closedAt,
  };
}

async function resourceKeys(deps: ServiceDeps, podId: string): Promise<Map<string, string>> {
  return new Map((await books.listResources(deps.db, podId)).map((r) => [r.id, r.key]));
}

async function viewOf(deps: ServiceDeps, pod: Pod, r: ProposalRecord): Promise<ProposalView> {
  const key = r.resourceId ? ((await resourceKeys(deps, pod.id)).get(r.resourceId) ?? null) : null;
  return proposalView(deps, pod.slug, r, key);
}

function purposeOf(purpose: unknown): ProposalPurpose {
  if (purpose === "offer") return "offer";
  if (purpose === "request" || purpose === "need") return "request";
  throw invalid("INVALID_PURPOSE", "purpose must be offer or need", { field: "purpose" });
}

function numberOf(number: unknown): number {
  const n = typeof number === "string" && /^\d{1,9}$/.test(number) ? Number(number) : number;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 999_999_999) {
    throw invalid("INVALID_NUMBER", "The offer or need number must be a positive whole number", { field: "number" });
  }
  return n;
}

const missing = (slug: string, purpose: ProposalPurpose, number: number) =>
  notFound("PROPOSAL_NOT_FOUND", `${slug} has no ${purpose === "offer" ? "offer" : "need"} ${number}`);

// ---------------------------------------------------------------------------------------
// The pod's own

/** Publishes a new offer (`purpose` offer) or need (`request`); federated at once as a Create. */
export async function createProposal(deps: ServiceDeps, slug: string, purpose: ProposalPurpose | "need", input: unknown): Promise<ProposalView> {
  const p = purposeOf(purpose);
  const pod = await getActivePod(deps, slug);
  const parsed = parseNewProposal(p, input);
  const now = deps.clock.now();
  const created = await writeOnce(deps, async (trx) => {
    let resource = null;
    if (parsed.resourceKey !== null) {
      resource = await books.getResourceByKey(trx, pod.id, parsed.resourceKey);
      if (!resource) throw invalid("UNKNOWN_RESOURCE", `${pod.slug} has no resource ${parsed.resourceKey}`, { field: "resource" });
    }
    const values = resolveNewProposal(parsed, resource, now);
    const record = await repo.insertProposal(trx, { id: deps.ids.uuid(), podId: pod.id, purpose: p, ...values, createdAt: now });
    await recordProposalPublished(deps, trx, record);
    return { record, resourceKey: resource?.key ?? null };
  });
  await deps.outbox.flush();
  deps.log.info(p === "offer" ? "Offer published" : "Need published", { pod: pod.slug, number: created.record.number, urgent: created.record.urgent });
  return proposalView(deps, pod.slug, created.record, created.resourceKey);
}

async function findOwn(deps: ServiceDeps, pod: Pod, purpose: ProposalPurpose, number: number, trx?: Transaction<Database>): Promise<ProposalRecord> {
  const found = await repo.getProposalByNumber(trx ?? deps.db, pod.id, number);
  if (!found || found.purpose !== purpose) throw missing(pod.slug, purpose, number);
  if (!trx) return found;
  return (await repo.lockProposal(trx, found.id))!;
}

const stateOf = (r: ProposalRecord): ProposalState => ({
  purpose: r.purpose,
  status: r.status,
  quantity: r.quantity,
  total: r.total,
  remaining: r.remaining,
  minimum: r.minimum,
  unitBased: r.unitBased,
  availableFrom: r.availableFrom,
  availableUntil: r.availableUntil,
  expiresAt: r.expiresAt,
});

const closedError = (r: ProposalRecord) =>
  conflict("PROPOSAL_CLOSED", `This ${r.purpose === "offer" ? "offer" : "need"} is ${r.status}: it takes no changes`, { status: r.status });

/**
 * Changes an open proposal (name, description, quantities, window, expiry, location,
 * urgency, reciprocal…): the version goes up and an Update is federated. A patch that
 * changes nothing changes nothing (no new version).
 */
export async function updateProposal(deps: ServiceDeps, slug: string, purpose: ProposalPurpose | "need", number: unknown, patch: unknown): Promise<ProposalView> {
  const p = purposeOf(purpose);
  const n = numberOf(number);
  const pod = await getActivePod(deps, slug);
  const now = deps.clock.now();
  const outcome = await writeOnce(deps, async (trx) => {
    const current = await findOwn(deps, pod, p, n, trx);
    if (current.status !== "open") throw closedError(current);
    const change = parseProposalPatch(stateOf(current), patch, now);
    if (Object.keys(change).length === 0) return { record: current, changed: false };
    const record = await repo.updateProposal(trx, current.id, change, now);
    await recordProposalPublished(deps, trx, record);
    return { record, changed: true };
  });
  if (outcome.changed) {
    await deps.outbox.flush();
    deps.log.info("Proposal changed", { pod: pod.slug, purpose: p, number: n, version: outcome.record.version });
  }
  return viewOf(deps, pod, outcome.record);
}

/**
 * Withdraws an open proposal: status withdrawn, federated as an Update of the same object.
 * Withdrawing one that is withdrawn already answers it as it is; an expired or fulfilled
 * one is PROPOSAL_CLOSED.
 */
export async function withdrawProposal(deps: ServiceDeps, slug: string, purpose: ProposalPurpose | "need", number: unknown): Promise<ProposalView> {
  const p = purposeOf(purpose);
  const n = numberOf(number);
  const pod = await getActivePod(deps, slug);
  const now = deps.clock.now();
  const outcome = await writeOnce(deps, async (trx) => {
    const current = await findOwn(deps, pod, p, n, trx);
    if (current.status === "withdrawn") return { record: current, changed: false };
    if (current.status !== "open") throw closedError(current);
    const record = await repo.updateProposal(trx, current.id, { status: "withdrawn", closedAt: now }, now);
    await recordProposalPublished(deps, trx, record);
    return { record, changed: true };
  });
  if (outcome.changed) {
    await deps.outbox.flush();
    deps.log.info("Proposal withdrawn", { pod: pod.slug, purpose: p, number: n });
  }
  return viewOf(deps, pod, outcome.record);
}

export async function getProposal(deps: ServiceDeps, slug: string, purpose: ProposalPurpose | "need", number: unknown): Promise<ProposalView> {
  const p = purposeOf(purpose);
  const n = numberOf(number);
  const pod = await getPod(deps, slug);
  return viewOf(deps, pod, await findOwn(deps, pod, p, n));
}

/** Null when the pod or the proposal does not exist (documents and pages). */
export async function findProposal(deps: ServiceDeps, slug: string, purpose: ProposalPurpose, number: number): Promise<{ pod: Pod; proposal: ProposalView } | null> {
  const pod = await findPodCached(deps, slug);
  if (!pod || !Number.isInteger(number) || number < 1) return null;
  const found = await repo.getProposalByNumber(deps.db, pod.id, number);
  if (!found || found.purpose !== purpose) return null;
  return { pod, proposal: await viewOf(deps, pod, found) };
}

export const PROPOSAL_STATUSES: readonly ProposalStatus[] = ["open", "withdrawn", "expired", "fulfilled"];

/** The pod's offers or needs: open ones unless `status` says otherwise ("all"); urgent first, then newest. */
export async function listProposals(
  deps: ServiceDeps,
  slug: string,
  purpose: ProposalPurpose | "need",
  opts: { status?: ProposalStatus | "all" | string; limit?: number } = {},
): Promise<ProposalView[]> {
  const p = purposeOf(purpose);
  const status = opts.status ?? "open";
  if (status !== "all" && !(PROPOSAL_STATUSES as readonly string[]).includes(status)) {
    throw invalid("INVALID_STATUS", `status must be one of ${PROPOSAL_STATUSES.join(", ")} or all`, { field: "status" });
  }
  const pod = await getPod(deps, slug);
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 500), 1), 500);
  const [rows, keys] = await Promise.all([
    repo.listProposals(deps.db, pod.id, { purpose: p, status: status as ProposalStatus | "all", limit }),
    resourceKeys(deps, pod.id),
  ]);
  return rows.map((r) => proposalView(deps, pod.slug, r, r.resourceId ? (keys.get(r.resourceId) ?? null) : null));
}

/** What the publisher and the document need for one proposal: the pod and the current record. */
export async function proposalSnapshot(deps: ServiceDeps, podId: string, proposalId: string): Promise<{ pod: Pod; proposal: ProposalView } | null> {
  const pod = await findPodById(deps, podId);
  if (!pod) return null;
  const record = await repo.getProposalById(deps.db, proposalId);
  if (!record || record.podId !== pod.id) return null;
  return { pod, proposal: await viewOf(deps, pod, record) };
}

/**
 * Marks open proposals past their expiry as expired (each federated as an Update); returns
 * how many. One transaction per proposal under its row lock, re-checked there: with several
 * workers each proposal expires (and is federated) once.
 */
export async function expireProposals(deps: ServiceDeps): Promise<number> {
  const now = deps.clock.now();
  let expired = 0;
  for (;;) {
    const due = await repo.listExpiredOpenProposals(deps.db, now, 100);
    let progressed = 0;
    for (const candidate of due) {
      const done = await deps.db.transaction().execute(async (trx) => {
        const current = await repo.lockProposal(trx, candidate.id);
        if (!current || current.status !== "open" || current.expiresAt.getTime() > now.getTime()) return false;
        const record = await repo.updateProposal(trx, current.id, { status: "expired", closedAt: now }, now);
        await recordProposalPublished(deps, trx, record);
        return true;
      });
      if (done) {
        expired++;
        progressed++;
        deps.log.info("Proposal expired", { podId: candidate.podId, purpose: candidate.purpose, number: candidate.number });
      }
    }
    if (due.length < 100 || progressed === 0) break;
  }
  if (expired > 0) await deps.outbox.flush();
  return expired;
}

// ---------------------------------------------------------------------------------------
// Neighbours' proposals

export type RemoteProposalOutcome = "stored" | "updated" | "stale" | "not_followed" | "duplicate";

/**
 * A followed pod's offer or need (parsed from its document by parseProposalJson). Stored
 * only when one of our pods follows the actor; the same activity again, or a copy no
 * newer than the one held, changes nothing.
 */
export async function receiveRemoteProposal(deps: ServiceDeps, input: RemoteProposalInput & { activity?: InboxActivityRef }): Promise<RemoteProposalOutcome> {
  const { activity, ...copy } = input;
  const bad = findBadText(copy);
  if (bad) throw invalid("BAD_TEXT", `The proposal's ${bad.path} ${bad.problem}`, { path: bad.path });
  if (!(await followingPodFor(deps, copy.actorIri))) return "not_followed";
  const outcome = await applyOnce(deps, activity, (trx) => repo.upsertRemoteProposal(trx, copy, deps.clock.now()));
  if (outcome === DUPLICATE) {
    deps.log.debug("Proposal activity already received", { actor: copy.actorIri, activity: activity?.key });
    return "duplicate";
  }
  const where = { actor: copy.actorIri, object: copy.objectIri, status: copy.status, urgent: copy.urgent };
  if (outcome === "stale") deps.log.info("Ignored an older copy of a followed pod's proposal", where);
  else deps.log.info(outcome === "stored" ? "Stored a followed pod's proposal" : "Updated a followed pod's proposal", where);
  return outcome;
}

/** A neighbour's proposal by our row id or by its object IRI; null when we hold none. */
export async function getRemoteProposal(deps: ServiceDeps, idOrIri: string): Promise<RemoteProposalRecord | null> {
  if (/^\d{1,18}$/.test(idOrIri)) return repo.getRemoteProposalById(deps.db, idOrIri);
  const byIri = await repo.getRemoteProposalByIri(deps.db, idOrIri);
  if (byIri) return byIri;
  // An intent id (`…#primary`) names its proposal.
  const hash = idOrIri.indexOf("#");
  return hash > 0 ? repo.getRemoteProposalByIri(deps.db, idOrIri.slice(0, hash)) : null;
}

/** The given actors' proposals we hold (open ones unless `all`), urgent first, newest first. */
export async function listRemoteProposals(deps: ServiceDeps, actorIris: readonly string[], opts: { all?: boolean; limit?: number } = {}): Promise<RemoteProposalRecord[]> {
  return repo.listRemoteProposals(deps.db, actorIris, opts);
}
