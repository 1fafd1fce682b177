// Protected follower lists. A pod's followers and following collections show only their size
// to the public unless the pod opens them (`network_visibility`); other pods may still be
// listed, people may not, so the type of each remote actor is kept (`actor_type`: the
// ActivityStreams type, e.g. Group or Person; null when not yet known, which counts as a person).
import { sql, type Kysely } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("pods")
    .addColumn("network_visibility", "text", (c) => c.notNull().defaultTo("hidden").check(sql`network_visibility in ('hidden', 'public')`))
    .execute();
  await db.schema.alterTable("remote_actors").addColumn("actor_type", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("remote_actors").dropColumn("actor_type").execute();
  await db.schema.alterTable("pods").dropColumn("network_visibility").execute();
}
