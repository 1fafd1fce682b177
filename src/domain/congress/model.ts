/**
 * The vocabulary of the congress: offers and needs (FEP-0837 proposals), claims,
 * transfers. Pure types; rules live beside them in this folder.
 */

/** FEP-0837 `purpose`: an offer, or a request (a need). */
export type ProposalPurpose = "offer" | "request";
/** The actions our own offers and needs carry (VF 1.0). */
export type ProposalAction = "transfer" | "deliverService";
export type ProposalStatus = "open" | "withdrawn" | "expired" | "fulfilled";

/** What is wanted back for a proposal (FEP-0837 `reciprocal`). */
export interface ReciprocalTerms {
  name: string;
  unit: string;
  /** Normal-form decimal, or null for "any amount". */
  quantity: string | null;
  specificationUri: string | null;
}

/** A neighbour's offer or need as read from its document (what remote_proposals stores). */
export interface RemoteProposalInput {
  actorIri: string;
  objectIri: string;
  /** The intent claims name in `satisfies` (FEP-0837: the proposal id + `#primary`). */
  intentIri: string;
  purpose: ProposalPurpose;
  /** A VF action (normalised to VF 1.0 camelCase). */
  action: string;
  name: string;
  description: string;
  /** OM2 unit id (kilogram, hour, one…) or a currency code. */
  unit: string;
  category: string | null;
  specificationUri: string | null;
  /** resourceQuantity; null: any amount. */
  quantity: string | null;
  /** availableQuantity now; null: not said. */
  remaining: string | null;
  minimum: string | null;
  /** null: any amount; true: multiples of `quantity`; false: exactly `quantity`. */
  unitBased: boolean | null;
  reciprocal: ReciprocalTerms | null;
  location: string | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  expiresAt: Date | null;
  urgent: boolean;
  status: ProposalStatus;
  /** The document's `updated` (or `published`): older copies never replace newer ones. */
  remoteUpdatedAt: Date;
}
