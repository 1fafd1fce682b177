/**
 * The other side of a transfer: an EconomicEvent (read from the dereferenced document)
 * and Flags of discrepancies. (Stub: filled in by the transfers work.)
 */
import type { InboxContext } from "@fedify/fedify";
import type { Flag } from "@fedify/vocab";
import type { InboxActivityRef } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";

type Ctx = InboxContext<ServiceDeps>;

/** True when a fetched document is an EconomicEvent (in any ValueFlows spelling). */
export function isEconomicEventDocument(_document: unknown): boolean {
  return false;
}

export async function onEconomicEventDocument(_ctx: Ctx, _document: unknown, _actorIri: string, _objectIri: string, _ref: InboxActivityRef): Promise<void> {}

export async function onTransferFlag(_ctx: Ctx, _flag: Flag, _ref: InboxActivityRef): Promise<void> {}
