/**
 * The steward web app's Profile page on a real node: the profile form (what it changes, once
 * per form, refusing markup), icon uploads checked by their bytes (PNG, JPEG, WebP, GIF in;
 * SVG, text and oversize out, the old icon kept), the icon served from the node and picked
 * up by the actor, the pod page and the Mastodon API, and removing it.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPodIconFile } from "../../src/services/pod-icons.ts";
import { createPod, getPod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { onlyOwnScripts, formOf, StewardClient } from "../helpers/steward-web.ts";

let node: TestNode;
let client: StewardClient;
const PROFILE = "/pods/oak-street/steward/profile";
const ICON = `${PROFILE}/icon`;

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const PNG = b64("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
const GIF = b64("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");
const WEBP = b64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==");
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...Buffer.from("JFIF\0"), 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xd9]);
const SVG = new Uint8Array(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'));
const TEXT = new Uint8Array(Buffer.from("This is a shopping list, not a picture.\n"));

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name}-error">([^<]*)</span>`).exec(page)?.[1];

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street" });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
  client = await StewardClient.signIn(node, "oak-street");
});

afterAll(async () => {
  await node?.stop();
});

const upload = (file: { name: string; type: string; bytes: Uint8Array }) =>
  client.upload(ICON, PROFILE, {}, { icon: { name: file.name, type: file.type, bytes: new Uint8Array(file.bytes) as Uint8Array<ArrayBuffer> } });

async function actorDoc(slug = "oak-street") {
  const r = await fetch(`${node.origin}/pods/${slug}`, { headers: { accept: "application/activity+json" } });
  return (await r.json()) as { name: string; summary?: string; manuallyApprovesFollowers: boolean; icon?: { url: string } };
}

describe("the profile form", () => {
  it("shows the pod's profile with a label for every input", async () => {
    const page = await client.get(PROFILE);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<label for="f-name">Name');
    expect(page.text).toContain('<label for="f-summary">Summary');
    expect(page.text).toContain('<label for="f-manuallyApprovesFollowers">');
    expect(page.text).toContain('<label for="f-networkVisibility">');
    expect(page.text).toContain('<label for="f-icon">');
    expect(page.text).toMatch(/<input type="text" id="f-name" name="name" required[^>]* value="Oak Street"/);
    expect(page.text).toContain('enctype="multipart/form-data"');
    expect(onlyOwnScripts(page.text)).toBe(true);
    expect(page.text.match(/<h1>/g)).toHaveLength(1);
    expect(Buffer.byteLength(page.text)).toBeLessThan(100_000);
  });

  it("saves name, summary, approval and visibility through the pod service, and the actor shows them", async () => {
    const before = await getPod(node.deps, "oak-street");
    const r = await client.post(PROFILE, {
      name: "Oak Street Commons",
      summary: "Tools, seeds and rides on Oak Street.\nAsk us anything.",
      manuallyApprovesFollowers: "on",
      networkVisibility: "public",
    }, { from: PROFILE });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${PROFILE}?done=profile-saved`);
    const pod = await getPod(node.deps, "oak-street");
    expect(pod).toMatchObject({ name: "Oak Street Commons", summary: "Tools, seeds and rides on Oak Street.\nAsk us anything.", manuallyApprovesFollowers: true, networkVisibility: "public" });
    expect(pod.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    const actor = await actorDoc();
    expect(actor.name).toBe("Oak Street Commons");
    expect(actor.manuallyApprovesFollowers).toBe(true);
    const page = await client.get(r.location!);
    expect(page.text).toContain("The profile was saved.");
    expect(page.text).toMatch(/id="f-manuallyApprovesFollowers"[^>]* checked/);
    expect(page.text).toMatch(/<option value="public" selected>/);

    // Unticking the box (a browser sends nothing for it) turns approval off.
    const off = await client.post(PROFILE, { name: "Oak Street Commons", summary: pod.summary, networkVisibility: "hidden" }, { from: PROFILE });
    expect(off.status).toBe(303);
    expect(await getPod(node.deps, "oak-street")).toMatchObject({ manuallyApprovesFollowers: false, networkVisibility: "hidden" });
  });

  it("the same form sent twice applies once and answers the same", async () => {
    const hidden = formOf((await client.get(PROFILE)).text, PROFILE);
    const fields = { ...hidden, name: "Oak Street", summary: "Once.", networkVisibility: "hidden" };
    const first = await client.post(PROFILE, fields, { csrf: false });
    expect(first.status).toBe(303);
    const afterFirst = await getPod(node.deps, "oak-street");
    const second = await client.post(PROFILE, fields, { csrf: false });
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    const afterSecond = await getPod(node.deps, "oak-street");
    expect(afterSecond.updatedAt.getTime()).toBe(afterFirst.updatedAt.getTime());
    expect(afterSecond.summary).toBe("Once.");
  });

  it("refuses HTML in the name or the summary, next to the field, and changes nothing", async () => {
    const before = await getPod(node.deps, "oak-street");
    for (const [name, summary, field] of [
      ['<b>Oak</b> Street', "plain", "name"],
      ["Oak Street", 'Hello <img src=x onerror="alert(1)">', "summary"],
    ] as const) {
      const r = await client.post(PROFILE, { name, summary, networkVisibility: "public" }, { from: PROFILE });
      expect(r.status).toBe(400);
      expect(codeOn(r.text)).toBe("MARKUP_NOT_ALLOWED");
      expect(errorNextTo(r.text, field)).toMatch(/plain text/i);
      // What was sent is shown back, escaped.
      expect(r.text).not.toContain("<b>Oak</b>");
      expect(r.text).not.toContain("<img src=x");
    }
    const after = await getPod(node.deps, "oak-street");
    expect(after).toEqual(before);
  });

  it("an empty name is refused next to the name, with what was typed kept", async () => {
    const before = await getPod(node.deps, "oak-street");
    const r = await client.post(PROFILE, { name: "  ", summary: "Kept on the form", networkVisibility: "hidden" }, { from: PROFILE });
    expect(r.status).toBe(400);
    expect(errorNextTo(r.text, "name")).toBeTruthy();
    expect(r.text).toContain("Kept on the form");
    expect(await getPod(node.deps, "oak-street")).toEqual(before);
  });
});

describe("the icon", () => {
  let firstUrl: string;

  it("a PNG is stored, served by the node with its type, and becomes the pod's icon everywhere", async () => {
    const before = await getPod(node.deps, "oak-street");
    const r = await upload({ name: "logo.png", type: "image/png", bytes: PNG });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${PROFILE}?done=icon-saved`);
    const pod = await getPod(node.deps, "oak-street");
    firstUrl = `${node.origin}/pods/oak-street/icon?v=${sha(PNG).slice(0, 12)}`;
    expect(pod.iconUrl).toBe(firstUrl);
    expect(pod.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());

    const served = await fetch(firstUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    expect(served.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
    expect(served.headers.get("cache-control")).toMatch(/max-age=31536000/);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);

    // The actor (re-rendered, since the pod's update time moved), the public page and the Mastodon API.
    expect((await actorDoc()).icon?.url).toBe(firstUrl);
    const podPage = await (await fetch(`${node.origin}/@oak-street`)).text();
    expect(podPage).toContain(`<img src="${firstUrl.replace(/&/g, "&amp;")}"`);
    const account = (await (await fetch(`${node.origin}/api/v1/accounts/lookup?acct=oak-street`)).json()) as { avatar: string };
    expect(account.avatar).toBe(firstUrl);

    const page = await client.get(r.location!);
    expect(page.text).toContain("The new icon was saved.");
    expect(page.text).toContain(`src="${firstUrl}"`);
  });

  it("refuses an oversize file, an SVG and a text file named .png, next to the file input, keeping the old icon", async () => {
    const before = await getPod(node.deps, "oak-street");
    const big = new Uint8Array(600 * 1024);
    big.set(PNG);
    const justOver = new Uint8Array(512 * 1024 + 1);
    justOver.set(PNG);
    const cases = [
      { file: { name: "big.png", type: "image/png", bytes: big }, code: "FILE_TOO_LARGE", words: /too large: at most 512 kB/ },
      // Just past the cap: the multipart reader stops at the limit itself; still the form's message.
      { file: { name: "edge.png", type: "image/png", bytes: justOver }, code: "FILE_TOO_LARGE", words: /too large: at most 512 kB/ },
      { file: { name: "logo.svg", type: "image/svg+xml", bytes: SVG }, code: "ICON_NOT_AN_IMAGE", words: /SVG drawings are not accepted/ },
      { file: { name: "logo.png", type: "image/png", bytes: SVG }, code: "ICON_NOT_AN_IMAGE", words: /SVG drawings are not accepted/ },
      { file: { name: "photo.png", type: "image/png", bytes: TEXT }, code: "ICON_NOT_AN_IMAGE", words: /not a PNG, JPEG, WebP or GIF/ },
      { file: { name: "photo.png", type: "image/png", bytes: new Uint8Array(0) }, code: "ICON_MISSING", words: /Choose an image file/ },
    ];
    for (const { file, code, words } of cases) {
      const r = await upload(file);
      expect(r.status, file.name).toBe(400);
      expect(codeOn(r.text), file.name).toBe(code);
      expect(errorNextTo(r.text, "icon"), file.name).toMatch(words);
      expect(r.text).toMatch(/id="f-icon"[^>]* aria-invalid="true"/);
    }
    expect(await getPod(node.deps, "oak-street")).toEqual(before);
    const served = await fetch(firstUrl);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);
  });

  it("takes JPEG, WebP and GIF by their bytes, whatever the name and type the browser gives", async () => {
    for (const [bytes, type] of [
      [JPEG, "image/jpeg"],
      [WEBP, "image/webp"],
      [GIF, "image/gif"],
    ] as const) {
      const r = await upload({ name: "picture.txt", type: "application/octet-stream", bytes });
      expect(r.status, type).toBe(303);
      const pod = await getPod(node.deps, "oak-street");
      expect(pod.iconUrl).toBe(`${node.origin}/pods/oak-street/icon?v=${sha(bytes).slice(0, 12)}`);
      const served = await fetch(pod.iconUrl!);
      expect(served.headers.get("content-type")).toBe(type);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    }
    // An old version's URL gets today's picture, not cached for long.
    const old = await fetch(firstUrl);
    expect(old.headers.get("content-type")).toBe("image/gif");
    expect(old.headers.get("cache-control")).not.toMatch(/immutable/);
  });

  it("the same upload form sent twice stores once", async () => {
    const hidden = formOf((await client.get(PROFILE)).text, ICON);
    const send = () => {
      const form = new FormData();
      for (const [k, v] of Object.entries(hidden)) form.append(k, v);
      form.append("icon", new Blob([new Uint8Array(PNG)], { type: "image/png" }), "again.png");
      return client.request("POST", ICON, { body: form, headers: { origin: node.origin } });
    };
    const first = await send();
    expect(first.status).toBe(303);
    const stored = await getPodIconFile(node.deps, "oak-street");
    const pod = await getPod(node.deps, "oak-street");
    const second = await send();
    expect(second.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect((await getPodIconFile(node.deps, "oak-street"))!.updatedAt).toEqual(stored!.updatedAt);
    expect((await getPod(node.deps, "oak-street")).updatedAt).toEqual(pod.updatedAt);
  });

  it("another pod has no icon; unknown pods neither", async () => {
    const none = await fetch(`${node.origin}/pods/elm-row/icon`);
    expect(none.status).toBe(404);
    expect(none.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
    expect((await fetch(`${node.origin}/pods/no-such-pod/icon`)).status).toBe(404);
  });

  it("removing the icon clears it from the pod and stops serving it", async () => {
    const page = await client.get(PROFILE);
    expect(page.text).toContain("Remove the icon");
    const r = await client.post(`${ICON}/remove`, {}, { from: PROFILE });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${PROFILE}?done=icon-removed`);
    expect((await getPod(node.deps, "oak-street")).iconUrl).toBeNull();
    expect((await fetch(`${node.origin}/pods/oak-street/icon`)).status).toBe(404);
    expect((await actorDoc()).icon).toBeUndefined();
    const after = await client.get(r.location!);
    expect(after.text).toContain("The icon was removed.");
    expect(after.text).toContain("The pod has no icon yet.");
    expect(after.text).not.toContain("Remove the icon");
  });
});

describe("retiring the pod", () => {
  it("needs the pod's short name typed; then the pod retires, its followers are told, and its steward pages close", async () => {
    await createPod(node.deps, { slug: "birch-lane", name: "Birch Lane" });
    const birch = await StewardClient.signIn(node, "birch-lane");
    const page = await birch.get("/pods/birch-lane/steward/profile");
    expect(page.text).toContain("short name, birch-lane, to confirm");

    const wrong = await birch.post("/pods/birch-lane/steward/profile/retire", { confirm: "oak-street" }, { from: "/pods/birch-lane/steward/profile" });
    expect(wrong.status).toBe(400);
    expect(codeOn(wrong.text)).toBe("CONFIRMATION_MISMATCH");
    expect(errorNextTo(wrong.text, "confirm")).toContain("Nothing was changed");
    expect((await getPod(node.deps, "birch-lane")).retiredAt).toBeNull();

    const retired = await birch.post("/pods/birch-lane/steward/profile/retire", { confirm: " Birch-Lane " }, { from: "/pods/birch-lane/steward/profile" });
    expect(retired.status).toBe(303);
    expect(retired.location).toBe("/pods/birch-lane");
    expect((await getPod(node.deps, "birch-lane")).retiredAt).not.toBeNull();
    const events = await node.deps.db.selectFrom("outbox_events as e").innerJoin("pods as p", "p.id", "e.pod_id").select("e.kind").where("p.slug", "=", "birch-lane").execute();
    expect(events.map((e) => e.kind)).toContain("delete_actor");
    const closed = await birch.get("/pods/birch-lane/steward/");
    expect(closed.status).toBe(403);
    expect(codeOn(closed.text)).toBe("POD_RETIRED");
    const publicPage = await fetch(`${node.origin}/pods/birch-lane`, { headers: { accept: "text/html" } });
    expect(publicPage.status).toBe(410);
  });
});
