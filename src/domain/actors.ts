/** What we keep about an actor on another server: enough to deliver to it and show it. */
export interface RemoteActorInfo {
  iri: string;
  handle: string | null;
  name: string | null;
  url: string | null;
  inbox: string;
  sharedInbox: string | null;
  /**
   * Its ActivityStreams type (Group, Person, Service…, or a full IRI for other vocabularies).
   * Only Group actors (other pods) are ever listed in a pod's hidden followers/following;
   * absent or null when unknown, which counts as a person.
   */
  actorType?: string | null;
}
