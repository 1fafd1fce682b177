/**
 * Sovereignty indicators on a real database: definitions and their errors, dated counts,
 * values per period from the ledger (k-suppressed when 1–2 members are named; corrections
 * count) and from counts (by date), with the previous period's value and the trend, and
 * their place in a published summary.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { addIndicator, indicatorValues, listIndicatorCounts, listIndicators, recordIndicatorCount } from "../../src/services/indicators.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod } from "../../src/services/pods.ts";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import { publishSummary } from "../../src/services/summaries.ts";
import { createAppContext, type AppContext } from "../../src/wiring.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

class ManualClock implements Clock {
  at = new Date("2026-10-01T00:00:00Z");
  now = () => new Date(this.at);
  set(iso: string) {
    this.at = new Date(iso);
  }
}

const clock = new ManualClock();
const POD = "kitchen";
let database: TestDatabase;
let app: AppContext;
let deps: ServiceDeps;
const m: string[] = [];

async function entry(recordedAt: string, input: Record<string, unknown>) {
  clock.set(recordedAt);
  return recordEntry(deps, POD, input);
}

const errorOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; kind?: string; details?: Record<string, unknown> };
  }
  throw new Error("expected an error");
};

// Weeks (Mondays): A = 2026-11-02, B = 2026-11-09, C = 2026-11-16, D = 2026-11-23.
const week = (monday: string) => ({ from: new Date(`${monday}T00:00:00Z`), to: new Date(new Date(`${monday}T00:00:00Z`).getTime() + 7 * 86_400_000) });

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ PUBLIC_URL: "http://127.0.0.1:9", POD_SLUG: POD, LOG_LEVEL: "silent", ADMIN_SOCKET: "off", ...(database.url ? { DATABASE_URL: database.url } : {}) });
  app = await createAppContext(config, { database: database.handle, clock });
  deps = app.deps;
  await createPod(deps, { slug: POD, name: "Community Kitchen" });
  await addResource(deps, POD, { key: "meal", name: "Meal", unit: "one", category: "food", referencePrice: "6" });
  await addResource(deps, POD, { key: "kwh", name: "Solar power", unit: "kilowattHour", category: "energy" });
  for (const name of ["Ann", "Bo", "Cy", "Di"]) m.push((await addMember(deps, POD, { name })).pseudonym);
  await entry("2026-11-01T12:00:00Z", { kind: "contribution", resource: "meal", quantity: "500", counterpartyLabel: "cooking day" });
  // A: 10 meals drawn by three members; 7 kWh contributed by the co-op (no member).
  await entry("2026-11-03T12:00:00Z", { kind: "draw", resource: "meal", quantity: "4", fund: "survival", member: m[0] });
  await entry("2026-11-04T12:00:00Z", { kind: "draw", resource: "meal", quantity: "3", fund: "survival", member: m[1] });
  await entry("2026-11-05T12:00:00Z", { kind: "draw", resource: "meal", quantity: "3", fund: "survival", member: m[2] });
  await entry("2026-11-05T13:00:00Z", { kind: "contribution", resource: "kwh", quantity: "7.25", counterpartyPod: "https://coop.example/pods/sun" });
  // B: 12 meals drawn by two members.
  await entry("2026-11-10T12:00:00Z", { kind: "draw", resource: "meal", quantity: "6", fund: "survival", member: m[0] });
  await entry("2026-11-11T12:00:00Z", { kind: "draw", resource: "meal", quantity: "6", fund: "survival", member: m[1] });
  // C: 16 meals drawn by three members, then "1 fewer" corrected in the same week: 15.
  const c = await entry("2026-11-17T12:00:00Z", { kind: "draw", resource: "meal", quantity: "6", fund: "survival", member: m[0] });
  await entry("2026-11-18T12:00:00Z", { kind: "draw", resource: "meal", quantity: "5", fund: "survival", member: m[2] });
  await entry("2026-11-19T12:00:00Z", { kind: "draw", resource: "meal", quantity: "5", fund: "survival", member: m[3] });
  await entry("2026-11-20T12:00:00Z", { kind: "correction", corrects: c.seq, quantity: "-1" });
  // D: 20 meals, three members.
  await entry("2026-11-24T12:00:00Z", { kind: "draw", resource: "meal", quantity: "10", fund: "survival", member: m[1] });
  await entry("2026-11-25T12:00:00Z", { kind: "draw", resource: "meal", quantity: "5", fund: "survival", member: m[2] });
  await entry("2026-11-26T12:00:00Z", { kind: "draw", resource: "meal", quantity: "5", fund: "survival", member: m[3] });
  clock.set("2026-12-01T00:00:00Z");
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("defining indicators", () => {
  it("from the ledger (resource + entry kind) and counted by stewards", async () => {
    const meals = await addIndicator(deps, POD, { key: "meals", name: "Meals prepared autonomously", source: "ledger", resource: "meal", entryKind: "draw" });
    expect(meals).toMatchObject({ key: "meals", source: "ledger", resource: "meal", entryKind: "draw", description: "" });
    await addIndicator(deps, POD, { key: "coop-kwh", name: "kWh from our co-op", source: "ledger", resource: "kwh", entryKind: "contribution", description: "Power we did not buy" });
    const disputes = await addIndicator(deps, POD, { key: "disputes", name: "Disputes resolved without outside authority", source: "count" });
    expect(disputes).toMatchObject({ source: "count", resource: null, entryKind: null });
    expect((await listIndicators(deps, POD)).map((i) => i.key)).toEqual(["coop-kwh", "disputes", "meals"]);
  });

  it("refuses bad definitions with a stable code naming the field", async () => {
    const cases: Array<[unknown, string, string | undefined]> = [
      [{ key: "x1", name: "X", source: "ledger", resource: "meal" }, "INDICATOR_FIELDS", "entryKind"],
      [{ key: "x2", name: "X", source: "ledger", entryKind: "draw" }, "INDICATOR_FIELDS", "resource"],
      [{ key: "x3", name: "X", source: "count", resource: "meal" }, "INDICATOR_FIELDS", "resource"],
      [{ key: "x4", name: "X", source: "ledger", resource: "caviar", entryKind: "draw" }, "UNKNOWN_RESOURCE", "resource"],
      [{ key: "x5", name: "X", source: "ledger", resource: "meal", entryKind: "correction" }, "VALIDATION_FAILED", undefined],
      [{ key: "Bad Key", name: "X", source: "count" }, "VALIDATION_FAILED", undefined],
      [{ key: "x6", name: "", source: "count" }, "VALIDATION_FAILED", undefined],
      [{ key: "x7", name: "X\u0000", source: "count" }, "INVALID_TEXT", "name"],
      [{ key: "x8", name: "X", source: "count", extra: 1 }, "VALIDATION_FAILED", undefined],
    ];
    for (const [input, code, field] of cases) {
      const error = await errorOf(addIndicator(deps, POD, input));
      expect(error.code, JSON.stringify(input)).toBe(code);
      if (field) expect(error.details?.field).toBe(field);
    }
    expect(await errorOf(addIndicator(deps, POD, { key: "meals", name: "Again", source: "count" }))).toMatchObject({ code: "INDICATOR_EXISTS", kind: "conflict" });
    expect((await listIndicators(deps, POD)).map((i) => i.key)).toEqual(["coop-kwh", "disputes", "meals"]);
  });
});

describe("counts", () => {
  it("records dated counts of a counted indicator, exact and append-only", async () => {
    await recordIndicatorCount(deps, POD, "disputes", { countedOn: "2026-11-04", count: "4", publicNote: "noise at night" });
    await recordIndicatorCount(deps, POD, "disputes", { countedOn: "2026-11-09", count: "2" });
    const c = await recordIndicatorCount(deps, POD, "disputes", { countedOn: "2026-11-15", count: "3.000", publicNote: "a fence" });
    expect(c).toMatchObject({ key: "disputes", countedOn: "2026-11-15", count: "3", publicNote: "a fence" });
    // 2026-11-16 is week C's first day.
    await recordIndicatorCount(deps, POD, "disputes", { countedOn: "2026-11-16", count: "1", publicNote: "parking" });
    expect((await listIndicatorCounts(deps, POD, "disputes")).map((x) => `${x.countedOn}:${x.count}`)).toEqual(["2026-11-16:1", "2026-11-15:3", "2026-11-09:2", "2026-11-04:4"]);
  });

  it("refuses counts with a stable code", async () => {
    const cases: Array<[string, unknown, string]> = [
      ["meals", { countedOn: "2026-11-04", count: "1" }, "INDICATOR_NOT_COUNTED"],
      ["nothing", { countedOn: "2026-11-04", count: "1" }, "INDICATOR_NOT_FOUND"],
      ["disputes", { countedOn: "2026-11-04", count: "-1" }, "NEGATIVE"],
      ["disputes", { countedOn: "2026-11-04", count: "1.0000001" }, "TOO_PRECISE"],
      ["disputes", { countedOn: "2026-11-04", count: "lots" }, "INVALID_DECIMAL"],
      ["disputes", { countedOn: "2026-02-30", count: "1" }, "VALIDATION_FAILED"],
      ["disputes", { countedOn: "2026-12-03", count: "1" }, "FUTURE_DATE"],
      ["disputes", { countedOn: "2026-11-04", count: "1", publicNote: "x".repeat(501) }, "VALIDATION_FAILED"],
    ];
    for (const [key, input, code] of cases) expect((await errorOf(recordIndicatorCount(deps, POD, key, input))).code, `${key} ${JSON.stringify(input)}`).toBe(code);
    expect(await listIndicatorCounts(deps, POD, "disputes")).toHaveLength(4);
  });
});

describe("values per period", () => {
  const byKey = (values: Awaited<ReturnType<typeof indicatorValues>>) => Object.fromEntries(values.map((v) => [v.key, v]));

  it("week A: ledger values with 3 members and none are shown; counts sum by date with their notes", async () => {
    const v = byKey(await indicatorValues(deps, POD, week("2026-11-02").from, week("2026-11-02").to));
    expect(v.meals).toMatchObject({ value: "10", previous: "0", trend: "up" });
    expect(v["coop-kwh"]).toMatchObject({ value: "7.25", previous: "0", trend: "up" });
    expect(v.disputes).toMatchObject({ value: "4", previous: "0", trend: "up", note: "noise at night" });
  });

  it("week B: meals drawn by two members are withheld; counts 2 + 3 = 5", async () => {
    const v = byKey(await indicatorValues(deps, POD, week("2026-11-09").from, week("2026-11-09").to));
    expect(v.meals).toMatchObject({ value: "fewer than 3", previous: "10", trend: null });
    expect(v["coop-kwh"]).toMatchObject({ value: "0", previous: "7.25", trend: "down" });
    expect(v.disputes).toMatchObject({ value: "5", previous: "4", trend: "up", note: "a fence" });
  });

  it("week C: a correction counts (16 − 1 = 15); the withheld previous value is no value", async () => {
    const v = byKey(await indicatorValues(deps, POD, week("2026-11-16").from, week("2026-11-16").to));
    expect(v.meals).toMatchObject({ value: "15", previous: null, trend: null });
    expect(v.disputes).toMatchObject({ value: "1", previous: "5", trend: "down", note: "parking" });
  });

  it("week D in a published summary: values, previous values and trends, sorted by key", async () => {
    const s = await publishSummary(deps, POD, "week", new Date("2026-11-25T00:00:00Z"));
    // No dispute counted in week D: no note.
    expect(s.content.indicators).toEqual([
      { key: "coop-kwh", name: "kWh from our co-op", value: "0", previous: "0", trend: "flat" },
      { key: "disputes", name: "Disputes resolved without outside authority", value: "0", previous: "1", trend: "down" },
      { key: "meals", name: "Meals prepared autonomously", value: "20", previous: "15", trend: "up" },
    ]);
  });

  it("refuses an empty range; through the admin operations too", async () => {
    const at = new Date("2026-11-02T00:00:00Z");
    expect(await errorOf(indicatorValues(deps, POD, at, at))).toMatchObject({ code: "INVALID_RANGE" });
    const listed = (await runAdminOp(deps, "indicator.list", { pod: POD })) as Array<{ key: string }>;
    expect(listed.map((i) => i.key)).toEqual(["coop-kwh", "disputes", "meals"]);
    const counted = (await runAdminOp(deps, "indicator.count", { pod: POD, key: "disputes", count: { countedOn: "2026-11-30", count: "2", publicNote: "bins" } })) as { count: string };
    expect(counted.count).toBe("2");
    const added = (await runAdminOp(deps, "indicator.add", { pod: POD, indicator: { key: "care", name: "Care hours", source: "count" } })) as { key: string };
    expect(added.key).toBe("care");
  });
});
