/**
 * `Idempotency-Key` on steward API writes, on a real node: a retry with the same key
 * returns the first result and applies nothing twice (also five copies at once); the
 * same key with another request is refused; keys are per pod; a bad key is a 400.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const PREFIX = "/api/hyphae/v1";
const OAK = "oak-street";
const ELM = "elm-row";

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

async function call(method: string, path: string, options: { body?: unknown; key?: string; token?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? tokenOak}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.key !== undefined) headers["idempotency-key"] = options.key;
  const response = await fetch(`${node.origin}${PREFIX}${path}`, { method, headers, ...(options.body !== undefined && { body: JSON.stringify(options.body) }) });
  const text = await response.text();
  return { status: response.status, replayed: response.headers.get("idempotent-replayed"), body: text ? (JSON.parse(text) as any) : null };
}

function charter(changeNote: string) {
  return {
    title: "Oak Street People's Service Charter",
    preamble: "We feed, fix and look after each other.",
    services: [{ name: "Community kitchen", description: "Hot meals.", category: "food", since: "2024-03-01" }],
    nextServices: [],
    changeNote,
  };
}

async function revisions(slug = OAK, token = tokenOak): Promise<number[]> {
  const r = await call("GET", `/pods/${slug}/charter/revisions`, { token });
  expect(r.status).toBe(200);
  return (r.body.items as Array<{ revision: number }>).map((i) => i.revision).sort((a, b) => a - b);
}

async function outboxEvents(): Promise<number> {
  const row = await node.deps.db.selectFrom("outbox_events").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("Idempotency-Key on steward API writes", () => {
  it("a retry with the same key returns the first result, marked as replayed, and publishes one revision", async () => {
    const eventsBefore = await outboxEvents();
    const first = await call("POST", `/pods/${OAK}/charter`, { body: charter("First"), key: "key-charter-1" });
    expect(first.status).toBe(201);
    expect(first.replayed).toBeNull();
    const again = await call("POST", `/pods/${OAK}/charter`, { body: charter("First"), key: "key-charter-1" });
    expect(again.status).toBe(201);
    expect(again.replayed).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await revisions()).toEqual([1]);
    expect(await outboxEvents()).toBe(eventsBefore + 1);
  });

  it("five copies sent at once apply once and all answer with the same revision", async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => call("POST", `/pods/${OAK}/charter`, { body: charter("Second"), key: "key-charter-2" })));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.revision))).toEqual(new Set([2]));
    expect(answers.filter((a) => a.replayed === "true")).toHaveLength(4);
    expect(await revisions()).toEqual([1, 2]);
  });

  it("the same key with a different body is refused with 422 and changes nothing", async () => {
    const r = await call("POST", `/pods/${OAK}/charter`, { body: charter("Something else"), key: "key-charter-1" });
    expect(r.status).toBe(422);
    expect(r.body.error).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await revisions()).toEqual([1, 2]);
  });

  it("writes without a key are not deduplicated", async () => {
    await call("POST", `/pods/${OAK}/charter/confirm`);
    const a = await call("POST", `/pods/${OAK}/charter`, { body: charter("Third") });
    const b = await call("POST", `/pods/${OAK}/charter`, { body: charter("Third") });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect((await revisions()).length).toBe(4);
  });

  it("keys belong to one pod: another pod's token with the same key makes its own write", async () => {
    const r = await call("POST", `/pods/${ELM}/charter`, { body: charter("First"), key: "key-charter-1", token: tokenElm });
    expect(r.status).toBe(201);
    expect(r.replayed).toBeNull();
    expect(await revisions(ELM, tokenElm)).toEqual([1]);
  });

  it("a PATCH repeated with its key is answered from the first result", async () => {
    const first = await call("PATCH", `/pods/${OAK}`, { body: { summary: "Meals and tools" }, key: "patch-1" });
    expect(first.status).toBe(200);
    const again = await call("PATCH", `/pods/${OAK}`, { body: { summary: "Meals and tools" }, key: "patch-1" });
    expect(again.replayed).toBe("true");
    expect(again.body.summary).toBe("Meals and tools");
  });

  it.each([
    ["empty", ""],
    ["too long", "k".repeat(256)],
    ["with a space", "two words"],
    ["with a tab", "a\tb"],
  ])("a key that is %s is a 400 INVALID_IDEMPOTENCY_KEY and applies nothing", async (_name, key) => {
    const before = await revisions();
    const r = await call("POST", `/pods/${OAK}/charter`, { body: charter("Bad key"), key });
    expect({ status: r.status, error: r.body.error }).toEqual({ status: 400, error: "INVALID_IDEMPOTENCY_KEY" });
    expect(await revisions()).toEqual(before);
  });
});

describe("idempotency key retention", () => {
  it("the sweep forgets keys older than a day and keeps newer ones", async () => {
    const { sweepIdempotencyKeys } = await import("../../src/services/idempotency.ts");
    const db = node.deps.db;
    const old = new Date(Date.now() - 25 * 60 * 60 * 1000);
    await db.insertInto("idempotency_keys").values({ scope: "pod:test", key: "old", fingerprint: "f", result: "{}", created_at: old }).execute();
    const before = Number((await db.selectFrom("idempotency_keys").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow()).n);
    expect(await sweepIdempotencyKeys(node.deps)).toBe(1);
    const after = await db.selectFrom("idempotency_keys").select(["key"]).execute();
    expect(after).toHaveLength(before - 1);
    expect(after.map((r) => r.key)).not.toContain("old");
  });
});
