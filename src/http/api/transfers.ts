/**
 * Steward API routes of transfers between pods. Every route needs the pod's steward token.
 * Recording books the pod's `transfer_out` and federates its EconomicEvent at once; send
 * an Idempotency-Key to retry safely (a retry answers the first result; a second record of
 * the same agreement without one is 409 TRANSFER_EXISTS).
 */
import { z } from "zod";
import { FUNDS } from "../../domain/books/model.ts";
import { podSlugSchema } from "../../domain/pods.ts";
import { transferJson } from "../../services/transfer-ops.ts";
import * as transfers from "../../services/transfers.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import type { RouteTable } from "./route.ts";

const dateTime = z.iso.datetime();
const decimal = z.string().describe("An exact decimal in normal form, e.g. 12.5");
const field = (type: string | string[], description: string, extra: Record<string, unknown> = {}) => ({ type, description, ...extra });
const documentedBody = (properties: Record<string, Record<string, unknown>>, required: string[] = []) =>
  z.record(z.string(), z.unknown()).meta({ properties, required, additionalProperties: false });

const recordBody = documentedBody(
  {
    agreement: field("string", "The agreement's IRI, or our claim's id (404 AGREEMENT_NOT_FOUND; 409 AGREEMENT_NOT_ACCEPTED, NOT_THE_GIVER, TRANSFER_EXISTS)"),
    quantity: field(["string", "number"], "What changed hands (default: the agreed quantity; more is 422 TRANSFER_EXCEEDS_AGREEMENT)"),
    fund: field("string", "The fund it comes from (default: the offer's, else survival)", { enum: [...FUNDS] }),
    occurredAt: field("string", "When it changed hands: 2026-11-28 (midnight UTC) or an ISO datetime with a zone; default now"),
    publicMemo: field("string", "The public memo of the ledger entry (default: To <handle> under agreement <IRI>); never private"),
  },
  ["agreement"],
);
const flagBody = documentedBody({ reason: field("string", "What does not match (1–1000 characters); sent to the other pod as a Flag") }, ["reason"]);

const transferSchema = z.object({
  id: z.string(),
  pod: z.string(),
  url: z.string().describe("Our EconomicEvent's id and HTML page"),
  direction: z.enum(["out", "in"]).describe("out: our pod gave (transfer_out); in: it received (transfer_in)"),
  agreement: z.string(),
  claimId: z.string(),
  agreementPage: z.string().nullable(),
  counterpart: z.string().describe("The other pod's actor IRI"),
  counterpartHandle: z.string().nullable(),
  counterpartEvent: z.string().nullable().describe("The other side's EconomicEvent, once it arrived"),
  giver: z.string(),
  receiver: z.string(),
  quantity: decimal,
  unit: z.string(),
  resource: z.string(),
  resourceName: z.string(),
  fund: z.enum(FUNDS).nullable(),
  publicMemo: z.string(),
  ledgerSeq: z.number().int(),
  ledgerHash: z.string(),
  occurredAt: dateTime,
  acknowledgedAt: dateTime.nullable().describe("When the other side's event arrived and matched"),
  discrepancy: z.object({ by: z.enum(["us", "them"]), reason: z.string(), at: dateTime }).nullable(),
  createdAt: dateTime,
});
const recordedSchema = transferSchema.extend({
  resourceCreated: z.boolean().describe("A resource of our books was created for it"),
  notes: z.array(z.string()).describe("What was decided on the steward's behalf (resource, fund)"),
});

export function addTransferRoutes(table: RouteTable, deps: ServiceDeps): void {
  const slugParams = z.object({ slug: podSlugSchema });
  const idParams = slugParams.extend({ id: z.string() });
  table.add({
    method: "POST",
    url: "/pods/:slug/transfers",
    summary: "Record a transfer under an accepted agreement (the giver only): transfer_out in our ledger, Create(EconomicEvent) to the other pod",
    auth: true,
    params: slugParams,
    body: recordBody,
    status: 201,
    response: recordedSchema,
    handler: async ({ params, body }) => transferJson(await transfers.recordTransfer(deps, params.slug, body)),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/transfers",
    summary: "The pod's transfers with other pods, both directions, newest first (?discrepancies=true: only flagged ones)",
    auth: true,
    params: slugParams,
    query: z.object({ discrepancies: z.enum(["true", "false"]).optional() }),
    response: z.object({ items: z.array(transferSchema) }),
    handler: async ({ params, query }) => ({
      items: (await transfers.listTransfers(deps, params.slug, { discrepanciesOnly: query.discrepancies === "true" })).map((t) => transferJson(t)),
    }),
  });
  table.add({
    method: "GET",
    url: "/pods/:slug/transfers/:id",
    summary: "One transfer, by its id (404 TRANSFER_NOT_FOUND)",
    auth: true,
    params: idParams,
    response: transferSchema,
    handler: async ({ params }) => transferJson(await transfers.getTransfer(deps, params.slug, params.id)),
  });
  table.add({
    method: "POST",
    url: "/pods/:slug/transfers/:id/flag",
    summary: "Flag a discrepancy on a transfer (409 ALREADY_FLAGGED when one stands): both pods' pages show it; the other pod gets a Flag",
    auth: true,
    params: idParams,
    body: flagBody,
    response: transferSchema,
    handler: async ({ params, body }) => transferJson(await transfers.flagDiscrepancy(deps, params.slug, params.id, transfers.reasonFromBody(body))),
  });
}
