/** What we keep about an actor on another server: enough to deliver to it and show it. */
export interface RemoteActorInfo {
  iri: string;
  handle: string | null;
  name: string | null;
  url: string | null;
  inbox: string;
  sharedInbox: string | null;
}
