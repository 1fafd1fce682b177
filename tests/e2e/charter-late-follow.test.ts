/**
 * A pod that follows another after it published its charter still gets a copy: on the
 * Accept, the follower reads the charter pinned in the followed actor's `featured`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { getRemoteCharter } from "../../src/services/charters.ts";
import { requestFollow } from "../../src/services/follows.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

let a: TestNode;
let b: TestNode;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: "oak-street" }), startTestNode({ podSlug: "elm-row" })]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe("following a pod that already has a charter", () => {
  it("stores the charter pinned on its profile when the follow is accepted", async () => {
    const charter = {
      title: "Oak Street charter",
      services: [{ name: "Meal distribution", description: "Hot meals", category: "food", since: "2025-03-01", figure: "120 meals a week" }],
      nextServices: [{ name: "Solar co-op", why: "Cheaper power", targetDate: inDays(90) }],
      changeNote: "First charter",
    };
    await publishCharterRevision(a.deps, "oak-street", charter);
    await publishCharterRevision(a.deps, "oak-street", { ...charter, changeNote: "Second", assemblyRhythm: "Thursdays 19:00" });

    expect(await getRemoteCharter(b.deps, a.actorUrl())).toBeNull();
    await requestFollow(b.deps, "elm-row", a.handle());
    const copy = await waitFor(() => getRemoteCharter(b.deps, a.actorUrl()), 20_000, "B's copy of A's charter");
    expect(copy.revision).toBe(2);
    expect(copy.objectIri).toBe(`${a.actorUrl()}/charter`);
    expect(copy.content).toMatchObject({
      title: "Oak Street charter",
      assemblyRhythm: "Thursdays 19:00",
      services: [{ name: "Meal distribution", category: "food", figure: "120 meals a week" }],
      nextServices: [{ name: "Solar co-op", targetDate: inDays(90) }],
    });
  });
});
