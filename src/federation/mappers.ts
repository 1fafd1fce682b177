/** Mappers between ActivityStreams objects and our service types (named xToY). */
import { getTypeId, isActor, Link, type Actor, type Object as ASObject } from "@fedify/vocab";
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
    actorType: actorTypeName(actor),
  };
}

const AS = "https://www.w3.org/ns/activitystreams#";

/** `Group`, `Person`… for ActivityStreams types; the full type IRI otherwise. */
function actorTypeName(actor: Actor): string {
  const type = getTypeId(actor).href;
  return type.startsWith(AS) ? type.slice(AS.length) : type;
}

export function objectToActor(object: ASObject | Link | null | undefined): Actor | null {
  return object && !(object instanceof Link) && isActor(object) ? object : null;
}
