/**
 * The steward JSON API, under /api/hyphae/v1. Every route except the OpenAPI document
 * needs a steward token for the pod named in the URL (401 without a valid token, 403 for
 * a token of another pod). Routes call the same services as the CLI and the inbox.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { forbidden } from "../../domain/errors.ts";
import { podSlugSchema } from "../../domain/pods.ts";
import * as charters from "../../services/charters.ts";
import * as follows from "../../services/follows.ts";
import * as pods from "../../services/pods.ts";
import { podView, podViewSchema } from "../../services/views.ts";
import { verifyToken } from "../../services/tokens.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { SOFTWARE_VERSION } from "../../lib/version.ts";
import { RouteTable } from "./route.ts";
import { addBookRoutes } from "./books.ts";
import { addSummaryRoutes } from "./summaries.ts";
import { addProposalRoutes } from "./proposals.ts";
import { addClaimRoutes } from "./claims.ts";
import { addTransferRoutes } from "./transfers.ts";

export const STEWARD_API_PREFIX = "/api/hyphae/v1";
/** Deleting and retiring give their own answers for a retired pod. */
const RETIREMENT_ROUTES = new Set([`DELETE ${STEWARD_API_PREFIX}/pods/:slug`, `POST ${STEWARD_API_PREFIX}/pods/:slug/retire`]);

const slugParams = z.object({ slug: podSlugSchema });
const actorIri = z
  .string()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), "actor must be an http(s) URL");
const dateTime = z.iso.datetime();

const followerSchema = z.object({
  actor: z.string(),
  handle: z.string().nullable(),
  name: z.string().nullable(),
  status: z.enum(["accepted", "pending"]),
  since: dateTime,
});
const followingSchema = z.object({
  actor: z.string(),
  handle: z.string().nullable(),
  name: z.string().nullable(),
  status: z.enum(["pending", "accepted", "rejected"]),
  since: dateTime,
});

export function stewardRoutes(deps: ServiceDeps): RouteTable {
  const table = new RouteTable(STEWARD_API_PREFIX);

  table.add({
    method: "GET",
    url: "/token",
    summary: "Describe the token used for this request",
    auth: true,
    response: z.object({ jti: z.string(), pod: z.string(), role: z.string(), expiresAt: dateTime }),
    handler: async ({ principal }) => ({
      jti: principal!.jti,
      pod: principal!.podSlug,
      role: principal!.role,
      expiresAt: principal!.expiresAt.toISOString(),
    }),
  });

  table.add({
    method: "GET",
    url: "/pods/:slug",
    summary: "Show the pod's profile, handle and counts",
    auth: true,
    params: slugParams,
    response: podViewSchema,
    handler: async ({ params }) => podView(deps, await pods.getPod(deps, params.slug)),
  });

  table.add({
    method: "PATCH",
    url: "/pods/:slug",
    summary: "Change the pod's name, summary, icon or follower approval mode",
    auth: true,
    params: slugParams,
    body: z
      .object({
        name: z.string(),
        summary: z.string(),
        iconUrl: z.string().nullable(),
        manuallyApprovesFollowers: z.boolean(),
        networkVisibility: z.enum(["hidden", "public"]),
      })
      .partial()
      .strict(),
    response: podViewSchema,
    handler: async ({ params, body }) => podView(deps, await pods.updatePod(deps, params.slug, body)),
  });

  table.add({
    method: "DELETE",
    url: "/pods/:slug",
    summary: "Delete a pod that has published nothing, with all its rows (409 POD_HAS_PUBLISHED otherwise: retire it)",
    auth: true,
    params: slugParams,
    response: z.object({ slug: z.string(), deleted: z.literal(true) }),
    handler: async ({ params }) => pods.deletePod(deps, params.slug),
  });

  table.add({
    method: "POST",
    url: "/pods/:slug/retire",
    summary: "Retire the pod: its actor becomes a Tombstone (410), followers are sent a Delete, its records stay",
    auth: true,
    params: slugParams,
    response: podViewSchema.extend({ alreadyRetired: z.boolean() }),
    handler: async ({ params }) => {
      const { pod, alreadyRetired } = await pods.retirePod(deps, params.slug);
      return { ...(await podView(deps, pod)), alreadyRetired };
    },
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/followers",
    summary: "List followers (status=accepted) or pending follow requests (status=pending)",
    auth: true,
    params: slugParams,
    query: z.object({ status: z.enum(["accepted", "pending"]).default("accepted") }),
    response: z.object({ items: z.array(followerSchema) }),
    handler: async ({ params, query }) => ({
      items: (await follows.listFollowers(deps, params.slug, query.status)).map((f) => ({
        actor: f.actorIri,
        handle: f.handle,
        name: f.name,
        status: f.status,
        since: f.createdAt.toISOString(),
      })),
    }),
  });

  for (const [action, status, answer] of [
    ["accept", "accepted", follows.approveFollowRequest],
    ["reject", "rejected", follows.rejectFollowRequest],
  ] as const) {
    table.add({
      method: "POST",
      url: `/pods/:slug/follow-requests/${action}`,
      summary: `${action === "accept" ? "Accept" : "Reject"} a pending follow request`,
      auth: true,
      params: slugParams,
      body: z.object({ actor: actorIri }),
      response: z.object({ actor: z.string(), status: z.literal(status) }),
      handler: async ({ params, body }) => {
        await answer(deps, params.slug, body.actor);
        return { actor: body.actor, status };
      },
    });
  }

  table.add({
    method: "DELETE",
    url: "/pods/:slug/followers",
    summary: "Remove an accepted follower (they are sent a Reject)",
    auth: true,
    params: slugParams,
    query: z.object({ actor: actorIri }),
    response: z.object({ actor: z.string(), status: z.literal("removed") }),
    handler: async ({ params, query }) => {
      await follows.removeFollower(deps, params.slug, query.actor);
      return { actor: query.actor, status: "removed" as const };
    },
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/following",
    summary: "List the actors this pod follows, with the state of each follow",
    auth: true,
    params: slugParams,
    response: z.object({ items: z.array(followingSchema) }),
    handler: async ({ params }) => ({
      items: (await follows.listFollowing(deps, params.slug)).map((f) => ({
        actor: f.actorIri,
        handle: f.handle,
        name: f.name,
        status: f.status,
        since: f.createdAt.toISOString(),
      })),
    }),
  });

  table.add({
    method: "POST",
    url: "/pods/:slug/following",
    summary: "Follow a remote actor by handle (@name@host) or actor URL",
    auth: true,
    params: slugParams,
    body: z.object({ target: z.string().min(1, "target must not be empty").max(2048) }),
    status: 202,
    response: followingSchema,
    handler: async ({ params, body }) => {
      const f = await follows.requestFollow(deps, params.slug, body.target);
      return { actor: f.actorIri, handle: f.handle, name: f.name, status: f.status, since: f.createdAt.toISOString() };
    },
  });

  table.add({
    method: "DELETE",
    url: "/pods/:slug/following",
    summary: "Stop following a remote actor (sends Undo(Follow))",
    auth: true,
    params: slugParams,
    query: z.object({ target: z.string().min(1).max(2048) }),
    response: z.object({ target: z.string(), status: z.literal("unfollowed") }),
    handler: async ({ params, query }) => {
      await follows.unfollow(deps, params.slug, query.target);
      return { target: query.target, status: "unfollowed" as const };
    },
  });

  const revisionNumber = z.coerce.number().int("must be a whole number").min(1, "must be 1 or more");
  const charterView = z.object({
    pod: z.string(),
    revision: z.number().int(),
    url: z.string(),
    content: z.record(z.string(), z.unknown()).describe("The charter, in the format of docs/charter-format.md"),
    changeNote: z.string(),
    madeByRole: z.string(),
    revisedAt: dateTime,
    publishedAt: dateTime,
    updatedAt: dateTime,
    review: z.object({ lastReviewedAt: dateTime, dueAt: dateTime, due: z.boolean(), daysSinceReview: z.number().int() }),
  });
  const toView = (c: charters.CharterView) => ({
    pod: c.pod,
    revision: c.revision,
    url: deps.uris.charter(c.pod).href,
    content: c.content as unknown as Record<string, unknown>,
    changeNote: c.changeNote,
    madeByRole: c.madeByRole,
    revisedAt: c.revisedAt.toISOString(),
    publishedAt: c.publishedAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    review: {
      lastReviewedAt: c.review.lastReviewedAt.toISOString(),
      dueAt: c.review.dueAt.toISOString(),
      due: c.review.due,
      daysSinceReview: c.review.daysSinceReview,
    },
  });

  table.add({
    method: "POST",
    url: "/pods/:slug/charter",
    summary: "Publish a new charter revision (the first goes out as Create, later ones as Update)",
    auth: true,
    params: slugParams,
    body: z.record(z.string(), z.unknown()).describe("A charter in the format of docs/charter-format.md"),
    status: 201,
    response: charterView,
    handler: async ({ params, body }) => toView(await charters.publishCharterRevision(deps, params.slug, body)),
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/charter",
    summary: "Show the current charter and whether it is due for review",
    auth: true,
    params: slugParams,
    response: charterView,
    handler: async ({ params }) => toView(await charters.getCharter(deps, params.slug)),
  });

  table.add({
    method: "POST",
    url: "/pods/:slug/charter/confirm",
    summary: "Re-confirm the charter without changes (new review date, federated as an Update)",
    auth: true,
    params: slugParams,
    response: charterView,
    handler: async ({ params }) => toView(await charters.confirmCharter(deps, params.slug)),
  });

  const revisionSummary = z.object({ revision: z.number().int(), title: z.string(), changeNote: z.string(), madeByRole: z.string(), createdAt: dateTime, url: z.string() });
  table.add({
    method: "GET",
    url: "/pods/:slug/charter/revisions",
    summary: "List the charter's revisions, newest first",
    auth: true,
    params: slugParams,
    response: z.object({ items: z.array(revisionSummary) }),
    handler: async ({ params }) => ({
      items: (await charters.listCharterRevisions(deps, params.slug)).map((r) => ({
        revision: r.number,
        title: r.content.title,
        changeNote: r.changeNote,
        madeByRole: r.madeByRole,
        createdAt: r.createdAt.toISOString(),
        url: deps.uris.charterRevision(params.slug, r.number).href,
      })),
    }),
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/charter/revisions/:revision",
    summary: "Show one revision",
    auth: true,
    params: slugParams.extend({ revision: revisionNumber }),
    response: revisionSummary.extend({ content: z.record(z.string(), z.unknown()) }),
    handler: async ({ params }) => {
      const r = await charters.getCharterRevision(deps, params.slug, params.revision);
      return {
        revision: r.number,
        title: r.content.title,
        changeNote: r.changeNote,
        madeByRole: r.madeByRole,
        createdAt: r.createdAt.toISOString(),
        url: deps.uris.charterRevision(params.slug, r.number).href,
        content: r.content as unknown as Record<string, unknown>,
      };
    },
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/charter/diff",
    summary: "What changed between two revisions",
    auth: true,
    params: slugParams,
    query: z.object({ from: revisionNumber, to: revisionNumber }),
    response: z.object({ from: z.number().int(), to: z.number().int(), lines: z.array(z.string()), diff: z.record(z.string(), z.unknown()) }),
    handler: async ({ params, query }) => {
      const d = await charters.diffCharterRevisions(deps, params.slug, query.from, query.to);
      return { from: d.from, to: d.to, lines: d.lines, diff: d.diff as unknown as Record<string, unknown> };
    },
  });

  table.add({
    method: "GET",
    url: "/pods/:slug/following/charters",
    summary: "The charters of the pods this pod follows, as this node holds them",
    auth: true,
    params: slugParams,
    response: z.object({
      items: z.array(z.object({ actor: z.string(), handle: z.string().nullable(), revision: z.number().int(), updatedAt: dateTime, reviewedOn: z.string().nullable(), content: z.record(z.string(), z.unknown()) })),
    }),
    handler: async ({ params }) => ({
      items: (await charters.listFollowedCharters(deps, params.slug)).map((c) => ({
        actor: c.actorIri,
        handle: c.handle,
        revision: c.revision,
        updatedAt: c.objectUpdatedAt.toISOString(),
        reviewedOn: c.reviewedOn,
        content: c.content as unknown as Record<string, unknown>,
      })),
    }),
  });

  addBookRoutes(table, deps);
  addSummaryRoutes(table, deps);
  addProposalRoutes(table, deps);
  addClaimRoutes(table, deps);
  addTransferRoutes(table, deps);
  return table;
}

export async function registerStewardApi(app: FastifyInstance, deps: ServiceDeps): Promise<void> {
  const table = stewardRoutes(deps);
  const document = table.openApi({
    title: "Hyphae steward API",
    version: SOFTWARE_VERSION,
    description: "Run a pod: profile, followers and follows. Authenticate with a steward token (hyphae token issue).",
  });
  await app.register(
    async (api) => {
      api.decorateRequest("principal", null);
      // On request, before any body is read: only a steward of the pod can make the node
      // parse (or hold, for a CSV import) a body.
      api.addHook("onRequest", async (request) => {
        if (!(request.routeOptions.config as { auth?: boolean }).auth) return;
        const header = request.headers.authorization;
        const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? (header ? "!" : null);
        request.principal = await verifyToken(deps, token === "!" ? "malformed" : token);
        const slug = (request.params as { slug?: string }).slug;
        if (slug !== undefined && slug !== request.principal.podSlug) {
          throw forbidden("TOKEN_WRONG_POD", `This token belongs to ${request.principal.podSlug}, not ${slug}`);
        }
        // A retired pod stays readable; every other write answers 409 POD_RETIRED.
        if (slug !== undefined && request.method !== "GET" && !RETIREMENT_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) {
          await pods.getActivePod(deps, slug);
        }
      });
      api.get("/openapi.json", async () => document);
      table.register(api);
    },
    { prefix: STEWARD_API_PREFIX },
  );
}
