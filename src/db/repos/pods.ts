import type { Kysely } from "kysely";
import type { Pod } from "../../domain/pods.ts";
import type { KeyAlgorithm } from "../../lib/keys.ts";
import type { Database, PodRow } from "../schema.ts";

export function podFromRow(row: PodRow): Pod {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    summary: row.summary,
    iconUrl: row.icon_url,
    manuallyApprovesFollowers: row.manually_approves_followers,
    networkVisibility: row.network_visibility,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    retiredAt: row.retired_at,
  };
}

export async function getPodBySlug(db: Kysely<Database>, slug: string): Promise<Pod | null> {
  const row = await db.selectFrom("pods").selectAll().where("slug", "=", slug).executeTakeFirst();
  return row ? podFromRow(row) : null;
}

export async function getPodById(db: Kysely<Database>, id: string): Promise<Pod | null> {
  const row = await db.selectFrom("pods").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? podFromRow(row) : null;
}

export async function listPods(db: Kysely<Database>): Promise<Pod[]> {
  const rows = await db.selectFrom("pods").selectAll().orderBy("created_at").orderBy("slug").execute();
  return rows.map(podFromRow);
}

export async function countPods(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom("pods").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertPod(db: Kysely<Database>, pod: Pod): Promise<void> {
  await db
    .insertInto("pods")
    .values({
      id: pod.id,
      slug: pod.slug,
      name: pod.name,
      summary: pod.summary,
      icon_url: pod.iconUrl,
      manually_approves_followers: pod.manuallyApprovesFollowers,
      network_visibility: pod.networkVisibility,
      created_at: pod.createdAt,
      updated_at: pod.updatedAt,
    })
    .execute();
}

export async function updatePodProfile(
  db: Kysely<Database>,
  id: string,
  patch: Partial<Pick<Pod, "name" | "summary" | "iconUrl" | "manuallyApprovesFollowers" | "networkVisibility">>,
  now: Date,
): Promise<void> {
  await db
    .updateTable("pods")
    .set({
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.summary !== undefined && { summary: patch.summary }),
      ...(patch.iconUrl !== undefined && { icon_url: patch.iconUrl }),
      ...(patch.manuallyApprovesFollowers !== undefined && { manually_approves_followers: patch.manuallyApprovesFollowers }),
      ...(patch.networkVisibility !== undefined && { network_visibility: patch.networkVisibility }),
      updated_at: now,
    })
    .where("id", "=", id)
    .execute();
}

export interface StoredKeyPair {
  algorithm: KeyAlgorithm;
  publicJwk: JsonWebKey;
  privateJwk: JsonWebKey;
}

export async function insertPodKeys(db: Kysely<Database>, podId: string, keys: StoredKeyPair[]): Promise<void> {
  await db
    .insertInto("pod_keys")
    .values(
      keys.map((k) => ({
        pod_id: podId,
        algorithm: k.algorithm,
        public_jwk: JSON.stringify(k.publicJwk),
        private_jwk: JSON.stringify(k.privateJwk),
      })),
    )
    .execute();
}

/** Key pairs in a stable order: RSA first (Fedify names it `#main-key`), then Ed25519. */
export async function listPodKeys(db: Kysely<Database>, podId: string): Promise<StoredKeyPair[]> {
  const rows = await db.selectFrom("pod_keys").selectAll().where("pod_id", "=", podId).execute();
  const order = { "RSASSA-PKCS1-v1_5": 0, Ed25519: 1 } as const;
  return rows
    .sort((a, b) => order[a.algorithm] - order[b.algorithm])
    .map((r) => ({ algorithm: r.algorithm, publicJwk: r.public_jwk, privateJwk: r.private_jwk }));
}

/** Locks the pod's row until the transaction ends (a charter or follow written meanwhile waits for it). */
export async function lockPod(db: Kysely<Database>, id: string): Promise<Pod | null> {
  const row = await db.selectFrom("pods").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
  return row ? podFromRow(row) : null;
}

/** What a pod has put out into the world: any of these means it cannot simply be deleted. */
export interface PublishedTraces {
  charterRevisions: number;
  outboxEvents: number;
  acceptedFollowers: number;
  acceptedFollowing: number;
  /** Open books: ledger entries, indicator counts and published summaries (all append-only, all public in some form). */
  ledgerEntries: number;
  indicatorCounts: number;
  bookSummaries: number;
}

export async function countPublishedTraces(db: Kysely<Database>, podId: string): Promise<PublishedTraces> {
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom("charter_revisions").select((e) => e.fn.countAll<string>().as("n")).where("pod_id", "=", podId).as("charter_revisions"),
      eb.selectFrom("outbox_events").select((e) => e.fn.countAll<string>().as("n")).where("pod_id", "=", podId).as("outbox_events"),
      eb
        .selectFrom("followers")
        .select((e) => e.fn.countAll<string>().as("n"))
        .where("pod_id", "=", podId)
        .where("status", "=", "accepted")
        .as("followers"),
      eb
        .selectFrom("following")
        .select((e) => e.fn.countAll<string>().as("n"))
        .where("pod_id", "=", podId)
        .where("status", "=", "accepted")
        .as("following"),
      eb.selectFrom("ledger_entries").select((e) => e.fn.countAll<string>().as("n")).where("pod_id", "=", podId).as("ledger_entries"),
      eb.selectFrom("book_indicator_counts").select((e) => e.fn.countAll<string>().as("n")).where("pod_id", "=", podId).as("indicator_counts"),
      eb.selectFrom("book_summaries").select((e) => e.fn.countAll<string>().as("n")).where("pod_id", "=", podId).as("book_summaries"),
    ])
    .executeTakeFirstOrThrow();
  return {
    charterRevisions: Number(row.charter_revisions),
    outboxEvents: Number(row.outbox_events),
    acceptedFollowers: Number(row.followers),
    acceptedFollowing: Number(row.following),
    ledgerEntries: Number(row.ledger_entries),
    indicatorCounts: Number(row.indicator_counts),
    bookSummaries: Number(row.book_summaries),
  };
}

/**
 * Deletes the pod and every row that belongs to it. Keys, follows, tokens and outbox
 * events go by foreign-key cascade; charter tables have no cascade on purpose (they are
 * append-only), so the caller must have checked there are none.
 */
export async function deletePodRows(db: Kysely<Database>, id: string): Promise<boolean> {
  // A ledger with no entry may still have its head row (seq 0) and empty imports; neither cascades.
  await db.deleteFrom("ledger_heads").where("pod_id", "=", id).execute();
  await db.deleteFrom("ledger_imports").where("pod_id", "=", id).execute();
  const result = await db.deleteFrom("pods").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Marks the pod retired unless it already is; true when this call retired it. */
export async function markPodRetired(db: Kysely<Database>, id: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable("pods")
    .set({ retired_at: now, updated_at: now })
    .where("id", "=", id)
    .where("retired_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
