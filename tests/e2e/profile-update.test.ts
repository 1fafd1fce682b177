/**
 * A pod's profile change reaches its followers: B follows A; A's stewards change its name
 * (through the steward web form) and upload an icon; B's copy of A follows each change, from
 * the Update of A's actor. A save that changes nothing sends nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRemoteActor } from "../../src/db/repos/follows.ts";
import { requestFollow, listFollowing } from "../../src/services/follows.ts";
import { updatePod } from "../../src/services/pods.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { StewardClient } from "../helpers/steward-web.ts";

let a: TestNode;
let b: TestNode;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestNode({ podSlug: "oak-street", podName: "Oak Street" }), startTestNode({ podSlug: "elm-row", podName: "Elm Row" })]);
  await requestFollow(b.deps, "elm-row", a.handle());
  await waitFor(async () => (await listFollowing(b.deps, "elm-row")).find((f) => f.status === "accepted"), 20_000, "B's follow of A to be accepted");
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const updates = async () => (await a.deps.db.selectFrom("outbox_events").select("id").where("kind", "=", "update_actor").execute()).length;

describe("profile updates federate", () => {
  it("a new name saved from the steward web page reaches the follower's copy", async () => {
    expect((await getRemoteActor(b.deps.db, a.actorUrl()))?.name).toBe("Oak Street");
    const steward = await StewardClient.signIn(a, "oak-street");
    const saved = await steward.post("/pods/oak-street/steward/profile", { name: "Oak Street Commons", summary: "Tools and seeds" }, { from: "/pods/oak-street/steward/profile" });
    expect(saved.status).toBe(303);
    await waitFor(async () => (await getRemoteActor(b.deps.db, a.actorUrl()))?.name === "Oak Street Commons", 20_000, "B's copy of A to have the new name");
    expect(await updates()).toBe(1);
  });

  it("a save that changes nothing sends no Update", async () => {
    const before = await updates();
    await updatePod(a.deps, "oak-street", { name: "Oak Street Commons" });
    expect(await updates()).toBe(before);
  });
});
