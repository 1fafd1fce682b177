/**
 * Steward API routes of offers and needs (FEP-0837 proposals). Every route needs the
 * pod's steward token. Bodies reach the service as sent: it checks them and answers with
 * stable codes naming the field (the schemas here document them). Each write federates
 * at once (Create for a new one, Update for a change, a withdrawal or an expiry).
 */
import { z } from "zod";
import { FUNDS } from "../../domain/books/model.ts";
import { podSlugSchema } from "../../domain/pods.ts";
import * as proposals from "../../services/proposals.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

const dateTime = z.iso.datetime();
const decimal = z.string().describe("An exact decimal in normal form, e.g. 12.5");
const field = (type: string | string[], description: string, extra: Record<string, unknown> = {}) => ({ type, description, ...extra });
const documentedBody = (properties: Record<string, Record<string, unknown>>, required: string[] = []) =>
  z.record(z.string(), z.unknown()).meta({ properties, required, additionalProperties: false });

const DATE = "A date (2026-12-05, UTC) or a date and time with a zone";
const editable = {
  name: field("string", "What is offered or needed (1–200 characters, plain text)"),
  description: field(["string", "null"], "More about it (≤ 2000 characters, plain text)"),
  category: field("string", "The category (≤ 60 characters), e.g. food; default: the resource's; required without a resource"),
  specificationUri: field(["string", "null"], "What kind of thing it is, as a URI (e.g. a Wikidata item); default: the resource's"),
  quantity: field(["string", "number"], "FEP-0837 resourceQuantity: the whole amount, or one lot when unitBased is set (> 0, up to 6 places)"),
  total: field(["string", "number"], "FEP-0837 availableQuantity first offered (default: quantity); a whole number of lots when unitBased is set; never below what claims took"),
  minimum: field(["string", "number", "null"], "FEP-0837 minimumQuantity of one claim (at most the total)"),
  unitBased: field(["boolean", "null"], "null: any amount; true: whole multiples of quantity; false: exactly quantity"),
  reciprocal: field(["object", "null"], "What is wanted back: {name, unit, quantity (null: any amount), specificationUri}"),
  location: field(["string", "null"], "A coarse place: a street or neighbourhood (≤ 120 characters). Never an address: it is public"),
  availableFrom: field(["string", "null"], `${DATE}: when the window opens`),
  availableUntil: field(["string", "null"], `${DATE}: when it closes (a bare date includes that day)`),
  expiresAt: field("string", `${DATE} in the future; default: availableUntil, else 14 days. Then it is closed and federated as expired`),
  urgent: field("boolean", "Needs only: a shared crisis, posted with #MutualAidUrgent and shown first"),
  fund: field("string", "Offers only: the fund a transfer out is booked to (default survival)", { enum: [...FUNDS] }),
};
const newBody = documentedBody(
  {
    resource: field("string", "The key of the pod's resource (unit, category, specification and name default from it; offers are booked out of it)"),
    unit: field("string", "An OM2 unit (kilogram, litre, hour, one…) or a currency code; must be the resource's unit"),
    action: field("string", "ValueFlows action (default transfer; deliverService for hour units)", { enum: ["transfer", "deliverService"] }),
    ...editable,
  },
  ["name", "quantity"],
);
const patchBody = documentedBody(editable);

const reciprocalSchema = z.object({ name: z.string(), unit: z.string(), quantity: decimal.nullable(), specificationUri: z.string().nullable() });
const proposalSchema = z.object({
  id: z.string(),
  pod: z.string(),
  number: z.number().int(),
  purpose: z.enum(["offer", "request"]),
  kind: z.enum(["offer", "need"]),
  url: z.string().describe("The proposal's ActivityPub id and HTML page"),
  intent: z.string().describe("The primary Intent's id, which claims name"),
  name: z.string(),
  description: z.string(),
  resource: z.string().nullable(),
  action: z.enum(["transfer", "deliverService"]),
  unit: z.string(),
  category: z.string(),
  specificationUri: z.string().nullable(),
  quantity: decimal,
  total: decimal,
  remaining: decimal,
  minimum: decimal.nullable(),
  unitBased: z.boolean().nullable(),
  reciprocal: reciprocalSchema.nullable(),
  location: z.string().nullable(),
  availableFrom: dateTime.nullable(),
  availableUntil: dateTime.nullable(),
  expiresAt: dateTime,
  urgent: z.boolean(),
  fund: z.enum(FUNDS).nullable(),
  status: z.enum(["open", "withdrawn", "expired", "fulfilled"]),
  version: z.number().int(),
  createdAt: dateTime,
  updatedAt: dateTime,
  closedAt: dateTime.nullable(),
});

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export function proposalJson(p: proposals.ProposalView): z.input<typeof proposalSchema> {
  return {
    ...p,
    availableFrom: iso(p.availableFrom),
    availableUntil: iso(p.availableUntil),
    expiresAt: p.expiresAt.toISOString(),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    closedAt: iso(p.closedAt),
  };
}

export function addProposalRoutes(table: RouteTable, deps: ServiceDeps): void {
  for (const kind of ["offer", "need"] as const) {
    const plural = `${kind}s`;
    const slugParams = z.object({ slug: podSlugSchema });
    const numberParams = slugParams.extend({ number: z.string() });
    table.add({
      method: "POST",
      url: `/pods/:slug/${plural}`,
      summary: `Publish ${kind === "offer" ? "an offer" : "a need"} (FEP-0837 Proposal): federated to followers at once; send an Idempotency-Key to retry safely`,
      auth: true,
      params: slugParams,
      body: newBody,
      status: 201,
      response: proposalSchema,
      handler: async ({ params, body }) => proposalJson(await proposals.createProposal(deps, params.slug, kind, body)),
    });
    table.add({
      method: "GET",
      url: `/pods/:slug/${plural}`,
      summary: `The pod's ${plural}: open ones unless ?status= withdrawn, expired, fulfilled or all; urgent first, then newest`,
      auth: true,
      params: slugParams,
      query: z.object({ status: z.string().optional() }),
      response: z.object({ items: z.array(proposalSchema) }),
      handler: async ({ params, query }) => ({
        items: (await proposals.listProposals(deps, params.slug, kind, { ...(query.status !== undefined && { status: query.status }) })).map(proposalJson),
      }),
    });
    table.add({
      method: "GET",
      url: `/pods/:slug/${plural}/:number`,
      summary: `One ${kind} by its number`,
      auth: true,
      params: numberParams,
      response: proposalSchema,
      handler: async ({ params }) => proposalJson(await proposals.getProposal(deps, params.slug, kind, params.number)),
    });
    table.add({
      method: "PATCH",
      url: `/pods/:slug/${plural}/:number`,
      summary: `Change an open ${kind} (409 PROPOSAL_CLOSED otherwise): each change is a new version, federated as an Update`,
      auth: true,
      params: numberParams,
      body: patchBody,
      response: proposalSchema,
      handler: async ({ params, body }) => proposalJson(await proposals.updateProposal(deps, params.slug, kind, params.number, body)),
    });
    table.add({
      method: "POST",
      url: `/pods/:slug/${plural}/:number/withdraw`,
      summary: `Withdraw an open ${kind}: federated as an Update saying so (the same post, never left dangling)`,
      auth: true,
      params: numberParams,
      response: proposalSchema,
      handler: async ({ params }) => proposalJson(await proposals.withdrawProposal(deps, params.slug, kind, params.number)),
    });
  }
}
