/**
 * The pod's profile: name, summary, follower approval and who sees the follower lists (the
 * same change as `PATCH /api/hyphae/v1/pods/:slug`), and its icon, uploaded here and
 * served by this node, or removed.
 */
import type { FastifyInstance } from "fastify";
import { html } from "../../lib/html.ts";
import * as icons from "../../services/pod-icons.ts";
import * as pods from "../../services/pods.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { buttonForm, emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  "profile-saved": "The profile was saved. Other servers see the change the next time they fetch the pod.",
  "icon-saved": "The new icon was saved. Other servers see it the next time they fetch the pod.",
  "icon-removed": "The icon was removed.",
};

const LABELS: Record<string, string> = {
  name: "Name",
  summary: "Summary",
  manuallyApprovesFollowers: "Approve followers by hand",
  networkVisibility: "Who sees the follower lists",
  icon: "Icon",
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
${pod.iconUrl ? html`<div class="actions">${buttonForm(ctx, `${base}/profile/icon/remove`, "Remove the icon", { kind: "secondary" })}</div>` : ""}`,
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

  stewardPost(app, deps, "/profile/icon/remove", {
    handle: async (ctx) => {
      await icons.removePodIcon(deps, ctx.pod.slug);
      return `${ctx.base}/profile?done=icon-removed`;
    },
    render: (ctx, state) => render(ctx, state),
  });
}
