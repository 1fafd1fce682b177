/**
 * The books' catalogue and register on the steward pages: resources (add, edit) and members
 * (add, edit). The same services as `…/resources` and `…/members` of the steward API.
 *
 * Members' names and contacts are private: they are shown here, behind a steward's session,
 * and nowhere public (entries, receipts, summaries and exports name the pseudonym only).
 */
import type { FastifyInstance } from "fastify";
import { html } from "../../lib/html.ts";
import * as books from "../../services/books.ts";
import { findCharter } from "../../services/charters.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { booksPage, day, formatMoney, notFoundIfMissing, tidy, unitLabel, unitOptions } from "./books-common.ts";
import { emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";

// ---------------------------------------------------------------------------------------
// Resources

const RESOURCE_LABELS: Record<string, string> = {
  key: "Key",
  name: "Name",
  unit: "Unit",
  category: "Category",
  specificationUri: "Specification link",
  referencePrice: "Reference price",
  referencePriceSource: "Where the price was seen",
  referencePriceOn: "When it was seen",
};

const RESOURCE_NOTICES: Record<string, string> = {
  "resource-added": "The resource was added. Entries can count it now.",
  "resource-saved": "The resource was saved. Entries already recorded keep their own values.",
};

const MEMBER_NOTICES: Record<string, string> = {
  "member-added": "The member was registered under a new pseudonym.",
  "member-saved": "The member's name and contact were saved.",
};

const MEMBER_LABELS: Record<string, string> = { name: "Name", contact: "Contact" };

/** The optional resource fields: empty means "none" (null), as the API takes it. */
const OPTIONAL_RESOURCE_FIELDS = ["specificationUri", "referencePrice", "referencePriceSource", "referencePriceOn"] as const;

function resourceInput(values: Record<string, string>, withKey: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of [...(withKey ? ["key"] : []), "name", "unit", "category"]) out[name] = (values[name] ?? "").trim();
  for (const name of OPTIONAL_RESOURCE_FIELDS) out[name] = (values[name] ?? "").trim() || null;
  return out;
}

async function charterCategories(ctx: StewardContext): Promise<string[]> {
  const charter = await findCharter(ctx.deps, ctx.pod.slug);
  return charter ? [...new Set(charter.content.services.map((s) => s.category))].sort() : [];
}

function resourceFields(state: FormState, currency: string, categories: string[]) {
  return html`${field({ name: "name", label: "Name", required: true, maxlength: 200, hint: "What people call it, such as “Winter squash”." }, state)}
${field({ name: "unit", label: "Unit", type: "select", required: true, options: unitOptions(currency), hint: "How it is counted. It cannot change once an entry counts it." }, state)}
${field({ name: "category", label: "Category", required: true, maxlength: 60, hint: categories.length ? `One of the charter's service categories: ${categories.join(", ")}. Another is accepted.` : "The kind of service, such as food, care or energy." }, state)}
${field({ name: "referencePrice", label: "Reference price (optional)", inputmode: "decimal", autocomplete: "off", hint: `What the market charges for one unit, in ${currency}. Entries use it for their market value when none is given.` }, state)}
${field({ name: "referencePriceSource", label: "Where the price was seen (optional)", maxlength: 500, hint: "A shop, a price list, a council tariff." }, state)}
${field({ name: "referencePriceOn", label: "When it was seen (optional)", type: "date" }, state)}
${field({ name: "specificationUri", label: "Specification link (optional)", type: "url", hint: "An http(s) link to what exactly this is." }, state)}`;
}

async function resourcesPage(ctx: StewardContext, state: FormState, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  state = tidy(state);
  const [resources, settings, categories] = await Promise.all([books.listResources(deps, pod.slug), books.getBookSettings(deps, pod.slug), charterCategories(ctx)]);
  const known = new Set(categories);
  return booksPage(
    ctx,
    { title: "Resources", section: "resources" },
    html`<h1>Resources</h1>
${notice(query, RESOURCE_NOTICES)}${errorSummary(state, RESOURCE_LABELS)}
<p>What flows through ${pod.name}, how it is counted, and what the market would charge for it. Resources and their prices are public, on the books page and in the export.</p>
${
  resources.length
    ? html`<div class="table-wrap" tabindex="0"><table>
<thead><tr><th scope="col">Resource</th><th scope="col">Unit</th><th scope="col">Category</th><th scope="col" class="num">Reference price</th><th scope="col">Action</th></tr></thead>
<tbody>${resources.map(
        (r, i) => html`<tr><td id="res-${i}">${r.name}<br><code class="small">${r.key}</code></td><td>${unitLabel(r.unit)}</td><td>${r.category}${
          known.size && !known.has(r.category) ? html`<br><span class="muted small">not a charter category</span>` : ""
        }</td><td class="num">${r.referencePrice !== null ? formatMoney(r.referencePrice, r.currency) : html`<span class="muted">none</span>`}${
          r.referencePriceOn ? html`<br><span class="muted small">seen ${r.referencePriceOn}</span>` : ""
        }</td><td><a href="${base}/books/resources/${r.key}" aria-describedby="res-${i}">Edit</a></td></tr>`,
      )}</tbody></table></div>`
    : html`<p class="muted">No resources yet: add the first one below.</p>`
}
<h2 id="add">Add a resource</h2>
${formStart(ctx, `${base}/books/resources`, { label: "Add a resource" })}
${field({ name: "key", label: "Key", required: true, maxlength: 40, autocomplete: "off", hint: "A short public name used in CSV files and the export: lowercase letters, digits, - and _, such as squash or care-hours. It never changes." }, state)}
${resourceFields(state, settings.currency, categories)}
<button type="submit">Add the resource</button>
</form>`,
  );
}

async function resourceEditPage(ctx: StewardContext, key: string, state: FormState | null, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  const r = await books.getResource(deps, pod.slug, key);
  const categories = await charterCategories(ctx);
  const current: Record<string, string> = {
    name: r.name,
    unit: r.unit,
    category: r.category,
    referencePrice: r.referencePrice ?? "",
    referencePriceSource: r.referencePriceSource ?? "",
    referencePriceOn: r.referencePriceOn ?? "",
    specificationUri: r.specificationUri ?? "",
  };
  const shown = tidy(state ?? emptyState(current));
  return booksPage(
    ctx,
    { title: `Resource ${r.key}`, section: "resources" },
    html`<h1>Resource: ${r.name}</h1>
${notice(query, RESOURCE_NOTICES)}${errorSummary(shown, RESOURCE_LABELS)}
<p>Key <code>${r.key}</code> (it never changes). A new price applies to entries from now on: recorded entries keep their own market value.</p>
${formStart(ctx, `${base}/books/resources/${r.key}`, { label: `Edit ${r.key}` })}
${resourceFields(shown, r.currency, categories)}
<button type="submit">Save the resource</button>
</form>
<p><a href="${base}/books/resources">All resources</a></p>`,
  );
}

// ---------------------------------------------------------------------------------------
// Members

async function membersPage(ctx: StewardContext, state: FormState, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  state = tidy(state);
  const members = await books.listMembers(deps, pod.slug);
  return booksPage(
    ctx,
    { title: "Members", section: "members" },
    html`<h1>Members</h1>
${notice(query, MEMBER_NOTICES)}${errorSummary(state, MEMBER_LABELS)}
<p><strong>Names and contacts are private.</strong> Only stewards see them, here. Entries, receipts and the steward's exports name a member by a pseudonym the node makes up (such as <code>m-7f3a</code>); the public books, summaries and public export never name members at all.</p>
${
  members.length
    ? html`<div class="table-wrap" tabindex="0"><table>
<thead><tr><th scope="col">Pseudonym</th><th scope="col">Name</th><th scope="col">Contact</th><th scope="col">Joined</th><th scope="col">Action</th></tr></thead>
<tbody>${members.map(
        (m) => html`<tr><td><code>${m.pseudonym}</code></td><td id="mem-${m.pseudonym}">${m.name}</td><td>${m.contact ?? html`<span class="muted">none</span>`}</td><td>${day(m.joinedAt)}</td><td><a href="${base}/books/members/${m.pseudonym}" aria-describedby="mem-${m.pseudonym}">Edit</a></td></tr>`,
      )}</tbody></table></div>`
    : html`<p class="muted">No members registered yet.</p>`
}
<h2 id="add">Register a member</h2>
${formStart(ctx, `${base}/books/members`, { label: "Register a member" })}
${field({ name: "name", label: "Name", required: true, maxlength: 200, autocomplete: "off", hint: "Private: stewards only." }, state)}
${field({ name: "contact", label: "Contact (optional)", maxlength: 500, autocomplete: "off", hint: "A phone number, an address, how to reach them. Private: stewards only." }, state)}
<button type="submit">Register the member</button>
</form>`,
  );
}

async function memberEditPage(ctx: StewardContext, pseudonym: string, state: FormState | null, query?: { done?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  const member = notFoundIfMissing((await books.listMembers(deps, pod.slug)).find((m) => m.pseudonym === pseudonym), "UNKNOWN_MEMBER", `${pod.slug} has no member ${pseudonym}`);
  const shown = tidy(state ?? emptyState({ name: member.name, contact: member.contact ?? "" }));
  return booksPage(
    ctx,
    { title: `Member ${member.pseudonym}`, section: "members" },
    html`<h1>Member <code>${member.pseudonym}</code></h1>
${notice(query, MEMBER_NOTICES)}${errorSummary(shown, MEMBER_LABELS)}
<p>The pseudonym never changes: the entries and receipts name the member by it. The name and contact are private.</p>
${formStart(ctx, `${base}/books/members/${member.pseudonym}`, { label: `Edit ${member.pseudonym}` })}
${field({ name: "name", label: "Name", required: true, maxlength: 200, autocomplete: "off" }, shown)}
${field({ name: "contact", label: "Contact (optional)", maxlength: 500, autocomplete: "off", hint: "Leave empty for none." }, shown)}
<button type="submit">Save</button>
</form>
<p><a href="${base}/books/members">All members</a></p>`,
  );
}

// ---------------------------------------------------------------------------------------
// Routes

const keyOf = (ctx: StewardContext) => (ctx.request.params as { key: string }).key;
const pseudonymOf = (ctx: StewardContext) => (ctx.request.params as { pseudonym: string }).pseudonym;

export function registerCatalogueForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string }>(app, deps, "/books/resources", (ctx, query) => resourcesPage(ctx, emptyState(), query));
  stewardPost(app, deps, "/books/resources", {
    handle: async (ctx, input) => {
      const r = await books.addResource(deps, ctx.pod.slug, resourceInput(input.values, true));
      return `${ctx.base}/books/resources/${r.key}?done=resource-added`;
    },
    render: (ctx, state) => resourcesPage(ctx, state),
  });
  stewardGet<{ done?: string }>(app, deps, "/books/resources/:key", (ctx, query) => resourceEditPage(ctx, keyOf(ctx), null, query));
  stewardPost(app, deps, "/books/resources/:key", {
    handle: async (ctx, input) => {
      const r = await books.updateResource(deps, ctx.pod.slug, keyOf(ctx), resourceInput(input.values, false));
      return `${ctx.base}/books/resources/${r.key}?done=resource-saved`;
    },
    render: (ctx, state) => resourceEditPage(ctx, keyOf(ctx), state),
  });

  stewardGet<{ done?: string }>(app, deps, "/books/members", (ctx, query) => membersPage(ctx, emptyState(), query));
  stewardPost(app, deps, "/books/members", {
    handle: async (ctx, input) => {
      const m = await books.addMember(deps, ctx.pod.slug, { name: input.values.name ?? "", contact: input.values.contact ?? "" });
      return `${ctx.base}/books/members?done=member-added#mem-${m.pseudonym}`;
    },
    render: (ctx, state) => membersPage(ctx, state),
  });
  // A member's pseudonym is in these addresses: their requests are logged only at warn and above, as receipts are.
  void app.register(
    async (quiet) => {
      stewardGet<{ done?: string }>(quiet, deps, "/books/members/:pseudonym", (ctx, query) => memberEditPage(ctx, pseudonymOf(ctx), null, query));
      stewardPost(quiet, deps, "/books/members/:pseudonym", {
        handle: async (ctx, input) => {
          const m = await books.updateMember(deps, ctx.pod.slug, pseudonymOf(ctx), { name: input.values.name ?? "", contact: input.values.contact ?? "" });
          return `${ctx.base}/books/members/${m.pseudonym}?done=member-saved`;
        },
        render: (ctx, state) => memberEditPage(ctx, pseudonymOf(ctx), state),
      });
    },
    { logLevel: "warn" },
  );
}
