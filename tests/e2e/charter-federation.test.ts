/**
 * The People's Service Charter over real federation on loopback.
 *
 * Node A hosts the pod "oak-street" (and "birch-lane"); node B hosts "elm-row", which follows
 * oak-street; alice on a Mastodon-shaped server follows oak-street too. oak-street publishes
 * a charter, revises it twice and re-confirms it:
 *   - B's structured copy follows each revision in order, and replayed older Updates (the
 *     same activity again, or the old Note in a fresh activity) change nothing;
 *   - alice's server receives Create, then Updates of the same Note id with increasing
 *     `updated`, HTML limited to what Mastodon keeps, hashtags, Public + followers addressing,
 *     draft-cavage signatures by the pod's key;
 *   - `featured` pins the charter, `history` lists every activity newest first, every revision
 *     dereferences, and the JSON-LD carries our context inline;
 *   - charter posts from actors B does not follow, or Notes attributed to someone other than
 *     the sender, are ignored and logged.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { Update } from "@fedify/vocab";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CHARTER_CONTEXT, charterEventToActivity } from "../../src/federation/charter.ts";
import { createPod } from "../../src/services/pods.ts";
import { getRemoteCharter, publishCharterRevision, receiveRemoteCharter } from "../../src/services/charters.ts";
import {
  AS_CONTEXT,
  postSigned,
  recordedJson,
  startFakeMastodon,
  verifyCavage,
  type FakeMastodon,
  type FakeUser,
  type RecordedRequest,
} from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";
const A = "oak-street";
const B = "elm-row";
const C = "birch-lane";
const PUBLIC_FORMS = ["https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"];
/** Tags Mastodon's sanitizer keeps that a charter may use. */
const MASTODON_TAGS = new Set(["p", "br", "strong", "em", "ul", "ol", "li", "a", "span"]);
/** ActivityStreams 2.0 terms (properties and the types a Note document uses). */
const AS_TERMS = new Set(
  (
    "@context id type actor attachment attributedTo audience bcc bto cc context current first generator icon image inReplyTo " +
    "instrument last location next object oneOf anyOf closed origin prev preview result replies tag target to url accuracy " +
    "altitude content contentMap name nameMap duration height href hreflang partOf latitude longitude mediaType endTime " +
    "published startTime radius rel startIndex summary summaryMap totalItems units updated width subject relationship " +
    "describes formerType deleted likes shares sensitive source"
  ).split(" "),
);

const nextYear = new Date().getUTCFullYear() + 1;
/** Federation round trips over loopback: generous, since queues poll and deliveries retry. */
const TEST_TIMEOUT = 120_000;
const WAIT = 60_000;

let a: TestNode;
let b: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
let pod: string;
let charterId: string;
let podKeyPem: string;
let logSpies: Array<{ mockRestore(): void }> = [];

/** Every call to the service loggers (A and B share LogTape's "hyphae" logger), in order. */
const logged: Array<{ level: string; at: number; text: string }> = [];

beforeAll(async () => {
  [a, b, masto] = await Promise.all([startTestNode({ podSlug: A, podName: "Oak Street" }), startTestNode({ podSlug: B, podName: "Elm Row" }), startFakeMastodon()]);
  await createPod(a.deps, { slug: C, name: "Birch Lane" });
  alice = masto.user("alice");
  pod = a.actorUrl();
  charterId = `${pod}/charter`;
  const actor = (await (await fetch(pod, { headers: { accept: AP } })).json()) as any;
  podKeyPem = actor.publicKey.publicKeyPem;
  // LogTape hands both nodes the same logger object: spy on each object once.
  for (const log of new Set([a.deps.log, b.deps.log])) {
    for (const level of ["debug", "info", "warn", "error"] as const) {
      const original = log[level].bind(log);
      logSpies.push(
        vi.spyOn(log, level).mockImplementation((message: string, properties?: Record<string, unknown>) => {
          logged.push({ level, at: Date.now(), text: `${message} ${JSON.stringify(properties ?? {})}` });
          original(message, properties);
        }),
      );
    }
  }
});

afterAll(async () => {
  for (const spy of logSpies) spy.mockRestore();
  logSpies = [];
  await Promise.all([a?.stop(), b?.stop(), masto?.close()]);
});

async function api(node: TestNode, method: string, path: string, body?: unknown, slug?: string) {
  const response = await fetch(`${node.origin}/api/hyphae/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await node.token(slug ?? node.config.podSlug)}`,
      ...(body !== undefined && { "content-type": "application/json" }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as any) : null };
}

async function getAp(url: string): Promise<{ status: number; contentType: string; body: any }> {
  const response = await fetch(url, { headers: { accept: AP } });
  const contentType = response.headers.get("content-type") ?? "";
  const text = await response.text();
  // Error pages (404) may be HTML; documents must be JSON.
  const json = /json/.test(contentType) || response.ok;
  return { status: response.status, contentType, body: json && text ? JSON.parse(text) : null };
}

const asArray = (v: unknown): any[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const idOf = (v: any): string | undefined => (typeof v === "string" ? v : v?.id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// The charter, as oak-street's stewards write it over three revisions
// ---------------------------------------------------------------------------------------

const HOSTILE = `<script>alert("x")</script> <img src=x onerror=alert(1)> [click me](javascript:alert(1)) <a href="javascript:alert(2)" onclick="alert(3)">here</a>`;

const revisions = [
  {
    title: "Oak Street People's Service Charter",
    preamble: "We feed, fix and look after each other.\n\nSee https://oak.example/assembly for minutes.",
    services: [
      { name: "Community kitchen", description: "Hot meals from the church hall.", category: "food", since: "2024-03-01", figure: "120 meals a week" },
      { name: "Repair café", description: "Bikes, toasters, trousers.", category: "repair", since: "2024-06-15" },
    ],
    nextServices: [{ name: "Warm room", why: "Energy bills doubled.", targetDate: `${nextYear}-01-15` }],
    assemblyRhythm: "Thursdays 19:00",
    meetingPlace: "Oak Street, Northfield",
    changeNote: "Our first charter",
  },
  {
    title: "Oak Street People's Service Charter",
    preamble: `**Solidarity**, not charity.\n\n${HOSTILE}\n\n- food for all\n- repairs for all`,
    services: [
      { name: "Community kitchen", description: "Hot meals from the church hall.", category: "food", since: "2024-03-01", figure: "150 meals a week" },
      { name: "Repair café", description: "Bikes, toasters, trousers.", category: "repair", since: "2024-06-15" },
      { name: "Tool library", description: `Drills and ladders ${HOSTILE}`, category: "repair", since: "2025-02-01" },
    ],
    nextServices: [
      { name: "Warm room", why: "Energy bills doubled.", targetDate: `${nextYear}-01-15` },
      { name: "Childcare circle", why: `Parents asked <script>x</script>`, targetDate: `${nextYear}-05-01` },
    ],
    assemblyRhythm: "Thursdays 19:00",
    meetingPlace: "Oak Street, Northfield",
    licence: { name: "CC BY 4.0", url: "https://creativecommons.org/licenses/by/4.0/" },
    changeNote: "Tool library opened <script>alert(1)</script>",
  },
  {
    title: "Oak Street Charter (winter)",
    preamble: "We feed, fix and warm each other.",
    services: [
      { name: "Community kitchen", description: "Hot meals from the church hall.", category: "food", since: "2024-03-01", figure: "150 meals a week" },
      { name: "Tool library", description: "Drills and ladders.", category: "repair", since: "2025-02-01" },
      { name: "Warm room", description: "Open 10:00–18:00 on weekdays.", category: "energy", since: "2025-11-01" },
    ],
    nextServices: [{ name: "Childcare circle", why: "Parents asked.", targetDate: `${nextYear}-05-01` }],
    assemblyRhythm: "Thursdays 19:30",
    meetingPlace: "Northfield",
    licence: { name: "CC0 1.0", url: "https://creativecommons.org/publicdomain/zero/1.0/" },
    changeNote: "Warm room open; repair café merged into the tool library",
  },
];

/** What each step published (the API's answer), by revision number. */
const published = new Map<number, any>();
/** Revisions of B's copy, in the order B's API showed them. */
const observedAtB: number[] = [];

async function copyAtB(): Promise<any | null> {
  const r = await api(b, "GET", `/pods/${B}/following/charters`);
  if (r.status !== 200) throw new Error(`GET following/charters → ${r.status} ${JSON.stringify(r.body)}`);
  const item = (r.body.items as any[]).find((i) => i.actor === pod) ?? null;
  if (item && observedAtB[observedAtB.length - 1] !== item.revision) observedAtB.push(item.revision);
  return item;
}

async function waitForCopyAtB(check: (copy: any) => boolean, what: string): Promise<any> {
  return waitFor(async () => {
    const copy = await copyAtB();
    return copy && check(copy) ? copy : null;
  }, WAIT, what);
}

/** Accepted (202) deliveries at the fake Mastodon of a Create/Update of the charter Note. */
function charterDeliveries(): Array<{ request: RecordedRequest; activity: any }> {
  return masto.inbox
    .filter((r) => r.status === 202)
    .map((request) => ({ request, activity: recordedJson(request) }))
    .filter(({ activity }) => (activity?.type === "Create" || activity?.type === "Update") && idOf(activity.object) === charterId);
}

async function waitForDeliveries(n: number) {
  return waitFor(() => (charterDeliveries().length >= n ? charterDeliveries() : null), WAIT, `${n} charter deliveries at the fake Mastodon`);
}

/**
 * After an Update that B must ignore: waits until B has dealt with it (a line at `level`
 * mentioning `needle`, an error, or — the failure this guards against — `stored()` turning
 * true), then checks that nothing was stored, nothing failed, and the refusal was logged.
 * A post from an actor none of B's pods follows is not acted on (debug); a forged one is
 * refused (warn).
 */
async function expectIgnored(since: number, needle: string, stored: () => Promise<boolean>, what: string, level: "warn" | "debug" = "warn") {
  const warned = () => logged.some((l) => l.at >= since && l.level === level && l.text.includes(needle));
  const errors = () => logged.filter((l) => l.at >= since && l.level === "error").map((l) => l.text);
  await waitFor(async () => warned() || errors().length > 0 || (await stored()), WAIT, what);
  await sleep(1_000);
  expect(await stored()).toBe(false);
  expect(errors()).toEqual([]);
  expect(warned()).toBe(true);
}

/** Waits until a service log line written after `since` mentions `needle`. */
async function waitForLog(since: number, needle: string, what: string) {
  return waitFor(() => logged.find((l) => l.at >= since && l.text.includes(needle)), WAIT, what);
}

async function charterEvent(slug: string, revision: number, kind: string) {
  const podRow = await a.deps.db.selectFrom("pods").select("id").where("slug", "=", slug).executeTakeFirstOrThrow();
  const event = await a.deps.db
    .selectFrom("charter_events")
    .select("id")
    .where("pod_id", "=", podRow.id)
    .where("revision", "=", revision)
    .where("kind", "=", kind as any)
    .executeTakeFirstOrThrow();
  return { podId: podRow.id, eventId: String(event.id) };
}

function aContext() {
  return a.node.ctx.federation.createContext(new URL(a.origin), a.deps);
}

const revisionId = (n: number) => a.deps.uris.charterRevisionObject(A, n).href;
const revisionPage = (n: number) => a.deps.uris.charterRevision(A, n).href;

const bInbox = () => ({ id: new URL(b.actorUrl()), inboxId: new URL(`${b.actorUrl()}/inbox`) });

/** Every tag in `html` is one Mastodon keeps, with no event handlers and only http(s) links. */
function expectMastodonSafeHtml(html: string) {
  const tagPattern = /<\/?([A-Za-z][A-Za-z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
  const names: string[] = [];
  const attributes: string[] = [];
  for (const match of html.matchAll(tagPattern)) {
    names.push(match[1]!.toLowerCase());
    attributes.push(match[2]!);
  }
  expect(names.length).toBeGreaterThan(0);
  expect(names.filter((n) => !MASTODON_TAGS.has(n))).toEqual([]);
  // No markup outside those tags: any other "<" or ">" would be an unparsed tag.
  expect(html.replace(tagPattern, "")).not.toMatch(/[<>]/);
  expect(html).not.toMatch(/<\s*script/i);
  for (const attrs of attributes) {
    expect(attrs).not.toMatch(/(^|\s)on[a-z]+\s*=/i);
    expect(attrs).not.toMatch(/javascript:/i);
    for (const href of attrs.matchAll(/\bhref\s*=\s*"([^"]*)"/gi)) expect(href[1]).toMatch(/^https?:\/\//);
  }
}

describe("a charter federated between two Hyphae nodes and a Mastodon-shaped server", () => {
  it("B and alice follow oak-street", async () => {
    const followed = await api(b, "POST", `/pods/${B}/following`, { target: a.handle() });
    expect(followed.status).toBe(202);
    await waitFor(async () => {
      const r = await api(b, "GET", `/pods/${B}/following`);
      return r.body.items.some((i: any) => i.actor === pod && i.status === "accepted");
    }, WAIT, "B's follow of oak-street to be accepted");

    const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: pod };
    expect((await postSigned(`${pod}/inbox`, follow, { signer: alice })).status).toBe(202);
    await waitFor(
      () => masto.inbox.some((r) => r.status === 202 && recordedJson(r)?.type === "Accept" && idOf(recordedJson(r).object) === follow.id),
      WAIT,
      "the Accept of alice's Follow",
    );
    const followers = await a.deps.db.selectFrom("followers").select(["actor_iri", "status"]).orderBy("actor_iri").execute();
    expect(followers).toEqual(
      [
        { actor_iri: alice.actorUrl, status: "accepted" },
        { actor_iri: b.actorUrl(), status: "accepted" },
      ].sort((x, y) => x.actor_iri.localeCompare(y.actor_iri)),
    );
    expect(await getRemoteCharter(b.deps, pod)).toBeNull();
  }, TEST_TIMEOUT);

  it("revision 1: B stores the structured charter; alice gets a Create", async () => {
    const r = await api(a, "POST", `/pods/${A}/charter`, revisions[0]);
    expect(r.status).toBe(201);
    expect(r.body.revision).toBe(1);
    published.set(1, r.body);

    const [first] = await waitForDeliveries(1);
    expect(first!.activity.type).toBe("Create");

    const copy = await waitForCopyAtB((c) => c.revision === 1, "B's copy of revision 1");
    expect(copy.content).toEqual(r.body.content);
    expect(copy.content.services.map((s: any) => [s.name, s.category, s.since, s.figure])).toEqual([
      ["Community kitchen", "food", "2024-03-01", "120 meals a week"],
      ["Repair café", "repair", "2024-06-15", null],
    ]);
    expect(copy.content.nextServices).toEqual([{ name: "Warm room", why: "Energy bills doubled.", targetDate: `${nextYear}-01-15` }]);
    expect(copy.content.licence).toEqual({ name: "CC BY-SA 4.0", url: "https://creativecommons.org/licenses/by-sa/4.0/" });
    expect(copy.handle).toBe(a.handle());
    expect(copy.reviewedOn).toBe(r.body.review.lastReviewedAt.slice(0, 10));
  }, TEST_TIMEOUT);

  it("revision 2 (with hostile markup in the text): B's copy moves to it; alice gets an Update", async () => {
    const r = await api(a, "POST", `/pods/${A}/charter`, revisions[1]);
    expect(r.status).toBe(201);
    expect(r.body.revision).toBe(2);
    published.set(2, r.body);

    const deliveries = await waitForDeliveries(2);
    expect(deliveries.map((d) => d.activity.type)).toEqual(["Create", "Update"]);

    const copy = await waitForCopyAtB((c) => c.revision === 2, "B's copy of revision 2");
    expect(copy.content).toEqual(r.body.content);
    expect(copy.content.services.map((s: any) => s.name)).toEqual(["Community kitchen", "Repair café", "Tool library"]);
    expect(copy.content.services[0].figure).toBe("150 meals a week");
    expect(copy.content.nextServices.map((s: any) => [s.name, s.targetDate])).toEqual([
      ["Warm room", `${nextYear}-01-15`],
      ["Childcare circle", `${nextYear}-05-01`],
    ]);
    expect(copy.content.licence).toEqual({ name: "CC BY 4.0", url: "https://creativecommons.org/licenses/by/4.0/" });
  }, TEST_TIMEOUT);

  it("revision 3: B's copy moves to it; alice gets another Update", async () => {
    const r = await api(a, "POST", `/pods/${A}/charter`, revisions[2]);
    expect(r.status).toBe(201);
    expect(r.body.revision).toBe(3);
    published.set(3, r.body);

    expect((await waitForDeliveries(3)).map((d) => d.activity.type)).toEqual(["Create", "Update", "Update"]);

    const copy = await waitForCopyAtB((c) => c.revision === 3, "B's copy of revision 3");
    expect(copy.content).toEqual(r.body.content);
    expect(copy.content.title).toBe("Oak Street Charter (winter)");
    expect(copy.content.services.map((s: any) => [s.name, s.category])).toEqual([
      ["Community kitchen", "food"],
      ["Tool library", "repair"],
      ["Warm room", "energy"],
    ]);
    expect(copy.content.nextServices.map((s: any) => s.name)).toEqual(["Childcare circle"]);
    expect(copy.content.licence).toEqual({ name: "CC0 1.0", url: "https://creativecommons.org/publicdomain/zero/1.0/" });
    expect(copy.content.assemblyRhythm).toBe("Thursdays 19:30");
    expect(copy.content.meetingPlace).toBe("Northfield");
    // B's API showed the revisions strictly in order.
    expect(observedAtB).toEqual([1, 2, 3]);
  }, TEST_TIMEOUT);

  it("a re-confirmation is an Update too: B's copy keeps revision 3 with a newer date", async () => {
    const before = await getRemoteCharter(b.deps, pod);
    await sleep(20); // a distinct `updated`, even on a coarse clock
    const r = await api(a, "POST", `/pods/${A}/charter/confirm`);
    expect(r.status).toBe(200);
    expect(r.body.revision).toBe(3);
    published.set(4, r.body);
    expect((await waitForDeliveries(4)).map((d) => d.activity.type)).toEqual(["Create", "Update", "Update", "Update"]);

    expect(before?.revision).toBe(3);

    const copy = await waitFor(async () => {
      const held = await getRemoteCharter(b.deps, pod);
      return held && held.objectUpdatedAt.getTime() > before!.objectUpdatedAt.getTime() ? held : null;
    }, WAIT, "B's copy to take the re-confirmation");
    expect(copy.revision).toBe(3);
    expect(copy.objectIri).toBe(charterId);
    expect(copy.content).toEqual(published.get(3).content);
    expect(copy.reviewedOn).toBe(r.body.review.lastReviewedAt.slice(0, 10));
  }, TEST_TIMEOUT);

  it("a replayed older Update (the same activity, or the old Note in a new activity) leaves B's copy at revision 3", async () => {
    const held = (await getRemoteCharter(b.deps, pod))!;
    expect(held.revision).toBe(3);
    const ctx = aContext();
    const { podId, eventId } = await charterEvent(A, 2, "update");
    const built = await charterEventToActivity(ctx, podId, eventId);
    expect(built).not.toBeNull();
    expect(built!.activity).toBeInstanceOf(Update);
    const replayedNote = await built!.activity.getObject();
    expect(replayedNote?.id?.href).toBe(charterId);

    // 1. The very same Update again (B's inbox may drop it as a duplicate id).
    await ctx.sendActivity({ identifier: A }, bInbox(), built!.activity, { immediate: true });
    // 2. The revision-2 Note wrapped in an activity B has never seen.
    const since = Date.now();
    const fresh = built!.activity.clone({ id: new URL(`${pod}#replay/${randomUUID()}`) });
    await ctx.sendActivity({ identifier: A }, bInbox(), fresh, { immediate: true });
    await waitForLog(since, pod, "B to log what it did with the replayed Update");
    await sleep(3_000);

    const after = await getRemoteCharter(b.deps, pod);
    expect(after).toMatchObject({ revision: 3, objectIri: charterId, content: held.content });
    expect(after!.objectUpdatedAt.toISOString()).toBe(held.objectUpdatedAt.toISOString());
    expect(after!.reviewedOn).toBe(held.reviewedOn);
    const listed = await copyAtB();
    expect(listed.revision).toBe(3);
    expect(listed.content.title).toBe("Oak Street Charter (winter)");
  }, TEST_TIMEOUT);

  it("the service refuses an older copy even when offered directly", async () => {
    const held = (await getRemoteCharter(b.deps, pod))!;
    const outcome = await receiveRemoteCharter(b.deps, {
      actorIri: pod,
      objectIri: charterId,
      revision: 2,
      updatedAt: new Date(held.objectUpdatedAt.getTime() + 60_000),
      reviewedOn: null,
      content: published.get(2).content,
    });
    expect(outcome).toBe("stale");
    const same = await receiveRemoteCharter(b.deps, {
      actorIri: pod,
      objectIri: charterId,
      revision: 3,
      updatedAt: held.objectUpdatedAt,
      reviewedOn: null,
      content: published.get(1).content,
    });
    expect(same).toBe("stale");
    expect(await getRemoteCharter(b.deps, pod)).toMatchObject({ revision: 3, content: held.content, reviewedOn: held.reviewedOn });
  }, TEST_TIMEOUT);
});

describe("what the Mastodon-shaped server received", () => {
  it("Create, then Updates of the same Note id with strictly increasing `updated`", async () => {
    const deliveries = await waitForDeliveries(4);
    expect(deliveries).toHaveLength(4);
    const activities = deliveries.map((d) => d.activity);
    expect(activities.map((x) => x.type)).toEqual(["Create", "Update", "Update", "Update"]);
    expect(new Set(activities.map((x) => x.id)).size).toBe(4);
    const notes = activities.map((x) => x.object);
    for (const [i, x] of activities.entries()) {
      expect(x.actor).toBe(pod);
      expect(typeof x.object).toBe("object");
      expect(notes[i].type).toBe("Note");
      expect(notes[i].id).toBe(charterId);
      expect(notes[i].attributedTo).toBe(pod);
    }
    // One post: the same `published` throughout; edits move `updated` forward.
    expect(new Set(notes.map((n) => n.published)).size).toBe(1);
    expect(Number.isNaN(Date.parse(notes[0].published))).toBe(false);
    if (notes[0].updated !== undefined) expect(Date.parse(notes[0].updated)).toBeGreaterThanOrEqual(Date.parse(notes[0].published));
    const updated = notes.slice(1).map((n) => Date.parse(n.updated));
    expect(updated.every((t) => !Number.isNaN(t))).toBe(true);
    expect(updated[0]).toBeGreaterThan(Date.parse(notes[0].updated ?? notes[0].published));
    for (let i = 1; i < updated.length; i++) expect(updated[i]).toBeGreaterThan(updated[i - 1]!);
  }, TEST_TIMEOUT);

  it("each post is Public with the followers in cc, tagged #PeoplesCharter and #MutualAid, linking the page", async () => {
    const followersUri = `${pod}/followers`;
    for (const { activity } of charterDeliveries()) {
      for (const doc of [activity, activity.object]) {
        expect(asArray(doc.to).some((t) => PUBLIC_FORMS.includes(t))).toBe(true);
        expect(asArray(doc.cc)).toContain(followersUri);
      }
      const hashtags = asArray(activity.object.tag).filter((t) => t.type === "Hashtag");
      expect(hashtags.map((t) => String(t.name).toLowerCase()).sort()).toEqual(expect.arrayContaining(["#mutualaid", "#peoplescharter"]));
      for (const tag of hashtags) expect(tag.href).toMatch(/^https?:\/\//);
      const urls = asArray(activity.object.url).map((u) => (typeof u === "string" ? u : u.href));
      expect(urls).toContain(charterId);
    }
  }, TEST_TIMEOUT);

  it("content uses only tags Mastodon keeps, even when the charter text holds scripts, handlers and javascript: links", async () => {
    const deliveries = charterDeliveries();
    expect(deliveries).toHaveLength(4);
    const [create, second, third] = deliveries.map((d) => d.activity.object.content as string);
    for (const html of deliveries.map((d) => d.activity.object.content as string)) {
      expect(typeof html).toBe("string");
      expectMastodonSafeHtml(html);
    }
    expect(create).toContain("Community kitchen");
    expect(create).toContain("120 meals a week");
    expect(create).toContain("Warm room");
    // Revision 2 carried the hostile text in the preamble, a description, a "why" and the change note.
    expect(second).toContain("Tool library");
    expect(second).toContain("Childcare circle");
    expect(second).toMatch(/<strong>Solidarity<\/strong>/);
    expect(third).toContain("Oak Street Charter (winter)");
  }, TEST_TIMEOUT);

  it("every delivery is draft-cavage signed by oak-street's key, to the shared inbox or alice's inbox", async () => {
    for (const { request } of charterDeliveries()) {
      expect(["/inbox", "/users/alice/inbox"]).toContain(request.path);
      expect(verifyCavage(request, podKeyPem)).toMatchObject({ ok: true, keyId: `${pod}#main-key` });
    }
  }, TEST_TIMEOUT);
});

describe("featured, history and revisions", () => {
  it("featured pins the charter Note", async () => {
    const actor = (await getAp(pod)).body;
    expect(typeof actor.featured).toBe("string");
    const featured = await getAp(actor.featured);
    expect(featured.status).toBe(200);
    let items = asArray(featured.body.orderedItems ?? featured.body.items);
    if (items.length === 0 && featured.body.first) {
      const first = typeof featured.body.first === "string" ? (await getAp(featured.body.first)).body : featured.body.first;
      items = asArray(first.orderedItems ?? first.items);
    }
    expect(items.map(idOf)).toEqual([charterId]);
    if (typeof items[0] === "object") expect(items[0]).toMatchObject({ type: "Note", attributedTo: pod });
  }, TEST_TIMEOUT);

  it("history lists every Create/Update, newest first", async () => {
    const history = await getAp(`${charterId}/history`);
    expect(history.status).toBe(200);
    expect(history.body.type).toBe("OrderedCollection");
    expect(history.body.totalItems).toBe(4);
    let items = asArray(history.body.orderedItems);
    if (items.length === 0 && history.body.first) {
      const first = typeof history.body.first === "string" ? (await getAp(history.body.first)).body : history.body.first;
      items = asArray(first.orderedItems);
    }
    expect(items).toHaveLength(4);
    expect(items.map((x) => x.type)).toEqual(["Update", "Update", "Update", "Create"]);
    // Each activity's object is the snapshot of the revision it published (a confirm re-publishes 3).
    expect(items.map((x) => idOf(x.object))).toEqual([3, 3, 2, 1].map(revisionId));
    const times = items.map((x) => Date.parse(x.published));
    for (let i = 1; i < times.length; i++) expect(times[i - 1]).toBeGreaterThan(times[i]!);
    for (const x of items) expect(x.actor).toBe(pod);
    // The ids are the ones the activities went out with.
    expect([...items.map((x) => x.id)].reverse()).toEqual(charterDeliveries().map((d) => d.activity.id));
  }, TEST_TIMEOUT);

  it("each revision dereferences to a Note with that revision's content; its page links the Note", async () => {
    for (const n of [1, 2, 3]) {
      const { status, body } = await getAp(revisionId(n));
      expect(status).toBe(200);
      const content = published.get(n).content;
      expect(body).toMatchObject({ id: revisionId(n), type: "Note", attributedTo: pod, charterRevision: n, name: content.title });
      expect(body.revisionOf).toBe(charterId);
      expect(asArray(body.url).map((u) => (typeof u === "string" ? u : u.href))).toContain(revisionPage(n));
      expect(asArray(body.servicesNow).map((s) => s.name)).toEqual(content.services.map((s: any) => s.name));
      expect(asArray(body.servicesNext).map((s) => [s.name, s.targetDate])).toEqual(content.nextServices.map((s: any) => [s.name, s.targetDate]));
      expect(body.licence).toMatchObject({ name: content.licence.name });
      expect(body.changeNote).toBe(published.get(n).changeNote);
      expectMastodonSafeHtml(body.content);
      for (const s of content.services) expect(body.content).toContain(s.name);

      // The revision's page (`/pods/<slug>/charter/revisions/<n>`): asked for ActivityPub, it is
      // either the Note itself or HTML whose alternate link names the Note.
      const page = await fetch(revisionPage(n), { headers: { accept: AP } });
      expect(page.status).toBe(200);
      const text = await page.text();
      if (/json/.test(page.headers.get("content-type") ?? "")) {
        expect(JSON.parse(text)).toMatchObject({ type: "Note", charterRevision: n });
      } else {
        const alternate = /<link rel="alternate" type="application\/activity\+json" href="([^"]+)">/.exec(text);
        expect(alternate?.[1]?.replace(/&amp;/g, "&")).toBe(revisionId(n));
      }
    }
    expect((await getAp(revisionId(4))).status).toBe(404);
    expect((await getAp(`${charterId}?revision=0`)).status).toBe(404);
    expect((await getAp(`${charterId}?revision=x`)).status).toBe(404);
  }, TEST_TIMEOUT);

  it("the current charter is JSON-LD with our context inline, every term defined and documented", async () => {
    for (const accept of [AP, 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"']) {
      const response = await fetch(charterId, { headers: { accept } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/(activity\+json|ld\+json)/);
      const doc = (await response.json()) as any;
      expect(doc).toMatchObject({ id: charterId, type: "Note", attributedTo: pod, charterRevision: 3, name: "Oak Street Charter (winter)" });

      const contexts = asArray(doc["@context"]);
      expect(contexts.filter((c) => typeof c === "string")).toEqual([AS_CONTEXT]);
      const inline = Object.assign({}, ...contexts.filter((c) => c && typeof c === "object"));
      expect(inline.hyphae).toBe("https://hyphae-pods.github.io/ns#");
      for (const term of ["charterRevision", "servicesNow", "servicesNext", "reviewedOn", "reviewDue", "licence", "changeNote", "preamble", "category", "since", "targetDate", "why", "description", "figure"]) {
        expect(inline, `term ${term}`).toHaveProperty(term);
      }
      // Every key of the document and of its structured parts is ActivityStreams or ours.
      const keys = new Set<string>([
        ...Object.keys(doc),
        ...asArray(doc.servicesNow).flatMap((s) => Object.keys(s)),
        ...asArray(doc.servicesNext).flatMap((s) => Object.keys(s)),
        ...Object.keys(doc.licence ?? {}),
      ]);
      expect([...keys].filter((k) => !AS_TERMS.has(k) && !(k in inline))).toEqual([]);
      for (const type of [...asArray(doc.servicesNow), ...asArray(doc.servicesNext), doc.licence].map((x) => x.type)) {
        expect(type in inline, `type ${type}`).toBe(true);
      }

      expect(asArray(doc.servicesNow).map((s) => s.name)).toEqual(["Community kitchen", "Tool library", "Warm room"]);
      expect(doc.licence).toMatchObject({ name: "CC0 1.0", url: "https://creativecommons.org/publicdomain/zero/1.0/" });
      expect(doc.reviewedOn).toBe(published.get(4).review.lastReviewedAt.slice(0, 10));
    }

    const docs = fs.readFileSync(new URL("../../docs/federation.md", import.meta.url), "utf8");
    const undocumented = Object.keys(CHARTER_CONTEXT).filter((term) => !["hyphae", "xsd", "Hashtag"].includes(term) && !docs.includes(`\`${term}\``));
    expect(undocumented).toEqual([]);
  }, TEST_TIMEOUT);
});

describe("charter posts B must ignore", () => {
  it("a correctly signed charter Update from a pod B does not follow (but knows) stores nothing", async () => {
    // birch-lane follows elm-row, so B knows its actor; elm-row does not follow birch-lane.
    const followed = await api(a, "POST", `/pods/${C}/following`, { target: b.handle() }, C);
    expect(followed.status).toBe(202);
    await waitFor(async () => {
      const r = await api(a, "GET", `/pods/${C}/following`, undefined, C);
      return r.body.items.some((i: any) => i.actor === b.actorUrl() && i.status === "accepted");
    }, WAIT, "birch-lane's follow of elm-row to be accepted");

    // birch-lane's charter is ahead of oak-street's: revision 4.
    for (let n = 1; n <= 4; n++) {
      await publishCharterRevision(a.deps, C, { ...revisions[0], title: `Birch Lane Charter v${n}`, changeNote: `v${n}` });
    }
    const birch = a.actorUrl(C);
    expect((await getAp(`${birch}/charter`)).body).toMatchObject({ charterRevision: 4, attributedTo: birch });

    const ctx = aContext();
    const { podId, eventId } = await charterEvent(C, 4, "update");
    const built = (await charterEventToActivity(ctx, podId, eventId))!;
    const since = Date.now();
    await ctx.sendActivity({ identifier: C }, bInbox(), built.activity, { immediate: true });
    await expectIgnored(since, birch, async () => (await getRemoteCharter(b.deps, birch)) !== null, "B to deal with the Update from birch-lane", "debug");
    const rows = await b.deps.db.selectFrom("remote_charters").select(["actor_iri", "revision"]).execute();
    expect(rows).toEqual([{ actor_iri: pod, revision: 3 }]);
  }, TEST_TIMEOUT);

  it("a Mastodon-signed Update of a charter-like Note from an actor B does not follow stores nothing", async () => {
    // alice follows elm-row, so B knows her; elm-row does not follow alice.
    const follow = { "@context": AS_CONTEXT, id: `${masto.origin}/${randomUUID()}`, type: "Follow", actor: alice.actorUrl, object: b.actorUrl() };
    expect((await postSigned(`${b.actorUrl()}/inbox`, follow, { signer: alice })).status).toBe(202);
    await waitFor(async () => {
      const row = await b.deps.db.selectFrom("followers").select("status").where("actor_iri", "=", alice.actorUrl).executeTakeFirst();
      return row?.status === "accepted";
    }, WAIT, "elm-row to accept alice");

    const noteId = `${alice.actorUrl}/statuses/1`;
    const charterLike = {
      "@context": [AS_CONTEXT, CHARTER_CONTEXT],
      id: noteId,
      type: "Note",
      attributedTo: alice.actorUrl,
      content: "<p>Alice's charter</p>",
      published: new Date().toISOString(),
      updated: new Date().toISOString(),
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      name: "Alice's charter",
      charterRevision: 9,
      changeNote: "",
      preamble: "",
      servicesNow: [{ type: "CharterService", name: "Soup", description: "", category: "food", since: "2024-01-01" }],
      servicesNext: [],
      licence: { type: "Licence", name: "CC0 1.0" },
    };
    const update = {
      "@context": [AS_CONTEXT, CHARTER_CONTEXT],
      id: `${alice.actorUrl}#updates/${randomUUID()}`,
      type: "Update",
      actor: alice.actorUrl,
      object: charterLike,
      to: ["https://www.w3.org/ns/activitystreams#Public"],
    };
    const since = Date.now();
    const res = await postSigned(`${b.actorUrl()}/inbox`, update, { signer: alice });
    expect(res.status).toBe(202);
    await expectIgnored(since, alice.actorUrl, async () => (await getRemoteCharter(b.deps, alice.actorUrl)) !== null, "B to deal with the Update from alice", "debug");
    const rows = await b.deps.db.selectFrom("remote_charters").select("actor_iri").execute();
    expect(rows.map((r) => r.actor_iri)).toEqual([pod]);
  }, TEST_TIMEOUT);

  it("an Update from a followed pod whose Note is attributed to another actor changes nothing", async () => {
    const held = (await getRemoteCharter(b.deps, pod))!;
    expect(held.revision).toBe(3);
    const birch = a.actorUrl(C);
    // birch-lane's revision-4 charter, sent by oak-street (which B follows) as if it were its own.
    const ctx = aContext();
    const { podId, eventId } = await charterEvent(C, 4, "update");
    const birchNote = await (await charterEventToActivity(ctx, podId, eventId))!.activity.getObject();
    expect(birchNote?.id?.href).toBe(`${birch}/charter`);
    const forged = new Update({
      id: new URL(`${pod}#forged/${randomUUID()}`),
      actor: new URL(pod),
      object: birchNote,
      to: new URL("https://www.w3.org/ns/activitystreams#Public"),
    });
    const since = Date.now();
    await ctx.sendActivity({ identifier: A }, bInbox(), forged, { immediate: true });
    // Nothing stored for birch-lane, and oak-street's copy untouched.
    const changed = async () => {
      const copy = await getRemoteCharter(b.deps, pod);
      return (await getRemoteCharter(b.deps, birch)) !== null || copy?.revision !== 3 || copy.objectUpdatedAt.getTime() !== held.objectUpdatedAt.getTime();
    };
    await expectIgnored(since, `${birch}/charter`, changed, "B to deal with the Update carrying birch-lane's Note");

    const after = await getRemoteCharter(b.deps, pod);
    expect(after).toMatchObject({ revision: 3, objectIri: charterId, content: held.content });
    expect(after!.objectUpdatedAt.toISOString()).toBe(held.objectUpdatedAt.toISOString());
    expect(await getRemoteCharter(b.deps, birch)).toBeNull();
  }, TEST_TIMEOUT);
});
