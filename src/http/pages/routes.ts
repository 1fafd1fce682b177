/**
 * Server-rendered HTML pages: the node's front page and each pod's page. The pod page
 * lives at the actor URL itself (a browser gets HTML, ActivityPub clients get JSON) and
 * at the short `/@slug` profile URL, and shows the pod's charter; the charter page and
 * its revision pages are in charter.ts.
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { html, raw, textToHtml } from "../../lib/html.ts";
import { CHARTER_HASHTAGS } from "../../domain/charter/render.ts";
import * as charters from "../../services/charters.ts";
import * as pods from "../../services/pods.ts";
import { podView } from "../../services/views.ts";
import type { Pod } from "../../domain/pods.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { podCharterSection, registerCharterPages } from "./charter.ts";
import { page, sendHtml } from "./layout.ts";
import { podBooksLink, registerBookPages } from "./books.ts";
import { podCongressSection, registerCongressPages } from "./congress.ts";
import { registerProposalPages } from "./proposals.ts";
import { registerTransferPages } from "./transfers.ts";
import { registerIconRoute } from "./icon.ts";
import { FOLLOW_BOX_STYLE, followBox } from "./follow-box.ts";

export async function registerPages(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const origin = deps.config.publicUrl;

  app.get("/", async (_request, reply) => {
    const everyPod = await pods.listPods(deps);
    const all = everyPod.filter((p) => !p.retiredAt);
    const retired = everyPod.filter((p) => p.retiredAt);
    const body = html`
<h1>Hyphae on ${origin.host}</h1>
<p class="muted">This node hosts ${all.length === 1 ? "one mutual-aid pod" : `${all.length} mutual-aid pods`}. Each pod publishes its charter, offers, needs and open books, and can be followed from Mastodon and other fediverse apps.</p>
<ul>${all.map((p) => html`<li><a href="/@${p.slug}">${p.name}</a> <span class="handle">@${p.slug}@${origin.host}</span></li>`)}</ul>
${retired.length ? html`<p class="muted">Retired: ${retired.map((p, i) => html`${i ? ", " : ""}<a href="/@${p.slug}">${p.name}</a>`)}</p>` : ""}`;
    return sendHtml(reply, page({ title: `Hyphae on ${origin.host}`, description: "Mutual-aid pods on this node", url: origin.href }, body));
  });

  const podPage = async (slug: string, reply: FastifyReply) => {
    const pod = await pods.findPod(deps, slug);
    if (!pod) {
      const body = html`<h1>No such pod</h1><p>There is no pod called <code>${slug}</code> on this node. <a href="/">See the pods here.</a></p>`;
      return sendHtml(reply, page({ title: "Not found", description: "No such pod", url: origin.href }, body), 404);
    }
    if (pod.retiredAt) return retiredPodPage(pod, reply);
    const [view, charter, books, congress] = await Promise.all([podView(deps, pod), podCharterSection(deps, pod), podBooksLink(deps, pod), podCongressSection(deps, pod)]);
    const follow = await followBox(deps, pod, view.handle);
    const body = html`
${pod.iconUrl ? html`<img src="${pod.iconUrl}" alt="" width="72" height="72" style="border-radius:.6rem">` : ""}
<h1>${pod.name}</h1>
<p><span class="handle">${view.handle}</span></p>
${pod.summary ? raw(textToHtml(pod.summary)) : html`<p class="muted">This pod has not written a summary yet.</p>`}
${follow}
<p class="muted">${view.followers} ${view.followers === 1 ? "follower" : "followers"} · follows ${view.following} ${view.following === 1 ? "pod" : "pods"}</p>
${raw(congress)}
${charter.html}
${books}
<p class="muted">Stewards of ${pod.name}: <a href="/pods/${pod.slug}/steward/">steward pages</a> (sign in with your one-time link).</p>
`;
    return sendHtml(
      reply,
      page(
        {
          title: `${pod.name} (${view.handle})`,
          description: charter.description ?? (pod.summary || `${pod.name}, a mutual-aid pod on ${origin.host}`),
          url: view.actorUrl,
          activityPubUrl: view.actorUrl,
          image: pod.iconUrl,
          style: FOLLOW_BOX_STYLE,
        },
        body,
      ),
    );
  };

  /** A retired pod: gone from the fediverse (410), its records still here for the books. */
  const retiredPodPage = async (pod: Pod, reply: FastifyReply) => {
    const view = await podView(deps, pod);
    const [charter, books] = await Promise.all([charters.findCharter(deps, pod.slug), podBooksLink(deps, pod)]);
    const day = pod.retiredAt!.toISOString().slice(0, 10);
    const body = html`
<h1>${pod.name}</h1>
<p><span class="handle">${view.handle}</span></p>
<div class="card">
<h2 style="margin-top:0">This pod has retired</h2>
<p>${pod.name} retired on <time datetime="${pod.retiredAt!.toISOString()}">${day}</time>. It no longer takes followers or publishes anything, and fediverse servers were told it is gone.</p>
${charter ? html`<p>Its records stay on this node: <a href="${deps.uris.charter(pod.slug).href}">its charter and the charter's revisions</a>.</p>` : ""}
</div>
${books}`;
    return sendHtml(reply, page({ title: `${pod.name} (retired)`, description: `${pod.name} retired on ${day}`, url: view.actorUrl }, body), 410);
  };

  await registerCharterPages(app, deps);
  await registerBookPages(app, deps);
  await registerProposalPages(app, deps);
  await registerCongressPages(app, deps);
  await registerTransferPages(app, deps);
  await registerIconRoute(app, deps);

  // Hashtag links in federated charters point here: the charters published on this node.
  app.get<{ Params: { tag: string } }>("/tags/:tag", async (request, reply) => {
    const tag = request.params.tag.toLowerCase();
    const withCharters = [];
    for (const pod of await pods.listPods(deps)) {
      const charter = await charters.findCharter(deps, pod.slug);
      if (charter) withCharters.push({ pod, charter });
    }
    const known = (CHARTER_HASHTAGS as readonly string[]).map((t) => t.toLowerCase()).includes(tag);
    const body = html`
<h1>#${request.params.tag} on ${origin.host}</h1>
${
  known && withCharters.length
    ? html`<p class="muted">The People's Service Charters of the pods on this node.</p>
<ul>${withCharters.map(({ pod, charter }) => html`<li><a href="${deps.uris.charter(pod.slug).href}">${charter.content.title}</a> — ${pod.name}</li>`)}</ul>`
    : html`<p>Nothing on this node is tagged #${request.params.tag}.</p>`
}`;
    return sendHtml(reply, page({ title: `#${request.params.tag} on ${origin.host}`, description: `Posts tagged #${request.params.tag}`, url: new URL(`/tags/${encodeURIComponent(tag)}`, origin).href }, body), known ? 200 : 404);
  });
  app.get<{ Params: { slug: string } }>("/pods/:slug", async (request, reply) => podPage(request.params.slug, reply));
  // Browsers ask for an icon on every site; the node has none of its own (pods have theirs): "no content", not an error.
  app.get("/favicon.ico", async (_request, reply) => reply.code(204).header("cache-control", "public, max-age=86400").send());
  app.get<{ Params: { handle: string } }>("/:handle", async (request, reply) => {
    const { handle } = request.params;
    if (!handle.startsWith("@")) return reply.callNotFound();
    return podPage(handle.slice(1), reply);
  });
}
