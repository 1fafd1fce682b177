/**
 * Delete of an actor by itself (actor = object): the remote account or pod is gone, so
 * the follows our pods have with it end. Deletes of anything else are not acted on.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Delete } from "@fedify/vocab";
import type { ServiceDeps } from "../../services/ports.ts";
import { receiveActorDeleted } from "../../services/follows.ts";
import type { InboxActivityRef } from "../../services/inbox.ts";

export async function onDelete(ctx: InboxContext<ServiceDeps>, activity: Delete, ref: InboxActivityRef): Promise<void> {
  // Fedify has verified that the signer owns activity.actorId; only an actor may delete itself.
  if (!activity.actorId || activity.objectId?.href !== activity.actorId.href) {
    ctx.data.log.debug("Delete of something other than its actor: not acted on", { id: ref.key });
    return;
  }
  await receiveActorDeleted(ctx.data, activity.actorId.href, ref);
}
