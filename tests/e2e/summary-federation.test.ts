/**
 * Period summaries over real federation on loopback: two real Hyphae nodes and a
 * Mastodon-shaped server.
 *
 * Node A hosts "oak-street"; node B hosts "elm-row", which follows oak-street; alice on a
 * Mastodon-shaped server follows oak-street too. oak-street records a week of entries (on
 * an injected clock, three weeks ago) and closes that week with closeDuePeriods on a clock
 * just after it ended:
 *   - B holds the summary with the same totals and head hash as A published;
 *   - A's books are tampered with (raw SQL, trigger disabled) and the week is published
 *     again with another head: B keeps both copies and flags "books changed after
 *     publication"; the same copy again changes nothing;
 *   - alice's server receives a Create and then an Update of the same Note id, HTML made only
 *     of tags Mastodon keeps (lists, no table), #OpenBooks and #MutualAid, addressed to
 *     Public and the followers, and nothing that names a member;
 *   - the Note dereferences (latest and ?version=n) as JSON-LD with our context; a browser
 *     asking for HTML on the same URL does not get it.
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodOf } from "../../src/domain/books/periods.ts";
import { summaryDigest } from "../../src/domain/books/summary.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { closeDuePeriods, getSummary, listRemoteSummaries, publishSummaryOutcome, receiveRemoteSummary } from "../../src/services/summaries.ts";
import { AS_CONTEXT, postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";
const A = "oak-street";
const B = "elm-row";
const PUBLIC_FORMS = ["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"];
/** Tags Mastodon's sanitizer keeps (mastodon-interop.md §5). */
const MASTODON_TAGS = new Set(["p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"]);
const TEST_TIMEOUT = 120_000;
const WAIT = 60_000;
const DAY = 86_400_000;

let a: TestNode;
let b: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let pod: string;

/** The week three weeks ago: entirely in the past, and never the one the node's own job closes. */
const week = periodOf("week", new Date(Date.now() - 21 * DAY));
const weekId = `week-${week.start.toISOString().slice(0, 10)}`;
const at = (hours: number) => new Date(week.start.getTime() + hours * 3_600_000);
const clocked = (deps: ServiceDeps, when: Date): ServiceDeps => ({ ...deps, clock: { now: () => new Date(when) } });

const NAMES = ["Philippa Quenby", "Rashid Vantongeren", "Saoirse Wexcombe", "Tobiah Yarrowfield"];
const CONTACTS = NAMES.map((n) => `${n.split(" ")[0]!.toLowerCase()}@private.example`);
const PRIVATE_MEMO = "insulin for the flat above the bakery";
const pseudonyms: string[] = [];
let lastEntry: { seq: number; hash: string };

async function api(node: TestNode, method: string, path: string, body?: unknown) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${await node.token()}`, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

const idOf = (v: any): string | undefined => (typeof v === "string" ? v : v?.id);
const asArray = (v: unknown): any[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

function summaryDeliveries(noteId: string): Array<{ activity: any; raw: string }> {
  return masto.inbox
    .filter((r) => r.status === 202)
    .map((r) => ({ activity: recordedJson(r), raw: r.body.toString("utf8") }))
    .filter(({ activity }) => (activity?.type === "Create" || activity?.type === "Update") && idOf(activity.object) === noteId);
}

async function copiesAtB(): Promise<any[]> {
  const r = await api(b, "GET", `/pods/${B}/following/summaries`);
  if (r.status !== 200) throw new Error(`GET following/summaries → ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body.items as any[]).filter((i) => i.actor === pod && i.period === weekId);
}

function expectNoMember(text: string) {
  for (const p of pseudonyms) expect(text).not.toContain(p);
  for (const n of NAMES) for (const part of n.split(" ")) expect(text).not.toContain(part);
  for (const c of CONTACTS) expect(text).not.toContain(c);
  expect(text).not.toContain("insulin");
}

function expectMastodonSafeHtml(html: string) {
  const tagPattern = /<\/?([A-Za-z][A-Za-z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
  const names = [...html.matchAll(tagPattern)].map((m) => m[1]!.toLowerCase());
  expect(names.length).toBeGreaterThan(0);
  expect(names.filter((n) => !MASTODON_TAGS.has(n))).toEqual([]);
  expect(names).toContain("ul");
  expect(html).not.toMatch(/<\s*(table|tr|td|th|img|h[1-6])\b/i);
  expect(html.replace(tagPattern, "")).not.toMatch(/[<>]/);
  for (const href of html.matchAll(/\bhref\s*=\s*"([^"]*)"/gi)) expect(href[1]).toMatch(/^https?:\/\//);
}

beforeAll(async () => {
  [a, b, masto] = await Promise.all([startTestNode({ podSlug: A, podName: "Oak Street" }), startTestNode({ podSlug: B, podName: "Elm Row" }), startFakeMastodon()]);
  alice = masto.user("alice");
  pod = a.actorUrl();
  const setup = clocked(a.deps, at(-24 * 7));
  await addResource(setup, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2.40" });
  await addResource(setup, A, { key: "childcare", name: "Childcare", unit: "hour", category: "care", referencePrice: "18" });
  for (let i = 0; i < NAMES.length; i++) pseudonyms.push((await addMember(setup, A, { name: NAMES[i], contact: CONTACTS[i] })).pseudonym);
  const record = (hours: number, input: Record<string, unknown>) => recordEntry(clocked(a.deps, at(hours)), A, input);
  await record(1, { kind: "contribution", resource: "squash", quantity: "40.5", counterpartyLabel: "allotment", publicMemo: "harvest" });
  await record(2, { kind: "contribution", resource: "childcare", quantity: "30", counterpartyLabel: "parents' rota" });
  await record(20, { kind: "draw", resource: "squash", quantity: "2.5", fund: "survival", member: pseudonyms[0], privateMemo: PRIVATE_MEMO });
  await record(30, { kind: "draw", resource: "squash", quantity: "3", fund: "survival", member: pseudonyms[1] });
  await record(40, { kind: "draw", resource: "squash", quantity: "1.25", fund: "survival", member: pseudonyms[2] });
  await record(50, { kind: "draw", resource: "childcare", quantity: "4", fund: "capacity_building", member: pseudonyms[3], privateMemo: PRIVATE_MEMO });
  lastEntry = await record(60, { kind: "expenditure", resource: "squash", quantity: "5", fund: "power_shifting", counterpartyLabel: "soup for the picket line" });
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), masto?.close()]);
});

describe("a period summary federated to a Hyphae node and a Mastodon-shaped server", () => {
  it("B and alice follow oak-street", async () => {
    expect((await api(b, "POST", `/pods/${B}/following`, { target: a.handle() })).status).toBe(202);
    await waitFor(async () => (await api(b, "GET", `/pods/${B}/following`)).body.items.some((i: any) => i.actor === pod && i.status === "accepted"), WAIT, "B's follow to be accepted");
    const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: pod };
    expect((await postSigned(`${pod}/inbox`, follow, { signer: alice })).status).toBe(202);
    await waitFor(() => masto.inbox.some((r) => r.status === 202 && recordedJson(r)?.type === "Accept"), WAIT, "the Accept of alice's Follow");
  }, TEST_TIMEOUT);

  let v1: any;
  let noteId: string;

  it("A closes the week (clock just after its end): B holds the summary with the same totals and head hash", async () => {
    const published = await closeDuePeriods(clocked(a.deps, new Date(week.end.getTime() + 60_000)));
    expect(published).toBeGreaterThanOrEqual(1);
    const summary = (await getSummary(a.deps, A, "week", week.start.toISOString().slice(0, 10)))!;
    expect(summary.version).toBe(1);
    expect([summary.headSeq, summary.headHash]).toEqual([lastEntry.seq, lastEntry.hash]);
    expect(summary.content.entries).toBe(7);
    noteId = summary.url;
    expect(noteId).toBe(`${pod}/books/summaries/${weekId}`);

    const r = await api(a, "GET", `/pods/${A}/summaries/${weekId}`);
    expect(r.status).toBe(200);
    v1 = r.body;
    expect(v1.content.participants).toBe(4);
    const cells = Object.fromEntries(v1.content.totals.map((t: any) => [`${t.resource}/${t.kind}`, t]));
    expect(cells["squash/draw"]).toMatchObject({ quantity: "6.75", marketValue: "16.2", suppressed: false });
    expect(cells["childcare/draw"]).toMatchObject({ quantity: "fewer than 3", suppressed: true });
    expect(cells["squash/contribution"]).toMatchObject({ quantity: "40.5", marketValue: "97.2" });
    expect(cells["squash/expenditure"]).toMatchObject({ quantity: "5", fund: "power_shifting" });

    const [copy] = await waitFor(async () => {
      const copies = await copiesAtB();
      return copies.length > 0 ? copies : null;
    }, WAIT, "B's copy of the week");
    expect(copy).toMatchObject({ version: 1, headSeq: lastEntry.seq, headHash: lastEntry.hash, changedAfterPublication: false, handle: a.handle(), object: noteId });
    expect(copy.content).toEqual(v1.content);
    expect(copy.digest).toBe(summaryDigest(v1.content));
  }, TEST_TIMEOUT);

  it("alice receives a Create of the Note: Mastodon-safe lists, #OpenBooks #MutualAid, Public + followers, no member named", async () => {
    const [create] = await waitFor(() => (summaryDeliveries(noteId).length >= 1 ? summaryDeliveries(noteId) : null), WAIT, "the Create at alice's server");
    const { activity, raw } = create!;
    expect(activity.type).toBe("Create");
    expect(activity.actor).toBe(pod);
    expect(activity.id).toContain(`${noteId}#activities/`);
    const note = activity.object;
    expect(note.type).toBe("Note");
    expect(note.attributedTo).toBe(pod);
    expect(asArray(note.to).some((t) => PUBLIC_FORMS.includes(t)) || asArray(activity.to).some((t) => PUBLIC_FORMS.includes(t))).toBe(true);
    expect([...asArray(note.cc), ...asArray(activity.cc)]).toContain(`${pod}/followers`);
    expectMastodonSafeHtml(note.content);
    expect(note.content).toContain("#<span>OpenBooks</span>");
    expect(note.content).toContain("#<span>MutualAid</span>");
    expect(note.content).toContain("6.75 kg");
    expect(note.content).toContain(lastEntry.hash);
    expect(asArray(note.tag).map((t: any) => t.name).sort()).toEqual(["#MutualAid", "#OpenBooks"]);
    expectNoMember(raw);
  }, TEST_TIMEOUT);

  it("the Note dereferences as JSON-LD with our context (latest and ?version=1); HTML clients are not given it", async () => {
    const response = await fetch(noteId, { headers: { accept: `application/ld+json; profile="https://www.w3.org/ns/activitystreams", ${AP}, text/html;q=0.1` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/activity\+json/);
    const doc = (await response.json()) as any;
    expect(doc["@context"][0]).toBe("https://www.w3.org/ns/activitystreams");
    expect(doc["@context"][1].hyphae).toBe("https://hyphae-pods.github.io/ns#");
    expect(doc["@context"][1].openBooks).toEqual({ "@id": "hyphae:openBooks", "@type": "@json" });
    expect(doc).toMatchObject({ id: noteId, type: "Note", attributedTo: pod, summaryVersion: 1, headSeq: lastEntry.seq, headHash: lastEntry.hash, periodKind: "week" });
    expect(doc.periodStart).toBe(week.start.toISOString());
    expect(doc.openBooks).toEqual(v1.content);
    expect(doc.contentDigest).toBe(summaryDigest(v1.content));
    expectNoMember(JSON.stringify(doc));

    const version = (await (await fetch(`${noteId}?version=1`, { headers: { accept: AP } })).json()) as any;
    expect(version).toMatchObject({ id: `${noteId}?version=1`, versionOf: noteId, summaryVersion: 1 });
    expect((await fetch(`${noteId}?version=9`, { headers: { accept: AP } })).status).toBe(404);
    expect((await fetch(`${pod}/books/summaries/week-1999-01-04`, { headers: { accept: AP } })).status).toBe(404);

    const html = await fetch(noteId, { headers: { accept: "text/html,application/xhtml+xml" } });
    expect(html.headers.get("content-type") ?? "").not.toMatch(/activity\+json|ld\+json/);
  }, TEST_TIMEOUT);

  it("A's books are tampered with and the week published again with another head: B keeps both and flags the change", async () => {
    const podId = (await a.deps.db.selectFrom("pods").select("id").where("slug", "=", A).executeTakeFirstOrThrow()).id;
    await sql`alter table ledger_entries disable trigger ledger_entries_append_only`.execute(a.deps.db);
    try {
      await a.deps.db
        .updateTable("ledger_entries")
        .set({ quantity: "7", hash: "e".repeat(64) })
        .where("pod_id", "=", podId)
        .where("seq", "=", String(lastEntry.seq))
        .execute();
    } finally {
      await sql`alter table ledger_entries enable trigger ledger_entries_append_only`.execute(a.deps.db);
    }
    const outcome = await publishSummaryOutcome(a.deps, A, "week", week.start);
    expect(outcome.created).toBe(true);
    expect([outcome.summary.version, outcome.summary.headHash]).toEqual([2, "e".repeat(64)]);

    const copies = await waitFor(async () => {
      const held = await copiesAtB();
      return held.length >= 2 && held.every((c) => c.changedAfterPublication) ? held : null;
    }, WAIT, "B to hold both copies, flagged");
    expect(copies.map((c) => [c.version, c.headHash]).sort()).toEqual([
      [1, lastEntry.hash],
      [2, "e".repeat(64)],
    ]);
    expect(copies.find((c) => c.version === 2).content.totals.find((t: any) => t.kind === "expenditure").quantity).toBe("7");

    // alice: an Update of the same Note id, with a later `updated`.
    const deliveries = await waitFor(() => (summaryDeliveries(noteId).length >= 2 ? summaryDeliveries(noteId) : null), WAIT, "the Update at alice's server");
    expect(deliveries.map((d) => d.activity.type)).toEqual(["Create", "Update"]);
    const updated = deliveries[1]!.activity.object;
    expect(updated.id).toBe(noteId);
    expect(Date.parse(updated.updated)).toBeGreaterThan(Date.parse(updated.published));
    expectMastodonSafeHtml(updated.content);
    expect(updated.content).toContain("Version 2");
    expectNoMember(deliveries[1]!.raw);
  }, TEST_TIMEOUT);

  it("B's service: the same copy again changes nothing; copies from unfollowed actors or with a wrong digest are refused", async () => {
    const held = await listRemoteSummaries(b.deps, B);
    const copy = held.find((c) => c.periodKind === "week" && c.version === 2 && c.object === `${pod}/books/summaries/${weekId}`)!;
    const input = {
      actorIri: pod,
      objectIri: copy.object,
      periodKind: "week",
      periodStart: copy.periodStart,
      periodEnd: copy.periodEnd,
      version: 2,
      headSeq: copy.headSeq,
      headHash: copy.headHash,
      content: copy.content,
      digest: copy.digest,
    };
    expect(await receiveRemoteSummary(b.deps, input)).toBe("unchanged");
    expect(await receiveRemoteSummary(b.deps, { ...input, actorIri: "http://127.0.0.1:1/pods/stranger" })).toBe("not_followed");
    await expect(receiveRemoteSummary(b.deps, { ...input, digest: "0".repeat(64) })).rejects.toMatchObject({ code: "SUMMARY_MISMATCH" });
    await expect(receiveRemoteSummary(b.deps, { ...input, headSeq: input.headSeq + 1 })).rejects.toMatchObject({ code: "SUMMARY_MISMATCH" });
    await expect(receiveRemoteSummary(b.deps, { ...input, periodStart: new Date(input.periodStart.getTime() + DAY) })).rejects.toMatchObject({ code: "SUMMARY_MISMATCH" });
    expect((await copiesAtB()).length).toBe(2);
  }, TEST_TIMEOUT);

  it("late and out of order: version 1 arriving again after version 2 changes nothing; a replayed activity has one effect", async () => {
    const held = await listRemoteSummaries(b.deps, B);
    const first = held.find((c) => c.periodKind === "week" && c.version === 1 && c.object === `${pod}/books/summaries/${weekId}`)!;
    expect(first.changedAfterPublication).toBe(true);
    const late = {
      actorIri: pod,
      objectIri: first.object,
      periodKind: "week",
      periodStart: first.periodStart,
      periodEnd: first.periodEnd,
      version: 1,
      headSeq: first.headSeq,
      headHash: first.headHash,
      content: first.content,
      digest: first.digest,
    };
    // The older version, delivered late (after version 2): kept once, still flagged, nothing overwritten.
    expect(await receiveRemoteSummary(b.deps, late)).toBe("unchanged");
    // The same activity twice: the second is recognised by its key and has no effect.
    const activity = { key: `${pod}#summary-replay-test`, actorIri: pod, type: "Update" };
    expect(await receiveRemoteSummary(b.deps, { ...late, activity })).toBe("unchanged");
    expect(await receiveRemoteSummary(b.deps, { ...late, activity })).toBe("duplicate");
    const after = await copiesAtB();
    expect(after.length).toBe(2);
    expect((await listRemoteSummaries(b.deps, B)).filter((c) => c.object === first.object).every((c) => c.changedAfterPublication)).toBe(true);
  }, TEST_TIMEOUT);
});
