/**
 * Follows: follow another pod by its handle or address, the pods this pod follows (and
 * whether they answered), its followers, and follow requests waiting for a steward. The same
 * services as the steward API's following, followers and follow-requests routes.
 */
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import * as follows from "../../services/follows.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { buttonForm, emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  "follow-sent": "A follow request was sent. It shows as waiting until the other server answers, usually within seconds.",
  unfollowed: "The pod no longer follows that account; its server was told.",
  "request-accepted": "The follow request was accepted; the new follower was told.",
  "request-rejected": "The follow request was turned down; the requester was told.",
  "follower-removed": "The follower was removed; their server was told.",
};

/** Rows per list, so the page stays small on a phone however many followers there are. */
const FOLLOWING_PAGE = 30;
const FOLLOWERS_PAGE = 30;
const REQUESTS_PAGE = 20;

interface Query {
  done?: string;
  following?: string;
  followers?: string;
  requests?: string;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
const clip = (text: string, max = 120) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Where the next slice of followers starts: the last one shown, as `millis~actor`. */
const cursorOf = (entry: { createdAt: Date; actorIri: string }) => `${entry.createdAt.getTime()}~${entry.actorIri}`;
function parseCursor(value: string | undefined): { createdAt: Date; actorIri: string } | null {
  const m = /^(\d{1,15})~(https?:\/\/\S{1,2048})$/.exec(value ?? "");
  return m ? { createdAt: new Date(Number(m[1])), actorIri: m[2]! } : null;
}

const STATE_LABEL: Record<string, string> = { pending: "Waiting for an answer", accepted: "Following", rejected: "Turned down" };

/** An account as a steward reads it: its name and handle, linked to its page when it has a web address. */
function who(entry: { actorIri: string; handle: string | null; name: string | null }, id: string): SafeHtml {
  // Names come from other servers: a very long one is cut so the page stays small.
  const title = clip(entry.name || entry.handle || entry.actorIri);
  const link = /^https?:\/\//.test(entry.actorIri) ? html`<a href="${entry.actorIri}" rel="nofollow noopener">${title}</a>` : html`${title}`;
  return html`<span id="${id}">${link}</span>${entry.handle && entry.name ? html`<br><span class="handle small">${clip(entry.handle)}</span>` : ""}`;
}

interface Lists {
  following: follows.FollowingEntry[];
  followers: follows.FollowerEntry[];
  requests: follows.FollowerEntry[];
  next: { following: string | null; followers: string | null; requests: string | null };
  paged: boolean;
}

function followsPage(ctx: StewardContext, lists: Lists, state: FormState, query?: Query): string {
  const { base, pod } = ctx;
  const more = (param: keyof Lists["next"], text: string) =>
    lists.next[param] ? html`<p><a href="${base}/follows?${param}=${encodeURIComponent(lists.next[param]!)}#${param}">${text}</a></p>` : "";
  return stewardPage(
    ctx,
    { title: "Follows", section: "follows" },
    html`<h1>Follows</h1>
${notice(query, NOTICES)}${errorSummary(state, { target: "Handle or address" })}

<h2 id="follow">Follow a pod</h2>
${formStart(ctx, `${base}/follows/follow`, { label: "Follow a pod" })}
${field({ name: "target", label: "Handle or address", required: true, maxlength: 2048, autocomplete: "off", hint: "The pod's handle, such as @oak-street@node.example, or the address of its page (https://…)." }, state)}
<button type="submit">Follow</button>
</form>
${lists.paged ? html`<p><a href="${base}/follows">Back to the first page of each list</a></p>` : ""}

<h2 id="requests">Follow requests</h2>
${
  lists.requests.length
    ? html`<p>${pod.manuallyApprovesFollowers ? "New followers wait here until a steward answers." : "These came while followers were approved by hand."} Accepting lets them see the pod's posts in their timeline.</p>
<div class="table-wrap" tabindex="0"><table>
<thead><tr><th scope="col">From</th><th scope="col">Asked on</th><th scope="col">Answer</th></tr></thead>
<tbody>${lists.requests.map(
        (r, i) => html`<tr><td>${who(r, `rq-${i}`)}</td><td>${day(r.createdAt)}</td><td><div class="actions">${buttonForm(ctx, `${base}/follows/requests/accept`, "Accept", { hidden: { actor: r.actorIri }, describedBy: `rq-${i}` })}${buttonForm(ctx, `${base}/follows/requests/reject`, "Reject", { hidden: { actor: r.actorIri }, kind: "secondary", describedBy: `rq-${i}` })}</div></td></tr>`,
      )}</tbody></table></div>${more("requests", "More follow requests")}`
    : html`<p class="muted">No follow request is waiting.${pod.manuallyApprovesFollowers ? "" : " New followers are accepted at once (change this on the Profile page)."}</p>`
}

<h2 id="following">Pods ${pod.name} follows</h2>
${
  lists.following.length
    ? html`<div class="table-wrap" tabindex="0"><table>
<thead><tr><th scope="col">Pod or account</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Action</th></tr></thead>
<tbody>${lists.following.map(
        (f, i) => html`<tr><td>${who(f, `fg-${i}`)}</td><td>${STATE_LABEL[f.status] ?? f.status}</td><td>${day(f.createdAt)}</td><td>${buttonForm(ctx, `${base}/follows/unfollow`, f.status === "accepted" ? "Unfollow" : "Cancel", { hidden: { target: f.actorIri }, kind: "secondary", describedBy: `fg-${i}` })}</td></tr>`,
      )}</tbody></table></div>${more("following", "More followed pods")}`
    : html`<p class="muted">${pod.name} follows no one yet. Follow a neighbouring pod above to see its offers, needs and charter.</p>`
}

<h2 id="followers">Followers</h2>
${
  lists.followers.length
    ? html`<div class="table-wrap" tabindex="0"><table>
<thead><tr><th scope="col">Follower</th><th scope="col">Since</th><th scope="col">Action</th></tr></thead>
<tbody>${lists.followers.map(
        (f, i) => html`<tr><td>${who(f, `fl-${i}`)}</td><td>${day(f.createdAt)}</td><td>${buttonForm(ctx, `${base}/follows/followers/remove`, "Remove", { hidden: { actor: f.actorIri }, kind: "danger", describedBy: `fl-${i}` })}</td></tr>`,
      )}</tbody></table></div>${more("followers", "More followers")}`
    : html`<p class="muted">No one follows ${pod.name} yet.</p>`
}`,
  );
}

/** The message a failed follow shows next to the handle, in plain words. */
function followError(error: DomainError, target: string): DomainError {
  const words: Record<string, string> = {
    INVALID_TARGET: "Write a handle such as @oak-street@node.example, or the address of the pod's page (https://…).",
    NOT_AN_ACTOR: `Nothing that can be followed was found at ${target}. Check the spelling of the handle.`,
    REMOTE_LOOKUP_FAILED: `The server of ${target} could not be reached or did not answer. Check the handle, or try again later.`,
  };
  // A failed look-up is shown on the form like any refusal, not as an error page.
  const kind = error.kind === "unavailable" ? "unprocessable" : error.kind;
  return new DomainError(kind, error.code, words[error.code] ?? error.message, { ...error.details, field: "target" });
}

export function registerFollowForms(app: FastifyInstance, deps: ServiceDeps): void {
  const render = async (ctx: StewardContext, state: FormState, query: Query = {}) => {
    const slug = ctx.pod.slug;
    const offset = Math.max(0, Math.min(1_000_000, Number.parseInt(query.following ?? "0", 10) || 0));
    const [following, followers, requests] = await Promise.all([
      follows.listFollowing(deps, slug, { limit: FOLLOWING_PAGE + 1, offset }),
      follows.listFollowers(deps, slug, "accepted", { limit: FOLLOWERS_PAGE + 1, after: parseCursor(query.followers) }),
      follows.listFollowers(deps, slug, "pending", { limit: REQUESTS_PAGE + 1, after: parseCursor(query.requests) }),
    ]);
    const lists: Lists = {
      following: following.slice(0, FOLLOWING_PAGE),
      followers: followers.slice(0, FOLLOWERS_PAGE),
      requests: requests.slice(0, REQUESTS_PAGE),
      next: {
        following: following.length > FOLLOWING_PAGE ? String(offset + FOLLOWING_PAGE) : null,
        followers: followers.length > FOLLOWERS_PAGE ? cursorOf(followers[FOLLOWERS_PAGE - 1]!) : null,
        requests: requests.length > REQUESTS_PAGE ? cursorOf(requests[REQUESTS_PAGE - 1]!) : null,
      },
      paged: Boolean(query.following || query.followers || query.requests),
    };
    return followsPage(ctx, lists, state, query);
  };

  stewardGet<Query>(app, deps, "/follows", (ctx, query) => render(ctx, emptyState(), query));

  stewardPost(app, deps, "/follows/follow", {
    handle: async (ctx, input) => {
      const target = (input.values.target ?? "").trim();
      try {
        await follows.requestFollow(deps, ctx.pod.slug, target);
      } catch (error) {
        if (error instanceof DomainError && error.code !== "FEDERATION_UNAVAILABLE" && error.code !== "POD_NOT_FOUND") throw followError(error, target);
        throw error;
      }
      return `${ctx.base}/follows?done=follow-sent`;
    },
    render: (ctx, state) => render(ctx, state),
  });

  stewardPost(app, deps, "/follows/unfollow", {
    handle: async (ctx, input) => {
      await follows.unfollow(deps, ctx.pod.slug, input.values.target ?? "");
      return `${ctx.base}/follows?done=unfollowed`;
    },
    render: (ctx, state) => render(ctx, { ...state, values: {} }),
  });

  for (const [action, answer, done] of [
    ["accept", follows.approveFollowRequest, "request-accepted"],
    ["reject", follows.rejectFollowRequest, "request-rejected"],
  ] as const) {
    stewardPost(app, deps, `/follows/requests/${action}`, {
      handle: async (ctx, input) => {
        await answer(deps, ctx.pod.slug, input.values.actor ?? "");
        return `${ctx.base}/follows?done=${done}`;
      },
      render: (ctx, state) => render(ctx, { ...state, values: {} }),
    });
  }

  stewardPost(app, deps, "/follows/followers/remove", {
    handle: async (ctx, input) => {
      await follows.removeFollower(deps, ctx.pod.slug, input.values.actor ?? "");
      return `${ctx.base}/follows?done=follower-removed`;
    },
    render: (ctx, state) => render(ctx, { ...state, values: {} }),
  });
}
