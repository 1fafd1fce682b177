/**
 * Text hygiene on the steward API: NUL characters and lone surrogates in the body, the query
 * or the path answer 400 INVALID_TEXT naming the field — never 500, never stored altered —
 * and what was stored before is untouched. A real node over loopback HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const PREFIX = "/api/hyphae/v1";
const SLUG = "commons";

let node: TestNode;
let token: string;

/** Sends `body` as the exact JSON text given (so lone surrogates travel as `\ud800` escapes). */
async function call(method: string, path: string, jsonText?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (jsonText !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`${node.origin}${PREFIX}${path}`, { method, headers, ...(jsonText !== undefined && { body: jsonText }) });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as any) : null };
}

function expectInvalidText(r: { status: number; body: any }, field: string) {
  expect(r.status).toBe(400);
  expect(r.body.error).toBe("INVALID_TEXT");
  expect(r.body.details).toEqual({ field });
  expect(r.body.message).toContain(field);
}

const charter = (title: string) => ({
  title,
  preamble: "We feed, fix and look after each other.",
  services: [{ name: "Community kitchen", description: "Hot meals.", category: "food", since: "2024-03-01" }],
  nextServices: [],
  assemblyRhythm: "Thursdays 19:00",
  meetingPlace: "Northfield",
  changeNote: "First charter",
});

async function snapshot() {
  const pod = await call("GET", `/pods/${SLUG}`);
  const charterNow = await call("GET", `/pods/${SLUG}/charter`);
  const revisions = await call("GET", `/pods/${SLUG}/charter/revisions`);
  return { pod: pod.body, charter: charterNow.body, revisions: revisions.body };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: SLUG, podName: "Our Commons" });
  token = await node.token();
  const created = await call("POST", `/pods/${SLUG}/charter`, JSON.stringify(charter("Commons charter")));
  expect(created.status).toBe(201);
}, 60_000);

afterAll(async () => {
  await node?.stop();
});

describe("NUL and lone surrogates in the steward API", () => {
  it("PATCH a pod name with NUL → 400 INVALID_TEXT body.name, pod unchanged", async () => {
    const before = await snapshot();
    expectInvalidText(await call("PATCH", `/pods/${SLUG}`, '{"name":"a\\u0000b"}'), "body.name");
    expect(await snapshot()).toEqual(before);
  });

  it("PATCH a pod name or summary with a lone surrogate → 400 (not stored as U+FFFD)", async () => {
    const before = await snapshot();
    expectInvalidText(await call("PATCH", `/pods/${SLUG}`, '{"name":"a\\ud800b"}'), "body.name");
    expectInvalidText(await call("PATCH", `/pods/${SLUG}`, '{"summary":"ok \\udc00"}'), "body.summary");
    expect(await snapshot()).toEqual(before);
    expect(JSON.stringify(before.pod)).not.toContain("\uFFFD");
  });

  it("a charter whose title or nested service has NUL or a lone surrogate → 400 naming the JSON path, no revision", async () => {
    const before = await snapshot();
    const ok = JSON.stringify(charter("Second charter"));
    expectInvalidText(await call("POST", `/pods/${SLUG}/charter`, ok.replace('"Second charter"', '"Second\\u0000charter"')), "body.title");
    expectInvalidText(await call("POST", `/pods/${SLUG}/charter`, ok.replace('"Second charter"', '"Second \\ud83d charter"')), "body.title");
    expectInvalidText(await call("POST", `/pods/${SLUG}/charter`, ok.replace('"Hot meals."', '"Hot\\u0000meals."')), "body.services[0].description");
    expect(await snapshot()).toEqual(before);
  });

  it("a key with NUL is named too", async () => {
    const r = await call("PATCH", `/pods/${SLUG}`, '{"name":"Fine","x\\u0000":1}');
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("INVALID_TEXT");
    expect(r.body.message).toContain("body");
  });

  it("a NUL in the query or in a path parameter → 400 naming it", async () => {
    expectInvalidText(await call("DELETE", `/pods/${SLUG}/following?target=https%3A%2F%2Fx.example%2F%00`), "query.target");
    expectInvalidText(await call("GET", `/pods/${SLUG}/charter/revisions/1%00`), "params.revision");
  });

  it("well-formed text, astral characters included, is stored exactly as sent", async () => {
    const r = await call("PATCH", `/pods/${SLUG}`, JSON.stringify({ name: "Commons 🌱 Üçgen" }));
    expect(r.status).toBe(200);
    expect((await call("GET", `/pods/${SLUG}`)).body.name).toBe("Commons 🌱 Üçgen");
  });
});
