/**
 * Transfers between pods (table `transfers`): one row per agreement and side, with the
 * seq of the ledger entry that side booked, and any discrepancy either side flagged.
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../schema.ts";
import { trimNumeric } from "./proposals.ts";

type Db = Kysely<Database> | Transaction<Database>;

export interface TransferRecord {
  id: string;
  podId: string;
  claimId: string;
  agreementIri: string;
  direction: "out" | "in";
  eventIri: string;
  counterpartEventIri: string | null;
  counterpartIri: string;
  quantity: string;
  unit: string;
  ledgerSeq: number;
  occurredAt: Date;
  acknowledgedAt: Date | null;
  discrepancyBy: "us" | "them" | null;
  discrepancyReason: string | null;
  discrepancyAt: Date | null;
  createdAt: Date;
}

const transferQuery = (db: Db) => db.selectFrom("transfers").selectAll();
type TransferRow = Awaited<ReturnType<ReturnType<typeof transferQuery>["executeTakeFirstOrThrow"]>>;

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

export function transferFromRow(r: TransferRow): TransferRecord {
  return {
    id: r.id,
    podId: r.pod_id,
    claimId: r.claim_id,
    agreementIri: r.agreement_iri,
    direction: r.direction,
    eventIri: r.event_iri,
    counterpartEventIri: r.counterpart_event_iri,
    counterpartIri: r.counterpart_iri,
    quantity: trimNumeric(r.quantity),
    unit: r.unit,
    ledgerSeq: Number(r.ledger_seq),
    occurredAt: new Date(r.occurred_at),
    acknowledgedAt: date(r.acknowledged_at),
    discrepancyBy: r.discrepancy_by,
    discrepancyReason: r.discrepancy_reason,
    discrepancyAt: date(r.discrepancy_at),
    createdAt: new Date(r.created_at),
  };
}

export type NewTransfer = Omit<TransferRecord, "acknowledgedAt" | "discrepancyBy" | "discrepancyReason" | "discrepancyAt">;

/** Inserts a transfer; null when this side already has one for the agreement (a retry or replay). */
export async function insertTransfer(db: Db, t: NewTransfer): Promise<TransferRecord | null> {
  const row = await db
    .insertInto("transfers")
    .values({
      id: t.id,
      pod_id: t.podId,
      claim_id: t.claimId,
      agreement_iri: t.agreementIri,
      direction: t.direction,
      event_iri: t.eventIri,
      counterpart_event_iri: t.counterpartEventIri,
      counterpart_iri: t.counterpartIri,
      quantity: t.quantity,
      unit: t.unit,
      ledger_seq: t.ledgerSeq,
      occurred_at: t.occurredAt,
      created_at: t.createdAt,
    })
    .onConflict((oc) => oc.columns(["pod_id", "agreement_iri", "direction"]).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ? transferFromRow(row) : null;
}

export async function getTransferById(db: Db, id: string): Promise<TransferRecord | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const row = await transferQuery(db).where("id", "=", id).executeTakeFirst();
  return row ? transferFromRow(row) : null;
}

export async function getTransferByEventIri(db: Db, eventIri: string): Promise<TransferRecord | null> {
  const row = await transferQuery(db).where("event_iri", "=", eventIri).executeTakeFirst();
  return row ? transferFromRow(row) : null;
}

export async function getTransferForAgreement(db: Db, podId: string, agreementIri: string, direction?: "out" | "in"): Promise<TransferRecord | null> {
  let q = transferQuery(db).where("pod_id", "=", podId).where("agreement_iri", "=", agreementIri);
  if (direction) q = q.where("direction", "=", direction);
  const row = await q.executeTakeFirst();
  return row ? transferFromRow(row) : null;
}

export async function listTransfers(db: Db, podId: string, opts: { discrepanciesOnly?: boolean; limit?: number } = {}): Promise<TransferRecord[]> {
  let q = transferQuery(db).where("pod_id", "=", podId);
  if (opts.discrepanciesOnly) q = q.where("discrepancy_at", "is not", null);
  const rows = await q.orderBy("created_at", "desc").limit(opts.limit ?? 500).execute();
  return rows.map(transferFromRow);
}

/** The other side's event arrived: remember its id (first one wins). */
export async function acknowledgeTransfer(db: Db, id: string, counterpartEventIri: string, at: Date): Promise<boolean> {
  const r = await db
    .updateTable("transfers")
    .set({ counterpart_event_iri: counterpartEventIri, acknowledged_at: at })
    .where("id", "=", id)
    .where("acknowledged_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Flags a discrepancy on a transfer (the first flag stands; later ones change nothing). */
export async function flagTransfer(db: Db, id: string, by: "us" | "them", reason: string, at: Date): Promise<boolean> {
  const r = await db
    .updateTable("transfers")
    .set({ discrepancy_by: by, discrepancy_reason: reason, discrepancy_at: at })
    .where("id", "=", id)
    .where("discrepancy_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * The transfer with this counterpart that any of the IRIs names (our event, theirs, or the
 * agreement): what a Flag from the other pod is about. Null when none matches.
 */
export async function findTransferForCounterpart(db: Db, counterpartIri: string, iris: readonly string[]): Promise<TransferRecord | null> {
  if (iris.length === 0) return null;
  const row = await transferQuery(db)
    .where("counterpart_iri", "=", counterpartIri)
    .where((eb) => eb.or([eb("event_iri", "in", iris), eb("counterpart_event_iri", "in", iris), eb("agreement_iri", "in", iris)]))
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  return row ? transferFromRow(row) : null;
}
