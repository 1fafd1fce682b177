/**
 * Reads an offer or a need from ActivityPub JSON: our own documents (a Note co-typed
 * Proposal), other FEP-0837 Proposals, and Bonfire's spellings (`ValueFlows:` prefix,
 * hyphenated actions, a bare Intent whose provider or receiver is the actor). Pure: the
 * caller passes the actor that sent it and the time. (Stub: filled in by the proposals work.)
 */
import type { RemoteProposalInput } from "./model.ts";

export interface ProposalJsonContext {
  /** The actor that sent or published it: the document must be attributed to it. */
  actorIri: string;
  /** The id it was fetched by (when dereferenced): the document's id must equal it. */
  objectIri?: string;
  now: Date;
}

/** True when the JSON is an offer or a need (a Proposal, or a lone Intent, in any spelling). */
export function isProposalJson(_document: unknown): boolean {
  return false;
}

/**
 * The proposal as we store it, or a DomainError (kind invalid, a stable code) when it is a
 * proposal that breaks the rules (no quantity unit, a foreign id, not attributed to the actor…).
 */
export function parseProposalJson(_document: unknown, _ctx: ProposalJsonContext): RemoteProposalInput {
  throw new Error("not implemented");
}
