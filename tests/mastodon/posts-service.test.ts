/**
 * The posts service behind the Mastodon client API, on a real node (real database, real
 * HTTP), with everything published through the services on injected clocks:
 *   - a pod's charter, books summary, offers and needs are one list, newest first, with ids
 *     that grow with the posts' first publication; edits (charter revision, withdrawn offer,
 *     summary version 2) keep the id and set editedAt;
 *   - Mastodon paging: max_id, since_id, min_id (alone and with max_id), limit; pinned; tag;
 *   - findPost / findPosts, unknown and malformed ids; malformed bounds refused (INVALID_ID);
 *   - retired pods leave every list; accounts and their counts; the public timeline; search;
 *   - each post's content is byte for byte the `content` of the Note the node serves at its
 *     uri (and the same dates);
 *   - a private memo, a member's name and contact never appear in any post or search.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { upsertFollower, upsertFollowing, upsertRemoteActor } from "../../src/db/repos/follows.ts";
import { decodeSnowflake, snowflakeId } from "../../src/domain/snowflake.ts";
import { addMember, addResource } from "../../src/services/books.ts";
import { confirmCharter, publishCharterRevision } from "../../src/services/charters.ts";
import { addIndicator, recordIndicatorCount } from "../../src/services/indicators.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod, retirePod, updatePod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import {
  countPublicPosts,
  findPodAccount,
  findPodAccountBySlug,
  findPost,
  findPosts,
  listPodAccounts,
  listPodPosts,
  listPublicPosts,
  noteText,
  searchLocal,
  type PodPost,
} from "../../src/services/posts.ts";
import { createProposal, updateProposal, withdrawProposal } from "../../src/services/proposals.ts";
import { publishSummaryOutcome } from "../../src/services/summaries.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const A = "oak-street";
const B = "elm-row"; // retired before the checks
const C = "birch-lane";
const MEMBER = "Zelda Quillfeather";
const CONTACT = "zelda.q@example.org";
const MEMO = "PRIVATE-MEMO for Zelda's gran";

let node: TestNode;
let deps: ServiceDeps;
/** The deps with the clock stopped at `iso`. */
const at = (iso: string): ServiceDeps => ({ ...deps, clock: { now: () => new Date(iso) } });
const ms = (iso: string) => new Date(iso).getTime();

const errorOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error as { code?: string; kind?: string; details?: { field?: string } };
  }
  throw new Error("expected an error");
};

const charterInput = (title: string, changeNote: string) => ({
  title,
  changeNote,
  services: [{ name: "Squash share", description: "Squash from the allotments <every> week & more.", category: "food", since: "2026-01-04" }],
});

let podA: { id: string; createdAt: Date };
let podB: { id: string };
let podC: { id: string };
let offerB = "";

beforeAll(async () => {
  node = await startTestNode({ podSlug: A, podName: "Oak Street" });
  deps = node.deps;
  const base = at("2027-03-01T08:00:00Z");
  await addResource(base, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food", referencePrice: "2" });
  const member = await addMember(base, A, { name: MEMBER, contact: CONTACT });
  await addIndicator(base, A, { key: "meals", name: "Meals cooked", source: "count" });
  await publishCharterRevision(at("2027-03-01T09:00:00Z"), A, charterInput("Oak Street charter", "First charter"));
  await recordEntry(at("2027-03-02T09:00:00Z"), A, { kind: "contribution", resource: "squash", quantity: "40", counterpartyLabel: "allotment" });
  await recordEntry(at("2027-03-03T09:00:00Z"), A, { kind: "draw", resource: "squash", quantity: "2", fund: "survival", member: member.pseudonym, privateMemo: MEMO });
  await createPod(at("2027-03-02T00:00:00Z"), { slug: B, name: "Elm Row" });
  await createPod(at("2027-03-02T00:00:01Z"), { slug: C, name: "Birch Lane" });

  // The week of Monday 1 March, published on the 8th: the summary's creation.
  const v1 = await publishSummaryOutcome(at("2027-03-08T10:00:00Z"), A, "week", new Date("2027-03-03T00:00:00Z"));
  expect(v1).toMatchObject({ created: true, summary: { version: 1 } });
  await createProposal(at("2027-03-09T10:00:00Z"), A, "offer", { resource: "squash", name: "Squash", quantity: "20", location: "Oak Street allotments" });
  await createProposal(at("2027-03-09T12:00:00Z"), C, "need", { name: "Jars", quantity: "30", unit: "one", category: "food" });
  await createProposal(at("2027-03-10T10:00:00Z"), A, "need", { name: "Drinking water", quantity: "200", unit: "litre", category: "water", urgent: true });
  offerB = (await createProposal(at("2027-03-10T12:00:00Z"), B, "offer", { name: "Spades", quantity: "3", unit: "one", category: "tools" })).url;
  const bread = await createProposal(at("2027-03-11T10:00:00Z"), A, "offer", { name: "Bread", quantity: "12", unit: "one", category: "food" });
  await withdrawProposal(at("2027-03-12T10:00:00Z"), A, "offer", bread.number);
  // A count dated in the week changes the week's summary: version 2, the same post.
  await recordIndicatorCount(at("2027-03-13T10:00:00Z"), A, "meals", { countedOn: "2027-03-03", count: "12" });
  const v2 = await publishSummaryOutcome(at("2027-03-13T10:00:01Z"), A, "week", new Date("2027-03-03T00:00:00Z"));
  expect(v2).toMatchObject({ created: true, summary: { version: 2 } });
  await publishCharterRevision(at("2027-03-14T10:00:00Z"), A, charterInput("Oak Street charter", "Second revision"));
  await retirePod(at("2027-03-15T00:00:00Z"), B);

  const pods = await deps.db.selectFrom("pods").select(["id", "slug", "created_at"]).execute();
  const bySlug = (slug: string) => pods.find((p) => p.slug === slug)!;
  podA = { id: bySlug(A).id, createdAt: new Date(bySlug(A).created_at) };
  podB = { id: bySlug(B).id };
  podC = { id: bySlug(C).id };
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

const all = { limit: 40 };
const names = (posts: readonly PodPost[]) => posts.map((p) => `${p.pod.slug}/${p.kind}@${p.createdAt.toISOString().slice(5, 16)}`);
const ids = (posts: readonly PodPost[]) => posts.map((p) => p.id);

describe("a pod's posts", () => {
  it("are its charter, summary, offers and needs, newest first, ids growing with first publication", async () => {
    const { posts } = await listPodPosts(deps, podA.id, all);
    expect(names(posts)).toEqual([
      "oak-street/offer@03-11T10:00",
      "oak-street/need@03-10T10:00",
      "oak-street/offer@03-09T10:00",
      "oak-street/summary@03-08T10:00",
      "oak-street/charter@03-01T09:00",
    ]);
    for (let i = 1; i < posts.length; i++) expect(BigInt(posts[i - 1]!.id) > BigInt(posts[i]!.id)).toBe(true);
    for (const p of posts) {
      expect(p.id).toMatch(/^[1-9]\d{15,18}$/);
      expect(decodeSnowflake(p.id)).toMatchObject({ ms: p.createdAt.getTime(), kindCode: { charter: 1, summary: 2, offer: 3, need: 4 }[p.kind] });
      expect(p.pod.slug).toBe(A);
      expect(p.language).toBeNull();
    }
  });

  it("keep their id when edited, and say when they were edited", async () => {
    const [offer2, need, offer1, summary, charter] = (await listPodPosts(deps, podA.id, all)).posts;
    expect(charter).toMatchObject({ pinned: true, uri: `${node.origin}/pods/${A}/charter`, url: `${node.origin}/pods/${A}/charter` });
    expect(charter!.createdAt.toISOString()).toBe("2027-03-01T09:00:00.000Z");
    expect(charter!.editedAt?.toISOString()).toBe("2027-03-14T10:00:00.000Z");
    expect(charter!.contentHtml).toContain("Second revision");
    expect(charter!.tags).toEqual(["PeoplesCharter", "MutualAid"]);

    expect(summary).toMatchObject({ pinned: false, uri: `${node.origin}/pods/${A}/books/summaries/week-2027-03-01`, tags: ["OpenBooks", "MutualAid"] });
    expect(summary!.editedAt?.toISOString()).toBe("2027-03-13T10:00:01.000Z");
    expect(summary!.contentHtml).toContain("Version 2");

    expect(offer1).toMatchObject({ uri: `${node.origin}/pods/${A}/offers/1`, editedAt: null, tags: ["MutualAid", "Offer"] });
    expect(need).toMatchObject({ uri: `${node.origin}/pods/${A}/needs/2`, editedAt: null, tags: ["MutualAidUrgent", "MutualAid", "Need"] });
    // Withdrawn, still a post: its Note says so.
    expect(offer2).toMatchObject({ uri: `${node.origin}/pods/${A}/offers/3`, tags: ["MutualAid", "Offer"] });
    expect(offer2!.editedAt?.toISOString()).toBe("2027-03-12T10:00:00.000Z");
    expect(noteText(offer2!.contentHtml).toLowerCase()).toContain("withdrawn");
  });

  it("page with limit and max_id, newest first", async () => {
    const full = ids((await listPodPosts(deps, podA.id, all)).posts);
    const first = ids((await listPodPosts(deps, podA.id, { limit: 2 })).posts);
    expect(first).toEqual(full.slice(0, 2));
    const second = ids((await listPodPosts(deps, podA.id, { limit: 2, maxId: first[1] })).posts);
    expect(second).toEqual(full.slice(2, 4));
    const third = ids((await listPodPosts(deps, podA.id, { limit: 2, maxId: second[1] })).posts);
    expect(third).toEqual(full.slice(4));
    expect((await listPodPosts(deps, podA.id, { limit: 2, maxId: third[0] })).posts).toEqual([]);
    // A bound between ids works too (Mastodon clients send any id).
    const between = (BigInt(full[2]!) + 1n).toString();
    expect(ids((await listPodPosts(deps, podA.id, { limit: 40, maxId: between })).posts)).toEqual(full.slice(2));
  });

  it("since_id gives the newest posts above it; min_id the ones just above it, still newest first", async () => {
    const full = ids((await listPodPosts(deps, podA.id, all)).posts);
    const summaryId = full[3]!;
    expect(ids((await listPodPosts(deps, podA.id, { limit: 40, sinceId: summaryId })).posts)).toEqual(full.slice(0, 3));
    expect(ids((await listPodPosts(deps, podA.id, { limit: 2, sinceId: summaryId })).posts)).toEqual(full.slice(0, 2));
    expect(ids((await listPodPosts(deps, podA.id, { limit: 2, minId: summaryId })).posts)).toEqual(full.slice(1, 3));
    expect(ids((await listPodPosts(deps, podA.id, { limit: 40, minId: summaryId })).posts)).toEqual(full.slice(0, 3));
    // min_id and max_id together: the window between them, from min_id up.
    expect(ids((await listPodPosts(deps, podA.id, { limit: 1, minId: full[4]!, maxId: full[1]! })).posts)).toEqual([full[3]]);
    expect(ids((await listPodPosts(deps, podA.id, { limit: 40, minId: full[4]!, maxId: full[1]! })).posts)).toEqual(full.slice(2, 4));
    // min_id wins over since_id, as in Mastodon.
    expect(ids((await listPodPosts(deps, podA.id, { limit: 1, minId: summaryId, sinceId: full[1]! })).posts)).toEqual([full[2]]);
    expect((await listPodPosts(deps, podA.id, { limit: 40, sinceId: full[0]! })).posts).toEqual([]);
    expect((await listPodPosts(deps, podA.id, { limit: 40, minId: full[0]! })).posts).toEqual([]);
  });

  it("pinned gives the charter; tag filters case-insensitively, with or without #", async () => {
    expect(names((await listPodPosts(deps, podA.id, { limit: 40, pinned: true })).posts)).toEqual(["oak-street/charter@03-01T09:00"]);
    expect(names((await listPodPosts(deps, podA.id, { limit: 40, tag: "offer" })).posts)).toEqual(["oak-street/offer@03-11T10:00", "oak-street/offer@03-09T10:00"]);
    expect(names((await listPodPosts(deps, podA.id, { limit: 40, tag: "#MUTUALAIDURGENT" })).posts)).toEqual(["oak-street/need@03-10T10:00"]);
    expect(names((await listPodPosts(deps, podA.id, { limit: 40, tag: "OpenBooks" })).posts)).toEqual(["oak-street/summary@03-08T10:00"]);
    expect((await listPodPosts(deps, podA.id, { limit: 40, tag: "mutualaid" })).posts).toHaveLength(5);
    expect((await listPodPosts(deps, podA.id, { limit: 40, tag: "mutual" })).posts).toEqual([]);
  });

  it("limit is clamped to 1..40", async () => {
    expect((await listPodPosts(deps, podA.id, { limit: 0 })).posts).toHaveLength(1);
    expect((await listPodPosts(deps, podA.id, { limit: 1000 })).posts).toHaveLength(5);
  });

  it("refuse malformed bounds with INVALID_ID, naming the parameter", async () => {
    for (const [field, query] of [
      ["max_id", { limit: 5, maxId: "abc" }],
      ["since_id", { limit: 5, sinceId: "-1" }],
      ["min_id", { limit: 5, minId: "1e5" }],
      ["max_id", { limit: 5, maxId: "12345678901234567890" }],
    ] as const) {
      expect(await errorOf(listPodPosts(deps, podA.id, query))).toMatchObject({ code: "INVALID_ID", kind: "invalid", details: { field } });
      expect(await errorOf(listPublicPosts(deps, query))).toMatchObject({ code: "INVALID_ID", details: { field } });
    }
  });

  it("of an unknown, malformed or retired pod are none", async () => {
    expect((await listPodPosts(deps, podB.id, all)).posts).toEqual([]);
    expect((await listPodPosts(deps, "00000000-0000-4000-8000-000000000000", all)).posts).toEqual([]);
    expect((await listPodPosts(deps, "not-a-uuid", all)).posts).toEqual([]);
  });
});

describe("the public timeline", () => {
  it("holds every active pod's posts, newest first, without the retired pod's", async () => {
    const { posts } = await listPublicPosts(deps, all);
    expect(names(posts)).toEqual([
      "oak-street/offer@03-11T10:00",
      "oak-street/need@03-10T10:00",
      "birch-lane/need@03-09T12:00",
      "oak-street/offer@03-09T10:00",
      "oak-street/summary@03-08T10:00",
      "oak-street/charter@03-01T09:00",
    ]);
    expect(posts.some((p) => p.uri === offerB)).toBe(false);
    expect(names((await listPodPosts(deps, podC.id, all)).posts)).toEqual(["birch-lane/need@03-09T12:00"]);
    expect(await countPublicPosts(deps)).toBe(6);
    expect(names((await listPublicPosts(deps, { limit: 40, tag: "Need" })).posts)).toEqual(["oak-street/need@03-10T10:00", "birch-lane/need@03-09T12:00"]);
    const sinceSummary = await listPublicPosts(deps, { limit: 2, minId: posts[4]!.id });
    expect(names(sinceSummary.posts)).toEqual(["birch-lane/need@03-09T12:00", "oak-street/offer@03-09T10:00"]);
  });
});

describe("one post by id", () => {
  it("finds each post as the listing shows it", async () => {
    const { posts } = await listPublicPosts(deps, all);
    for (const post of posts) expect(await findPost(deps, post.id)).toEqual(post);
  });

  it("gives null for unknown, malformed, retired and wrong-kind ids", async () => {
    const { posts } = await listPodPosts(deps, podA.id, all);
    const charter = posts.find((p) => p.kind === "charter")!;
    const decoded = decodeSnowflake(charter.id)!;
    // The right millisecond and kind, another hash.
    const otherHash = ((BigInt(charter.id) >> 13n) << 13n) | BigInt((decoded.hash + 1) & 0x1fff);
    // The charter's millisecond and hash under another kind (an offer, and unused code 6).
    const asOffer = (BigInt(decoded.ms) << 16n) | (3n << 13n) | BigInt(decoded.hash);
    const unusedKind = (BigInt(decoded.ms) << 16n) | (6n << 13n) | BigInt(decoded.hash);
    const missing = [
      otherHash.toString(),
      asOffer.toString(),
      unusedKind.toString(),
      snowflakeId(new Date("2027-03-09T10:00:00.001Z"), 3, "nothing"),
      "",
      "abc",
      "01",
      "-1",
      "1e5",
      ` ${charter.id}`,
      "12345678901234567890",
      "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    ];
    for (const id of missing) expect(await findPost(deps, id)).toBeNull();
    // The retired pod's offer: its id is well formed and its row exists.
    const row = await deps.db.selectFrom("proposals").select(["id", "created_at"]).where("pod_id", "=", podB.id).executeTakeFirstOrThrow();
    expect(await findPost(deps, snowflakeId(new Date(row.created_at), 3, row.id))).toBeNull();
  });

  it("findPosts keeps the order asked, leaves out unknown ids, and repeats what is repeated", async () => {
    const { posts } = await listPodPosts(deps, podA.id, all);
    const asked = [posts[3]!.id, "abc", posts[0]!.id, "1", posts[3]!.id];
    expect(ids(await findPosts(deps, asked))).toEqual([posts[3]!.id, posts[0]!.id, posts[3]!.id]);
    expect(await findPosts(deps, [])).toEqual([]);
  });
});

describe("accounts", () => {
  it("are the active pods, oldest first, with their post and follow counts", async () => {
    const pods = await deps.db.selectFrom("pods").select(["id", "slug"]).execute();
    const idOf = (slug: string) => pods.find((p) => p.slug === slug)!.id;
    const now = new Date("2027-03-16T00:00:00Z");
    // Remote actors on a port that refuses connections: nothing is ever delivered to them.
    for (const n of ["f1", "f2", "f3", "f9", "g1", "g2", "g3"]) {
      const iri = `http://127.0.0.1:9/users/${n}`;
      await upsertRemoteActor(deps.db, { iri, handle: `@${n}@127.0.0.1:9`, name: null, url: null, inbox: `${iri}/inbox`, sharedInbox: null }, now);
    }
    for (const [n, status] of [[1, "accepted"], [2, "accepted"], [3, "pending"]] as const) {
      await upsertFollower(deps.db, { podId: idOf(A), actorIri: `http://127.0.0.1:9/users/f${n}`, followIri: `http://127.0.0.1:9/follows/f${n}`, status }, now);
    }
    for (const [n, status] of [[1, "accepted"], [2, "pending"], [3, "rejected"]] as const) {
      await upsertFollowing(deps.db, { podId: idOf(A), actorIri: `http://127.0.0.1:9/users/g${n}`, followIri: `${node.origin}/pods/${A}/follows/g${n}`, status }, now);
    }
    await upsertFollower(deps.db, { podId: idOf(C), actorIri: "http://127.0.0.1:9/users/f9", followIri: "http://127.0.0.1:9/follows/f9", status: "accepted" }, now);

    const accounts = await listPodAccounts(deps);
    expect(accounts.map((a) => a.pod.slug)).toEqual([A, C]);
    const [a, c] = accounts;
    expect(a).toMatchObject({ followersCount: 2, followingCount: 1, postsCount: 5 });
    expect(a!.lastPostAt?.toISOString()).toBe("2027-03-11T10:00:00.000Z");
    expect(a!.id).toBe(snowflakeId(podA.createdAt, 0, podA.id));
    expect(c).toMatchObject({ followersCount: 1, followingCount: 0, postsCount: 1 });
    expect(decodeSnowflake(c!.id)).toMatchObject({ ms: ms("2027-03-02T00:00:01Z"), kindCode: 0 });

    expect(await findPodAccount(deps, a!.id)).toEqual(a);
    expect(await findPodAccountBySlug(deps, C)).toEqual(c);
  });

  it("of a retired, unknown or malformed id or slug are null", async () => {
    const b = await deps.db.selectFrom("pods").select(["id", "created_at"]).where("slug", "=", B).executeTakeFirstOrThrow();
    expect(await findPodAccount(deps, snowflakeId(new Date(b.created_at), 0, b.id))).toBeNull();
    expect(await findPodAccountBySlug(deps, B)).toBeNull();
    expect(await findPodAccountBySlug(deps, "nobody")).toBeNull();
    expect(await findPodAccountBySlug(deps, "")).toBeNull();
    const a = (await findPodAccountBySlug(deps, A))!;
    // A post's id is not an account id, even with the pod's own time and hash.
    const asCharter = ((BigInt(a.id) >> 16n) << 16n) | (1n << 13n) | (BigInt(a.id) & 0x1fffn);
    for (const id of [asCharter.toString(), "abc", "", "0", (BigInt(a.id) + 1n).toString()]) expect(await findPodAccount(deps, id)).toBeNull();
  });
});

describe("search", () => {
  it("finds pods by slug, name and handle on this host only", async () => {
    const slugs = async (q: string) => (await searchLocal(deps, q, { limit: 10 })).accounts.map((a) => a.pod.slug);
    expect(await slugs("oak")).toEqual([A]);
    expect(await slugs("  Birch  ")).toEqual([C]);
    expect(await slugs("LANE")).toEqual([C]);
    expect(await slugs(`@${A}@${node.host}`)).toEqual([A]);
    expect(await slugs(`${C}@${node.host}`)).toEqual([C]);
    expect(await slugs(`@${A}`)).toEqual([A]);
    expect(await slugs(`@${A}@elsewhere.example`)).toEqual([]);
    expect(await slugs("elm")).toEqual([]); // retired
    const account = (await searchLocal(deps, A, { limit: 10 })).accounts[0];
    expect(account).toMatchObject({ postsCount: 5, followersCount: 2 });
  });

  it("finds posts by their text and hashtags by prefix, each list within limit", async () => {
    const found = await searchLocal(deps, "drinking WATER", { limit: 10 });
    expect(names(found.posts)).toEqual(["oak-street/need@03-10T10:00"]);
    expect((await searchLocal(deps, "every> week & more", { limit: 10 })).posts.map((p) => p.kind)).toEqual(["charter"]);
    expect(names((await searchLocal(deps, "#offer", { limit: 10 })).posts)).toEqual(["oak-street/offer@03-11T10:00", "oak-street/offer@03-09T10:00"]);
    expect(names((await searchLocal(deps, "#offer", { limit: 1 })).posts)).toEqual(["oak-street/offer@03-11T10:00"]);
    expect((await searchLocal(deps, "#mutual", { limit: 10 })).hashtags).toEqual(["MutualAid", "MutualAidUrgent"]);
    expect((await searchLocal(deps, "mutual", { limit: 1 })).hashtags).toEqual(["MutualAid"]);
    expect((await searchLocal(deps, "OPEN", { limit: 10 })).hashtags).toEqual(["OpenBooks"]);
    expect((await searchLocal(deps, "spades", { limit: 10 })).posts).toEqual([]); // the retired pod's offer
  });

  it("answers only the types asked, and nothing for an empty query", async () => {
    const onlyTags = await searchLocal(deps, "oak", { limit: 10, types: ["hashtags"] });
    expect(onlyTags).toEqual({ accounts: [], posts: [], hashtags: [] });
    const onlyAccounts = await searchLocal(deps, "oak", { limit: 10, types: ["accounts"] });
    expect(onlyAccounts.accounts).toHaveLength(1);
    expect(onlyAccounts.posts).toEqual([]);
    expect((await searchLocal(deps, "oak", { limit: 10, types: ["statuses"] })).posts.length).toBeGreaterThan(0);
    for (const q of ["", "   ", "#", "@", " # "]) expect(await searchLocal(deps, q, { limit: 10 })).toEqual({ accounts: [], posts: [], hashtags: [] });
  });
});

describe("what a post says", () => {
  it("is exactly the Note the node serves at the post's uri", async () => {
    const { posts } = await listPublicPosts(deps, all);
    expect(new Set(posts.map((p) => p.kind))).toEqual(new Set(["charter", "summary", "offer", "need"]));
    for (const post of posts) {
      const res = await fetch(post.uri, { headers: { accept: "application/activity+json" } });
      expect(res.status, post.uri).toBe(200);
      const note = (await res.json()) as Record<string, unknown>;
      expect(note.id).toBe(post.uri);
      expect(note.url).toBe(post.url);
      expect(note.content).toBe(post.contentHtml);
      expect(Date.parse(note.published as string)).toBe(post.createdAt.getTime());
      expect(note.updated === undefined ? null : Date.parse(note.updated as string)).toBe(post.editedAt?.getTime() ?? null);
      const tags = (note.tag as Array<{ name: string }>).map((t) => t.name);
      expect(tags).toEqual(post.tags.map((t) => `#${t}`));
    }
  });

  it("never holds a private memo, a member's name or contact", async () => {
    const { posts } = await listPublicPosts(deps, all);
    const summary = posts.find((p) => p.kind === "summary")!;
    expect(noteText(summary.contentHtml)).toMatch(/squash/i); // the draw is in the summary
    const member = await deps.db.selectFrom("book_members").select("pseudonym").executeTakeFirstOrThrow();
    for (const post of posts) {
      for (const secret of [MEMO, "PRIVATE-MEMO", MEMBER, "Quillfeather", CONTACT, member.pseudonym]) {
        expect(post.contentHtml).not.toContain(secret);
        expect(JSON.stringify(post)).not.toContain(secret);
      }
    }
    for (const q of ["PRIVATE-MEMO", "Quillfeather", "zelda.q", member.pseudonym]) {
      expect(await searchLocal(deps, q, { limit: 40 })).toEqual({ accounts: [], posts: [], hashtags: [] });
    }
  });
});

describe("after a change", () => {
  it("a post says what its Note now says (renders are cached by what they depend on)", async () => {
    const before = (await listPodPosts(deps, podA.id, all)).posts;
    await updateProposal(at("2027-03-16T10:00:00Z"), A, "offer", 1, { description: "Butternut, from the north beds" });
    await confirmCharter(at("2027-03-16T11:00:00Z"), A);
    await updatePod(at("2027-03-16T12:00:00Z"), A, { name: "Oak Street Commons" });
    const after = (await listPodPosts(deps, podA.id, all)).posts;
    expect(ids(after)).toEqual(ids(before));
    const byKind = (posts: readonly PodPost[], kind: string, i = 0) => posts.filter((p) => p.kind === kind)[i]!;
    expect(byKind(after, "offer", 1).contentHtml).toContain("Butternut, from the north beds");
    expect(byKind(after, "offer", 1).editedAt?.toISOString()).toBe("2027-03-16T10:00:00.000Z");
    expect(byKind(after, "charter").editedAt?.toISOString()).toBe("2027-03-16T11:00:00.000Z");
    expect(byKind(after, "charter").contentHtml).toContain("Reviewed 2027-03-16");
    expect(byKind(after, "summary").contentHtml).toContain("Oak Street Commons");
    expect(byKind(after, "need").contentHtml).toContain("Oak Street Commons");
    for (const post of after) {
      const note = (await (await fetch(post.uri, { headers: { accept: "application/activity+json" } })).json()) as Record<string, unknown>;
      expect(note.content, post.uri).toBe(post.contentHtml);
    }
  });
});

describe("noteText", () => {
  it("drops tags, decodes entities and collapses spaces", () => {
    expect(noteText('<p>Soup &amp; <strong>bread</strong></p><p>a&lt;b &#39;c&#x27; &quot;d&quot;<br>e</p>')).toBe("Soup & bread a<b 'c' \"d\" e");
  });
});
