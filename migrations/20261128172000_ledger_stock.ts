// The current stock of each resource, kept beside the chain head and changed in the same
// transaction as every append, so checking a draw against the stock is one row read
// instead of a sum over the whole ledger. Stock at a past date is still summed from the
// entries (by occurred_at).
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("ledger_stock")
    .addColumn("pod_id", "uuid", (c) => c.notNull().references("pods.id"))
    .addColumn("resource_id", "uuid", (c) => c.notNull().references("book_resources.id"))
    .addColumn("quantity", "numeric", (c) => c.notNull())
    .addPrimaryKeyConstraint("ledger_stock_pkey", ["pod_id", "resource_id"])
    .execute();
  // Books written before this table existed.
  await sql`
    insert into ledger_stock (pod_id, resource_id, quantity)
    select e.pod_id, e.resource_id,
      sum(e.quantity * case when coalesce(t.kind, e.kind) in ('contribution', 'transfer_in') then 1 else -1 end)
    from ledger_entries e
    left join ledger_entries t on t.pod_id = e.pod_id and t.seq = e.corrects_seq
    group by e.pod_id, e.resource_id`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("ledger_stock").ifExists().execute();
}
