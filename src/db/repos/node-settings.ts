/**
 * Node-wide settings recorded in the database (`node_settings`): values that every
 * process and the CLI must agree on, whatever their environment says.
 */
import type { Kysely } from "kysely";
import type { Database } from "../schema.ts";

export async function getNodeSetting<T>(db: Kysely<Database>, name: string): Promise<T | null> {
  const row = await db.selectFrom("node_settings").select("value").where("name", "=", name).executeTakeFirst();
  return row ? (row.value as T) : null;
}

/** Stores `value` unless the setting exists; returns what is stored afterwards (first writer wins). */
export async function insertNodeSettingIfAbsent<T>(db: Kysely<Database>, name: string, value: T, now: Date): Promise<T> {
  await db
    .insertInto("node_settings")
    .values({ name, value: JSON.stringify(value), updated_at: now })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  return (await getNodeSetting<T>(db, name)) as T;
}

export async function putNodeSetting<T>(db: Kysely<Database>, name: string, value: T, now: Date): Promise<void> {
  await db
    .insertInto("node_settings")
    .values({ name, value: JSON.stringify(value), updated_at: now })
    .onConflict((oc) => oc.column("name").doUpdateSet({ value: JSON.stringify(value), updated_at: now }))
    .execute();
}
