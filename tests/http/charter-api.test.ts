/**
 * The charter's steward API on a real node: publishing, validation (every bad charter is a
 * 400 naming the field and stores nothing), the current charter and its revisions, diffs,
 * re-confirmation, the database's refusal to rewrite revisions, pod-scoped tokens, and the
 * 35-day review cadence under an injected clock.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confirmCharter, getCharter } from "../../src/services/charters.ts";
import { createPod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const PREFIX = "/api/hyphae/v1";
const OAK = "oak-street";
const ELM = "elm-row";
const DAY = 86_400_000;

let node: TestNode;
let tokenOak: string;
let tokenElm: string;

beforeAll(async () => {
  node = await startTestNode({ podSlug: OAK, podName: "Oak Street" });
  await createPod(node.deps, { slug: ELM, name: "Elm Row" });
  tokenOak = await node.token(OAK);
  tokenElm = await node.token(ELM);
});

afterAll(async () => {
  await node?.stop();
});

async function call(method: string, path: string, body?: unknown, token = tokenOak) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${node.origin}${PREFIX}${path}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

async function expectError(response: Promise<{ status: number; body: any }>, status: number, code: string) {
  const r = await response;
  expect({ status: r.status, error: r.body?.error }).toEqual({ status, error: code });
  expect(typeof r.body.message).toBe("string");
  expect(r.body.message.length).toBeGreaterThan(0);
  return r.body as { error: string; message: string; details?: any };
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const inDays = (n: number) => isoDay(new Date(Date.now() + n * DAY));

function validCharter(overrides: Record<string, unknown> = {}) {
  return {
    title: "Oak Street People's Service Charter",
    preamble: "We feed, fix and look after each other.",
    services: [
      { name: "Community kitchen", description: "Hot meals from the church hall.", category: "food", since: "2024-03-01", figure: "120 meals a week" },
      { name: "Repair café", description: "Bikes, toasters, trousers.", category: "repair", since: "2024-06-15" },
    ],
    nextServices: [{ name: "Warm room", why: "Energy bills doubled.", targetDate: inDays(60) }],
    assemblyRhythm: "Thursdays 19:00",
    meetingPlace: "Northfield",
    changeNote: "First charter",
    ...overrides,
  };
}

const service = (i: number) => ({ name: `Service ${i}`, description: "", category: "other", since: "2024-01-01" });

async function revisionCount(slug = OAK, token = tokenOak): Promise<number> {
  const r = await call("GET", `/pods/${slug}/charter/revisions`, undefined, token);
  expect(r.status).toBe(200);
  return (r.body.items as unknown[]).length;
}

async function tableCounts() {
  const count = async (table: "charter_revisions" | "charter_events" | "charters") =>
    Number((await node.deps.db.selectFrom(table).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
  return { revisions: await count("charter_revisions"), events: await count("charter_events"), charters: await count("charters") };
}

describe("before any charter", () => {
  it("GET /charter → 404 CHARTER_NOT_FOUND; confirm → 404; no revisions", async () => {
    await expectError(call("GET", `/pods/${OAK}/charter`), 404, "CHARTER_NOT_FOUND");
    await expectError(call("POST", `/pods/${OAK}/charter/confirm`), 404, "CHARTER_NOT_FOUND");
    expect(await revisionCount()).toBe(0);
    expect(await tableCounts()).toEqual({ revisions: 0, events: 0, charters: 0 });
  });

  it("an invalid first charter creates nothing", async () => {
    const error = await expectError(call("POST", `/pods/${OAK}/charter`, validCharter({ title: "" })), 400, "VALIDATION_FAILED");
    expect(error.message).toContain("title");
    await expectError(call("GET", `/pods/${OAK}/charter`), 404, "CHARTER_NOT_FOUND");
    expect(await tableCounts()).toEqual({ revisions: 0, events: 0, charters: 0 });
  });
});

describe("publishing", () => {
  it("POST a valid charter → 201 with revision 1, normalised content and review info", async () => {
    const before = Date.now();
    const r = await call("POST", `/pods/${OAK}/charter`, validCharter());
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ pod: OAK, revision: 1, changeNote: "First charter", madeByRole: "steward", url: `${node.actorUrl(OAK)}/charter` });
    // Defaults: no licence given → CC BY-SA 4.0; no figure → null.
    expect(r.body.content.licence).toEqual({ name: "CC BY-SA 4.0", url: "https://creativecommons.org/licenses/by-sa/4.0/" });
    expect(r.body.content.services[1].figure).toBeNull();
    expect(r.body.content.nextServices).toEqual([{ name: "Warm room", why: "Energy bills doubled.", targetDate: inDays(60) }]);
    const reviewed = Date.parse(r.body.review.lastReviewedAt);
    expect(reviewed).toBeGreaterThanOrEqual(before - 1000);
    expect(reviewed).toBeLessThanOrEqual(Date.now() + 1000);
    expect(r.body.review.due).toBe(false);
    expect(r.body.review.daysSinceReview).toBe(0);
    expect(Date.parse(r.body.review.dueAt) - reviewed).toBe(35 * DAY);
    expect(r.body.publishedAt).toBe(r.body.updatedAt);

    const current = await call("GET", `/pods/${OAK}/charter`);
    expect(current.status).toBe(200);
    expect(current.body).toEqual(r.body);
    expect(await revisionCount()).toBe(1);
    expect(await tableCounts()).toEqual({ revisions: 1, events: 1, charters: 1 });
  });

  it("strings are trimmed, the licence can be chosen, and text that looks like HTML is kept as text", async () => {
    const r = await call(
      "POST",
      `/pods/${ELM}/charter`,
      validCharter({ title: "  Elm Row  ", licence: { name: "CC0 1.0", url: "https://creativecommons.org/publicdomain/zero/1.0/" }, preamble: "<b>hi</b>" }),
      tokenElm,
    );
    expect(r.status).toBe(201);
    expect(r.body.content.title).toBe("Elm Row");
    expect(r.body.content.licence).toEqual({ name: "CC0 1.0", url: "https://creativecommons.org/publicdomain/zero/1.0/" });
    expect(r.body.content.preamble).toBe("<b>hi</b>");
  });

  it("values exactly at the limits are accepted (title 200, description 1000, 100 services)", async () => {
    const before = await revisionCount(ELM, tokenElm);
    const services = Array.from({ length: 100 }, (_, i) => service(i));
    services[0] = { ...services[0]!, description: "d".repeat(1000) };
    const r = await call("POST", `/pods/${ELM}/charter`, validCharter({ title: "t".repeat(200), services, nextServices: [] }), tokenElm);
    expect(r.status).toBe(201);
    expect(r.body.content.title).toHaveLength(200);
    expect(r.body.content.services).toHaveLength(100);
    expect(await revisionCount(ELM, tokenElm)).toBe(before + 1);
  });
});

describe("every invalid charter is refused with 400 VALIDATION_FAILED naming the field, and stores nothing", () => {
  const cases: Array<{ name: string; body: () => unknown; field: string }> = [
    { name: "empty title", body: () => validCharter({ title: "" }), field: "title" },
    { name: "blank title", body: () => validCharter({ title: "   " }), field: "title" },
    { name: "missing title", body: () => ({ ...validCharter(), title: undefined }), field: "title" },
    { name: "no services at all", body: () => validCharter({ services: [], nextServices: [] }), field: "services" },
    { name: "no services at all (keys absent)", body: () => ({ title: "Bare", changeNote: "" }), field: "services" },
    {
      name: "a next service with a target date in the past",
      body: () => validCharter({ nextServices: [{ name: "Warm room", why: "Winter.", targetDate: inDays(-2) }] }),
      field: "nextServices.0.targetDate",
    },
    {
      name: "a target date that is not a calendar date",
      body: () => validCharter({ nextServices: [{ name: "Warm room", why: "Winter.", targetDate: `${new Date().getUTCFullYear() + 1}-02-30` }] }),
      field: "nextServices.0.targetDate",
    },
    { name: "a title of 201 characters", body: () => validCharter({ title: "t".repeat(201) }), field: "title" },
    {
      name: "a description of 1001 characters",
      body: () => validCharter({ services: [{ ...service(0), description: "d".repeat(1001) }] }),
      field: "services.0.description",
    },
    { name: "more than 100 services", body: () => validCharter({ services: Array.from({ length: 101 }, (_, i) => service(i)) }), field: "services" },
    { name: "an unknown category", body: () => validCharter({ services: [{ ...service(0), category: "banking" }] }), field: "services.0.category" },
    { name: "an unknown key", body: () => validCharter({ colour: "green" }), field: "colour" },
    { name: "an unknown key in a service", body: () => validCharter({ services: [{ ...service(0), price: 3 }] }), field: "services.0.price" },
    { name: "services that is not a list", body: () => validCharter({ services: "soup" }), field: "services" },
    { name: "a licence URL that is not http(s)", body: () => validCharter({ licence: { name: "Mine", url: "javascript:alert(1)" } }), field: "licence.url" },
  ];

  it.each(cases)("$name → names $field", async ({ body, field }) => {
    const before = await tableCounts();
    const revisionsBefore = await revisionCount();
    const current = await call("GET", `/pods/${OAK}/charter`);
    expect(current.status).toBe(200);

    const error = await expectError(call("POST", `/pods/${OAK}/charter`, body()), 400, "VALIDATION_FAILED");
    expect(error.message).toContain(field);
    const fields = (error.details?.issues ?? []).map((i: any) => i.field);
    expect(fields).toContain(field);

    expect(await tableCounts()).toEqual(before);
    expect(await revisionCount()).toBe(revisionsBefore);
    expect(await call("GET", `/pods/${OAK}/charter`)).toEqual(current);
  });

  it("a body that is not an object is refused too", async () => {
    const before = await tableCounts();
    const r = await call("POST", `/pods/${OAK}/charter`, ["not", "a", "charter"]);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("VALIDATION_FAILED");
    expect(await tableCounts()).toEqual(before);
  });
});

describe("revisions and differences", () => {
  it("a second revision is listed newest first; diff 1→2 lists the changes", async () => {
    const r = await call(
      "POST",
      `/pods/${OAK}/charter`,
      validCharter({
        title: "Oak Street Charter (winter)",
        services: [
          { name: "Community kitchen", description: "Hot meals from the church hall.", category: "food", since: "2024-03-01", figure: "150 meals a week" },
          { name: "Tool library", description: "Drills and ladders.", category: "repair", since: "2025-02-01" },
        ],
        changeNote: "Tool library replaces the repair café",
      }),
    );
    expect(r.status).toBe(201);
    expect(r.body.revision).toBe(2);
    expect(Date.parse(r.body.updatedAt)).toBeGreaterThan(Date.parse(r.body.publishedAt));

    const list = await call("GET", `/pods/${OAK}/charter/revisions`);
    expect(list.body.items.map((i: any) => [i.revision, i.title, i.madeByRole])).toEqual([
      [2, "Oak Street Charter (winter)", "steward"],
      [1, "Oak Street People's Service Charter", "steward"],
    ]);
    expect(list.body.items[0].url).toBe(`${node.actorUrl(OAK)}/charter/revisions/2`);

    const one = await call("GET", `/pods/${OAK}/charter/revisions/1`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ revision: 1, title: "Oak Street People's Service Charter", changeNote: "First charter" });
    expect(one.body.content.services.map((s: any) => s.name)).toEqual(["Community kitchen", "Repair café"]);

    const diff = await call("GET", `/pods/${OAK}/charter/diff?from=1&to=2`);
    expect(diff.status).toBe(200);
    expect(diff.body).toMatchObject({ from: 1, to: 2 });
    const text = (diff.body.lines as string[]).join("\n");
    expect(diff.body.lines.length).toBeGreaterThanOrEqual(3);
    expect(text).toContain("Oak Street Charter (winter)"); // title changed
    expect(text).toContain("Tool library"); // added
    expect(text).toContain("Repair café"); // removed
    expect(text).toMatch(/Community kitchen.*figure/); // figure changed
    expect(text).not.toContain("Warm room"); // unchanged
    // The structured diff carries the values.
    expect(diff.body.diff.fields).toEqual([{ field: "title", before: "Oak Street People's Service Charter", after: "Oak Street Charter (winter)" }]);
    const services = diff.body.diff.services as Array<{ name: string; before: any; after: any; fields: string[] }>;
    expect(services.map((c) => [c.name, c.before === null ? "added" : c.after === null ? "removed" : c.fields.join(",")])).toEqual([
      ["Community kitchen", "figure"],
      ["Tool library", "added"],
      ["Repair café", "removed"],
    ]);
    expect([services[0]!.before.figure, services[0]!.after.figure]).toEqual(["120 meals a week", "150 meals a week"]);
    expect(diff.body.diff.nextServices).toEqual([]);
    expect(diff.body.diff.unchanged).toBe(false);

    const back = await call("GET", `/pods/${OAK}/charter/diff?from=2&to=1`);
    expect(back.status).toBe(200);
    expect((back.body.lines as string[]).join("\n")).toContain("Tool library");
  });

  it("diff of a revision with itself → 400; unknown revisions → 404 REVISION_NOT_FOUND; bad numbers → 400", async () => {
    const same = await call("GET", `/pods/${OAK}/charter/diff?from=2&to=2`);
    expect(same.status).toBe(400);
    expect(typeof same.body.error).toBe("string");
    await expectError(call("GET", `/pods/${OAK}/charter/diff?from=1&to=99`), 404, "REVISION_NOT_FOUND");
    await expectError(call("GET", `/pods/${OAK}/charter/revisions/99`), 404, "REVISION_NOT_FOUND");
    await expectError(call("GET", `/pods/${OAK}/charter/revisions/0`), 400, "VALIDATION_FAILED");
    await expectError(call("GET", `/pods/${OAK}/charter/revisions/two`), 400, "VALIDATION_FAILED");
    await expectError(call("GET", `/pods/${OAK}/charter/diff?from=1`), 400, "VALIDATION_FAILED");
  });

  it("the database refuses UPDATE and DELETE on charter_revisions (and on charter_events)", async () => {
    const before = await node.deps.db.selectFrom("charter_revisions").selectAll().orderBy("created_at").execute();
    expect(before.length).toBeGreaterThanOrEqual(2);
    await expect(sql`update charter_revisions set change_note = 'rewritten'`.execute(node.deps.db)).rejects.toThrow(/append-only/);
    await expect(sql`update charter_revisions set content = '{}'::jsonb where number = 1`.execute(node.deps.db)).rejects.toThrow();
    await expect(sql`delete from charter_revisions where number = 1`.execute(node.deps.db)).rejects.toThrow(/append-only/);
    await expect(node.deps.db.deleteFrom("charter_revisions").execute()).rejects.toThrow();
    await expect(sql`update charter_events set revision = 7`.execute(node.deps.db)).rejects.toThrow();
    await expect(sql`delete from charter_events`.execute(node.deps.db)).rejects.toThrow();
    expect(await node.deps.db.selectFrom("charter_revisions").selectAll().orderBy("created_at").execute()).toEqual(before);
  });

  it("a token for another pod → 403 TOKEN_WRONG_POD on every charter route", async () => {
    const before = await tableCounts();
    await expectError(call("POST", `/pods/${OAK}/charter`, validCharter(), tokenElm), 403, "TOKEN_WRONG_POD");
    await expectError(call("GET", `/pods/${OAK}/charter`, undefined, tokenElm), 403, "TOKEN_WRONG_POD");
    await expectError(call("POST", `/pods/${OAK}/charter/confirm`, undefined, tokenElm), 403, "TOKEN_WRONG_POD");
    await expectError(call("GET", `/pods/${OAK}/charter/revisions`, undefined, tokenElm), 403, "TOKEN_WRONG_POD");
    await expectError(call("GET", `/pods/${OAK}/charter/revisions/1`, undefined, tokenElm), 403, "TOKEN_WRONG_POD");
    await expectError(call("GET", `/pods/${OAK}/charter/diff?from=1&to=2`, undefined, tokenElm), 403, "TOKEN_WRONG_POD");
    await expectError(call("GET", `/pods/${OAK}/following/charters`, undefined, tokenElm), 403, "TOKEN_WRONG_POD");
    expect(await tableCounts()).toEqual(before);
  });
});

describe("review cadence", () => {
  it("confirm through the API re-confirms without a new revision", async () => {
    const before = await call("GET", `/pods/${OAK}/charter`);
    const r = await call("POST", `/pods/${OAK}/charter/confirm`);
    expect(r.status).toBe(200);
    expect(r.body.revision).toBe(before.body.revision);
    expect(r.body.content).toEqual(before.body.content);
    expect(Date.parse(r.body.updatedAt)).toBeGreaterThan(Date.parse(before.body.updatedAt));
    expect(r.body.review.due).toBe(false);
    expect(await revisionCount()).toBe(2);
  });

  it("36 days later the charter is due for review; confirmCharter resets it and bumps updatedAt", async () => {
    const now = await getCharter(node.deps, OAK);
    expect(now.review.due).toBe(false);
    const later = new Date(now.review.lastReviewedAt.getTime() + 36 * DAY);
    const laterDeps: ServiceDeps = { ...node.deps, clock: { now: () => later } };
    const at34: ServiceDeps = { ...node.deps, clock: { now: () => new Date(now.review.lastReviewedAt.getTime() + 34 * DAY) } };
    expect((await getCharter(at34, OAK)).review.due).toBe(false);

    const due = await getCharter(laterDeps, OAK);
    expect(due.review.due).toBe(true);
    expect(due.review.daysSinceReview).toBe(36);
    expect(due.review.dueAt.getTime()).toBe(now.review.lastReviewedAt.getTime() + 35 * DAY);
    expect(due.revision).toBe(now.revision);

    const confirmed = await confirmCharter(laterDeps, OAK);
    expect(confirmed.revision).toBe(now.revision);
    expect(confirmed.content).toEqual(now.content);
    expect(confirmed.review.due).toBe(false);
    expect(confirmed.review.lastReviewedAt.getTime()).toBe(later.getTime());
    expect(confirmed.updatedAt.getTime()).toBe(later.getTime());
    expect(confirmed.updatedAt.getTime()).toBeGreaterThan(now.updatedAt.getTime());
    expect(confirmed.publishedAt.getTime()).toBe(now.publishedAt.getTime());

    const after = await getCharter(laterDeps, OAK);
    expect(after.review.due).toBe(false);
    expect(after.updatedAt.getTime()).toBe(later.getTime());
    expect(await revisionCount()).toBe(2);
  });
});
