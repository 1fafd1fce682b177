/** The two primitives every piece of charter HTML is built from. */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for use in HTML element content and in double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** True when `url` (unescaped) is an absolute http: or https: URL. */
export function isHttpUrl(url: string): boolean {
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return false;
  const protocol = new URL(url).protocol;
  return protocol === "http:" || protocol === "https:";
}

/** `<a>` for an http(s) URL, or just the escaped label when the URL is anything else. */
export function linkOrText(url: string | null, label: string): string {
  if (url === null || !isHttpUrl(url)) return escapeHtml(label);
  return `<a href="${escapeHtml(url)}" rel="nofollow noopener">${escapeHtml(label)}</a>`;
}
