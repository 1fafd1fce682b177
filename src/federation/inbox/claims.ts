/**
 * Claims arriving in our inbox: an Offer(Agreement) on one of our proposals, and the
 * Accept or Reject of one of our claims. (Stub: filled in by the claims work.)
 */
import type { InboxContext } from "@fedify/fedify";
import type { Accept, Offer, Reject } from "@fedify/vocab";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";

type Ctx = InboxContext<ServiceDeps>;

export async function onClaimOffer(_ctx: Ctx, _offer: Offer, _ref: InboxActivityRef): Promise<void> {}

/** The Accept or Reject of one of our claims (its object is our claim's Offer id). */
export async function onClaimAnswer(_ctx: Ctx, _answer: Accept | Reject, _accepted: boolean, _ref: InboxActivityRef): Promise<void> {}
