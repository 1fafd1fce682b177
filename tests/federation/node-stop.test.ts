/**
 * A node's stop is bounded: an inbox request stuck on a remote server that accepted the
 * connection and never answers (here, fetching the signer's key) cannot hold the stop.
 * Its connection is cut after the request grace, and the node's database is free again.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AS_CONTEXT, postSigned, startFakeMastodon, type FakeMastodon } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

let node: TestNode | undefined;
let masto: FakeMastodon | undefined;
let tarpit: net.Server | undefined;
const held: net.Socket[] = [];

afterEach(async () => {
  await node?.stop();
  await masto?.close();
  for (const socket of held) socket.destroy();
  await new Promise<void>((resolve) => (tarpit ? tarpit.close(() => resolve()) : resolve()));
  node = masto = tarpit = undefined;
});

describe("stopping a node", () => {
  it("cuts a request stuck on a silent remote server after the grace, and the stop completes", async () => {
    // Accepts connections, reads nothing, answers nothing.
    let connections = 0;
    tarpit = net.createServer((socket) => {
      connections += 1;
      held.push(socket);
    });
    await new Promise<void>((resolve) => tarpit!.listen(0, "127.0.0.1", () => resolve()));
    const tarpitOrigin = `http://127.0.0.1:${(tarpit.address() as net.AddressInfo).port}`;

    node = await startTestNode({ podSlug: "oak-street", requestGraceMs: 200 });
    masto = await startFakeMastodon();
    const alice = masto.user("alice");
    const follow = { "@context": AS_CONTEXT, id: `${tarpitOrigin}/follows/1`, type: "Follow", actor: `${tarpitOrigin}/users/ghost`, object: node.actorUrl() };
    // Signed with a key whose id points at the tarpit: verifying it waits on the tarpit.
    const stuck = postSigned(`${node.actorUrl()}/inbox`, follow, { signer: { privateKey: alice.privateKey, keyId: `${tarpitOrigin}/users/ghost#main-key` } }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    await waitFor(() => connections > 0, 15_000, "the node to ask the tarpit for the key");

    const started = performance.now();
    await node.stop();
    const tookMs = performance.now() - started;
    node = undefined;
    // The queue's own grace is 10 s and nothing is queued: only the stuck request could hold it.
    expect(tookMs).toBeLessThan(10_000);
    // The stuck request's connection was cut: the sender sees an error, not an answer.
    const outcome = await stuck;
    expect("error" in outcome ? "cut" : outcome.result.status).toBe("cut");
  }, 30_000);

  it("stops promptly when nothing is in flight", async () => {
    node = await startTestNode({ podSlug: "oak-street", requestGraceMs: 60_000 });
    const response = await fetch(`${node.origin}/.well-known/webfinger?resource=acct:oak-street@${node.host}`);
    expect(response.status).toBe(200);
    await response.text();
    const started = performance.now();
    await node.stop();
    node = undefined;
    // With a 60 s grace, finishing at all before the test's timeout shows nothing waited on it.
    expect(performance.now() - started).toBeLessThan(20_000);
  }, 40_000);
});
