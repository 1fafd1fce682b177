/**
 * A remote actor's Update of itself, as Mastodon sends it when someone renames their account:
 * our copy of a known actor follows it; the same activity delivered twice changes nothing more
 * and is answered 202 both times; an actor we do not know is not stored; an Update naming
 * another actor as its object is not taken as a profile change.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getRemoteActor } from "../../src/db/repos/follows.ts";
import { AS_CONTEXT, postSigned, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

let node: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let bob: FakeUser;
let podInbox: string;

beforeAll(async () => {
  [node, masto] = await Promise.all([startTestNode({ podSlug: "maple-court" }), startFakeMastodon()]);
  alice = masto.user("alice");
  bob = masto.user("bob");
  podInbox = `${node.actorUrl("maple-court")}/inbox`;
  const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: node.actorUrl("maple-court") };
  expect((await postSigned(podInbox, follow, { signer: alice })).status).toBe(202);
  await waitFor(async () => getRemoteActor(node.deps.db, alice.actorUrl), 20_000, "alice to be known");
});

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
});

function updateOf(user: FakeUser, name: string, object = user.actorUrl) {
  return {
    "@context": AS_CONTEXT,
    id: `${user.actorUrl}#updates/${randomUUID()}`,
    type: "Update",
    actor: user.actorUrl,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    object: { id: object, type: "Person", preferredUsername: user.name, name, inbox: user.inboxUrl },
  };
}

describe("an actor's Update of itself", () => {
  it("renames our copy of a known actor; the same delivery twice is 202 and changes nothing more", async () => {
    const update = updateOf(alice, "Alice in the garden");
    expect((await postSigned(podInbox, update, { signer: alice })).status).toBe(202);
    await waitFor(async () => (await getRemoteActor(node.deps.db, alice.actorUrl))?.name === "Alice in the garden", 20_000, "the new name");
    const after = await getRemoteActor(node.deps.db, alice.actorUrl);
    expect((await postSigned(podInbox, update, { signer: alice })).status).toBe(202);
    // A later, different update still goes through (the duplicate did not block the queue).
    expect((await postSigned(podInbox, updateOf(alice, "Alice"), { signer: alice })).status).toBe(202);
    await waitFor(async () => (await getRemoteActor(node.deps.db, alice.actorUrl))?.name === "Alice", 20_000, "the next name");
    const rows = await node.deps.db.selectFrom("remote_actors").select("iri").where("iri", "=", alice.actorUrl).execute();
    expect(rows).toHaveLength(1);
    expect(after?.inbox).toBe(alice.inboxUrl);
  });

  it("stores nothing for an actor no pod here knows, and ignores an Update whose object is someone else", async () => {
    expect((await postSigned(podInbox, updateOf(bob, "Bob"), { signer: bob })).status).toBe(202);
    expect((await postSigned(podInbox, updateOf(bob, "Not Alice", alice.actorUrl), { signer: bob })).status).toBe(202);
    // Processing is asynchronous: a later marker update from alice has gone through once its name shows.
    expect((await postSigned(podInbox, updateOf(alice, "Alice again"), { signer: alice })).status).toBe(202);
    await waitFor(async () => (await getRemoteActor(node.deps.db, alice.actorUrl))?.name === "Alice again", 20_000, "the marker");
    expect(await getRemoteActor(node.deps.db, bob.actorUrl)).toBeUndefined();
  });
});
