/**
 * The congress's pure rules: matching offers to needs (specification, category, units,
 * quantities, expiry, order), the lunar totals from published summaries, and charters side
 * by side.
 */
import { describe, expect, it } from "vitest";
import { periodOf } from "../../src/domain/books/periods.ts";
import type { SummaryContent, SummaryTotal } from "../../src/domain/books/summary.ts";
import { Dec } from "../../src/domain/books/decimal.ts";
import { convertQuantity, matchProposals, matchProposalsCounted, unitsCompatible, type Match, type MatchOptions, type MatchProposal } from "../../src/domain/congress/matching.ts";
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

// ---------------------------------------------------------------------------------------
// matchProposalsCounted against a slow, obvious reference: every pair, filter, score with
// exact decimals, sort, keep the best per need, cut at the limit. Generated data with
// near ties (0.3 kg against 300.000001 g), convertible and odd units, missing quantities,
// negative amounts, closed and expired proposals, wrong purposes, pods matching themselves.

/** Dimension and factor to the dimension's base unit, written out again for the reference. */
const REF_DIMENSIONS: Record<string, [string, string]> = {
  gram: ["mass", "0.001"],
  kilogram: ["mass", "1"],
  tonne: ["mass", "1000"],
  litre: ["volume", "1"],
  cubicMetre: ["volume", "1000"],
  hour: ["time", "1"],
  day: ["time", "24"],
};
/** The float scale matching reports `share` in (the dimension's smallest unit). */
const REF_SMALL: Record<string, number> = { gram: 1, kilogram: 1000, tonne: 1_000_000, litre: 1, cubicMetre: 1000, hour: 1, day: 24 };

function refMatch(offers: readonly MatchProposal[], needs: readonly MatchProposal[], now: Date, options: MatchOptions = {}): { matches: Match[]; total: number } {
  const live = (x: MatchProposal) =>
    x.status === "open" && (x.expiresAt === null || x.expiresAt.getTime() > now.getTime()) && (x.availableUntil === null || x.availableUntil.getTime() > now.getTime());
  const compatible = (a: string, b: string) => {
    const da = REF_DIMENSIONS[a];
    const db = REF_DIMENSIONS[b];
    if (da || db) return da !== undefined && db !== undefined && da[0] === db[0];
    return a === b;
  };
  const category = (c: string | null) => (c ?? "").trim().toLowerCase();
  const text = (x: MatchProposal) => x.remaining ?? x.quantity;
  const exact = (t: string | null, unit: string) => (t === null ? null : Dec.max(0, new Dec(t)).times(REF_DIMENSIONS[unit]?.[1] ?? "1"));
  const float = (t: string, unit: string) => (t.trim().startsWith("-") ? 0 : Number(t)) * (REF_SMALL[unit] ?? 1);
  type Row = { match: Match; rank: number; needIndex: number; offerIndex: number };
  const rows: Row[] = [];
  needs.forEach((n, needIndex) => {
    if (n.purpose !== "request" || !live(n)) return;
    offers.forEach((o, offerIndex) => {
      if (o.purpose !== "offer" || !live(o)) return;
      if ((options.skipSamePod ?? true) && o.pod === n.pod) return;
      if (!compatible(o.unit, n.unit)) return;
      const bySpec = Boolean(o.specificationUri) && Boolean(n.specificationUri);
      if (bySpec ? o.specificationUri !== n.specificationUri : category(o.category) === "" || category(o.category) !== category(n.category)) return;
      const has = exact(text(o), o.unit);
      const wants = exact(text(n), n.unit);
      const full = has === null || wants === null || has.gte(wants);
      const covered = has === null ? wants : wants === null ? has : Dec.min(has, wants);
      const covers = covered === null ? null : covered.div(REF_DIMENSIONS[n.unit]?.[1] ?? "1").toDecimalPlaces(6, Dec.ROUND_DOWN);
      const least = n.minimum === null || wants === null ? wants : Dec.min(exact(n.minimum, n.unit)!, wants);
      const wantsFloat = wants === null ? 0 : float(text(n)!, n.unit);
      const share = full || wantsFloat === 0 ? 1 : float(text(o)!, o.unit) / wantsFloat;
      rows.push({
        rank: (n.urgent ? 0 : 2) + (full ? 0 : 1),
        needIndex,
        offerIndex,
        match: {
          offer: o.key,
          need: n.key,
          offerPod: o.pod,
          needPod: n.pod,
          by: bySpec ? "specification" : "category",
          urgent: n.urgent,
          fit: full ? "full" : "partial",
          enough: full || (has !== null && least !== null && has.gte(least)),
          covers: covers === null ? null : covers.isZero() ? "0" : covers.toFixed(),
          unit: n.unit,
          share,
        },
      });
    });
  });
  rows.sort((a, b) => a.rank - b.rank || b.match.share - a.match.share || a.needIndex - b.needIndex || a.offerIndex - b.offerIndex);
  const perNeed = new Map<string, number>();
  const kept = rows.filter((r) => {
    const seen = perNeed.get(r.match.need) ?? 0;
    perNeed.set(r.match.need, seen + 1);
    return options.perNeed === undefined || seen < options.perNeed;
  });
  return { matches: kept.slice(0, options.limit ?? kept.length).map((r) => r.match), total: kept.length };
}

/** 249 g three ways: as floats in grams, 249, 249 and 248.99999999999997. */
const TIES: ReadonlyArray<[string, string]> = [
  ["gram", "249"],
  ["kilogram", "0.249"],
  ["tonne", "0.000249"],
];

/** Deterministic proposals (mulberry32) of `pods` pods, `perPod` of each purpose per pod. */
function generated(seed: number, pods: number, perPod: number): { offers: MatchProposal[]; needs: MatchProposal[] } {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T,>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const units = ["kilogram", "gram", "gram", "tonne", "litre", "cubicMetre", "hour", "day", "one", "EUR", "GBP"];
  const categories = ["food", "Food ", " FOOD", "energy", "care", null, ""];
  const specs = ["https://www.wikidata.org/wiki/Q1", "https://www.wikidata.org/wiki/Q2", "https://www.wikidata.org/wiki/Q3", ""];
  const amounts = ["1", "2", "5", "10", "10", "20", "100", "0.3", "300", "300", "300.000001", "0.000001", "1000", "0.5", "24", "0", "-2", "7.123456"];
  const dates = [null, null, null, LATER, EARLIER, NOW];
  const statuses = ["open", "open", "open", "open", "open", "open", "open", "withdrawn", "expired", "fulfilled"] as const;
  const offers: MatchProposal[] = [];
  const needs: MatchProposal[] = [];
  for (let p = 0; p < pods; p++) {
    for (const purpose of ["offer", "request"] as const) {
      for (let i = 0; i < perPod; i++) {
        const quantity = rnd() < 0.15 ? null : pick(amounts);
        // Now and then the same mass in three units: floats cannot tell, decimals must.
        const tie = rnd() < 0.08 ? pick(TIES) : null;
        const proposal: MatchProposal = {
          key: `${purpose}:${p}:${i}`,
          pod: `https://pod${p}.example/pods/p${p}`,
          // A few of the wrong purpose: matching must ignore them.
          purpose: rnd() < 0.03 ? (purpose === "offer" ? "request" : "offer") : purpose,
          name: `${purpose} ${p}-${i}`,
          unit: tie ? tie[0] : pick(units),
          category: tie ? "food" : pick(categories),
          specificationUri: rnd() < 0.4 ? pick(specs) : null,
          quantity: tie ? tie[1] : quantity,
          remaining: tie ? null : rnd() < 0.3 ? null : rnd() < 0.7 ? quantity : pick(amounts),
          minimum: rnd() < 0.25 ? pick(amounts) : null,
          urgent: rnd() < 0.15,
          status: pick(statuses),
          expiresAt: pick(dates),
          availableUntil: rnd() < 0.2 ? pick(dates) : null,
        };
        (purpose === "offer" ? offers : needs).push(proposal);
      }
    }
  }
  return { offers, needs };
}

describe("matching against a slow reference", () => {
  const cases: Array<[string, MatchOptions]> = [
    ["all matches", {}],
    ["the view's cut (5 per need, 200 listed)", { perNeed: 5, limit: 200 }],
    ["1 per need, 7 listed", { perNeed: 1, limit: 7 }],
    ["3 per need, same pod allowed", { perNeed: 3, skipSamePod: false }],
    ["a limit only", { limit: 50 }],
    ["a limit of 0 (counted, none listed)", { perNeed: 2, limit: 0 }],
  ];
  for (const [label, options] of cases) {
    it(`gives the same matches, order and count: ${label}`, () => {
      for (const seed of [1, 2, 3]) {
        const { offers, needs } = generated(seed, 6, 60);
        const expected = refMatch(offers, needs, NOW, options);
        expect(expected.total).toBeGreaterThan(30);
        expect(matchProposalsCounted(offers, needs, NOW, options)).toEqual(expected);
        // The view's two directions: many offers against a few needs, and the other way round.
        const few = (list: MatchProposal[]) => list.filter((x) => x.pod.startsWith("https://pod0."));
        const many = (list: MatchProposal[]) => list.filter((x) => !x.pod.startsWith("https://pod0."));
        expect(matchProposalsCounted(many(offers), few(needs), NOW, options)).toEqual(refMatch(many(offers), few(needs), NOW, options));
        expect(matchProposalsCounted(few(offers), many(needs), NOW, options)).toEqual(refMatch(few(offers), many(needs), NOW, options));
      }
    });
  }

  it("covers the cases it is meant to: near ties, conversions, partial and insufficient matches, urgent first", () => {
    const { offers, needs } = generated(1, 6, 60);
    const all = refMatch(offers, needs, NOW).matches;
    const offerOf = new Map(offers.map((o) => [o.key, o]));
    const needOf = new Map(needs.map((x) => [x.key, x]));
    expect(all.some((m) => m.by === "specification")).toBe(true);
    expect(all.some((m) => m.by === "category")).toBe(true);
    expect(all.some((m) => m.fit === "partial" && m.enough)).toBe(true);
    expect(all.some((m) => m.fit === "partial" && !m.enough)).toBe(true);
    expect(all.some((m) => m.covers === null)).toBe(true);
    expect(all.some((m) => offerOf.get(m.offer)!.unit !== needOf.get(m.need)!.unit)).toBe(true);
    // Exact ties across units (0.000249 t for 249 g, 249 g for 0.249 kg): full, and covering all of it.
    const tied = all.filter((m) => {
      const o = offerOf.get(m.offer)!;
      const x = needOf.get(m.need)!;
      return o.unit !== x.unit && TIES.some(([u, q]) => u === o.unit && q === o.quantity) && TIES.some(([u, q]) => u === x.unit && q === x.quantity);
    });
    expect(tied.length).toBeGreaterThan(3);
    for (const m of tied) expect(m).toMatchObject({ fit: "full", enough: true, covers: needOf.get(m.need)!.quantity, share: 1 });
    expect(all.some((m) => m.urgent)).toBe(true);
    expect(all[0]!.urgent).toBe(true);
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
