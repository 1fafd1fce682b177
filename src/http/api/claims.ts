/**
 * Steward API routes of claims between pods (FEP-0837) and of the pod's claim rules. Every
 * route needs the pod's steward token. Bodies reach the service as sent: it checks them and
 * answers with stable codes naming the field.
 */
import { z } from "zod";
import { podSlugSchema } from "../../domain/pods.ts";
import * as claims from "../../services/claims.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

const dateTime = z.iso.datetime();
const field = (type: string | string[], description: string, extra: Record<string, unknown> = {}) => ({ type, description, ...extra });
const documentedBody = (properties: Record<string, Record<string, unknown>>, required: string[] = []) =>
  z.record(z.string(), z.unknown()).meta({ properties, required, additionalProperties: false });

const slugParams = z.object({ slug: podSlugSchema });
const idParams = slugParams.extend({ id: z.string() });

const claimSchema = z.object({
  id: z.string(),
  pod: z.string(),
  direction: z.enum(["outgoing", "incoming"]).describe("outgoing: our claim on a neighbour's proposal; incoming: a pod's claim on ours"),
  status: z.enum(["pending", "accepted", "rejected"]),
  offer: z.string().describe("The claim's Offer activity id"),
  proposal: z.string().describe("The offer or need claimed (its id)"),
  proposalName: z.string().nullable(),
  intent: z.string().describe("The Intent the claim satisfies (proposal id + #primary)"),
  purpose: z.enum(["offer", "request"]).describe("offer: the proposer gives; request (a need): the claimant gives"),
  quantity: z.string(),
  unit: z.string(),
  counterpart: z.object({ actor: z.string(), handle: z.string().nullable(), name: z.string().nullable() }),
  resource: z.string().nullable().describe("Our resource the transfer is booked to or from, if one was named"),
  reason: z.string().nullable().describe("Why it was rejected"),
  decidedBy: z.enum(["steward", "rule"]).nullable(),
  agreement: z.string().nullable().describe("Once accepted: the Agreement's id (the proposer's); transfers name it"),
  commitment: z.string().nullable(),
  createdAt: dateTime,
  decidedAt: dateTime.nullable(),
});

const claimJson = (c: claims.ClaimView) => ({ ...c, createdAt: c.createdAt.toISOString(), decidedAt: c.decidedAt?.toISOString() ?? null });

const rulesSchema = z.object({
  autoAcceptUpTo: z.string().nullable().describe("Neighbours' claims up to this quantity are accepted automatically; null: never"),
  strangers: z.enum(["reject", "review"]).describe("Claims from pods that are not neighbours: rejected at once with strangerReason, or left to the stewards"),
  strangerReason: z.string(),
});

export function addClaimRoutes(table: RouteTable, deps: ServiceDeps): void {
  table.add({
    method: "POST",
    url: "/pods/:slug/claims",
    summary: "Claim all or part of a neighbour's offer or need (sent at once as Offer(Agreement)); send an Idempotency-Key to retry safely",
    auth: true,
    params: slugParams,
    body: documentedBody(
      {
        proposal: field("string", "The proposal's URL (its id), or the local id of our copy (as the congress view lists it)"),
        quantity: field(["string", "number"], "How much (> 0, in the proposal's unit, within what is left, at least its minimum)"),
        resource: field("string", "Optional: the key of our resource to book the transfer to (offers) or from (needs)"),
      },
      ["proposal", "quantity"],
    ),
    status: 201,
    response: claimSchema,
    handler: async ({ params, body }) => claimJson(await claims.makeClaim(deps, params.slug, body)),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/claims",
    summary: "The pod's claims, newest first: ?direction=incoming|outgoing, ?status=pending|accepted|rejected",
    auth: true,
    params: slugParams,
    query: z.object({ direction: z.enum(["incoming", "outgoing"]).optional(), status: z.enum(["pending", "accepted", "rejected"]).optional() }),
    response: z.object({ items: z.array(claimSchema) }),
    handler: async ({ params, query }) => ({
      items: (await claims.listClaims(deps, params.slug, { ...(query.direction && { direction: query.direction }), ...(query.status && { status: query.status }) })).map(claimJson),
    }),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/claims/:id",
    summary: "One claim",
    auth: true,
    params: idParams,
    response: claimSchema,
    handler: async ({ params }) => claimJson(await claims.getClaim(deps, params.slug, params.id)),
  });
  table.add({
    method: "POST",
    url: "/pods/:slug/claims/:id/accept",
    summary: "Accept a pending claim on one of the pod's proposals (takes its quantity; 409 CLAIM_EXCEEDS_AVAILABLE when not enough is left)",
    auth: true,
    params: idParams,
    response: claimSchema,
    handler: async ({ params }) => claimJson(await claims.acceptClaim(deps, params.slug, params.id)),
  });
  table.add({
    method: "POST",
    url: "/pods/:slug/claims/:id/reject",
    summary: "Reject a pending claim on one of the pod's proposals, with a reason the other pod reads",
    auth: true,
    params: idParams,
    body: documentedBody({ reason: field("string", "Plain text, at most 500 characters") }),
    response: claimSchema,
    handler: async ({ params, body }) => claimJson(await claims.rejectClaim(deps, params.slug, params.id, (body as { reason?: unknown } | undefined)?.reason)),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/claim-rules",
    summary: "The pod's rules for answering claims on its proposals",
    auth: true,
    params: slugParams,
    response: rulesSchema,
    handler: async ({ params }) => claims.getClaimRules(deps, params.slug),
  });
  table.add({
    method: "PATCH",
    url: "/pods/:slug/claim-rules",
    summary: "Change the claim rules: autoAcceptUpTo (a quantity, or null), strangers (reject|review), strangerReason",
    auth: true,
    params: slugParams,
    body: documentedBody({
      autoAcceptUpTo: field(["string", "number", "null"], "Neighbours' claims up to this quantity are accepted automatically; null: never"),
      strangers: field("string", "reject or review", { enum: ["reject", "review"] }),
      strangerReason: field("string", "The reason sent with a Reject to a pod that is not a neighbour"),
    }),
    response: rulesSchema,
    handler: async ({ params, body }) => claims.updateClaimRules(deps, params.slug, body),
  });
}
