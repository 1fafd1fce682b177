/**
 * The steward API of summaries and indicators on a real node: publish (created / unchanged),
 * list, one period by id and version, indicators and their counts, the error codes and
 * statuses, a token of another pod, a retired pod, and the Idempotency-Key on a publish.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { periodOf } from "../../src/domain/books/periods.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod, retirePod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const POD = "rowan";
const DAY = 86_400_000;
let node: TestNode;
const week = periodOf("week", new Date(Date.now() - 14 * DAY));
const weekId = `week-${week.start.toISOString().slice(0, 10)}`;
const clocked = (deps: ServiceDeps, when: Date): ServiceDeps => ({ ...deps, clock: { now: () => new Date(when) } });

async function api(method: string, path: string, body?: unknown, options: { slug?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await node.token(options.slug ?? POD)}`,
      ...(body !== undefined && { "content-type": "application/json" }),
      ...options.headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as any) : null };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD, podName: "Rowan Court" });
  const setup = clocked(node.deps, new Date(week.start.getTime() - DAY));
  await addResource(setup, POD, { key: "soup", name: "Soup", unit: "litre", category: "food", referencePrice: "3" });
  const m = [];
  for (const name of ["Ida", "Jo", "Kai"]) m.push((await addMember(setup, POD, { name })).pseudonym);
  await recordEntry(clocked(node.deps, new Date(week.start.getTime() + 3_600_000)), POD, { kind: "contribution", resource: "soup", quantity: "30" });
  for (let i = 0; i < 3; i++) {
    await recordEntry(clocked(node.deps, new Date(week.start.getTime() + (i + 2) * DAY)), POD, { kind: "draw", resource: "soup", quantity: "1.5", fund: "survival", member: m[i] });
  }
  await createPod(node.deps, { slug: "other", name: "Other" });
});

afterAll(async () => {
  await node?.stop();
});

describe("steward API: summaries", () => {
  it("POST /summaries publishes an ended period (--at inside it), then answers created: false for the same content", async () => {
    const first = await api("POST", `/pods/${POD}/summaries`, { period: "week", at: new Date(week.start.getTime() + 3 * DAY).toISOString() });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ pod: POD, period: weekId, periodKind: "week", version: 1, created: true, entryCount: 4 });
    expect(first.body.content.totals.find((t: any) => t.kind === "draw")).toMatchObject({ quantity: "4.5", marketValue: "13.5", suppressed: false });
    expect(first.body.url).toBe(`${node.origin}/pods/${POD}/books/summaries/${weekId}`);
    const again = await api("POST", `/pods/${POD}/summaries`, { period: "week", at: week.start.toISOString().slice(0, 10) });
    expect(again.body).toMatchObject({ id: first.body.id, version: 1, created: false });
  });

  it("refuses a period that has not ended (422), a bad date or kind (400)", async () => {
    const now = await api("POST", `/pods/${POD}/summaries`, { period: "month", at: new Date().toISOString() });
    expect([now.status, now.body.error]).toEqual([422, "PERIOD_NOT_ENDED"]);
    const badAt = await api("POST", `/pods/${POD}/summaries`, { period: "week", at: "last tuesday" });
    expect([badAt.status, badAt.body.error, badAt.body.details?.field]).toEqual([400, "INVALID_DATE", "at"]);
    const badKind = await api("POST", `/pods/${POD}/summaries`, { period: "fortnight" });
    expect([badKind.status, badKind.body.error]).toEqual([400, "VALIDATION_FAILED"]);
  });

  it("an Idempotency-Key replays the first answer", async () => {
    const headers = { "idempotency-key": "publish-once-1" };
    const body = { period: "week", at: new Date(week.start.getTime() - 3 * DAY).toISOString() };
    const first = await api("POST", `/pods/${POD}/summaries`, body, { headers });
    const replay = await api("POST", `/pods/${POD}/summaries`, body, { headers });
    expect(first.body.created).toBe(true);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);
  });

  it("GET /summaries lists the latest version per period; GET /summaries/:period by id and version", async () => {
    const list = await api("GET", `/pods/${POD}/summaries`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((s: any) => s.period)).toEqual([weekId, `week-${new Date(week.start.getTime() - 7 * DAY).toISOString().slice(0, 10)}`]);
    const one = await api("GET", `/pods/${POD}/summaries/${weekId}`);
    expect(one.body).toMatchObject({ period: weekId, version: 1, label: `week of ${weekId.slice(5)}` });
    expect((await api("GET", `/pods/${POD}/summaries/${weekId}?version=1`)).status).toBe(200);
    const missing = await api("GET", `/pods/${POD}/summaries/${weekId}?version=2`);
    expect([missing.status, missing.body.error]).toEqual([404, "SUMMARY_NOT_FOUND"]);
    const tuesday = await api("GET", `/pods/${POD}/summaries/week-2026-11-24`);
    expect(tuesday.status).toBe(404);
    const malformed = await api("GET", `/pods/${POD}/summaries/fortnight-1`);
    expect([malformed.status, malformed.body.error]).toEqual([400, "INVALID_PERIOD"]);
    const wrongPod = await api("GET", `/pods/${POD}/summaries`, undefined, { slug: "other" });
    expect(wrongPod.status).toBe(403);
  });
});

describe("steward API: indicators", () => {
  it("defines indicators (201; 409 for a key taken; 400 naming the field) and lists them", async () => {
    const soup = await api("POST", `/pods/${POD}/indicators`, { key: "soup-served", name: "Soup served", source: "ledger", resource: "soup", entryKind: "draw" });
    expect(soup.status).toBe(201);
    expect(soup.body).toMatchObject({ key: "soup-served", source: "ledger", resource: "soup", entryKind: "draw" });
    const again = await api("POST", `/pods/${POD}/indicators`, { key: "soup-served", name: "Again", source: "count" });
    expect([again.status, again.body.error]).toEqual([409, "INDICATOR_EXISTS"]);
    const bad = await api("POST", `/pods/${POD}/indicators`, { key: "x", name: "X", source: "ledger", resource: "soup" });
    expect([bad.status, bad.body.error, bad.body.details.field]).toEqual([400, "INDICATOR_FIELDS", "entryKind"]);
    expect((await api("POST", `/pods/${POD}/indicators`, { key: "repairs", name: "Repairs without a landlord", source: "count" })).status).toBe(201);
    const list = await api("GET", `/pods/${POD}/indicators`);
    expect(list.body.items.map((i: any) => i.key)).toEqual(["repairs", "soup-served"]);
  });

  it("records counts (201), lists them, refuses a ledger indicator (422) and an unknown one (404)", async () => {
    const day = week.start.toISOString().slice(0, 10);
    const c = await api("POST", `/pods/${POD}/indicators/repairs/counts`, { countedOn: day, count: "2", publicNote: "boiler" });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ key: "repairs", countedOn: day, count: "2", publicNote: "boiler" });
    expect((await api("GET", `/pods/${POD}/indicators/repairs/counts`)).body.items).toHaveLength(1);
    const ledger = await api("POST", `/pods/${POD}/indicators/soup-served/counts`, { countedOn: day, count: "1" });
    expect([ledger.status, ledger.body.error]).toEqual([422, "INDICATOR_NOT_COUNTED"]);
    const unknown = await api("POST", `/pods/${POD}/indicators/nothing/counts`, { countedOn: day, count: "1" });
    expect([unknown.status, unknown.body.error]).toEqual([404, "INDICATOR_NOT_FOUND"]);
    const negative = await api("POST", `/pods/${POD}/indicators/repairs/counts`, { countedOn: day, count: "-2" });
    expect([negative.status, negative.body.error, negative.body.details.field]).toEqual([400, "NEGATIVE", "count"]);
  });

  it("the period published again now carries the indicators: version 2", async () => {
    const r = await api("POST", `/pods/${POD}/summaries`, { period: "week", at: week.start.toISOString() });
    expect(r.body).toMatchObject({ version: 2, created: true });
    expect(r.body.content.indicators).toEqual([
      { key: "repairs", name: "Repairs without a landlord", value: "2", previous: "0", trend: "up", note: "boiler" },
      { key: "soup-served", name: "Soup served", value: "4.5", previous: "0", trend: "up" },
    ]);
  });

  it("a retired pod stays readable but publishes and defines nothing (409 POD_RETIRED)", async () => {
    await retirePod(node.deps, POD);
    expect((await api("GET", `/pods/${POD}/summaries`)).status).toBe(200);
    const publish = await api("POST", `/pods/${POD}/summaries`, { period: "week" });
    expect([publish.status, publish.body.error]).toEqual([409, "POD_RETIRED"]);
    const define = await api("POST", `/pods/${POD}/indicators`, { key: "late", name: "Late", source: "count" });
    expect([define.status, define.body.error]).toEqual([409, "POD_RETIRED"]);
  });
});
