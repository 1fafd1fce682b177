/**
 * The congress view's read of neighbours' offers and needs (`listNeighbourProposals`), on its
 * own: only open, unexpired copies of the actors asked for; urgent first, then the newest, ties
 * by id; the limit; exact quantities as text; times as the stored instants.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listNeighbourProposals } from "../../src/db/repos/congress.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

let database: TestDatabase;
const NOW = new Date("2026-11-20T12:00:00.000Z");
const A = "https://a.example/pods/elm";
const B = "https://b.example/pods/ash";
const C = "https://c.example/pods/not-asked";

let n = 0;
async function copy(actor: string, fields: Partial<{ name: string; status: string; urgent: boolean; updated: string; expires: string | null; until: string | null; quantity: string; remaining: string; minimum: string | null }> = {}) {
  n++;
  await database.handle.db
    .insertInto("remote_proposals")
    .values({
      actor_iri: actor,
      object_iri: `${actor}/offers/${n}`,
      intent_iri: `${actor}/offers/${n}#primary`,
      purpose: "offer",
      action: "transfer",
      name: fields.name ?? `Offer ${n}`,
      unit: "kilogram",
      category: "food",
      quantity: fields.quantity ?? "10",
      remaining: fields.remaining ?? "10",
      minimum: fields.minimum ?? null,
      urgent: fields.urgent ?? false,
      status: fields.status ?? "open",
      expires_at: fields.expires === undefined ? "2026-12-31T00:00:00.000Z" : fields.expires,
      available_until: fields.until ?? null,
      remote_updated_at: fields.updated ?? "2026-11-10T00:00:00.000Z",
      received_at: "2026-11-10T00:00:01.000Z",
    } as never)
    .execute();
}

beforeAll(async () => {
  database = await createTestDatabase();
  for (const iri of [A, B, C]) {
    await database.handle.db.insertInto("remote_actors").values({ iri, handle: null, name: null, url: null, inbox: `${iri}/inbox`, shared_inbox: null, actor_type: "Group", updated_at: NOW }).execute();
  }
  await copy(A, { name: "old", updated: "2026-11-01T00:00:00.000Z" });
  await copy(A, { name: "new", updated: "2026-11-15T00:00:00.000Z", quantity: "2.500000", remaining: "1.250000", minimum: "0.500000" });
  await copy(B, { name: "urgent old", urgent: true, updated: "2026-10-01T00:00:00.000Z" });
  await copy(B, { name: "tie 1", updated: "2026-11-05T00:00:00.000Z" });
  await copy(B, { name: "tie 2", updated: "2026-11-05T00:00:00.000Z" });
  await copy(A, { name: "withdrawn", status: "withdrawn" });
  await copy(A, { name: "expired", expires: "2026-11-20T11:59:59.000Z" });
  await copy(B, { name: "window closed", until: "2026-11-19T00:00:00.000Z" });
  await copy(B, { name: "no expiry", expires: null, updated: "2026-11-02T00:00:00.000Z" });
  await copy(C, { name: "not a neighbour", urgent: true });
});

afterAll(async () => {
  await database?.drop();
});

describe("listNeighbourProposals", () => {
  it("reads only the open, unexpired copies of the actors asked for, urgent first, then newest, ties by id", async () => {
    const rows = await listNeighbourProposals(database.handle.db, [A, B], NOW, 100);
    expect(rows.map((r) => r.name)).toEqual(["urgent old", "new", "tie 1", "tie 2", "no expiry", "old"]);
  });

  it("keeps quantities exact, as text without trailing zeros, and times as instants", async () => {
    const [row] = (await listNeighbourProposals(database.handle.db, [A], NOW, 100)).filter((r) => r.name === "new");
    expect(row).toMatchObject({ actorIri: A, purpose: "offer", unit: "kilogram", category: "food", quantity: "2.5", remaining: "1.25", minimum: "0.5", urgent: false });
    expect(row!.expiresAt).toEqual(new Date("2026-12-31T00:00:00.000Z"));
    expect(row!.availableUntil).toBeNull();
  });

  it("stops at the limit, keeping the order; no actors, no rows", async () => {
    const two = await listNeighbourProposals(database.handle.db, [A, B], NOW, 2);
    expect(two.map((r) => r.name)).toEqual(["urgent old", "new"]);
    expect(await listNeighbourProposals(database.handle.db, [], NOW, 10)).toEqual([]);
  });

  it("a copy expiring exactly now is no longer read", async () => {
    const later = new Date("2026-12-31T00:00:00.000Z");
    const rows = await listNeighbourProposals(database.handle.db, [A, B], later, 100);
    expect(rows.map((r) => r.name)).toEqual(["no expiry"]);
  });
});
