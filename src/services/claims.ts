/**
 * Claims between pods (FEP-0837): ours on neighbours' offers and needs (outgoing: we send
 * `Offer(Agreement)`), and theirs on ours (incoming: we answer `Accept` with the Agreement,
 * or `Reject` with a reason), with the pod's rules for answering. The steward API, the CLI
 * and the inbox call these same functions.
 *
 * Accepting takes the claimed quantity from the proposal in ONE conditional UPDATE
 * (`takeRemaining`): two claims racing for the last units never both win. Every decision
 * and the activity that carries it are written in one transaction; a replayed Offer (its
 * id is the claim's key) changes nothing.
 */
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import { getResourceByKey } from "../db/repos/books.ts";
import * as repo from "../db/repos/claims.ts";
import type { ClaimRecord } from "../db/repos/claims.ts";
import { isNeighbour as isNeighbourRow } from "../db/repos/congress.ts";
import { getRemoteActor, upsertRemoteActor } from "../db/repos/follows.ts";
import { getPodById, getPodBySlug } from "../db/repos/pods.ts";
import * as proposals from "../db/repos/proposals.ts";
import type { RemoteActorInfo } from "../domain/actors.ts";
import { Dec, QUANTITY_SCALE, normalizeDecimal, parseDecimal } from "../domain/books/decimal.ts";
import { checkClaim, parseReason } from "../domain/congress/claims.ts";
import type { ProposalPurpose } from "../domain/congress/model.ts";
import { conflict, DomainError, invalid, notFound } from "../domain/errors.ts";
import type { Pod } from "../domain/pods.ts";
import { findBadText } from "../domain/text.ts";
import { storedResult, writeOnce } from "./idempotency.ts";
import { applyOnce, DUPLICATE, type InboxActivityRef } from "./inbox.ts";
import { getActivePod, getPod } from "./pods.ts";
import type { ServiceDeps } from "./ports.ts";
import { getRemoteProposal, recordProposalPublished } from "./proposals.ts";

export type { ClaimRecord };

// ---------------------------------------------------------------------------------------
// Views

export interface ClaimView {
  id: string;
  pod: string;
  direction: "outgoing" | "incoming";
  status: "pending" | "accepted" | "rejected";
  /** The claim's Offer activity id (ours for outgoing claims). */
  offer: string;
  proposal: string;
  proposalName: string | null;
  intent: string;
  purpose: ProposalPurpose;
  quantity: string;
  unit: string;
  counterpart: { actor: string; handle: string | null; name: string | null };
  /** Our resource the transfer is booked to or from (its key), if one was named. */
  resource: string | null;
  reason: string | null;
  decidedBy: "steward" | "rule" | null;
  agreement: string | null;
  commitment: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

async function claimView(deps: ServiceDeps, pod: Pod, c: ClaimRecord): Promise<ClaimView> {
  const [actor, name, resource] = await Promise.all([
    getRemoteActor(deps.db, c.counterpartIri),
    c.proposalId
      ? proposals.getProposalById(deps.db, c.proposalId).then((p) => p?.name ?? null)
      : c.remoteProposalId
        ? proposals.getRemoteProposalById(deps.db, c.remoteProposalId).then((p) => p?.name ?? null)
        : Promise.resolve(null),
    c.resourceId
      ? deps.db.selectFrom("book_resources").select("key").where("id", "=", c.resourceId).executeTakeFirst().then((r) => r?.key ?? null)
      : Promise.resolve(null),
  ]);
  return {
    id: c.id,
    pod: pod.slug,
    direction: c.direction,
    status: c.status,
    offer: c.offerIri,
    proposal: c.proposalIri,
    proposalName: name,
    intent: c.intentIri,
    purpose: c.purpose,
    quantity: c.quantity,
    unit: c.unit,
    counterpart: { actor: c.counterpartIri, handle: actor?.handle ?? null, name: actor?.name ?? null },
    resource,
    reason: c.reason,
    decidedBy: c.decidedBy,
    agreement: c.agreementIri,
    commitment: c.commitmentIri,
    createdAt: c.createdAt,
    decidedAt: c.decidedAt,
  };
}

export async function listClaims(
  deps: ServiceDeps,
  slug: string,
  opts: { direction?: "outgoing" | "incoming"; status?: "pending" | "accepted" | "rejected"; limit?: number } = {},
): Promise<ClaimView[]> {
  const pod = await getPod(deps, slug);
  const rows = await repo.listClaims(deps.db, pod.id, opts);
  return Promise.all(rows.map((c) => claimView(deps, pod, c)));
}

export async function getClaim(deps: ServiceDeps, slug: string, id: string): Promise<ClaimView> {
  const pod = await getPod(deps, slug);
  const claim = await repo.getClaimById(deps.db, id);
  if (!claim || claim.podId !== pod.id) throw notFound("CLAIM_NOT_FOUND", `${pod.slug} has no claim ${id}`);
  return claimView(deps, pod, claim);
}

/**
 * One of our pods that has a claim with this actor (either direction), or null: the inbox
 * reads a transfer from a pod it does not follow (any more) when an agreement binds them.
 */
export function podWithClaimsWith(deps: ServiceDeps, actorIri: string): Promise<string | null> {
  return repo.findPodWithClaimsWith(deps.db, actorIri);
}

// ---------------------------------------------------------------------------------------
// Outgoing: our claims on neighbours' proposals

/** Claims all or part of a proposal we hold a copy of (its local id or its URL). */
export async function makeClaim(deps: ServiceDeps, slug: string, input: unknown): Promise<ClaimView> {
  if (input === null || typeof input !== "object" || Array.isArray(input)) throw invalid("INVALID_INPUT", "Send an object with proposal and quantity", { field: "(root)" });
  const { proposal: ref, quantity, resource, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) throw invalid("UNKNOWN_FIELD", `${unknown}: unknown field`, { field: unknown });
  if (typeof ref !== "string" || ref.trim() === "") throw invalid("FIELD_REQUIRED", "proposal is required: the id or the URL of a neighbour's offer or need", { field: "proposal" });
  if (quantity === undefined || quantity === null || quantity === "") throw invalid("FIELD_REQUIRED", "quantity is required", { field: "quantity" });
  if (resource !== undefined && resource !== null && typeof resource !== "string") throw invalid("INVALID_FIELD", "resource must be the key of one of our resources", { field: "resource" });
  const pod = await getActivePod(deps, slug);
  // A retry of a claim already sent answers it as sent, even if the proposal changed since
  // (the claim itself may have taken the last of it).
  const earlier = await storedResult<ClaimRecord>(deps);
  if (earlier) return claimView(deps, pod, earlier.value);
  const remote = await getRemoteProposal(deps, ref.trim());
  if (!remote) throw notFound("PROPOSAL_NOT_KNOWN", `No offer or need ${ref} from a pod we follow: follow the pod first, then claim from its offers and needs`);
  const now = deps.clock.now();
  const q = checkClaim(remote, { quantity, unit: remote.unit }, now);
  let resourceId: string | null = null;
  if (typeof resource === "string" && resource !== "") {
    const found = await getResourceByKey(deps.db, pod.id, resource);
    if (!found) throw invalid("UNKNOWN_RESOURCE", `No resource ${JSON.stringify(resource)} in ${pod.slug}'s books`, { field: "resource" });
    if (found.unit !== remote.unit) throw invalid("UNIT_MISMATCH", `${found.key} is counted in ${found.unit}, the proposal in ${remote.unit}`, { field: "resource" });
    resourceId = found.id;
  }
  const claim = await writeOnce(deps, async (trx) => {
    const id = deps.ids.uuid();
    const inserted = await repo.insertClaim(trx, {
      id,
      podId: pod.id,
      direction: "outgoing",
      offerIri: deps.uris.claim(pod.slug, id).href,
      counterpartIri: remote.actorIri,
      proposalId: null,
      remoteProposalId: remote.id,
      proposalIri: remote.objectIri,
      intentIri: remote.intentIri,
      purpose: remote.purpose,
      quantity: q,
      unit: remote.unit,
      resourceId,
      createdAt: now,
    });
    await deps.outbox.record(trx, { kind: "claim_offer", podId: pod.id, claimId: id, actorIri: remote.actorIri });
    return inserted!;
  });
  await deps.outbox.flush();
  deps.log.info("Sent a claim", { pod: pod.slug, claim: claim.id, proposal: claim.proposalIri, quantity: claim.quantity });
  return claimView(deps, pod, claim);
}

export type ClaimAnswerOutcome = "recorded" | "already_decided" | "duplicate";

/** The proposer answered one of our claims (Accept with the Agreement, or Reject). */
export async function receiveClaimAnswer(
  deps: ServiceDeps,
  input: {
    claimId: string;
    actorIri: string;
    accepted: boolean;
    agreementIri: string | null;
    commitmentIri: string | null;
    reason: string | null;
    answerIri: string | null;
    activity?: InboxActivityRef;
  },
): Promise<ClaimAnswerOutcome> {
  const claim = await repo.getClaimById(deps.db, input.claimId);
  if (!claim || claim.direction !== "outgoing") throw invalid("CLAIM_UNKNOWN", `No claim ${input.claimId} of ours`);
  if (claim.counterpartIri !== input.actorIri) throw invalid("NOT_YOURS", "Only the pod that was claimed from answers a claim");
  const origin = new URL(input.actorIri).origin;
  if (input.accepted) {
    if (!input.agreementIri) throw invalid("AGREEMENT_MISSING", "An Accept of a claim carries the Agreement (result) with its id");
    if (new URL(input.agreementIri).origin !== origin) throw invalid("FOREIGN_OBJECT", "The Agreement's id is on another server than the pod that made it");
  }
  const reason = input.reason === null ? null : input.reason.slice(0, 500);
  const outcome = await applyOnce(deps, input.activity, async (trx) =>
    repo.decideClaim(trx, claim.id, {
      status: input.accepted ? "accepted" : "rejected",
      reason,
      decidedBy: null,
      agreementIri: input.accepted ? input.agreementIri : null,
      commitmentIri: input.accepted ? (input.commitmentIri ?? `${input.agreementIri}#primary`) : null,
      answerIri: input.answerIri,
      at: deps.clock.now(),
    }),
  );
  if (outcome === DUPLICATE) return "duplicate";
  if (!outcome) {
    deps.log.info("A claim was answered again; the first answer stands", { claim: claim.id });
    return "already_decided";
  }
  deps.log.info(input.accepted ? "Our claim was accepted" : "Our claim was rejected", { claim: claim.id, agreement: input.agreementIri, reason });
  return "recorded";
}

// ---------------------------------------------------------------------------------------
// Incoming: claims on our proposals

/** Our proposal named by an intent IRI (`/pods/{slug}/offers/{n}#primary`), or null. */
async function ourProposalByIntent(deps: ServiceDeps, intentIri: string): Promise<{ pod: Pod; proposal: proposals.ProposalRecord } | null> {
  let url: URL;
  try {
    url = new URL(intentIri);
  } catch {
    return null;
  }
  if (url.origin !== deps.config.publicUrl.origin || (url.hash !== "" && url.hash !== "#primary") || url.search) return null;
  const m = /^\/pods\/([^/]+)\/(offers|needs)\/([1-9]\d{0,8})\/?$/.exec(url.pathname);
  if (!m) return null;
  const pod = await getPodBySlug(deps.db, decodeURIComponent(m[1]!));
  if (!pod) return null;
  const proposal = await proposals.getProposalByNumber(deps.db, pod.id, Number(m[3]));
  if (!proposal || proposal.purpose !== (m[2] === "offers" ? "offer" : "request")) return null;
  return { pod, proposal };
}

const agreementIds = (deps: ServiceDeps, slug: string, claimId: string) => {
  const agreement = deps.uris.agreement(slug, claimId).href;
  return { agreement, commitment: `${agreement}#primary`, accept: `${agreement}#accept` };
};
/** A Reject's id: a fragment under the Agreement the claim would have made (a resend carries the same id). */
const rejectId = (deps: ServiceDeps, slug: string, claimId: string) => `${deps.uris.agreement(slug, claimId).href}#reject`;

/**
 * In the caller's transaction: accept a pending incoming claim, taking its quantity from the
 * proposal. Null when not enough is left (or the proposal closed meanwhile).
 */
async function acceptIn(deps: ServiceDeps, trx: Transaction<Database>, pod: Pod, claim: ClaimRecord, by: "steward" | "rule"): Promise<ClaimRecord | null> {
  const now = deps.clock.now();
  const taken = await proposals.takeRemaining(trx, claim.proposalId!, claim.quantity, now);
  if (!taken) return null;
  const ids = agreementIds(deps, pod.slug, claim.id);
  const decided = await repo.decideClaim(trx, claim.id, {
    status: "accepted",
    reason: null,
    decidedBy: by,
    agreementIri: ids.agreement,
    commitmentIri: ids.commitment,
    answerIri: ids.accept,
    at: now,
  });
  if (!decided) return null;
  await recordProposalPublished(deps, trx, taken);
  await deps.outbox.record(trx, { kind: "claim_answer", podId: pod.id, claimId: claim.id, actorIri: claim.counterpartIri });
  return decided;
}

async function rejectIn(deps: ServiceDeps, trx: Transaction<Database>, pod: Pod, claim: ClaimRecord, reason: string, by: "steward" | "rule"): Promise<ClaimRecord | null> {
  const decided = await repo.decideClaim(trx, claim.id, {
    status: "rejected",
    reason,
    decidedBy: by,
    agreementIri: null,
    commitmentIri: null,
    answerIri: rejectId(deps, pod.slug, claim.id),
    at: deps.clock.now(),
  });
  if (decided) await deps.outbox.record(trx, { kind: "claim_answer", podId: pod.id, claimId: claim.id, actorIri: claim.counterpartIri });
  return decided;
}

export type ReceiveClaimOutcome = "accepted" | "rejected" | "pending" | "duplicate";

/**
 * A pod claims all or part of one of our proposals (its Offer arrived in our inbox). The
 * claim is stored, then answered at once when the pod's rules say so: a pod that is not a
 * neighbour is turned down (unless the rules leave strangers to the stewards), a claim that
 * breaks the proposal's rules is rejected with the rule's message, a neighbour's claim up
 * to the automatic limit is accepted. Otherwise it waits for a steward.
 */
export async function receiveClaim(
  deps: ServiceDeps,
  input: { actor: RemoteActorInfo; offerIri: string; intentIri: string; quantity: unknown; unit: string | null; activity?: InboxActivityRef },
): Promise<ReceiveClaimOutcome> {
  const bad = findBadText(input.actor);
  if (bad) throw invalid("BAD_TEXT", `The claimant's ${bad.path} ${bad.problem}`);
  const target = await ourProposalByIntent(deps, input.intentIri);
  if (!target) throw invalid("CLAIM_UNKNOWN_PROPOSAL", `${input.intentIri} is not the intent of one of our offers or needs`);
  const { pod, proposal } = target;
  if (pod.retiredAt) throw invalid("POD_RETIRED", `${pod.slug} has retired`);
  let quantity: string;
  try {
    quantity = normalize(parseDecimal(input.quantity, "quantity", { scale: QUANTITY_SCALE, sign: "positive" }));
  } catch {
    throw invalid("INVALID_QUANTITY", `The claim's quantity ${JSON.stringify(input.quantity)} is not a positive decimal`);
  }
  const unit = input.unit ?? proposal.unit;
  const now = deps.clock.now();
  const outcome = await applyOnce(deps, input.activity, async (trx) => {
    await upsertRemoteActor(trx, input.actor, now);
    const claim = await repo.insertClaim(trx, {
      id: deps.ids.uuid(),
      podId: pod.id,
      direction: "incoming",
      offerIri: input.offerIri,
      counterpartIri: input.actor.iri,
      proposalId: proposal.id,
      remoteProposalId: null,
      proposalIri: deps.uris.proposal(pod.slug, proposal.purpose, proposal.number).href,
      intentIri: input.intentIri,
      purpose: proposal.purpose,
      quantity,
      unit: unit.slice(0, 60),
      resourceId: null,
      createdAt: now,
    });
    // The same Offer id again (under another activity key): the first copy stands.
    if (!claim) return "duplicate" as const;
    const [neighbour, rules] = await Promise.all([isNeighbourRow(trx, pod.id, input.actor.iri), repo.getCongressSettings(trx, pod.id)]);
    if (!neighbour && rules.strangers === "reject") {
      await rejectIn(deps, trx, pod, claim, rules.strangerReason, "rule");
      return "rejected" as const;
    }
    try {
      checkClaim(proposal, { quantity, unit }, now);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await rejectIn(deps, trx, pod, claim, error.message, "rule");
      return "rejected" as const;
    }
    if (neighbour && rules.autoAcceptUpTo !== null && new Dec(quantity).lte(new Dec(rules.autoAcceptUpTo))) {
      if (await acceptIn(deps, trx, pod, claim, "rule")) return "accepted" as const;
      const left = (await proposals.getProposalById(trx, proposal.id))?.remaining ?? "0";
      await rejectIn(deps, trx, pod, claim, `Not enough left: ${left} ${proposal.unit} remain, the claim asked for ${quantity}`, "rule");
      return "rejected" as const;
    }
    return "pending" as const;
  });
  if (outcome === DUPLICATE) return "duplicate";
  await deps.outbox.flush();
  deps.log.info("Received a claim", { pod: pod.slug, proposal: proposal.number, from: input.actor.iri, quantity, outcome });
  return outcome;
}

const normalize = (d: Dec) => normalizeDecimal(d);

async function pendingIncoming(deps: ServiceDeps, trx: Transaction<Database>, pod: Pod, claimId: string): Promise<ClaimRecord> {
  const claim = await repo.lockClaim(trx, claimId);
  if (!claim || claim.podId !== pod.id || claim.direction !== "incoming") throw notFound("CLAIM_NOT_FOUND", `${pod.slug} has no incoming claim ${claimId}`);
  if (claim.status !== "pending") throw conflict("CLAIM_NOT_PENDING", `This claim was already ${claim.status}`, { status: claim.status });
  return claim;
}

/** A steward accepts a pending claim on one of the pod's proposals. */
export async function acceptClaim(deps: ServiceDeps, slug: string, claimId: string): Promise<ClaimView> {
  const pod = await getActivePod(deps, slug);
  const accepted = await writeOnce(deps, async (trx) => {
    const claim = await pendingIncoming(deps, trx, pod, claimId);
    const proposal = await proposals.lockProposal(trx, claim.proposalId!);
    if (!proposal) throw notFound("PROPOSAL_NOT_FOUND", "The claimed proposal is gone");
    try {
      checkClaim(proposal, { quantity: claim.quantity, unit: claim.unit }, deps.clock.now());
    } catch (error) {
      if (error instanceof DomainError) throw conflict(error.code, error.message, error.details);
      throw error;
    }
    const done = await acceptIn(deps, trx, pod, claim, "steward");
    if (!done) throw conflict("CLAIM_EXCEEDS_AVAILABLE", `Not enough is left of this proposal for the claim (${claim.quantity} ${claim.unit})`);
    return done;
  });
  await deps.outbox.flush();
  return claimView(deps, pod, accepted);
}

/** A steward turns down a pending claim, with a reason the other pod will read. */
export async function rejectClaim(deps: ServiceDeps, slug: string, claimId: string, reasonInput: unknown): Promise<ClaimView> {
  const pod = await getActivePod(deps, slug);
  const reason = parseReason(reasonInput) || "Declined by the pod's stewards";
  const rejected = await writeOnce(deps, async (trx) => {
    const claim = await pendingIncoming(deps, trx, pod, claimId);
    return (await rejectIn(deps, trx, pod, claim, reason, "steward"))!;
  });
  await deps.outbox.flush();
  return claimView(deps, pod, rejected);
}

// ---------------------------------------------------------------------------------------
// Claim rules

export interface ClaimRules {
  /** Neighbours' claims up to this quantity are accepted automatically; null: never. */
  autoAcceptUpTo: string | null;
  /** Claims from pods that are not neighbours: rejected at once, or left to the stewards. */
  strangers: "reject" | "review";
  strangerReason: string;
}

export async function getClaimRules(deps: ServiceDeps, slug: string): Promise<ClaimRules> {
  const pod = await getPod(deps, slug);
  return repo.getCongressSettings(deps.db, pod.id);
}

export async function updateClaimRules(deps: ServiceDeps, slug: string, patch: unknown): Promise<ClaimRules> {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) throw invalid("INVALID_INPUT", "Send an object with the rules to change", { field: "(root)" });
  const { autoAcceptUpTo, strangers, strangerReason, ...rest } = patch as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) throw invalid("UNKNOWN_FIELD", `${unknown}: unknown field`, { field: unknown });
  const pod = await getActivePod(deps, slug);
  const current = await repo.getCongressSettings(deps.db, pod.id);
  const next: ClaimRules = { ...current };
  if (autoAcceptUpTo !== undefined) {
    next.autoAcceptUpTo =
      autoAcceptUpTo === null || autoAcceptUpTo === "none"
        ? null
        : normalize(parseDecimal(autoAcceptUpTo, "autoAcceptUpTo", { scale: QUANTITY_SCALE, sign: "non_negative" }));
  }
  if (strangers !== undefined) {
    if (strangers !== "reject" && strangers !== "review") throw invalid("INVALID_FIELD", "strangers must be reject or review", { field: "strangers" });
    next.strangers = strangers;
  }
  if (strangerReason !== undefined) {
    const reason = parseReason(strangerReason);
    if (!reason) throw invalid("FIELD_REQUIRED", "strangerReason must not be empty", { field: "strangerReason" });
    next.strangerReason = reason;
  }
  await writeOnce(deps, (trx) => repo.upsertCongressSettings(trx, pod.id, next, deps.clock.now()));
  return next;
}

// ---------------------------------------------------------------------------------------
// For the publishers and the documents (federation/claims.ts)

export interface ClaimForPublishing {
  claim: ClaimRecord;
  pod: Pod;
  counterpart: { iri: string; inbox: string; sharedInbox: string | null };
}

export async function claimForPublishing(deps: ServiceDeps, claimId: string): Promise<ClaimForPublishing | null> {
  const claim = await repo.getClaimById(deps.db, claimId);
  if (!claim) return null;
  const [pod, actor] = await Promise.all([getPodById(deps.db, claim.podId), getRemoteActor(deps.db, claim.counterpartIri)]);
  if (!pod || !actor) return null;
  return { claim, pod, counterpart: { iri: actor.iri, inbox: actor.inbox, sharedInbox: actor.shared_inbox } };
}

/** A claim of the pod by id (for its documents), or null. */
export async function findClaim(deps: ServiceDeps, slug: string, claimId: string): Promise<{ pod: Pod; claim: ClaimRecord } | null> {
  const pod = await getPodBySlug(deps.db, slug);
  if (!pod) return null;
  const claim = await repo.getClaimById(deps.db, claimId);
  return claim && claim.podId === pod.id ? { pod, claim } : null;
}
