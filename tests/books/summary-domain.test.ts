/**
 * The pure summary rules: k-suppression (figures describing 1–2 members become "fewer
 * than 3"), a stable digest over canonical JSON, the Note's HTML (lists, no tables, only
 * tags Mastodon keeps, #OpenBooks #MutualAid), and the check of a received summary.
 */
import { describe, expect, it } from "vitest";
import {
  SUPPRESSED,
  buildSummaryContent,
  parseSummaryContent,
  summaryDigest,
  summaryToNoteHtml,
  trendOf,
  type PeriodAggregate,
  type TotalsCellInput,
} from "../../src/domain/books/summary.ts";
import { DomainError } from "../../src/domain/errors.ts";

const HASH = "ab".repeat(32);

function cell(over: Partial<TotalsCellInput>): TotalsCellInput {
  return { resource: "squash", name: "Squash", unit: "kilogram", kind: "draw", fund: "survival", quantity: "1.000000", marketValue: "2.00", members: 3, ...over };
}

function aggregate(over: Partial<PeriodAggregate> = {}): PeriodAggregate {
  return {
    currency: "EUR",
    entries: 9,
    lateEntries: 1,
    participants: 5,
    firstSeq: 11,
    headSeq: 19,
    headHash: HASH,
    cells: [
      cell({ quantity: "12.500000", marketValue: "25.00", members: 3 }),
      cell({ resource: "childcare", name: "Childcare <circle>", unit: "hour", kind: "draw", fund: "capacity_building", quantity: "4", marketValue: "80", members: 2 }),
      cell({ resource: "squash", kind: "contribution", fund: null, quantity: "30.1", marketValue: "60.2", members: 0 }),
      cell({ resource: "bread", name: "Bread", unit: "one", kind: "transfer_out", fund: "survival", quantity: "20", marketValue: "40", members: 0 }),
    ],
    valueReclaimed: { value: "145.00", members: 5 },
    ...over,
  };
}

describe("k-suppression", () => {
  it("a cell whose entries name 2 members says 'fewer than 3'; 3 members and no members show their numbers", () => {
    const content = buildSummaryContent(aggregate(), []);
    const byKey = Object.fromEntries(content.totals.map((t) => [`${t.resource}/${t.kind}`, t]));
    expect(byKey["childcare/draw"]).toMatchObject({ quantity: SUPPRESSED, marketValue: SUPPRESSED, suppressed: true });
    expect(byKey["squash/draw"]).toMatchObject({ quantity: "12.5", marketValue: "25", suppressed: false });
    expect(byKey["squash/contribution"]).toMatchObject({ quantity: "30.1", marketValue: "60.2", suppressed: false });
    expect(byKey["bread/transfer_out"]).toMatchObject({ quantity: "20", suppressed: false });
    expect(content.participants).toBe(5);
    expect(content.valueReclaimed).toBe("145");
  });

  it("participants and value reclaimed are withheld at 1 or 2 members, shown at 0 or 3", () => {
    for (const [n, expected] of [
      [0, 0],
      [1, SUPPRESSED],
      [2, SUPPRESSED],
      [3, 3],
    ] as const) {
      const c = buildSummaryContent(aggregate({ participants: n, valueReclaimed: { value: "7.5", members: n } }), []);
      expect(c.participants).toBe(expected);
      expect(c.valueReclaimed).toBe(n === 1 || n === 2 ? SUPPRESSED : "7.5");
    }
  });

  it("totals come in a stable order (resource, unit, kind, fund), whatever order SQL returned", () => {
    const a = buildSummaryContent(aggregate(), []);
    const b = buildSummaryContent(aggregate({ cells: [...aggregate().cells].reverse() }), []);
    expect(a.totals.map((t) => `${t.resource}/${t.kind}`)).toEqual(["bread/transfer_out", "childcare/draw", "squash/contribution", "squash/draw"]);
    expect(b).toEqual(a);
    expect(summaryDigest(b)).toBe(summaryDigest(a));
  });
});

describe("digest", () => {
  it("is SHA-256 of the canonical JSON: equal content, equal digest; any figure changed, another digest", () => {
    const a = buildSummaryContent(aggregate(), []);
    expect(summaryDigest(a)).toMatch(/^[0-9a-f]{64}$/);
    // Key order does not matter (JCS sorts keys).
    const shuffled = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a).reverse())));
    expect(summaryDigest(shuffled)).toBe(summaryDigest(a));
    expect(summaryDigest(buildSummaryContent(aggregate({ headHash: "cd".repeat(32) }), []))).not.toBe(summaryDigest(a));
    expect(summaryDigest(buildSummaryContent(aggregate({ cells: [cell({ quantity: "12.500001" })] }), []))).not.toBe(
      summaryDigest(buildSummaryContent(aggregate({ cells: [cell({ quantity: "12.5" })] }), [])),
    );
    // Trailing zeros are normalised first: 12.500000 and 12.5 are the same figure.
    expect(summaryDigest(buildSummaryContent(aggregate({ cells: [cell({ quantity: "12.500000" })] }), []))).toBe(
      summaryDigest(buildSummaryContent(aggregate({ cells: [cell({ quantity: "12.5" })] }), [])),
    );
  });
});

describe("trend", () => {
  it("compares decimals exactly and is null when a side is missing or withheld", () => {
    expect(trendOf("0.3", "0.29999")).toBe("up");
    expect(trendOf("10", "10.0")).toBe("flat");
    expect(trendOf("2", "10")).toBe("down");
    expect(trendOf(SUPPRESSED, "1")).toBeNull();
    expect(trendOf("1", null)).toBeNull();
  });
});

const MASTODON_TAGS = new Set(["p", "br", "span", "a", "ul", "ol", "li", "strong", "em", "b", "i", "u", "del", "s", "pre", "code", "blockquote"]);

describe("the Note's HTML", () => {
  const content = buildSummaryContent(aggregate(), [
    { key: "meals", name: "Meals cooked <together>", value: "40", previous: "35", trend: "up" },
    { key: "disputes", name: "Disputes resolved", value: SUPPRESSED, previous: null, trend: null, note: "mediation & tea" },
  ]);
  const html = summaryToNoteHtml(content, {
    podName: "Oak & Elm",
    label: "week of 2026-11-23",
    periodKind: "week",
    periodStart: new Date("2026-11-23T00:00:00Z"),
    periodEnd: new Date("2026-11-30T00:00:00Z"),
    version: 2,
    pageUrl: "https://oak.example/pods/oak/books/summaries/week-2026-11-23",
    exportUrl: "https://oak.example/pods/oak/books/export.json",
    tagUrl: (t) => `https://oak.example/tags/${t.toLowerCase()}`,
  });

  it("uses only tags Mastodon keeps (lists, never tables), escapes every text, links only http(s)", () => {
    const names = [...html.matchAll(/<\/?([a-z0-9]+)/gi)].map((m) => m[1]!.toLowerCase());
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !MASTODON_TAGS.has(n))).toEqual([]);
    expect(names).toContain("ul");
    expect(names).toContain("li");
    expect(html).not.toMatch(/<table|<tr|<td|<th/i);
    expect(html).toContain("Childcare &lt;circle&gt;");
    expect(html).toContain("Oak &amp; Elm");
    expect(html).not.toContain("<circle>");
    expect(html.replace(/<\/?[a-z]+(\s+[a-z-]+="[^"]*")*\s*>/gi, "")).not.toMatch(/[<>]/);
  });

  it("shows the figures, withholds the suppressed ones, and names the head and the hashtags", () => {
    expect(html).toContain("12.5 kg");
    expect(html).toContain("20 items");
    expect(html).toContain("145 EUR");
    expect(html).toContain("fewer than 3 members, figures withheld");
    expect(html).toContain("previous period 35, up");
    expect(html).toContain(`entry 19, hash ${HASH}`);
    expect(html).toContain("(of which recorded late: 1)");
    expect(html).toContain("Version 2");
    expect(html).toContain('href="https://oak.example/tags/openbooks" class="mention hashtag" rel="tag">#<span>OpenBooks</span></a>');
    expect(html).toContain('#<span>MutualAid</span>');
    // The suppressed cell shows neither its quantity nor its value.
    expect(html).not.toMatch(/4 h\b|80 EUR/);
  });
});

describe("a received summary", () => {
  const content = buildSummaryContent(aggregate(), [{ key: "meals", name: "Meals", value: "40", previous: null, trend: null }]);

  it("round-trips through JSON with the same digest", () => {
    const copy = parseSummaryContent(JSON.parse(JSON.stringify(content)));
    expect(summaryDigest(copy)).toBe(summaryDigest(content));
  });

  it("is refused when a figure is not a decimal, a withheld cell shows numbers, or a field is extra", () => {
    const bad = [
      { ...content, valueReclaimed: "1e5" },
      { ...content, totals: [{ ...content.totals[0]!, suppressed: true }] },
      { ...content, member: "m-7f3a" },
      { ...content, headHash: "xyz" },
      { ...content, participants: 2.5 },
    ];
    for (const b of bad) {
      const error = (() => {
        try {
          parseSummaryContent(b);
          return null;
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe("VALIDATION_FAILED");
    }
  });
});
