/**
 * Resolves remote actors (by handle through WebFinger, or by URL), fetching as one of
 * our pods so servers in authorized-fetch mode answer.
 */
import { lookupObject, type LookupObjectOptions } from "@fedify/vocab";
import { invalid, unavailable } from "../domain/errors.ts";
import type { ActorDirectory, RemoteActorInfo, ServiceDeps } from "../services/ports.ts";
import type { HyphaeFederation } from "./federation.ts";
import { actorToRemoteActorInfo, objectToActor } from "./mappers.ts";

export class FederationActorDirectory implements ActorDirectory {
  #federation: HyphaeFederation | null = null;
  #deps: ServiceDeps | null = null;

  attach(federation: HyphaeFederation, deps: ServiceDeps): void {
    this.#federation = federation;
    this.#deps = deps;
  }

  async resolve(podSlug: string, handleOrIri: string): Promise<RemoteActorInfo> {
    if (!this.#federation || !this.#deps) throw unavailable("FEDERATION_UNAVAILABLE", "Federation is not started");
    const ctx = this.#federation.createContext(this.#deps.config.publicUrl, this.#deps);
    const query = handleOrIri.trim();
    if (!/^https?:\/\//.test(query) && !/^@?[^@\s]+@[^@\s]+$/.test(query)) {
      throw invalid("INVALID_TARGET", `Not a handle (@name@host) or an actor URL: ${query}`);
    }
    let object;
    try {
      const documentLoader = await ctx.getDocumentLoader({ identifier: podSlug });
      // Fedify's ctx.lookupObject would apply its own private-address flag, which stays off
      // because our loaders apply the rule (remote-documents.ts); the WebFinger step of a
      // handle lookup is told ALLOW_PRIVATE_ADDRESSES here, in the option lookupObject reads.
      const options: LookupObjectOptions & { allowPrivateAddress: boolean } = {
        documentLoader,
        contextLoader: ctx.contextLoader,
        allowPrivateAddress: this.#deps.config.allowPrivateAddresses,
      };
      object = await lookupObject(query, options);
      if (!object && this.#deps.config.allowPrivateAddresses && !/^https?:\/\//.test(query)) {
        // Local testing only: WebFinger for handles always uses https, but nodes on
        // loopback speak plain http. Ask over http and follow the self link.
        const self = await plainHttpWebFinger(query);
        if (self) object = await lookupObject(self, options);
      }
    } catch (error) {
      throw unavailable("REMOTE_LOOKUP_FAILED", `Could not look up ${query}: ${String(error)}`);
    }
    const actor = objectToActor(object);
    const info = actor && actorToRemoteActorInfo(actor);
    if (!info) throw invalid("NOT_AN_ACTOR", `${query} did not resolve to an actor with an inbox`);
    if (!/^https?:\/\//.test(query)) info.handle = `@${query.replace(/^@/, "")}`;
    return info;
  }
}

async function plainHttpWebFinger(handle: string): Promise<string | null> {
  const acct = handle.replace(/^@/, "");
  const host = acct.slice(acct.lastIndexOf("@") + 1);
  const url = new URL(`http://${host}/.well-known/webfinger`);
  url.searchParams.set("resource", `acct:${acct}`);
  const response = await fetch(url, { headers: { accept: "application/jrd+json" }, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) return null;
  const jrd = (await response.json()) as { links?: Array<{ rel?: string; type?: string; href?: string }> };
  const self = jrd.links?.find((l) => l.rel === "self" && l.href && /activity\+json|ld\+json/.test(l.type ?? ""));
  return self?.href ?? null;
}
