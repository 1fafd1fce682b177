/**
 * The open-books charts as pure functions: accessible structure (role, title, desc,
 * aria-labelledby, a hidden data table with the exact figures), geometry that follows the
 * data, escaping, and the empty cases. No database, no server.
 */
import { describe, expect, it } from "vitest";
import { barChart, CHART_WIDTH, compactMoneyAxis, labelIndices, lineChart, stackedBarChart, type StackBucket } from "../../src/http/pages/charts.ts";
import { formatAmount, formatMoney, formatQuantity } from "../../src/http/pages/books-format.ts";

const money = (v: string) => formatMoney(v, "EUR");
const figures = { format: money, axisFormat: compactMoneyAxis("EUR") };

/** The accessible skeleton every chart must have. */
function expectAccessible(out: string, id: string, title: string, description: string) {
  expect(out).toMatch(new RegExp(`<svg [^>]*role="img"[^>]*aria-labelledby="${id}-title ${id}-desc"`));
  expect(out).toContain(`<title id="${id}-title">${title}</title>`);
  expect(out).toContain(`<desc id="${id}-desc">${description}</desc>`);
  expect(out).toMatch(new RegExp(`<table class="visually-hidden" id="${id}-data">`));
  expect(out).not.toMatch(/<script|\son[a-z]+=/i);
}

/** Rows of the hidden table as arrays of cell texts. */
function tableRows(out: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(out)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]!));
}

const attrs = (tag: string) => Object.fromEntries([...tag.matchAll(/([a-z][a-z0-9-]*)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));

describe("figures", () => {
  it("are formatted from exact decimal strings", () => {
    expect(formatMoney("12345678901234567.25", "EUR")).toBe("€12,345,678,901,234,567.25");
    expect(formatMoney("0.3", "EUR")).toBe("€0.30");
    expect(formatMoney("fewer than 3", "EUR")).toBe("fewer than 3");
    expect(formatQuantity("0.000001")).toBe("0.000001");
    expect(formatQuantity("1234567.5")).toBe("1,234,567.5");
    expect(formatAmount("0.3", "kilogram")).toBe("0.3 kg");
    expect(formatAmount("2", "hour")).toBe("2 hours");
    expect(formatAmount("40", "one")).toBe("40");
    expect(formatAmount("25", "EUR")).toBe("25 EUR");
  });
});

describe("lineChart", () => {
  const points = [
    { label: "week of 2 November 2026", shortLabel: "2 Nov", value: "0" },
    { label: "week of 9 November 2026", shortLabel: "9 Nov", value: "40.5" },
    { label: "week of 16 November 2026", shortLabel: "16 Nov", value: "0.3" },
    { label: "week of 23 November 2026", shortLabel: "23 Nov", value: "120.1" },
  ];
  const render = (p = points) =>
    lineChart({ id: "reclaimed", title: "Value reclaimed", description: "Running total, week by week.", periodHeading: "Week", valueHeading: "Value reclaimed so far", ...figures, points: p }).value;

  it("is an accessible SVG with every figure in its hidden table", () => {
    const out = render();
    expectAccessible(out, "reclaimed", "Value reclaimed", "Running total, week by week.");
    expect(tableRows(out)).toEqual([
      ["week of 2 November 2026", "€0.00"],
      ["week of 9 November 2026", "€40.50"],
      ["week of 16 November 2026", "€0.30"],
      ["week of 23 November 2026", "€120.10"],
    ]);
  });

  it("draws the points where the values are (higher value, higher point)", () => {
    const out = render();
    const dots = [...out.matchAll(/<circle [^>]*>/g)].map((m) => attrs(m[0]));
    expect(dots).toHaveLength(4);
    const ys = dots.map((d) => Number(d.cy));
    const xs = dots.map((d) => Number(d.cx));
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(xs[3]).toBeLessThanOrEqual(CHART_WIDTH);
    expect(ys[1]).toBeLessThan(ys[0]!); // 40.5 above 0
    expect(ys[2]).toBeGreaterThan(ys[1]!); // 0.3 below 40.5
    expect(ys[3]).toBeLessThan(ys[1]!); // 120.1 highest
    expect(out).toMatch(/<path class="line" d="M/);
  });

  it("says so when there is nothing to draw, without an empty SVG", () => {
    const out = lineChart({ id: "x", title: "Value reclaimed", description: "d", periodHeading: "p", valueHeading: "v", ...figures, points: [], empty: "no entries yet." }).value;
    expect(out).not.toContain("<svg");
    expect(out).toContain("no entries yet.");
  });

  it("draws a single point in the middle", () => {
    const out = render([points[1]!]);
    const dot = attrs(/<circle [^>]*>/.exec(out)![0]);
    expect(Number(dot.cx)).toBeGreaterThan(CHART_WIDTH / 3);
    expect(Number(dot.cx)).toBeLessThan((2 * CHART_WIDTH) / 3);
  });

  it("escapes labels", () => {
    const out = render([{ label: "<script>x</script>", shortLabel: "<b>", value: "1" }]);
    expect(out).not.toContain("<script>x");
    expect(out).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(out).not.toContain("<b>");
  });
});

describe("stackedBarChart", () => {
  const series = [
    { key: "survival", label: "Survival" },
    { key: "capacity_building", label: "Capacity-building" },
    { key: "power_shifting", label: "Power-shifting" },
  ];
  const buckets: StackBucket[] = [
    { label: "November 2026", shortLabel: "Nov", values: { survival: "30", capacity_building: "10", power_shifting: "0" } },
    { label: "December 2026", shortLabel: "Dec", values: { survival: "0.1", capacity_building: "0.2" } },
  ];
  const out = stackedBarChart({ id: "flows", title: "Outflows per fund", description: "What left, by fund.", periodHeading: "Month", totalHeading: "All funds", series, buckets, ...figures }).value;

  it("is accessible, with a legend and a table of every fund and the exact total", () => {
    expectAccessible(out, "flows", "Outflows per fund", "What left, by fund.");
    expect(out).toContain('<ul class="legend">');
    for (const s of series) expect(out).toContain(`${s.label}</li>`);
    expect(tableRows(out)).toEqual([
      ["November 2026", "€30.00", "€10.00", "€0.00", "€40.00"],
      ["December 2026", "€0.10", "€0.20", "€0.00", "€0.30"],
    ]);
  });

  it("stacks bars whose heights are proportional to the values", () => {
    const groups = [...out.matchAll(/<g class="series-([a-z_]+)"[^>]*>([\s\S]*?)<\/g>/g)];
    expect(groups.map((g) => g[1])).toEqual(["survival", "capacity_building", "power_shifting"]);
    const heights = (i: number) => [...groups[i]![2]!.matchAll(/<rect [^>]*>/g)].map((m) => Number(attrs(m[0]).height));
    const [survival, capacity] = [heights(0), heights(1)];
    // November: survival 30 is three times capacity-building 10 (within rounding to 0.1 px).
    expect(Math.abs(survival[0]! - 3 * capacity[0]!)).toBeLessThan(0.5);
    // A zero draws nothing.
    expect(heights(2)).toEqual([]);
  });

  it("draws negative buckets (corrections) below the zero line", () => {
    const neg = stackedBarChart({ id: "n", title: "t", description: "d", periodHeading: "p", totalHeading: "all", series, ...figures, buckets: [{ label: "a", shortLabel: "a", values: { survival: "-5", capacity_building: "10" } }] }).value;
    const zero = attrs(/<line class="zero"[^>]*>/.exec(neg)![0]);
    const rects = [...neg.matchAll(/<g class="series-([a-z_]+)"[^>]*>([\s\S]*?)<\/g>/g)].map((g) => ({ key: g[1], rect: /<rect [^>]*>/.exec(g[2]!) ? attrs(/<rect [^>]*>/.exec(g[2]!)![0]) : null }));
    const survival = rects.find((r) => r.key === "survival")!.rect!;
    const capacity = rects.find((r) => r.key === "capacity_building")!.rect!;
    expect(Number(survival.y)).toBeGreaterThanOrEqual(Number(zero.y1) - 0.1);
    expect(Number(capacity.y) + Number(capacity.height)).toBeLessThanOrEqual(Number(zero.y1) + 0.1);
    expect(tableRows(neg)[0]).toEqual(["a", "-€5.00", "€10.00", "€0.00", "€5.00"]);
  });
});

describe("barChart", () => {
  const bars = [
    { label: "Rice", value: "10", valueText: "10 kg", group: "kilogram" },
    { label: "Beans", value: "5", valueText: "5 kg", group: "kilogram" },
    { label: "Care", value: "3", valueText: "3 hours", group: "hour" },
  ];
  const out = barChart({ id: "stock", title: "Stock", description: "What the commons holds.", labelHeading: "Resource", valueHeading: "In stock", bars, groupLabel: (g) => `In ${g}` }).value;

  it("is accessible and lists every resource with its amount", () => {
    expectAccessible(out, "stock", "Stock", "What the commons holds.");
    expect(tableRows(out)).toEqual([
      ["Rice", "10 kg"],
      ["Beans", "5 kg"],
      ["Care", "3 hours"],
    ]);
  });

  it("scales bars per unit, under a heading per unit", () => {
    expect(out).toContain("In kilogram");
    expect(out).toContain("In hour");
    const widths = [...out.matchAll(/<rect class="bar"[^>]*>/g)].map((m) => Number(attrs(m[0]).width));
    expect(widths).toHaveLength(3);
    expect(Math.abs(widths[1]! * 2 - widths[0]!)).toBeLessThan(0.5); // beans half of rice
    expect(widths[2]).toBeCloseTo(widths[0]!, 0); // the only hour bar spans its own scale
  });

  it("does not label a single unit", () => {
    const single = barChart({ id: "s", title: "t", description: "d", labelHeading: "r", valueHeading: "v", bars: bars.slice(0, 2), groupLabel: (g) => `In ${g}` }).value;
    expect(single).not.toContain("In kilogram");
  });
});

describe("labelIndices", () => {
  it("keeps the first and the last and spreads the rest", () => {
    expect(labelIndices(3, 5)).toEqual([0, 1, 2]);
    expect(labelIndices(53, 5)).toEqual([0, 13, 26, 39, 52]);
    expect(labelIndices(1, 5)).toEqual([0]);
  });
});
