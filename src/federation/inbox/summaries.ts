/**
 * Summaries of pods we follow. A followed pod's Create or Update of a Note arrives in the
 * charter handler (inbox/charters.ts), which dereferences the Note once (signed GET) and
 * hands documents that carry our summary terms here. We read the structured summary from
 * the fetched document (Fedify drops unknown terms from the embedded copy), and the
 * service checks its digest and keeps it beside any other copy of the same period.
 */
import type { InboxContext } from "@fedify/fedify";
import { invalid } from "../../domain/errors.ts";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { receiveRemoteSummary } from "../../services/summaries.ts";
import { HYPHAE_NS } from "../charter.ts";

type Ctx = InboxContext<ServiceDeps>;

function hasOurContext(doc: Record<string, unknown>): boolean {
  const contexts = Array.isArray(doc["@context"]) ? doc["@context"] : [doc["@context"]];
  return contexts.some((c) => c && typeof c === "object" && (c as Record<string, unknown>).hyphae === HYPHAE_NS);
}

/** True when a fetched document is one of our summary Notes (our context, a summary version and its content). */
export function isSummaryDocument(document: unknown): boolean {
  if (!document || typeof document !== "object" || Array.isArray(document)) return false;
  const doc = document as Record<string, unknown>;
  return hasOurContext(doc) && "summaryVersion" in doc && "openBooks" in doc;
}

const dateOf = (value: unknown, field: string): Date => {
  const at = typeof value === "string" ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw invalid("SUMMARY_MISMATCH", `The summary's ${field} is not a date`);
  return at;
};

const integerOf = (value: unknown, field: string): number => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) throw invalid("SUMMARY_MISMATCH", `The summary's ${field} is not a whole number`);
  return value;
};

/**
 * Stores the summary in `document` (the dereferenced Note `objectIri` by `actorIri`). The
 * document must be the object itself, by that actor; a summary that breaks the rules is
 * refused with a DomainError (logged once by the inbox wrapper).
 */
export async function onSummaryDocument(ctx: Ctx, document: unknown, actorIri: string, objectIri: string, ref: InboxActivityRef): Promise<void> {
  const doc = document as Record<string, unknown>;
  if (doc.id !== objectIri) throw invalid("SUMMARY_MISMATCH", `The fetched summary's id is not ${objectIri}`);
  if (doc.attributedTo !== actorIri) throw invalid("NOT_AUTHOR", `The summary ${objectIri} is attributed to someone other than the actor sending it`);
  if (typeof doc.contentDigest !== "string" || !/^[0-9a-f]{64}$/.test(doc.contentDigest)) {
    throw invalid("SUMMARY_MISMATCH", "The summary has no content digest");
  }
  if (typeof doc.headHash !== "string") throw invalid("SUMMARY_MISMATCH", "The summary has no head hash");
  const outcome = await receiveRemoteSummary(ctx.data, {
    actorIri,
    objectIri,
    periodKind: String(doc.periodKind),
    periodStart: dateOf(doc.periodStart, "periodStart"),
    periodEnd: dateOf(doc.periodEnd, "periodEnd"),
    version: integerOf(doc.summaryVersion, "summaryVersion"),
    headSeq: integerOf(doc.headSeq, "headSeq"),
    headHash: doc.headHash,
    content: doc.openBooks,
    digest: doc.contentDigest,
    activity: ref,
  });
  if (outcome === "not_followed") ctx.data.log.debug("Summary from an actor none of our pods follows: not stored", { actor: actorIri, object: objectIri });
}
