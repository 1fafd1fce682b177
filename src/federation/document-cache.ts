/**
 * The pod actor, its WebFinger answer, its charter Note and `featured`, kept as Fedify
 * rendered them. These are the documents the fediverse fetches most and that change least; building the Fedify context
 * for each request costs about twenty times the bare HTTP work (docs/performance.md), so the
 * bridge answers them from here while they are valid.
 *
 * Valid means: the same URL (so the same origin and resource), the same Accept header, and
 * the same pod state. The token is the pod's `updated_at` and `retired_at` as
 * `findPodCached` sees them: a change made in this process shows at once, one made by another
 * process within that cache's two seconds — the rule every fediverse read of a pod follows.
 * The charter Note and `featured` also depend on the charter's revision and last change
 * (`charterStampCached`, the same rule).
 * An unknown pod, an unparsable resource or another host's handle is not cached.
 */
import type { ServiceDeps } from "../services/ports.ts";
import { charterStampCached } from "../services/charters.ts";
import { findPodCached } from "../services/pods.ts";
import type { CachedDocument, DocumentCache } from "./fastify-bridge.ts";

const ACTOR_PATH = /^\/pods\/([a-z0-9_]+(?:-[a-z0-9_]+)*)$/;
/** The charter Note and `featured` (which holds only the charter Note). */
const CHARTER_PATH = /^\/pods\/([a-z0-9_]+(?:-[a-z0-9_]+)*)\/(?:charter|featured)$/;
/** Copies kept at most; past that the cache starts afresh (a node has few pods). */
const MAX_ENTRIES = 2_000;

export class PodDocumentCache implements DocumentCache {
  readonly #deps: ServiceDeps;
  readonly #entries = new Map<string, { token: string; document: CachedDocument }>();
  /** The slug each URL seen depends on (null: not a cached kind); URLs are few and never change meaning. */
  readonly #slugs = new Map<string, string | null>();
  /** Answers given from the cache (for tests and the bench). */
  hits = 0;

  constructor(deps: ServiceDeps) {
    this.#deps = deps;
  }

  /** The pod slug a URL's document depends on, or null. */
  #slugOf(url: URL): string | null {
    const charter = CHARTER_PATH.exec(url.pathname);
    if (charter) return url.search === "" ? charter[1]! : null;
    const actor = ACTOR_PATH.exec(url.pathname);
    if (actor) return url.search === "" ? actor[1]! : null;
    if (url.pathname !== "/.well-known/webfinger") return null;
    const params = [...url.searchParams.keys()];
    if (params.length !== 1 || params[0] !== "resource") return null;
    const resource = url.searchParams.get("resource") ?? "";
    const origin = this.#deps.config.publicUrl;
    const acct = /^acct:([^@\s]+)@([^@\s]+)$/i.exec(resource);
    if (acct) return acct[2]!.toLowerCase() === origin.host.toLowerCase() ? acct[1]!.toLowerCase() : null;
    if (!URL.canParse(resource)) return null;
    const asked = new URL(resource);
    if (asked.origin !== origin.origin || asked.search !== "" || asked.hash !== "") return null;
    return ACTOR_PATH.exec(asked.pathname)?.[1] ?? null;
  }

  async token(url: URL): Promise<string | null> {
    let slug = this.#slugs.get(url.href);
    if (slug === undefined) {
      slug = this.#slugOf(url);
      if (this.#slugs.size >= MAX_ENTRIES) this.#slugs.clear();
      this.#slugs.set(url.href, slug);
    }
    if (slug === null) return null;
    const pod = await findPodCached(this.#deps, slug);
    if (!pod) return null;
    const podToken = `${pod.id}|${pod.updatedAt.getTime()}|${pod.retiredAt?.getTime() ?? ""}`;
    return url.pathname.endsWith("/charter") || url.pathname.endsWith("/featured") ? `${podToken}|${await charterStampCached(this.#deps, pod.id)}` : podToken;
  }

  get(key: string, token: string): CachedDocument | undefined {
    const entry = this.#entries.get(key);
    if (!entry || entry.token !== token) return undefined;
    this.hits += 1;
    return entry.document;
  }

  set(key: string, token: string, document: CachedDocument): void {
    if (this.#entries.size >= MAX_ENTRIES && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, { token, document });
  }
}
