/** Pod icons uploaded from the steward web app, served at /pods/{slug}/icon. */
import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

type Db = Kysely<Database>;

export async function upsertPodIcon(db: Db, row: { podId: string; mediaType: string; bytes: Uint8Array; digest: string; updatedAt: Date }): Promise<void> {
  await db
    .insertInto("pod_icons")
    .values({ pod_id: row.podId, media_type: row.mediaType, bytes: row.bytes, digest: row.digest, updated_at: row.updatedAt })
    .onConflict((oc) => oc.column("pod_id").doUpdateSet({ media_type: row.mediaType, bytes: row.bytes, digest: row.digest, updated_at: row.updatedAt }))
    .execute();
}

export async function getPodIcon(db: Db, podId: string): Promise<{ mediaType: string; bytes: Uint8Array; digest: string; updatedAt: Date } | null> {
  const row = await db.selectFrom("pod_icons").selectAll().where("pod_id", "=", podId).executeTakeFirst();
  return row ? { mediaType: row.media_type, bytes: row.bytes, digest: row.digest, updatedAt: row.updated_at } : null;
}

export async function deletePodIcon(db: Db, podId: string): Promise<boolean> {
  const result = await db.deleteFrom("pod_icons").where("pod_id", "=", podId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
