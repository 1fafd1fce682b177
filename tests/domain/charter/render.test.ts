import { describe, expect, it } from "vitest";
import type { CharterContent } from "../../../src/domain/charter/model.ts";
import { parseCharterInput } from "../../../src/domain/charter/model.ts";
import {
  CHARTER_HASHTAGS,
  NOTE_HTML_TAGS,
  charterSummaryText,
  charterToNoteHtml,
  type CharterRenderContext,
} from "../../../src/domain/charter/render.ts";
import { MARKDOWN_POLICY, expectSafeHtml, type TagPolicy } from "./html-safety.ts";
import { TODAY, exampleInput } from "./fixtures.ts";

/** What the Note may contain: the Markdown tags, plus Mastodon's hashtag markup. */
const NOTE_POLICY: TagPolicy = { ...MARKDOWN_POLICY, a: ["href", "rel", "class"], span: [] };

const ctx: CharterRenderContext = {
  revision: 3,
  pageUrl: "https://hyphae.example/pods/oak-street/charter",
  tagUrl: (tag) => `https://hyphae.example/tags/${tag}`,
  reviewedAt: "2026-11-23",
};

const example = () => parseCharterInput(exampleInput(), TODAY);

describe("charterToNoteHtml", () => {
  it("renders every part of the charter with allowed tags only", () => {
    const html = charterToNoteHtml(example(), ctx);
    const tags = expectSafeHtml(html, NOTE_POLICY);
    const used = new Set(tags.map((t) => t.name));
    for (const name of used) expect(NOTE_HTML_TAGS).toContain(name);
    expect([...used].sort()).toEqual(["a", "br", "em", "li", "p", "span", "strong", "ul"]);
    expect(html).not.toMatch(/<h\d|<table|<img|<div|style=/i);

    expect(html.startsWith("<p><strong>Oak Street People&#39;s Service Charter</strong></p>")).toBe(true);
    expect(html).toContain("<p>We are the neighbours of <strong>Oak Street</strong>");
    expect(html).toContain("<p><strong>What we do now</strong></p><ul><li><strong>Meal distribution</strong> (food): Hot meals");
    expect(html).toContain("— 120 meals a week — since 2025-03-01</li>");
    expect(html).toContain("<li><strong>Homework club</strong> (education): Volunteers help children with homework after school, with snacks. — since 2026-09-07</li>");
    expect(html).toContain("<p><strong>What we take on next</strong></p><ul><li><strong>Solar co-op</strong>, by 2027-04-01: Energy bills doubled");
    expect(html).toContain("<p>Assembly: Thursdays 19:00, every other week<br>Meeting place: Oak Street parish hall, Northfield</p>");
    expect(html).toContain('<p>Licence: <a href="https://creativecommons.org/licenses/by-sa/4.0/" rel="nofollow noopener">CC BY-SA 4.0</a></p>');
    expect(html).toContain("<p>Revision 3: Homework club added; solar co-op moved to April after the roof survey.<br>Reviewed 2026-11-23</p>");
    expect(html).toContain('<a href="https://hyphae.example/pods/oak-street/charter" rel="nofollow noopener">Read the full charter</a>');
  });

  it("ends with the hashtags in Mastodon's markup", () => {
    const html = charterToNoteHtml(example(), ctx);
    for (const tag of CHARTER_HASHTAGS) {
      expect(html).toContain(`<a href="https://hyphae.example/tags/${tag}" class="mention hashtag" rel="tag">#<span>${tag}</span></a>`);
    }
    expect(CHARTER_HASHTAGS).toEqual(["PeoplesCharter", "MutualAid"]);
    const classes = expectSafeHtml(html, NOTE_POLICY)
      .map((t) => t.attrs.class)
      .filter((c) => c !== undefined);
    expect(classes).toEqual(["mention hashtag", "mention hashtag"]);
  });

  it("links only http(s) URLs", () => {
    const html = charterToNoteHtml(example(), ctx);
    const hrefs = expectSafeHtml(html, NOTE_POLICY)
      .filter((t) => t.name === "a" && !t.closing)
      .map((t) => t.attrs.href!);
    expect(hrefs).toHaveLength(6); // a link and an autolink in the preamble, licence, page, two hashtags
    for (const href of hrefs) expect(href).toMatch(/^https?:\/\//);
  });

  it("omits what is not set: next services, meeting details, licence URL, change note", () => {
    const content: CharterContent & { changeNote: string } = {
      ...example(),
      preamble: "",
      nextServices: [],
      assemblyRhythm: null,
      meetingPlace: null,
      licence: { name: "Our own licence", url: null },
      changeNote: "",
    };
    const html = charterToNoteHtml(content, { ...ctx, revision: 1 });
    expectSafeHtml(html, NOTE_POLICY);
    expect(html).not.toContain("What we take on next");
    expect(html).not.toContain("Assembly");
    expect(html).not.toContain("Meeting place");
    expect(html).toContain("<p>Licence: Our own licence</p>");
    expect(html).toContain("<p>Revision 1<br>Reviewed 2026-11-23</p>");
  });

  it("renders a charter with <script> and other attacks in every text field as text", () => {
    const evil = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    const content: CharterContent & { changeNote: string } = {
      title: evil,
      preamble: `${evil}\n\n[x](javascript:alert(1)) [y](data:text/html,<b>x</b>) <a href="javascript:alert(1)">z</a>`,
      services: [{ name: evil, description: evil, category: "food", since: "2026-01-01", figure: evil }],
      nextServices: [{ name: evil, why: evil, targetDate: "2027-01-01" }],
      assemblyRhythm: evil,
      meetingPlace: evil,
      // Stored data is validated, but the renderer does not rely on it.
      licence: { name: evil, url: "javascript:alert(1)" },
      changeNote: evil,
    };
    const html = charterToNoteHtml(content, {
      ...ctx,
      pageUrl: 'javascript:alert("page")',
      tagUrl: (t) => `data:text/html,${t}`,
    });
    const tags = expectSafeHtml(html, NOTE_POLICY);
    expect(tags.filter((t) => t.name === "a")).toEqual([]);
    const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;";
    // title, preamble, name, description, figure, next name, why, rhythm, place, licence, note
    expect(html.split(escaped)).toHaveLength(12);
    expect(html).toContain("#<span>PeoplesCharter</span>");
  });

  it("keeps multi-line descriptions readable with <br>", () => {
    const content = example();
    content.services[0]!.description = "Line one\nLine two";
    expect(charterToNoteHtml(content, ctx)).toContain("(food): Line one<br>Line two");
  });
});

describe("charterSummaryText", () => {
  it("summarises services now and next in one line", () => {
    expect(charterSummaryText(example())).toBe(
      "Oak Street People's Service Charter: 4 services now (food, care, repair, education), 1 next (Solar co-op)",
    );
  });

  it("handles one service, none now, and repeated categories", () => {
    const base = example();
    expect(charterSummaryText({ ...base, services: base.services.slice(0, 1), nextServices: [] })).toBe(
      "Oak Street People's Service Charter: 1 service now (food)",
    );
    expect(charterSummaryText({ ...base, services: [] })).toBe("Oak Street People's Service Charter: no services yet, 1 next (Solar co-op)");
    const twoFood = [base.services[0]!, { ...base.services[0]!, name: "Fridge" }];
    expect(charterSummaryText({ ...base, services: twoFood, nextServices: [] })).toBe(
      "Oak Street People's Service Charter: 2 services now (food)",
    );
  });

  it("stays on one line of at most 300 characters", () => {
    const base = example();
    const long = {
      ...base,
      title: `Very\nlong ${"title ".repeat(60)}`,
      nextServices: Array.from({ length: 40 }, (_, i) => ({ name: `Next service number ${i}`, why: "", targetDate: "2027-01-01" })),
    };
    const text = charterSummaryText(long);
    expect(text.length).toBeLessThanOrEqual(300);
    expect(text).not.toMatch(/\n/);
    expect(text.endsWith("…")).toBe(true);
    expect(text.startsWith("Very long title title")).toBe(true);
  });
});

describe("the HTML safety check used by these tests", () => {
  it.each([
    ["<img src=x>"],
    ['<a href="javascript:alert(1)">x</a>'],
    ['<a href="https://x.example" onclick="alert(1)">x</a>'],
    ['<p style="color:red">x</p>'],
    ["<script>alert(1)</script>"],
    ["<p><strong>x</p></strong>"],
    ["<p>x"],
    ["<p>a > b</p>"],
  ])("rejects %s", (html) => {
    expect(() => expectSafeHtml(html, NOTE_POLICY)).toThrow();
  });
});
