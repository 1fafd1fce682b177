/** Steward pages: Profile (being built; see issue 13). */
import type { FastifyInstance } from "fastify";
import { html } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { stewardGet } from "./forms.ts";
import { stewardPage } from "./layout.ts";

export function registerProfileForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet(app, deps, "/profile", async (ctx) =>
    stewardPage(ctx, { title: "Profile", section: "profile" }, html`<h1>Profile</h1><p>This page is not built yet: use the <code>hyphae</code> command or the steward API.</p>`),
  );
}
