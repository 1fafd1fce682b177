/**
 * Offers and needs through the service, on a real database (PGlite, or PostgreSQL with
 * HYPHAE_TEST_DATABASE=postgres) and an injected clock:
 *   - create / update / withdraw: each change is a new version with its own outbound
 *     event in the same transaction; a change that changes nothing is no version;
 *   - refused input writes nothing (no row, no event);
 *   - a claim taking from an offer (repo takeRemaining + recordProposalPublished, as the
 *     claims service does) bumps the version; the total never goes below what was taken;
 *   - expiry: fires once per proposal, also with two workers at once, and not before time;
 *   - lists: open by default, urgent first; the admin operations run the same service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { takeRemaining } from "../../src/db/repos/proposals.ts";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import { addResource } from "../../src/services/books.ts";
import { createPod, retirePod } from "../../src/services/pods.ts";
import type { Clock, ServiceDeps } from "../../src/services/ports.ts";
import {
  createProposal,
  expireProposals,
  getProposal,
  listProposals,
  recordProposalPublished,
  updateProposal,
  withdrawProposal,
} from "../../src/services/proposals.ts";
import { createAppContext, type AppContext } from "../../src/wiring.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/db.ts";

class ManualClock implements Clock {
  at = new Date("2026-11-28T12:00:00Z");
  now = () => new Date(this.at);
  set(iso: string) {
    this.at = new Date(iso);
  }
}

const clock = new ManualClock();
let database: TestDatabase;
let app: AppContext;
let deps: ServiceDeps;
const POD = "oak-street";

const errorOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; kind?: string; details?: { field?: string } };
  }
  throw new Error("expected an error");
};

async function events(): Promise<Array<{ proposalId: string; version: number }>> {
  const rows = await deps.db.selectFrom("outbox_events").select(["payload", "created_at"]).where("kind", "=", "proposal_published").orderBy("created_at").execute();
  return rows
    .map((r) => (typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload) as { proposalId: string; version: number })
    .sort((x, y) => x.version - y.version);
}
const proposalCount = async () => Number((await deps.db.selectFrom("proposals").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ PUBLIC_URL: "https://oak.example", POD_SLUG: POD, LOG_LEVEL: "silent", ADMIN_SOCKET: "off", ...(database.url ? { DATABASE_URL: database.url } : {}) });
  app = await createAppContext(config, { database: database.handle, clock });
  deps = app.deps;
  await createPod(deps, { slug: POD, name: "Oak Street" });
  await addResource(deps, POD, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
});

afterAll(async () => {
  await app?.close();
  await database?.drop();
});

describe("the pod's own offers and needs", () => {
  let offerId = "";

  it("creates an offer from a resource: number 1, version 1, one event; its url and intent", async () => {
    const offer = await createProposal(deps, POD, "offer", { resource: "squash", name: "Squash", quantity: "40", availableUntil: "2026-12-05", location: "Oak Street allotments" });
    offerId = offer.id;
    expect(offer).toMatchObject({
      number: 1,
      kind: "offer",
      url: "https://oak.example/pods/oak-street/offers/1",
      intent: "https://oak.example/pods/oak-street/offers/1#primary",
      resource: "squash",
      unit: "kilogram",
      category: "food",
      total: "40",
      remaining: "40",
      fund: "survival",
      status: "open",
      version: 1,
    });
    expect(offer.expiresAt.toISOString()).toBe("2026-12-06T00:00:00.000Z");
    expect(await events()).toEqual([expect.objectContaining({ proposalId: offer.id, version: 1 })]);
    // Needs are numbered on their own path, in the same per-pod sequence.
    const need = await createProposal(deps, POD, "need", { name: "Jars", quantity: "30", unit: "one", category: "food" });
    expect(need.url).toBe("https://oak.example/pods/oak-street/needs/2");
  });

  it("refused input writes nothing", async () => {
    const before = { rows: await proposalCount(), events: (await events()).length };
    expect(await errorOf(createProposal(deps, POD, "offer", { resource: "pumpkin", name: "Pumpkin", quantity: "4" }))).toMatchObject({ code: "UNKNOWN_RESOURCE", details: { field: "resource" } });
    expect(await errorOf(createProposal(deps, POD, "offer", { resource: "squash", name: "Squash", quantity: "4", unit: "litre" }))).toMatchObject({ code: "UNIT_MISMATCH" });
    expect(await errorOf(createProposal(deps, POD, "offer", { resource: "squash", name: "Squash", quantity: "0" }))).toMatchObject({ code: "NOT_POSITIVE" });
    expect(await errorOf(createProposal(deps, POD, "need", { name: "Water", quantity: "4", unit: "litre", category: "water", expiresAt: "2026-11-28T11:59:00Z" }))).toMatchObject({ code: "EXPIRY_IN_PAST" });
    expect(await errorOf(createProposal(deps, "no-such-pod", "offer", { name: "x", quantity: "1", unit: "one", category: "x" }))).toMatchObject({ kind: "not_found" });
    expect(await errorOf(getProposal(deps, POD, "offer", 2))).toMatchObject({ code: "PROPOSAL_NOT_FOUND" });
    expect(await errorOf(getProposal(deps, POD, "offer", "x"))).toMatchObject({ code: "INVALID_NUMBER" });
    expect({ rows: await proposalCount(), events: (await events()).length }).toEqual(before);
  });

  it("an edit is a new version with its event; an edit that changes nothing is not", async () => {
    clock.set("2026-11-28T13:00:00Z");
    const edited = await updateProposal(deps, POD, "offer", 1, { description: "Butternut", total: "50" });
    expect(edited).toMatchObject({ version: 2, description: "Butternut", quantity: "50", total: "50", remaining: "50" });
    expect(edited.updatedAt.toISOString()).toBe("2026-11-28T13:00:00.000Z");
    const same = await updateProposal(deps, POD, "offer", 1, {});
    expect(same.version).toBe(2);
    expect((await events()).filter((e) => e.proposalId === offerId).map((e) => e.version)).toEqual([1, 2]);
  });

  it("a claim taking from it bumps the version; the total never goes below what was taken", async () => {
    clock.set("2026-11-28T14:00:00Z");
    const taken = await deps.db.transaction().execute(async (trx) => {
      const record = await takeRemaining(trx, offerId, "15", clock.now());
      if (record) await recordProposalPublished(deps, trx, record);
      return record;
    });
    expect(taken).toMatchObject({ remaining: "35", version: 3 });
    expect(await errorOf(updateProposal(deps, POD, "offer", 1, { total: "10" }))).toMatchObject({ code: "TOTAL_BELOW_CLAIMED", details: { field: "total" } });
    const raised = await updateProposal(deps, POD, "offer", 1, { total: "60" });
    expect(raised).toMatchObject({ total: "60", remaining: "45", version: 4 });
    expect((await events()).filter((e) => e.proposalId === offerId).map((e) => e.version)).toEqual([1, 2, 3, 4]);
  });

  it("withdrawal: an Update event once; again answers as it is; a closed one takes no edits", async () => {
    const made = await createProposal(deps, POD, "offer", { resource: "squash", name: "Squash soup", quantity: "3" });
    const withdrawn = await withdrawProposal(deps, POD, "offer", made.number);
    expect(withdrawn).toMatchObject({ status: "withdrawn", version: 2 });
    expect(withdrawn.closedAt?.toISOString()).toBe(clock.now().toISOString());
    expect((await withdrawProposal(deps, POD, "offer", made.number)).version).toBe(2);
    expect(await errorOf(updateProposal(deps, POD, "offer", made.number, { name: "Soup" }))).toMatchObject({ code: "PROPOSAL_CLOSED", kind: "conflict" });
    expect((await events()).filter((e) => e.proposalId === made.id).map((e) => e.version)).toEqual([1, 2]);
    // A need number is not an offer.
    expect(await errorOf(withdrawProposal(deps, POD, "offer", 2))).toMatchObject({ code: "PROPOSAL_NOT_FOUND" });
  });

  it("lists open ones by default, urgent needs first; ?status filters", async () => {
    const urgent = await createProposal(deps, POD, "need", { name: "Drinking water", quantity: "200", unit: "litre", category: "water", urgent: true });
    const needs = await listProposals(deps, POD, "need");
    expect(needs.map((n) => n.number)[0]).toBe(urgent.number);
    expect(needs.every((n) => n.status === "open")).toBe(true);
    expect((await listProposals(deps, POD, "offer", { status: "withdrawn" })).map((o) => o.name)).toEqual(["Squash soup"]);
    expect((await listProposals(deps, POD, "offer", { status: "all" })).length).toBe(2);
    expect(await errorOf(listProposals(deps, POD, "offer", { status: "gone" }))).toMatchObject({ code: "INVALID_STATUS" });
  });

  it("expiry fires once per proposal, with two workers at once, and not before its time", async () => {
    const soon = await createProposal(deps, POD, "offer", { resource: "squash", name: "Squash seconds", quantity: "5", expiresAt: "2026-11-29T12:00:00Z" });
    clock.set("2026-11-29T11:59:59Z");
    expect(await expireProposals(deps)).toBe(0);
    // After the expiry: the seconds; the first offer (until 5 December) stays open.
    clock.set("2026-11-29T12:00:00Z");
    const counts = await Promise.all([expireProposals(deps), expireProposals(deps)]);
    expect(counts[0]! + counts[1]!).toBe(1);
    expect(await expireProposals(deps)).toBe(0);
    expect(await getProposal(deps, POD, "offer", soon.number)).toMatchObject({ status: "expired", version: 2 });
    expect((await events()).filter((e) => e.proposalId === soon.id).map((e) => e.version)).toEqual([1, 2]);
    expect((await getProposal(deps, POD, "offer", 1)).status).toBe("open");
    // Everything else left open (the first offer, two needs) is past its expiry by mid-December.
    clock.set("2026-12-20T00:00:00Z");
    expect(await expireProposals(deps)).toBe(3);
    expect(await listProposals(deps, POD, "offer")).toEqual([]);
  });

  it("the admin operations (the CLI) run the same service; a retired pod takes none", async () => {
    clock.set("2026-12-20T01:00:00Z");
    const made = (await runAdminOp(deps, "proposal.add", { pod: POD, purpose: "need", input: { name: "Blankets", quantity: "10", unit: "one", category: "shelter", urgent: true } })) as { number: number; urgent: boolean };
    expect(made.urgent).toBe(true);
    expect(((await runAdminOp(deps, "proposal.show", { pod: POD, purpose: "need", number: made.number })) as { name: string }).name).toBe("Blankets");
    expect(((await runAdminOp(deps, "proposal.update", { pod: POD, purpose: "need", number: made.number, patch: { total: "12" } })) as { total: string }).total).toBe("12");
    expect(((await runAdminOp(deps, "proposal.list", { pod: POD, purpose: "need" })) as unknown[]).length).toBe(1);
    await createPod(deps, { slug: "gone", name: "Gone" });
    await retirePod(deps, "gone");
    expect(await errorOf(runAdminOp(deps, "proposal.add", { pod: "gone", purpose: "offer", input: { name: "x", quantity: "1", unit: "one", category: "x" } }))).toMatchObject({ code: "POD_RETIRED" });
    expect(((await runAdminOp(deps, "proposal.withdraw", { pod: POD, purpose: "need", number: made.number })) as { status: string }).status).toBe("withdrawn");
  });
});
