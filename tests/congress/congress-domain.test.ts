/**
 * The congress's pure rules: matching offers to needs (specification, category, units,
 * quantities, expiry, order), the lunar totals from published summaries, and charters side
 * by side.
 */
import { describe, expect, it } from "vitest";
import { periodOf } from "../../src/domain/books/periods.ts";
import type { SummaryContent, SummaryTotal } from "../../src/domain/books/summary.ts";
import { convertQuantity, matchProposals, unitsCompatible, type MatchProposal } from "../../src/domain/congress/matching.ts";
import { sideBySide } from "../../src/domain/congress/side-by-side.ts";
import { congressTotals, quantityText } from "../../src/domain/congress/totals.ts";

const NOW = new Date("2026-11-28T12:00:00Z");
const LATER = new Date("2026-12-20T00:00:00Z");
const EARLIER = new Date("2026-11-01T00:00:00Z");

let n = 0;
function p(purpose: "offer" | "request", over: Partial<MatchProposal> = {}): MatchProposal {
  n++;
  return {
    key: `${purpose}-${n}`,
    pod: purpose === "offer" ? "https://b.example/pods/b" : "https://a.example/pods/a",
    purpose,
    name: `thing ${n}`,
    unit: "kilogram",
    category: "food",
    specificationUri: null,
    quantity: "10",
    remaining: "10",
    minimum: null,
    urgent: false,
    status: "open",
    expiresAt: LATER,
    availableUntil: null,
    ...over,
  };
}
const offer = (over: Partial<MatchProposal> = {}) => p("offer", over);
const need = (over: Partial<MatchProposal> = {}) => p("request", over);

describe("matching", () => {
  it("matches the same specification whatever the categories, and never two different specifications", () => {
    const o1 = offer({ specificationUri: "https://www.wikidata.org/wiki/Q7533", category: "Food" });
    const o2 = offer({ specificationUri: "https://www.wikidata.org/wiki/Q1", category: "food" });
    const nd = need({ specificationUri: "https://www.wikidata.org/wiki/Q7533", category: "groceries" });
    const m = matchProposals([o1, o2], [nd], NOW);
    expect(m.map((x) => x.offer)).toEqual([o1.key]);
    expect(m[0]!.by).toBe("specification");
  });

  it("matches the category case-insensitively when a specification is missing on either side", () => {
    const o1 = offer({ category: "FOOD", specificationUri: "https://www.wikidata.org/wiki/Q7533" });
    const o2 = offer({ category: "care" });
    const nd = need({ category: " food " });
    const m = matchProposals([o1, o2], [nd], NOW);
    expect(m.map((x) => x.offer)).toEqual([o1.key]);
    expect(m[0]!.by).toBe("category");
  });

  it("converts units within a dimension (g/kg/t, l/m³, h/day) and refuses the others", () => {
    expect(convertQuantity("2", "tonne", "kilogram")).toBe("2000");
    expect(convertQuantity("500", "gram", "kilogram")).toBe("0.5");
    expect(convertQuantity("1", "cubicMetre", "litre")).toBe("1000");
    expect(convertQuantity("2", "day", "hour")).toBe("48");
    expect(convertQuantity("1", "kilogram", "litre")).toBeNull();
    expect(unitsCompatible("EUR", "EUR")).toBe(true);
    expect(unitsCompatible("EUR", "GBP")).toBe(false);
    expect(unitsCompatible("one", "kilogram")).toBe(false);
    expect(unitsCompatible("kilowattHour", "kilowattHour")).toBe(true);

    const grams = offer({ unit: "gram", quantity: "25000", remaining: "25000" });
    const litres = offer({ unit: "litre" });
    const eur = offer({ unit: "EUR", category: "food" });
    const nd = need({ unit: "kilogram", quantity: "20", remaining: "20" });
    const m = matchProposals([grams, litres, eur], [nd], NOW);
    expect(m).toHaveLength(1);
    expect(m[0]).toMatchObject({ offer: grams.key, fit: "full", covers: "20", unit: "kilogram", share: 1 });

    const hours = matchProposals([offer({ unit: "day", quantity: "1", remaining: "1", category: "care" })], [need({ unit: "hour", quantity: "30", remaining: "30", category: "care" })], NOW);
    expect(hours[0]).toMatchObject({ fit: "partial", covers: "24", unit: "hour" });
    expect(matchProposals([offer({ unit: "GBP" })], [need({ unit: "EUR" })], NOW)).toEqual([]);
    // Exact at the edge: 0.000001 t is exactly 1 g, 0.3 kg exactly 300 g (no float rounding).
    expect(matchProposals([offer({ unit: "tonne", remaining: "0.000001" })], [need({ unit: "gram", remaining: "1" })], NOW)[0]).toMatchObject({ fit: "full", covers: "1" });
    expect(matchProposals([offer({ unit: "kilogram", remaining: "0.3" })], [need({ unit: "gram", remaining: "300.000001" })], NOW)[0]).toMatchObject({ fit: "partial", covers: "300" });
    expect(matchProposals([offer({ unit: "kilogram", remaining: "0.3" })], [need({ unit: "gram", remaining: "300" })], NOW)[0]).toMatchObject({ fit: "full", covers: "300" });
  });

  it("says how much of the need is covered: full, partial, and whether the need's minimum is reached", () => {
    const nd = need({ quantity: "20", remaining: "20", minimum: "5" });
    const big = offer({ remaining: "30" });
    const half = offer({ remaining: "10" });
    const tiny = offer({ remaining: "2" });
    const m = matchProposals([tiny, half, big], [nd], NOW);
    expect(m.map((x) => [x.offer, x.fit, x.covers, x.enough])).toEqual([
      [big.key, "full", "20", true],
      [half.key, "partial", "10", true],
      [tiny.key, "partial", "2", false],
    ]);
    expect(m[1]!.share).toBeCloseTo(0.5);
    // No minimum: only the whole need is enough.
    const whole = matchProposals([half], [need({ quantity: "20", remaining: "20" })], NOW);
    expect(whole[0]).toMatchObject({ fit: "partial", enough: false });
    // An offer of any amount covers everything; a need of any amount is covered by anything.
    expect(matchProposals([offer({ quantity: null, remaining: null })], [need({ remaining: "7" })], NOW)[0]).toMatchObject({ fit: "full", covers: "7" });
    expect(matchProposals([offer({ remaining: "3" })], [need({ quantity: null, remaining: null })], NOW)[0]).toMatchObject({ fit: "full", covers: "3", share: 1 });
  });

  it("never matches expired, closed or out-of-window proposals, or a pod with itself", () => {
    const nd = need();
    expect(matchProposals([offer({ expiresAt: EARLIER })], [nd], NOW)).toEqual([]);
    expect(matchProposals([offer({ expiresAt: NOW })], [nd], NOW)).toEqual([]);
    expect(matchProposals([offer({ availableUntil: EARLIER })], [nd], NOW)).toEqual([]);
    for (const status of ["withdrawn", "expired", "fulfilled"] as const) expect(matchProposals([offer({ status })], [nd], NOW)).toEqual([]);
    expect(matchProposals([offer()], [need({ status: "fulfilled" })], NOW)).toEqual([]);
    expect(matchProposals([offer()], [need({ expiresAt: EARLIER })], NOW)).toEqual([]);
    expect(matchProposals([offer({ pod: nd.pod })], [nd], NOW)).toEqual([]);
    // A need given as an offer (wrong purpose) is ignored.
    expect(matchProposals([need()], [nd], NOW)).toEqual([]);
  });

  it("sorts urgent needs first, then full before partial, then the larger share; perNeed keeps the best", () => {
    const calm = need({ name: "calm", quantity: "10", remaining: "10" });
    const urgent = need({ name: "urgent", urgent: true, quantity: "100", remaining: "100" });
    const o10 = offer({ remaining: "10" });
    const o50 = offer({ remaining: "50" });
    const m = matchProposals([o10, o50], [calm, urgent], NOW);
    expect(m.map((x) => [x.need, x.offer, x.fit])).toEqual([
      [urgent.key, o50.key, "partial"],
      [urgent.key, o10.key, "partial"],
      [calm.key, o10.key, "full"],
      [calm.key, o50.key, "full"],
    ]);
    const best = matchProposals([o10, o50], [urgent], NOW, { perNeed: 1 });
    expect(best.map((x) => x.offer)).toEqual([o50.key]);
  });
});

function summary(totals: Array<Partial<SummaryTotal>>): SummaryContent {
  return {
    currency: "EUR",
    participants: 5,
    entries: 10,
    lateEntries: 0,
    totals: totals.map((t) => ({ resource: "squash", name: "Squash", unit: "kilogram", kind: "transfer_out", fund: "survival", quantity: "1", marketValue: "2", suppressed: false, ...t })) as SummaryTotal[],
    valueReclaimed: "10",
    indicators: [],
    firstSeq: 1,
    headSeq: 10,
    headHash: "0".repeat(64),
  };
}

describe("congress totals", () => {
  const lunar = periodOf("lunar", NOW);
  const before = periodOf("lunar", new Date(lunar.start.getTime() - 1));

  it("sums transfer_out per unit over each pod's latest summary of the cycle, converting within a dimension", () => {
    const t = congressTotals(
      [
        {
          pod: "a",
          label: "@a@x",
          summaries: [
            { periodKind: "lunar", periodStart: lunar.start, version: 1, content: summary([{ quantity: "999" }]) },
            { periodKind: "lunar", periodStart: lunar.start, version: 2, content: summary([{ quantity: "100" }, { resource: "care", name: "Care", unit: "hour", quantity: "12" }, { kind: "draw", quantity: "50" }]) },
            { periodKind: "lunar", periodStart: before.start, version: 1, content: summary([{ quantity: "7000" }]) },
            { periodKind: "week", periodStart: lunar.start, version: 1, content: summary([{ quantity: "7000" }]) },
          ],
        },
        { pod: "b", label: "@b@y", summaries: [{ periodKind: "lunar", periodStart: lunar.start, version: 1, content: summary([{ unit: "gram", quantity: "20000" }, { unit: "day", quantity: "0.5", resource: "care" }]) }] },
        { pod: "c", label: "@c@z", summaries: [{ periodKind: "lunar", periodStart: lunar.start, version: 1, content: summary([{ quantity: "fewer than 3", marketValue: "fewer than 3", suppressed: true }]) }] },
        { pod: "d", label: "@d@w", summaries: [{ periodKind: "lunar", periodStart: before.start, version: 1, content: summary([{ quantity: "5" }]) }] },
      ],
      lunar,
      (pod, resource) => (pod === "a" && resource === "squash" ? "Food" : null),
    );
    expect(t.lines.map((l) => [l.unit, l.quantity])).toEqual([
      ["hour", "24"],
      ["kilogram", "120"],
    ]);
    expect(t.text).toBe("our congress moved 24 hours and 120 kg between pods this lunar cycle");
    expect(t.lines.find((l) => l.unit === "kilogram")!.byCategory).toEqual([
      { category: "food", quantity: "100" },
      { category: null, quantity: "20" },
    ]);
    expect(t.counted.map((c) => [c.pod, c.version])).toEqual([
      ["a", 2],
      ["b", 1],
      ["c", 1],
    ]);
    expect(t.withoutSummary).toEqual([{ pod: "d", label: "@d@w" }]);
    expect(t.withheld).toBe(1);
  });

  it("says so when nothing moved, and when no pod published", () => {
    expect(congressTotals([{ pod: "a", label: "a", summaries: [{ periodKind: "lunar", periodStart: lunar.start, version: 1, content: summary([{ kind: "draw" }]) }] }], lunar).text).toMatch(/moved nothing/);
    const none = congressTotals([{ pod: "a", label: "a", summaries: [] }], lunar);
    expect(none.text).toMatch(/no pod .* published/);
    expect(none.lines).toEqual([]);
    expect(quantityText("1", "hour")).toBe("1 hour");
    expect(quantityText("3", "one")).toBe("3 items");
    expect(quantityText("20", "EUR")).toBe("20 EUR");
  });
});

describe("charters side by side", () => {
  const charter = (services: Array<[string, string]>, next: Array<[string, string]> = []) => ({
    services: services.map(([name, category]) => ({ name, category, description: "", since: "2026-01-01", figure: null })) as never,
    nextServices: next.map(([name, targetDate]) => ({ name, targetDate, why: "" })),
  });

  it("lists providers per category, next services soonest first, partners and gaps", () => {
    const s = sideBySide(
      [
        { pod: "a", label: "A", charter: charter([["Soup kitchen", "food"], ["Tool library", "repair"]], [["Bike repair", "2027-03-01"]]) },
        { pod: "b", label: "B", charter: charter([["Veg boxes", "food"]], [["bike repair", "2027-01-15"], ["Night shelter", "2027-02-01"]]) },
        { pod: "c", label: "C", charter: null },
      ],
      [
        { pod: "b", label: "B", name: "Blankets", category: "Housing", urgent: true, url: "u1" },
        { pod: "a", label: "A", name: "Squash", category: "food", urgent: false, url: "u2" },
        { pod: "c", label: "C", name: "Lifts to clinic", category: "transport", urgent: false, url: "u3" },
      ],
    );
    expect(s.categories.map((c) => [c.category, c.providers.map((p) => p.pod)])).toEqual([
      ["food", ["a", "b"]],
      ["repair", ["a"]],
    ]);
    expect(s.upcoming.map((u) => [u.pod, u.targetDate])).toEqual([
      ["b", "2027-01-15"],
      ["b", "2027-02-01"],
      ["a", "2027-03-01"],
    ]);
    expect(s.partners).toEqual([
      { kind: "category", category: "food", pods: ["a", "b"] },
      { kind: "next", name: "bike repair", pods: ["b", "a"] },
    ]);
    expect(s.gaps.map((g) => [g.category, g.needs.map((n) => n.name)])).toEqual([
      ["housing", ["Blankets"]],
      ["transport", ["Lifts to clinic"]],
    ]);
    expect(s.withoutCharter).toEqual([{ pod: "c", label: "C" }]);
  });
});
