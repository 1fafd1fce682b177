// Optional passkeys (WebAuthn) for stewards: a credential belongs to one steward of one pod;
// the challenges of its ceremonies are kept here, each used once and briefly. See
// docs/stewards.md ("Passkeys").
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("steward_passkeys")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("steward_id", "uuid", (c) => c.notNull().references("stewards.id").onDelete("cascade"))
    // The credential id (base64url) as the authenticator reports it: unique on the whole node.
    .addColumn("credential_id", "text", (c) => c.notNull().unique())
    // The COSE public key, as the authenticator gave it at registration.
    .addColumn("public_key", "bytea", (c) => c.notNull())
    // The signature counter (0 for authenticators that keep none): a lower one means a clone.
    .addColumn("counter", "bigint", (c) => c.notNull().defaultTo(0).check(sql`counter >= 0`))
    .addColumn("transports", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("device_type", "text", (c) => c.notNull().check(sql`device_type in ('singleDevice', 'multiDevice')`))
    .addColumn("backed_up", "boolean", (c) => c.notNull())
    // What the steward called it ("my phone"): plain text, shown only on the steward pages.
    .addColumn("name", "text", (c) => c.notNull().check(sql`char_length(name) between 1 and 60`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("last_used_at", "timestamptz")
    .execute();
  await db.schema.createIndex("steward_passkeys_steward_idx").on("steward_passkeys").column("steward_id").execute();

  // One row per ceremony: registration is bound to the session that asked, sign-in to the pod.
  await db.schema
    .createTable("steward_passkey_challenges")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("purpose", "text", (c) => c.notNull().check(sql`purpose in ('register', 'sign-in')`))
    .addColumn("session_id", "uuid", (c) => c.references("steward_sessions.id").onDelete("cascade"))
    .addColumn("challenge", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("used_at", "timestamptz")
    .addCheckConstraint("steward_passkey_challenges_session_check", sql`(purpose = 'register') = (session_id is not null)`)
    .execute();
  await db.schema.createIndex("steward_passkey_challenges_expiry_idx").on("steward_passkey_challenges").column("expires_at").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("steward_passkey_challenges").execute();
  await db.schema.dropTable("steward_passkeys").execute();
}
