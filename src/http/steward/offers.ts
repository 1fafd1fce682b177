/**
 * Steward pages: the pod's offers and needs.
 *
 *   GET  /offers                          open needs and offers (urgent first), then closed ones;
 *                                         ?list=needs|offers|closed&page=N: one group, all of it
 *   GET  /offers/add-offer, /add-need     the form for a new one
 *   POST /offers/add-offer, /add-need     publish it (services/proposals createProposal)
 *   GET  /offers/{offer|need}/{n}         one of them: its details, the edit form, withdraw
 *   POST /offers/{offer|need}/{n}         save changes (updateProposal, only the fields changed)
 *   POST /offers/{offer|need}/{n}/withdraw
 *   POST /offers/need/{n}/urgent          mark a need urgent, or no longer (urgent=true|false)
 *
 * The fields are the steward API's (POST/PATCH /pods/{slug}/offers|needs), under the same
 * names, so a refusal lands next to the field it names.
 */
import type { FastifyInstance } from "fastify";
import { formatQuantity } from "../../domain/books/summary.ts";
import { proposalDetailLines, proposalHeadline, proposalStatusLine, DEFAULT_PROPOSAL_LIFETIME_MS, PROPOSAL_LIMITS } from "../../domain/congress/proposals.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import { listResources, type ResourceView } from "../../services/books.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import * as proposals from "../../services/proposals.ts";
import { buttonForm, emptyState, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { CONGRESS_STYLE, dayOf, FUND_LABELS, fundOptions, lastDayText, plainState, today, unitOptions, when } from "./congress-forms.ts";
import { stewardPage } from "./layout.ts";

type Kind = "offer" | "need";
const KINDS: readonly Kind[] = ["offer", "need"];

const NOTICES: Record<string, string> = {
  "offer-added": "The offer is published: followers read it as a post, neighbours see it in their congress view.",
  "need-added": "The need is published: followers read it as a post, neighbours see it in their congress view.",
  "offer-saved": "The offer is saved. Followers and neighbours see any change at once.",
  "need-saved": "The need is saved. Followers and neighbours see any change at once.",
  "offer-withdrawn": "The offer is withdrawn. Its post now says so.",
  "need-withdrawn": "The need is withdrawn. Its post now says so.",
  "need-urgent": "The need is marked urgent: it goes to every follower at once and is shown first to neighbours.",
  "need-not-urgent": "The need is no longer marked urgent.",
};

const LABELS: Record<string, string> = {
  name: "What it is",
  description: "More about it",
  resource: "Resource in the books",
  unit: "Unit",
  category: "Category",
  specificationUri: "Shared definition (a web address)",
  quantity: "Quantity",
  total: "Whole amount (with lots)",
  minimum: "Smallest claim",
  unitBased: "How it can be claimed",
  "reciprocal.name": "Wanted in return",
  "reciprocal.quantity": "How much in return",
  "reciprocal.unit": "Unit of what is wanted in return",
  "reciprocal.specificationUri": "Shared definition of what is wanted in return",
  location: "Where",
  availableFrom: "First day",
  availableUntil: "Last day",
  expiresAt: "Open until",
  urgent: "Urgent",
  fund: "Fund",
  action: "What is given",
};

const UNIT_BASED = [
  { value: "", label: "Any amount, up to what is left" },
  { value: "true", label: "In whole lots: multiples of the quantity" },
  { value: "false", label: "Taken whole: exactly the quantity" },
];
const ACTIONS = [
  { value: "", label: "Chosen for me: a service for hours, else goods" },
  { value: "transfer", label: "Goods that change hands" },
  { value: "deliverService", label: "A service that is given" },
];

const noun = (kind: Kind) => (kind === "offer" ? "offer" : "need");
const checked = (v: string | undefined) => v === "on" || v === "true";
const norm = (v: string | undefined) => (v ?? "").replace(/\r\n?/g, "\n").trim();
const editPath = (ctx: StewardContext, kind: Kind, n: number | string) => `${ctx.base}/offers/${kind}/${n}`;

// ---------------------------------------------------------------------------------------
// Form values <-> what the service takes

function reciprocalOf(v: Record<string, string>): Record<string, unknown> | null {
  const name = v["reciprocal.name"] ?? "";
  const quantity = (v["reciprocal.quantity"] ?? "").trim();
  const unit = v["reciprocal.unit"] ?? "";
  const uri = (v["reciprocal.specificationUri"] ?? "").trim();
  if (name.trim() === "" && quantity === "" && unit === "" && uri === "") return null;
  return { name, unit, quantity: quantity === "" ? null : quantity, specificationUri: uri === "" ? null : uri };
}

/** A new offer or need as the API takes it: empty fields are left to the service's defaults. */
function newBody(kind: Kind, v: Record<string, string>): Record<string, unknown> {
  const body: Record<string, unknown> = { name: v.name ?? "", quantity: (v.quantity ?? "").trim() };
  if (norm(v.description)) body.description = v.description;
  for (const k of ["resource", "unit", "category", "specificationUri", "total", "minimum", "location", "availableFrom", "availableUntil", "expiresAt", "action"]) {
    const x = (v[k] ?? "").trim();
    if (x !== "") body[k] = x;
  }
  if (v.unitBased === "true" || v.unitBased === "false") body.unitBased = v.unitBased === "true";
  const reciprocal = reciprocalOf(v);
  if (reciprocal) body.reciprocal = reciprocal;
  if (kind === "need" && checked(v.urgent)) body.urgent = true;
  if (kind === "offer" && (v.fund ?? "") !== "") body.fund = v.fund;
  return body;
}

/** The edit form's values for a proposal as it stands (dates as the days the inputs show). */
function valuesOf(p: proposals.ProposalView): Record<string, string> {
  return {
    name: p.name,
    description: p.description,
    category: p.category,
    specificationUri: p.specificationUri ?? "",
    quantity: p.quantity,
    total: p.total,
    minimum: p.minimum ?? "",
    unitBased: p.unitBased === null ? "" : String(p.unitBased),
    "reciprocal.name": p.reciprocal?.name ?? "",
    "reciprocal.quantity": p.reciprocal?.quantity ?? "",
    "reciprocal.unit": p.reciprocal?.unit ?? "",
    "reciprocal.specificationUri": p.reciprocal?.specificationUri ?? "",
    location: p.location ?? "",
    availableFrom: dayOf(p.availableFrom),
    availableUntil: lastDayText(p.availableUntil),
    expiresAt: lastDayText(p.expiresAt),
    urgent: p.urgent ? "on" : "",
    fund: p.fund ?? "",
  };
}

const TEXT_FIELDS = ["name", "description", "category", "specificationUri", "quantity", "total", "minimum", "location", "availableFrom", "availableUntil", "expiresAt"];

/**
 * The change a submitted edit form asks for: only the fields that differ from what the form
 * showed (`was`), so an untouched date keeps its exact time and another steward's change to
 * another field is not undone. An emptied optional field clears it.
 */
function patchOf(kind: Kind, was: Record<string, string>, v: Record<string, string>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  // A field the submission lacks is left as it is (a browser sends them all; a script may not).
  const changed = (k: string) => k in v && norm(v[k]) !== norm(was[k]);
  for (const k of TEXT_FIELDS) if (changed(k)) patch[k] = v[k] ?? "";
  if (changed("unitBased")) patch.unitBased = v.unitBased === "true" ? true : v.unitBased === "false" ? false : null;
  if (["name", "quantity", "unit", "specificationUri"].some((k) => changed(`reciprocal.${k}`))) patch.reciprocal = reciprocalOf(v);
  if (kind === "need" && checked(v.urgent) !== checked(was.urgent)) patch.urgent = checked(v.urgent);
  if (kind === "offer" && changed("fund") && (v.fund ?? "") !== "") patch.fund = v.fund;
  return patch;
}

function wasOf(input: Record<string, string>): Record<string, string> | null {
  try {
    const parsed = JSON.parse(input.was ?? "") as unknown;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
    return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, x]) => [k, typeof x === "string" ? x : ""]));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// Rendering

function proposalItem(ctx: StewardContext, p: proposals.ProposalView): SafeHtml {
  const status = proposalStatusLine(p);
  const open = p.status === "open";
  return html`<li class="item${p.urgent && open ? " urgent-item" : ""}" id="${p.kind}-${p.number}">
<h3 id="h-${p.kind}-${p.number}"><a href="${editPath(ctx, p.kind, p.number)}"${p.urgent && open ? html` class="urgent"` : ""}>${proposalHeadline(p)}</a></h3>
${status ? html`<p><span class="status">${p.status}</span> ${status}</p>` : ""}
<ul>${proposalDetailLines(p).map((l) => html`<li>${l}</li>`)}${p.resource ? html`<li>From the books: ${p.resource}</li>` : ""}</ul>
<p class="muted small">${p.kind === "offer" ? "Offer" : "Need"} ${p.number} · ${p.category} · version ${p.version} · <a href="${p.url}">public page</a></p>
${
  open
    ? html`<div class="actions"><a class="button secondary" href="${editPath(ctx, p.kind, p.number)}" aria-describedby="h-${p.kind}-${p.number}">Edit or withdraw</a>${
        p.kind === "need"
          ? buttonForm(ctx, `${editPath(ctx, "need", p.number)}/urgent`, p.urgent ? "No longer urgent" : "Mark urgent", {
              hidden: { urgent: p.urgent ? "false" : "true" },
              kind: "secondary",
              describedBy: `h-need-${p.number}`,
            })
          : ""
      }</div>`
    : ""
}</li>`;
}

/** Shown per group on the page (it stays small on a phone); each group has its own pages. */
const FIRST_SHOWN = 15;
const CLOSED_FIRST = 10;
const PER_PAGE = 40;
const GROUPS = { needs: "Open needs", offers: "Open offers", closed: "Closed" } as const;
type Group = keyof typeof GROUPS;

async function listPage(ctx: StewardContext, query: { done?: string; list?: string; page?: string }): Promise<string> {
  const { deps, pod, base } = ctx;
  const [openOffers, openNeeds, allOffers, allNeeds] = await Promise.all([
    proposals.listProposals(deps, pod.slug, "offer"),
    proposals.listProposals(deps, pod.slug, "need"),
    proposals.listProposals(deps, pod.slug, "offer", { status: "all" }),
    proposals.listProposals(deps, pod.slug, "need", { status: "all" }),
  ]);
  const closed = [...allNeeds, ...allOffers].filter((p) => p.status !== "open").sort((a, b) => (b.closedAt?.getTime() ?? 0) - (a.closedAt?.getTime() ?? 0));
  const lists: Record<Group, proposals.ProposalView[]> = { needs: openNeeds, offers: openOffers, closed };
  const items = (list: proposals.ProposalView[]) => html`<ul class="items">${list.map((p) => proposalItem(ctx, p))}</ul>`;
  const groupLink = (group: Group, page = 1) => `${base}/offers?list=${group}${page > 1 ? `&page=${page}` : ""}`;

  const group = query.list && Object.hasOwn(GROUPS, query.list) ? (query.list as Group) : null;
  if (group) {
    const list = lists[group];
    const pages = Math.max(1, Math.ceil(list.length / PER_PAGE));
    const at = Math.min(Math.max(1, Number(query.page) || 1), pages);
    return stewardPage(
      ctx,
      { title: `${GROUPS[group]} — offers & needs`, section: "offers", style: CONGRESS_STYLE },
      html`<p><a href="${base}/offers">Back to offers &amp; needs</a></p>
<h1>${GROUPS[group]} (${list.length})</h1>
<h2>${pages > 1 ? `Page ${at} of ${pages}` : "All of them"}</h2>
${list.length ? items(list.slice((at - 1) * PER_PAGE, at * PER_PAGE)) : html`<p class="muted">None.</p>`}
${pages > 1 ? html`<nav aria-label="Pages"><p class="actions">${at > 1 ? html`<a href="${groupLink(group, at - 1)}">Previous page</a>` : ""} ${at < pages ? html`<a href="${groupLink(group, at + 1)}">Next page</a>` : ""}</p></nav>` : ""}`,
    );
  }

  const section = (g: Group, empty: string, limit: number) => {
    const list = lists[g];
    if (!list.length) return html`<p class="muted">${empty}</p>`;
    return html`${items(list.slice(0, limit))}${list.length > limit ? html`<p><a href="${groupLink(g)}">All ${list.length}: ${GROUPS[g].toLowerCase()}</a></p>` : ""}`;
  };
  return stewardPage(
    ctx,
    { title: "Offers & needs", section: "offers", style: CONGRESS_STYLE },
    html`<h1>Offers &amp; needs</h1>
${notice(query, NOTICES)}
<p>What ${pod.name} can give to other pods, and what it is short of. Followers read each one as a post; pods in the congress see it beside their own and can claim it.</p>
<div class="actions"><a class="button" href="${base}/offers/add-offer">Add an offer</a> <a class="button secondary" href="${base}/offers/add-need">Add a need</a></div>
<h2>Open needs</h2>
${section("needs", "No open needs.", FIRST_SHOWN)}
<h2>Open offers</h2>
${section("offers", "No open offers.", FIRST_SHOWN)}
<h2>Closed</h2>
<p class="muted small">Withdrawn, expired and fulfilled ones stay readable; the newest are shown.</p>
${section("closed", "None closed yet.", CLOSED_FIRST)}
<p class="muted small">Claims on these are answered on the <a href="${base}/claims">Claims</a> page; neighbours' offers and needs are on the <a href="${base}/congress">Congress</a> page.</p>`,
  );
}

/** The fields both forms share (new and edit). */
function commonFields(ctx: StewardContext, kind: Kind, state: FormState, resources: ResourceView[], isNew: boolean): SafeHtml {
  const currency = resources[0]?.currency ?? null;
  const now = ctx.deps.clock.now();
  const inFourteen = dayOf(new Date(now.getTime() + DEFAULT_PROPOSAL_LIFETIME_MS));
  // Past days are refused by the service; the browser is told only on a new form (an edit
  // form must still send an untouched day that has passed).
  const from = isNew ? today(ctx) : undefined;
  // A unit given through the API that the list lacks stays selectable (else saving would change it).
  const withValue = (options: Array<{ value: string; label: string }>, value: string | undefined) =>
    value && !options.some((o) => o.value === value) ? [...options, { value, label: value }] : options;
  const unitHint = isNew ? "Leave it on the resource's unit when you picked a resource." : "";
  return html`<fieldset><legend>What</legend>
${field({ name: "name", label: LABELS.name!, required: true, maxlength: PROPOSAL_LIMITS.name, hint: kind === "offer" ? "In plain words, e.g. Squash, Childcare, Ladders to lend." : "In plain words, e.g. Drinking water, Blankets, Someone to fix a roof." }, state)}
${field({ name: "description", label: LABELS.description!, type: "textarea", rows: 3, maxlength: PROPOSAL_LIMITS.description, hint: "Optional. Public: never a member's name or address." }, state)}
${
  isNew
    ? field(
        {
          name: "resource",
          label: LABELS.resource!,
          type: "select",
          options: [{ value: "", label: "None" }, ...resources.map((r) => ({ value: r.key, label: `${r.name} (${r.key}, ${r.unit})` }))],
          hint: kind === "offer" ? "Its unit, category and name are used when you leave them empty, and a transfer out is booked from it." : "Optional: what a transfer in is booked to.",
        },
        state,
      )
    : ""
}
${field({ name: "category", label: LABELS.category!, maxlength: PROPOSAL_LIMITS.category, hint: isNew ? "e.g. food, water, childcare, tools. Empty: the resource's. Matching between pods uses it." : "e.g. food, water, childcare, tools. Matching between pods uses it." }, state)}
${field({ name: "specificationUri", label: LABELS.specificationUri!, type: "url", hint: "Optional: a shared definition, such as a Wikidata page, for closer matches." }, state)}
</fieldset>
<fieldset><legend>How much</legend>
${isNew ? field({ name: "unit", label: LABELS.unit!, type: "select", options: unitOptions({ value: "", label: "The resource's unit" }, currency), hint: unitHint }, state) : ""}
${field({ name: "quantity", label: LABELS.quantity!, type: "number", step: "any", min: "0", inputmode: "decimal", required: true, hint: "How much in all; with lots, the size of one lot. A dot before decimals: 2.5." }, state)}
${field({ name: "unitBased", label: LABELS.unitBased!, type: "select", options: UNIT_BASED }, state)}
${field({ name: "total", label: LABELS.total!, type: "number", step: "any", min: "0", inputmode: "decimal", hint: "Only with lots: how much in all, a whole number of lots. Empty: one lot." }, state)}
${field({ name: "minimum", label: LABELS.minimum!, type: "number", step: "any", min: "0", inputmode: "decimal", hint: "Optional: the least one claim may take." }, state)}
</fieldset>
<fieldset><legend>When and where</legend>
${field({ name: "location", label: LABELS.location!, maxlength: PROPOSAL_LIMITS.location, hint: "Optional: a street, an allotment or a neighbourhood. Never an address: it is public." }, state)}
${field({ name: "availableFrom", label: LABELS.availableFrom!, type: "date", hint: "Optional: from when it can be fetched or given." }, state)}
${field({ name: "availableUntil", label: LABELS.availableUntil!, type: "date", ...(from && { min: from }), hint: "Optional: the last day it can be fetched or given (that whole day counts, UTC)." }, state)}
${field({ name: "expiresAt", label: LABELS.expiresAt!, type: "date", ...(from && { min: from }), hint: isNew ? `Optional: it closes by itself after this day. Empty: after the last day, else 14 days (${inFourteen}).` : "It closes by itself after this day." }, state)}
</fieldset>
<fieldset><legend>In return</legend>
<p class="hint">Optional: what ${kind === "offer" ? "the pod would like back" : "the pod can give back"}. Leave empty when nothing is asked.</p>
${field({ name: "reciprocal.name", label: LABELS["reciprocal.name"]!, maxlength: PROPOSAL_LIMITS.name }, state)}
${field({ name: "reciprocal.quantity", label: LABELS["reciprocal.quantity"]!, type: "number", step: "any", min: "0", inputmode: "decimal", hint: "Empty: any amount." }, state)}
${field({ name: "reciprocal.unit", label: LABELS["reciprocal.unit"]!, type: "select", options: withValue(unitOptions({ value: "", label: "Choose a unit" }, currency), state.values["reciprocal.unit"]) }, state)}
${field({ name: "reciprocal.specificationUri", label: LABELS["reciprocal.specificationUri"]!, type: "url", hint: "Optional: a web address, such as a Wikidata page." }, state)}
</fieldset>
${
  kind === "offer"
    ? field({ name: "fund", label: LABELS.fund!, type: "select", options: fundOptions(), hint: "The fund a transfer out of this offer is booked to.", value: "survival" }, state)
    : field({ name: "urgent", label: "Urgent: a shared crisis (a flood, an outage, an eviction)", type: "checkbox", hint: "Sent to every follower at once, shown first to neighbours, posted with #MutualAidUrgent." }, state)
}
${isNew ? field({ name: "action", label: LABELS.action!, type: "select", options: ACTIONS }, state) : ""}`;
}

async function newPage(ctx: StewardContext, kind: Kind, state: FormState): Promise<string> {
  const resources = await listResources(ctx.deps, ctx.pod.slug);
  const shown = plainState(state, LABELS);
  return stewardPage(
    ctx,
    { title: kind === "offer" ? "Add an offer" : "Add a need", section: "offers", style: CONGRESS_STYLE },
    html`<h1>${kind === "offer" ? "Add an offer" : "Add a need"}</h1>
<p><a href="${ctx.base}/offers">Back to offers &amp; needs</a></p>
${errorSummary(shown, LABELS)}
<p>${kind === "offer" ? "Surplus the pod can give to other pods." : "Something the pod is short of."} Only the name and the quantity are required; everything else has a default. Everything here is public.</p>
${formStart(ctx, `${ctx.base}/offers/add-${kind}`, { label: kind === "offer" ? "New offer" : "New need" })}
${commonFields(ctx, kind, shown, resources, true)}
<button type="submit">${kind === "offer" ? "Publish the offer" : "Publish the need"}</button>
</form>`,
  );
}

async function editPage(ctx: StewardContext, kind: Kind, number: string, state: FormState | null, query: { done?: string } = {}): Promise<string> {
  const [p, resources] = await Promise.all([proposals.getProposal(ctx.deps, ctx.pod.slug, kind, number), listResources(ctx.deps, ctx.pod.slug)]);
  const current = valuesOf(p);
  // A refused edit form shows what was sent; a refused button (withdraw, urgent) the proposal as it stands.
  const fromForm = state !== null && "name" in state.values;
  const shown = state ? plainState({ ...state, values: fromForm ? { urgent: "", ...state.values } : current }, LABELS) : emptyState(current);
  const was = (fromForm && state.values.was) || JSON.stringify(current);
  const title = `${kind === "offer" ? "Offer" : "Need"} ${p.number}: ${p.name}`;
  const status = proposalStatusLine(p);
  const open = p.status === "open";
  return stewardPage(
    ctx,
    { title, section: "offers", style: CONGRESS_STYLE },
    html`<h1>${p.urgent && open ? html`<span class="urgent">URGENT</span> ` : ""}${title}</h1>
<p><a href="${ctx.base}/offers">Back to offers &amp; needs</a> · <a href="${p.url}">its public page</a></p>
${notice(query, NOTICES)}${errorSummary(shown, LABELS)}
<div class="item${p.urgent && open ? " urgent-item" : ""}">
<p><strong>${proposalHeadline(p)}</strong></p>
${status ? html`<p><span class="status">${p.status}</span> ${status}${p.closedAt ? ` (${when(p.closedAt)})` : ""}</p>` : ""}
<ul>${proposalDetailLines(p).map((l) => html`<li>${l}</li>`)}
<li>Unit: ${p.unit} · given as ${p.action === "deliverService" ? "a service" : "goods"}${p.resource ? html` · from the books: ${p.resource}` : ""}${p.fund ? html` · ${FUND_LABELS[p.fund]}` : ""}</li>
<li>${formatQuantity(p.remaining, p.unit)} of ${formatQuantity(p.total, p.unit)} left · version ${p.version} · last changed ${when(p.updatedAt)}</li></ul>
</div>
${
  open
    ? html`<h2>Change it</h2>
<p class="muted small">Only what you change is saved. The unit, the resource and the kind of giving cannot change: withdraw this one and add another instead.</p>
${formStart(ctx, editPath(ctx, kind, p.number), { label: `Change ${noun(kind)} ${p.number}` })}
<input type="hidden" name="was" value="${was}">
${commonFields(ctx, kind, shown, resources, false)}
<button type="submit">Save the changes</button>
</form>
<h2>Withdraw it</h2>
<p>Withdrawing closes it for good: claims already accepted stand, and its post says it is withdrawn.</p>
${buttonForm(ctx, `${editPath(ctx, kind, p.number)}/withdraw`, kind === "offer" ? "Withdraw this offer" : "Withdraw this need", { kind: "danger" })}`
    : html`<p>This ${noun(kind)} is closed: it takes no more changes. Add a new one if needed.</p>`
}`,
  );
}

/** The service names `reciprocal.unit` and the like: each is an input of its own here. */
const fieldFor = (path: string) => (path === "reciprocal" ? "reciprocal.name" : path.startsWith("reciprocal.") ? path : undefined);

// ---------------------------------------------------------------------------------------

export function registerProposalForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string; list?: string; page?: string }>(app, deps, "/offers", (ctx, query) => listPage(ctx, query));

  for (const kind of KINDS) {
    stewardGet(app, deps, `/offers/add-${kind}`, (ctx) => newPage(ctx, kind, emptyState({ ...(kind === "offer" && { fund: "survival" }) })));
    stewardPost(app, deps, `/offers/add-${kind}`, {
      handle: async (ctx, input) => {
        const created = await proposals.createProposal(deps, ctx.pod.slug, kind, newBody(kind, input.values));
        return `${ctx.base}/offers?done=${kind}-added#${kind}-${created.number}`;
      },
      render: (ctx, state) => newPage(ctx, kind, state),
      fieldFor,
    });

    const numberOf = (ctx: StewardContext) => (ctx.request.params as { number: string }).number;
    stewardGet<{ done?: string }>(app, deps, `/offers/${kind}/:number`, (ctx, query) => editPage(ctx, kind, numberOf(ctx), null, query));
    stewardPost(app, deps, `/offers/${kind}/:number`, {
      handle: async (ctx, input) => {
        const number = numberOf(ctx);
        const was = wasOf(input.values) ?? valuesOf(await proposals.getProposal(deps, ctx.pod.slug, kind, number));
        // An unchanged form still goes through the service: a resent form then answers as the first did.
        const saved = await proposals.updateProposal(deps, ctx.pod.slug, kind, number, patchOf(kind, was, input.values));
        return `${editPath(ctx, kind, saved.number)}?done=${kind}-saved`;
      },
      render: (ctx, state) => editPage(ctx, kind, numberOf(ctx), state),
      fieldFor,
    });
    stewardPost(app, deps, `/offers/${kind}/:number/withdraw`, {
      handle: async (ctx) => {
        const withdrawn = await proposals.withdrawProposal(deps, ctx.pod.slug, kind, numberOf(ctx));
        return `${ctx.base}/offers?done=${kind}-withdrawn#${kind}-${withdrawn.number}`;
      },
      render: (ctx, state) => editPage(ctx, kind, numberOf(ctx), state),
    });
  }

  stewardPost(app, deps, "/offers/need/:number/urgent", {
    handle: async (ctx, input) => {
      const urgent = input.values.urgent === "true";
      const need = await proposals.updateProposal(deps, ctx.pod.slug, "need", (ctx.request.params as { number: string }).number, { urgent });
      return `${ctx.base}/offers?done=${urgent ? "need-urgent" : "need-not-urgent"}#need-${need.number}`;
    },
    render: (ctx, state) => editPage(ctx, "need", (ctx.request.params as { number: string }).number, state),
  });
}
