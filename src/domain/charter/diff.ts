/**
 * The difference between two charter revisions. Services (and next services) are matched
 * by name, ignoring case, which is why names are unique within each list.
 */
import type { CharterContent, CharterService, Licence, NextService } from "./model.ts";
import { serviceKey } from "./validate.ts";

export interface FieldChange {
  field: "title" | "preamble" | "assemblyRhythm" | "meetingPlace" | "licence";
  before: string | null;
  after: string | null;
}

export interface ServiceChange<T> {
  /** The name in `after` (or in `before` for a removed service). */
  name: string;
  before: T | null;
  after: T | null;
  /** Changed field names; empty for added and removed services. */
  fields: string[];
}

export interface CharterDiff {
  fields: FieldChange[];
  services: ServiceChange<CharterService>[];
  nextServices: ServiceChange<NextService>[];
  unchanged: boolean;
}

const SERVICE_FIELDS = ["name", "description", "category", "since", "figure"] as const;
const NEXT_FIELDS = ["name", "why", "targetDate"] as const;

/** A licence as one string: "CC BY-SA 4.0 <https://…>", or just the name. */
export function licenceText(licence: Licence): string {
  return licence.url ? `${licence.name} <${licence.url}>` : licence.name;
}

/**
 * Order: entries for services present in `after`, in `after`'s order (changed or added),
 * then removed ones in `before`'s order. Reordering alone is not a change.
 */
function diffList<T extends { name: string }>(before: T[], after: T[], keys: readonly (keyof T & string)[]): ServiceChange<T>[] {
  const byKey = new Map(before.map((s) => [serviceKey(s.name), s] as const));
  const matched = new Set<string>();
  const changes: ServiceChange<T>[] = [];
  for (const a of after) {
    const key = serviceKey(a.name);
    const b = byKey.get(key);
    if (b === undefined) {
      changes.push({ name: a.name, before: null, after: a, fields: [] });
      continue;
    }
    matched.add(key);
    const fields = keys.filter((k) => (b[k] ?? null) !== (a[k] ?? null));
    if (fields.length > 0) changes.push({ name: a.name, before: b, after: a, fields });
  }
  for (const b of before) {
    if (!matched.has(serviceKey(b.name))) changes.push({ name: b.name, before: b, after: null, fields: [] });
  }
  return changes;
}

export function diffCharters(before: CharterContent, after: CharterContent): CharterDiff {
  const fields: FieldChange[] = [];
  const compare = (field: FieldChange["field"], b: string | null, a: string | null) => {
    if (b !== a) fields.push({ field, before: b, after: a });
  };
  compare("title", before.title, after.title);
  compare("preamble", before.preamble, after.preamble);
  compare("assemblyRhythm", before.assemblyRhythm, after.assemblyRhythm);
  compare("meetingPlace", before.meetingPlace, after.meetingPlace);
  compare("licence", licenceText(before.licence), licenceText(after.licence));
  const services = diffList(before.services, after.services, SERVICE_FIELDS);
  const nextServices = diffList(before.nextServices, after.nextServices, NEXT_FIELDS);
  return { fields, services, nextServices, unchanged: fields.length + services.length + nextServices.length === 0 };
}

const FIELD_LABELS: Record<FieldChange["field"], string> = {
  title: "title",
  preamble: "preamble",
  assemblyRhythm: "assembly rhythm",
  meetingPlace: "meeting place",
  licence: "licence",
};

const quote = (s: string) => {
  const flat = s.replace(/\s+/g, " ");
  return JSON.stringify(flat.length > 80 ? `${flat.slice(0, 79)}…` : flat);
};

/**
 * Human-readable lines, one per change, e.g. `~ title: "Old" → "New"`, `~ preamble`,
 * `+ service Tool library`, `- service Tool library`, `~ Meal distribution: figure`,
 * `+ next: Solar co-op`, `- next: Solar co-op`, `~ next: Solar co-op: targetDate`.
 * An unchanged diff gives no lines.
 */
export function diffToText(diff: CharterDiff): string[] {
  const lines: string[] = [];
  for (const f of diff.fields) {
    const label = FIELD_LABELS[f.field];
    if (f.field === "preamble") lines.push("~ preamble");
    else if (f.before === null) lines.push(`+ ${label}: ${quote(f.after ?? "")}`);
    else if (f.after === null) lines.push(`- ${label}: ${quote(f.before)}`);
    else lines.push(`~ ${label}: ${quote(f.before)} → ${quote(f.after)}`);
  }
  for (const s of diff.services) {
    if (s.before === null) lines.push(`+ service ${s.name}`);
    else if (s.after === null) lines.push(`- service ${s.name}`);
    else lines.push(`~ ${s.name}: ${s.fields.join(", ")}`);
  }
  for (const s of diff.nextServices) {
    if (s.before === null) lines.push(`+ next: ${s.name}`);
    else if (s.after === null) lines.push(`- next: ${s.name}`);
    else lines.push(`~ next: ${s.name}: ${s.fields.join(", ")}`);
  }
  return lines;
}
