/**
 * Period summaries on a real database (PGlite, or PostgreSQL with
 * HYPHAE_TEST_DATABASE=postgres), with ledger entries recorded through the ledger service
 * on an injected clock:
 *   - a summary covers exactly the entries recorded in its period (exact sums, corrections
 *     under the kind they correct, entries recorded late, the head at period end);
 *   - k-suppression of cells and participants; no pseudonym or name in the content;
 *   - PERIOD_NOT_ENDED; publishing twice unchanged keeps version 1 and sends nothing;
 *     a row tampered with raw SQL (trigger disabled) gives version 2, sent as an event;
 *   - closeDuePeriods publishes each ended period once, also when run concurrently, and
 *     skips pods whose books started after the period and retired pods.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import { addMember, addResource, updateBookSettings } from "../../src/services/books.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod, retirePod } from "../../src/services/pods.ts";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import { closeDuePeriods, getSummary, listSummaries, publishSummary, publishSummaryOutcome } from "../../src/services/summaries.ts";
import { createAppContext, type AppContext } from "../../src/wiring.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

class ManualClock implements Clock {
  at = new Date("2026-11-01T00:00:00Z");
  now = () => new Date(this.at);
  set(iso: string) {
    this.at = new Date(iso);
  }
}

const clock = new ManualClock();
let database: TestDatabase;
let app: AppContext;
let deps: ServiceDeps;
const POD = "oak";
const members: string[] = [];
const NAMES = ["Zelda Quillfeather", "Yusuf Brightwater", "Xena Marrowdale", "Wanda Thistlecombe"];

/** Records one entry at `recordedAt` (the clock), returning the steward view. */
async function entry(recordedAt: string, input: Record<string, unknown>, pod = POD) {
  clock.set(recordedAt);
  return recordEntry(deps, pod, input);
}

async function outboxSummaryEvents(podSlug: string): Promise<number> {
  const pod = await deps.db.selectFrom("pods").select("id").where("slug", "=", podSlug).executeTakeFirstOrThrow();
  const rows = await deps.db.selectFrom("outbox_events").select("kind").where("pod_id", "=", pod.id).where("kind", "=", "summary_published").execute();
  return rows.length;
}

async function tamper(podSlug: string, seq: number, set: Record<string, string>) {
  const pod = await deps.db.selectFrom("pods").select("id").where("slug", "=", podSlug).executeTakeFirstOrThrow();
  await sql`alter table ledger_entries disable trigger ledger_entries_append_only`.execute(deps.db);
  try {
    await deps.db.updateTable("ledger_entries").set(set as never).where("pod_id", "=", pod.id).where("seq", "=", String(seq)).execute();
  } finally {
    await sql`alter table ledger_entries enable trigger ledger_entries_append_only`.execute(deps.db);
  }
}

const errorOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; kind?: string; message: string };
  }
  throw new Error("expected an error");
};

// The week of 2026-11-16 (Monday) is "the week"; entries before and after it must not count.
const WEEK_START = "2026-11-16T00:00:00.000Z";
const WEEK_END = "2026-11-23T00:00:00.000Z";
let lastInWeek: { seq: number; hash: string };
let firstInWeek: number;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ PUBLIC_URL: "http://127.0.0.1:9", POD_SLUG: POD, LOG_LEVEL: "silent", ADMIN_SOCKET: "off", ...(database.url ? { DATABASE_URL: database.url } : {}) });
  app = await createAppContext(config, { database: database.handle, clock });
  deps = app.deps;
  await createPod(deps, { slug: POD, name: "Oak Street" });
  await addResource(deps, POD, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2" });
  await addResource(deps, POD, { key: "childcare", name: "Childcare", unit: "hour", category: "care", referencePrice: "20" });
  await addResource(deps, POD, { key: "bread", name: "Bread", unit: "one", category: "food", referencePrice: "1.5" });
  for (const name of NAMES) members.push((await addMember(deps, POD, { name, contact: `${name.split(" ")[0]}@example.org` })).pseudonym);

  // Before the week: stock comes in (not counted in the week).
  await entry("2026-11-10T09:00:00Z", { kind: "contribution", resource: "squash", quantity: "50", counterpartyLabel: "allotment" });
  await entry("2026-11-10T09:05:00Z", { kind: "contribution", resource: "bread", quantity: "100", counterpartyLabel: "bakery" });
  await entry("2026-11-10T09:10:00Z", { kind: "contribution", resource: "childcare", quantity: "40", member: members[3] });
  // The week.
  const first = await entry("2026-11-16T00:00:00.000Z", { kind: "contribution", resource: "squash", quantity: "0.1", counterpartyLabel: "market" });
  firstInWeek = first.seq;
  await entry("2026-11-16T10:00:00Z", { kind: "contribution", resource: "squash", quantity: "0.2", counterpartyLabel: "market" });
  const draw = await entry("2026-11-17T10:00:00Z", { kind: "draw", resource: "squash", quantity: "2", fund: "survival", member: members[0], privateMemo: "for Zelda's gran" });
  await entry("2026-11-17T11:00:00Z", { kind: "draw", resource: "squash", quantity: "1.5", fund: "survival", member: members[1] });
  await entry("2026-11-18T11:00:00Z", { kind: "draw", resource: "squash", quantity: "1", fund: "survival", member: members[2] });
  await entry("2026-11-18T12:00:00Z", { kind: "draw", resource: "childcare", quantity: "3", fund: "capacity_building", member: members[0] });
  await entry("2026-11-19T12:00:00Z", { kind: "draw", resource: "childcare", quantity: "2", fund: "capacity_building", member: members[1] });
  // Recorded in the week, occurred the week before: counted here, reported as late.
  await entry("2026-11-20T12:00:00Z", { kind: "transfer_out", resource: "bread", quantity: "20", fund: "survival", counterpartyPod: "https://elm.example/pods/elm", occurredAt: "2026-11-12" });
  // "0.5 fewer were drawn" on the first draw: counts under draw, net.
  lastInWeek = await entry("2026-11-22T23:59:59.999Z", { kind: "correction", corrects: draw.seq, quantity: "-0.5" });
  // After the week.
  await entry("2026-11-23T00:00:00.000Z", { kind: "draw", resource: "squash", quantity: "5", fund: "survival", member: members[3] });
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("a week's summary", () => {
  it("is refused while the period has not ended (PERIOD_NOT_ENDED)", async () => {
    clock.set("2026-11-22T23:59:59.999Z");
    const error = await errorOf(publishSummary(deps, POD, "week", new Date("2026-11-18T00:00:00Z")));
    expect(error).toMatchObject({ code: "PERIOD_NOT_ENDED", kind: "unprocessable" });
    expect(await outboxSummaryEvents(POD)).toBe(0);
  });

  it("covers exactly the entries recorded in the week, with exact sums, net corrections and the head at period end", async () => {
    clock.set("2026-11-25T08:00:00Z");
    // --at in the middle of the week.
    const s = await publishSummary(deps, POD, "week", new Date("2026-11-19T13:30:00Z"));
    expect(s.periodStart.toISOString()).toBe(WEEK_START);
    expect(s.periodEnd.toISOString()).toBe(WEEK_END);
    expect(s.label).toBe("week of 2026-11-16");
    expect(s.version).toBe(1);
    expect(s.url).toBe("http://127.0.0.1:9/pods/oak/books/summaries/week-2026-11-16");
    const c = s.content;
    expect(c.entries).toBe(9);
    expect(s.entryCount).toBe(9);
    expect(c.lateEntries).toBe(1);
    expect(c.firstSeq).toBe(firstInWeek);
    expect([c.headSeq, c.headHash]).toEqual([lastInWeek.seq, lastInWeek.hash]);
    expect([s.headSeq, s.headHash]).toEqual([lastInWeek.seq, lastInWeek.hash]);
    expect(c.currency).toBe("EUR");
    // m0, m1, m2 drew: three participants, shown.
    expect(c.participants).toBe(3);
    const cells = Object.fromEntries(c.totals.map((t) => [`${t.resource}/${t.kind}/${t.fund}`, t]));
    expect(Object.keys(cells).sort()).toEqual(["bread/transfer_out/survival", "childcare/draw/capacity_building", "squash/contribution/null", "squash/draw/survival"]);
    // 0.1 + 0.2 kg = 0.3 kg exactly; market values 0.2 + 0.4.
    expect(cells["squash/contribution/null"]).toMatchObject({ quantity: "0.3", marketValue: "0.6", suppressed: false, unit: "kilogram", name: "Squash" });
    // 2 + 1.5 + 1 − 0.5 = 4 kg drawn by three members: shown.
    expect(cells["squash/draw/survival"]).toMatchObject({ quantity: "4", marketValue: "8", suppressed: false });
    // Childcare drawn by two members: withheld.
    expect(cells["childcare/draw/capacity_building"]).toMatchObject({ quantity: "fewer than 3", marketValue: "fewer than 3", suppressed: true });
    expect(cells["bread/transfer_out/survival"]).toMatchObject({ quantity: "20", marketValue: "30", suppressed: false });
    // Value reclaimed: draws (8 + 100 childcare) and the transfer out (30), all charged 0.
    expect(c.valueReclaimed).toBe("138");
    expect(await outboxSummaryEvents(POD)).toBe(1);
  });

  it("names no member: no pseudonym, name, contact or private memo anywhere in the content", async () => {
    const s = (await getSummary(deps, POD, "week", "2026-11-16"))!;
    const text = JSON.stringify(s.content);
    for (const p of members) expect(text).not.toContain(p);
    for (const n of NAMES) {
      expect(text).not.toContain(n);
      expect(text).not.toContain(n.split(" ")[0]!);
    }
    expect(text).not.toContain("gran");
  });

  it("published again unchanged: the same version, nothing new stored or sent", async () => {
    clock.set("2026-11-26T08:00:00Z");
    const again = await publishSummaryOutcome(deps, POD, "week", new Date(WEEK_START));
    expect(again.created).toBe(false);
    expect(again.summary.version).toBe(1);
    expect(again.summary.publishedAt.toISOString()).toBe("2026-11-25T08:00:00.000Z");
    expect(await outboxSummaryEvents(POD)).toBe(1);
    const rows = await deps.db.selectFrom("book_summaries").select("version").execute();
    expect(rows).toHaveLength(1);
  });

  it("a row tampered with raw SQL (trigger disabled) changes the summary: version 2, sent as an Update event", async () => {
    await tamper(POD, lastInWeek.seq - 1, { quantity: "21" });
    clock.set("2026-11-27T08:00:00Z");
    const v2 = await publishSummaryOutcome(deps, POD, "week", new Date(WEEK_START));
    expect(v2.created).toBe(true);
    expect(v2.summary.version).toBe(2);
    const bread = v2.summary.content.totals.find((t) => t.resource === "bread")!;
    expect(bread.quantity).toBe("21");
    expect(await outboxSummaryEvents(POD)).toBe(2);
    // Both versions are kept; the latest is what the period shows; version 1 is still there.
    expect((await getSummary(deps, POD, "week", "2026-11-16"))!.version).toBe(2);
    expect((await getSummary(deps, POD, "week", "2026-11-16", 1))!.content.totals.find((t) => t.resource === "bread")!.quantity).toBe("20");
    expect(await getSummary(deps, POD, "week", "2026-11-16", 3)).toBeNull();
    expect(await getSummary(deps, POD, "week", "2026-11-17")).toBeNull();
    // The head hash tampered too: version 3 carries the other head.
    await tamper(POD, lastInWeek.seq, { hash: "f".repeat(64) });
    const v3 = await publishSummary(deps, POD, "week", new Date(WEEK_START));
    expect([v3.version, v3.headHash]).toEqual([3, "f".repeat(64)]);
    await tamper(POD, lastInWeek.seq, { hash: lastInWeek.hash });
  });

  it("a period with two participants withholds the participants count; an empty period carries the previous head", async () => {
    // The week of 2026-11-23 has one draw by one member.
    clock.set("2026-12-01T08:00:00Z");
    const next = await publishSummary(deps, POD, "week", new Date("2026-11-23T00:00:00Z"));
    expect(next.content.participants).toBe("fewer than 3");
    expect(next.content.totals).toEqual([
      { resource: "squash", name: "Squash", unit: "kilogram", kind: "draw", fund: "survival", quantity: "fewer than 3", marketValue: "fewer than 3", suppressed: true },
    ]);
    expect(next.content.valueReclaimed).toBe("fewer than 3");
    expect(next.content.firstSeq).toBe(lastInWeek.seq + 1);
    // The week of 2026-11-09 started before the first entry… and the week of 2026-11-02 has none.
    const empty = await publishSummary(deps, POD, "week", new Date("2026-11-03T00:00:00Z"));
    expect(empty.content).toMatchObject({ entries: 0, participants: 0, totals: [], valueReclaimed: "0", firstSeq: null, headSeq: 0, headHash: "0".repeat(64) });
  });

  it("month and lunar summaries cover their own ranges", async () => {
    clock.set("2026-12-02T00:00:00Z");
    const month = await publishSummary(deps, POD, "month", new Date("2026-11-15T00:00:00Z"));
    expect([month.periodStart.toISOString(), month.periodEnd.toISOString(), month.label]).toEqual(["2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", "November 2026"]);
    expect(month.content.entries).toBe(13);
    expect(month.content.participants).toBe(4);
    // The lunar cycle of 2026-10-11 ends 2026-11-09T21:57:55.130Z: only the three entries of 2026-11-10 are after it.
    const lunar = await publishSummary(deps, POD, "lunar", new Date("2026-11-01T00:00:00Z"));
    expect(lunar.periodEnd.toISOString()).toBe("2026-11-09T21:57:55.130Z");
    expect(lunar.content.entries).toBe(0);
    clock.set("2026-12-10T00:00:00Z");
    const nextLunar = await publishSummary(deps, POD, "lunar", new Date("2026-11-10T00:00:00Z"));
    expect(nextLunar.content.entries).toBe(13);
  });

  it("lists the latest version of each period, newest period first, and validates its input", async () => {
    const list = await listSummaries(deps, POD);
    expect(list.map((s) => `${s.periodKind}-${s.periodStart.toISOString().slice(0, 10)}@${s.version}`)).toEqual([
      "week-2026-11-23@1",
      "week-2026-11-16@3",
      "lunar-2026-11-09@1",
      "week-2026-11-02@1",
      "month-2026-11-01@1",
      "lunar-2026-10-11@1",
    ]);
    expect(await errorOf(publishSummary(deps, POD, "year" as never))).toMatchObject({ code: "INVALID_PERIOD" });
    expect(await errorOf(publishSummary(deps, "nobody", "week"))).toMatchObject({ code: "POD_NOT_FOUND" });
  });

  it("the admin operation (CLI) publishes with --at as a date and refuses a bad date", async () => {
    clock.set("2026-12-10T00:00:00Z");
    const out = (await runAdminOp(deps, "summary.publish", { pod: POD, period: "week", at: "2026-11-30" })) as { version: number; created: boolean; label: string };
    expect(out).toMatchObject({ version: 1, created: true, label: "week of 2026-11-30" });
    const again = (await runAdminOp(deps, "summary.publish", { pod: POD, period: "week", at: "2026-12-02T10:00:00Z" })) as { created: boolean };
    expect(again.created).toBe(false);
    expect(await errorOf(runAdminOp(deps, "summary.publish", { pod: POD, period: "week", at: "30/11/2026" }))).toMatchObject({ code: "INVALID_DATE" });
    const listed = (await runAdminOp(deps, "summary.list", { pod: POD, limit: 2 })) as unknown[];
    expect(listed).toHaveLength(2);
  });
});

describe("closing periods automatically", () => {
  it("publishes each pod's last ended period once, even when run concurrently, and skips new and retired pods", async () => {
    await createPod(deps, { slug: "elm", name: "Elm Row" });
    await createPod(deps, { slug: "ash", name: "Ash Lane" });
    await createPod(deps, { slug: "old", name: "Old Mill" });
    for (const slug of ["elm", "ash", "old"]) await addResource(deps, slug, { key: "tea", name: "Tea", unit: "kilogram", category: "food" });
    await updateBookSettings(deps, "elm", { autoPeriods: ["week", "month"] });
    await entry("2026-12-15T10:00:00Z", { kind: "contribution", resource: "tea", quantity: "1" }, "elm");
    await entry("2026-12-15T10:00:00Z", { kind: "contribution", resource: "tea", quantity: "1" }, "old");
    // ash's books start after the week that ends next.
    await entry("2026-12-21T00:00:00.000Z", { kind: "contribution", resource: "tea", quantity: "1" }, "ash");
    await retirePod(deps, "old");

    clock.set("2026-12-21T00:00:30Z");
    const before = await outboxSummaryEvents("elm");
    const runs = await Promise.all([closeDuePeriods(deps), closeDuePeriods(deps), closeDuePeriods(deps)]);
    // oak (week of 2026-12-14, empty but its books started long before) and elm (its week; its
    // month, November, ended before elm's first entry).
    expect(runs.reduce((a, b) => a + b, 0)).toBe(2);
    const rows = await deps.db
      .selectFrom("book_summaries as s")
      .innerJoin("pods as p", "p.id", "s.pod_id")
      .select(["p.slug", "s.period_kind", "s.period_start", "s.version"])
      .where("s.period_start", "=", new Date("2026-12-14T00:00:00Z"))
      .orderBy("p.slug")
      .execute();
    expect(rows.map((r) => `${r.slug}:${r.period_kind}@${r.version}`)).toEqual(["elm:week@1", "oak:week@1"]);
    expect((await outboxSummaryEvents("elm")) - before).toBe(1);
    expect(await outboxSummaryEvents("ash")).toBe(0);
    expect(await outboxSummaryEvents("old")).toBe(0);
    const elmWeek = (await getSummary(deps, "elm", "week", "2026-12-14"))!;
    expect(elmWeek.content.entries).toBe(1);

    // Run again later the same week: nothing more.
    clock.set("2026-12-23T00:00:00Z");
    expect(await closeDuePeriods(deps)).toBe(0);
    // The month ends: the week of 2026-12-21 for oak, elm and ash (its books have begun), and elm's December, once each.
    clock.set("2027-01-01T00:01:00Z");
    expect(await Promise.all([closeDuePeriods(deps), closeDuePeriods(deps)]).then((r) => r.reduce((a, b) => a + b, 0))).toBe(4);
    const month = (await getSummary(deps, "elm", "month", "2026-12-01"))!;
    expect([month.version, month.content.entries]).toEqual([1, 1]);
    const decembers = await deps.db.selectFrom("book_summaries").select("id").where("period_kind", "=", "month").where("period_start", "=", new Date("2026-12-01T00:00:00Z")).execute();
    expect(decembers).toHaveLength(1);
  });
});
