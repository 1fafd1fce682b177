/**
 * The preamble's small Markdown subset, rendered to safe HTML.
 *
 * Supported: paragraphs (separated by a blank line), line breaks (a single newline),
 * `**bold**`, `*em*` and `_em_`, bullet lists (`- ` or `* ` lines), numbered lists
 * (`1. ` or `1) ` lines), links `[text](https://…)` and bare http(s) URLs. Indented lines
 * right after a list item continue that item.
 *
 * Safety: the whole source is HTML-escaped FIRST; the grammar then only ever inserts the
 * fixed tags `<p> <br> <strong> <em> <ul> <ol> <li>` and `<a href rel>` whose href is an
 * already-escaped http(s) URL. Nothing from the source can become markup, and links with
 * any other scheme (javascript:, data:, vbscript:…) stay plain text.
 *
 * Every step is linear in the input: block regexes are anchored without nested
 * quantifiers, and the inline scanner visits each character a bounded number of times
 * (lookups use precomputed "next occurrence" tables; see renderInline).
 */
import { escapeHtml, isHttpUrl } from "./html.ts";

const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
const BULLET = /^ {0,3}[-*][ \t]+(\S.*)$/;
const NUMBERED = /^ {0,3}\d{1,9}[.)][ \t]+(\S.*)$/;

type Block = { kind: "p"; lines: string[] } | { kind: "ul" | "ol"; items: string[][] };

export function renderMarkdownSubset(source: string): string {
  const escaped = escapeHtml(source.replace(CONTROL_CHARS, "").replace(/\r\n?/g, "\n"));
  const blocks: Block[] = [];
  let open = false; // whether the next line may continue the last block
  for (const line of escaped.split("\n")) {
    const current = open ? blocks[blocks.length - 1] : undefined;
    open = line.trim() !== "";
    if (!open) continue;
    const bullet = BULLET.exec(line);
    const item = bullet ?? NUMBERED.exec(line);
    if (item) {
      const kind = bullet ? "ul" : "ol";
      if (current?.kind === kind) current.items.push([item[1]!.trim()]);
      else blocks.push({ kind, items: [[item[1]!.trim()]] });
    } else if (current !== undefined && current.kind !== "p" && /^\s/.test(line)) {
      current.items[current.items.length - 1]!.push(line.trim());
    } else if (current?.kind === "p") {
      current.lines.push(line.trim());
    } else {
      blocks.push({ kind: "p", lines: [line.trim()] });
    }
  }
  const lines = (ls: string[]) => ls.map((l) => renderInline(l, true)).join("<br>");
  return blocks
    .map((b) =>
      b.kind === "p" ? `<p>${lines(b.lines)}</p>` : `<${b.kind}>${b.items.map((it) => `<li>${lines(it)}</li>`).join("")}</${b.kind}>`,
    )
    .join("");
}

type Delimiter = "**" | "*" | "_";

const isSpace = (c: string | undefined) => c === undefined || c <= " " || /\s/.test(c);
const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);

/** Undoes escapeHtml (only the five entities it produces), to validate a URL. */
const unescapeHtml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) =>
    e === "amp" ? "&" : e === "lt" ? "<" : e === "gt" ? ">" : e === "quot" ? '"' : "'",
  );

/** For each index i, the first index >= i holding a character matching `test` (or s.length). */
function nextIndexTable(s: string, test: (c: string) => boolean): Int32Array {
  const table = new Int32Array(s.length + 2);
  table[s.length] = table[s.length + 1] = s.length;
  for (let i = s.length - 1; i >= 0; i--) table[i] = test(s[i]!) ? i : table[i + 1]!;
  return table;
}

/** How far a bare URL starting at `i` runs: to whitespace or an escaped <, >, " or '. */
function bareUrlEnd(s: string, i: number): number {
  let e = i;
  while (e < s.length && !isSpace(s[e])) {
    if (s[e] === "&" && !s.startsWith("&amp;", e)) break;
    e += s[e] === "&" ? 5 : 1;
  }
  return e;
}

/** Drops trailing punctuation (and an unbalanced closing parenthesis) from a bare URL. */
function trimUrlEnd(s: string, start: number, end: number): number {
  let opens = 0;
  let closes = 0;
  for (let k = start; k < end; k++) {
    if (s[k] === "(") opens++;
    else if (s[k] === ")") closes++;
  }
  while (end > start) {
    const c = s[end - 1]!;
    if (".,:;!?*_".includes(c)) end--;
    else if (c === ")" && closes > opens) {
      closes--;
      end--;
    } else break;
  }
  return end;
}

function startsWithScheme(s: string, i: number): number {
  const head = s.slice(i, i + 8).toLowerCase();
  return head.startsWith("https://") ? 8 : head.startsWith("http://") ? 7 : 0;
}

/**
 * Inline grammar over ESCAPED text. Emphasis uses a delimiter stack: a closer matches the
 * nearest open delimiter of the same kind and discards (as literal text) any opened
 * after it, so the tags always nest; unmatched delimiters stay literal.
 */
function renderInline(s: string, allowLinks: boolean): string {
  const n = s.length;
  const out: string[] = [];
  const stack: { kind: Delimiter; piece: number }[] = [];
  const openCount: Record<Delimiter, number> = { "**": 0, "*": 0, _: 0 };
  const nextOpenBracket = allowLinks ? nextIndexTable(s, (c) => c === "[") : null;
  const nextCloseBracket = allowLinks ? nextIndexTable(s, (c) => c === "]") : null;
  const nextOpenParen = allowLinks ? nextIndexTable(s, (c) => c === "(") : null;
  const nextCloseParen = allowLinks ? nextIndexTable(s, (c) => c === ")") : null;
  const nextSpace = allowLinks ? nextIndexTable(s, isSpace) : null;
  let noAutolinkBefore = 0;
  let textStart = 0;
  let i = 0;
  const flush = () => {
    if (i > textStart) out.push(s.slice(textStart, i));
  };

  /** `[text](http…)` at i: the rendered link and where it ends, or null. */
  const tryLink = (): { html: string; end: number } | null => {
    const j = nextCloseBracket![i + 1]!;
    if (j >= n || j === i + 1 || nextOpenBracket![i + 1]! < j || s[j + 1] !== "(") return null;
    const urlStart = j + 2;
    const k = nextCloseParen![urlStart]!;
    // The URL holds no whitespace, brackets or "(": candidate URLs never overlap, so the
    // total work stays linear however many "[" the text has.
    if (k >= n || k === urlStart) return null;
    if (nextSpace![urlStart]! < k || nextOpenBracket![urlStart]! < k || nextCloseBracket![urlStart]! < k) return null;
    if (nextOpenParen![urlStart]! < k || startsWithScheme(s, urlStart) === 0) return null;
    const url = s.slice(urlStart, k);
    if (!isHttpUrl(unescapeHtml(url))) return null;
    return { html: `<a href="${url}" rel="nofollow noopener">${renderInline(s.slice(i + 1, j), false)}</a>`, end: k + 1 };
  };

  /** A bare http(s) URL at i: the rendered link and where it ends, or null. */
  const tryAutolink = (): { html: string; end: number } | null => {
    if (i < noAutolinkBefore || isAlnum(s[i - 1])) return null;
    const scheme = startsWithScheme(s, i);
    if (scheme === 0) return null;
    const runEnd = bareUrlEnd(s, i);
    noAutolinkBefore = runEnd;
    const end = trimUrlEnd(s, i + scheme, runEnd);
    if (end <= i + scheme) return null;
    const url = s.slice(i, end);
    if (!isHttpUrl(unescapeHtml(url))) return null;
    return { html: `<a href="${url}" rel="nofollow noopener">${url}</a>`, end };
  };

  while (i < n) {
    const c = s[i]!;
    if (allowLinks && (c === "[" || c === "h" || c === "H")) {
      const link = c === "[" ? tryLink() : tryAutolink();
      if (link) {
        flush();
        out.push(link.html);
        i = textStart = link.end;
        continue;
      }
    } else if (c === "*" || c === "_") {
      // In a run of three (`***both***`) that may close an open `*`, close the `*` first
      // so that the `**` after it closes the strong: <strong><em>both</em></strong>.
      const closesEmFirst = s[i + 2] === "*" && stack[stack.length - 1]?.kind === "*" && !isSpace(s[i - 1]);
      const kind: Delimiter = c === "*" && s[i + 1] === "*" && !closesEmFirst ? "**" : (c as "*" | "_");
      const len = kind.length;
      const prev = s[i - 1];
      const next = s[i + len];
      let canOpen = !isSpace(next);
      let canClose = i > 0 && !isSpace(prev);
      if (kind === "_") {
        canOpen &&= !isAlnum(prev);
        canClose &&= !isAlnum(next);
      }
      flush();
      const top = stack[stack.length - 1];
      const empty = top !== undefined && top.kind === kind && top.piece === out.length - 1;
      if (canClose && openCount[kind] > 0 && !empty) {
        let opener = stack.pop()!;
        openCount[opener.kind]--;
        while (opener.kind !== kind) {
          opener = stack.pop()!;
          openCount[opener.kind]--;
        }
        const tag = kind === "**" ? "strong" : "em";
        out[opener.piece] = `<${tag}>`;
        out.push(`</${tag}>`);
      } else {
        out.push(kind);
        if (canOpen) {
          stack.push({ kind, piece: out.length - 1 });
          openCount[kind]++;
        }
      }
      i = textStart = i + len;
      continue;
    }
    i++;
  }
  flush();
  return out.join("");
}
