/**
 * Transfers between pods under an accepted agreement (issue 10, part 4): both ledgers get
 * matching entries, each side publishes its own EconomicEvent, and either side may flag a
 * discrepancy.
 *
 * - The GIVER (the proposer of an offer, or the claimant of a need) records the transfer:
 *   one transaction appends a `transfer_out` entry (counterparty = the other pod's actor,
 *   agreement = the Agreement id), inserts the `transfers` row (direction out) and records
 *   a `transfer_event` for the other pod (`recordTransfer`).
 * - The RECEIVER's node reads the giver's event (the inbox dereferences it) and, once it
 *   knows the agreement, appends `transfer_in`, inserts its own row (direction in) and
 *   publishes its acknowledging event (`receiveTransferEvent`). An event that arrives before
 *   the Accept that made the agreement is a transient failure: the queue retries it.
 * - The giver's node reads that acknowledging event and marks its row acknowledged; a
 *   quantity that differs is flagged as a discrepancy by 'them' at once.
 * - `flagDiscrepancy` flags ours and sends a Flag; `receiveTransferFlag` records theirs.
 *
 * Nothing books twice: one row per (pod, agreement, direction), checked under the ledger
 * head lock, in the same transaction as the entry and the inbox record (applyOnce).
 */
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import * as books from "../db/repos/books.ts";
import * as ledgerRepo from "../db/repos/ledger.ts";
import { getClaimByAgreementIri, getClaimById, getClaimByOfferIri, type ClaimRecord } from "../db/repos/claims.ts";
import { getPodById } from "../db/repos/pods.ts";
import { getRemoteActor } from "../db/repos/follows.ts";
import { getProposalById, getRemoteProposalById } from "../db/repos/proposals.ts";
import * as repo from "../db/repos/transfers.ts";
import type { TransferRecord } from "../db/repos/transfers.ts";
import { Dec, normalizeDecimal, parseDecimal, QUANTITY_SCALE } from "../domain/books/decimal.ts";
import { parseOccurredAt, RESOURCE_KEY } from "../domain/books/entries.ts";
import { FUNDS, type Fund } from "../domain/books/model.ts";
import { conflict, invalid, notFound, unavailable, unprocessable } from "../domain/errors.ts";
import { findBadText } from "../domain/text.ts";
import { assertPodActive, type Pod } from "../domain/pods.ts";
import { appendPrepared, openLedgerSession } from "./ledger.ts";
import { applyOnce, DUPLICATE, type InboxActivityRef } from "./inbox.ts";
import { writeOnce } from "./idempotency.ts";
import { findPod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";

export const REASON_MAX = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// ---------------------------------------------------------------------------------------
// Views

export interface TransferView {
  id: string;
  pod: string;
  /** Our EconomicEvent's id (its HTML page too). */
  url: string;
  /** out: our pod gave (transfer_out); in: it received (transfer_in). */
  direction: "out" | "in";
  agreement: string;
  /** Our claim row that carries the agreement. */
  claimId: string;
  /** The agreement's HTML page on this node when our pod made it, else null. */
  agreementPage: string | null;
  counterpart: string;
  counterpartHandle: string | null;
  /** The other side's EconomicEvent, once it arrived. */
  counterpartEvent: string | null;
  giver: string;
  receiver: string;
  quantity: string;
  unit: string;
  resource: string;
  resourceName: string;
  fund: Fund | null;
  publicMemo: string;
  ledgerSeq: number;
  ledgerHash: string;
  occurredAt: Date;
  acknowledgedAt: Date | null;
  discrepancy: { by: "us" | "them"; reason: string; at: Date } | null;
  createdAt: Date;
}

/** What recordTransfer answers: the view, and what it had to decide on the steward's behalf. */
export interface RecordedTransfer extends TransferView {
  /** The resource of our books it was booked to was created for it. */
  resourceCreated: boolean;
  notes: string[];
}

type Db = ServiceDeps["db"] | Transaction<Database>;

async function handleOf(db: Db, iri: string): Promise<string | null> {
  return (await getRemoteActor(db, iri))?.handle ?? null;
}

async function viewOf(deps: ServiceDeps, db: Db, pod: Pod, t: TransferRecord): Promise<TransferView> {
  const [entry] = await ledgerRepo.getEntriesBySeq(db, pod.id, t.ledgerSeq, t.ledgerSeq);
  const claim = await getClaimById(db, t.claimId);
  const me = deps.uris.actor(pod.slug).href;
  const ourAgreement = claim && t.agreementIri === deps.uris.agreement(pod.slug, claim.id).href;
  return {
    id: t.id,
    pod: pod.slug,
    url: t.eventIri,
    direction: t.direction,
    agreement: t.agreementIri,
    claimId: t.claimId,
    agreementPage: ourAgreement ? t.agreementIri : null,
    counterpart: t.counterpartIri,
    counterpartHandle: await handleOf(db, t.counterpartIri),
    counterpartEvent: t.counterpartEventIri,
    giver: t.direction === "out" ? me : t.counterpartIri,
    receiver: t.direction === "out" ? t.counterpartIri : me,
    quantity: t.quantity,
    unit: t.unit,
    resource: entry?.resourceKey ?? "",
    resourceName: entry?.resourceName ?? "",
    fund: entry?.fund ?? null,
    publicMemo: entry?.publicMemo ?? "",
    ledgerSeq: t.ledgerSeq,
    ledgerHash: entry?.hash ?? "",
    occurredAt: t.occurredAt,
    acknowledgedAt: t.acknowledgedAt,
    discrepancy: t.discrepancyBy && t.discrepancyAt ? { by: t.discrepancyBy, reason: t.discrepancyReason ?? "", at: t.discrepancyAt } : null,
    createdAt: t.createdAt,
  };
}

// ---------------------------------------------------------------------------------------
// Who gives, what was agreed

/** The giver is the proposer of an offer (a claim on our offer) or the claimant of a need (our claim on their request). */
export function ourPodGives(claim: Pick<ClaimRecord, "direction" | "purpose">): boolean {
  return (claim.direction === "incoming" && claim.purpose === "offer") || (claim.direction === "outgoing" && claim.purpose === "request");
}

interface ProposalFacts {
  name: string;
  category: string | null;
  specificationUri: string | null;
  /** The VF action: transfer, or deliverService for service hours. */
  action: string;
  /** Our own resource, for our own proposals. */
  resourceId: string | null;
  /** The fund our offer books its transfers to. */
  fund: Fund | null;
  /** The proposal's id (its page). */
  iri: string;
}

async function proposalFacts(db: Db, claim: ClaimRecord): Promise<ProposalFacts> {
  if (claim.proposalId) {
    const p = await getProposalById(db, claim.proposalId);
    if (p) return { name: p.name, category: p.category, specificationUri: p.specificationUri, action: p.action, resourceId: p.resourceId, fund: p.fund, iri: claim.proposalIri };
  }
  if (claim.remoteProposalId) {
    const p = await getRemoteProposalById(db, claim.remoteProposalId);
    if (p) return { name: p.name, category: p.category, specificationUri: p.specificationUri, action: p.action, resourceId: null, fund: null, iri: claim.proposalIri };
  }
  return { name: "Congress transfer", category: null, specificationUri: null, action: claim.unit === "hour" ? "deliverService" : "transfer", resourceId: null, fund: null, iri: claim.proposalIri };
}

/** "Winter Squash (Crown Prince)" → "winter-squash-crown-prince" (a resource key), or "" when nothing is left. */
export function keyOfName(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 40)
    .replace(/-+$/, "");
}

/**
 * Our resource for a transfer: the claim's, else the proposal's, else one with the same
 * specification URI and unit, else one with the same key-ified name and unit, else a new
 * one made from the proposal's name, unit and category.
 */
async function resolveResource(
  deps: ServiceDeps,
  trx: Transaction<Database>,
  podId: string,
  claim: ClaimRecord,
  facts: ProposalFacts,
): Promise<{ resource: books.ResourceRecord; created: boolean; how: string }> {
  const resources = await books.listResources(trx, podId);
  const byId = (id: string | null) => (id ? resources.find((r) => r.id === id) : undefined);
  const claimed = byId(claim.resourceId);
  if (claimed) return { resource: claimed, created: false, how: "the claim's resource" };
  const proposed = byId(facts.resourceId);
  if (proposed) return { resource: proposed, created: false, how: "the offer's resource" };
  if (facts.specificationUri) {
    const spec = resources.find((r) => r.specificationUri === facts.specificationUri && r.unit === claim.unit);
    if (spec) return { resource: spec, created: false, how: "the resource with the same specification" };
  }
  const base = keyOfName(facts.name) || "congress-transfer";
  const named = resources.find((r) => r.key === base && r.unit === claim.unit);
  if (named) return { resource: named, created: false, how: "the resource with the same name and unit" };
  const taken = new Set(resources.map((r) => r.key));
  const candidates = [base, `${base.slice(0, 39 - claim.unit.length)}-${claim.unit.toLowerCase()}`];
  for (let n = 2; n < 100; n++) candidates.push(`${base.slice(0, 37)}-${n}`);
  const key = candidates.find((k) => RESOURCE_KEY.test(k) && !taken.has(k));
  if (!key) throw conflict("RESOURCE_KEY_UNAVAILABLE", `No free resource key for ${facts.name}: add a resource for it and name it in the claim`);
  const now = deps.clock.now();
  const resource: books.ResourceRecord = {
    id: deps.ids.uuid(),
    podId,
    key,
    name: facts.name.slice(0, 200),
    unit: claim.unit,
    category: (facts.category ?? "congress").slice(0, 60),
    specificationUri: facts.specificationUri,
    referencePrice: null,
    referencePriceSource: null,
    referencePriceOn: null,
    createdAt: now,
    updatedAt: now,
  };
  await books.insertResource(trx, resource);
  return { resource, created: true, how: "a new resource" };
}

// ---------------------------------------------------------------------------------------
// The giver records the transfer

export interface RecordTransferInput {
  /** The agreement IRI, or our claim's id. */
  agreement: string;
  quantity?: string | number;
  fund?: string;
  occurredAt?: string;
  publicMemo?: string;
}

const RECORD_FIELDS = new Set(["agreement", "quantity", "fund", "occurredAt", "publicMemo"]);

function parseRecordInput(input: unknown): { agreement: string; quantity: string | null; fund: Fund | null; occurredAt: Date | null; publicMemo: string | null } {
  if (input === null || typeof input !== "object" || Array.isArray(input)) throw invalid("INVALID_INPUT", "Send an object with the fields of the request", { field: "(root)" });
  const o = input as Record<string, unknown>;
  const bad = findBadText(o);
  if (bad) throw invalid("INVALID_TEXT", `${bad.path || "(root)"} ${bad.problem}`, { field: bad.path || "(root)" });
  for (const k of Object.keys(o)) if (!RECORD_FIELDS.has(k)) throw invalid("UNKNOWN_FIELD", `${k}: unknown field`, { field: k });
  const present = (k: string) => o[k] !== undefined && o[k] !== null && o[k] !== "";
  if (!present("agreement")) throw invalid("AGREEMENT_REQUIRED", "Name the agreement: its IRI, or our claim's id", { field: "agreement" });
  if (typeof o.agreement !== "string") throw invalid("INVALID_AGREEMENT", "agreement must be the agreement's IRI or our claim's id", { field: "agreement" });
  const agreement = o.agreement.trim();
  if (!UUID.test(agreement) && !/^https?:\/\/\S+$/.test(agreement)) throw invalid("INVALID_AGREEMENT", "agreement must be the agreement's IRI or our claim's id", { field: "agreement" });
  let quantity: string | null = null;
  if (present("quantity")) {
    if (typeof o.quantity !== "string" && typeof o.quantity !== "number") throw invalid("INVALID_DECIMAL", "quantity must be a decimal number", { field: "quantity" });
    quantity = normalizeDecimal(parseDecimal(o.quantity, "quantity", { scale: QUANTITY_SCALE, sign: "positive" }));
  }
  let fund: Fund | null = null;
  if (present("fund")) {
    if (!(FUNDS as readonly unknown[]).includes(o.fund)) throw invalid("INVALID_FUND", `fund must be one of ${FUNDS.join(", ")}`, { field: "fund" });
    fund = o.fund as Fund;
  }
  let occurredAt: Date | null = null;
  if (present("occurredAt")) {
    if (typeof o.occurredAt !== "string") throw invalid("INVALID_DATE", "occurredAt must be a date or an ISO datetime with a zone", { field: "occurredAt" });
    occurredAt = parseOccurredAt(o.occurredAt.trim());
  }
  let publicMemo: string | null = null;
  if (present("publicMemo")) {
    if (typeof o.publicMemo !== "string") throw invalid("INVALID_FIELD", "publicMemo must be text", { field: "publicMemo" });
    publicMemo = o.publicMemo.trim();
  }
  return { agreement, quantity, fund, occurredAt, publicMemo };
}

async function findOurClaim(db: Db, pod: Pod, agreement: string): Promise<ClaimRecord> {
  const claim = UUID.test(agreement) ? await getClaimById(db, agreement) : await getClaimByAgreementIri(db, agreement);
  if (!claim || claim.podId !== pod.id) throw notFound("AGREEMENT_NOT_FOUND", `${pod.slug} has no agreement ${agreement}`);
  return claim;
}

/**
 * The giver records a transfer under an accepted agreement: a `transfer_out` entry, the
 * transfers row and the Create(EconomicEvent) to the other pod, in one transaction.
 */
export async function recordTransfer(deps: ServiceDeps, podSlug: string, input: unknown): Promise<RecordedTransfer> {
  const pod = assertPodActive(await getPod(deps, podSlug));
  const data = parseRecordInput(input);
  const result = await writeOnce(deps, async (trx) => {
    const claim = await findOurClaim(trx, pod, data.agreement);
    if (claim.status !== "accepted" || !claim.agreementIri) {
      throw conflict("AGREEMENT_NOT_ACCEPTED", `The claim ${claim.id} is ${claim.status}: only an accepted agreement is fulfilled by a transfer`, { field: "agreement" });
    }
    if (!ourPodGives(claim)) {
      throw conflict("NOT_THE_GIVER", `Under this agreement ${pod.slug} receives; the other pod records the transfer and ours is booked when its event arrives`, { field: "agreement" });
    }
    const agreementIri = claim.agreementIri;
    const quantity = data.quantity ?? claim.quantity;
    if (new Dec(quantity).gt(new Dec(claim.quantity))) {
      throw unprocessable("TRANSFER_EXCEEDS_AGREEMENT", `The agreement is for ${claim.quantity} ${claim.unit}, less than ${quantity}`);
    }
    // Under the head lock: two records of one agreement at once meet here, one after the other.
    await ledgerRepo.lockHead(trx, pod.id, deps.clock.now());
    if (await repo.getTransferForAgreement(trx, pod.id, agreementIri, "out")) {
      throw conflict("TRANSFER_EXISTS", `${pod.slug} already recorded the transfer under ${agreementIri}; flag a discrepancy or record a correction instead`, { field: "agreement" });
    }
    const facts = await proposalFacts(trx, claim);
    const { resource, created, how } = await resolveResource(deps, trx, pod.id, claim, facts);
    const handle = (await handleOf(trx, claim.counterpartIri)) ?? claim.counterpartIri;
    const occurredAt = data.occurredAt ?? deps.clock.now();
    const fund = data.fund ?? facts.fund ?? "survival";
    const session = await openLedgerSession(deps, pod.slug, trx, { corrects: [], stockOf: [resource.key] });
    const prepared = session.prepare({
      kind: "transfer_out",
      resource: resource.key,
      unit: claim.unit,
      quantity,
      fund,
      counterpartyPod: claim.counterpartIri,
      agreement: agreementIri,
      publicMemo: data.publicMemo ?? `To ${handle} under agreement ${agreementIri}`,
      occurredAt: occurredAt.toISOString(),
    });
    const { lastSeq } = await appendPrepared(deps, trx, session, [prepared]);
    const id = deps.ids.uuid();
    const row = await repo.insertTransfer(trx, {
      id,
      podId: pod.id,
      claimId: claim.id,
      agreementIri,
      direction: "out",
      eventIri: deps.uris.transfer(pod.slug, id).href,
      counterpartEventIri: null,
      counterpartIri: claim.counterpartIri,
      quantity,
      unit: claim.unit,
      ledgerSeq: lastSeq,
      occurredAt,
      createdAt: deps.clock.now(),
    });
    if (!row) throw conflict("TRANSFER_EXISTS", `${pod.slug} already recorded the transfer under ${agreementIri}`, { field: "agreement" });
    await deps.outbox.record(trx, { kind: "transfer_event", podId: pod.id, transferId: id, actorIri: claim.counterpartIri });
    const notes = [`Booked to ${how}: ${resource.key} (${resource.name}).`, ...(created ? [`The resource ${resource.key} was created for this transfer; edit it in the books if needed.`] : [])];
    if (!data.fund) notes.push(`Fund: ${fund} (${facts.fund ? "the offer's" : "the default"}).`);
    return { ...(await viewOf(deps, trx, pod, row)), resourceCreated: created, notes };
  });
  await deps.outbox.flush();
  deps.log.info("Transfer recorded", { pod: pod.slug, transfer: result.id, seq: result.ledgerSeq });
  return result;
}

// ---------------------------------------------------------------------------------------
// Reading

export async function listTransfers(deps: ServiceDeps, podSlug: string, opts: { discrepanciesOnly?: boolean; limit?: number } = {}): Promise<TransferView[]> {
  const pod = await getPod(deps, podSlug);
  const rows = await repo.listTransfers(deps.db, pod.id, opts);
  return Promise.all(rows.map((t) => viewOf(deps, deps.db, pod, t)));
}

async function findTransfer(db: Db, pod: Pod, idOrAgreement: string): Promise<TransferRecord | null> {
  const t = UUID.test(idOrAgreement) ? await repo.getTransferById(db, idOrAgreement) : await repo.getTransferForAgreement(db, pod.id, idOrAgreement);
  return t && t.podId === pod.id ? t : null;
}

export async function getTransfer(deps: ServiceDeps, podSlug: string, idOrAgreement: string): Promise<TransferView> {
  const pod = await getPod(deps, podSlug);
  const t = await findTransfer(deps.db, pod, idOrAgreement.trim());
  if (!t) throw notFound("TRANSFER_NOT_FOUND", `${pod.slug} has no transfer ${idOrAgreement}`);
  return viewOf(deps, deps.db, pod, t);
}

/** For public pages: null when the pod or the transfer does not exist. */
export async function findTransferView(deps: ServiceDeps, podSlug: string, id: string): Promise<TransferView | null> {
  const pod = await findPod(deps, podSlug);
  if (!pod || !UUID.test(id)) return null;
  const t = await repo.getTransferById(deps.db, id);
  return t && t.podId === pod.id ? viewOf(deps, deps.db, pod, t) : null;
}

/** Everything our EconomicEvent document says (federation/transfers.ts builds the JSON). */
export interface TransferEventFacts {
  transfer: TransferView;
  actorIri: string;
  action: string;
  specificationUri: string | null;
  commitmentIri: string;
  /** The claim's Offer id: the receiver finds its claim by it before the Accept arrived. */
  claimOfferIri: string;
  proposalIri: string;
}

export async function transferEventFacts(deps: ServiceDeps, podSlug: string, id: string): Promise<TransferEventFacts | null> {
  const pod = await findPod(deps, podSlug);
  if (!pod || !UUID.test(id)) return null;
  const t = await repo.getTransferById(deps.db, id);
  if (!t || t.podId !== pod.id) return null;
  const claim = await getClaimById(deps.db, t.claimId);
  if (!claim) return null;
  const [view, facts] = await Promise.all([viewOf(deps, deps.db, pod, t), proposalFacts(deps.db, claim)]);
  const resources = await books.listResources(deps.db, pod.id);
  const resource = resources.find((r) => r.key === view.resource);
  return {
    transfer: view,
    actorIri: deps.uris.actor(pod.slug).href,
    action: facts.action === "deliverService" ? "deliverService" : "transfer",
    specificationUri: resource?.specificationUri ?? facts.specificationUri,
    commitmentIri: claim.commitmentIri ?? `${t.agreementIri}#primary`,
    claimOfferIri: claim.offerIri,
    proposalIri: claim.proposalIri,
  };
}

/** What the publishers need about a transfer row, or null when it is gone. */
export async function transferForPublish(
  deps: ServiceDeps,
  podId: string,
  transferId: string,
): Promise<{ slug: string; transfer: TransferRecord; inbox: string; sharedInbox: string | null } | null> {
  const [pod, t] = await Promise.all([getPodById(deps.db, podId), repo.getTransferById(deps.db, transferId)]);
  if (!pod || !t || t.podId !== podId) return null;
  const remote = await getRemoteActor(deps.db, t.counterpartIri);
  if (!remote) return null;
  return { slug: pod.slug, transfer: t, inbox: remote.inbox, sharedInbox: remote.shared_inbox };
}

// ---------------------------------------------------------------------------------------
// The agreement page

export interface AgreementView {
  pod: string;
  url: string;
  claimId: string;
  status: ClaimRecord["status"];
  proposal: { iri: string; name: string; purpose: "offer" | "request" };
  giver: { iri: string; handle: string | null };
  receiver: { iri: string; handle: string | null };
  quantity: string;
  unit: string;
  decidedAt: Date | null;
  transfers: TransferView[];
}

/** An agreement our pod made (its id is ours), for its public page; null otherwise. */
export async function findAgreementView(deps: ServiceDeps, podSlug: string, claimId: string): Promise<AgreementView | null> {
  const pod = await findPod(deps, podSlug);
  if (!pod || !UUID.test(claimId)) return null;
  const claim = await getClaimById(deps.db, claimId);
  const url = deps.uris.agreement(pod.slug, claimId).href;
  if (!claim || claim.podId !== pod.id || claim.status !== "accepted" || claim.agreementIri !== url) return null;
  const facts = await proposalFacts(deps.db, claim);
  const me = { iri: deps.uris.actor(pod.slug).href, handle: `@${pod.slug}@${deps.config.publicUrl.host}` };
  const them = { iri: claim.counterpartIri, handle: await handleOf(deps.db, claim.counterpartIri) };
  const gives = ourPodGives(claim);
  const rows = (await repo.listTransfers(deps.db, pod.id)).filter((t) => t.agreementIri === url);
  return {
    pod: pod.slug,
    url,
    claimId: claim.id,
    status: claim.status,
    proposal: { iri: claim.proposalIri, name: facts.name, purpose: claim.purpose },
    giver: gives ? me : them,
    receiver: gives ? them : me,
    quantity: claim.quantity,
    unit: claim.unit,
    decidedAt: claim.decidedAt,
    transfers: await Promise.all(rows.map((t) => viewOf(deps, deps.db, pod, t))),
  };
}

// ---------------------------------------------------------------------------------------
// The other side's event arrives

/** An EconomicEvent of another pod, as read from its document (federation/inbox/transfers.ts). */
export interface IncomingTransferEvent {
  /** The actor that sent the Create (and is the event's attributedTo). */
  actorIri: string;
  eventIri: string;
  /** `context` (or `realizationOf`): the Agreement's id. */
  agreementIri: string;
  /** `hyphae:claim`: the claim's Offer id, when the sender is a Hyphae node. */
  claimOfferIri: string | null;
  providerIri: string;
  receiverIri: string;
  quantity: string;
  unit: string;
  occurredAt: Date | null;
  /** `hyphae:acknowledges`: the event this one answers. */
  acknowledges: string | null;
}

export type ReceiveOutcome = "booked" | "acknowledged" | "duplicate";

/** Applies another pod's EconomicEvent (once per activity): books a transfer in, or acknowledges ours. */
export async function receiveTransferEvent(deps: ServiceDeps, e: IncomingTransferEvent, activity?: InboxActivityRef): Promise<ReceiveOutcome> {
  const quantity = normalizeDecimal(parseDecimal(e.quantity, "resourceQuantity", { scale: QUANTITY_SCALE, sign: "positive" }));
  const outcome = await applyOnce(deps, activity, async (trx): Promise<ReceiveOutcome> => {
    const claim = await getClaimByAgreementIri(trx, e.agreementIri);
    if (!claim) {
      const byOffer = e.claimOfferIri ? await getClaimByOfferIri(trx, e.claimOfferIri) : null;
      if (byOffer && byOffer.counterpartIri === e.actorIri) {
        if (byOffer.status === "rejected") throw invalid("AGREEMENT_REJECTED", `The claim ${byOffer.offerIri} was rejected: there is no agreement to transfer under`);
        if (byOffer.status === "accepted") throw invalid("AGREEMENT_MISMATCH", `The claim ${byOffer.offerIri} was accepted under another agreement than ${e.agreementIri}`);
      } else if (e.claimOfferIri && new URL(e.claimOfferIri).origin === deps.config.publicUrl.origin) {
        throw invalid("AGREEMENT_NOT_FOUND", `No claim ${e.claimOfferIri} here`);
      }
      // The Accept that makes the agreement has not arrived yet (a reorder): try again later.
      throw unavailable("AGREEMENT_NOT_YET_KNOWN", `The agreement ${e.agreementIri} is not known here yet`);
    }
    if (claim.counterpartIri !== e.actorIri) throw invalid("NOT_YOUR_AGREEMENT", `The agreement ${e.agreementIri} is not with ${e.actorIri}`);
    if (claim.status !== "accepted") throw invalid("AGREEMENT_NOT_ACCEPTED", `The claim under ${e.agreementIri} is ${claim.status}`);
    const pod = await getPodById(trx, claim.podId);
    if (!pod) throw invalid("AGREEMENT_NOT_FOUND", "The pod of this agreement is gone");
    const me = deps.uris.actor(pod.slug).href;
    const gives = ourPodGives(claim);
    const [giver, receiver] = gives ? [me, e.actorIri] : [e.actorIri, me];
    if (e.providerIri !== giver || e.receiverIri !== receiver) {
      throw invalid("PARTIES_MISMATCH", `Under ${e.agreementIri} ${giver} gives to ${receiver}; the event says ${e.providerIri} to ${e.receiverIri}`);
    }
    if (e.unit !== claim.unit) throw invalid("UNIT_MISMATCH", `The agreement counts ${claim.unit}, the event ${e.unit}`);
    const now = deps.clock.now();
    if (gives) {
      // Their acknowledging event: mark ours acknowledged, and flag a quantity that differs.
      const out = await repo.getTransferForAgreement(trx, pod.id, e.agreementIri, "out");
      if (!out) throw invalid("NO_TRANSFER_TO_ACKNOWLEDGE", `${pod.slug} has recorded no transfer under ${e.agreementIri}`);
      if (e.acknowledges && e.acknowledges !== out.eventIri) throw invalid("ACKNOWLEDGES_ANOTHER_EVENT", `The event acknowledges ${e.acknowledges}, not ${out.eventIri}`);
      if (!(await repo.acknowledgeTransfer(trx, out.id, e.eventIri, now))) return "duplicate";
      if (!new Dec(quantity).eq(new Dec(out.quantity))) {
        const who = (await handleOf(trx, e.actorIri)) ?? e.actorIri;
        await repo.flagTransfer(trx, out.id, "them", `${who} booked ${quantity} ${e.unit} received; we booked ${out.quantity} ${out.unit} given`, now);
      }
      return "acknowledged";
    }
    // The giver's event: book what we received, once.
    await ledgerRepo.lockHead(trx, pod.id, now);
    if (await repo.getTransferForAgreement(trx, pod.id, e.agreementIri, "in")) return "duplicate";
    if (new Dec(quantity).gt(new Dec(claim.quantity))) {
      throw invalid("TRANSFER_EXCEEDS_AGREEMENT", `The agreement is for ${claim.quantity} ${claim.unit}, the event says ${quantity}`);
    }
    const facts = await proposalFacts(trx, claim);
    const { resource } = await resolveResource(deps, trx, pod.id, claim, facts);
    const handle = (await handleOf(trx, e.actorIri)) ?? e.actorIri;
    const occurredAt = e.occurredAt ?? now;
    const session = await openLedgerSession(deps, pod.slug, trx, { corrects: [], stockOf: [resource.key] });
    const prepared = session.prepare({
      kind: "transfer_in",
      resource: resource.key,
      unit: claim.unit,
      quantity,
      counterpartyPod: e.actorIri,
      agreement: e.agreementIri,
      publicMemo: `From ${handle} under agreement ${e.agreementIri}`,
      occurredAt: occurredAt.toISOString(),
    });
    const { lastSeq } = await appendPrepared(deps, trx, session, [prepared]);
    const id = deps.ids.uuid();
    const row = await repo.insertTransfer(trx, {
      id,
      podId: pod.id,
      claimId: claim.id,
      agreementIri: e.agreementIri,
      direction: "in",
      eventIri: deps.uris.transfer(pod.slug, id).href,
      counterpartEventIri: e.eventIri,
      counterpartIri: e.actorIri,
      quantity,
      unit: claim.unit,
      ledgerSeq: lastSeq,
      occurredAt,
      createdAt: now,
    });
    if (!row) return "duplicate";
    await repo.acknowledgeTransfer(trx, id, e.eventIri, now);
    await deps.outbox.record(trx, { kind: "transfer_event", podId: pod.id, transferId: id, actorIri: e.actorIri });
    return "booked";
  });
  if (outcome === DUPLICATE) return "duplicate";
  if (outcome === "booked") await deps.outbox.flush();
  deps.log.info("Transfer event received", { actor: e.actorIri, event: e.eventIri, outcome });
  return outcome;
}

// ---------------------------------------------------------------------------------------
// Discrepancies

function parseReason(reason: unknown): string {
  if (reason === undefined || reason === null || (typeof reason === "string" && reason.trim() === "")) {
    throw invalid("REASON_REQUIRED", "Say what does not match (reason)", { field: "reason" });
  }
  if (typeof reason !== "string") throw invalid("INVALID_FIELD", "reason must be text", { field: "reason" });
  const bad = findBadText(reason);
  if (bad) throw invalid("INVALID_TEXT", `reason ${bad.problem}`, { field: "reason" });
  const text = reason.trim();
  if (text.length > REASON_MAX) throw invalid("TOO_LONG", `reason must be at most ${REASON_MAX} characters`, { field: "reason" });
  return text;
}

/** The reason of a flag request body ({reason}); any other field is refused. */
export function reasonFromBody(body: unknown): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw invalid("INVALID_INPUT", "Send an object with the reason", { field: "(root)" });
  for (const k of Object.keys(body)) if (k !== "reason") throw invalid("UNKNOWN_FIELD", `${k}: unknown field`, { field: k });
  return (body as { reason?: unknown }).reason;
}

/** Flags a discrepancy on one of our transfers (by its id or its agreement) and tells the other pod (Flag). */
export async function flagDiscrepancy(deps: ServiceDeps, podSlug: string, transferIdOrAgreement: string, reason: unknown): Promise<TransferView> {
  const pod = assertPodActive(await getPod(deps, podSlug));
  const text = parseReason(reason);
  const view = await writeOnce(deps, async (trx) => {
    const t = await findTransfer(trx, pod, transferIdOrAgreement.trim());
    if (!t) throw notFound("TRANSFER_NOT_FOUND", `${pod.slug} has no transfer ${transferIdOrAgreement}`);
    if (!(await repo.flagTransfer(trx, t.id, "us", text, deps.clock.now()))) {
      throw conflict("ALREADY_FLAGGED", `This transfer already carries a discrepancy flagged by ${t.discrepancyBy === "us" ? "us" : "the other pod"}: ${t.discrepancyReason ?? ""}`);
    }
    await deps.outbox.record(trx, { kind: "transfer_flag", podId: pod.id, transferId: t.id, actorIri: t.counterpartIri });
    return viewOf(deps, trx, pod, (await repo.getTransferById(trx, t.id))!);
  });
  await deps.outbox.flush();
  deps.log.info("Transfer discrepancy flagged", { pod: pod.slug, transfer: view.id });
  return view;
}

/** Another pod flagged a discrepancy (a Flag naming our event, theirs or the agreement). Anything else is ignored. */
export async function receiveTransferFlag(
  deps: ServiceDeps,
  f: { actorIri: string; objectIris: string[]; reason: string },
  activity?: InboxActivityRef,
): Promise<"flagged" | "ignored" | "duplicate"> {
  const reason = f.reason.trim().slice(0, REASON_MAX) || "A discrepancy was flagged without a reason";
  const outcome = await applyOnce(deps, activity, async (trx) => {
    const t = await repo.findTransferForCounterpart(trx, f.actorIri, f.objectIris);
    if (!t) return "ignored" as const;
    return (await repo.flagTransfer(trx, t.id, "them", reason, deps.clock.now())) ? ("flagged" as const) : ("ignored" as const);
  });
  if (outcome === DUPLICATE) return "duplicate";
  if (outcome === "flagged") deps.log.info("Transfer discrepancy flagged by the other pod", { actor: f.actorIri });
  return outcome;
}
