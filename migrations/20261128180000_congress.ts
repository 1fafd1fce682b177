// Congress: the pod's own offers and needs (FEP-0837 proposals), copies of its neighbours'
// offers and needs, claims between pods (both directions), transfers that land in both
// ledgers, and per-pod rules for answering claims. See docs/congress.md.
import { type Kysely, sql } from "kysely";

const QUANTITY = "numeric(24, 6)";

export async function up(db: Kysely<any>): Promise<void> {
  // Our own offers (purpose offer) and needs (purpose request). `number` is the pod's own
  // sequence: the proposal's id is /pods/{slug}/offers/{number} or /needs/{number}.
  await db.schema
    .createTable("proposals")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("number", "integer", (c) => c.notNull().check(sql`number > 0`))
    .addColumn("purpose", "text", (c) => c.notNull().check(sql`purpose in ('offer', 'request')`))
    // ValueFlows action of the primary intent: transfer or deliverService.
    .addColumn("action", "text", (c) => c.notNull().check(sql`action in ('transfer', 'deliverService')`))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    // The pod's own resource in its books (offers usually have one; needs may not).
    .addColumn("resource_id", "uuid", (c) => c.references("book_resources.id"))
    // OM2 unit id or currency code; the resource category; a specification URI (Wikidata…).
    .addColumn("unit", "text", (c) => c.notNull())
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("specification_uri", "text")
    // FEP-0837 quantities: `quantity` is the intent's resourceQuantity (the whole amount, or
    // one lot when unit_based), `total` the availableQuantity first offered, `remaining` what
    // is left of it now, `minimum` the minimumQuantity of one claim.
    .addColumn("quantity", sql.raw(QUANTITY), (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn("total", sql.raw(QUANTITY), (c) => c.notNull().check(sql`total > 0`))
    .addColumn("remaining", sql.raw(QUANTITY), (c) => c.notNull().check(sql`remaining >= 0 and remaining <= total`))
    .addColumn("minimum", sql.raw(QUANTITY), (c) => c.check(sql`minimum > 0`))
    // FEP-0837 unitBased: null = any amount; true = whole multiples of `quantity`; false = exactly `quantity`.
    .addColumn("unit_based", "boolean")
    // What is wanted back, if anything: {name, unit, quantity, specificationUri} (JSON).
    .addColumn("reciprocal", "jsonb")
    // A coarse place (a street or neighbourhood, never an address).
    .addColumn("location", "text")
    .addColumn("available_from", "timestamptz")
    .addColumn("available_until", "timestamptz")
    .addColumn("expires_at", "timestamptz", (c) => c.notNull())
    // A shared crisis (needs only): federated at once, shown first, #MutualAidUrgent.
    .addColumn("urgent", "boolean", (c) => c.notNull().defaultTo(false))
    // The fund a transfer out of this offer is booked to (outflows need one).
    .addColumn("fund", "text", (c) => c.check(sql`fund in ('survival', 'capacity_building', 'power_shifting')`))
    // open → withdrawn | expired | fulfilled (remaining reached 0). Closed proposals stay.
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open").check(sql`status in ('open', 'withdrawn', 'expired', 'fulfilled')`))
    // Bumped on every change that federates (Create at 1, Update after).
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .addColumn("closed_at", "timestamptz")
    .addUniqueConstraint("proposals_pod_number_unique", ["pod_id", "number"])
    .execute();
  await db.schema.createIndex("proposals_open_idx").on("proposals").columns(["status", "expires_at"]).execute();

  // Offers and needs of pods we follow, as last received (one row per proposal id).
  await db.schema
    .createTable("remote_proposals")
    .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("actor_iri", "text", (c) => c.notNull().references("remote_actors.iri"))
    .addColumn("object_iri", "text", (c) => c.notNull().unique())
    // The intent the claims name (`satisfies`): object_iri#primary for FEP-0837 proposals.
    .addColumn("intent_iri", "text", (c) => c.notNull())
    .addColumn("purpose", "text", (c) => c.notNull().check(sql`purpose in ('offer', 'request')`))
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("unit", "text", (c) => c.notNull())
    .addColumn("category", "text")
    .addColumn("specification_uri", "text")
    // Null: any amount (FEP-0837 allows a quantity without a value).
    .addColumn("quantity", sql.raw(QUANTITY))
    .addColumn("remaining", sql.raw(QUANTITY))
    .addColumn("minimum", sql.raw(QUANTITY))
    // Null: not said (any amount); true: multiples of the quantity; false: exact amounts.
    .addColumn("unit_based", "boolean")
    .addColumn("reciprocal", "jsonb")
    .addColumn("location", "text")
    .addColumn("available_from", "timestamptz")
    .addColumn("available_until", "timestamptz")
    .addColumn("expires_at", "timestamptz")
    .addColumn("urgent", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open").check(sql`status in ('open', 'withdrawn', 'expired', 'fulfilled')`))
    // The remote `updated` (or `published`) time: older copies never overwrite newer ones.
    .addColumn("remote_updated_at", "timestamptz", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("remote_proposals_actor_idx").on("remote_proposals").columns(["actor_iri", "status"]).execute();

  // Per-pod rules for claims on the pod's proposals; a pod without a row uses the defaults.
  await db.schema
    .createTable("congress_settings")
    .addColumn("pod_id", "uuid", (c) => c.primaryKey().references("pods.id").onDelete("cascade"))
    // Accept claims from congress neighbours automatically, up to this quantity per claim
    // (null: never automatically).
    .addColumn("auto_accept_up_to", sql.raw(QUANTITY), (c) => c.check(sql`auto_accept_up_to >= 0`))
    // Claims from pods that are not neighbours: 'reject' at once, or 'review' by stewards.
    .addColumn("strangers", "text", (c) => c.notNull().defaultTo("reject").check(sql`strangers in ('reject', 'review')`))
    // The reason sent with a Reject to a pod that is not a neighbour.
    .addColumn("stranger_reason", "text", (c) => c.notNull().defaultTo("Claims are open to our congress neighbours: pods we follow and that follow us."))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull())
    .execute();

  // Claims: `outgoing` (our pod claims a neighbour's proposal: we sent the Offer) and
  // `incoming` (a pod claims one of ours: we answer it). The Offer activity's id is the key.
  await db.schema
    .createTable("claims")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("direction", "text", (c) => c.notNull().check(sql`direction in ('outgoing', 'incoming')`))
    // The Offer(Agreement) activity's id: ours (/pods/{slug}/claims/{id}) or the claimant's.
    .addColumn("offer_iri", "text", (c) => c.notNull().unique())
    .addColumn("counterpart_iri", "text", (c) => c.notNull().references("remote_actors.iri"))
    // incoming: our proposal; outgoing: the neighbour's proposal as we hold it.
    .addColumn("proposal_id", "uuid", (c) => c.references("proposals.id"))
    .addColumn("remote_proposal_id", "bigint", (c) => c.references("remote_proposals.id"))
    .addColumn("proposal_iri", "text", (c) => c.notNull())
    .addColumn("intent_iri", "text", (c) => c.notNull())
    // Whether the proposal claimed is an offer (the proposer gives) or a request (the claimant gives).
    .addColumn("purpose", "text", (c) => c.notNull().check(sql`purpose in ('offer', 'request')`))
    .addColumn("quantity", sql.raw(QUANTITY), (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn("unit", "text", (c) => c.notNull())
    // Our own resource to book the transfer to or from (optional; matched or created otherwise).
    .addColumn("resource_id", "uuid", (c) => c.references("book_resources.id"))
    .addColumn("status", "text", (c) => c.notNull().defaultTo("pending").check(sql`status in ('pending', 'accepted', 'rejected')`))
    .addColumn("reason", "text")
    // Whether a steward decided, or the pod's rules did.
    .addColumn("decided_by", "text", (c) => c.check(sql`decided_by in ('steward', 'rule')`))
    // Set once accepted: the Agreement's id (the proposer's) and the commitment it stipulates.
    .addColumn("agreement_iri", "text", (c) => c.unique())
    .addColumn("commitment_iri", "text")
    // The Accept or Reject activity's id (ours for incoming, theirs for outgoing).
    .addColumn("answer_iri", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addColumn("decided_at", "timestamptz")
    .execute();
  await db.schema.createIndex("claims_pod_status_idx").on("claims").columns(["pod_id", "status", "created_at"]).execute();

  // Transfers: one per agreement and side. `out` when our pod gave (it booked transfer_out),
  // `in` when it received (transfer_in). Each side's EconomicEvent is its own record.
  await db.schema
    .createTable("transfers")
    .addColumn("id", "uuid", (c) => c.primaryKey())
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id").onDelete("cascade"))
    .addColumn("claim_id", "uuid", (c) => c.notNull().references("claims.id"))
    .addColumn("agreement_iri", "text", (c) => c.notNull())
    .addColumn("direction", "text", (c) => c.notNull().check(sql`direction in ('out', 'in')`))
    // Our EconomicEvent's id (/pods/{slug}/transfers/{id}) and the other side's, once known.
    .addColumn("event_iri", "text", (c) => c.notNull().unique())
    .addColumn("counterpart_event_iri", "text")
    .addColumn("counterpart_iri", "text", (c) => c.notNull())
    .addColumn("quantity", sql.raw(QUANTITY), (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn("unit", "text", (c) => c.notNull())
    // The seq of the ledger entry this side booked.
    .addColumn("ledger_seq", "bigint", (c) => c.notNull())
    .addColumn("occurred_at", "timestamptz", (c) => c.notNull())
    // Set when the other side's event arrived and matched.
    .addColumn("acknowledged_at", "timestamptz")
    // A discrepancy either side flagged: who ('us' | 'them'), why, when.
    .addColumn("discrepancy_by", "text", (c) => c.check(sql`discrepancy_by in ('us', 'them')`))
    .addColumn("discrepancy_reason", "text")
    .addColumn("discrepancy_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull())
    .addUniqueConstraint("transfers_agreement_side_unique", ["pod_id", "agreement_iri", "direction"])
    .execute();

  // Transfer entries carry the agreement they fulfil (part of the public, hashed entry when set).
  await db.schema.alterTable("ledger_entries").addColumn("agreement_iri", "text").execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("ledger_entries").dropColumn("agreement_iri").execute();
  for (const table of ["transfers", "claims", "congress_settings", "remote_proposals", "proposals"]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
