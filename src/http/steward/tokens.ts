/** Steward pages: Tokens (being built; see issue 13). */
import type { FastifyInstance } from "fastify";
import { html } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { stewardGet } from "./forms.ts";
import { stewardPage } from "./layout.ts";

export function registerTokenForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet(app, deps, "/tokens", async (ctx) =>
    stewardPage(ctx, { title: "Tokens", section: "tokens" }, html`<h1>Tokens</h1><p>This page is not built yet: use the <code>hyphae</code> command or the steward API.</p>`),
  );
}
