/**
 * Signing in to the steward web app: one-time links (expired, reused, unknown, another pod's),
 * sessions (another pod's, ended, expired), CSRF (missing, wrong, another origin), signing
 * out, inviting the next steward, and ending sessions. A real node over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { createInvite, listSessions, listStewards } from "../../src/services/steward-sessions.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { ENHANCE_SCRIPT, formOf, scriptsOf, StewardClient } from "../helpers/steward-web.ts";
import { STEWARD_CONTENT_SECURITY_POLICY } from "../../src/http/steward/index.ts";
import { CONTENT_SECURITY_POLICY } from "../../src/http/security.ts";

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street", env: { STEWARD_INVITE_MINUTES: "30" } });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
});

afterAll(async () => {
  await node?.stop();
});

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];

describe("sign-in links", () => {
  it("the link's page asks before signing in; pressing the button signs in once and sets a scoped, HttpOnly cookie", async () => {
    const invite = await createInvite(node.deps, { podSlug: "oak-street" });
    expect(invite.url).toMatch(new RegExp(`^${node.origin}/pods/oak-street/steward/sign-in\\?link=[\\w-]{43}$`));
    const client = new StewardClient(node.origin, "oak-street");
    const page = await client.get(new URL(invite.url!).pathname + new URL(invite.url!).search);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Sign in to Oak Street");
    expect(page.headers.get("referrer-policy")).toBe("same-origin");
    expect(page.headers.get("cache-control")).toBe("no-store");
    // Looking at the page did not use the link.
    const signedIn = await client.useLink(invite.url!);
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe("/pods/oak-street/steward/?done=signed-in");
    const cookie = signedIn.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^hyphae_steward=[\w-]{43}; Path=\/pods\/oak-street\/steward; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const home = await client.get(signedIn.location!);
    expect(home.status).toBe(200);
    expect(home.text).toMatch(/Signed in as Steward \d+/);
    expect(home.text).toContain("You are signed in.");

    // The same link again, in another browser: refused, nothing opened.
    const before = (await listSessions(node.deps, "oak-street")).length;
    const again = await new StewardClient(node.origin, "oak-street").useLink(invite.url!);
    expect(again.status).toBe(401);
    expect(codeOn(again.text)).toBe("INVITE_USED");
    expect(again.headers.get("set-cookie")).toBeNull();
    expect((await listSessions(node.deps, "oak-street")).length).toBe(before);
    const reopened = await client.get(new URL(invite.url!).pathname + new URL(invite.url!).search);
    expect(reopened.status).toBe(410);
    expect(codeOn(reopened.text)).toBe("INVITE_USED");
  });

  it("two browsers racing with one link: exactly one is signed in", async () => {
    const invite = await createInvite(node.deps, { podSlug: "oak-street" });
    const stewardsBefore = (await listStewards(node.deps, "oak-street")).length;
    const browsers = Array.from({ length: 4 }, () => new StewardClient(node.origin, "oak-street"));
    const answers = await Promise.all(browsers.map((b) => b.useLink(invite.url!)));
    expect(answers.map((a) => a.status).sort()).toEqual([303, 401, 401, 401]);
    expect((await listStewards(node.deps, "oak-street")).length).toBe(stewardsBefore + 1);
  });

  it("an expired link is refused with its own code", async () => {
    const invite = await createInvite(node.deps, { podSlug: "oak-street", minutes: 1 });
    const realNow = node.deps.clock.now;
    (node.deps.clock as { now: () => Date }).now = () => new Date(realNow.call(node.deps.clock).getTime() + 2 * 60_000);
    try {
      const r = await new StewardClient(node.origin, "oak-street").useLink(invite.url!);
      expect(r.status).toBe(401);
      expect(codeOn(r.text)).toBe("INVITE_EXPIRED");
    } finally {
      (node.deps.clock as { now: () => Date }).now = realNow;
    }
  });

  it("a link for another pod, an unknown link and a cut-off link are refused and open nothing", async () => {
    const stewardsBefore = (await listStewards(node.deps, "oak-street")).length;
    const elm = await createInvite(node.deps, { podSlug: "elm-row" });
    const other = await new StewardClient(node.origin, "oak-street").useLink(elm.url!);
    expect(other.status).toBe(401);
    expect(codeOn(other.text)).toBe("INVITE_OTHER_POD");
    const unknown = await new StewardClient(node.origin, "oak-street").post("/pods/oak-street/steward/sign-in", { link: "A".repeat(43) }, { csrf: false });
    expect(codeOn(unknown.text)).toBe("INVITE_INVALID");
    const cut = await new StewardClient(node.origin, "oak-street").post("/pods/oak-street/steward/sign-in", { link: "abc" }, { csrf: false });
    expect(cut.status).toBe(401);
    expect(codeOn(cut.text)).toBe("INVITE_INVALID");
    expect((await listStewards(node.deps, "oak-street")).length).toBe(stewardsBefore);
    // The Elm Row link still works where it belongs.
    expect((await new StewardClient(node.origin, "elm-row").useLink(elm.url!)).status).toBe(303);
  });

  it("a sign-in posted from another website is refused", async () => {
    const invite = await createInvite(node.deps, { podSlug: "oak-street" });
    const client = new StewardClient(node.origin, "oak-street");
    const link = new URL(invite.url!).searchParams.get("link")!;
    const r = await client.post("/pods/oak-street/steward/sign-in", { link }, { csrf: false, headers: { origin: "https://evil.example" } });
    expect(r.status).toBe(403);
    expect(codeOn(r.text)).toBe("CSRF_ORIGIN");
    // `Origin: null` (an opaque origin) passes only when the browser says the request is same-origin.
    const opaque = await client.post("/pods/oak-street/steward/sign-in", { link }, { csrf: false, headers: { origin: "null", "sec-fetch-site": "cross-site" } });
    expect(codeOn(opaque.text)).toBe("CSRF_ORIGIN");
    const opaqueNoSite = await client.post("/pods/oak-street/steward/sign-in", { link }, { csrf: false, headers: { origin: "null" } });
    expect(codeOn(opaqueNoSite.text)).toBe("CSRF_ORIGIN");
    expect((await client.useLink(invite.url!)).status).toBe(303);
  });
});

describe("sessions", () => {
  it("no cookie, a made-up cookie and another pod's session are each refused with their own code", async () => {
    const none = await new StewardClient(node.origin, "oak-street").get("/pods/oak-street/steward/");
    expect(none.status).toBe(401);
    expect(codeOn(none.text)).toBe("SESSION_MISSING");
    expect(none.text).toContain("npx hyphae steward invite --pod oak-street");

    const madeUp = new StewardClient(node.origin, "oak-street");
    madeUp.cookie = `hyphae_steward=${"x".repeat(43)}`;
    const bad = await madeUp.get("/pods/oak-street/steward/charter");
    expect(bad.status).toBe(401);
    expect(codeOn(bad.text)).toBe("SESSION_INVALID");

    // Elm Row's steward, with its cookie sent to Oak Street's pages (a browser would not, by path; a script might).
    const elm = await StewardClient.signIn(node, "elm-row");
    const cross = new StewardClient(node.origin, "oak-street");
    cross.cookie = elm.cookie;
    const page = await cross.get("/pods/oak-street/steward/");
    expect(page.status).toBe(403);
    expect(codeOn(page.text)).toBe("SESSION_OTHER_POD");
    const post = await cross.request("POST", "/pods/oak-street/steward/stewards/invite", {
      body: "minutes=60",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: node.origin },
    });
    expect(post.status).toBe(403);
    expect(codeOn(post.text)).toBe("SESSION_OTHER_POD");
  });

  it("a session past its end is refused as expired", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const realNow = node.deps.clock.now;
    (node.deps.clock as { now: () => Date }).now = () => new Date(realNow.call(node.deps.clock).getTime() + 31 * 86_400_000);
    try {
      const r = await client.get("/pods/oak-street/steward/");
      expect(r.status).toBe(401);
      expect(codeOn(r.text)).toBe("SESSION_EXPIRED");
    } finally {
      (node.deps.clock as { now: () => Date }).now = realNow;
    }
  });

  it("signing out ends the session on the server: the old cookie no longer works", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const cookie = client.cookie;
    const out = await client.post("/pods/oak-street/steward/sign-out", {}, { from: "/pods/oak-street/steward/" });
    expect(out.status).toBe(303);
    expect(out.location).toBe("/pods/oak-street/steward/sign-in?done=signed-out");
    expect(client.cookie).toBeNull();
    const replay = new StewardClient(node.origin, "oak-street");
    replay.cookie = cookie;
    const r = await replay.get("/pods/oak-street/steward/");
    expect(r.status).toBe(401);
    expect(codeOn(r.text)).toBe("SESSION_ENDED");
  });
});

describe("scripts and policy", () => {
  it("a steward page loads one script, the node's own enhance.js, under a CSP that allows only that; public pages keep theirs", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const page = await client.get("/pods/oak-street/steward/");
    expect(page.headers.get("content-security-policy")).toBe(STEWARD_CONTENT_SECURITY_POLICY);
    expect(STEWARD_CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'(;|$)/);
    expect(STEWARD_CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline/);
    const scripts = scriptsOf(page.text);
    expect(scripts).toEqual(['<script src="/pods/oak-street/steward/enhance.js" defer></script>']);
    expect(scripts[0]).toMatch(ENHANCE_SCRIPT);
    const js = await fetch(`${node.origin}/pods/oak-street/steward/enhance.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toContain("Progressive enhancement");
    const pub = await fetch(`${node.origin}/pods/oak-street`, { headers: { accept: "text/html" } });
    expect(pub.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    expect(scriptsOf(await pub.text())).toEqual([]);
  });
});

describe("CSRF", () => {
  it("a form without its token, with a wrong one, or from another origin changes nothing", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const sessionsBefore = await listSessions(node.deps, "oak-street");
    const target = sessionsBefore.find((s) => s.id)!;
    const path = `/pods/oak-street/steward/stewards/sessions/${target.id}/end`;
    const missing = await client.post(path, { _csrf: "" }, { from: "/pods/oak-street/steward/stewards" });
    expect(missing.status).toBe(403);
    expect(codeOn(missing.text)).toBe("CSRF_MISSING");
    const wrong = await client.post(path, { _csrf: "y".repeat(43) }, { from: "/pods/oak-street/steward/stewards" });
    expect(wrong.status).toBe(403);
    expect(codeOn(wrong.text)).toBe("CSRF_INVALID");
    const foreign = await client.post(path, {}, { from: "/pods/oak-street/steward/stewards", headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(codeOn(foreign.text)).toBe("CSRF_ORIGIN");
    expect((await listSessions(node.deps, "oak-street")).map((s) => s.id)).toContain(target.id);
  });
});

describe("handing over", () => {
  it("a steward invites the next one from the web; the link is shown once, a repeated post makes no second link", async () => {
    const first = await StewardClient.signIn(node, "oak-street");
    const page = await first.get("/pods/oak-street/steward/stewards");
    const hidden = formOf(page.text, "/stewards/invite");
    const send = () =>
      first.request("POST", "/pods/oak-street/steward/stewards/invite", {
        body: new URLSearchParams({ ...hidden, minutes: "60" }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", origin: node.origin },
      });
    const made = await send();
    expect(made.status).toBe(200);
    const url = /<code class="link-box" id="invite-link">([^<]+)<\/code>/.exec(made.text)![1]!.replace(/&amp;/g, "&");
    const twice = await send();
    expect(twice.status).toBe(200);
    expect(twice.text).toContain("no second link was made");
    expect(twice.text).not.toContain("invite-link");

    const next = new StewardClient(node.origin, "oak-street");
    expect((await next.useLink(url)).status).toBe(303);
    const stewards = await listStewards(node.deps, "oak-street");
    const newest = stewards.at(-1)!;
    const firstNumber = Number(/Signed in as Steward (\d+)/.exec(page.text)![1]);
    expect(newest.invitedBy).toBe(firstNumber);

    // The new steward sees both browsers and ends the first steward's stewardship.
    const list = await next.get("/pods/oak-street/steward/stewards");
    expect(list.text).toContain(`Steward ${newest.number} (you)`);
    const end = await next.post(`/pods/oak-street/steward/stewards/${firstNumber}/end`, {}, { from: "/pods/oak-street/steward/stewards" });
    expect(end.status).toBe(303);
    const gone = await first.get("/pods/oak-street/steward/");
    expect(gone.status).toBe(401);
    expect(codeOn(gone.text)).toBe("SESSION_ENDED");
  });
});
