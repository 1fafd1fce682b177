// The People's Service Charter: append-only revisions per pod, the charter's publication
// state, its history of published activities, and copies of other pods' charters.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("charter_revisions")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("number", "integer", (c) => c.notNull().check(sql`number > 0`))
    // CharterContent: title, preamble, services, nextServices, assemblyRhythm, meetingPlace, licence.
    .addColumn("content", "jsonb", (c) => c.notNull())
    .addColumn("change_note", "text", (c) => c.notNull())
    // The role that made it, never a person's name.
    .addColumn("made_by_role", "text", (c) => c.notNull().check(sql`made_by_role in ('steward')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("charter_revisions_pod_number_unique", ["pod_id", "number"])
    .execute();

  // Revisions are a public record: the database itself refuses to edit or delete them.
  await sql`
    create function hyphae_refuse_rewrite() returns trigger language plpgsql as $$
    begin
      raise exception '% rows are append-only: add a new row instead', tg_table_name using errcode = 'P0001';
    end $$`.execute(db);
  await sql`
    create trigger charter_revisions_append_only before update or delete on charter_revisions
    for each row execute function hyphae_refuse_rewrite()`.execute(db);

  await db.schema
    .createTable("charters")
    .addColumn("pod_id", "uuid", (c) => c.primaryKey().references("pods.id"))
    .addColumn("current_revision", "integer", (c) => c.notNull())
    .addColumn("published_at", "timestamptz", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    // Last revision or re-confirmation; the charter is due for review 35 days later.
    .addColumn("reviewed_at", "timestamptz", (c) => c.notNull())
    .execute();

  // Every Create / Update the charter went out as (FEP-bad1 history), newest last.
  await db.schema
    .createTable("charter_events")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('create', 'update', 'confirm')`))
    .addColumn("revision", "integer", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("charter_events_pod_idx").on("charter_events").columns(["pod_id", "id"]).execute();
  await sql`
    create trigger charter_events_append_only before update or delete on charter_events
    for each row execute function hyphae_refuse_rewrite()`.execute(db);

  // The current charter of each pod we follow, as structured data.
  await db.schema
    .createTable("remote_charters")
    .addColumn("actor_iri", "text", (c) => c.primaryKey().references("remote_actors.iri"))
    .addColumn("object_iri", "text", (c) => c.notNull())
    .addColumn("revision", "integer", (c) => c.notNull())
    .addColumn("object_updated_at", "timestamptz", (c) => c.notNull())
    // YYYY-MM-DD as text: pg and PGlite parse the date type differently.
    .addColumn("reviewed_on", "text", (c) => c.check(sql`reviewed_on ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`))
    .addColumn("content", "jsonb", (c) => c.notNull())
    .addColumn("fetched_at", "timestamptz", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("remote_charters").ifExists().execute();
  await db.schema.dropTable("charter_events").ifExists().execute();
  await db.schema.dropTable("charters").ifExists().execute();
  await db.schema.dropTable("charter_revisions").ifExists().execute();
  await sql`drop function if exists hyphae_refuse_rewrite()`.execute(db);
}
