/**
 * Paging in the Mastodon client API as Mastodon does it (app/controllers/concerns/api/pagination.rb):
 * a `Link` header with `next` (max_id = the page's last id) and `prev` (min_id = its first),
 * on the node's public origin, keeping the other parameters, only on a non-empty page;
 * max_id, since_id and min_id; limit by default 20, at most 40; the pinned charter.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { A, ALL_POSTS, idsOf, linksOf, OAK_POSTS, startApiNode, type ApiNode } from "./api-fixture.ts";

/** A third pod with more needs than the largest page. */
const ASH = "ash-court";
const ASH_POSTS = 45;

let api: ApiNode;
let origin = "";
let oakAll: string[] = [];
let ash: any;

beforeAll(async () => {
  api = await startApiNode();
  origin = api.node.origin;
  await createPod(api.at("2027-05-01T00:00:00Z"), { slug: ASH, name: "Ash Court" });
  for (let i = 0; i < ASH_POSTS; i++) {
    const minute = String(i).padStart(2, "0");
    await createProposal(api.at(`2027-05-02T10:${minute}:00Z`), ASH, "need", { name: `Candles ${i}`, quantity: "1", unit: "one", category: "household" });
  }
  ash = (await api.get(`/api/v1/accounts/lookup?acct=${ASH}`)).body;
  oakAll = idsOf((await api.get(`/api/v1/accounts/${api.oak.id}/statuses?limit=40`)).body);
}, 180_000);

afterAll(async () => {
  await api?.stop();
});

const byNewest = (ids: readonly string[]) => [...ids].sort((x, y) => (BigInt(x) > BigInt(y) ? -1 : BigInt(x) < BigInt(y) ? 1 : 0));

/** Follows `rel` from `first` until an empty page; the ids of every page. */
async function walk(first: string, rel: "next" | "prev"): Promise<string[][]> {
  const pages: string[][] = [];
  let url: string | null = first;
  while (url) {
    const response: Response = await fetch(url);
    expect(response.status).toBe(200);
    const page = idsOf((await response.json()) as any[]);
    if (page.length === 0) {
      expect(response.headers.get("link")).toBeNull();
      break;
    }
    pages.push(page);
    url = linksOf(response.headers.get("link"))[rel];
    expect(pages.length).toBeLessThan(50);
  }
  return pages;
}

describe("Link header", () => {
  it("is Mastodon's: next with max_id = the last id, prev with min_id = the first, on our origin, other parameters kept", async () => {
    const r = await api.get(`/api/v1/accounts/${api.oak.id}/statuses?limit=2&exclude_replies=true`);
    const ids = idsOf(r.body);
    const base = `${origin}/api/v1/accounts/${api.oak.id}/statuses?limit=2&exclude_replies=true`;
    expect(r.headers.get("link")).toBe(`<${base}&max_id=${ids[1]}>; rel="next", <${base}&min_id=${ids[0]}>; rel="prev"`);
  });

  it("walks a pod's statuses page by page, each once, newest first; ids grow with time", async () => {
    expect(oakAll).toHaveLength(OAK_POSTS);
    expect(oakAll).toEqual(byNewest(oakAll));
    const pages = await walk(`${origin}/api/v1/accounts/${api.oak.id}/statuses?limit=2`, "next");
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 2, 1]);
    expect(pages.flat()).toEqual(oakAll);
  });

  it("walks back to newer statuses through prev", async () => {
    const oldest = oakAll[oakAll.length - 1]!;
    const pages = await walk(`${origin}/api/v1/accounts/${api.oak.id}/statuses?limit=3&min_id=${oldest}`, "prev");
    // min_id pages run from just above the bound upwards; each page is still newest first.
    expect(pages).toEqual([oakAll.slice(5, 8), oakAll.slice(2, 5), oakAll.slice(0, 2)]);
  });

  it("walks the public timeline across pods, and a tag's timeline", async () => {
    const pages = await walk(`${origin}/api/v1/timelines/public?local=true&limit=7`, "next");
    const all = pages.flat();
    expect(all).toHaveLength(ALL_POSTS + ASH_POSTS);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(byNewest(all));
    const first = await api.get("/api/v1/timelines/public?local=true&limit=7");
    expect(linksOf(first.headers.get("link")).next).toBe(`${origin}/api/v1/timelines/public?local=true&limit=7&max_id=${all[6]}`);
    const offers = (await walk(`${origin}/api/v1/timelines/tag/offer?limit=2`, "next")).flat();
    expect(offers).toHaveLength(5);
    const tagged = await api.get("/api/v1/timelines/tag/offer?limit=2");
    expect(linksOf(tagged.headers.get("link")).next).toBe(`${origin}/api/v1/timelines/tag/offer?limit=2&max_id=${offers[1]}`);
  });

  it("is left out on an empty page, for the pinned charter, and for the lists that are not browsable", async () => {
    const empty = await api.get(`/api/v1/accounts/${api.oak.id}/statuses?max_id=${oakAll[oakAll.length - 1]}`);
    expect({ body: empty.body, link: empty.headers.get("link") }).toEqual({ body: [], link: null });
    const newest = await api.get(`/api/v1/timelines/public?min_id=${"9".repeat(19)}`);
    expect({ body: newest.body, link: newest.headers.get("link") }).toEqual({ body: [], link: null });
    const pinned = await api.get(`/api/v1/accounts/${api.oak.id}/statuses?pinned=true`);
    expect(pinned.headers.get("link")).toBeNull();
    for (const list of ["followers", "following"]) expect((await api.get(`/api/v1/accounts/${api.oak.id}/${list}`)).headers.get("link")).toBeNull();
  });
});

describe("max_id, since_id, min_id", () => {
  const base = () => `/api/v1/accounts/${api.oak.id}/statuses`;
  const ids = async (query: string) => idsOf((await api.get(`${base()}?${query}`)).body);

  it("max_id: older than the bound; since_id: the newest above it; min_id: the oldest above it", async () => {
    const all = oakAll;
    expect(await ids(`max_id=${all[2]}&limit=2`)).toEqual([all[3], all[4]]);
    expect(await ids(`since_id=${all[5]}&limit=2`)).toEqual([all[0], all[1]]);
    expect(await ids(`min_id=${all[5]}&limit=2`)).toEqual([all[3], all[4]]);
    expect(await ids(`since_id=${all[5]}&max_id=${all[1]}`)).toEqual([all[2], all[3], all[4]]);
    expect(await ids(`min_id=${all[5]}&max_id=${all[1]}&limit=1`)).toEqual([all[4]]);
    // Bounds need not be ids of statuses that exist.
    expect(await ids(`max_id=${BigInt(all[0]!) + 1n}&limit=1`)).toEqual([all[0]]);
    expect(await ids(`since_id=1`)).toEqual(all);
  });

  it("the public timeline reads them the same way", async () => {
    const all = idsOf((await api.get("/api/v1/timelines/public?limit=40")).body);
    const ids = async (query: string) => idsOf((await api.get(`/api/v1/timelines/public?${query}`)).body);
    expect(await ids(`max_id=${all[9]}&limit=3`)).toEqual(all.slice(10, 13));
    expect(await ids(`min_id=${all[9]}&limit=3`)).toEqual(all.slice(6, 9));
    expect(await ids(`since_id=${all[9]}&limit=3`)).toEqual(all.slice(0, 3));
  });
});

describe("limit", () => {
  it("is 20 by default and at most 40, however large the number asked", async () => {
    const ashStatuses = `/api/v1/accounts/${ash.id}/statuses`;
    expect((await api.get(ashStatuses)).body).toHaveLength(20);
    for (const limit of ["40", "41", "1000", "99999999999999999999"]) {
      const r = await api.get(`${ashStatuses}?limit=${limit}`);
      expect({ limit, status: r.status, length: r.body.length }).toEqual({ limit, status: 200, length: 40 });
    }
    expect((await api.get("/api/v1/timelines/public")).body).toHaveLength(20);
    expect((await api.get("/api/v1/timelines/public?limit=500")).body).toHaveLength(40);
    expect((await api.get("/api/v1/timelines/tag/need?limit=500")).body).toHaveLength(40);
    expect((await api.get(`${ashStatuses}?limit=7`)).body).toHaveLength(7);
  });

  it("below 1 gives one", async () => {
    expect((await api.get(`/api/v1/accounts/${api.oak.id}/statuses?limit=0`)).body).toHaveLength(1);
    expect((await api.get("/api/v1/timelines/public?limit=-3")).body).toHaveLength(1);
  });

  it("the directory: 40 by default, at most 80, from an offset", async () => {
    const all = (await api.get("/api/v1/directory")).body.map((a: any) => a.acct);
    expect(all).toEqual([A, "elm-row", ASH]);
    expect((await api.get("/api/v1/directory?limit=2")).body.map((a: any) => a.acct)).toEqual([A, "elm-row"]);
    expect((await api.get("/api/v1/directory?limit=2&offset=2")).body.map((a: any) => a.acct)).toEqual([ASH]);
    expect((await api.get("/api/v1/directory?offset=3")).body).toEqual([]);
  });
});

describe("pinned and filters", () => {
  it("pinned=true gives the charter alone; pinned=false every status", async () => {
    const pinned = await api.get(`/api/v1/accounts/${api.oak.id}/statuses?pinned=true`);
    expect(pinned.body.map((s: any) => s.uri)).toEqual([`${origin}/pods/${A}/charter`]);
    expect(pinned.body[0].id).toBe(oakAll[oakAll.length - 1]);
    expect(idsOf((await api.get(`/api/v1/accounts/${api.oak.id}/statuses?pinned=false&limit=40`)).body)).toEqual(oakAll);
    // A pod without a charter has nothing pinned.
    expect((await api.get(`/api/v1/accounts/${ash.id}/statuses?pinned=true`)).body).toEqual([]);
  });

  it("only_media gives nothing; exclude_replies and exclude_reblogs change nothing; tagged keeps a hashtag's", async () => {
    const url = `/api/v1/accounts/${api.oak.id}/statuses`;
    expect((await api.get(`${url}?only_media=true`)).body).toEqual([]);
    expect(idsOf((await api.get(`${url}?exclude_replies=true&exclude_reblogs=1&limit=40`)).body)).toEqual(oakAll);
    const needs = (await api.get(`${url}?tagged=need&limit=40`)).body;
    expect(needs.map((s: any) => new URL(s.uri).pathname)).toEqual([6, 4, 2].map((n) => `/pods/${A}/needs/${n}`));
    expect((await api.get(`${url}?tagged=NEED&limit=40`)).body).toEqual(needs);
    expect((await api.get("/api/v1/timelines/public?only_media=true")).body).toEqual([]);
    expect((await api.get("/api/v1/timelines/public?remote=true")).body).toEqual([]);
    expect((await api.get("/api/v1/timelines/public?local=false&limit=40")).body).toHaveLength(40);
  });
});
