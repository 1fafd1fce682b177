import type { FastifyReply } from "fastify";
import { html, raw, type SafeHtml } from "../../lib/html.ts";

export interface PageMeta {
  title: string;
  description: string;
  url: string;
  /** ActivityPub representation of the same thing, for `<link rel="alternate">`. */
  activityPubUrl?: string;
  image?: string | null;
  /** OpenGraph type; a pod page is a "profile" (the default), a charter an "article". */
  type?: "profile" | "article" | "website";
  /** For articles: when first published and last modified. */
  publishedAt?: Date;
  modifiedAt?: Date;
  /** More CSS for this page, after the common style (e.g. charts, print rules). */
  style?: string;
  /** Ask search engines not to index the page (receipts). */
  noindex?: boolean;
  /** Scripts of this node to load, deferred (steward pages' progressive enhancement); public pages have none. */
  scripts?: string[];
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d2a1f;--muted:#5b6b5e;--bg:#fbfaf5;--card:#fff;--accent:#2f6b3a;--line:#dfe3d8}
@media (prefers-color-scheme:dark){:root{--fg:#e8efe6;--muted:#a7b5a8;--bg:#151a16;--card:#1e251f;--accent:#8fd19b;--line:#2e3a30}}
*{box-sizing:border-box}body{margin:0;font:17px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:42rem;margin:0 auto;padding:1.25rem}
h1{font-size:1.7rem;line-height:1.2;margin:.2rem 0 .4rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
a{color:var(--accent)}.muted{color:var(--muted)}.card{background:var(--card);border:1px solid var(--line);border-radius:.6rem;padding:1rem;margin:1rem 0}
code,.handle{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.95em;word-break:break-all}
.handle{display:inline-block;padding:.15rem .45rem;border:1px solid var(--line);border-radius:.35rem;background:var(--card)}
ol,ul{padding-left:1.3rem}footer{margin:2rem 0 1rem;font-size:.85rem}
main{overflow-wrap:anywhere}h3{font-size:1.02rem;margin:1.2rem 0 .4rem}li{margin:.3rem 0}
.notice{border-left:.3rem solid #b7791f;background:var(--card);padding:.6rem .8rem;border-radius:.35rem}
.tag{display:inline-block;font-size:.8rem;padding:0 .4rem;border:1px solid var(--line);border-radius:1rem;color:var(--muted)}
.timeline{list-style:none;padding-left:0}.timeline>li{border-left:2px solid var(--line);padding:0 0 .6rem .9rem;margin:0 0 .8rem}
.diff{font-size:.95rem}nav.pager{display:flex;flex-wrap:wrap;gap:.4rem 1rem}
`;

export function page(meta: PageMeta, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${meta.title}</title>
<meta name="description" content="${meta.description}">
<meta property="og:type" content="${meta.type ?? "profile"}">
<meta property="og:title" content="${meta.title}">
<meta property="og:description" content="${meta.description}">
<meta property="og:url" content="${meta.url}">
${meta.image ? html`<meta property="og:image" content="${meta.image}">` : ""}
${meta.publishedAt ? html`<meta property="article:published_time" content="${meta.publishedAt.toISOString()}">` : ""}
${meta.modifiedAt ? html`<meta property="article:modified_time" content="${meta.modifiedAt.toISOString()}">` : ""}
${meta.noindex ? html`<meta name="robots" content="noindex, nofollow">` : ""}
<link rel="canonical" href="${meta.url}">
${meta.activityPubUrl ? html`<link rel="alternate" type="application/activity+json" href="${meta.activityPubUrl}">` : ""}
<style>${raw(STYLE)}${meta.style ? raw(meta.style) : ""}</style>
${(meta.scripts ?? []).map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body><main>
${body}
<footer class="muted">Served by Hyphae, a federated node for neighbourhood mutual-aid pods.</footer>
</main></body>
</html>`.value;
}


export function sendHtml(reply: FastifyReply, body: string, status = 200) {
  return reply.code(status).header("content-type", "text/html; charset=utf-8").header("vary", "Accept").send(body);
}

/** The body of a 404 page. */
export function notFoundPage(origin: URL, heading: string, message: SafeHtml): string {
  return page({ title: "Not found", description: heading, url: origin.href }, html`<h1>${heading}</h1>${message}`);
}
