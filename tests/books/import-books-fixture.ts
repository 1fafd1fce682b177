/**
 * Pods with the resources and members of docs/examples/ledger.csv, for the CSV import and
 * export tests: one real node, a fresh pod per test, a fixed clock.
 */
import fs from "node:fs";
import path from "node:path";
import { addMember, addResource } from "../../src/services/books.ts";
import { createPod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { DomainError } from "../../src/domain/errors.ts";

/** "Now" for the books in these tests: after every date in the example file. */
export const NOW = new Date("2026-11-28T12:00:00.000Z");

export const EXAMPLE_CSV = fs.readFileSync(path.join(import.meta.dirname, "../../docs/examples/ledger.csv"), "utf8");

/** The pseudonyms the example file uses, replaced by each pod's own. */
export const EXAMPLE_MEMBERS = ["m-3f9a", "m-b71c", "m-9c1e", "m-e5a8", "m-42d0"] as const;

export const EXAMPLE_RESOURCES = [
  { key: "rice", name: "Rice", unit: "kilogram", category: "food", referencePrice: "2.40" },
  { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "1.80" },
  { key: "tinned-food", name: "Tinned food", unit: "one", category: "food", referencePrice: "1.20" },
  { key: "nappies", name: "Nappies", unit: "one", category: "care", referencePrice: "0.30" },
  { key: "drill-loan", name: "Drill loan", unit: "day", category: "tools", referencePrice: "12.00" },
  { key: "childcare", name: "Childcare", unit: "hour", category: "care", referencePrice: "20" },
  { key: "cash", name: "Cash", unit: "EUR", category: "money", referencePrice: "1" },
];

export function fixedDeps(deps: ServiceDeps, now: Date = NOW): ServiceDeps {
  return { ...deps, clock: { now: () => now } };
}

export interface BookPod {
  slug: string;
  /** Example pseudonym → this pod's pseudonym. */
  members: Map<string, string>;
  /** The example file with this pod's pseudonyms. */
  example: string;
}

let counter = 0;

/** A new pod with the example's resources and five members. */
export async function newBookPod(deps: ServiceDeps, prefix: string): Promise<BookPod> {
  const slug = `${prefix}-${++counter}`;
  await createPod(deps, { slug, name: `Pod ${slug}` });
  for (const r of EXAMPLE_RESOURCES) await addResource(deps, slug, r);
  const members = new Map<string, string>();
  for (const [i, p] of EXAMPLE_MEMBERS.entries()) {
    const m = await addMember(deps, slug, { name: `Member ${i} of ${slug}`, contact: `member${i}@${slug}.example` });
    members.set(p, m.pseudonym);
  }
  return { slug, members, example: withMembers(EXAMPLE_CSV, members) };
}

export function withMembers(csv: string, members: Map<string, string>): string {
  let out = csv;
  for (const [from, to] of members) out = out.replaceAll(from, to);
  return out;
}

/** Runs `fn` and returns the DomainError it throws (fails the test if it does not throw one). */
export async function domainError(fn: () => Promise<unknown>): Promise<DomainError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error("expected a DomainError, but nothing was thrown");
}

export interface RowErrorView {
  row: number;
  column: string | null;
  code: string;
  message: string;
}

export const rowErrors = (e: DomainError) => (e.details?.errors ?? []) as RowErrorView[];
export const briefErrors = (e: DomainError) => rowErrors(e).map((x) => [x.row, x.column, x.code]);
