/** Steward pages: Books (being built; see issue 13). */
import type { FastifyInstance } from "fastify";
import { html } from "../../lib/html.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { stewardGet } from "./forms.ts";
import { stewardPage } from "./layout.ts";

export function registerBookForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet(app, deps, "/books", async (ctx) =>
    stewardPage(ctx, { title: "Books", section: "books" }, html`<h1>Books</h1><p>This page is not built yet: use the <code>hyphae</code> command or the steward API.</p>`),
  );
}
