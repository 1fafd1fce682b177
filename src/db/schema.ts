/**
 * Kysely types for every table. Columns are snake_case as in SQL; repositories map rows
 * to camelCase domain types. A test (tests/db/migrations.test.ts) checks this file
 * against the migrated database so the two cannot drift apart.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";
import type { CounterpartyKind, EntryKind, Fund, PeriodKind } from "../domain/books/model.ts";

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/** jsonb: read as parsed JSON, written as a JSON string (pg would turn JS arrays into SQL arrays). */
type Json<T> = ColumnType<T, string, string>;
/** bigint identity: pg returns int8 as a string. */
type BigIdentity = ColumnType<string, never, never>;

export type NetworkVisibility = "hidden" | "public";

export interface PodsTable {
  id: string;
  slug: string;
  name: string;
  summary: Generated<string>;
  icon_url: string | null;
  manually_approves_followers: Generated<boolean>;
  /** Who sees the members of the followers/following collections: `hidden` shows people only their size. */
  network_visibility: Generated<NetworkVisibility>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** When the pod retired (its actor became a Tombstone); null while it is active. */
  retired_at: Timestamp | null;
}

export interface PodKeysTable {
  pod_id: string;
  algorithm: "RSASSA-PKCS1-v1_5" | "Ed25519";
  public_jwk: Json<JsonWebKey>;
  private_jwk: Json<JsonWebKey>;
  created_at: Timestamp;
}

export interface RemoteActorsTable {
  iri: string;
  handle: string | null;
  name: string | null;
  url: string | null;
  inbox: string;
  shared_inbox: string | null;
  /** ActivityStreams type (Group, Person, Service…) when known; null counts as a person. */
  actor_type: string | null;
  updated_at: Timestamp;
}

export type FollowerStatus = "pending" | "accepted";
export interface FollowersTable {
  pod_id: string;
  actor_iri: string;
  follow_iri: string;
  status: FollowerStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type FollowingStatus = "pending" | "accepted" | "rejected";
export interface FollowingTable {
  pod_id: string;
  actor_iri: string;
  follow_iri: string;
  status: FollowingStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OutboxEventsTable {
  id: BigIdentity;
  pod_id: string;
  kind: string;
  payload: Json<Record<string, unknown>>;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  /** Events with the same key leave in id order (pod + remote actor, or pod + followers). */
  ordering_key: string;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_until: Timestamp | null;
  leased_by: string | null;
  last_error: string | null;
  /** Given up on (a dead letter); `hyphae outbox retry` clears it. */
  dead_at: Timestamp | null;
  /** When an operator last retried it; the give-up age counts from here. */
  retried_at: Timestamp | null;
}

export interface NodeSecretsTable {
  name: string;
  value: Json<unknown>;
  created_at: Timestamp;
}

export interface NodeSettingsTable {
  name: string;
  value: Json<unknown>;
  updated_at: Timestamp;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  fingerprint: string;
  result: Json<unknown>;
  created_at: Timestamp;
}

export type InboxOutcome = "processed" | "refused" | "undone";

/** Activities received in the inbox, by key, recorded in the transaction of their effect. */
export interface InboxActivitiesTable {
  key: string;
  actor_iri: string;
  activity_type: string;
  outcome: InboxOutcome;
  reason: string | null;
  received_at: Timestamp;
}

export interface StewardTokensTable {
  jti: string;
  pod_id: string;
  role: "steward";
  label: string | null;
  issued_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface StewardsTable {
  id: string;
  pod_id: string;
  number: number;
  role: "steward";
  invited_by: string | null;
  created_at: Timestamp;
  ended_at: Timestamp | null;
}

export interface StewardInvitesTable {
  id: string;
  pod_id: string;
  secret_digest: string;
  steward_id: string | null;
  created_by: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface StewardSessionsTable {
  id: string;
  pod_id: string;
  steward_id: string;
  secret_digest: string;
  csrf_token: string;
  device: Generated<string>;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  ended_at: Timestamp | null;
}

export interface StewardPasskeysTable {
  id: string;
  pod_id: string;
  steward_id: string;
  credential_id: string;
  public_key: Uint8Array;
  counter: BigInt8;
  transports: Generated<string>;
  device_type: "singleDevice" | "multiDevice";
  backed_up: boolean;
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

export interface StewardPasskeyChallengesTable {
  id: string;
  pod_id: string;
  purpose: "register" | "sign-in";
  session_id: string | null;
  challenge: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface PodIconsTable {
  pod_id: string;
  media_type: string;
  bytes: Uint8Array;
  digest: string;
  updated_at: Timestamp;
}

export interface FedifyKvTable {
  key: string;
  value: Json<unknown>;
  expires_at: Timestamp | null;
}

export interface FedifyQueueTable {
  id: BigIdentity;
  message: Json<unknown>;
  ordering_key: string | null;
  available_at: Timestamp;
  created_at: Timestamp;
  lease_until: Timestamp | null;
  leased_by: string | null;
  attempts: Generated<number>;
  /** The latest failure (handler error, timeout, lease lost); shown when the message becomes a dead letter. */
  last_error: string | null;
}

/** Queue messages given up on after QUEUE_MAX_ATTEMPTS claims; `hyphae queue retry` re-enqueues them. */
export interface FedifyQueueDeadTable {
  /** The id the message had in fedify_queue. */
  id: ColumnType<string, string, never>;
  message: Json<unknown>;
  ordering_key: string | null;
  attempts: number;
  last_error: string | null;
  created_at: Timestamp;
  dead_at: Timestamp;
}

export interface CharterRevisionsTable {
  id: string;
  pod_id: string;
  number: number;
  content: Json<Record<string, unknown>>;
  change_note: string;
  made_by_role: "steward";
  created_at: Timestamp;
}

export interface ChartersTable {
  pod_id: string;
  current_revision: number;
  published_at: Timestamp;
  updated_at: Timestamp;
  reviewed_at: Timestamp;
}

export interface CharterEventsTable {
  id: BigIdentity;
  pod_id: string;
  kind: "create" | "update" | "confirm";
  revision: number;
  created_at: Timestamp;
}

export interface RemoteChartersTable {
  actor_iri: string;
  object_iri: string;
  revision: number;
  object_updated_at: Timestamp;
  /** YYYY-MM-DD */
  reviewed_on: string | null;
  content: Json<Record<string, unknown>>;
  fetched_at: Timestamp;
}

/** numeric: pg and PGlite return it as a string; written as a decimal string. Never a float. */
type Numeric = ColumnType<string, string, string>;
/** bigint (not identity): read as a string, written as a string or number. */
type BigInt8 = ColumnType<string, string | number, string | number>;

export type { CounterpartyKind, EntryKind, Fund, PeriodKind };

export interface BookSettingsTable {
  pod_id: string;
  currency: Generated<string>;
  allow_overdraw: Generated<boolean>;
  /** Period kinds closed and published automatically. */
  auto_periods: ColumnType<PeriodKind[], string | undefined, string>;
  invoice_addressee: string | null;
  updated_at: Timestamp;
}

export interface BookResourcesTable {
  id: string;
  pod_id: string;
  key: string;
  name: string;
  unit: string;
  category: string;
  specification_uri: string | null;
  reference_price: Numeric | null;
  reference_price_source: string | null;
  /** YYYY-MM-DD */
  reference_price_on: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Name and contact are private: never federated, never in public pages or exports. */
export interface BookMembersTable {
  id: string;
  pod_id: string;
  pseudonym: string;
  name: string;
  contact: string | null;
  created_at: Timestamp;
}

export interface LedgerImportsTable {
  id: string;
  pod_id: string;
  file_sha256: string;
  rows: number;
  first_seq: BigInt8 | null;
  last_seq: BigInt8 | null;
  created_at: Timestamp;
}

/** Append-only (the database refuses UPDATE, DELETE and TRUNCATE). */
export interface LedgerEntriesTable {
  pod_id: string;
  seq: BigInt8;
  id: string;
  kind: EntryKind;
  resource_id: string;
  resource_key: string;
  unit: string;
  currency: string;
  quantity: Numeric;
  fund: Fund | null;
  market_value: Numeric;
  charged: Numeric;
  counterparty_kind: CounterpartyKind;
  member_id: string | null;
  counterparty: string | null;
  public_memo: string;
  private_memo: string;
  occurred_at: Timestamp;
  recorded_at: Timestamp;
  corrects_seq: BigInt8 | null;
  receipt_number: string | null;
  private_salt: string;
  private_digest: string;
  prev_hash: string;
  hash: string;
  import_id: string | null;
  /** The agreement a transfer entry fulfils (congress); null for every other entry. */
  agreement_iri: ColumnType<string | null, string | null | undefined, never>;
}

export interface LedgerHeadsTable {
  pod_id: string;
  seq: BigInt8;
  hash: string;
  receipts: ColumnType<string, string | number | undefined, string | number>;
  updated_at: Timestamp;
}

/** Current stock per resource, changed in the transaction of every append. */
export interface LedgerStockTable {
  pod_id: string;
  resource_id: string;
  quantity: Numeric;
}

export interface BookIndicatorsTable {
  id: string;
  pod_id: string;
  key: string;
  name: string;
  description: string;
  source: "ledger" | "count";
  resource_id: string | null;
  entry_kind: Exclude<EntryKind, "correction"> | null;
  created_at: Timestamp;
}

export interface BookIndicatorCountsTable {
  id: string;
  pod_id: string;
  indicator_id: string;
  /** YYYY-MM-DD */
  counted_on: string;
  count: Numeric;
  public_note: string;
  recorded_at: Timestamp;
}

export interface BookSummariesTable {
  id: string;
  pod_id: string;
  period_kind: PeriodKind;
  period_start: Timestamp;
  period_end: Timestamp;
  version: number;
  head_seq: BigInt8;
  head_hash: string;
  entry_count: number;
  content: Json<Record<string, unknown>>;
  digest: string;
  published_at: Timestamp;
}

export interface RemoteSummariesTable {
  id: string;
  actor_iri: string;
  object_iri: string;
  period_kind: string;
  period_start: Timestamp;
  period_end: Timestamp;
  version: number;
  head_seq: BigInt8;
  head_hash: string;
  content: Json<Record<string, unknown>>;
  digest: string;
  changed_after_publication: Generated<boolean>;
  received_at: Timestamp;
}

// ---------------------------------------------------------------------------------------
// Congress (migration 20261128180000_congress)

import type { ProposalAction, ProposalPurpose, ProposalStatus, ReciprocalTerms } from "../domain/congress/model.ts";
export type { ProposalAction, ProposalPurpose, ProposalStatus, ReciprocalTerms };

export interface ProposalsTable {
  id: string;
  pod_id: string;
  number: number;
  purpose: ProposalPurpose;
  action: ProposalAction;
  name: string;
  description: Generated<string>;
  resource_id: string | null;
  unit: string;
  category: string;
  specification_uri: string | null;
  quantity: Numeric;
  total: Numeric;
  remaining: Numeric;
  minimum: Numeric | null;
  unit_based: boolean | null;
  reciprocal: Json<ReciprocalTerms> | null;
  location: string | null;
  available_from: Timestamp | null;
  available_until: Timestamp | null;
  expires_at: Timestamp;
  urgent: Generated<boolean>;
  fund: Fund | null;
  status: ColumnType<ProposalStatus, ProposalStatus | undefined, ProposalStatus>;
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  closed_at: Timestamp | null;
}

export interface RemoteProposalsTable {
  id: BigIdentity;
  actor_iri: string;
  object_iri: string;
  intent_iri: string;
  purpose: ProposalPurpose;
  action: string;
  name: string;
  description: Generated<string>;
  unit: string;
  category: string | null;
  specification_uri: string | null;
  quantity: Numeric | null;
  remaining: Numeric | null;
  minimum: Numeric | null;
  unit_based: boolean | null;
  reciprocal: Json<ReciprocalTerms> | null;
  location: string | null;
  available_from: Timestamp | null;
  available_until: Timestamp | null;
  expires_at: Timestamp | null;
  urgent: Generated<boolean>;
  status: ColumnType<ProposalStatus, ProposalStatus | undefined, ProposalStatus>;
  remote_updated_at: Timestamp;
  received_at: Timestamp;
}

export interface CongressSettingsTable {
  pod_id: string;
  auto_accept_up_to: Numeric | null;
  strangers: ColumnType<"reject" | "review", "reject" | "review" | undefined, "reject" | "review">;
  stranger_reason: ColumnType<string, string | undefined, string>;
  updated_at: Timestamp;
}

export type ClaimDirection = "outgoing" | "incoming";
export type ClaimStatus = "pending" | "accepted" | "rejected";

export interface ClaimsTable {
  id: string;
  pod_id: string;
  direction: ClaimDirection;
  offer_iri: string;
  counterpart_iri: string;
  proposal_id: string | null;
  remote_proposal_id: BigInt8 | null;
  proposal_iri: string;
  intent_iri: string;
  purpose: ProposalPurpose;
  quantity: Numeric;
  unit: string;
  resource_id: string | null;
  status: ColumnType<ClaimStatus, ClaimStatus | undefined, ClaimStatus>;
  reason: string | null;
  decided_by: "steward" | "rule" | null;
  agreement_iri: string | null;
  commitment_iri: string | null;
  answer_iri: string | null;
  created_at: Timestamp;
  decided_at: Timestamp | null;
}

export interface TransfersTable {
  id: string;
  pod_id: string;
  claim_id: string;
  agreement_iri: string;
  direction: "out" | "in";
  event_iri: string;
  counterpart_event_iri: string | null;
  counterpart_iri: string;
  quantity: Numeric;
  unit: string;
  ledger_seq: BigInt8;
  occurred_at: Timestamp;
  acknowledged_at: Timestamp | null;
  discrepancy_by: "us" | "them" | null;
  discrepancy_reason: string | null;
  discrepancy_at: Timestamp | null;
  created_at: Timestamp;
}

export interface Database {
  pods: PodsTable;
  pod_keys: PodKeysTable;
  remote_actors: RemoteActorsTable;
  followers: FollowersTable;
  following: FollowingTable;
  outbox_events: OutboxEventsTable;
  node_secrets: NodeSecretsTable;
  node_settings: NodeSettingsTable;
  idempotency_keys: IdempotencyKeysTable;
  inbox_activities: InboxActivitiesTable;
  steward_tokens: StewardTokensTable;
  stewards: StewardsTable;
  steward_invites: StewardInvitesTable;
  steward_sessions: StewardSessionsTable;
  steward_passkeys: StewardPasskeysTable;
  steward_passkey_challenges: StewardPasskeyChallengesTable;
  pod_icons: PodIconsTable;
  fedify_kv: FedifyKvTable;
  fedify_queue: FedifyQueueTable;
  fedify_queue_dead: FedifyQueueDeadTable;
  charter_revisions: CharterRevisionsTable;
  charters: ChartersTable;
  charter_events: CharterEventsTable;
  remote_charters: RemoteChartersTable;
  book_settings: BookSettingsTable;
  book_resources: BookResourcesTable;
  book_members: BookMembersTable;
  ledger_imports: LedgerImportsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_heads: LedgerHeadsTable;
  ledger_stock: LedgerStockTable;
  book_indicators: BookIndicatorsTable;
  book_indicator_counts: BookIndicatorCountsTable;
  book_summaries: BookSummariesTable;
  remote_summaries: RemoteSummariesTable;
  proposals: ProposalsTable;
  remote_proposals: RemoteProposalsTable;
  congress_settings: CongressSettingsTable;
  claims: ClaimsTable;
  transfers: TransfersTable;
}

export type PodRow = Selectable<PodsTable>;
export type NewPodRow = Insertable<PodsTable>;
export type PodRowUpdate = Updateable<PodsTable>;
export type RemoteActorRow = Selectable<RemoteActorsTable>;
export type FollowerRow = Selectable<FollowersTable>;
export type FollowingRow = Selectable<FollowingTable>;
export type StewardTokenRow = Selectable<StewardTokensTable>;
export type OutboxEventRow = Selectable<OutboxEventsTable>;
