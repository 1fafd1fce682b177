// The steward web app: stewards (by role and a per-pod number, never by name), one-time
// sign-in links, server-side sessions, and pod icons uploaded from the web. See
// docs/stewards.md ("The steward web app").
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  // A steward is a role held by someone the pod trusts; the node knows them only as
  // "Steward 3" of the pod, who invited them, and when they stepped down.
  await db.schema
    .createTable("stewards")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("number", "integer", (c) => c.notNull().check(sql`number > 0`))
    .addColumn("role", "text", (c) => c.notNull().check(sql`role in ('steward')`))
    .addColumn("invited_by", "uuid", (c) => c.references("stewards.id"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("ended_at", "timestamptz")
    .addUniqueConstraint("stewards_pod_number_unique", ["pod_id", "number"])
    .execute();

  // One-time sign-in links. Only a digest of the secret is kept; the link is shown once.
  // steward_id null: the link makes a new steward; set: it signs that steward in again.
  await db.schema
    .createTable("steward_invites")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("secret_digest", "text", (c) => c.notNull().unique())
    .addColumn("steward_id", "uuid", (c) => c.references("stewards.id"))
    // Who made it: a steward, or null for the node's operator (the CLI).
    .addColumn("created_by", "uuid", (c) => c.references("stewards.id"))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("used_at", "timestamptz")
    .execute();

  // Server-side sessions: the cookie holds a random secret, the row its digest.
  await db.schema
    .createTable("steward_sessions")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("steward_id", "uuid", (c) => c.notNull().references("stewards.id"))
    .addColumn("secret_digest", "text", (c) => c.notNull().unique())
    // The synchronizer token every form of this session carries.
    .addColumn("csrf_token", "text", (c) => c.notNull())
    // A coarse description of the browser ("Chrome on Android"), never an address.
    .addColumn("device", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("last_seen_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("ended_at", "timestamptz")
    .execute();
  await db.schema.createIndex("steward_sessions_pod_idx").on("steward_sessions").columns(["pod_id", "ended_at"]).execute();

  // A pod's icon, uploaded by a steward and served at /pods/{slug}/icon.
  await db.schema
    .createTable("pod_icons")
    .addColumn("pod_id", "uuid", (c) => c.primaryKey().references("pods.id").onDelete("cascade"))
    .addColumn("media_type", "text", (c) => c.notNull().check(sql`media_type in ('image/png', 'image/jpeg', 'image/webp', 'image/gif')`))
    .addColumn("bytes", "bytea", (c) => c.notNull())
    .addColumn("digest", "text", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("pod_icons").execute();
  await db.schema.dropTable("steward_sessions").execute();
  await db.schema.dropTable("steward_invites").execute();
  await db.schema.dropTable("stewards").execute();
}
