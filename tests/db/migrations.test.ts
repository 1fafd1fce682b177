/**
 * Migrations on the database the test run selects (PGlite or PostgreSQL): they apply
 * from an empty database, are idempotent, produce exactly the tables and columns that
 * src/db/schema.ts declares, and the foundation's `down` removes everything it made.
 *
 * EXPECTED is checked against schema.ts by the type checker (`npm run lint`): it must
 * list every table and column of `Database`, no others, and mark exactly the columns
 * whose selected type includes null as nullable. The test then checks the migrated
 * database against EXPECTED, so neither side can drift from the other.
 */
import fs from "node:fs";
import { sql, type Kysely, type Selectable } from "kysely";
import { NO_MIGRATIONS } from "kysely/migration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { MIGRATIONS_DIR, createMigrator, migrateToLatest } from "../../src/db/migrate.ts";
import type { Database } from "../../src/db/schema.ts";
import { TEST_DATABASE, createTestDatabase } from "../helpers/db.ts";

type Columns<Row> = { readonly [C in keyof Row]-?: readonly [dataType: string, nullable: null extends Row[C] ? true : false] };
type ExpectedSchema = { readonly [T in keyof Database]: Columns<Selectable<Database[T]>> };

const TIMESTAMPTZ = "timestamp with time zone";

const EXPECTED = {
  pods: {
    id: ["uuid", false],
    slug: ["text", false],
    name: ["text", false],
    summary: ["text", false],
    icon_url: ["text", true],
    manually_approves_followers: ["boolean", false],
    network_visibility: ["text", false],
    created_at: [TIMESTAMPTZ, false],
    updated_at: [TIMESTAMPTZ, false],
    retired_at: [TIMESTAMPTZ, true],
  },
  pod_keys: {
    pod_id: ["uuid", false],
    algorithm: ["text", false],
    public_jwk: ["jsonb", false],
    private_jwk: ["jsonb", false],
    created_at: [TIMESTAMPTZ, false],
  },
  remote_actors: {
    iri: ["text", false],
    handle: ["text", true],
    name: ["text", true],
    url: ["text", true],
    inbox: ["text", false],
    shared_inbox: ["text", true],
    actor_type: ["text", true],
    updated_at: [TIMESTAMPTZ, false],
  },
  followers: {
    pod_id: ["uuid", false],
    actor_iri: ["text", false],
    follow_iri: ["text", false],
    status: ["text", false],
    created_at: [TIMESTAMPTZ, false],
    updated_at: [TIMESTAMPTZ, false],
  },
  following: {
    pod_id: ["uuid", false],
    actor_iri: ["text", false],
    follow_iri: ["text", false],
    status: ["text", false],
    created_at: [TIMESTAMPTZ, false],
    updated_at: [TIMESTAMPTZ, false],
  },
  outbox_events: {
    id: ["bigint", false],
    pod_id: ["uuid", false],
    kind: ["text", false],
    payload: ["jsonb", false],
    created_at: [TIMESTAMPTZ, false],
    sent_at: [TIMESTAMPTZ, true],
    ordering_key: ["text", false],
    attempts: ["integer", false],
    next_attempt_at: [TIMESTAMPTZ, false],
    lease_until: [TIMESTAMPTZ, true],
    leased_by: ["text", true],
    last_error: ["text", true],
    dead_at: [TIMESTAMPTZ, true],
    retried_at: [TIMESTAMPTZ, true],
  },
  node_secrets: {
    name: ["text", false],
    // `unknown` includes null for the type checker; the column itself is not null.
    value: ["jsonb", true],
    created_at: [TIMESTAMPTZ, false],
  },
  steward_tokens: {
    jti: ["uuid", false],
    pod_id: ["uuid", false],
    role: ["text", false],
    label: ["text", true],
    issued_at: [TIMESTAMPTZ, false],
    expires_at: [TIMESTAMPTZ, false],
    revoked_at: [TIMESTAMPTZ, true],
  },
  stewards: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    number: ["integer", false],
    role: ["text", false],
    invited_by: ["uuid", true],
    created_at: [TIMESTAMPTZ, false],
    ended_at: [TIMESTAMPTZ, true],
  },
  steward_invites: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    secret_digest: ["text", false],
    steward_id: ["uuid", true],
    created_by: ["uuid", true],
    created_at: [TIMESTAMPTZ, false],
    expires_at: [TIMESTAMPTZ, false],
    used_at: [TIMESTAMPTZ, true],
  },
  steward_sessions: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    steward_id: ["uuid", false],
    secret_digest: ["text", false],
    csrf_token: ["text", false],
    device: ["text", false],
    created_at: [TIMESTAMPTZ, false],
    last_seen_at: [TIMESTAMPTZ, false],
    expires_at: [TIMESTAMPTZ, false],
    ended_at: [TIMESTAMPTZ, true],
  },
  steward_passkeys: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    steward_id: ["uuid", false],
    credential_id: ["text", false],
    public_key: ["bytea", false],
    counter: ["bigint", false],
    transports: ["text", false],
    device_type: ["text", false],
    backed_up: ["boolean", false],
    name: ["text", false],
    created_at: [TIMESTAMPTZ, false],
    last_used_at: [TIMESTAMPTZ, true],
  },
  steward_passkey_challenges: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    purpose: ["text", false],
    session_id: ["uuid", true],
    challenge: ["text", false],
    created_at: [TIMESTAMPTZ, false],
    expires_at: [TIMESTAMPTZ, false],
    used_at: [TIMESTAMPTZ, true],
  },
  pod_icons: {
    pod_id: ["uuid", false],
    media_type: ["text", false],
    bytes: ["bytea", false],
    digest: ["text", false],
    updated_at: [TIMESTAMPTZ, false],
  },
  fedify_kv: {
    key: ["text", false],
    // `unknown` includes null for the type checker; the column itself is not null.
    value: ["jsonb", true],
    expires_at: [TIMESTAMPTZ, true],
  },
  fedify_queue: {
    id: ["bigint", false],
    // As above: Json<unknown>.
    message: ["jsonb", true],
    ordering_key: ["text", true],
    available_at: [TIMESTAMPTZ, false],
    created_at: [TIMESTAMPTZ, false],
    lease_until: [TIMESTAMPTZ, true],
    leased_by: ["text", true],
    attempts: ["integer", false],
    last_error: ["text", true],
  },
  fedify_queue_dead: {
    id: ["bigint", false],
    message: ["jsonb", true],
    ordering_key: ["text", true],
    attempts: ["integer", false],
    last_error: ["text", true],
    created_at: [TIMESTAMPTZ, false],
    dead_at: [TIMESTAMPTZ, false],
  },
  charter_revisions: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    number: ["integer", false],
    content: ["jsonb", false],
    change_note: ["text", false],
    made_by_role: ["text", false],
    created_at: [TIMESTAMPTZ, false],
  },
  charters: {
    pod_id: ["uuid", false],
    current_revision: ["integer", false],
    published_at: [TIMESTAMPTZ, false],
    updated_at: [TIMESTAMPTZ, false],
    reviewed_at: [TIMESTAMPTZ, false],
  },
  charter_events: {
    id: ["bigint", false],
    pod_id: ["uuid", false],
    kind: ["text", false],
    revision: ["integer", false],
    created_at: [TIMESTAMPTZ, false],
  },
  remote_charters: {
    actor_iri: ["text", false],
    object_iri: ["text", false],
    revision: ["integer", false],
    object_updated_at: [TIMESTAMPTZ, false],
    reviewed_on: ["text", true],
    content: ["jsonb", false],
    fetched_at: [TIMESTAMPTZ, false],
  },
  idempotency_keys: {
    scope: ["text", false],
    key: ["text", false],
    fingerprint: ["text", false],
    result: ["jsonb", true],
    created_at: [TIMESTAMPTZ, false],
  },
  inbox_activities: {
    key: ["text", false],
    actor_iri: ["text", false],
    activity_type: ["text", false],
    outcome: ["text", false],
    reason: ["text", true],
    received_at: [TIMESTAMPTZ, false],
  },
  node_settings: {
    name: ["text", false],
    value: ["jsonb", true],
    updated_at: [TIMESTAMPTZ, false],
  },
  book_settings: {
    pod_id: ["uuid", false],
    currency: ["text", false],
    allow_overdraw: ["boolean", false],
    auto_periods: ["jsonb", false],
    invoice_addressee: ["text", true],
    updated_at: [TIMESTAMPTZ, false],
  },
  book_resources: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    key: ["text", false],
    name: ["text", false],
    unit: ["text", false],
    category: ["text", false],
    specification_uri: ["text", true],
    reference_price: ["numeric", true],
    reference_price_source: ["text", true],
    reference_price_on: ["text", true],
    created_at: [TIMESTAMPTZ, false],
    updated_at: [TIMESTAMPTZ, false],
  },
  book_members: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    pseudonym: ["text", false],
    name: ["text", false],
    contact: ["text", true],
    created_at: [TIMESTAMPTZ, false],
  },
  ledger_imports: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    file_sha256: ["text", false],
    rows: ["integer", false],
    first_seq: ["bigint", true],
    last_seq: ["bigint", true],
    created_at: [TIMESTAMPTZ, false],
  },
  ledger_entries: {
    pod_id: ["uuid", false],
    seq: ["bigint", false],
    id: ["uuid", false],
    kind: ["text", false],
    resource_id: ["uuid", false],
    resource_key: ["text", false],
    unit: ["text", false],
    currency: ["text", false],
    quantity: ["numeric", false],
    fund: ["text", true],
    market_value: ["numeric", false],
    charged: ["numeric", false],
    counterparty_kind: ["text", false],
    member_id: ["uuid", true],
    counterparty: ["text", true],
    public_memo: ["text", false],
    private_memo: ["text", false],
    occurred_at: [TIMESTAMPTZ, false],
    recorded_at: [TIMESTAMPTZ, false],
    corrects_seq: ["bigint", true],
    receipt_number: ["text", true],
    private_salt: ["text", false],
    private_digest: ["text", false],
    prev_hash: ["text", false],
    hash: ["text", false],
    import_id: ["uuid", true],
    agreement_iri: ["text", true],
  },
  ledger_heads: {
    pod_id: ["uuid", false],
    seq: ["bigint", false],
    hash: ["text", false],
    receipts: ["bigint", false],
    updated_at: [TIMESTAMPTZ, false],
  },
  ledger_stock: {
    pod_id: ["uuid", false],
    resource_id: ["uuid", false],
    quantity: ["numeric", false],
  },
  book_indicators: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    key: ["text", false],
    name: ["text", false],
    description: ["text", false],
    source: ["text", false],
    resource_id: ["uuid", true],
    entry_kind: ["text", true],
    created_at: [TIMESTAMPTZ, false],
  },
  book_indicator_counts: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    indicator_id: ["uuid", false],
    counted_on: ["text", false],
    count: ["numeric", false],
    public_note: ["text", false],
    recorded_at: [TIMESTAMPTZ, false],
  },
  book_summaries: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    period_kind: ["text", false],
    period_start: [TIMESTAMPTZ, false],
    period_end: [TIMESTAMPTZ, false],
    version: ["integer", false],
    head_seq: ["bigint", false],
    head_hash: ["text", false],
    entry_count: ["integer", false],
    content: ["jsonb", false],
    digest: ["text", false],
    published_at: [TIMESTAMPTZ, false],
  },
  remote_summaries: {
    id: ["uuid", false],
    actor_iri: ["text", false],
    object_iri: ["text", false],
    period_kind: ["text", false],
    period_start: [TIMESTAMPTZ, false],
    period_end: [TIMESTAMPTZ, false],
    version: ["integer", false],
    head_seq: ["bigint", false],
    head_hash: ["text", false],
    content: ["jsonb", false],
    digest: ["text", false],
    changed_after_publication: ["boolean", false],
    received_at: [TIMESTAMPTZ, false],
  },
  proposals: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    number: ["integer", false],
    purpose: ["text", false],
    action: ["text", false],
    name: ["text", false],
    description: ["text", false],
    resource_id: ["uuid", true],
    unit: ["text", false],
    category: ["text", false],
    specification_uri: ["text", true],
    quantity: ["numeric", false],
    total: ["numeric", false],
    remaining: ["numeric", false],
    minimum: ["numeric", true],
    unit_based: ["boolean", true],
    reciprocal: ["jsonb", true],
    location: ["text", true],
    available_from: [TIMESTAMPTZ, true],
    available_until: [TIMESTAMPTZ, true],
    expires_at: [TIMESTAMPTZ, false],
    urgent: ["boolean", false],
    fund: ["text", true],
    status: ["text", false],
    version: ["integer", false],
    created_at: [TIMESTAMPTZ, false],
    updated_at: [TIMESTAMPTZ, false],
    closed_at: [TIMESTAMPTZ, true],
  },
  remote_proposals: {
    id: ["bigint", false],
    actor_iri: ["text", false],
    object_iri: ["text", false],
    intent_iri: ["text", false],
    purpose: ["text", false],
    action: ["text", false],
    name: ["text", false],
    description: ["text", false],
    unit: ["text", false],
    category: ["text", true],
    specification_uri: ["text", true],
    quantity: ["numeric", true],
    remaining: ["numeric", true],
    minimum: ["numeric", true],
    unit_based: ["boolean", true],
    reciprocal: ["jsonb", true],
    location: ["text", true],
    available_from: [TIMESTAMPTZ, true],
    available_until: [TIMESTAMPTZ, true],
    expires_at: [TIMESTAMPTZ, true],
    urgent: ["boolean", false],
    status: ["text", false],
    remote_updated_at: [TIMESTAMPTZ, false],
    received_at: [TIMESTAMPTZ, false],
  },
  congress_settings: {
    pod_id: ["uuid", false],
    auto_accept_up_to: ["numeric", true],
    strangers: ["text", false],
    stranger_reason: ["text", false],
    updated_at: [TIMESTAMPTZ, false],
  },
  claims: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    direction: ["text", false],
    offer_iri: ["text", false],
    counterpart_iri: ["text", false],
    proposal_id: ["uuid", true],
    remote_proposal_id: ["bigint", true],
    proposal_iri: ["text", false],
    intent_iri: ["text", false],
    purpose: ["text", false],
    quantity: ["numeric", false],
    unit: ["text", false],
    resource_id: ["uuid", true],
    status: ["text", false],
    reason: ["text", true],
    decided_by: ["text", true],
    agreement_iri: ["text", true],
    commitment_iri: ["text", true],
    answer_iri: ["text", true],
    created_at: [TIMESTAMPTZ, false],
    decided_at: [TIMESTAMPTZ, true],
  },
  transfers: {
    id: ["uuid", false],
    pod_id: ["uuid", false],
    claim_id: ["uuid", false],
    agreement_iri: ["text", false],
    direction: ["text", false],
    event_iri: ["text", false],
    counterpart_event_iri: ["text", true],
    counterpart_iri: ["text", false],
    quantity: ["numeric", false],
    unit: ["text", false],
    ledger_seq: ["bigint", false],
    occurred_at: [TIMESTAMPTZ, false],
    acknowledged_at: [TIMESTAMPTZ, true],
    discrepancy_by: ["text", true],
    discrepancy_reason: ["text", true],
    discrepancy_at: [TIMESTAMPTZ, true],
    created_at: [TIMESTAMPTZ, false],
  },
} as const satisfies ExpectedSchema;

/** Columns typed `unknown` in schema.ts, whose nullability the type checker cannot see. */
const NOT_NULL_DESPITE_UNKNOWN = new Set(["node_secrets.value", "fedify_kv.value", "fedify_queue.message", "fedify_queue_dead.message", "node_settings.value", "idempotency_keys.result"]);

const BOOKKEEPING = ["hyphae_migrations", "hyphae_migrations_lock"];

const migrationFiles = () =>
  fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((f) => /\.ts$/.test(f))
    .map((f) => f.replace(/\.ts$/, ""))
    .sort();

async function tables(db: Kysely<any>): Promise<string[]> {
  const r = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  return r.rows.map((row) => row.table_name);
}

async function columns(db: Kysely<any>): Promise<Record<string, Record<string, readonly [string, boolean]>>> {
  const r = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: "YES" | "NO" }>`
    select table_name, column_name, data_type, is_nullable from information_schema.columns
    where table_schema = current_schema() order by table_name, ordinal_position`.execute(db);
  const out: Record<string, Record<string, readonly [string, boolean]>> = {};
  for (const row of r.rows) {
    if (BOOKKEEPING.includes(row.table_name)) continue;
    (out[row.table_name] ??= {})[row.column_name] = [row.data_type, row.is_nullable === "YES"];
  }
  return out;
}

/** An empty database of the selected kind. (The helper's PGlite databases start from a migrated template.) */
async function emptyDatabase(): Promise<{ handle: DatabaseHandle; drop(): Promise<void> }> {
  if (TEST_DATABASE === "postgres") return createTestDatabase({ migrate: false });
  const handle = await openDatabase({ memory: true });
  return { handle, drop: () => handle.close() };
}

let database: { handle: DatabaseHandle; drop(): Promise<void> };
let db: Kysely<any>;

beforeAll(async () => {
  database = await emptyDatabase();
  db = database.handle.db;
});

afterAll(async () => {
  await database?.drop();
});

describe(`migrations on ${TEST_DATABASE}`, () => {
  it("start from an empty database", async () => {
    expect(await tables(db)).toEqual([]);
    expect(migrationFiles()).toContain("20261123000000_foundation");
  });

  it("apply every migration once, and a second run applies nothing", async () => {
    expect(await migrateToLatest(db)).toEqual(migrationFiles());
    expect(await migrateToLatest(db)).toEqual([]);
    const recorded = await sql<{ name: string }>`select name from hyphae_migrations order by name`.execute(db);
    expect(recorded.rows.map((r) => r.name)).toEqual(migrationFiles());
  });

  it("create exactly the tables and columns declared in src/db/schema.ts", async () => {
    expect(await tables(db)).toEqual([...Object.keys(EXPECTED), ...BOOKKEEPING].sort());
    const actual = await columns(db);
    const expected: Record<string, Record<string, readonly [string, boolean]>> = {};
    for (const [table, cols] of Object.entries(EXPECTED)) {
      expected[table] = {};
      for (const [column, [type, nullable]] of Object.entries(cols)) {
        expected[table][column] = [type, nullable && !NOT_NULL_DESPITE_UNKNOWN.has(`${table}.${column}`)];
      }
    }
    expect(actual).toEqual(expected);
    // The exceptions name real columns.
    for (const name of NOT_NULL_DESPITE_UNKNOWN) expect(actual[name.split(".")[0]!]).toHaveProperty([name.split(".")[1]!]);
  });

  it("create the foreign keys that cascade from pods", async () => {
    const r = await sql<{ table_name: string; delete_rule: string }>`
      select tc.table_name, rc.delete_rule
      from information_schema.table_constraints tc
      join information_schema.referential_constraints rc
        on rc.constraint_name = tc.constraint_name and rc.constraint_schema = tc.constraint_schema
      join information_schema.constraint_column_usage ccu
        on ccu.constraint_name = tc.constraint_name and ccu.constraint_schema = tc.constraint_schema
      where tc.table_schema = current_schema() and tc.constraint_type = 'FOREIGN KEY' and ccu.table_name = 'pods'
      order by tc.table_name`.execute(db);
    // Charter records and the books are a public, append-only history: they keep their pod from being deleted.
    expect(r.rows).toEqual(
      [
        ["book_indicator_counts", "NO ACTION"],
        ["book_indicators", "CASCADE"],
        ["book_members", "CASCADE"],
        ["book_resources", "CASCADE"],
        ["book_settings", "CASCADE"],
        ["book_summaries", "NO ACTION"],
        ["charter_events", "NO ACTION"],
        ["charter_revisions", "NO ACTION"],
        ["charters", "NO ACTION"],
        ["claims", "CASCADE"],
        ["congress_settings", "CASCADE"],
        ["followers", "CASCADE"],
        ["following", "CASCADE"],
        ["ledger_entries", "NO ACTION"],
        ["ledger_heads", "NO ACTION"],
        ["ledger_imports", "NO ACTION"],
        ["ledger_stock", "NO ACTION"],
        ["outbox_events", "CASCADE"],
        ["pod_icons", "CASCADE"],
        ["pod_keys", "CASCADE"],
        ["proposals", "CASCADE"],
        ["steward_invites", "CASCADE"],
        ["steward_passkey_challenges", "CASCADE"],
        ["steward_passkeys", "CASCADE"],
        ["steward_sessions", "CASCADE"],
        ["steward_tokens", "CASCADE"],
        ["stewards", "CASCADE"],
        ["transfers", "CASCADE"],
      ].map(([table_name, delete_rule]) => ({ table_name, delete_rule })),
    );
  });

  it("the foundation's down drops everything it created, and up works again", async () => {
    // Something in the tables, so down must really drop data, not just empty tables.
    await sql`insert into pods (id, slug, name) values (${crypto.randomUUID()}, 'oak-street', 'Oak Street')`.execute(db);
    await sql`insert into fedify_queue (message) values ('{}'::jsonb)`.execute(db);

    const { error, results } = await createMigrator(db).migrateTo(NO_MIGRATIONS);
    expect(error).toBeUndefined();
    expect(results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      [...migrationFiles()].reverse().map((name) => [name, "Down", "Success"]),
    );
    expect(await tables(db)).toEqual(BOOKKEEPING);
    const indexes = await sql<{ indexname: string }>`
      select indexname from pg_indexes where schemaname = current_schema() and tablename not like 'hyphae_migrations%'`.execute(db);
    expect(indexes.rows).toEqual([]);

    expect(await migrateToLatest(db)).toEqual(migrationFiles());
    expect(Object.keys(await columns(db)).sort()).toEqual(Object.keys(EXPECTED).sort());
    const pods = await sql<{ n: string }>`select count(*) as n from pods`.execute(db);
    expect(pods.rows[0]?.n).toBe("0");
  });
});

