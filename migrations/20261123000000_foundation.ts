// Foundation schema: pods and their keys, follow relationships, steward tokens, the
// transactional outbox, and Fedify's key-value store and message queue.
// Migrations are frozen in time: they never import application code.
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("pods")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("slug", "text", (c) => c.notNull().unique())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("summary", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("icon_url", "text")
    .addColumn("manually_approves_followers", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("pod_keys")
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("algorithm", "text", (c) => c.notNull().check(sql`algorithm in ('RSASSA-PKCS1-v1_5', 'Ed25519')`))
    .addColumn("public_jwk", "jsonb", (c) => c.notNull())
    .addColumn("private_jwk", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("pod_keys_pk", ["pod_id", "algorithm"])
    .execute();

  // What we know about actors on other servers: enough to deliver to them and show them.
  await db.schema
    .createTable("remote_actors")
    .addColumn("iri", "text", (c) => c.primaryKey())
    .addColumn("handle", "text")
    .addColumn("name", "text")
    .addColumn("url", "text")
    .addColumn("inbox", "text", (c) => c.notNull())
    .addColumn("shared_inbox", "text")
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("followers")
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("actor_iri", "text", (c) => c.notNull().references("remote_actors.iri"))
    .addColumn("follow_iri", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending', 'accepted')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("followers_pk", ["pod_id", "actor_iri"])
    .execute();
  await db.schema.createIndex("followers_pod_status_idx").on("followers").columns(["pod_id", "status", "created_at"]).execute();

  await db.schema
    .createTable("following")
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("actor_iri", "text", (c) => c.notNull().references("remote_actors.iri"))
    .addColumn("follow_iri", "text", (c) => c.notNull().unique())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending', 'accepted', 'rejected')`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("following_pk", ["pod_id", "actor_iri"])
    .execute();

  // Transactional outbox: services record what must be federated in the same
  // transaction as the change; the publisher sends it after commit.
  await db.schema
    .createTable("outbox_events")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("sent_at", "timestamptz")
    .execute();
  await sql`create index outbox_events_unsent_idx on outbox_events (id) where sent_at is null`.execute(db);

  // Node-wide secrets (the steward-token signing key).
  await db.schema
    .createTable("node_secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("steward_tokens")
    .addColumn("jti", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("role", "text", (c) => c.notNull().check(sql`role in ('steward')`))
    .addColumn("label", "text")
    .addColumn("issued_at", "timestamptz", (c) => c.notNull())
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    .addColumn("revoked_at", "timestamptz")
    .execute();

  // Fedify's key-value store. Keys are JSON-encoded arrays; the C collation lets
  // prefix LIKE queries use the primary-key index.
  await sql`
    create table fedify_kv (
      key text collate "C" primary key,
      value jsonb not null,
      expires_at timestamptz
    )`.execute(db);
  await sql`create index fedify_kv_expires_idx on fedify_kv (expires_at) where expires_at is not null`.execute(db);

  // Fedify's message queue: at-least-once with leases.
  await db.schema
    .createTable("fedify_queue")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("message", "jsonb", (c) => c.notNull())
    .addColumn("ordering_key", "text")
    .addColumn("available_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("lease_until", "timestamptz")
    .addColumn("leased_by", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("fedify_queue_available_idx").on("fedify_queue").columns(["available_at", "id"]).execute();
  await sql`create index fedify_queue_ordering_idx on fedify_queue (ordering_key, id) where ordering_key is not null`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    "fedify_queue",
    "fedify_kv",
    "steward_tokens",
    "node_secrets",
    "outbox_events",
    "following",
    "followers",
    "remote_actors",
    "pod_keys",
    "pods",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
