/** Mappers between ActivityStreams objects and our service types (named xToY). */
import { isActor, Link, type Actor, type Object as ASObject } from "@fedify/vocab";
import type { RemoteActorInfo } from "../services/ports.ts";

export function actorToRemoteActorInfo(actor: Actor): RemoteActorInfo | null {
  if (!actor.id || !actor.inboxId) return null;
  const url = actor.url instanceof Link ? actor.url.href : actor.url;
  return {
    iri: actor.id.href,
    handle: actor.preferredUsername ? `@${actor.preferredUsername}@${actor.id.host}` : null,
    name: actor.name?.toString() ?? null,
    url: url?.href ?? null,
    inbox: actor.inboxId.href,
    sharedInbox: actor.endpoints?.sharedInbox?.href ?? null,
  };
}

export function objectToActor(object: ASObject | Link | null | undefined): Actor | null {
  return object && !(object instanceof Link) && isActor(object) ? object : null;
}
