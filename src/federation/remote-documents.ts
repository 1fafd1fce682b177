/**
 * How this node fetches remote documents (actors, keys, objects, JSON-LD contexts): the
 * three loader factories Fedify is given, instead of its built-in ones.
 *
 * - **The private-address rule is ours.** Fedify 2.3.6 refuses custom factories together
 *   with its `allowPrivateAddress` option, and then passes `allowPrivateAddress: false` to
 *   every factory. So each factory here applies `ALLOW_PRIVATE_ADDRESSES` itself (false in
 *   production: a URL that resolves to a loopback, private or link-local address is
 *   refused before any request), whatever Fedify asks for. Lookups by handle
 *   (actor-directory.ts) apply the same setting.
 * - **One fetch per document per activity.** Inside the inbox Fedify fetches through the
 *   *authenticated* loader (signed GETs, for servers in authorized-fetch mode), which it
 *   never caches: a Follow from a new actor fetched the actor twice (once for the key, once
 *   for the follower's inbox), a claim fetched the claimant again. Each process now keeps
 *   the **actors and keys** it fetched for `MEMO_MS` (per signing identity, since an
 *   authorized-fetch server may answer one pod differently from another; per URL without
 *   its fragment, as HTTP sees it). Objects that change under the same id (a charter Note,
 *   a summary, an offer) are never kept: an Update is always checked against a fresh
 *   fetch. Only successful fetches are kept; each caller gets its own copy.
 * - **Bounded waits.** A fetch that has not finished after `FETCH_TIMEOUT_MS` is aborted,
 *   so a server that accepts a connection and never answers cannot hold an inbox handler.
 * - Unauthenticated documents and contexts also go through Fedify's KV cache (`kvCache`,
 *   five minutes), as its built-in factories do; signature specs learned by double-knocking
 *   are kept in the same KV keys Fedify's own determiner uses.
 */
import {
  getAuthenticatedDocumentLoader,
  getDocumentLoader,
  kvCache,
  type AuthenticatedDocumentLoaderFactory,
  type DocumentLoader,
  type DocumentLoaderFactory,
  type HttpMessageSignaturesSpec,
  type HttpMessageSignaturesSpecDeterminer,
  type KvStore,
  type RemoteDocument,
} from "@fedify/fedify";

/** How long a fetched document is reused by this process (ms). */
export const MEMO_MS = 10_000;
/** Documents kept at most; the oldest go first. */
const MEMO_ENTRIES = 1_000;
/** A fetch (with its redirects) is aborted after this long (ms). */
export const FETCH_TIMEOUT_MS = 15_000;

const SPEC_PREFIX = ["_fedify", "httpMessageSignaturesSpec"] as const;

export interface RemoteDocumentOptions {
  readonly allowPrivateAddresses: boolean;
  readonly kv: KvStore;
  /** Monotonic ms clock (tests). */
  readonly now?: () => number;
  readonly fetchTimeoutMs?: number;
}

export interface RemoteDocumentLoaders {
  documentLoaderFactory: DocumentLoaderFactory;
  contextLoaderFactory: DocumentLoaderFactory;
  authenticatedDocumentLoaderFactory: AuthenticatedDocumentLoaderFactory;
  /** Fetches answered from memory / made, since start (benchmarks and tests). */
  readonly stats: { reused: number; fetched: number };
}

export function remoteDocumentLoaders(options: RemoteDocumentOptions): RemoteDocumentLoaders {
  const allowPrivateAddress = options.allowPrivateAddresses;
  const now = options.now ?? (() => performance.now());
  const timeoutMs = options.fetchTimeoutMs ?? FETCH_TIMEOUT_MS;
  const memo = new Map<string, { json: string; remote: Omit<RemoteDocument, "document">; until: number }>();
  const stats = { reused: 0, fetched: 0 };

  /** Wraps a loader: bounded in time, and remembered per `scope` + URL for MEMO_MS. */
  const remembered = (scope: string, loader: DocumentLoader): DocumentLoader => {
    return async (url, loaderOptions) => {
      const key = `${scope} ${withoutFragment(url)}`;
      const hit = memo.get(key);
      if (hit && hit.until > now()) {
        stats.reused++;
        return { ...hit.remote, document: JSON.parse(hit.json) as unknown };
      }
      const signal = loaderOptions?.signal ? AbortSignal.any([loaderOptions.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      const fetched = await loader(url, { ...loaderOptions, signal });
      stats.fetched++;
      const json = isActorOrKey(fetched.document) ? JSON.stringify(fetched.document) : undefined;
      if (json !== undefined) {
        memo.delete(key);
        memo.set(key, { json, remote: { contextUrl: fetched.contextUrl, documentUrl: fetched.documentUrl }, until: now() + MEMO_MS });
        if (memo.size > MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
      }
      return fetched;
    };
  };

  const cachedInKv = (kind: "object" | "context"): DocumentLoaderFactory => {
    return (factoryOptions) =>
      kvCache({
        loader: getDocumentLoader({ allowPrivateAddress, ...(factoryOptions?.userAgent !== undefined && { userAgent: factoryOptions.userAgent }) }),
        kv: options.kv,
        kind,
      });
  };
  const documents = cachedInKv("object");
  const contexts = cachedInKv("context");
  const specDeterminer = new KvSpecs(options.kv);

  return {
    stats,
    documentLoaderFactory: (factoryOptions) => remembered("-", documents(factoryOptions)),
    contextLoaderFactory: (factoryOptions) => contexts(factoryOptions),
    authenticatedDocumentLoaderFactory: (identity, factoryOptions) =>
      remembered(
        identity.keyId.href,
        getAuthenticatedDocumentLoader(identity, {
          allowPrivateAddress,
          ...(factoryOptions?.userAgent !== undefined && { userAgent: factoryOptions.userAgent }),
          specDeterminer,
        }),
      ),
  };
}

/** The signature spec each server accepted, in the KV keys Fedify's own determiner uses. */
class KvSpecs implements HttpMessageSignaturesSpecDeterminer {
  readonly #kv: KvStore;
  constructor(kv: KvStore) {
    this.#kv = kv;
  }
  async determineSpec(origin: string): Promise<HttpMessageSignaturesSpec> {
    return (await this.#kv.get<HttpMessageSignaturesSpec>([...SPEC_PREFIX, origin])) ?? "rfc9421";
  }
  async rememberSpec(origin: string, spec: HttpMessageSignaturesSpec): Promise<void> {
    await this.#kv.set([...SPEC_PREFIX, origin], spec);
  }
}

/** Types whose documents are remembered (ActivityStreams actors, and keys served alone). */
const KEPT_TYPES = new Set(["Person", "Group", "Organization", "Service", "Application", "CryptographicKey", "Key", "Multikey"]);

function isActorOrKey(document: unknown): boolean {
  if (typeof document !== "object" || document === null) return false;
  const type = (document as { type?: unknown }).type;
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => typeof t === "string" && KEPT_TYPES.has(t.replace(/^(as|sec):/, "")));
}

function withoutFragment(url: string): string {
  const hash = url.indexOf("#");
  return hash < 0 ? url : url.slice(0, hash);
}
