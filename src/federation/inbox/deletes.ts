/**
 * Delete of an actor by itself (actor = object): the remote account or pod is gone, so
 * the follows our pods have with it end. Deletes of anything else are ignored.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Delete } from "@fedify/vocab";
import type { ServiceDeps } from "../../services/ports.ts";
import { receiveActorDeleted } from "../../services/follows.ts";

export async function onDelete(ctx: InboxContext<ServiceDeps>, activity: Delete): Promise<void> {
  if (!activity.actorId || !activity.objectId) return;
  // Fedify has verified that the signer owns activity.actorId; only an actor may delete itself.
  if (activity.objectId.href !== activity.actorId.href) return;
  await receiveActorDeleted(ctx.data, activity.actorId.href);
}
