/**
 * Transfers between pods over real federation on loopback: two Hyphae nodes that follow
 * each other, real signatures, real ledgers.
 *
 * oak-street (node A) offers squash through the steward API (B gets its copy). The
 * agreements are fixture rows on both nodes (A: an incoming claim accepted with A's
 * agreement id; B: its outgoing claim accepted with the same ids), as the claims flow
 * leaves them. Then:
 *   - A records the transfer (API): transfer_out with B as counterparty and the agreement;
 *     B books transfer_in of the same quantity; B's acknowledging event reaches A; both
 *     chains verify; both pages show it;
 *   - a replayed Create and a second delivery (another activity id) book nothing twice;
 *     a second record is 409 TRANSFER_EXISTS; an Idempotency-Key retry replays the answer;
 *   - the reorder: B gets the event while its claim is still pending (transient: retried),
 *     then the claim is decided and the retry books it once;
 *   - a flag from B shows on A's transfer and page; a different quantity acknowledged is
 *     flagged by 'them' automatically; a rejected claim refuses the event;
 *   - every bad input's code (API), the admin ops the CLI runs.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideClaim, insertClaim } from "../../src/db/repos/claims.ts";
import { getPodBySlug } from "../../src/db/repos/pods.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { economicEventFacts } from "../../src/federation/inbox/transfers.ts";
import { runAdminOp } from "../../src/services/admin-ops.ts";
import { addResource } from "../../src/services/books.ts";
import { findReceivedActivity } from "../../src/services/inbox.ts";
import { listEntries, recordEntry, verifyLedger } from "../../src/services/ledger.ts";
import { getRemoteProposal } from "../../src/services/proposals.ts";
import { getTransfer, listTransfers, receiveTransferEvent, recordTransfer } from "../../src/services/transfers.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row";
const WAIT = 60_000;
const TEST_TIMEOUT = 120_000;
const DAY = 86_400_000;

let a: TestNode;
let b: TestNode;
let offer: any;
let remoteOfferId: string;
let podA: string;
let podB: string;

async function api(node: TestNode, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await node.token()}`, ...(body !== undefined && { "content-type": "application/json" }), ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as any) : null };
}

async function follow(from: TestNode, fromSlug: string, to: TestNode) {
  expect((await api(from, "POST", `/pods/${fromSlug}/following`, { target: to.handle() })).status).toBe(202);
  await waitFor(
    async () => (await api(from, "GET", `/pods/${fromSlug}/following`)).body.items.some((i: any) => i.actor === to.actorUrl() && i.status === "accepted"),
    WAIT,
    `${fromSlug}'s follow to be accepted`,
  );
}

interface Agreement {
  claimA: string;
  claimB: string;
  iri: string;
}

/**
 * An agreement as the claims flow leaves it: on A an incoming claim on A's offer, on B
 * its outgoing claim on its copy. `bStatus` "pending" leaves B's claim undecided (the
 * Accept has not arrived).
 */
async function agreement(quantity: string, opts: { aStatus?: "accepted" | "pending"; bStatus?: "accepted" | "pending" | "rejected" | "none" } = {}): Promise<Agreement> {
  const claimA = crypto.randomUUID();
  const claimB = crypto.randomUUID();
  const offerIri = `${b.actorUrl(B)}/claims/${claimB}`;
  const iri = `${a.actorUrl(A)}/agreements/${claimA}`;
  const now = new Date();
  const common = { proposalIri: offer.url, intentIri: `${offer.url}#primary`, purpose: "offer" as const, quantity, unit: "kilogram", resourceId: null, offerIri, createdAt: now };
  await insertClaim(a.deps.db, { ...common, id: claimA, podId: podA, direction: "incoming", counterpartIri: b.actorUrl(B), proposalId: offer.id, remoteProposalId: null });
  if ((opts.aStatus ?? "accepted") === "accepted") {
    await decideClaim(a.deps.db, claimA, { status: "accepted", reason: null, decidedBy: "steward", agreementIri: iri, commitmentIri: `${iri}#primary`, answerIri: `${a.actorUrl(A)}#accepts/${claimA}`, at: now });
  }
  const bStatus = opts.bStatus ?? "accepted";
  if (bStatus !== "none") {
    await insertClaim(b.deps.db, { ...common, id: claimB, podId: podB, direction: "outgoing", counterpartIri: a.actorUrl(A), proposalId: null, remoteProposalId: remoteOfferId });
    if (bStatus !== "pending") await decideB({ claimA, claimB, iri }, bStatus);
  }
  return { claimA, claimB, iri };
}

async function decideB(ag: Agreement, status: "accepted" | "rejected") {
  const accepted = status === "accepted";
  await decideClaim(b.deps.db, ag.claimB, {
    status,
    reason: accepted ? null : "No more squash for you",
    decidedBy: null,
    agreementIri: accepted ? ag.iri : null,
    commitmentIri: accepted ? `${ag.iri}#primary` : null,
    answerIri: `${a.actorUrl(A)}#accepts/${ag.claimA}`,
    at: new Date(),
  });
}

async function entriesOf(node: TestNode, slug: string) {
  return listEntries(node.deps, slug, { limit: 1000 });
}

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: A, podName: "Oak Street" }), startTestNode({ podSlug: B, podName: "Elm Row" })]);
  podA = (await getPodBySlug(a.deps.db, A))!.id;
  podB = (await getPodBySlug(b.deps.db, B))!.id;
  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "60" });
  await follow(b, B, a);
  await follow(a, A, b);
  const until = new Date(Date.now() + 5 * DAY).toISOString().slice(0, 10);
  const made = await api(a, "POST", `/pods/${A}/offers`, { resource: "squash", name: "squash", quantity: "40", availableUntil: until, fund: "capacity_building" });
  expect(made.status).toBe(201);
  offer = made.body;
  remoteOfferId = (await waitFor(() => getRemoteProposal(b.deps, offer.url), WAIT, "B's copy of the offer")).id;
}, TEST_TIMEOUT);

/** Nothing left to deliver or to handle on either node (a node stopping mid-exchange waits for its peer's answers). */
async function settled(): Promise<boolean> {
  for (const node of [a, b]) {
    const { rows } = await sql<{ n: number }>`select (select count(*) from fedify_queue)::int + (select count(*) from outbox_events where sent_at is null and dead_at is null)::int as n`.execute(node.deps.db);
    if (rows[0]!.n > 0) return false;
  }
  return true;
}

afterAll(async () => {
  if (a && b) await waitFor(settled, 30_000, "both nodes to finish their exchanges").catch(() => undefined);
  await Promise.all([a?.stop(), b?.stop()]);
}, TEST_TIMEOUT);

describe("a transfer lands in both ledgers", () => {
  let first: Agreement;
  let recorded: any;
  let received: any;

  it("A records it: transfer_out to B under the agreement, and the event document in the FEP-3264 shape", async () => {
    first = await agreement("15");
    const res = await api(a, "POST", `/pods/${A}/transfers`, { agreement: first.claimA, occurredAt: new Date(Date.now() - 3_600_000).toISOString() });
    expect(res.status).toBe(201);
    recorded = res.body;
    expect(recorded).toMatchObject({ direction: "out", agreement: first.iri, counterpart: b.actorUrl(B), quantity: "15", unit: "kilogram", resource: "squash", fund: "capacity_building", giver: a.actorUrl(A), receiver: b.actorUrl(B), resourceCreated: false, discrepancy: null });
    expect(recorded.url).toBe(`${a.actorUrl(A)}/transfers/${recorded.id}`);
    expect(recorded.notes.join(" ")).toContain("the offer's resource");
    const entry = (await entriesOf(a, A)).find((e) => e.seq === recorded.ledgerSeq)!;
    expect(entry).toMatchObject({ kind: "transfer_out", counterpartyKind: "pod", counterparty: b.actorUrl(B), agreement: first.iri, quantity: "15", fund: "capacity_building" });
    expect(entry.publicMemo).toBe(`To ${b.handle(B)} under agreement ${first.iri}`);

    const doc = await (await fetch(recorded.url, { headers: { accept: "application/activity+json" } })).json();
    expect(doc).toMatchObject({
      id: recorded.url,
      type: "EconomicEvent",
      attributedTo: a.actorUrl(A),
      action: "transfer",
      provider: a.actorUrl(A),
      receiver: b.actorUrl(B),
      resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "15" },
      fulfills: `${first.iri}#primary`,
      context: first.iri,
      realizationOf: first.iri,
      ledgerEntry: { seq: recorded.ledgerSeq, hash: entry.hash },
    });
    expect(doc["@context"][1]).toMatchObject({ vf: "https://w3id.org/valueflows/ont/vf#", hyphae: "https://hyphae-pods.github.io/ns#", fund: "hyphae:fund", acknowledges: { "@id": "hyphae:acknowledges" } });
    expect(doc.acknowledges).toBeUndefined();
  }, TEST_TIMEOUT);

  it("B books transfer_in of the same quantity under the same agreement; its acknowledgement reaches A; both chains verify", async () => {
    [received] = await waitFor(async () => {
      const rows = await listTransfers(b.deps, B);
      return rows.length ? rows : null;
    }, WAIT, "B's transfer in");
    expect(received).toMatchObject({ direction: "in", agreement: first.iri, counterpart: a.actorUrl(A), counterpartEvent: recorded.url, quantity: "15", unit: "kilogram", resource: "squash", giver: a.actorUrl(A), receiver: b.actorUrl(B) });
    expect(received.acknowledgedAt).not.toBeNull();
    const entry = (await entriesOf(b, B)).find((e) => e.seq === received.ledgerSeq)!;
    expect(entry).toMatchObject({ kind: "transfer_in", counterparty: a.actorUrl(A), agreement: first.iri, quantity: "15", resource: "squash", unit: "kilogram" });
    expect(entry.publicMemo).toBe(`From ${a.handle(A)} under agreement ${first.iri}`);

    const acked = await waitFor(async () => {
      const t = await getTransfer(a.deps, A, recorded.id);
      return t.acknowledgedAt ? t : null;
    }, WAIT, "A's transfer acknowledged");
    expect(acked.counterpartEvent).toBe(received.url);
    expect(acked.discrepancy).toBeNull();

    const theirs = await (await fetch(received.url, { headers: { accept: "application/activity+json" } })).json();
    expect(theirs).toMatchObject({ type: "EconomicEvent", provider: a.actorUrl(A), receiver: b.actorUrl(B), acknowledges: recorded.url, context: first.iri });
    for (const [node, slug] of [[a, A], [b, B]] as const) {
      expect(await verifyLedger(node.deps, slug)).toMatchObject({ ok: true, fault: null });
    }
  }, TEST_TIMEOUT);

  it("a replayed Create and a second delivery of the same event book nothing twice", async () => {
    const doc = await (await fetch(recorded.url, { headers: { accept: "application/activity+json" } })).json();
    const facts = economicEventFacts(doc, a.actorUrl(A), recorded.url);
    const before = (await entriesOf(b, B)).length;
    const replay = { key: `${recorded.url}#create`, actorIri: a.actorUrl(A), type: "Create" };
    expect(await findReceivedActivity(b.deps, replay.key)).not.toBeNull();
    expect(await receiveTransferEvent(b.deps, facts, replay)).toBe("duplicate");
    expect(await receiveTransferEvent(b.deps, facts, { ...replay, key: `${recorded.url}#create-again` })).toBe("duplicate");
    expect(await receiveTransferEvent(b.deps, facts)).toBe("duplicate");
    expect((await entriesOf(b, B)).length).toBe(before);
    expect(await listTransfers(b.deps, B)).toHaveLength(1);

    // A's side: its acknowledgement replayed changes nothing either.
    const ack = economicEventFacts(await (await fetch(received.url, { headers: { accept: "application/activity+json" } })).json(), b.actorUrl(B), received.url);
    const aBefore = (await entriesOf(a, A)).length;
    expect(await receiveTransferEvent(a.deps, ack, { key: `${received.url}#again`, actorIri: b.actorUrl(B), type: "Create" })).toBe("duplicate");
    expect((await entriesOf(a, A)).length).toBe(aBefore);
  }, TEST_TIMEOUT);

  it("a second record of the agreement is 409 TRANSFER_EXISTS; B may not record it (NOT_THE_GIVER)", async () => {
    const again = await api(a, "POST", `/pods/${A}/transfers`, { agreement: first.iri });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("TRANSFER_EXISTS");
    const theirs = await api(b, "POST", `/pods/${B}/transfers`, { agreement: first.iri });
    expect(theirs.status).toBe(409);
    expect(theirs.body.error).toBe("NOT_THE_GIVER");
  }, TEST_TIMEOUT);

  it("the pages show both sides: A's transfer, A's agreement, B's transfer, the books pages", async () => {
    const page = await (await fetch(recorded.url, { headers: { accept: "text/html" } })).text();
    expect(page).toContain("Transfer out: 15 kilogram of Squash");
    expect(page).toContain(`Acknowledged by`);
    expect(page).toContain(first.iri);
    const agreementPage = await fetch(first.iri, { headers: { accept: "text/html" } });
    expect(agreementPage.status).toBe(200);
    const text = await agreementPage.text();
    expect(text).toContain("Agreement: 15 kilogram of squash");
    expect(text).toContain(`href="${recorded.url}"`);
    expect(await (await fetch(received.url, { headers: { accept: "text/html" } })).text()).toContain("Transfer in: 15 kilogram of squash");
    expect(await (await fetch(`${a.actorUrl(A)}/books`, { headers: { accept: "text/html" } })).text()).toContain("Transfers between pods");
    expect((await fetch(`${a.actorUrl(A)}/transfers/${crypto.randomUUID()}`, { headers: { accept: "text/html" } })).status).toBe(404);
    expect((await fetch(`${a.actorUrl(A)}/agreements/${first.claimB}`, { headers: { accept: "text/html" } })).status).toBe(404);
  }, TEST_TIMEOUT);

  it("a flag from B shows on A's transfer and page; a second flag is 409 ALREADY_FLAGGED", async () => {
    const flagged = await api(b, "POST", `/pods/${B}/transfers/${received.id}/flag`, { reason: "Only 14 kg arrived" });
    expect(flagged.status).toBe(200);
    expect(flagged.body.discrepancy).toMatchObject({ by: "us", reason: "Only 14 kg arrived" });
    const onA = await waitFor(async () => {
      const t = await getTransfer(a.deps, A, recorded.id);
      return t.discrepancy ? t : null;
    }, WAIT, "the flag on A's transfer");
    expect(onA.discrepancy).toMatchObject({ by: "them", reason: "Only 14 kg arrived" });
    const page = await (await fetch(recorded.url, { headers: { accept: "text/html" } })).text();
    expect(page).toContain("Discrepancy");
    expect(page).toContain("Only 14 kg arrived");
    expect(await (await fetch(received.url, { headers: { accept: "text/html" } })).text()).toContain("flagged by this pod");
    const again = await api(b, "POST", `/pods/${B}/transfers/${received.id}/flag`, { reason: "Still wrong" });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("ALREADY_FLAGGED");
    const listed = await api(a, "GET", `/pods/${A}/transfers?discrepancies=true`);
    expect(listed.body.items.map((t: any) => t.id)).toEqual([recorded.id]);
  }, TEST_TIMEOUT);
});

describe("out of order, retries and refusals", () => {
  it("B gets the event before it knows the agreement: retried, then booked once when the Accept lands", async () => {
    const ag = await agreement("5", { bStatus: "pending" });
    const before = (await entriesOf(b, B)).length;
    // The service says so with a transient error (the queue retries it) and writes nothing.
    const early = {
      actorIri: a.actorUrl(A),
      eventIri: `${a.actorUrl(A)}/transfers/${crypto.randomUUID()}`,
      agreementIri: ag.iri,
      claimOfferIri: `${b.actorUrl(B)}/claims/${ag.claimB}`,
      providerIri: a.actorUrl(A),
      receiverIri: b.actorUrl(B),
      quantity: "5",
      unit: "kilogram",
      occurredAt: null,
      acknowledges: null,
    };
    const ref = { key: `${early.eventIri}#create`, actorIri: a.actorUrl(A), type: "Create" };
    const error = await receiveTransferEvent(b.deps, early, ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: "unavailable", code: "AGREEMENT_NOT_YET_KNOWN" });
    expect(await findReceivedActivity(b.deps, ref.key)).toBeNull();

    const res = await api(a, "POST", `/pods/${A}/transfers`, { agreement: ag.iri }, { "idempotency-key": `transfer-${ag.claimA}` });
    expect(res.status).toBe(201);
    const url = res.body.url;
    // B's inbox tried it and scheduled a retry (a new queue message, attempt 1).
    await waitFor(async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from fedify_queue where message::text like ${`%${url}%`} and (message->>'attempt')::int >= 1`.execute(b.deps.db);
      return rows[0]!.n > 0;
    }, WAIT, "B's first attempt to fail and be scheduled again");
    expect(await listTransfers(b.deps, B)).toHaveLength(1);
    await decideB(ag, "accepted");
    const booked = await waitFor(async () => (await listTransfers(b.deps, B)).find((t) => t.agreement === ag.iri), WAIT, "B's transfer after the retry");
    expect(booked).toMatchObject({ direction: "in", quantity: "5", counterpartEvent: url });
    expect((await entriesOf(b, B)).length).toBe(before + 1);
    await waitFor(async () => (await getTransfer(a.deps, A, res.body.id)).acknowledgedAt, WAIT, "A's transfer acknowledged");
    expect(await verifyLedger(b.deps, B)).toMatchObject({ ok: true });

    // The same request with the same Idempotency-Key answers the first result.
    const retry = await api(a, "POST", `/pods/${A}/transfers`, { agreement: ag.iri }, { "idempotency-key": `transfer-${ag.claimA}` });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body.id).toBe(res.body.id);
  }, TEST_TIMEOUT);

  it("an event under a claim B's pod saw rejected is refused, and an unknown claim of B's is refused", async () => {
    const ag = await agreement("2", { bStatus: "rejected" });
    const event = {
      actorIri: a.actorUrl(A),
      eventIri: `${a.actorUrl(A)}/transfers/${crypto.randomUUID()}`,
      agreementIri: ag.iri,
      claimOfferIri: `${b.actorUrl(B)}/claims/${ag.claimB}`,
      providerIri: a.actorUrl(A),
      receiverIri: b.actorUrl(B),
      quantity: "2",
      unit: "kilogram",
      occurredAt: null,
      acknowledges: null,
    };
    await expect(receiveTransferEvent(b.deps, event)).rejects.toMatchObject({ kind: "invalid", code: "AGREEMENT_REJECTED" });
    await expect(receiveTransferEvent(b.deps, { ...event, claimOfferIri: `${b.actorUrl(B)}/claims/${crypto.randomUUID()}` })).rejects.toMatchObject({ kind: "invalid", code: "AGREEMENT_NOT_FOUND" });
  }, TEST_TIMEOUT);

  it("an acknowledgement of another quantity is flagged by 'them' at once", async () => {
    const ag = await agreement("10", { bStatus: "none" });
    const t = await recordTransfer(a.deps, A, { agreement: ag.claimA, fund: "survival" });
    expect(t.fund).toBe("survival");
    const outcome = await receiveTransferEvent(a.deps, {
      actorIri: b.actorUrl(B),
      eventIri: `${b.actorUrl(B)}/transfers/${crypto.randomUUID()}`,
      agreementIri: ag.iri,
      claimOfferIri: null,
      providerIri: a.actorUrl(A),
      receiverIri: b.actorUrl(B),
      quantity: "9",
      unit: "kilogram",
      occurredAt: new Date(),
      acknowledges: t.url,
    });
    expect(outcome).toBe("acknowledged");
    const flagged = await getTransfer(a.deps, A, t.id);
    expect(flagged.acknowledgedAt).not.toBeNull();
    expect(flagged.discrepancy?.by).toBe("them");
    expect(flagged.discrepancy?.reason).toContain(`booked 9 kilogram received; we booked 10 kilogram given`);
  }, TEST_TIMEOUT);
});

describe("a need: the claimant gives", () => {
  it("A gives against B's need: booked to A's resource with the same name (none: INSUFFICIENT_STOCK, nothing created); B books it to a new resource", async () => {
    const made = await api(b, "POST", `/pods/${B}/needs`, { name: "Rice", quantity: "8", unit: "kilogram", category: "food" });
    expect(made.status).toBe(201);
    const need = made.body;
    const copy = await waitFor(() => getRemoteProposal(a.deps, need.url), WAIT, "A's copy of the need");
    const claimA = crypto.randomUUID();
    const claimB = crypto.randomUUID();
    const iri = `${b.actorUrl(B)}/agreements/${claimB}`;
    const now = new Date();
    const common = { proposalIri: need.url, intentIri: `${need.url}#primary`, purpose: "request" as const, quantity: "8", unit: "kilogram", resourceId: null, offerIri: `${a.actorUrl(A)}/claims/${claimA}`, createdAt: now };
    const decided = { status: "accepted" as const, reason: null, decidedBy: "steward" as const, agreementIri: iri, commitmentIri: `${iri}#primary`, answerIri: `${b.actorUrl(B)}#accepts/${claimB}`, at: now };
    await insertClaim(a.deps.db, { ...common, id: claimA, podId: podA, direction: "outgoing", counterpartIri: b.actorUrl(B), proposalId: null, remoteProposalId: copy.id });
    await decideClaim(a.deps.db, claimA, decided);
    await insertClaim(b.deps.db, { ...common, id: claimB, podId: podB, direction: "incoming", counterpartIri: a.actorUrl(A), proposalId: need.id, remoteProposalId: null });
    await decideClaim(b.deps.db, claimB, decided);

    const notGiver = await api(b, "POST", `/pods/${B}/transfers`, { agreement: claimB });
    expect(notGiver.body.error).toBe("NOT_THE_GIVER");
    const empty = await api(a, "POST", `/pods/${A}/transfers`, { agreement: iri });
    expect([empty.status, empty.body.error]).toEqual([400, "INSUFFICIENT_STOCK"]);
    expect((await api(a, "GET", `/pods/${A}/resources`)).body.items.map((r: any) => r.key)).not.toContain("rice");

    await addResource(a.deps, A, { key: "rice", name: "Rice", unit: "kilogram", category: "food" });
    await recordEntry(a.deps, A, { kind: "contribution", resource: "rice", quantity: "20" });
    const res = await api(a, "POST", `/pods/${A}/transfers`, { agreement: iri, quantity: "8" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ direction: "out", resource: "rice", fund: "survival", giver: a.actorUrl(A), receiver: b.actorUrl(B), resourceCreated: false });
    expect(res.body.notes.join(" ")).toContain("the resource with the same name and unit");
    const booked = await waitFor(async () => (await listTransfers(b.deps, B)).find((t) => t.agreement === iri), WAIT, "B's transfer in for its need");
    expect(booked).toMatchObject({ direction: "in", quantity: "8", resource: "rice", resourceName: "Rice", agreementPage: iri });
    expect((await entriesOf(b, B)).find((e) => e.seq === booked.ledgerSeq)).toMatchObject({ kind: "transfer_in", agreement: iri, resource: "rice" });
    expect((await api(b, "GET", `/pods/${B}/resources`)).body.items).toContainEqual(expect.objectContaining({ key: "rice", name: "Rice", unit: "kilogram", category: "food" }));
    await waitFor(async () => (await getTransfer(a.deps, A, res.body.id)).acknowledgedAt, WAIT, "A's gift acknowledged");
    const agreementPage = await (await fetch(iri, { headers: { accept: "text/html" } })).text();
    expect(agreementPage).toContain(`${a.handle(A)}</a> gives 8 kilogram of Rice`);
  }, TEST_TIMEOUT);
});

describe("bad input", () => {
  it("each refusal of the steward API has its code, and nothing is written", async () => {
    const ag = await agreement("3", { bStatus: "none" });
    const pending = await agreement("3", { aStatus: "pending", bStatus: "none" });
    const big = await agreement("500", { bStatus: "none" });
    const before = (await entriesOf(a, A)).length;
    const cases: Array<[unknown, number, string]> = [
      [{}, 400, "AGREEMENT_REQUIRED"],
      [{ agreement: ag.claimA, colour: "red" }, 400, "UNKNOWN_FIELD"],
      [{ agreement: "not an agreement" }, 400, "INVALID_AGREEMENT"],
      [{ agreement: ag.claimA, quantity: "abc" }, 400, "INVALID_DECIMAL"],
      [{ agreement: ag.claimA, quantity: "-1" }, 400, "NOT_POSITIVE"],
      [{ agreement: ag.claimA, quantity: "1.1234567" }, 400, "TOO_PRECISE"],
      [{ agreement: ag.claimA, fund: "gold" }, 400, "INVALID_FUND"],
      [{ agreement: ag.claimA, occurredAt: "yesterday" }, 400, "INVALID_DATE"],
      [{ agreement: ag.claimA, occurredAt: new Date(Date.now() + 3 * DAY).toISOString() }, 400, "FUTURE_DATE"],
      [{ agreement: ag.claimA, publicMemo: "x".repeat(501) }, 400, "TOO_LONG"],
      [{ agreement: crypto.randomUUID() }, 404, "AGREEMENT_NOT_FOUND"],
      [{ agreement: `${a.actorUrl(A)}/agreements/${crypto.randomUUID()}` }, 404, "AGREEMENT_NOT_FOUND"],
      [{ agreement: pending.claimA }, 409, "AGREEMENT_NOT_ACCEPTED"],
      [{ agreement: ag.claimA, quantity: "3.5" }, 422, "TRANSFER_EXCEEDS_AGREEMENT"],
      [{ agreement: big.claimA }, 400, "INSUFFICIENT_STOCK"],
    ];
    for (const [body, status, code] of cases) {
      const res = await api(a, "POST", `/pods/${A}/transfers`, body);
      expect({ body, status: res.status, code: res.body.error }).toEqual({ body, status, code });
    }
    expect((await entriesOf(a, A)).length).toBe(before);
    expect((await listTransfers(a.deps, A)).filter((t) => [ag.iri, pending.iri, big.iri].includes(t.agreement))).toHaveLength(0);

    const t = (await api(a, "POST", `/pods/${A}/transfers`, { agreement: ag.claimA, quantity: "2.5" })).body;
    const flags: Array<[string, unknown, number, string]> = [
      [t.id, {}, 400, "REASON_REQUIRED"],
      [t.id, { reason: "  " }, 400, "REASON_REQUIRED"],
      [t.id, { reason: "x".repeat(1001) }, 400, "TOO_LONG"],
      [t.id, { reason: "short", extra: 1 }, 400, "UNKNOWN_FIELD"],
      [crypto.randomUUID(), { reason: "short" }, 404, "TRANSFER_NOT_FOUND"],
    ];
    for (const [id, body, status, code] of flags) {
      const res = await api(a, "POST", `/pods/${A}/transfers/${id}/flag`, body);
      expect({ body, status: res.status, code: res.body.error }).toEqual({ body, status, code });
    }
    expect((await api(a, "GET", `/pods/${A}/transfers/${crypto.randomUUID()}`)).body.error).toBe("TRANSFER_NOT_FOUND");
    expect((await getTransfer(a.deps, A, t.id)).discrepancy).toBeNull();
  }, TEST_TIMEOUT);

  it("the admin ops the CLI runs: list, show, flag, record", async () => {
    const ag = await agreement("1", { bStatus: "none" });
    const made = (await runAdminOp(a.deps, "transfer.record", { pod: A, input: { agreement: ag.iri, publicMemo: "Squash for the Elm Row kitchen" } })) as any;
    expect(made).toMatchObject({ direction: "out", quantity: "1", publicMemo: "Squash for the Elm Row kitchen" });
    expect(typeof made.occurredAt).toBe("string");
    const listed = (await runAdminOp(a.deps, "transfer.list", { pod: A })) as any[];
    expect(listed.map((t) => t.id)).toContain(made.id);
    expect(await runAdminOp(a.deps, "transfer.show", { pod: A, id: ag.iri })).toMatchObject({ id: made.id });
    const flagged = (await runAdminOp(a.deps, "transfer.flag", { pod: A, id: made.id, reason: "Counted twice" })) as any;
    expect(flagged.discrepancy).toMatchObject({ by: "us", reason: "Counted twice" });
    await expect(runAdminOp(a.deps, "transfer.record", { pod: A, input: { agreement: ag.iri } })).rejects.toMatchObject({ code: "TRANSFER_EXISTS" });
  }, TEST_TIMEOUT);
});
