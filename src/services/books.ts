/**
 * The open books' catalogue and register: settings, resources (what the pod shares and
 * how it is counted and priced) and members (pseudonymous; names and contacts are for
 * stewards only and never leave this service except to a steward).
 */
import { randomBytes } from "node:crypto";
import { conflict, notFound } from "../domain/errors.ts";
import { assertResourceKey, parseNewMember, parseNewResource, parseResourcePatch, parseSettingsPatch, pseudonymFrom } from "../domain/books/entries.ts";
import type { PeriodKind } from "../domain/books/model.ts";
import * as books from "../db/repos/books.ts";
import { countEntries, resourceHasEntries } from "../db/repos/ledger.ts";
import { findCharter } from "./charters.ts";
import { getActivePod, getPod } from "./pods.ts";
import { writeOnce } from "./idempotency.ts";
import type { ServiceDeps } from "./ports.ts";

export interface BookSettings {
  currency: string;
  allowOverdraw: boolean;
  autoPeriods: PeriodKind[];
  invoiceAddressee: string | null;
}

function settingsView(s: books.BookSettingsRecord): BookSettings {
  return { currency: s.currency, allowOverdraw: s.allowOverdraw, autoPeriods: [...s.autoPeriods], invoiceAddressee: s.invoiceAddressee };
}

export async function getBookSettings(deps: ServiceDeps, podSlug: string): Promise<BookSettings> {
  const pod = await getPod(deps, podSlug);
  return settingsView(await books.getSettings(deps.db, pod.id));
}

/**
 * Changes the settings given. The currency can change only while the ledger is empty:
 * entries keep the currency they were valued in, and sums across currencies mean nothing.
 */
export async function updateBookSettings(deps: ServiceDeps, podSlug: string, input: unknown): Promise<BookSettings> {
  const pod = await getActivePod(deps, podSlug);
  const patch = parseSettingsPatch(input);
  const now = deps.clock.now();
  const result = await writeOnce(deps, async (trx) => {
    const current = await books.lockSettings(trx, pod.id, now);
    if (patch.currency !== undefined && patch.currency !== current.currency && (await countEntries(trx, pod.id)) > 0) {
      throw conflict("CURRENCY_IN_USE", `The books already hold entries valued in ${current.currency}; the currency cannot change now`, { field: "currency" });
    }
    const next = { ...current, ...patch };
    await books.upsertSettings(trx, next, now);
    return settingsView(next);
  });
  deps.log.info("Book settings changed", { pod: pod.slug, fields: Object.keys(patch) });
  return result;
}

export interface ResourceView {
  key: string;
  name: string;
  unit: string;
  category: string;
  specificationUri: string | null;
  referencePrice: string | null;
  referencePriceSource: string | null;
  referencePriceOn: string | null;
  currency: string;
  /** Set when the category is not one of the charter's service categories (accepted anyway). */
  warning?: string;
}

function resourceView(r: books.ResourceRecord, currency: string, warning?: string): ResourceView {
  return {
    key: r.key,
    name: r.name,
    unit: r.unit,
    category: r.category,
    specificationUri: r.specificationUri,
    referencePrice: r.referencePrice,
    referencePriceSource: r.referencePriceSource,
    referencePriceOn: r.referencePriceOn,
    currency,
    ...(warning !== undefined && { warning }),
  };
}

/** A warning when the pod has a charter and the category is none of its services' categories. */
async function categoryWarning(deps: ServiceDeps, podSlug: string, category: string): Promise<string | undefined> {
  const charter = await findCharter(deps, podSlug);
  if (!charter) return undefined;
  const categories = new Set<string>(charter.content.services.map((s) => s.category));
  if (categories.size === 0 || categories.has(category)) return undefined;
  return `Category ${JSON.stringify(category)} is not among the charter's service categories (${[...categories].sort().join(", ")}); it was accepted anyway`;
}

export async function addResource(deps: ServiceDeps, podSlug: string, input: unknown): Promise<ResourceView> {
  const pod = await getActivePod(deps, podSlug);
  const data = parseNewResource(input);
  const now = deps.clock.now();
  const record: books.ResourceRecord = { id: deps.ids.uuid(), podId: pod.id, ...data, createdAt: now, updatedAt: now };
  const exists = () => conflict("RESOURCE_EXISTS", `${pod.slug} already has a resource ${data.key}`, { field: "key" });
  try {
    await writeOnce(deps, async (trx) => {
      if (await books.getResourceByKey(trx, pod.id, data.key)) throw exists();
      await books.insertResource(trx, record);
    });
  } catch (error) {
    if ((error as { code?: string }).code === "23505") throw exists();
    throw error;
  }
  const settings = await books.getSettings(deps.db, pod.id);
  deps.log.info("Book resource added", { pod: pod.slug, resource: record.key });
  return resourceView(record, settings.currency, await categoryWarning(deps, pod.slug, record.category));
}

/**
 * Changes a resource's name, category, specification or reference price. Its key never
 * changes, and its unit only while no entry uses it: entries keep their own unit and
 * market value, so history does not move when a price does.
 */
export async function updateResource(deps: ServiceDeps, podSlug: string, key: string, input: unknown): Promise<ResourceView> {
  const pod = await getActivePod(deps, podSlug);
  assertResourceKey(key);
  const patch = parseResourcePatch(input);
  const now = deps.clock.now();
  const updated = await writeOnce(deps, async (trx) => {
    const current = await books.getResourceByKey(trx, pod.id, key, true);
    if (!current) throw notFound("UNKNOWN_RESOURCE", `${pod.slug} has no resource ${key}`);
    if (patch.unit !== undefined && patch.unit !== current.unit && (await resourceHasEntries(trx, current.id))) {
      throw conflict("RESOURCE_IN_USE", `Entries already count ${key} in ${current.unit}; add a new resource for another unit`, { field: "unit" });
    }
    const next: books.ResourceRecord = { ...current, ...patch, updatedAt: now };
    await books.updateResource(trx, next);
    return next;
  });
  const settings = await books.getSettings(deps.db, pod.id);
  deps.log.info("Book resource changed", { pod: pod.slug, resource: key, fields: Object.keys(patch) });
  const warning = patch.category !== undefined ? await categoryWarning(deps, pod.slug, updated.category) : undefined;
  return resourceView(updated, settings.currency, warning);
}

export async function listResources(deps: ServiceDeps, podSlug: string): Promise<ResourceView[]> {
  const pod = await getPod(deps, podSlug);
  const [rows, settings] = await Promise.all([books.listResources(deps.db, pod.id), books.getSettings(deps.db, pod.id)]);
  return rows.map((r) => resourceView(r, settings.currency));
}

export async function getResource(deps: ServiceDeps, podSlug: string, key: string): Promise<ResourceView> {
  const pod = await getPod(deps, podSlug);
  const row = await books.getResourceByKey(deps.db, pod.id, key);
  if (!row) throw notFound("UNKNOWN_RESOURCE", `${pod.slug} has no resource ${key}`);
  const settings = await books.getSettings(deps.db, pod.id);
  return resourceView(row, settings.currency);
}

/** Steward-only: name and contact are private. */
export interface MemberView {
  pseudonym: string;
  name: string;
  contact: string | null;
  joinedAt: Date;
}

const memberView = (m: books.MemberRecord): MemberView => ({ pseudonym: m.pseudonym, name: m.name, contact: m.contact, joinedAt: m.createdAt });

/** Registers a member under a fresh pseudonym (`m-` + 4 hex digits; longer once those collide). */
export async function addMember(deps: ServiceDeps, podSlug: string, input: unknown): Promise<MemberView> {
  const pod = await getActivePod(deps, podSlug);
  const data = parseNewMember(input);
  const now = deps.clock.now();
  const record = await writeOnce(deps, async (trx) => {
    let pseudonym: string | null = null;
    for (let attempt = 0; pseudonym === null; attempt++) {
      // 4 hex digits (65 536 ids) first; a few collisions in a row mean the space is crowded.
      const digits = Math.min(12, 4 + 2 * Math.floor(attempt / 4));
      const candidate = pseudonymFrom(randomBytes(6), digits);
      if (!(await books.pseudonymExists(trx, pod.id, candidate))) pseudonym = candidate;
    }
    const member: books.MemberRecord = { id: deps.ids.uuid(), podId: pod.id, pseudonym, name: data.name, contact: data.contact, createdAt: now };
    await books.insertMember(trx, member);
    return member;
  });
  // The pseudonym and the name stay out of logs.
  deps.log.info("Book member added", { pod: pod.slug });
  return memberView(record);
}

export async function listMembers(deps: ServiceDeps, podSlug: string): Promise<MemberView[]> {
  const pod = await getPod(deps, podSlug);
  return (await books.listMembers(deps.db, pod.id)).map(memberView);
}

/**
 * Changes a member's name, contact or both: a field left out keeps its value, and an empty or
 * null contact clears it (the steward form sends both; the API and the CLI may send one).
 * The pseudonym never changes: entries, receipts and exports name the member by it.
 */
export async function updateMember(deps: ServiceDeps, podSlug: string, pseudonym: string, input: unknown): Promise<MemberView> {
  const pod = await getActivePod(deps, podSlug);
  const isObject = input !== null && typeof input === "object" && !Array.isArray(input);
  if (!isObject) parseNewMember(input); // throws INVALID_INPUT, as for a new member
  const updated = await writeOnce(deps, async (trx) => {
    const current = await books.getMemberByPseudonym(trx, pod.id, pseudonym, true);
    if (!current) throw notFound("UNKNOWN_MEMBER", `${pod.slug} has no member ${pseudonym}`);
    // The same rules as a new member's, on the current values with the sent ones over them.
    const data = parseNewMember({ name: current.name, contact: current.contact, ...(input as Record<string, unknown>) });
    const row = await books.updateMember(trx, pod.id, pseudonym, data);
    if (!row) throw notFound("UNKNOWN_MEMBER", `${pod.slug} has no member ${pseudonym}`);
    return row;
  });
  // The pseudonym and the name stay out of logs.
  deps.log.info("Book member changed", { pod: pod.slug });
  return memberView(updated);
}
