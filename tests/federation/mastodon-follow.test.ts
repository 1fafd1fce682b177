/**
 * A Mastodon-shaped remote (tests/helpers/mastodon.ts) follows a pod on a real Hyphae node:
 * Follow signed exactly as Mastodon signs it → 202 → an Accept reaches the remote's inbox,
 * signed with draft-cavage by the pod's main key (after Fedify's RFC 9421 first knock is
 * refused, as Mastodon ≤ 4.4 does) → the followers collection lists the remote actor.
 * Then repeated Follows, and both Undo shapes Mastodon sends.
 */
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AS_CONTEXT,
  postRaw,
  postSigned,
  recordedJson,
  startFakeMastodon,
  verifyCavage,
  mastodonPostHeaders,
  type FakeMastodon,
  type FakeUser,
  type RecordedRequest,
} from "../helpers/mastodon.ts";
import { updatePod } from "../../src/services/pods.ts";
import { readCollection, startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";
const SLUG = "maple-court";

let node: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let pod: string;
let podInbox: string;
let podKeyPem: string;
let podKeyId: string;

beforeAll(async () => {
  [node, masto] = await Promise.all([startTestNode({ podSlug: SLUG }), startFakeMastodon()]);
  // These tests read the followers list anonymously: open it (people are hidden by default,
  // see tests/federation/collections-privacy.test.ts).
  await updatePod(node.deps, SLUG, { networkVisibility: "public" });
  alice = masto.user("alice");
  pod = node.actorUrl(SLUG);
  const actor = (await (await fetch(pod, { headers: { accept: AP } })).json()) as any;
  podInbox = actor.inbox;
  podKeyPem = actor.publicKey.publicKeyPem;
  podKeyId = actor.publicKey.id;
});

afterAll(async () => {
  await Promise.all([node?.stop(), masto?.close()]);
});

function follow(id = `${masto.origin}/${randomUUID()}`) {
  return { "@context": AS_CONTEXT, id, type: "Follow", actor: alice.actorUrl, object: pod };
}

function objectId(activity: any): string | undefined {
  return typeof activity?.object === "string" ? activity.object : activity?.object?.id;
}

/** The accepted (202) delivery to alice's inbox of an Accept answering `followId`. */
async function acceptFor(followId: string): Promise<{ request: RecordedRequest; activity: any }> {
  return waitFor(
    () => {
      for (const request of masto.inbox) {
        const activity = recordedJson(request);
        if (request.status === 202 && activity?.type === "Accept" && objectId(activity) === followId) return { request, activity };
      }
      return null;
    },
    20_000,
    `an Accept of ${followId} at the fake Mastodon inbox`,
  );
}


const followers = () => readCollection(`${pod}/followers`);

describe("a Mastodon-shaped remote follows a pod", () => {
  it("the helper's own signatures verify, and tampering is detected (verifyCavage can fail)", async () => {
    // Sign a POST to the fake's own inbox, then check what it recorded.
    const body = JSON.stringify(follow());
    const res = await postSigned(alice.inboxUrl, body, { signer: alice });
    expect(res.status).toBe(202);
    const recorded = masto.inbox.find((r) => r.body.toString() === body)!;
    expect(recorded.status).toBe(202);
    expect(recorded.headers.digest).toBe(`SHA-256=${createHash("sha256").update(body).digest("base64")}`);
    expect(verifyCavage(recorded, alice.publicKeyPem)).toEqual({
      ok: true,
      keyId: alice.keyId,
      algorithm: "rsa-sha256",
      signedHeaders: ["(request-target)", "host", "date", "digest", "content-type"],
    });
    expect(verifyCavage(recorded, masto.user("bob").publicKeyPem)).toMatchObject({ ok: false, reason: "signature does not verify" });
    expect(verifyCavage({ ...recorded, body: Buffer.from(body.replace("Follow", "Block")) }, alice.publicKeyPem)).toMatchObject({
      ok: false,
      reason: "Digest does not match the body",
    });
    expect(verifyCavage({ ...recorded, path: "/inbox" }, alice.publicKeyPem)).toMatchObject({ ok: false, reason: "signature does not verify" });
    expect(verifyCavage(recorded, alice.publicKeyPem, { now: new Date(Date.now() + 2 * 3_600_000) })).toMatchObject({
      ok: false,
      reason: "Date outside the time window",
    });
    expect(mastodonPostHeaders(podInbox, "{}").digest).toBe("SHA-256=RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o="); // sha256("{}")

    // The fake refuses an RFC 9421-only request and an unsigned one, like Mastodon ≤ 4.4.
    const rfc9421 = await postRaw(
      alice.inboxUrl,
      { ...mastodonPostHeaders(alice.inboxUrl, body), "signature-input": 'sig1=("@method");keyid="x"', signature: "sig1=:AAAA:" },
      body,
    );
    expect(rfc9421.status).toBe(401);
    expect((await postSigned(alice.inboxUrl, body)).status).toBe(401);
  });

  it("answers a Mastodon-signed Follow with 202, then delivers a draft-cavage-signed Accept", async () => {
    expect(podInbox).toBe(`${pod}/inbox`);
    expect(podKeyId).toBe(`${pod}#main-key`);
    const f = follow();
    const res = await postSigned(podInbox, f, { signer: alice });
    expect(res.status).toBe(202);

    const { request, activity } = await acceptFor(f.id);
    expect(activity.actor).toBe(pod);
    if (typeof activity.object !== "string") {
      expect(activity.object).toMatchObject({ id: f.id, type: "Follow", actor: alice.actorUrl, object: pod });
    }
    expect(request.path).toBe("/users/alice/inbox");
    expect(request.headers["content-type"]).toMatch(/^application\/(activity\+json|ld\+json)/);
    const verification = verifyCavage(request, podKeyPem);
    expect(verification).toMatchObject({ ok: true, keyId: `${pod}#main-key` });
    if (verification.ok) {
      expect(verification.signedHeaders).toEqual(expect.arrayContaining(["(request-target)", "host", "date", "digest"]));
    }

    // Double knock: the first delivery attempt of this Accept carried only an RFC 9421
    // signature, the fake refused it with 401, and Fedify retried with draft-cavage.
    const attempts = masto.inbox.filter((r) => recordedJson(r)?.id === activity.id);
    const refused = attempts.findIndex((r) => r.status === 401 && r.headers["signature-input"] !== undefined);
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(attempts.findIndex((r) => r === request)).toBeGreaterThan(refused);

    expect(await followers()).toEqual({ totalItems: 1, items: [alice.actorUrl] });
    const rows = await node.deps.db.selectFrom("followers").select(["actor_iri", "follow_iri", "status"]).execute();
    expect(rows).toEqual([{ actor_iri: alice.actorUrl, follow_iri: f.id, status: "accepted" }]);
  });

  it("answers a repeated Follow with a new id with another Accept, keeping one follower", async () => {
    const again = follow();
    // Mastodon ≥ 4.5 lists (request-target) last; both orders must verify.
    const res = await postSigned(podInbox, again, { signer: alice, signedHeaders: ["host", "date", "digest", "content-type", "(request-target)"] });
    expect(res.status).toBe(202);
    const { request, activity } = await acceptFor(again.id);
    expect(activity.actor).toBe(pod);
    expect(verifyCavage(request, podKeyPem)).toMatchObject({ ok: true, keyId: `${pod}#main-key` });
    expect(await followers()).toEqual({ totalItems: 1, items: [alice.actorUrl] });
  });

  it("an Undo with the embedded Follow (Mastodon's shape) removes the follower", async () => {
    const row = await node.deps.db.selectFrom("followers").select("follow_iri").executeTakeFirstOrThrow();
    const undo = {
      "@context": AS_CONTEXT,
      id: `${alice.actorUrl}#follows/1/undo`,
      type: "Undo",
      actor: alice.actorUrl,
      object: { id: row.follow_iri, type: "Follow", actor: alice.actorUrl, object: pod },
    };
    const res = await postSigned(podInbox, undo, { signer: alice });
    expect(res.status).toBe(202);
    await waitFor(async () => (await followers()).totalItems === 0, 20_000, "alice to be removed from the followers");
    expect(await followers()).toEqual({ totalItems: 0, items: [] });
    expect(await node.deps.db.selectFrom("followers").selectAll().execute()).toEqual([]);
  });

  it("an Undo whose object is only the Follow's id also removes the follower", async () => {
    const f = follow();
    expect((await postSigned(podInbox, f, { signer: alice })).status).toBe(202);
    await acceptFor(f.id);
    expect(await followers()).toEqual({ totalItems: 1, items: [alice.actorUrl] });

    const undo = { "@context": AS_CONTEXT, id: `${alice.actorUrl}#follows/2/undo`, type: "Undo", actor: alice.actorUrl, object: f.id };
    const res = await postSigned(podInbox, undo, { signer: alice });
    expect(res.status).toBe(202);
    await waitFor(async () => (await followers()).totalItems === 0, 20_000, "alice to be removed after the bare-id Undo");
    expect(await followers()).toEqual({ totalItems: 0, items: [] });
  });
});
