/**
 * The per-address limit on the steward pages' sessionless POSTs (sign-in links, passkey
 * challenges): the limiter's window on an injected clock, and a real node answering 429 with
 * Retry-After once one address passes the limit, while pages that need a session are untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignInLimiter } from "../../src/http/steward/limits.ts";

const LIMIT = 12;
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { StewardClient } from "../helpers/steward-web.ts";

describe("SignInLimiter", () => {
  it("lets `max` through per address per minute, says how long to wait, and starts afresh after the minute", () => {
    let now = 1_000_000;
    const limiter = new SignInLimiter(3, () => now);
    expect([limiter.take("a"), limiter.take("a"), limiter.take("a")]).toEqual([0, 0, 0]);
    expect(limiter.take("a")).toBe(60);
    expect(limiter.take("b")).toBe(0);
    now += 45_000;
    expect(limiter.take("a")).toBe(15);
    now += 15_000;
    expect(limiter.take("a")).toBe(0);
    // 0: no limit at all.
    const off = new SignInLimiter(0, () => now);
    for (let i = 0; i < 100; i++) expect(off.take("a")).toBe(0);
  });
});

describe("on a node", () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street", env: { STEWARD_SIGN_IN_RATE_LIMIT: String(LIMIT) } });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it("past the limit, sign-in POSTs get 429 with Retry-After; a signed-in steward's pages still answer", async () => {
    const steward = await StewardClient.signIn(node, "oak-street"); // one POST used
    const stranger = new StewardClient(node.origin, "oak-street");
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await stranger.post("/pods/oak-street/steward/sign-in", { link: "x".repeat(43) }, { csrf: false })).status);
    expect(statuses.slice(0, LIMIT - 1).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const refused = await stranger.post("/pods/oak-street/steward/sign-in", { link: "x".repeat(43) }, { csrf: false });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(refused.text).toContain("TOO_MANY_SIGN_INS");
    expect((await steward.get("/pods/oak-street/steward/")).status).toBe(200);
  });
});
