/**
 * The pod's profile: name, summary, follower approval and who sees the follower lists (the
 * same change as `PATCH /api/hyphae/v1/pods/:slug`), and its icon, uploaded here and
 * served by this node, or removed. And, at the bottom, retiring the pod (as `hyphae pod retire`
 * and `POST /api/hyphae/v1/pods/:slug/retire`), confirmed by typing the pod's short name.
 */
import type { FastifyInstance } from "fastify";
import { invalid } from "../../domain/errors.ts";
import { html } from "../../lib/html.ts";
import * as icons from "../../services/pod-icons.ts";
import * as pods from "../../services/pods.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { buttonForm, emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  "profile-saved": "The profile was saved. The pod's followers on other servers are sent the change.",
  "icon-saved": "The new icon was saved. The pod's followers on other servers are sent the change.",
  "icon-removed": "The icon was removed.",
};

const LABELS: Record<string, string> = {
  name: "Name",
  summary: "Summary",
  manuallyApprovesFollowers: "Approve followers by hand",
  networkVisibility: "Who sees the follower lists",
  icon: "Icon",
  confirm: "Confirm the retirement",
};

const VISIBILITY = [
  { value: "hidden", label: "Only their size (other pods are listed)" },
  { value: "public", label: "Everyone sees every follower and followed account" },
];

function profilePage(ctx: StewardContext, state: FormState, query?: { done?: string }): string {
  const { pod, base } = ctx;
  const current = {
    name: pod.name,
    summary: pod.summary,
    manuallyApprovesFollowers: pod.manuallyApprovesFollowers ? "on" : "off",
    networkVisibility: pod.networkVisibility,
  };
  // A refused profile form shows what was sent; an unticked box is sent as nothing at all.
  const sentProfile = "name" in state.values;
  const profileState: FormState = sentProfile ? { ...state, values: { manuallyApprovesFollowers: "off", ...state.values } } : { ...state, values: current };
  return stewardPage(
    ctx,
    { title: "Profile", section: "profile" },
    html`<h1>Profile</h1>
${notice(query, NOTICES)}${errorSummary(state, LABELS)}
<p>How ${pod.name} appears on its page, in Mastodon and to other pods.</p>
${formStart(ctx, `${base}/profile`, { label: "Profile" })}
${field({ name: "name", label: "Name", required: true, maxlength: 200, autocomplete: "off" }, profileState)}
${field({ name: "summary", label: "Summary", type: "textarea", rows: 5, maxlength: 2000, hint: "Plain text, up to 2000 characters. Shown on the pod's page and in fediverse apps." }, profileState)}
${field({ name: "manuallyApprovesFollowers", label: "Approve new followers by hand", type: "checkbox", hint: "When ticked, follow requests wait on the Follows page until a steward accepts them." }, profileState)}
${field({ name: "networkVisibility", label: "Who sees the follower lists", type: "select", options: VISIBILITY, hint: "Who follows the pod, and whom it follows." }, profileState)}
<button type="submit">Save the profile</button>
</form>

<h2 id="icon">Icon</h2>
${pod.iconUrl ? html`<p><img src="${pod.iconUrl}" alt="The pod's current icon" width="96" height="96" style="border-radius:.6rem;object-fit:cover"></p>` : html`<p class="muted">The pod has no icon yet.</p>`}
${formStart(ctx, `${base}/profile/icon`, { multipart: true, label: "Upload an icon" })}
${field({ name: "icon", label: pod.iconUrl ? "A new icon" : "An icon", type: "file", required: true, accept: "image/png,image/jpeg,image/webp,image/gif", hint: `A square PNG, JPEG, WebP or GIF picture, up to ${icons.MAX_ICON_BYTES / 1024} kB. SVG is not accepted.` }, state)}
<button type="submit">Upload the icon</button>
</form>
${pod.iconUrl ? html`<div class="actions">${buttonForm(ctx, `${base}/profile/icon/remove`, "Remove the icon", { kind: "secondary" })}</div>` : ""}

<h2 id="retire">Retire the pod</h2>
<p>When the pod stops for good: it leaves the fediverse (its followers' servers are told it is gone), takes no more followers, claims or posts, and its steward pages close. Its charter's revisions and its open books stay readable on this node. <strong>This cannot be undone.</strong></p>
${formStart(ctx, `${base}/profile/retire`, { label: "Retire the pod" })}
${field({ name: "confirm", label: `Type the pod's short name, ${pod.slug}, to confirm`, autocomplete: "off", hint: "A pod that has published nothing can instead be deleted by the node's operator (hyphae pod delete)." }, state)}
<button type="submit" class="danger">Retire ${pod.name}</button>
</form>`,
  );
}

export function registerProfileForms(app: FastifyInstance, deps: ServiceDeps): void {
  // Each render reads the pod again, so a refused form shows the profile as it is now.
  const render = async (ctx: StewardContext, state: FormState, query?: { done?: string }) =>
    profilePage({ ...ctx, pod: await pods.getPod(deps, ctx.pod.slug) }, state, query);

  stewardGet<{ done?: string }>(app, deps, "/profile", (ctx, query) => render(ctx, emptyState(), query));

  stewardPost(app, deps, "/profile", {
    handle: async (ctx, input) => {
      const v = input.values;
      await pods.updatePod(deps, ctx.pod.slug, {
        name: v.name ?? "",
        summary: v.summary ?? "",
        manuallyApprovesFollowers: v.manuallyApprovesFollowers === "on",
        networkVisibility: v.networkVisibility ?? "hidden",
      });
      return `${ctx.base}/profile?done=profile-saved`;
    },
    render: (ctx, state) => render(ctx, state),
  });

  stewardPost(app, deps, "/profile/icon", {
    maxFileBytes: icons.MAX_ICON_BYTES,
    handle: async (ctx, input) => {
      // No file chosen is an empty one: the service says so next to the field.
      await icons.setPodIcon(deps, ctx.pod.slug, input.files.get("icon")?.bytes ?? new Uint8Array());
      return `${ctx.base}/profile?done=icon-saved`;
    },
    render: (ctx, state) => render(ctx, state),
  });

  stewardPost(app, deps, "/profile/retire", {
    handle: async (ctx, input) => {
      if ((input.values.confirm ?? "").trim().toLowerCase() !== ctx.pod.slug) {
        throw invalid("CONFIRMATION_MISMATCH", `Type the pod's short name, ${ctx.pod.slug}, to retire it. Nothing was changed.`, { field: "confirm" });
      }
      await pods.retirePod(deps, ctx.pod.slug);
      // The steward pages close with the pod: its public page says it has retired.
      return `/pods/${ctx.pod.slug}`;
    },
    render: (ctx, state) => render(ctx, state),
  });

  stewardPost(app, deps, "/profile/icon/remove", {
    handle: async (ctx) => {
      await icons.removePodIcon(deps, ctx.pod.slug);
      return `${ctx.base}/profile?done=icon-removed`;
    },
    render: (ctx, state) => render(ctx, state),
  });
}
