/**
 * "Follow this pod": the handle to copy and the Mastodon steps, near the top of the pod page
 * and the charter page (a phone shows it without scrolling far). It names only what the pod
 * really posts, so it never promises posts the pod does not make.
 */
import { html, type SafeHtml } from "../../lib/html.ts";
import type { Pod } from "../../domain/pods.ts";
import { publishedPostKinds, type PostKind } from "../../services/posts.ts";
import type { ServiceDeps } from "../../services/ports.ts";

export const FOLLOW_BOX_STYLE = `
.follow{background:var(--card);border:2px solid var(--accent);border-radius:.6rem;padding:.7rem .9rem;margin:1rem 0}
.follow h2{margin:0 0 .3rem;font-size:1.05rem}.follow label{display:block;font-weight:600;font-size:.9rem;margin:.2rem 0}
.follow input{width:100%;font:inherit;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;padding:.45rem .5rem;border:1px solid var(--muted);border-radius:.35rem;background:var(--bg);color:var(--fg)}
.follow details{margin-top:.4rem}.follow summary{cursor:pointer;color:var(--accent);font-weight:600;padding:.25rem 0}
`;

const KIND_WORDS: Record<PostKind, string> = { charter: "its charter", offer: "its offers", need: "its needs", summary: "summaries of its open books" };

function listWords(words: string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

export async function followBox(deps: ServiceDeps, pod: Pod, handle: string): Promise<SafeHtml> {
  const kinds = await publishedPostKinds(deps, pod);
  const words = (["charter", "offer", "need", "summary"] as const).filter((k) => kinds.has(k)).map((k) => KIND_WORDS[k]);
  const id = `handle-${pod.slug}`;
  return html`<section class="follow" aria-labelledby="follow-title">
<h2 id="follow-title">Follow this pod</h2>
<label for="${id}">Its handle (select and copy it)</label>
<input id="${id}" type="text" readonly value="${handle}">
<details>
<summary>How to follow from Mastodon</summary>
<ol>
<li>Copy the handle above.</li>
<li>Paste it into the search box of your Mastodon (or other fediverse) app.</li>
<li>Open the pod's profile and press <strong>Follow</strong>.${pod.manuallyApprovesFollowers ? " The pod's stewards approve new followers by hand." : ""}</li>
</ol>
<p class="muted">${words.length ? `You will then see ${listWords(words)} in your home timeline, as ordinary posts.` : "It has not posted anything yet; what it posts will then appear in your home timeline, as ordinary posts."}</p>
</details>
</section>`;
}
