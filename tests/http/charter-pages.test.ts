/**
 * The charter's HTML pages on a real node: the charter section of the pod page, the
 * charter page with its revision timeline, one page per revision, the review notice,
 * escaping of hostile input, 404s, and content negotiation with Fedify on the same URLs.
 */
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { charterSummaryText } from "../../src/domain/charter/render.ts";
import { escapeHtml } from "../../src/lib/html.ts";
import { registerPages } from "../../src/http/pages/routes.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { createPod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const AP = "application/activity+json";
const DAY = 86_400_000;

/** A date `days` from now (real clock), YYYY-MM-DD. */
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

const SOLAR_BY = inDays(120);
const FRIDGE_BY = inDays(60);

function revision1(): any {
  return {
    title: "Oak Street People's Service Charter",
    preamble:
      "We are the neighbours of **Oak Street**.\n\nRead [how we decide](https://oak-street.example/how-we-decide) first.\n\n- Everything is free.\n- Open books.",
    services: [
      { name: "Meal distribution", description: "Hot meals from the parish hall.", category: "food", since: "2025-03-01", figure: "120 meals a week" },
      { name: "Elder watch", description: "A daily call for older neighbours.", category: "care", since: "2025-06-15", figure: null },
      { name: "Homework club", description: "After-school help.", category: "education", since: "2025-09-07" },
    ],
    nextServices: [{ name: "Solar co-op", why: "Energy bills doubled last winter.", targetDate: SOLAR_BY }],
    assemblyRhythm: "Thursdays 19:00, every other week",
    meetingPlace: "Northfield",
    changeNote: "Our first charter.",
  };
}

function revision2(): any {
  const input = revision1();
  input.services[0].figure = "150 meals a week";
  input.services.push({ name: "Bike repair", description: "Saturday mornings.", category: "repair", since: "2026-01-10" });
  input.changeNote = "Bike repair joins; more meals.";
  return input;
}

function revision3(): any {
  const input = revision2();
  input.title = "Oak Street Charter";
  input.services = input.services.filter((s: any) => s.name !== "Homework club");
  input.services.push({ name: "Solar co-op", description: "Panels on three roofs.", category: "energy", since: "2026-02-01" });
  input.nextServices = [{ name: "Community fridge", why: "Less food wasted.", targetDate: FRIDGE_BY }];
  input.meetingPlace = "Northfield parish hall";
  input.changeNote = "Solar co-op is running; homework club handed to the school.";
  return input;
}

const XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"];
const evil = (label: string) => `${label} ${XSS.join(" ")}`;

function hostileCharter(): any {
  return {
    title: evil("Mallory"),
    preamble: `${evil("Preamble")}\n\n- ${evil("item")}\n\n**${XSS[0]}** javascript:alert(1) <a href="javascript:alert(1)">x</a>`,
    services: [
      { name: evil("Svc"), description: evil("desc"), category: "care", since: "2025-01-01", figure: evil("fig") },
    ],
    nextServices: [{ name: evil("Next"), why: evil("why"), targetDate: inDays(30) }],
    assemblyRhythm: evil("rhythm"),
    meetingPlace: evil("place"),
    licence: { name: evil("licence"), url: "https://example.org/licence?<script>" },
    changeNote: evil("note"),
  };
}

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street" });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
  await createPod(node.deps, { slug: "mallory", name: "Mallory <b>Pod</b>" });
  await publishCharterRevision(node.deps, "oak-street", revision1());
  await publishCharterRevision(node.deps, "oak-street", revision2());
  await publishCharterRevision(node.deps, "oak-street", revision3());
  await publishCharterRevision(node.deps, "mallory", hostileCharter());
  const second = hostileCharter();
  second.title = evil("Mallory again");
  second.services[0].figure = evil("figure two");
  second.meetingPlace = null;
  await publishCharterRevision(node.deps, "mallory", second);
}, 120_000);

afterAll(async () => {
  await node?.stop();
});

async function get(path: string, accept = "text/html") {
  const response = await fetch(`${node.origin}${path}`, { headers: { accept } });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

async function getHtml(path: string) {
  const r = await get(path);
  expect(r.type).toMatch(/^text\/html/);
  return r;
}

const charterUrl = (slug: string) => `${node.origin}/pods/${slug}/charter`;
const revisionUrl = (slug: string, n: number) => `${charterUrl(slug)}/revisions/${n}`;
const e = escapeHtml;

/** The part of `page` from the element with `id` onwards. */
const from = (page: string, id: string) => {
  const at = page.indexOf(`id="${id}"`);
  expect(at, `element #${id}`).toBeGreaterThan(-1);
  return page.slice(at);
};

describe("pod page", () => {
  it("shows the current charter, what comes next, the review line and a link to the charter page", async () => {
    for (const path of ["/pods/oak-street", "/@oak-street"]) {
      const { status, text } = await getHtml(path);
      expect(status).toBe(200);
      const section = from(text, "charter");
      expect(section).toContain(`<h2>${e("Oak Street Charter")}</h2>`);
      // The preamble goes through the Markdown subset renderer.
      expect(section).toContain("<p>We are the neighbours of <strong>Oak Street</strong>.</p>");
      expect(section).toContain(`<a href="https://oak-street.example/how-we-decide" rel="nofollow noopener">how we decide</a>`);
      expect(section).toContain("<ul><li>Everything is free.</li><li>Open books.</li></ul>");
      expect(section).toContain("What we do now");
      expect(section).toContain(`<strong>Meal distribution</strong> <span class="tag">food</span>`);
      expect(section).toContain("<strong>150 meals a week</strong>");
      expect(section).toContain(`since <time datetime="2025-03-01">1 March 2025</time>`);
      expect(section).toContain(`<strong>Solar co-op</strong> <span class="tag">energy</span>`);
      expect(section).not.toContain("Homework club</strong> <span");
      expect(section).toContain("What we take on next");
      expect(section).toMatch(new RegExp(`<strong>Community fridge</strong> — by <time datetime="${FRIDGE_BY}">`));
      expect(section).toContain("Less food wasted.");
      expect(section).toContain(e("Thursdays 19:00, every other week"));
      expect(section).toContain("Northfield parish hall");
      expect(section).toContain(`<a rel="license nofollow noopener" href="https://creativecommons.org/licenses/by-sa/4.0/">CC BY-SA 4.0</a>`);
      expect(section).toMatch(/Revision 3, reviewed <time datetime="\d{4}-\d{2}-\d{2}">/);
      expect(section).toContain("Next review due by");
      expect(section).not.toContain("Due for review");
      // The latest revision's changes, and the way to the full history.
      expect(section).toContain("What changed in revision 3");
      expect(section).toContain("Now provided: <strong>Solar co-op</strong>");
      expect(section).toContain(`<a href="${charterUrl("oak-street")}">Read the full charter and its 3 revisions</a>`);
    }
  });

  it("takes its OpenGraph description from the charter summary and keeps the actor as alternate", async () => {
    const { text } = await getHtml("/pods/oak-street");
    const summary = charterSummaryText(revision3());
    expect(summary).toContain("services now");
    expect(text).toContain(`<meta property="og:description" content="${e(summary)}">`);
    expect(text).toContain(`<link rel="alternate" type="${AP}" href="${node.actorUrl("oak-street")}">`);
    expect(text).toContain(`<meta name="viewport" content="width=device-width, initial-scale=1">`);
  });

  it("says so when the pod has no charter yet", async () => {
    const { status, text } = await getHtml("/@elm-row");
    expect(status).toBe(200);
    expect(text).toContain("This pod has not published its charter yet.");
    expect(text).not.toContain("What we do now");
    expect(text).toContain(`<meta property="og:description" content="Elm Row, a mutual-aid pod on ${node.host}">`);
  });
});

describe("charter page", () => {
  it("shows the full charter with alternate link and article OpenGraph tags", async () => {
    const { status, text } = await getHtml("/pods/oak-street/charter");
    expect(status).toBe(200);
    expect(text).toContain(`<link rel="alternate" type="${AP}" href="${charterUrl("oak-street")}">`);
    expect(text).toContain(`<meta property="og:type" content="article">`);
    expect(text).toContain(`<meta property="og:url" content="${charterUrl("oak-street")}">`);
    expect(text).toContain(`<meta property="og:description" content="${e(charterSummaryText(revision3()))}">`);
    expect(text).toContain(`<meta property="article:modified_time" content=`);
    expect(text).toContain(`<h1>Oak Street Charter</h1>`);
    expect(text).toMatch(/Revision 3, reviewed <time/);
    expect(text).toContain("<strong>Oak Street</strong>");
    expect(text).toContain(`<h2>What we take on next</h2>`);
    expect(text).toContain(`<time datetime="${FRIDGE_BY}">`);
    expect(text).toContain(`<a href="${node.origin}/@oak-street">Oak Street</a>`);
  });

  it("lists every revision newest first with its date, change note, role and differences", async () => {
    const { text } = await getHtml("/pods/oak-street/charter");
    const history = from(text, "history");
    const at = [3, 2, 1].map((n) => history.indexOf(`id="revision-${n}"`));
    expect(at.every((i) => i > -1)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    const entry = (n: number) => history.slice(history.indexOf(`id="revision-${n}"`), n > 1 ? history.indexOf(`id="revision-${n - 1}"`) : undefined);

    const r3 = entry(3);
    expect(r3).toContain(`<a href="${revisionUrl("oak-street", 3)}">Revision 3</a>`);
    expect(r3).toMatch(/<time datetime="\d{4}-\d{2}-\d{2}">[^<]+<\/time> · by the stewards/);
    expect(r3).toContain(e("Solar co-op is running; homework club handed to the school."));
    expect(r3).toContain(`Title changed from “${e("Oak Street People's Service Charter")}” to “Oak Street Charter”`);
    expect(r3).toContain("Meeting place changed from “Northfield” to “Northfield parish hall”");
    expect(r3).toContain("Now provided: <strong>Solar co-op</strong>");
    expect(r3).toContain("Service ended: <strong>Homework club</strong>");
    expect(r3).toContain(`Taking on next: <strong>Community fridge</strong>, by <time datetime="${FRIDGE_BY}">`);
    expect(r3).not.toContain("No longer planned: <strong>Solar co-op</strong>");

    const r2 = entry(2);
    expect(r2).toContain(e("Bike repair joins; more meals."));
    expect(r2).toContain("Changed <strong>Meal distribution</strong>: figure “120 meals a week” → “150 meals a week”");
    expect(r2).toContain(`New service: <strong>Bike repair</strong> <span class="tag">repair</span>`);
    expect(r2).not.toContain("Title changed");

    const r1 = entry(1);
    expect(r1).toContain("Our first charter.");
    expect(r1).toContain("The first revision of the charter.");
    expect(r1).toContain("by the stewards");
  });

  it("shows a clear review notice when the clock says the charter is due", async () => {
    const later: ServiceDeps = { ...node.deps, clock: { now: () => new Date(Date.now() + 40 * DAY) } };
    const app = Fastify();
    await registerPages(app, later);
    try {
      for (const url of ["/pods/oak-street/charter", "/pods/oak-street", "/@oak-street"]) {
        const r = await app.inject({ url, headers: { accept: "text/html" } });
        expect(r.statusCode).toBe(200);
        expect(r.body).toContain(`<p class="notice" role="status"><strong>Due for review.</strong>`);
        expect(r.body).toMatch(/last reviewed this charter (39|40) days ago/);
        expect(r.body).toContain("at least every 35 days");
        expect(r.body).not.toContain("Next review due by");
      }
    } finally {
      await app.close();
    }
    // On the real clock the charter was just reviewed.
    expect((await getHtml("/pods/oak-street/charter")).text).not.toContain("Due for review");
  });
});

describe("revision pages", () => {
  it("show a revision as it was, with previous/next links and its differences", async () => {
    const { status, text } = await getHtml("/pods/oak-street/charter/revisions/2");
    expect(status).toBe(200);
    expect(text).toContain(`<meta property="og:url" content="${revisionUrl("oak-street", 2)}">`);
    expect(text).toContain(`<meta property="og:type" content="article">`);
    expect(text).toContain(`<h1>${e("Oak Street People's Service Charter")}</h1>`);
    expect(text).toContain("Revision 2 of 3");
    expect(text).toContain("This is an earlier revision");
    expect(text).toContain(`<a rel="prev" href="${revisionUrl("oak-street", 1)}">← Revision 1</a>`);
    expect(text).toContain(`<a rel="next" href="${revisionUrl("oak-street", 3)}">Revision 3 →</a>`);
    expect(text).toContain(`<a href="${charterUrl("oak-street")}">Current charter</a>`);
    // As it was: Homework club still runs and the solar co-op is still planned.
    expect(text).toContain(`<strong>Homework club</strong> <span class="tag">education</span>`);
    expect(text).toContain(`<strong>Solar co-op</strong> — by <time datetime="${SOLAR_BY}">`);
    expect(text).not.toContain("Community fridge");
    const changes = from(text, "changes");
    expect(changes).toContain("What changed from revision 1");
    expect(changes).toContain(e("Bike repair joins; more meals."));
    expect(changes).toContain("New service: <strong>Bike repair</strong>");
  });

  it("the first has no previous link, the current no next link", async () => {
    const first = (await getHtml("/pods/oak-street/charter/revisions/1")).text;
    expect(first).not.toContain(`rel="prev"`);
    expect(first).toContain(`rel="next" href="${revisionUrl("oak-street", 2)}"`);
    expect(first).toContain("The first revision of the charter.");
    const current = (await getHtml("/pods/oak-street/charter/revisions/3")).text;
    expect(current).toContain(`rel="prev" href="${revisionUrl("oak-street", 2)}"`);
    expect(current).not.toContain(`rel="next"`);
    expect(current).toContain("This is the current revision.");
    expect(current).toContain("<h1>Oak Street Charter</h1>");
  });
});

describe("not found", () => {
  it.each([
    "/pods/elm-row/charter",
    "/pods/nobody/charter",
    "/pods/oak-street/charter/revisions/4",
    "/pods/oak-street/charter/revisions/0",
    "/pods/oak-street/charter/revisions/01",
    "/pods/oak-street/charter/revisions/-1",
    "/pods/oak-street/charter/revisions/1.5",
    "/pods/oak-street/charter/revisions/abc",
    "/pods/oak-street/charter/revisions/99999999999999999999",
    "/pods/elm-row/charter/revisions/1",
    "/pods/nobody/charter/revisions/1",
  ])("%s answers a 404 page", async (path) => {
    const { status, text } = await getHtml(path);
    expect(status).toBe(404);
    expect(text).toContain("<h1>");
    expect(text).not.toContain("What we do now");
  });

  it("explains a pod without a charter", async () => {
    const { text } = await getHtml("/pods/elm-row/charter");
    expect(text).toContain("<h1>No charter yet</h1>");
    expect(text).toContain(`<a href="${node.origin}/@elm-row">`);
  });
});

describe("hostile input", () => {
  const pages = ["/pods/mallory", "/@mallory", "/pods/mallory/charter", "/pods/mallory/charter/revisions/1", "/pods/mallory/charter/revisions/2"];

  it.each(pages)("%s renders scripts, event handlers and javascript: links as text", async (path) => {
    const { status, text } = await getHtml(path);
    expect(status).toBe(200);
    expect(text).not.toMatch(/<script/i);
    expect(text).not.toMatch(/href="\s*javascript:/i);
    // " onerror=" survives only as escaped text (also inside quoted attribute values such
    // as og:description), never as an attribute of a tag.
    for (const tag of text.match(/<[^<>]*>/g)!) expect(tag.replace(/"[^"]*"/g, `""`)).not.toMatch(/\son\w+\s*=/i);
    expect(text).not.toMatch(/<img/i);
    expect(text).not.toContain("<b>");
    // Every tag's attributes are well formed, none is an event handler, and every link
    // goes to http(s) or to a path on this node.
    for (const tag of text.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[a-zA-Z:-]+(?:="[^"<>]*")?)*)\s*\/?>/g)) {
      for (const attr of tag[2]!.matchAll(/([a-zA-Z:-]+)(?:="([^"]*)")?/g)) {
        expect(attr[1]!.toLowerCase(), tag[0]).not.toMatch(/^on/);
        if (attr[1] === "href" || attr[1] === "src") expect(attr[2], tag[0]).toMatch(/^(https?:\/\/|\/)/);
      }
    }
    // Outside tags nothing is left but text: every "<" starts a tag the page itself wrote.
    const stripped = text.replace(/<style>[\s\S]*?<\/style>/, "").replace(/<\/?[a-zA-Z][a-zA-Z0-9]*(?:\s+[a-zA-Z:-]+(?:="[^"<>]*")?)*\s*\/?>|<!doctype html>/g, "");
    expect(stripped).not.toMatch(/[<>]/);
    // The hostile text is shown, escaped, not dropped.
    expect(text).toContain(e(XSS[0]!));
    expect(text).toContain(e(XSS[1]!));
  });

  it("shows hostile text escaped in every field and in the differences", async () => {
    const { text } = await getHtml("/pods/mallory/charter");
    for (const label of ["Mallory again", "Preamble", "item", "Svc", "desc", "figure two", "Next", "why", "rhythm", "licence", "note"]) {
      expect(text, label).toContain(e(evil(label)));
    }
    expect(text).toContain("[x](javascript:alert(1))");
    // Changed values are quoted, cut at 80 characters.
    expect(text).toContain(`Title changed from “${e(`Mallory ${XSS[0]} ${XSS[1]}`)}`);
    expect(text).toContain(`” to “${e(`Mallory again ${XSS[0]} ${XSS[1]}`)}`);
    expect(text).toContain(`Meeting place removed (was “${e(`place ${XSS[0]} ${XSS[1]}`)}`);
    expect(text).toContain(`figure “${e(`fig ${XSS[0]} ${XSS[1]}`)}`);
    expect(text).toContain(`” → “${e(`figure two ${XSS[0]} ${XSS[1]}`)}`);
    expect(text).toContain(`<a rel="license nofollow noopener" href="${e("https://example.org/licence?<script>")}">`);
    expect(text).toContain(`People's Service Charter of <a href="${node.origin}/@mallory">${e("Mallory <b>Pod</b>")}</a>`);
  });
});

describe("content negotiation", () => {
  it("gives ActivityPub clients the charter Note from Fedify, not the page", async () => {
    for (const accept of [AP, `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`]) {
      const r = await get("/pods/oak-street/charter", accept);
      expect(r.status).toBe(200);
      expect(r.type).toMatch(/^application\/(activity|ld)\+json/);
      expect(r.text).not.toContain("<html");
      const note = JSON.parse(r.text);
      expect(note.type).toBe("Note");
      expect(note.id).toBe(charterUrl("oak-street"));
    }
  });

  it("links each revision page to its snapshot, which ActivityPub clients get as a Note", async () => {
    const objectUrl = `${charterUrl("oak-street")}?revision=2`;
    const page = await getHtml("/pods/oak-street/charter/revisions/2");
    expect(page.text).toContain(`<link rel="alternate" type="${AP}" href="${e(objectUrl)}">`);
    const json = await get("/pods/oak-street/charter?revision=2", AP);
    expect(json.status).toBe(200);
    expect(json.type).toMatch(/^application\/(activity|ld)\+json/);
    const note = JSON.parse(json.text);
    expect(note).toMatchObject({ type: "Note", id: objectUrl });
    expect(note.url).toBe(revisionUrl("oak-street", 2));
  });

  it("sends a browser that opens a snapshot's id to the revision page", async () => {
    const r = await fetch(`${charterUrl("oak-street")}?revision=2`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(r.status).toBe(303);
    expect(r.headers.get("location")).toBe(revisionUrl("oak-street", 2));
    expect((await get("/pods/oak-street/charter?revision=abc")).status).toBe(404);
    expect((await get("/pods/nobody/charter?revision=2")).status).toBe(404);
  });
});

describe("hashtag pages", () => {
  it("the charter's hashtag links lead to the charters published on this node", async () => {
    const r = await getHtml("/tags/peoplescharter");
    expect(r.status).toBe(200);
    expect(r.text).toContain(`href="${charterUrl("oak-street")}"`);
    expect(r.text).toContain(`href="${charterUrl("mallory")}"`);
    expect(r.text).not.toContain(`href="${charterUrl("elm-row")}"`);
    expect((await getHtml("/tags/MutualAid")).status).toBe(200);
  });

  it("other tags have nothing here", async () => {
    const r = await getHtml("/tags/somethingelse");
    expect(r.status).toBe(404);
    expect(r.text).toContain("Nothing on this node is tagged #somethingelse");
  });
});
