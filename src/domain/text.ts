/**
 * Text that cannot be stored as it was sent: a NUL character (PostgreSQL text refuses it) or
 * a lone UTF-16 surrogate (it has no UTF-8 form and would silently become U+FFFD). Input
 * carrying either is refused, never altered.
 */

export interface BadText {
  /** Where the bad string is: `name`, `sections[2].title`; "" for the value itself. */
  path: string;
  problem: string;
}

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function problemOf(text: string): string | null {
  if (text.includes("\u0000")) return "contains a NUL character (U+0000)";
  if (LONE_SURROGATE.test(text)) return "contains a lone surrogate (not valid Unicode text)";
  return null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function child(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/**
 * The first string (or object key) in `value` that is not clean text, depth first, or null.
 * Walks plain JSON-like values (strings, arrays, plain objects); anything else is ignored.
 */
export function findBadText(value: unknown): BadText | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
  while (stack.length > 0) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === "string") {
      const problem = problemOf(v);
      if (problem) return { path, problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: child(path, i) });
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>);
      for (const [key] of entries) {
        const keyProblem = problemOf(key);
        if (keyProblem) return { path: child(path, key), problem: `is a key that ${keyProblem}` };
      }
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: child(path, entries[i]![0]) });
    }
  }
  return null;
}

// An HTML tag or comment: `<b>`, `</p>`, `<script src=…>`, `<!-- … -->`, `<?xml`. A lone `<`
// (as in "< 5 kg") and a bracketed link (`<https://…>`) are not.
const MARKUP = /<\s*\/?\s*(?!https?:)[A-Za-z][^<>]*>|<!--|<\?[A-Za-z]/i;

/** True when plain text carries HTML markup (a tag, a comment or a processing instruction). */
export function hasMarkup(text: string): boolean {
  return MARKUP.test(text);
}
