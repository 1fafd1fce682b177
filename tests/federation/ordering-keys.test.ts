/**
 * Which outbound events wait for each other (federation/publish.ts `outboundOrderingKey`):
 * everything to one remote actor stays in one line per pod and actor, except claims and
 * their answers, which are ordered per claim so many claims between two pods travel at once.
 */
import { describe, expect, it } from "vitest";
import { ACTOR_KEY_PREFIX } from "../../src/db/repos/outbox.ts";
import { outboundOrderingKey } from "../../src/federation/publish.ts";

const POD = "0b7e2a44-0000-4000-8000-000000000001";
const THEM = "https://elm.example/pods/elm-row";

describe("outbound ordering keys", () => {
  it("Follow, Undo, their answers, transfers and flags to one actor share one key", () => {
    const keys = new Set([
      outboundOrderingKey({ kind: "send_follow", podId: POD, actorIri: THEM, followIri: "f1" }),
      outboundOrderingKey({ kind: "undo_follow", podId: POD, actorIri: THEM, followIri: "f1" }),
      outboundOrderingKey({ kind: "accept_follow", podId: POD, actorIri: THEM, followIri: "f2" }),
      outboundOrderingKey({ kind: "transfer_event", podId: POD, transferId: "t1", actorIri: THEM }),
      outboundOrderingKey({ kind: "transfer_flag", podId: POD, transferId: "t1", actorIri: THEM }),
    ]);
    expect([...keys]).toEqual([`${ACTOR_KEY_PREFIX}${POD} ${THEM}`]);
  });

  it("each claim (and its answer) has a key of its own, still marked as bound for one actor", () => {
    const one = outboundOrderingKey({ kind: "claim_offer", podId: POD, claimId: "c1", actorIri: THEM });
    const two = outboundOrderingKey({ kind: "claim_offer", podId: POD, claimId: "c2", actorIri: THEM });
    const answer = outboundOrderingKey({ kind: "claim_answer", podId: POD, claimId: "c1", actorIri: THEM });
    expect(one).not.toBe(two);
    expect(answer).toBe(one);
    for (const key of [one, two]) {
      expect(key.startsWith(`${ACTOR_KEY_PREFIX}${POD} ${THEM} `)).toBe(true);
      expect(key).not.toBe(`${ACTOR_KEY_PREFIX}${POD} ${THEM}`);
    }
  });

  it("posts to followers are one line per pod, apart from any actor's", () => {
    const charter = outboundOrderingKey({ kind: "charter_published", podId: POD, charterEventId: "e1" });
    const proposal = outboundOrderingKey({ kind: "proposal_published", podId: POD, proposalId: "p1", version: 2 });
    expect(charter).toBe(`followers ${POD}`);
    expect(proposal).toBe(charter);
  });
});
