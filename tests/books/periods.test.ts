/**
 * Summary periods (UTC): ISO weeks, calendar months and mean lunar cycles of 29.530588853
 * days from the new moon of 2000-01-06T18:14Z; ids, boundaries and `--at` inside a period.
 */
import { describe, expect, it } from "vitest";
import {
  LUNAR_EPOCH,
  dateCeil,
  lastEndedPeriod,
  lunarCycleOf,
  lunarCycleStart,
  parsePeriodId,
  periodId,
  periodOf,
  periodStartingOn,
  previousPeriod,
} from "../../src/domain/books/periods.ts";

const at = (iso: string) => new Date(iso);
const iso = (d: Date) => d.toISOString();
const SYNODIC_MS = 29.530588853 * 86_400_000;

describe("weeks", () => {
  it("run from Monday 00:00Z to the next Monday, whatever day and hour `at` falls on", () => {
    for (const t of ["2026-11-23T00:00:00.000Z", "2026-11-25T13:45:00Z", "2026-11-29T23:59:59.999Z"]) {
      const p = periodOf("week", at(t));
      expect([iso(p.start), iso(p.end), p.label]).toEqual(["2026-11-23T00:00:00.000Z", "2026-11-30T00:00:00.000Z", "week of 2026-11-23"]);
    }
    // Sunday night belongs to the week that started the Monday before; Monday 00:00 to the next.
    expect(iso(periodOf("week", at("2026-11-30T00:00:00.000Z")).start)).toBe("2026-11-30T00:00:00.000Z");
    expect(iso(periodOf("week", at("2026-11-22T23:59:59.999Z")).start)).toBe("2026-11-16T00:00:00.000Z");
  });

  it("cross months and years (ISO week 1 of 2027 starts on Monday 2027-01-04; 2026-12-28 starts the week before)", () => {
    const p = periodOf("week", at("2027-01-01T12:00:00Z"));
    expect([iso(p.start), iso(p.end)]).toEqual(["2026-12-28T00:00:00.000Z", "2027-01-04T00:00:00.000Z"]);
    expect(iso(previousPeriod(p).start)).toBe("2026-12-21T00:00:00.000Z");
  });
});

describe("months", () => {
  it("are calendar months in UTC, of 28 to 31 days", () => {
    const feb = periodOf("month", at("2028-02-29T23:00:00Z"));
    expect([iso(feb.start), iso(feb.end), feb.label]).toEqual(["2028-02-01T00:00:00.000Z", "2028-03-01T00:00:00.000Z", "February 2028"]);
    const dec = periodOf("month", at("2026-12-31T23:59:59.999Z"));
    expect([iso(dec.start), iso(dec.end), dec.label]).toEqual(["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z", "December 2026"]);
    expect(iso(previousPeriod(periodOf("month", at("2026-03-10T00:00:00Z"))).start)).toBe("2026-02-01T00:00:00.000Z");
  });
});

describe("lunar cycles", () => {
  it("cycle 0 starts at the documented epoch, the new moon of 2000-01-06T18:14Z", () => {
    expect(iso(lunarCycleStart(0))).toBe("2000-01-06T18:14:00.000Z");
    expect(iso(periodOf("lunar", LUNAR_EPOCH).start)).toBe("2000-01-06T18:14:00.000Z");
    expect(iso(periodOf("lunar", new Date(LUNAR_EPOCH.getTime() - 1)).end)).toBe("2000-01-06T18:14:00.000Z");
  });

  it("are 29.530588853 days apart (to the millisecond, never drifting over centuries)", () => {
    for (const n of [-300, -1, 0, 1, 2, 334, 1000, 2500]) {
      const gap = lunarCycleStart(n + 1).getTime() - lunarCycleStart(n).getTime();
      expect([2_551_442_876, 2_551_442_877]).toContain(gap);
      // floor(n × 29.530588853 d): within a millisecond of the exact multiple.
      const exact = LUNAR_EPOCH.getTime() + n * SYNODIC_MS;
      expect(Math.abs(lunarCycleStart(n).getTime() - exact)).toBeLessThanOrEqual(1);
    }
    // 1000 cycles: exactly 29 530.588853 days, floored to the millisecond.
    expect(lunarCycleStart(1000).getTime() - LUNAR_EPOCH.getTime()).toBe(2_551_442_876_899);
  });

  it("a cycle that straddles two calendar months: boundaries on the instant, ids by the start's UTC date", () => {
    // The mean new moon of 2026-11-09 21:57:55.130Z (astronomical new moon: 2026-11-09 15:02Z).
    const before = periodOf("lunar", at("2026-11-09T21:57:55.129Z"));
    const after = periodOf("lunar", at("2026-11-09T21:57:55.130Z"));
    expect(iso(before.end)).toBe("2026-11-09T21:57:55.130Z");
    expect(iso(before.start)).toBe("2026-10-11T09:13:52.253Z");
    expect(before.label).toBe("lunar cycle of 2026-10-11");
    expect(iso(after.start)).toBe("2026-11-09T21:57:55.130Z");
    expect(iso(after.end)).toBe("2026-12-09T10:41:58.007Z");
    expect(periodId(after)).toBe("lunar-2026-11-09");
    expect(lunarCycleOf(after.start)).toBe(lunarCycleOf(before.start) + 1);
    // Every instant in between belongs to the same cycle, across the month boundary.
    for (const t of ["2026-11-30T23:59:59.999Z", "2026-12-01T00:00:00.000Z", "2026-12-09T10:41:58.006Z"]) {
      expect(iso(periodOf("lunar", at(t)).start)).toBe("2026-11-09T21:57:55.130Z");
    }
  });

  it("the mean cycle stays within a day of real new moons (2024-01-11 11:57Z, 2026-11-09 15:02Z)", () => {
    for (const newMoon of ["2024-01-11T11:57:00Z", "2026-11-09T15:02:00Z"]) {
      const t = at(newMoon).getTime();
      const p = periodOf("lunar", at(newMoon));
      const nearest = Math.min(Math.abs(p.start.getTime() - t), Math.abs(p.end.getTime() - t));
      expect(nearest).toBeLessThan(86_400_000);
    }
  });
});

describe("period ids and --at", () => {
  it("--at in the middle of a period names that period; the last ended period is the one before now's", () => {
    const p = periodOf("week", at("2026-11-26T12:00:00Z"));
    expect(periodId(p)).toBe("week-2026-11-23");
    expect(periodId(lastEndedPeriod("week", at("2026-11-26T12:00:00Z")))).toBe("week-2026-11-16");
    expect(periodId(lastEndedPeriod("week", at("2026-11-30T00:00:00.000Z")))).toBe("week-2026-11-23");
    expect(periodId(lastEndedPeriod("month", at("2026-12-01T00:00:00.001Z")))).toBe("month-2026-11-01");
    expect(periodId(lastEndedPeriod("lunar", at("2026-11-20T00:00:00Z")))).toBe("lunar-2026-10-11");
  });

  it("parse back to their period only on a real start date", () => {
    expect(iso(parsePeriodId("week-2026-11-23")!.start)).toBe("2026-11-23T00:00:00.000Z");
    expect(iso(parsePeriodId("month-2026-11-01")!.end)).toBe("2026-12-01T00:00:00.000Z");
    expect(iso(parsePeriodId("lunar-2026-11-09")!.start)).toBe("2026-11-09T21:57:55.130Z");
    expect(parsePeriodId("week-2026-11-24")).toBeNull(); // a Tuesday
    expect(parsePeriodId("month-2026-11-02")).toBeNull();
    expect(parsePeriodId("lunar-2026-11-10")).toBeNull(); // no cycle starts that day
    expect(parsePeriodId("week-2026-02-30")).toBeNull();
    expect(parsePeriodId("year-2026-01-01")).toBeNull();
    expect(periodStartingOn("week", "not a date")).toBeNull();
  });

  it("dated counts belong to the period that contains their date's midnight", () => {
    expect(dateCeil(at("2026-11-23T00:00:00.000Z"))).toBe("2026-11-23");
    expect(dateCeil(at("2026-11-09T21:57:55.130Z"))).toBe("2026-11-10");
  });

  it("refuses an invalid instant", () => {
    expect(() => periodOf("week", new Date("nope"))).toThrow(TypeError);
  });
});
