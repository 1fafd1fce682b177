/**
 * The operations an operator or steward runs from a terminal. The CLI runs them in its
 * own process, or, while a node holds the embedded database, sends them to that node's
 * admin socket, which calls this same function.
 */
import { z } from "zod";
import { invalid } from "../domain/errors.ts";
import { parseOrThrow, podSlugSchema } from "../domain/pods.ts";
import * as charters from "./charters.ts";
import * as follows from "./follows.ts";
import * as outbox from "./outbox.ts";
import * as pods from "./pods.ts";
import * as queue from "./queue.ts";
import * as tokens from "./tokens.ts";
import * as stewardSessions from "./steward-sessions.ts";
import { podView } from "./views.ts";
import type { ServiceDeps } from "./ports.ts";
import { BOOK_OPS, BOOK_POD_WRITES } from "./book-ops.ts";
import { SUMMARY_OPS, SUMMARY_POD_WRITES } from "./summary-ops.ts";
import { PROPOSAL_OPS, PROPOSAL_POD_WRITES } from "./proposal-ops.ts";
import { CLAIM_OPS, CLAIM_POD_WRITES } from "./claim-ops.ts";
import { TRANSFER_OPS, TRANSFER_POD_WRITES } from "./transfer-ops.ts";
import { CONGRESS_OPS, CONGRESS_POD_WRITES } from "./congress-ops.ts";

const pod = z.object({ pod: podSlugSchema });

/**
 * What a long operation may use besides its arguments: `onProgress` hears how far it got
 * (an import's rows), `write` takes its output piece by piece (an export), so neither the
 * CLI nor the admin socket holds a whole file in memory. Both are optional: an operation
 * that needs `write` refuses to run without it.
 */
export interface OpContext {
  onProgress?: (progress: Record<string, unknown>) => void;
  write?: (chunk: string) => Promise<void>;
}

const OPS = {
  "pod.create": {
    args: z.object({
      slug: z.string(),
      name: z.string(),
      summary: z.string().optional(),
      iconUrl: z.string().nullable().optional(),
      manuallyApprovesFollowers: z.boolean().optional(),
    }),
    run: async (deps: ServiceDeps, a: { slug: string; name: string; summary?: string; iconUrl?: string | null; manuallyApprovesFollowers?: boolean }) =>
      podView(deps, await pods.createPod(deps, a)),
  },
  "pod.list": {
    args: z.object({}),
    run: async (deps: ServiceDeps) => Promise.all((await pods.listPods(deps)).map((p) => podView(deps, p))),
  },
  "pod.show": {
    args: pod,
    run: async (deps: ServiceDeps, a: { pod: string }) => podView(deps, await pods.getPod(deps, a.pod)),
  },
  "pod.delete": {
    args: pod,
    run: (deps: ServiceDeps, a: { pod: string }) => pods.deletePod(deps, a.pod),
  },
  "pod.retire": {
    args: pod,
    run: async (deps: ServiceDeps, a: { pod: string }) => {
      const { pod: retired, alreadyRetired } = await pods.retirePod(deps, a.pod);
      return { ...(await podView(deps, retired)), alreadyRetired };
    },
  },
  "pod.update": {
    args: pod.extend({ patch: z.record(z.string(), z.unknown()) }),
    run: async (deps: ServiceDeps, a: { pod: string; patch: Record<string, unknown> }) => podView(deps, await pods.updatePod(deps, a.pod, a.patch)),
  },
  "token.issue": {
    args: pod.extend({ role: z.enum(tokens.TOKEN_ROLES).default("steward"), label: z.string().max(200).nullable().default(null), ttlDays: z.number().int().min(1).max(3650).optional() }),
    run: (deps: ServiceDeps, a: { pod: string; role: tokens.TokenRole; label: string | null; ttlDays?: number }) =>
      tokens.issueToken(deps, { podSlug: a.pod, role: a.role, label: a.label, ...(a.ttlDays !== undefined && { ttlDays: a.ttlDays }) }),
  },
  "token.revoke": {
    args: z.object({ jti: z.string() }),
    run: async (deps: ServiceDeps, a: { jti: string }) => {
      await tokens.revokeToken(deps, a.jti);
      return { jti: a.jti, revoked: true };
    },
  },
  "token.list": { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => tokens.listTokens(deps, a.pod) },
  "steward.invite": {
    args: pod.extend({ minutes: z.number().int().min(1).max(10_080).optional() }),
    run: (deps: ServiceDeps, a: { pod: string; minutes?: number }) =>
      stewardSessions.createInvite(deps, { podSlug: a.pod, ...(a.minutes !== undefined && { minutes: a.minutes }) }),
  },
  "steward.list": { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => stewardSessions.listStewards(deps, a.pod) },
  "steward.sessions": { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => stewardSessions.listSessions(deps, a.pod) },
  "steward.end-session": {
    args: pod.extend({ session: z.string().min(1) }),
    run: (deps: ServiceDeps, a: { pod: string; session: string }) => stewardSessions.endSession(deps, a.pod, a.session),
  },
  "steward.end": {
    args: pod.extend({ number: z.number().int().min(1) }),
    run: (deps: ServiceDeps, a: { pod: string; number: number }) => stewardSessions.endStewardship(deps, a.pod, a.number),
  },
  follow: {
    args: pod.extend({ target: z.string().min(1) }),
    run: (deps: ServiceDeps, a: { pod: string; target: string }) => follows.requestFollow(deps, a.pod, a.target),
  },
  unfollow: {
    args: pod.extend({ target: z.string().min(1) }),
    run: async (deps: ServiceDeps, a: { pod: string; target: string }) => {
      await follows.unfollow(deps, a.pod, a.target);
      return { target: a.target, unfollowed: true };
    },
  },
  following: { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => follows.listFollowing(deps, a.pod) },
  followers: {
    args: pod.extend({ status: z.enum(["accepted", "pending"]).default("accepted") }),
    run: (deps: ServiceDeps, a: { pod: string; status: "accepted" | "pending" }) => follows.listFollowers(deps, a.pod, a.status),
  },
  "followers.accept": {
    args: pod.extend({ actor: z.string() }),
    run: async (deps: ServiceDeps, a: { pod: string; actor: string }) => {
      await follows.approveFollowRequest(deps, a.pod, a.actor);
      return { actor: a.actor, status: "accepted" };
    },
  },
  "followers.reject": {
    args: pod.extend({ actor: z.string() }),
    run: async (deps: ServiceDeps, a: { pod: string; actor: string }) => {
      await follows.rejectFollowRequest(deps, a.pod, a.actor);
      return { actor: a.actor, status: "rejected" };
    },
  },
  "charter.set": {
    args: pod.extend({ charter: z.unknown() }),
    run: (deps: ServiceDeps, a: { pod: string; charter: unknown }) => charters.publishCharterRevision(deps, a.pod, a.charter),
  },
  "charter.show": { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => charters.getCharter(deps, a.pod) },
  "charter.confirm": { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => charters.confirmCharter(deps, a.pod) },
  "charter.revisions": { args: pod, run: (deps: ServiceDeps, a: { pod: string }) => charters.listCharterRevisions(deps, a.pod) },
  "charter.diff": {
    args: pod.extend({ from: z.number().int().min(1), to: z.number().int().min(1) }),
    run: (deps: ServiceDeps, a: { pod: string; from: number; to: number }) => charters.diffCharterRevisions(deps, a.pod, a.from, a.to),
  },
  "outbox.list": {
    args: z.object({ failed: z.boolean().default(false), limit: z.number().int().min(1).max(1000).default(100) }),
    run: (deps: ServiceDeps, a: { failed: boolean; limit: number }) => outbox.listOutboxEvents(deps, a),
  },
  "outbox.retry": {
    args: z.union([z.object({ id: z.string().min(1) }), z.object({ all: z.literal(true) })]),
    run: (deps: ServiceDeps, a: { id: string } | { all: true }) => outbox.retryOutboxEvents(deps, a),
  },
  status: { args: z.object({}), run: (deps: ServiceDeps) => queue.nodeStatus(deps) },
  "queue.list": {
    args: z.object({ dead: z.boolean().default(false), limit: z.number().int().min(1).max(1000).default(50) }),
    run: (deps: ServiceDeps, a: { dead: boolean; limit: number }) => (a.dead ? queue.listDeadLetters(deps, a.limit) : queue.listQueue(deps, a.limit)),
  },
  "queue.retry": {
    args: z.object({ id: z.string().optional(), all: z.boolean().optional() }),
    run: (deps: ServiceDeps, a: { id?: string; all?: boolean }) => queue.retryDeadLetters(deps, a),
  },
  ...BOOK_OPS,
  ...SUMMARY_OPS,
  ...PROPOSAL_OPS,
  ...CLAIM_OPS,
  ...TRANSFER_OPS,
  ...CONGRESS_OPS,
} as const;

export type AdminOp = keyof typeof OPS;

/** Operations that change a pod or publish for it: a retired pod refuses them (POD_RETIRED). */
const POD_WRITES: ReadonlySet<string> = new Set([
  "pod.update",
  "follow",
  "unfollow",
  "followers.accept",
  "followers.reject",
  "charter.set",
  "charter.confirm",
  ...BOOK_POD_WRITES,
  ...SUMMARY_POD_WRITES,
  ...PROPOSAL_POD_WRITES,
  ...CLAIM_POD_WRITES,
  ...TRANSFER_POD_WRITES,
  ...CONGRESS_POD_WRITES,
]);
export const ADMIN_OPS = Object.keys(OPS) as AdminOp[];

export async function runAdminOp(deps: ServiceDeps, op: string, args: unknown, context: OpContext = {}): Promise<unknown> {
  const spec = (OPS as Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never, context: OpContext) => Promise<unknown> }>)[op];
  if (!spec) throw invalid("UNKNOWN_OPERATION", `Unknown operation ${op}`);
  const parsed = parseOrThrow(spec.args, args ?? {});
  if (POD_WRITES.has(op)) await pods.getActivePod(deps, (parsed as { pod: string }).pod);
  return spec.run(deps, parsed as never, context);
}
