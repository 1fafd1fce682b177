import { describe, expect, it } from "vitest";
import { renderMarkdownSubset as md } from "../../../src/domain/charter/markdown.ts";
import { MARKDOWN_POLICY, expectSafeHtml } from "./html-safety.ts";

/** Renders and checks the output against the allowlist before returning it. */
function render(source: string): string {
  const html = md(source);
  expectSafeHtml(html, MARKDOWN_POLICY);
  return html;
}

const link = (href: string, text = href) => `<a href="${href}" rel="nofollow noopener">${text}</a>`;

describe("renderMarkdownSubset: constructs", () => {
  it("renders nothing for empty or blank input", () => {
    expect(render("")).toBe("");
    expect(render(" \n\t\n ")).toBe("");
  });

  it("makes paragraphs at blank lines and <br> at single newlines (any newline style)", () => {
    expect(render("One\ntwo\n\n\nThree")).toBe("<p>One<br>two</p><p>Three</p>");
    expect(render("One\r\ntwo\r\rThree")).toBe("<p>One<br>two</p><p>Three</p>");
  });

  it("renders **bold**, *em* and _em_", () => {
    expect(render("a **bold** b *soft* c _also soft_")).toBe("<p>a <strong>bold</strong> b <em>soft</em> c <em>also soft</em></p>");
    expect(render("**bold with *em* inside**")).toBe("<p><strong>bold with <em>em</em> inside</strong></p>");
    expect(render("***both***")).toBe("<p><strong><em>both</em></strong></p>");
  });

  it("leaves markers that do not delimit anything as text", () => {
    expect(render("2 * 3 * 4 and a_b_c and snake_case_name")).toBe("<p>2 * 3 * 4 and a_b_c and snake_case_name</p>");
    expect(render("** not bold ** and ****")).toBe("<p>** not bold ** and ****</p>");
  });

  it("renders bullet lists with - or *, and numbered lists", () => {
    expect(render("- one\n- two\n* three")).toBe("<ul><li>one</li><li>two</li><li>three</li></ul>");
    expect(render("1. first\n2. second\n10) tenth")).toBe("<ol><li>first</li><li>second</li><li>tenth</li></ol>");
  });

  it("separates lists from paragraphs, and continues an item with indented lines", () => {
    expect(render("Intro:\n- a **b**\n  more about a\n- c\nAfter")).toBe(
      "<p>Intro:</p><ul><li>a <strong>b</strong><br>more about a</li><li>c</li></ul><p>After</p>",
    );
    expect(render("- a\n1. b")).toBe("<ul><li>a</li></ul><ol><li>b</li></ol>");
  });

  it("renders [text](https://…) links with formatting in the text", () => {
    expect(render("See [our **books**](https://oak.example/books?a=1&b=2).")).toBe(
      `<p>See ${link("https://oak.example/books?a=1&amp;b=2", "our <strong>books</strong>")}.</p>`,
    );
    expect(render("[plain](http://oak.example)")).toBe(`<p>${link("http://oak.example", "plain")}</p>`);
  });

  it("autolinks bare http(s) URLs, leaving trailing punctuation out", () => {
    expect(render("Books: https://oak.example/books. Also http://x.example/a_(b), ok?")).toBe(
      `<p>Books: ${link("https://oak.example/books")}. Also ${link("http://x.example/a_(b)")}, ok?</p>`,
    );
    expect(render("(see https://oak.example/x)")).toBe(`<p>(see ${link("https://oak.example/x")})</p>`);
    expect(render("*https://oak.example/em*")).toBe(`<p><em>${link("https://oak.example/em")}</em></p>`);
    expect(render("nohttps://oak.example")).toBe("<p>nohttps://oak.example</p>");
  });
});

describe("renderMarkdownSubset: neutralises hostile input", () => {
  it("escapes script tags and raw HTML as text", () => {
    expect(render("<script>alert(1)</script>")).toBe("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
    expect(render("<b>bold</b> <p>para</p> <!-- c --> <iframe src=x>")).toBe(
      "<p>&lt;b&gt;bold&lt;/b&gt; &lt;p&gt;para&lt;/p&gt; &lt;!-- c --&gt; &lt;iframe src=x&gt;</p>",
    );
  });

  it("keeps event-handler attributes as text, never inside a tag", () => {
    const html = render('<img src=x onerror=alert(1)> <a href="https://x.example" onclick="alert(1)">x</a>');
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(html).toContain("&lt;a href=&quot;");
  });

  it.each([
    ["javascript:alert(1)"],
    ["JavaScript:alert(document.cookie)"],
    ["  javascript:alert(1)"],
    ["data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="],
    ["vbscript:msgbox(1)"],
    ["java&#x73;cript:alert(1)"],
    ["//evil.example/x"],
    ["/relative"],
  ])("renders a link to %s as plain text", (target) => {
    const html = render(`[click](${target})`);
    expect(html).not.toContain("<a");
    expect(html).toContain("[click](");
  });

  it("never lets a bare javascript: or data: URL become a link", () => {
    const html = render("javascript:alert(1) data:text/html,x vbscript:x");
    expect(html).not.toContain("<a");
  });

  it("keeps quotes in URLs escaped inside href", () => {
    const html = render(`[q](https://a.example/"onmouseover="alert) https://b.example/x"onclick="alert(1)" [r](https://c.example/'x')`);
    const tags = expectSafeHtml(html, MARKDOWN_POLICY);
    const hrefs = tags.filter((t) => t.name === "a" && !t.closing).map((t) => t.attrs.href);
    // A bare URL ends at a quote; a bracketed one keeps it, escaped.
    expect(hrefs).toEqual(['https://a.example/"onmouseover="alert', "https://b.example/x", "https://c.example/'x'"]);
    expect(html).toContain('href="https://a.example/&quot;onmouseover=&quot;alert"');
    expect(html).toContain('href="https://c.example/&#39;x&#39;"');
    expect(html).not.toMatch(/href="[^"]*"[^>]*on\w+=/);
  });

  it("escapes HTML entities typed in the source so they show as typed", () => {
    expect(render("&lt;script&gt; &amp; &#60;b&#62; ' \"")).toBe(
      "<p>&amp;lt;script&amp;gt; &amp;amp; &amp;#60;b&amp;#62; &#39; &quot;</p>",
    );
  });

  it("never produces unbalanced or crossed tags from nested or unbalanced markers", () => {
    for (const src of [
      "**a *b** c*",
      "*a **b* c**",
      "_a *b_ c*",
      "**unclosed",
      "*a _b **c",
      "[**link](https://x.example) text**",
      "**[a](https://x.example)**",
      "- **item\n- still*",
      "__a__ _a_ ___a___",
      "*",
      "**",
      "[",
      "[]()",
      "[a](",
      "[a](https://x.example",
    ]) {
      render(src); // expectSafeHtml checks nesting and balance
    }
    expect(render("**a *b** c*")).toBe("<p><strong>a *b</strong> c*</p>");
  });

  it("strips control characters", () => {
    expect(render("a\u0000b\u0007c\u007f")).toBe("<p>abc</p>");
  });

  it.each([
    ["brackets", "[".repeat(5000)],
    ["open links", "[a](".repeat(1250)],
    ["nested links", "[a](https://x.example".repeat(250)],
    ["schemes", "http://".repeat(715)],
    ["stars", "*".repeat(5000)],
    ["star words", "*a".repeat(2500)],
    ["bold openers", "**a".repeat(1667)],
    ["underscores", "_a ".repeat(1667)],
    ["mixed", "*_[**](".repeat(715)],
    ["list lines", "- ".repeat(2500)],
  ])("grows linearly, not quadratically, on pathological %s", (_name, source) => {
    expect(source.length).toBeGreaterThanOrEqual(5000);
    render(source);
    // A ratio, not a time limit: eight times the input must cost under 32 times as much, half
    // of what quadratic work would cost (64); linear work measures 4 to 14. Each size's fastest of five
    // runs, so a busy machine's pauses drop out, and the margin is wide both ways.
    const fastest = (text: string) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        md(text);
        best = Math.min(best, performance.now() - started);
      }
      return best;
    };
    fastest(source.repeat(4)); // warm up
    const small = fastest(source.repeat(4));
    const large = fastest(source.repeat(32));
    expect(large / Math.max(small, 0.05)).toBeLessThan(32);
  });
});
