/**
 * Book settings, resources and members of a pod. Member names and contacts are private:
 * only steward-facing services read them.
 */
import type { Kysely, Selectable } from "kysely";
import type { BookMembersTable, BookResourcesTable, Database, PeriodKind } from "../schema.ts";

export interface BookSettingsRecord {
  podId: string;
  currency: string;
  allowOverdraw: boolean;
  autoPeriods: PeriodKind[];
  invoiceAddressee: string | null;
}

export const DEFAULT_SETTINGS: Omit<BookSettingsRecord, "podId"> = Object.freeze({
  currency: "EUR",
  allowOverdraw: false,
  autoPeriods: ["week"] as PeriodKind[],
  invoiceAddressee: null,
});

export async function getSettings(db: Kysely<Database>, podId: string): Promise<BookSettingsRecord> {
  const row = await db.selectFrom("book_settings").selectAll().where("pod_id", "=", podId).executeTakeFirst();
  if (!row) return { podId, ...DEFAULT_SETTINGS, autoPeriods: [...DEFAULT_SETTINGS.autoPeriods] };
  return {
    podId,
    currency: row.currency,
    allowOverdraw: row.allow_overdraw,
    autoPeriods: row.auto_periods,
    invoiceAddressee: row.invoice_addressee,
  };
}

export async function upsertSettings(db: Kysely<Database>, s: BookSettingsRecord, now: Date): Promise<void> {
  const values = {
    currency: s.currency,
    allow_overdraw: s.allowOverdraw,
    auto_periods: JSON.stringify(s.autoPeriods),
    invoice_addressee: s.invoiceAddressee,
    updated_at: now,
  };
  await db
    .insertInto("book_settings")
    .values({ pod_id: s.podId, ...values })
    .onConflict((oc) => oc.column("pod_id").doUpdateSet(values))
    .execute();
}

/** Locks the settings row (creating it with the defaults) for the rest of the transaction. */
export async function lockSettings(db: Kysely<Database>, podId: string, now: Date): Promise<BookSettingsRecord> {
  await db
    .insertInto("book_settings")
    .values({ pod_id: podId, updated_at: now })
    .onConflict((oc) => oc.column("pod_id").doNothing())
    .execute();
  await db.selectFrom("book_settings").select("pod_id").where("pod_id", "=", podId).forUpdate().executeTakeFirstOrThrow();
  return getSettings(db, podId);
}

export interface ResourceRecord {
  id: string;
  podId: string;
  key: string;
  name: string;
  unit: string;
  category: string;
  specificationUri: string | null;
  /** Normal-form decimal string, or null. */
  referencePrice: string | null;
  referencePriceSource: string | null;
  referencePriceOn: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** "12.500000" → "12.5" without floats. */
export function trimDecimal(value: string): string {
  if (!value.includes(".")) return value === "-0" ? "0" : value;
  const trimmed = value.replace(/0+$/, "").replace(/\.$/, "");
  return trimmed === "-0" || trimmed === "" ? "0" : trimmed;
}

function resourceFromRow(row: Selectable<BookResourcesTable>): ResourceRecord {
  return {
    id: row.id,
    podId: row.pod_id,
    key: row.key,
    name: row.name,
    unit: row.unit,
    category: row.category,
    specificationUri: row.specification_uri,
    referencePrice: row.reference_price === null ? null : trimDecimal(row.reference_price),
    referencePriceSource: row.reference_price_source,
    referencePriceOn: row.reference_price_on,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listResources(db: Kysely<Database>, podId: string): Promise<ResourceRecord[]> {
  const rows = await db.selectFrom("book_resources").selectAll().where("pod_id", "=", podId).orderBy("key").execute();
  return rows.map(resourceFromRow);
}

export async function getResourceByKey(db: Kysely<Database>, podId: string, key: string, lock = false): Promise<ResourceRecord | null> {
  let q = db.selectFrom("book_resources").selectAll().where("pod_id", "=", podId).where("key", "=", key);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? resourceFromRow(row) : null;
}

export async function insertResource(db: Kysely<Database>, r: ResourceRecord): Promise<void> {
  await db
    .insertInto("book_resources")
    .values({
      id: r.id,
      pod_id: r.podId,
      key: r.key,
      name: r.name,
      unit: r.unit,
      category: r.category,
      specification_uri: r.specificationUri,
      reference_price: r.referencePrice,
      reference_price_source: r.referencePriceSource,
      reference_price_on: r.referencePriceOn,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    })
    .execute();
}

export async function updateResource(db: Kysely<Database>, r: ResourceRecord): Promise<void> {
  await db
    .updateTable("book_resources")
    .set({
      name: r.name,
      unit: r.unit,
      category: r.category,
      specification_uri: r.specificationUri,
      reference_price: r.referencePrice,
      reference_price_source: r.referencePriceSource,
      reference_price_on: r.referencePriceOn,
      updated_at: r.updatedAt,
    })
    .where("id", "=", r.id)
    .execute();
}

export interface MemberRecord {
  id: string;
  podId: string;
  pseudonym: string;
  name: string;
  contact: string | null;
  createdAt: Date;
}

function memberFromRow(row: Selectable<BookMembersTable>): MemberRecord {
  return { id: row.id, podId: row.pod_id, pseudonym: row.pseudonym, name: row.name, contact: row.contact, createdAt: row.created_at };
}

export async function listMembers(db: Kysely<Database>, podId: string): Promise<MemberRecord[]> {
  const rows = await db.selectFrom("book_members").selectAll().where("pod_id", "=", podId).orderBy("created_at").orderBy("pseudonym").execute();
  return rows.map(memberFromRow);
}

/** Pseudonyms and ids only (what the ledger rules need; no names). */
export async function listMemberIds(db: Kysely<Database>, podId: string): Promise<Array<{ id: string; pseudonym: string }>> {
  return db.selectFrom("book_members").select(["id", "pseudonym"]).where("pod_id", "=", podId).execute();
}

export async function pseudonymExists(db: Kysely<Database>, podId: string, pseudonym: string): Promise<boolean> {
  const row = await db.selectFrom("book_members").select("id").where("pod_id", "=", podId).where("pseudonym", "=", pseudonym).executeTakeFirst();
  return row !== undefined;
}

export async function insertMember(db: Kysely<Database>, m: MemberRecord): Promise<void> {
  await db
    .insertInto("book_members")
    .values({ id: m.id, pod_id: m.podId, pseudonym: m.pseudonym, name: m.name, contact: m.contact, created_at: m.createdAt })
    .execute();
}

/** One member by pseudonym; `lock` holds its row for the rest of the transaction. */
export async function getMemberByPseudonym(db: Kysely<Database>, podId: string, pseudonym: string, lock = false): Promise<MemberRecord | null> {
  let q = db.selectFrom("book_members").selectAll().where("pod_id", "=", podId).where("pseudonym", "=", pseudonym);
  if (lock) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? memberFromRow(row) : null;
}

/** Sets a member's name and contact (the pseudonym never changes); null when the pod has no such member. */
export async function updateMember(db: Kysely<Database>, podId: string, pseudonym: string, data: { name: string; contact: string | null }): Promise<MemberRecord | null> {
  const row = await db
    .updateTable("book_members")
    .set({ name: data.name, contact: data.contact })
    .where("pod_id", "=", podId)
    .where("pseudonym", "=", pseudonym)
    .returningAll()
    .executeTakeFirst();
  return row ? memberFromRow(row) : null;
}

export async function countMembers(db: Kysely<Database>, podId: string): Promise<number> {
  const row = await db.selectFrom("book_members").select((eb) => eb.fn.countAll<string>().as("n")).where("pod_id", "=", podId).executeTakeFirstOrThrow();
  return Number(row.n);
}
