/**
 * Admin operations of the open books (resources, members, ledger) for the `hyphae` CLI
 * and the admin socket; merged into OPS in admin-ops.ts. Arguments and answers travel as
 * JSON, so answers carry dates as ISO text here, the same in-process and over the socket.
 */
import nodePath from "node:path";
import { z } from "zod";
import { invalid } from "../domain/errors.ts";
import { podSlugSchema } from "../domain/pods.ts";
import * as books from "./books.ts";
import * as ledger from "./ledger.ts";
import * as ledgerIo from "./ledger-io.ts";
import type { OpContext } from "./admin-ops.ts";
import type { ServiceDeps } from "./ports.ts";

const pod = z.object({ pod: podSlugSchema });
const input = z.record(z.string(), z.unknown());

/** An entry as the CLI prints it: the steward view, dates as text, and a draw's receipt page. */
export function entryJson(deps: ServiceDeps, podSlug: string, e: ledger.EntryView) {
  return {
    ...e,
    occurredAt: e.occurredAt.toISOString(),
    recordedAt: e.recordedAt.toISOString(),
    receiptUrl: e.receipt ? deps.uris.receipt(podSlug, e.receipt).href : null,
  };
}

const memberJson = (m: books.MemberView) => ({ ...m, joinedAt: m.joinedAt.toISOString() });

export const BOOK_OPS = {
  "resource.add": {
    args: pod.extend({ resource: input }),
    run: (deps: ServiceDeps, a: { pod: string; resource: Record<string, unknown> }) => books.addResource(deps, a.pod, a.resource),
  },
  "resource.update": {
    args: pod.extend({ key: z.string(), patch: input }),
    run: (deps: ServiceDeps, a: { pod: string; key: string; patch: Record<string, unknown> }) => books.updateResource(deps, a.pod, a.key, a.patch),
  },
  "resource.list": {
    args: pod,
    run: (deps: ServiceDeps, a: { pod: string }) => books.listResources(deps, a.pod),
  },
  "member.add": {
    args: pod.extend({ name: z.unknown(), contact: z.unknown().optional() }),
    run: async (deps: ServiceDeps, a: { pod: string; name: unknown; contact?: unknown }) =>
      memberJson(await books.addMember(deps, a.pod, { name: a.name, ...(a.contact !== undefined && { contact: a.contact }) })),
  },
  /** Name, contact or both; one left out keeps its value, an empty contact clears it. */
  "member.update": {
    args: pod.extend({ pseudonym: z.string(), name: z.unknown().optional(), contact: z.unknown().optional() }),
    run: async (deps: ServiceDeps, a: { pod: string; pseudonym: string; name?: unknown; contact?: unknown }) =>
      memberJson(
        await books.updateMember(deps, a.pod, a.pseudonym, {
          ...(a.name !== undefined && { name: a.name }),
          ...(a.contact !== undefined && { contact: a.contact }),
        }),
      ),
  },
  "member.list": {
    args: pod,
    run: async (deps: ServiceDeps, a: { pod: string }) => (await books.listMembers(deps, a.pod)).map(memberJson),
  },
  "ledger.add": {
    args: pod.extend({ entry: input }),
    run: async (deps: ServiceDeps, a: { pod: string; entry: Record<string, unknown> }) => entryJson(deps, a.pod, await ledger.recordEntry(deps, a.pod, a.entry)),
  },
  "ledger.list": {
    args: pod.extend({ after: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(100) }),
    run: async (deps: ServiceDeps, a: { pod: string; after: number; limit: number }) =>
      (await ledger.listEntries(deps, a.pod, { afterSeq: a.after, limit: a.limit })).map((e) => entryJson(deps, a.pod, e)),
  },
  "ledger.verify": {
    args: pod,
    run: (deps: ServiceDeps, a: { pod: string }) => ledger.verifyLedger(deps, a.pod),
  },
  /**
   * The node reads the file itself (it runs as the same user: the socket is 0600), so a
   * big file never travels through the socket; progress comes back as it goes.
   */
  "ledger.import": {
    args: pod.extend({ path: z.string().refine((p) => nodePath.isAbsolute(p), "must be an absolute path") }),
    run: (deps: ServiceDeps, a: { pod: string; path: string }, context: OpContext = {}) =>
      ledgerIo.importLedgerCsv(deps, a.pod, { path: a.path }, { onProgress: (p) => context.onProgress?.({ ...p }) }),
  },
  /** Streams the export piece by piece to `context.write` (the CLI's file or terminal); answers with the size. */
  "ledger.export": {
    args: pod.extend({ format: z.enum(["csv", "json"]).default("csv"), private: z.boolean().default(false) }),
    run: async (deps: ServiceDeps, a: { pod: string; format: "csv" | "json"; private: boolean }, context: OpContext = {}) => {
      const write = context.write;
      if (!write) throw invalid("STREAM_REQUIRED", "ledger.export writes its output as it goes: call it through the streamed admin route (hyphae ledger export)");
      const chunks = a.format === "json" ? ledgerIo.exportLedgerJson(deps, a.pod, { private: a.private }) : ledgerIo.exportLedgerCsv(deps, a.pod, { private: a.private });
      let bytes = 0;
      for await (const chunk of chunks) {
        bytes += Buffer.byteLength(chunk);
        await write(chunk);
      }
      return { format: a.format, private: a.private, bytes, head: await ledger.getLedgerHead(deps, a.pod) };
    },
  },
  "books.settings": {
    args: pod,
    run: (deps: ServiceDeps, a: { pod: string }) => books.getBookSettings(deps, a.pod),
  },
  "books.settings.set": {
    args: pod.extend({ patch: input }),
    run: (deps: ServiceDeps, a: { pod: string; patch: Record<string, unknown> }) => books.updateBookSettings(deps, a.pod, a.patch),
  },
  "books.balances": {
    args: pod.extend({ at: z.iso.datetime({ offset: true }).optional() }),
    run: async (deps: ServiceDeps, a: { pod: string; at?: string }) => {
      const b = await ledger.getBalances(deps, a.pod, a.at === undefined ? undefined : new Date(a.at));
      return { ...b, at: b.at.toISOString() };
    },
  },
} satisfies Record<string, { args: z.ZodType; run: (deps: ServiceDeps, a: never, context: OpContext) => Promise<unknown> }>;

/** Book operations that write for a pod: a retired pod refuses them. */
export const BOOK_POD_WRITES: readonly string[] = ["resource.add", "resource.update", "member.add", "member.update", "ledger.add", "ledger.import", "books.settings.set"];
