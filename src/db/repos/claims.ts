/**
 * Claims between pods (table `claims`), both directions, and the per-pod claim rules
 * (table `congress_settings`).
 */
import type { Kysely, Transaction } from "kysely";
import type { ClaimDirection, ClaimStatus, Database, ProposalPurpose } from "../schema.ts";
import { trimNumeric } from "./proposals.ts";

type Db = Kysely<Database> | Transaction<Database>;

export interface ClaimRecord {
  id: string;
  podId: string;
  direction: ClaimDirection;
  offerIri: string;
  counterpartIri: string;
  proposalId: string | null;
  remoteProposalId: string | null;
  proposalIri: string;
  intentIri: string;
  purpose: ProposalPurpose;
  quantity: string;
  unit: string;
  resourceId: string | null;
  status: ClaimStatus;
  reason: string | null;
  decidedBy: "steward" | "rule" | null;
  agreementIri: string | null;
  commitmentIri: string | null;
  answerIri: string | null;
  createdAt: Date;
  decidedAt: Date | null;
}

const claimQuery = (db: Db) => db.selectFrom("claims").selectAll();
type ClaimRow = Awaited<ReturnType<ReturnType<typeof claimQuery>["executeTakeFirstOrThrow"]>>;

export function claimFromRow(r: ClaimRow): ClaimRecord {
  return {
    id: r.id,
    podId: r.pod_id,
    direction: r.direction,
    offerIri: r.offer_iri,
    counterpartIri: r.counterpart_iri,
    proposalId: r.proposal_id,
    remoteProposalId: r.remote_proposal_id === null ? null : String(r.remote_proposal_id),
    proposalIri: r.proposal_iri,
    intentIri: r.intent_iri,
    purpose: r.purpose,
    quantity: trimNumeric(r.quantity),
    unit: r.unit,
    resourceId: r.resource_id,
    status: r.status,
    reason: r.reason,
    decidedBy: r.decided_by,
    agreementIri: r.agreement_iri,
    commitmentIri: r.commitment_iri,
    answerIri: r.answer_iri,
    createdAt: new Date(r.created_at),
    decidedAt: r.decided_at === null ? null : new Date(r.decided_at),
  };
}

export type NewClaim = Omit<ClaimRecord, "status" | "reason" | "decidedBy" | "agreementIri" | "commitmentIri" | "answerIri" | "decidedAt">;

/** Inserts a claim; null when a claim with this Offer id already exists (a replay). */
export async function insertClaim(db: Db, c: NewClaim): Promise<ClaimRecord | null> {
  const row = await db
    .insertInto("claims")
    .values({
      id: c.id,
      pod_id: c.podId,
      direction: c.direction,
      offer_iri: c.offerIri,
      counterpart_iri: c.counterpartIri,
      proposal_id: c.proposalId,
      remote_proposal_id: c.remoteProposalId,
      proposal_iri: c.proposalIri,
      intent_iri: c.intentIri,
      purpose: c.purpose,
      quantity: c.quantity,
      unit: c.unit,
      resource_id: c.resourceId,
      created_at: c.createdAt,
    })
    .onConflict((oc) => oc.column("offer_iri").doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? claimFromRow(row) : null;
}

export async function getClaimById(db: Db, id: string): Promise<ClaimRecord | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const row = await claimQuery(db).where("id", "=", id).executeTakeFirst();
  return row ? claimFromRow(row) : null;
}

export async function getClaimByOfferIri(db: Db, offerIri: string): Promise<ClaimRecord | null> {
  const row = await claimQuery(db).where("offer_iri", "=", offerIri).executeTakeFirst();
  return row ? claimFromRow(row) : null;
}

export async function getClaimByAgreementIri(db: Db, agreementIri: string): Promise<ClaimRecord | null> {
  const row = await claimQuery(db).where("agreement_iri", "=", agreementIri).executeTakeFirst();
  return row ? claimFromRow(row) : null;
}

/** In a transaction: the claim locked until commit (one decision at a time). */
export async function lockClaim(trx: Transaction<Database>, id: string): Promise<ClaimRecord | null> {
  const row = await claimQuery(trx).where("id", "=", id).forUpdate().executeTakeFirst();
  return row ? claimFromRow(row) : null;
}

export async function listClaims(
  db: Db,
  podId: string,
  opts: { direction?: ClaimDirection; status?: ClaimStatus; proposalId?: string; limit?: number } = {},
): Promise<ClaimRecord[]> {
  let q = claimQuery(db).where("pod_id", "=", podId);
  if (opts.direction) q = q.where("direction", "=", opts.direction);
  if (opts.status) q = q.where("status", "=", opts.status);
  if (opts.proposalId) q = q.where("proposal_id", "=", opts.proposalId);
  const rows = await q.orderBy("created_at", "desc").limit(opts.limit ?? 500).execute();
  return rows.map(claimFromRow);
}

/**
 * Records the decision on a pending claim; null when it is no longer pending (decided
 * already: the first decision stands).
 */
export async function decideClaim(
  db: Db,
  id: string,
  d: { status: "accepted" | "rejected"; reason: string | null; decidedBy: "steward" | "rule" | null; agreementIri: string | null; commitmentIri: string | null; answerIri: string | null; at: Date },
): Promise<ClaimRecord | null> {
  const row = await db
    .updateTable("claims")
    .set({
      status: d.status,
      reason: d.reason,
      decided_by: d.decidedBy,
      agreement_iri: d.agreementIri,
      commitment_iri: d.commitmentIri,
      answer_iri: d.answerIri,
      decided_at: d.at,
    })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .returningAll()
    .executeTakeFirst();
  return row ? claimFromRow(row) : null;
}

/** True when one of our pods has a claim (either direction) with this actor. */
export async function findPodWithClaimsWith(db: Db, actorIri: string): Promise<string | null> {
  const row = await db
    .selectFrom("claims as c")
    .innerJoin("pods as p", "p.id", "c.pod_id")
    .select("p.slug")
    .where("c.counterpart_iri", "=", actorIri)
    .where("p.retired_at", "is", null)
    .limit(1)
    .executeTakeFirst();
  return row?.slug ?? null;
}

// ---------------------------------------------------------------------------------------
// Claim rules

export interface CongressSettingsRecord {
  /** Claims from neighbours up to this quantity are accepted automatically; null: never. */
  autoAcceptUpTo: string | null;
  strangers: "reject" | "review";
  strangerReason: string;
}

export const DEFAULT_CONGRESS_SETTINGS: CongressSettingsRecord = {
  autoAcceptUpTo: null,
  strangers: "reject",
  strangerReason: "Claims are open to our congress neighbours: pods we follow and that follow us.",
};

export async function getCongressSettings(db: Db, podId: string): Promise<CongressSettingsRecord> {
  const row = await db.selectFrom("congress_settings").selectAll().where("pod_id", "=", podId).executeTakeFirst();
  if (!row) return DEFAULT_CONGRESS_SETTINGS;
  return { autoAcceptUpTo: trimNumeric(row.auto_accept_up_to), strangers: row.strangers, strangerReason: row.stranger_reason };
}

export async function upsertCongressSettings(db: Db, podId: string, s: CongressSettingsRecord, now: Date): Promise<void> {
  const values = { auto_accept_up_to: s.autoAcceptUpTo, strangers: s.strangers, stranger_reason: s.strangerReason, updated_at: now };
  await db
    .insertInto("congress_settings")
    .values({ pod_id: podId, ...values })
    .onConflict((oc) => oc.column("pod_id").doUpdateSet(values))
    .execute();
}
