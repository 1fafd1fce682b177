/**
 * "Follow this pod" on the pod page and the charter page: near the top, the handle in a field
 * to copy, the Mastodon steps, and only the kinds of post the pod really makes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { createPod } from "../../src/services/pods.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { readFileSync } from "node:fs";

let node: TestNode;

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street" });
  await createPod(node.deps, { slug: "quiet-lane", name: "Quiet Lane" });
  const example = JSON.parse(readFileSync(new URL("../../docs/charter.example.json", import.meta.url), "utf8"));
  await publishCharterRevision(node.deps, "oak-street", example);
});

afterAll(async () => {
  await node?.stop();
});

const html = async (path: string) => {
  const r = await fetch(node.origin + path, { headers: { accept: "text/html" } });
  return { status: r.status, text: await r.text() };
};

describe("Follow this pod", () => {
  it("comes right after the pod's name, handle and summary, before the charter and the books", async () => {
    const { status, text } = await html("/pods/oak-street");
    expect(status).toBe(200);
    const box = text.indexOf('<section class="follow"');
    expect(box).toBeGreaterThan(text.indexOf("<h1>Oak Street</h1>"));
    const charter = text.indexOf("People's Service Charter");
    expect(charter === -1 || box < charter).toBe(true);
    expect(text).toContain(`<input id="handle-oak-street" type="text" readonly value="@oak-street@${node.host}">`);
    expect(text).toContain('<label for="handle-oak-street">');
    expect(text).toContain("How to follow from Mastodon");
    expect(text).toContain('<a href="/pods/oak-street/steward/">steward pages</a>');
  });

  it("names only what the pod posts: a pod with a charter promises its charter, not offers or books", async () => {
    const oak = (await html("/pods/oak-street")).text;
    expect(oak).toContain("You will then see its charter in your home timeline");
    expect(oak).not.toMatch(/its offers|its needs|summaries of its open books/);
    const quiet = (await html("/pods/quiet-lane")).text;
    expect(quiet).toContain("It has not posted anything yet");
    expect(quiet).not.toContain("You will then see");
  });

  it("the charter page has the same box, near its top", async () => {
    const { status, text } = await html("/pods/oak-street/charter");
    expect(status).toBe(200);
    const box = text.indexOf('<section class="follow"');
    expect(box).toBeGreaterThan(text.indexOf("<h1>"));
    expect(box).toBeLessThan(text.indexOf('<section id="history">'));
    expect(text).toContain(`value="@oak-street@${node.host}"`);
  });
});

describe("the browser's own requests", () => {
  it("/favicon.ico answers 204 No Content (no error on every page view)", async () => {
    const r = await fetch(`${node.origin}/favicon.ico`);
    expect(r.status).toBe(204);
    expect(await r.text()).toBe("");
  });
});
