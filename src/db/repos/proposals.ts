/**
 * Offers and needs: the pod's own proposals (table `proposals`) and the copies of its
 * neighbours' (table `remote_proposals`). Decimals are read as normal-form strings.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Fund } from "../../domain/books/model.ts";
import type { RemoteProposalInput } from "../../domain/congress/model.ts";
import type { Database, ProposalAction, ProposalPurpose, ProposalStatus, ReciprocalTerms } from "../schema.ts";

type Db = Kysely<Database> | Transaction<Database>;

/** "12.500000" → "12.5" (numeric columns come back with their scale). */
export function trimNumeric(value: string): string;
export function trimNumeric(value: string | null): string | null;
export function trimNumeric(value: string | null): string | null {
  if (value === null) return null;
  const s = String(value);
  if (!s.includes(".")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

// ---------------------------------------------------------------------------------------
// Our own proposals

export interface ProposalRecord {
  id: string;
  podId: string;
  number: number;
  purpose: ProposalPurpose;
  action: ProposalAction;
  name: string;
  description: string;
  resourceId: string | null;
  unit: string;
  category: string;
  specificationUri: string | null;
  /** FEP-0837 resourceQuantity: the whole amount, or one lot when unitBased. */
  quantity: string;
  /** The availableQuantity first published. */
  total: string;
  /** What is left of `total` (availableQuantity now). */
  remaining: string;
  minimum: string | null;
  /** null: any amount; true: whole multiples of `quantity`; false: exactly `quantity`. */
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

type ProposalRow = Awaited<ReturnType<ReturnType<typeof proposalQuery>["executeTakeFirstOrThrow"]>>;

const proposalQuery = (db: Db) => db.selectFrom("proposals").selectAll();

export function proposalFromRow(r: ProposalRow): ProposalRecord {
  return {
    id: r.id,
    podId: r.pod_id,
    number: r.number,
    purpose: r.purpose,
    action: r.action,
    name: r.name,
    description: r.description,
    resourceId: r.resource_id,
    unit: r.unit,
    category: r.category,
    specificationUri: r.specification_uri,
    quantity: trimNumeric(r.quantity),
    total: trimNumeric(r.total),
    remaining: trimNumeric(r.remaining),
    minimum: trimNumeric(r.minimum),
    unitBased: r.unit_based,
    reciprocal: r.reciprocal,
    location: r.location,
    availableFrom: date(r.available_from),
    availableUntil: date(r.available_until),
    expiresAt: new Date(r.expires_at),
    urgent: r.urgent,
    fund: r.fund,
    status: r.status,
    version: r.version,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    closedAt: date(r.closed_at),
  };
}

export type NewProposal = Omit<ProposalRecord, "number" | "remaining" | "status" | "version" | "updatedAt" | "closedAt">;

/**
 * Inserts a proposal with the pod's next number (numbers are per pod, never reused). The
 * pod row is locked for the number, so two inserts at once get distinct numbers.
 */
export async function insertProposal(trx: Transaction<Database>, p: NewProposal): Promise<ProposalRecord> {
  await sql`select id from pods where id = ${p.podId} for update`.execute(trx);
  const last = await trx.selectFrom("proposals").select((eb) => eb.fn.max("number").as("n")).where("pod_id", "=", p.podId).executeTakeFirst();
  const number = Number(last?.n ?? 0) + 1;
  const row = await trx
    .insertInto("proposals")
    .values({
      id: p.id,
      pod_id: p.podId,
      number,
      purpose: p.purpose,
      action: p.action,
      name: p.name,
      description: p.description,
      resource_id: p.resourceId,
      unit: p.unit,
      category: p.category,
      specification_uri: p.specificationUri,
      quantity: p.quantity,
      total: p.total,
      remaining: p.total,
      minimum: p.minimum,
      unit_based: p.unitBased,
      reciprocal: p.reciprocal === null ? null : JSON.stringify(p.reciprocal),
      location: p.location,
      available_from: p.availableFrom,
      available_until: p.availableUntil,
      expires_at: p.expiresAt,
      urgent: p.urgent,
      fund: p.fund,
      created_at: p.createdAt,
      updated_at: p.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return proposalFromRow(row);
}

export async function getProposalById(db: Db, id: string): Promise<ProposalRecord | null> {
  const row = await proposalQuery(db).where("id", "=", id).executeTakeFirst();
  return row ? proposalFromRow(row) : null;
}

export async function getProposalByNumber(db: Db, podId: string, number: number): Promise<ProposalRecord | null> {
  const row = await proposalQuery(db).where("pod_id", "=", podId).where("number", "=", number).executeTakeFirst();
  return row ? proposalFromRow(row) : null;
}

/** In a transaction: the row locked until commit (updates of one proposal queue up). */
export async function lockProposal(trx: Transaction<Database>, id: string): Promise<ProposalRecord | null> {
  const row = await proposalQuery(trx).where("id", "=", id).forUpdate().executeTakeFirst();
  return row ? proposalFromRow(row) : null;
}

export async function listProposals(
  db: Db,
  podId: string,
  opts: { purpose?: ProposalPurpose; status?: ProposalStatus | "all"; limit?: number } = {},
): Promise<ProposalRecord[]> {
  let q = proposalQuery(db).where("pod_id", "=", podId);
  if (opts.purpose) q = q.where("purpose", "=", opts.purpose);
  if (opts.status !== "all") q = q.where("status", "=", opts.status ?? "open");
  const rows = await q.orderBy("urgent", "desc").orderBy("number", "desc").limit(opts.limit ?? 500).execute();
  return rows.map(proposalFromRow);
}

export type ProposalPatch = Partial<
  Pick<
    ProposalRecord,
    | "name"
    | "description"
    | "category"
    | "specificationUri"
    | "quantity"
    | "total"
    | "remaining"
    | "minimum"
    | "unitBased"
    | "reciprocal"
    | "location"
    | "availableFrom"
    | "availableUntil"
    | "expiresAt"
    | "urgent"
    | "fund"
    | "status"
    | "closedAt"
  >
>;

/** Applies a patch and bumps the version (every change federates as an Update). */
export async function updateProposal(trx: Transaction<Database>, id: string, patch: ProposalPatch, now: Date): Promise<ProposalRecord> {
  const row = await trx
    .updateTable("proposals")
    .set((eb) => ({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.category !== undefined && { category: patch.category }),
      ...(patch.specificationUri !== undefined && { specification_uri: patch.specificationUri }),
      ...(patch.quantity !== undefined && { quantity: patch.quantity }),
      ...(patch.total !== undefined && { total: patch.total }),
      ...(patch.remaining !== undefined && { remaining: patch.remaining }),
      ...(patch.minimum !== undefined && { minimum: patch.minimum }),
      ...(patch.unitBased !== undefined && { unit_based: patch.unitBased }),
      ...(patch.reciprocal !== undefined && { reciprocal: patch.reciprocal === null ? null : JSON.stringify(patch.reciprocal) }),
      ...(patch.location !== undefined && { location: patch.location }),
      ...(patch.availableFrom !== undefined && { available_from: patch.availableFrom }),
      ...(patch.availableUntil !== undefined && { available_until: patch.availableUntil }),
      ...(patch.expiresAt !== undefined && { expires_at: patch.expiresAt }),
      ...(patch.urgent !== undefined && { urgent: patch.urgent }),
      ...(patch.fund !== undefined && { fund: patch.fund }),
      ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.closedAt !== undefined && { closed_at: patch.closedAt }),
      version: eb("version", "+", 1),
      updated_at: now,
    }))
    .where("id", "=", id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return proposalFromRow(row);
}

/**
 * Takes `quantity` from an open proposal's remaining quantity in ONE statement: it
 * succeeds only while the proposal is open and has at least that much left, so two claims
 * racing for the last units never both win. Marks the proposal fulfilled when nothing is
 * left, and bumps its version. Null when it could not be taken (closed, or not enough).
 */
export async function takeRemaining(trx: Transaction<Database>, id: string, quantity: string, now: Date): Promise<ProposalRecord | null> {
  const row = await trx
    .updateTable("proposals")
    .set((eb) => ({
      remaining: sql<string>`remaining - ${quantity}::numeric`,
      status: sql<ProposalStatus>`case when remaining - ${quantity}::numeric = 0 then 'fulfilled' else status end`,
      closed_at: sql<Date | null>`case when remaining - ${quantity}::numeric = 0 then ${now}::timestamptz else closed_at end`,
      version: eb("version", "+", 1),
      updated_at: now,
    }))
    .where("id", "=", id)
    .where("status", "=", "open")
    .where(sql<boolean>`remaining >= ${quantity}::numeric`)
    .returningAll()
    .executeTakeFirst();
  return row ? proposalFromRow(row) : null;
}

/** Open proposals whose expiry has passed (for the expiry job), oldest first. */
export async function listExpiredOpenProposals(db: Db, now: Date, limit = 100): Promise<ProposalRecord[]> {
  const rows = await proposalQuery(db).where("status", "=", "open").where("expires_at", "<=", now).orderBy("expires_at").limit(limit).execute();
  return rows.map(proposalFromRow);
}

// ---------------------------------------------------------------------------------------
// Neighbours' proposals

/** A neighbour's proposal as stored: what was read from its document, plus our row id and when it came. */
export interface RemoteProposalRecord extends RemoteProposalInput {
  id: string;
  receivedAt: Date;
}

const remoteQuery = (db: Db) => db.selectFrom("remote_proposals").selectAll();
type RemoteRow = Awaited<ReturnType<ReturnType<typeof remoteQuery>["executeTakeFirstOrThrow"]>>;

export function remoteProposalFromRow(r: RemoteRow): RemoteProposalRecord {
  return {
    id: String(r.id),
    actorIri: r.actor_iri,
    objectIri: r.object_iri,
    intentIri: r.intent_iri,
    purpose: r.purpose,
    action: r.action,
    name: r.name,
    description: r.description,
    unit: r.unit,
    category: r.category,
    specificationUri: r.specification_uri,
    quantity: trimNumeric(r.quantity),
    remaining: trimNumeric(r.remaining),
    minimum: trimNumeric(r.minimum),
    unitBased: r.unit_based,
    reciprocal: r.reciprocal,
    location: r.location,
    availableFrom: date(r.available_from),
    availableUntil: date(r.available_until),
    expiresAt: date(r.expires_at),
    urgent: r.urgent,
    status: r.status,
    remoteUpdatedAt: new Date(r.remote_updated_at),
    receivedAt: new Date(r.received_at),
  };
}

export type { RemoteProposalInput } from "../../domain/congress/model.ts";

/**
 * Stores a neighbour's proposal, or replaces the copy we hold when this one is newer
 * (`remoteUpdatedAt` later). Returns "stored" (first copy), "updated", or "stale" (we hold
 * a copy at least as new: nothing changed).
 */
export async function upsertRemoteProposal(db: Db, p: RemoteProposalInput, now: Date): Promise<"stored" | "updated" | "stale"> {
  const values = {
    actor_iri: p.actorIri,
    object_iri: p.objectIri,
    intent_iri: p.intentIri,
    purpose: p.purpose,
    action: p.action,
    name: p.name,
    description: p.description,
    unit: p.unit,
    category: p.category,
    specification_uri: p.specificationUri,
    quantity: p.quantity,
    remaining: p.remaining,
    minimum: p.minimum,
    unit_based: p.unitBased,
    reciprocal: p.reciprocal === null ? null : JSON.stringify(p.reciprocal),
    location: p.location,
    available_from: p.availableFrom,
    available_until: p.availableUntil,
    expires_at: p.expiresAt,
    urgent: p.urgent,
    status: p.status,
    remote_updated_at: p.remoteUpdatedAt,
    received_at: now,
  };
  const row = await db
    .insertInto("remote_proposals")
    .values(values)
    .onConflict((oc) =>
      oc
        .column("object_iri")
        .doUpdateSet({ ...values, actor_iri: (eb) => eb.ref("remote_proposals.actor_iri") })
        .where("remote_proposals.remote_updated_at", "<", p.remoteUpdatedAt)
        // A proposal never moves to another actor.
        .where("remote_proposals.actor_iri", "=", p.actorIri),
    )
    .returning(sql<boolean>`(xmax = 0)`.as("inserted"))
    .executeTakeFirst();
  if (!row) return "stale";
  return row.inserted ? "stored" : "updated";
}

export async function getRemoteProposalByIri(db: Db, objectIri: string): Promise<RemoteProposalRecord | null> {
  const row = await remoteQuery(db).where("object_iri", "=", objectIri).executeTakeFirst();
  return row ? remoteProposalFromRow(row) : null;
}

export async function getRemoteProposalById(db: Db, id: string): Promise<RemoteProposalRecord | null> {
  if (!/^\d{1,18}$/.test(id)) return null;
  const row = await remoteQuery(db).where("id", "=", id).executeTakeFirst();
  return row ? remoteProposalFromRow(row) : null;
}

/** The proposals of the given actors (open ones unless `all`), urgent first, newest first. */
export async function listRemoteProposals(db: Db, actorIris: readonly string[], opts: { all?: boolean; limit?: number } = {}): Promise<RemoteProposalRecord[]> {
  if (actorIris.length === 0) return [];
  let q = remoteQuery(db).where("actor_iri", "in", actorIris);
  if (!opts.all) q = q.where("status", "=", "open");
  const rows = await q.orderBy("urgent", "desc").orderBy("remote_updated_at", "desc").limit(opts.limit ?? 10_000).execute();
  return rows.map(remoteProposalFromRow);
}
