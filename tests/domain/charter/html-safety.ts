/**
 * Test helper: checks that HTML uses only allowed tags and attributes, that every href is
 * http(s), and that nothing else in it can be markup. Parses tags with a regex, which is
 * enough because the allowed output never contains "<" or ">" outside tags.
 */
import { expect } from "vitest";

/** Allowed tag → allowed attribute names. */
export type TagPolicy = Record<string, readonly string[]>;

export const MARKDOWN_POLICY: TagPolicy = {
  p: [],
  br: [],
  strong: [],
  em: [],
  ul: [],
  ol: [],
  li: [],
  a: ["href", "rel"],
};

const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>/g;
const ATTR = /\s+([a-zA-Z-]+)="([^"<>]*)"/gy;

export interface ParsedTag {
  closing: boolean;
  name: string;
  attrs: Record<string, string>;
}

const decode = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === "amp" ? "&" : e === "lt" ? "<" : e === "gt" ? ">" : e === "quot" ? '"' : "'",
  );

export function parseTags(html: string): ParsedTag[] {
  const tags: ParsedTag[] = [];
  for (const m of html.matchAll(TAG)) {
    const [, slash, name, rest] = m;
    const attrs: Record<string, string> = {};
    ATTR.lastIndex = 0;
    let consumed = 0;
    for (let a = ATTR.exec(rest!); a; a = ATTR.exec(rest!)) {
      attrs[a[1]!] = decode(a[2]!);
      consumed = ATTR.lastIndex;
    }
    // Anything in the tag that is not a well-formed name="value" pair is a failure.
    expect(rest!.slice(consumed), `stray text in tag ${m[0]}`).toBe("");
    tags.push({ closing: slash === "/", name: name!.toLowerCase(), attrs });
  }
  return tags;
}

/** Asserts `html` is safe under `policy` and returns its tags. */
export function expectSafeHtml(html: string, policy: TagPolicy): ParsedTag[] {
  expect(html).not.toMatch(/<script/i);
  const tags = parseTags(html);
  for (const t of tags) {
    expect(Object.keys(policy), `tag <${t.name}>`).toContain(t.name);
    if (t.closing) expect(t.attrs).toEqual({});
    for (const name of Object.keys(t.attrs)) {
      expect(policy[t.name], `attribute ${name} on <${t.name}>`).toContain(name);
      expect(name).not.toMatch(/^on/i);
    }
    if (t.name === "a" && !t.closing) expect(t.attrs.href ?? "").toMatch(/^https?:\/\//i);
  }
  // With the tags removed, no "<" or ">" may remain: everything else is escaped text.
  expect(html.replace(TAG, "")).not.toMatch(/[<>]/);
  // No event handler inside any tag, and no script-ish scheme in any href.
  for (const m of html.matchAll(TAG)) expect(m[0]).not.toMatch(/\son\w+\s*=/i);
  for (const t of tags) expect(t.attrs.href ?? "").not.toMatch(/^\s*(javascript|data|vbscript):/i);
  // Tags are balanced and properly nested (br is void).
  const open: string[] = [];
  for (const t of tags) {
    if (t.name === "br") continue;
    if (!t.closing) open.push(t.name);
    else expect(open.pop(), `</${t.name}> closes the last open tag`).toBe(t.name);
  }
  expect(open).toEqual([]);
  return tags;
}
