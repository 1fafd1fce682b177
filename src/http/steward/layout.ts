/**
 * The steward app's page frame: the public pages' style plus forms that work on a 360 px
 * phone (full-width inputs, large touch targets, visible focus), the steward navigation and
 * who is signed in. Pages are never indexed and never cached.
 */
import { html, type SafeHtml } from "../../lib/html.ts";
import { page } from "../pages/layout.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { StewardContext } from "./forms.ts";

export const STEWARD_STYLE = `
.stewardbar{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:baseline;justify-content:space-between;font-size:.95rem;border-bottom:1px solid var(--line);padding-bottom:.4rem}
nav.steward ul{list-style:none;padding:0;margin:.5rem 0 1rem;display:flex;flex-wrap:wrap;gap:.3rem}nav.steward li{margin:0}
nav.steward a{display:inline-block;padding:.3rem .55rem;min-height:2.25rem;font-size:.92rem;border:1px solid var(--line);border-radius:.4rem;text-decoration:none;background:var(--card)}
nav.steward a[aria-current=page]{background:var(--accent);color:var(--bg);border-color:var(--accent)}
.field{margin:0 0 1rem}.field label{display:block;font-weight:600;margin-bottom:.2rem}.field.check label{display:inline;font-weight:400}
.hint{display:block;color:var(--muted);font-size:.9rem;margin-bottom:.25rem}.req{font-weight:400;color:var(--muted);font-size:.85rem}
input:not([type=checkbox]):not([type=radio]),select,textarea{width:100%;font:inherit;padding:.5rem .6rem;border:1px solid var(--muted);border-radius:.4rem;background:var(--card);color:var(--fg);min-height:2.75rem}
input[type=checkbox]{width:1.3rem;height:1.3rem;vertical-align:middle}
textarea{min-height:6rem}
button,.button{font:inherit;font-weight:600;padding:.55rem 1rem;min-height:2.75rem;border-radius:.4rem;border:1px solid var(--accent);background:var(--accent);color:var(--bg);cursor:pointer;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:var(--card);color:var(--accent)}button.danger{background:#9b1c1c;border-color:#9b1c1c;color:#fff}
:focus-visible{outline:3px solid #b7791f;outline-offset:2px}
.error{display:block;color:#9b1c1c;font-weight:600;margin-top:.25rem}.has-error input,.has-error textarea,.has-error select{border-color:#9b1c1c;border-width:2px}
@media (prefers-color-scheme:dark){.error{color:#ffb4ab}.has-error input,.has-error textarea,.has-error select{border-color:#ffb4ab}button.danger{background:#ffb4ab;border-color:#ffb4ab;color:#2b0000}}
.error-summary{border:2px solid #9b1c1c;border-radius:.5rem;padding:.6rem .9rem;margin:1rem 0;background:var(--card)}.error-summary h2{margin:.2rem 0;color:inherit}
.done{border-left:.3rem solid var(--accent);background:var(--card);padding:.6rem .8rem;border-radius:.35rem;margin:1rem 0}
.small{font-size:.85rem}.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}.actions form{margin:0}
table{border-collapse:collapse;width:100%;font-size:.95rem}th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid var(--line);vertical-align:top}
th,td,td code{overflow-wrap:break-word;word-break:normal}
.table-wrap{overflow-x:auto}fieldset{border:1px solid var(--line);border-radius:.5rem;margin:0 0 1rem;padding:.6rem .8rem}legend{font-weight:600;padding:0 .3rem}
.upload-status{margin:.6rem 0}.upload-status progress{width:100%;height:1.2rem}
#live-preview .live{border:1px dashed var(--line);border-radius:.5rem;padding:.4rem .6rem;min-height:3rem}
.link-box{display:block;padding:.6rem;border:1px dashed var(--accent);border-radius:.4rem;background:var(--card);word-break:break-all;font-family:ui-monospace,monospace;font-size:.9rem}
`;

export type StewardSection = "home" | "charter" | "follows" | "books" | "offers" | "claims" | "congress" | "stewards" | "tokens" | "profile";

const SECTIONS: Array<[StewardSection, string, string]> = [
  ["home", "Overview", ""],
  ["charter", "Charter", "/charter"],
  ["follows", "Follows", "/follows"],
  ["books", "Books", "/books"],
  ["offers", "Offers & needs", "/offers"],
  ["claims", "Claims", "/claims"],
  ["congress", "Congress", "/congress"],
  ["stewards", "Stewards", "/stewards"],
  ["tokens", "Tokens", "/tokens"],
  ["profile", "Profile", "/profile"],
];

/** A whole steward page: the bar (pod, who is signed in, sign out), the navigation, the body. */
export function stewardPage(ctx: StewardContext, options: { title: string; section: StewardSection; style?: string }, body: SafeHtml): string {
  const { pod, principal, base } = ctx;
  const nav = html`<nav class="steward" aria-label="Steward pages"><ul>${SECTIONS.map(
    ([key, label, path]) => html`<li><a href="${base}${path || "/"}"${key === options.section ? html` aria-current="page"` : ""}>${label}</a></li>`,
  )}</ul></nav>`;
  const bar = html`<div class="stewardbar"><span><a href="/pods/${pod.slug}">${pod.name}</a> · steward pages</span>
<form method="post" action="${base}/sign-out" class="actions"><input type="hidden" name="_csrf" value="${principal.csrfToken}"><span class="muted small">Signed in as Steward ${principal.stewardNumber}</span> <button type="submit" class="secondary">Sign out</button></form></div>`;
  return page(
    {
      title: `${options.title} — ${pod.name} stewards`,
      description: `Steward pages of ${pod.name}`,
      url: new URL(base + "/", ctx.deps.config.publicUrl).href,
      type: "website",
      noindex: true,
      style: STEWARD_STYLE + (options.style ?? ""),
      scripts: [`${base}/enhance.js`],
    },
    html`${bar}${nav}${body}`,
  );
}

/** A page for someone not signed in (sign-in, refused links), in the same style. */
export function plainStewardPage(deps: ServiceDeps, options: { title: string; url: string }, body: SafeHtml): string {
  return page({ title: options.title, description: options.title, url: new URL(options.url, deps.config.publicUrl).href, type: "website", noindex: true, style: STEWARD_STYLE }, body);
}
