/**
 * A real node whose clock can be moved back in time, and a pod's books filled over several
 * past weeks through the services (resources, members with distinctive private names,
 * contacts and memos, contributions, draws with receipts, expenditure, transfers, a
 * correction). Used by the public pages, independent verification and privacy scan tests.
 */
import { loadConfig, type Config } from "../../src/config.ts";
import { startNode, type RunningNode, type StartNodeOptions } from "../../src/node.ts";
import { addMember, addResource, updateBookSettings } from "../../src/services/books.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import { issueToken } from "../../src/services/tokens.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { freePort } from "../helpers/node.ts";

export const DAY = 86_400_000;

/** The real clock moved by `offset` milliseconds (negative: in the past). */
export class ShiftedClock implements Clock {
  offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
  /** Sets the clock to `at` (from now on it runs on from there). */
  set(at: Date): void {
    this.offset = at.getTime() - Date.now();
  }
  reset(): void {
    this.offset = 0;
  }
}

export interface ClockedNode {
  readonly origin: string;
  readonly config: Config;
  readonly node: RunningNode;
  readonly deps: ServiceDeps;
  readonly clock: ShiftedClock;
  readonly database: TestDatabase;
  actorUrl(slug?: string): string;
  token(slug?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startClockedNode(options: { podSlug: string; podName: string; env?: Record<string, string>; logger?: StartNodeOptions["logger"] }): Promise<ClockedNode> {
  const database = await createTestDatabase();
  const port = await freePort();
  const clock = new ShiftedClock();
  const config = loadConfig({
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    POD_SLUG: options.podSlug,
    POD_NAME: options.podName,
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: process.env.HYPHAE_TEST_LOG_LEVEL ?? "silent",
    QUEUE_POLL_SECONDS: "1",
    ADMIN_SOCKET: "off",
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...options.env,
  });
  let node: RunningNode;
  try {
    node = await startNode(config, { database: database.handle, clock, ...(options.logger !== undefined && { logger: options.logger }) });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const origin = config.publicUrl.origin;
  return {
    origin,
    config,
    node,
    deps: node.ctx.deps,
    clock,
    database,
    actorUrl: (slug = options.podSlug) => `${origin}/pods/${slug}`,
    token: async (slug = options.podSlug) => (await issueToken(node.ctx.deps, { podSlug: slug })).token,
    async stop() {
      await node.stop();
      await database.drop();
    },
  };
}

/** Monday 00:00 UTC of the ISO week containing `at`. */
export function weekStart(at: Date): Date {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  return new Date(day.getTime() - sinceMonday * DAY);
}

export const MEMBERS = [
  { name: "Zebulon Quartermaine", contact: "zq@example.test" },
  { name: "Philippa Oyelaran-Struthers", contact: "+44 7700 900461" },
  { name: "Ignatius Featherstonehaugh", contact: "ignatius.f@example.test" },
  { name: "Marisol Ydígoras Peñalver", contact: "marisol@example.test" },
] as const;

export interface SeededBooks {
  /** The seeded weeks' Monday 00:00Z, oldest first (all in the past). */
  weeks: Date[];
  members: Array<{ name: string; contact: string; pseudonym: string }>;
  privateMemos: string[];
  receipts: Array<{ number: string; seq: number; member: string; resource: string; quantity: string; marketValue: string; charged: string; fund: string; occurredAt: Date }>;
  entries: number;
  /** The seq of an entry that a correction corrects. */
  correctedSeq: number;
}

/**
 * Fills the books of `slug` over the four ISO weeks before the current one (the clock moves
 * through them and is reset to now at the end). `tag` makes the private memos unique to a file.
 */
export async function seedBooks(node: ClockedNode, slug: string, tag: string): Promise<SeededBooks> {
  const { deps, clock } = node;
  const thisWeek = weekStart(new Date());
  const weeks = [4, 3, 2, 1].map((n) => new Date(thisWeek.getTime() - n * 7 * DAY));
  const at = (week: number, day: number, hour: number) => new Date(weeks[week]!.getTime() + day * DAY + hour * 3_600_000);
  clock.set(at(0, 0, 8));

  // Summaries are published by the tests themselves, not by the worker meanwhile.
  await updateBookSettings(deps, slug, { currency: "EUR", invoiceAddressee: "The Mayor of Northfield", autoPeriods: [] });
  const resources = [
    { key: "squash", name: "Winter squash", unit: "kilogram", category: "food", referencePrice: "2.99", referencePriceSource: "Northfield market", referencePriceOn: "2026-10-01" },
    { key: "meals", name: "Hot meals", unit: "one", category: "food", referencePrice: "6.5", referencePriceSource: "canteen price", referencePriceOn: "2026-10-01" },
    { key: "childcare", name: "Childcare", unit: "hour", category: "care", referencePrice: "20", referencePriceSource: "city crèche rate", referencePriceOn: "2026-09-15" },
    { key: "solar", name: "Solar co-op energy", unit: "kilowattHour", category: "energy", referencePrice: "0.32", referencePriceSource: "utility tariff", referencePriceOn: "2026-10-01" },
    { key: "cash", name: "Solidarity fund", unit: "EUR", category: "money", referencePrice: "1" },
  ];
  for (const r of resources) await addResource(deps, slug, r);
  const members = [];
  for (const m of MEMBERS) {
    const view = await addMember(deps, slug, { name: m.name, contact: m.contact });
    members.push({ name: m.name, contact: m.contact, pseudonym: view.pseudonym });
  }
  const memo = (n: number) => `PRIVATE-MEMO-${tag}-${n}-keep-this-inside`;
  const privateMemos: string[] = [];
  const receipts: SeededBooks["receipts"] = [];
  let entries = 0;
  let correctedSeq = 0;
  const record = async (when: Date, input: Record<string, unknown>) => {
    clock.set(when);
    if (input.privateMemo) privateMemos.push(String(input.privateMemo));
    const view = await recordEntry(deps, slug, input);
    entries++;
    if (view.receipt) {
      receipts.push({
        number: view.receipt,
        seq: view.seq,
        member: view.member ?? "",
        resource: view.resourceName,
        quantity: view.quantity,
        marketValue: view.marketValue,
        charged: view.charged,
        fund: String(view.fund),
        occurredAt: view.occurredAt,
      });
    }
    return view;
  };

  for (let w = 0; w < 4; w++) {
    await record(at(w, 0, 9), { kind: "contribution", resource: "squash", quantity: "40.5", counterpartyLabel: "Northfield allotments", publicMemo: `Harvest, week ${w + 1}` });
    await record(at(w, 0, 10), { kind: "contribution", resource: "meals", quantity: "60", publicMemo: "Cooked at the parish hall", privateMemo: memo(100 + w) });
    await record(at(w, 0, 11), { kind: "contribution", resource: "cash", quantity: "150", fund: "capacity_building", member: members[w % 4]!.pseudonym, privateMemo: memo(200 + w) });
    await record(at(w, 1, 9), { kind: "contribution", resource: "solar", quantity: "120.25", counterpartyLabel: "Roof 3" });
    await record(at(w, 1, 12), { kind: "contribution", resource: "childcare", quantity: "12", member: members[(w + 1) % 4]!.pseudonym });
    for (let m = 0; m < 4; m++) {
      await record(at(w, 2, 9 + m), {
        kind: "draw",
        resource: m % 2 ? "meals" : "squash",
        quantity: m % 2 ? String(3 + m) : "0.1",
        fund: "survival",
        member: members[m]!.pseudonym,
        privateMemo: memo(w * 10 + m),
        publicMemo: "Tuesday distribution",
      });
    }
    await record(at(w, 3, 15), { kind: "draw", resource: "childcare", quantity: "2.5", fund: "capacity_building", member: members[(w + 2) % 4]!.pseudonym, privateMemo: memo(300 + w) });
    await record(at(w, 3, 18), { kind: "draw", resource: "solar", quantity: "30.2", fund: "power_shifting", counterpartyLabel: "Shared laundry" });
    await record(at(w, 4, 10), { kind: "expenditure", resource: "cash", quantity: "42.15", fund: "capacity_building", counterpartyLabel: "Cargo bike repair shop", publicMemo: "Brake pads" });
    await record(at(w, 4, 11), { kind: "draw", resource: "squash", quantity: "0.2", fund: "survival", member: members[3]!.pseudonym, charged: "0.10", privateMemo: memo(400 + w) });
  }
  // Between pods, a late entry and a correction.
  await record(at(3, 4, 14), { kind: "transfer_out", resource: "squash", quantity: "25", fund: "survival", counterpartyPod: "https://elm-row.example/pods/elm-row", publicMemo: "For Elm Row's pantry" });
  await record(at(3, 4, 15), { kind: "transfer_in", resource: "solar", quantity: "50", counterpartyPod: "https://elm-row.example/pods/elm-row" });
  await record(at(3, 5, 9), { kind: "contribution", resource: "meals", quantity: "10", occurredAt: weeks[2]!.toISOString().slice(0, 10), publicMemo: "Recorded late" });
  const drawn = await record(at(3, 5, 10), { kind: "draw", resource: "meals", quantity: "7", fund: "survival", member: members[1]!.pseudonym, privateMemo: memo(500) });
  correctedSeq = drawn.seq;
  await record(at(3, 5, 11), { kind: "correction", corrects: drawn.seq, quantity: "-2", privateMemo: memo(501), publicMemo: "Two portions went back" });

  clock.reset();
  return { weeks, members, privateMemos, receipts, entries, correctedSeq };
}
