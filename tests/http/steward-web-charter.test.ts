/**
 * The steward web app's Charter page on a real node: the edit form, the preview (the post
 * exactly as the charter Note carries it, the page, the changes; nothing stored), publishing
 * (once per form), re-confirming, and refusals (empty, too long, markup) shown next to the
 * field they concern with nothing stored.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as charters from "../../src/services/charters.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { onlyOwnScripts, formOf, StewardClient, type WebResponse } from "../helpers/steward-web.ts";

let node: TestNode;
let client: StewardClient;
const SLUG = "oak-street";
const CHARTER = `/pods/${SLUG}/steward/charter`;
const PREVIEW = `${CHARTER}/preview`;
const PUBLISH = `${CHARTER}/publish`;
const CONFIRM = `${CHARTER}/confirm`;

// The node's clock stands still (plus `offsetMs`), so a preview and its publish fall on the same day.
let offsetMs = 0;

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name.replace(/[^\w-]/g, "-")}-error">([^<]*)</span>`).exec(page)?.[1];
const revisionCount = async () => (await charters.listCharterRevisions(node.deps, SLUG)).length;
/** The Note HTML inside the preview's post frame. */
const postHtml = (page: string) => /<article class="post"[^>]*>\n<div class="who">.*?<\/div>\n([\s\S]*?)\n<\/article>/.exec(page)?.[1];

/** A whole charter as the form sends it: rows numbered as the form numbers them. */
function charterFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    _action: "preview",
    title: "Oak Street Service Charter",
    preamble: "We are the neighbours of **Oak Street**.\r\n\r\n- Free at the point of use.",
    "services.0.name": "Meal distribution",
    "services.0.description": "Hot meals from the parish hall.\r\nNo questions asked.",
    "services.0.category": "food",
    "services.0.since": "2025-03-01",
    "services.0.figure": "120 meals a week",
    "services.1.name": "",
    "services.1.description": "",
    "services.1.category": "",
    "services.1.since": "",
    "services.1.figure": "",
    "services.2.name": "Tool library",
    "services.2.description": "Drills and ladders to borrow.",
    "services.2.category": "repair",
    "services.2.since": "2026-01-10",
    "services.2.figure": "",
    "nextServices.0.name": "Solar co-op",
    "nextServices.0.why": "Energy bills doubled.",
    "nextServices.0.targetDate": "2099-04-01",
    assemblyRhythm: "Thursdays 19:00",
    meetingPlace: "Northfield",
    "licence.name": "CC BY-SA 4.0",
    "licence.url": "https://creativecommons.org/licenses/by-sa/4.0/",
    changeNote: "First charter, agreed at the assembly.",
    ...overrides,
  };
}

const preview = (fields: Record<string, string>) => client.post(PREVIEW, fields, { from: CHARTER });

/** Presses Publish on a preview page: its hidden fields, as a browser sends them. */
function publishFrom(page: WebResponse, extra: Record<string, string> = {}): Promise<WebResponse> {
  const fields = { ...formOf(page.text, PUBLISH), ...extra };
  return client.post(PUBLISH, fields, { csrf: false });
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: SLUG, podName: "Oak Street", env: { STEWARD_SESSION_DAYS: "90" } });
  const clock = node.deps.clock as { now: () => Date };
  const frozen = clock.now().getTime();
  clock.now = () => new Date(frozen + offsetMs);
  client = await StewardClient.signIn(node, SLUG);
});

afterAll(async () => {
  await node?.stop();
});

describe("the charter page", () => {
  it("without a session answers the sign-in page, for the page and its forms", async () => {
    const stranger = new StewardClient(node.origin, SLUG);
    const page = await stranger.get(CHARTER);
    expect(page.status).toBe(401);
    expect(page.text).toContain("Please sign in");
    const posted = await stranger.post(PUBLISH, charterFields(), { csrf: false });
    expect(posted.status).toBe(401);
    expect(await revisionCount()).toBe(0);
  });

  it("before the first charter: says so, and offers a form with a label for every field and an empty row per list", async () => {
    const page = await client.get(CHARTER);
    expect(page.status).toBe(200);
    expect(page.text).toContain("<h1>Charter</h1>");
    expect(page.text).toContain("no charter yet");
    expect(page.text).not.toContain("Confirm unchanged</button>");
    for (const name of ["title", "preamble", "services-0-name", "services-0-description", "services-0-category", "services-0-since", "services-0-figure", "nextServices-0-name", "nextServices-0-why", "nextServices-0-targetDate", "assemblyRhythm", "meetingPlace", "licence-name", "licence-url", "changeNote"]) {
      expect(page.text).toContain(`<label for="f-${name}">`);
      expect(page.text).toMatch(new RegExp(`id="f-${name}" name="`));
    }
    expect(page.text).toContain('value="CC BY-SA 4.0"');
    expect(onlyOwnScripts(page.text)).toBe(true);
  });

  it("“Add another service” shows the form again with the values sent and one more row", async () => {
    const r = await preview(charterFields({ _action: "add-services", title: "Kept title" }));
    expect(r.status).toBe(200);
    expect(r.text).toContain('value="Kept title"');
    expect(r.text).toContain('id="f-services-3-name"');
    expect(r.text).not.toContain('id="f-services-4-name"');
    expect(r.text).not.toContain('id="f-nextServices-1-name"');
    const more = await preview(charterFields({ _action: "add-nextServices" }));
    expect(more.text).toContain('id="f-nextServices-1-name"');
    expect(await revisionCount()).toBe(0);
  });
});

describe("preview, publish, confirm", () => {
  let firstPost = "";

  it("the preview shows the post, the page and that it is the first revision, and stores nothing", async () => {
    const r = await preview(charterFields());
    expect(r.status).toBe(200);
    expect(r.text).toContain("<h1>Preview of revision 1</h1>");
    expect(r.text).toContain("first revision");
    const post = postHtml(r.text);
    expect(post).toBeDefined();
    expect(post).toContain("<p><strong>Oak Street Service Charter</strong></p>");
    expect(post).toContain("<strong>Meal distribution</strong> (food)");
    expect(post).toContain("#<span>PeoplesCharter</span>");
    firstPost = post!;
    // The page preview: the services with their figures, the next one, the assembly.
    expect(r.text).toContain("<h3>Oak Street Service Charter</h3>");
    expect(r.text).toContain("120 meals a week");
    expect(r.text).toContain("<strong>When:</strong> Thursdays 19:00");
    // The empty row 1 is left out: the tool library is the second service sent on.
    const hidden = formOf(r.text, PUBLISH);
    expect(hidden["services.1.name"]).toBe("Tool library");
    expect(hidden["services.2.name"]).toBeUndefined();
    expect(hidden.preamble).toBe("We are the neighbours of **Oak Street**.\n\n- Free at the point of use.");
    expect(await revisionCount()).toBe(0);
    expect(await charters.findCharter(node.deps, SLUG)).toBeNull();
  });

  it("Publish stores one revision (once, however often the form is sent), shown on the public page, and the Note carries the previewed HTML", async () => {
    const page = await preview(charterFields());
    const published = await publishFrom(page);
    expect(published.status).toBe(303);
    expect(published.location).toBe(`${CHARTER}?done=published`);
    // The same form again (a double click, a retry): the same answer, no second revision.
    const again = await publishFrom(page);
    expect(again.status).toBe(303);
    expect(again.location).toBe(published.location);
    expect(await revisionCount()).toBe(1);

    const charter = await charters.getCharter(node.deps, SLUG);
    expect(charter.content.title).toBe("Oak Street Service Charter");
    expect(charter.content.services.map((s) => s.name)).toEqual(["Meal distribution", "Tool library"]);
    expect(charter.content.services[1]!.figure).toBeNull();
    expect(charter.content.services[0]!.description).toBe("Hot meals from the parish hall.\nNo questions asked.");
    expect(charter.changeNote).toBe("First charter, agreed at the assembly.");

    const done = await client.get(published.location!);
    expect(done.text).toContain("The new revision is published.");
    expect(done.text).toContain("Revision 1, made");
    expect(done.text).toContain(`href="${node.origin}/pods/${SLUG}/charter"`);
    expect(done.text).toContain("Confirm unchanged</button>");
    // The form starts from the published charter, with an empty change note and a spare row per list.
    expect(done.text).toMatch(/id="f-services-1-name" name="services.1.name"[^>]* value="Tool library"/);
    expect(done.text).toContain('id="f-services-2-name"');
    expect(done.text).toMatch(/<textarea id="f-changeNote"[^>]*><\/textarea>/);

    const publicPage = await fetch(`${node.origin}/pods/${SLUG}/charter`);
    expect(publicPage.status).toBe(200);
    const publicHtml = await publicPage.text();
    expect(publicHtml).toContain("<h1>Oak Street Service Charter</h1>");
    expect(publicHtml).toContain("Tool library");

    const note = (await (await fetch(`${node.origin}/pods/${SLUG}/charter`, { headers: { accept: "application/activity+json" } })).json()) as { type: string; content: string };
    expect(note.type).toBe("Note");
    expect(note.content).toBe(firstPost);
  });

  it("a second preview shows the changes from the published revision, and stores nothing until Publish", async () => {
    const fields = charterFields({
      title: "Oak Street Peoples Charter & more",
      // The meal distribution is removed, the tool library's figure changes, the solar co-op starts now.
      "services.0.remove": "on",
      "services.2.figure": "212 tools",
      "services.3.name": "Solar co-op",
      "services.3.description": "Panels on three roofs.",
      "services.3.category": "energy",
      "services.3.since": "2026-05-01",
      "services.3.figure": "",
      "nextServices.0.name": "",
      "nextServices.0.why": "",
      "nextServices.0.targetDate": "",
      changeNote: "Solar co-op running.",
    });
    const r = await preview(fields);
    expect(r.status).toBe(200);
    expect(r.text).toContain("<h1>Preview of revision 2</h1>");
    expect(r.text).toContain('aria-label="Changes from revision 1"');
    expect(r.text).toContain("Title: “Oak Street Service Charter” → “Oak Street Peoples Charter &amp; more”");
    expect(r.text).toContain("Service removed: <strong>Meal distribution</strong>");
    expect(r.text).toContain("Service <strong>Tool library</strong> changed: <span>its figure: <em>nothing</em> → “212 tools”</span>");
    expect(r.text).toContain("Now provided: <strong>Solar co-op</strong>");
    expect(r.text).toContain("as an edit of the charter post");
    const post = postHtml(r.text)!;
    expect(post).toContain("Revision 2: Solar co-op running.");
    expect(post).not.toContain("Meal distribution");
    expect(await revisionCount()).toBe(1);

    // Back to editing keeps the values; publishing from the preview makes revision 2.
    const back = await client.post(PREVIEW, { ...formOf(r.text, PUBLISH), _action: "edit" }, { csrf: false });
    expect(back.status).toBe(200);
    expect(back.text).toMatch(/id="f-title" name="title"[^>]* value="Oak Street Peoples Charter &amp; more"/);
    expect(back.text).toMatch(/id="f-services-1-name" name="services.1.name"[^>]* value="Solar co-op"/);
    expect(await revisionCount()).toBe(1);

    const published = await publishFrom(r);
    expect(published.status).toBe(303);
    expect(await revisionCount()).toBe(2);
    const charter = await charters.getCharter(node.deps, SLUG);
    expect(charter.content.services.map((s) => s.name)).toEqual(["Tool library", "Solar co-op"]);
    expect(charter.content.nextServices).toEqual([]);
    const publicHtml = await (await fetch(`${node.origin}/pods/${SLUG}/charter`)).text();
    expect(publicHtml).toContain("<h1>Oak Street Peoples Charter &amp; more</h1>");
  });

  it("Confirm unchanged re-confirms the charter (once per form), and the review shows when it is due", async () => {
    offsetMs = 36 * 86_400_000;
    const due = await client.get(CHARTER);
    expect(due.status).toBe(200);
    expect(due.text).toContain("Due for review.");
    const before = (await charters.listCharterHistory(node.deps, SLUG)).length;
    const fields = formOf(due.text, CONFIRM);
    const confirmed = await client.post(CONFIRM, fields, { csrf: false });
    expect(confirmed.status).toBe(303);
    expect(confirmed.location).toBe(`${CHARTER}?done=confirmed`);
    const again = await client.post(CONFIRM, fields, { csrf: false });
    expect(again.location).toBe(confirmed.location);
    expect((await charters.listCharterHistory(node.deps, SLUG)).length).toBe(before + 1);
    expect(await revisionCount()).toBe(2);
    const charter = await charters.getCharter(node.deps, SLUG);
    expect(charter.review.due).toBe(false);
    expect(charter.review.lastReviewedAt.getTime()).toBe(node.deps.clock.now().getTime());
    const page = await client.get(confirmed.location!);
    expect(page.text).toContain("The charter is confirmed unchanged");
    expect(page.text).not.toContain("Due for review.");
    expect(page.text).toContain("Next review due by");
  });
});

describe("refusals", () => {
  it("an empty title, a service without a name and a too long text are shown next to their fields, and nothing is stored", async () => {
    const before = await revisionCount();
    const fields = charterFields({
      title: "  ",
      // Row 0 is empty and left out, so the nameless service is the service's entry 0 but the form's row 1.
      "services.0.name": "",
      "services.0.description": "",
      "services.0.category": "",
      "services.0.since": "",
      "services.0.figure": "",
      "services.1.name": "",
      "services.1.description": "It has no name.",
      "services.1.category": "care",
      "services.1.since": "2025-06-15",
      preamble: "x".repeat(5001),
    });
    const r = await preview(fields);
    expect(r.status).toBe(400);
    expect(codeOn(r.text)).toBe("VALIDATION_FAILED");
    expect(r.text).toContain("Nothing was saved");
    expect(errorNextTo(r.text, "title")).toBe("This cannot be empty.");
    expect(errorNextTo(r.text, "services.1.name")).toBe("This cannot be empty.");
    expect(errorNextTo(r.text, "services.0.name")).toBeUndefined();
    expect(errorNextTo(r.text, "preamble")).toBe("This is too long: at most 5000 characters (it has 5001).");
    // The summary links to each field by a plain name.
    expect(r.text).toContain('<a href="#f-services-1-name">Service 2: name</a>');
    // The values sent are kept in the form.
    expect(r.text).toContain(">It has no name.</textarea>");
    // The publish form, sent with bad values (its rows already numbered from 0), refuses the same way.
    const page = await preview(charterFields());
    const bad = await publishFrom(page, { title: "", "services.0.name": "", "nextServices.0.targetDate": "2020-01-01" });
    expect(bad.status).toBe(400);
    expect(errorNextTo(bad.text, "title")).toBe("This cannot be empty.");
    expect(errorNextTo(bad.text, "services.0.name")).toBe("This cannot be empty.");
    expect(errorNextTo(bad.text, "nextServices.0.targetDate")).toMatch(/^This date has passed: choose today \(\d{4}-\d{2}-\d{2}\) or later\.$/);
    expect(await revisionCount()).toBe(before);
  });

  it("a charter with no service at all, a missing category and a duplicate name are refused in plain words", async () => {
    const before = await revisionCount();
    const none = await preview({
      title: "Empty",
      "services.0.name": "",
      "services.0.description": "",
      "services.0.category": "",
      "services.0.since": "",
      "services.0.figure": "",
    });
    expect(none.status).toBe(400);
    expect(none.text).toMatch(/<p class="error" id="f-services" tabindex="-1">The charter needs at least one service/);
    const noCategory = await preview(charterFields({ "services.2.category": "" }));
    expect(noCategory.status).toBe(400);
    expect(errorNextTo(noCategory.text, "services.2.category")).toBe("Choose a category.");
    const dup = await preview(charterFields({ "services.2.name": "meal DISTRIBUTION" }));
    expect(dup.status).toBe(400);
    expect(errorNextTo(dup.text, "services.2.name")).toBe("Another service in this list has the same name (capitals do not count): give each its own name.");
    expect(await revisionCount()).toBe(before);
  });

  it("HTML or a script in the title or a section is refused with MARKUP_NOT_ALLOWED next to it, on preview and publish, and nothing is stored", async () => {
    const before = await revisionCount();
    const script = await preview(charterFields({ title: "<script>alert(1)</script>Charter" }));
    expect(script.status).toBe(400);
    expect(codeOn(script.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(script.text, "title")).toContain("HTML tags and scripts are not accepted");
    expect(script.text).not.toContain("<script>alert");
    expect(script.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;Charter");

    const section = await preview(charterFields({ "services.2.description": 'Tools <img src=x onerror="alert(1)">' }));
    expect(section.status).toBe(400);
    expect(codeOn(section.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(section.text, "services.2.description")).toContain("HTML tags and scripts are not accepted");
    expect(section.text).not.toContain("<img src=x");

    const page = await preview(charterFields());
    const published = await publishFrom(page, { preamble: "Hello <b>neighbours</b>" });
    expect(published.status).toBe(400);
    expect(codeOn(published.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(published.text, "preamble")).toContain("HTML tags and scripts are not accepted");
    expect(await revisionCount()).toBe(before);
  });

  it("Publish without the form's token is refused and stores nothing", async () => {
    const before = await revisionCount();
    const page = await preview(charterFields());
    const r = await publishFrom(page, { _csrf: "wrong" });
    expect(r.status).toBe(403);
    expect(await revisionCount()).toBe(before);
  });
});
