/**
 * The steward web app's Tokens page on a real node: the pod's tokens listed without the
 * tokens themselves, a new token shown once on the answer (a repeated form makes none),
 * refused labels and lifetimes, and revoking only the pod's own tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { issueToken, listTokens } from "../../src/services/tokens.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";
import { onlyOwnScripts, formOf, StewardClient } from "../helpers/steward-web.ts";

let node: TestNode;
let client: StewardClient;
const TOKENS = "/pods/oak-street/steward/tokens";
const ISSUE = `${TOKENS}/issue`;

const codeOn = (page: string) => /Error code: <code>([A-Z_]+)<\/code>/.exec(page)?.[1];
const errorNextTo = (page: string, name: string) => new RegExp(`<span class="error" id="f-${name}-error">([^<]*)</span>`).exec(page)?.[1];
const shownToken = (page: string) => /<code class="link-box" id="new-token">([^<]+)<\/code>/.exec(page)?.[1];
const JWT = /[\w-]+\.[\w-]+\.[\w-]{20,}/;

async function whoAmI(token: string) {
  const r = await fetch(`${node.origin}/api/hyphae/v1/token`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: (await r.json()) as { pod?: string; jti?: string; expiresAt?: string; error?: string } };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street" });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
  client = await StewardClient.signIn(node, "oak-street");
});

afterAll(async () => {
  await node?.stop();
});

describe("the tokens page", () => {
  it("lists the pod's tokens by label and dates, never the tokens", async () => {
    const cli = await issueToken(node.deps, { podSlug: "oak-street", label: "backup script" });
    const other = await issueToken(node.deps, { podSlug: "elm-row", label: "elm's own" });
    const page = await client.get(TOKENS);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(page.text).toContain("backup script");
    expect(page.text).toContain(`id ${cli.jti.slice(0, 8)}`);
    expect(page.text).not.toContain(cli.token);
    expect(page.text).not.toContain("elm&#39;s own");
    expect(page.text).not.toContain(other.jti.slice(0, 8));
    expect(page.text).not.toMatch(JWT);
    expect(page.text).toContain('<label for="f-label">Label');
    expect(page.text).toContain('<label for="f-days">Valid for (days)');
    expect(onlyOwnScripts(page.text)).toBe(true);
  });

  it("issues a token with a label and a lifetime, shown once on the answer, and the API takes it", async () => {
    const before = (await listTokens(node.deps, "oak-street")).length;
    const r = await client.post(ISSUE, { label: "stock sheet on the shop laptop", days: "30" }, { from: TOKENS });
    expect(r.status).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const token = shownToken(r.text);
    expect(token).toMatch(JWT);
    expect(r.text).toContain("it is shown only this once");

    const me = await whoAmI(token!);
    expect(me.status).toBe(200);
    expect(me.body.pod).toBe("oak-street");
    const days = (new Date(me.body.expiresAt!).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const list = await listTokens(node.deps, "oak-street");
    expect(list).toHaveLength(before + 1);
    expect(list.at(-1)).toMatchObject({ jti: me.body.jti, label: "stock sheet on the shop laptop", revokedAt: null });

    // Afterwards the page lists it, but never shows the token again.
    const page = await client.get(TOKENS);
    expect(page.text).toContain("stock sheet on the shop laptop");
    expect(page.text).not.toContain(token!);
  });

  it("the same form sent twice makes one token, and the repeat says so without showing any", async () => {
    const hidden = formOf((await client.get(TOKENS)).text, ISSUE);
    const fields = { ...hidden, label: "sent twice", days: "7" };
    const first = await client.post(ISSUE, fields, { csrf: false });
    expect(first.status).toBe(200);
    expect(shownToken(first.text)).toMatch(JWT);
    const count = (await listTokens(node.deps, "oak-street")).length;

    const second = await client.post(ISSUE, fields, { csrf: false });
    expect(second.status).toBe(200);
    expect(shownToken(second.text)).toBeUndefined();
    expect(second.text).not.toMatch(JWT);
    expect(second.text).toContain("no second token was made");
    expect(second.text).toContain("It is the one labelled “sent twice” below.");
    expect(await listTokens(node.deps, "oak-street")).toHaveLength(count);
    expect((await listTokens(node.deps, "oak-street")).filter((t) => t.label === "sent twice")).toHaveLength(1);
  });

  it("refuses HTML in the label and lifetimes out of range, next to the field, issuing nothing", async () => {
    const count = (await listTokens(node.deps, "oak-street")).length;
    const markup = await client.post(ISSUE, { label: "<script>alert(1)</script>", days: "30" }, { from: TOKENS });
    expect(markup.status).toBe(400);
    expect(codeOn(markup.text)).toBe("MARKUP_NOT_ALLOWED");
    expect(errorNextTo(markup.text, "label")).toMatch(/plain text/i);
    expect(markup.text).not.toContain("<script>alert");

    for (const [days, words] of [
      ["0", /at least 1 day/],
      ["4000", /at most 3650 days/],
      ["2.5", /whole number/],
      ["soon", /whole number/],
    ] as const) {
      const r = await client.post(ISSUE, { label: "bad lifetime", days }, { from: TOKENS });
      expect(r.status, days).toBe(400);
      expect(codeOn(r.text), days).toBe("INVALID_TOKEN_REQUEST");
      expect(errorNextTo(r.text, "days"), days).toMatch(words);
      expect(r.text).toMatch(/id="f-days"[^>]* aria-invalid="true"/);
      expect(shownToken(r.text)).toBeUndefined();
    }
    const long = await client.post(ISSUE, { label: "x".repeat(201), days: "3" }, { from: TOKENS });
    expect(long.status).toBe(400);
    expect(errorNextTo(long.text, "label")).toMatch(/too long/);
    expect(await listTokens(node.deps, "oak-street")).toHaveLength(count);
  });

  it("revokes one of the pod's tokens: the API refuses it from then on, and a repeat changes nothing", async () => {
    const issued = await issueToken(node.deps, { podSlug: "oak-street", label: "to be revoked" });
    expect((await whoAmI(issued.token)).status).toBe(200);
    const path = `${TOKENS}/${issued.jti}/revoke`;
    const hidden = formOf((await client.get(TOKENS)).text, path);
    const r = await client.post(path, hidden, { csrf: false });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`${TOKENS}?done=token-revoked`);
    const refused = await whoAmI(issued.token);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toBe("TOKEN_REVOKED");
    const revokedAt = (await listTokens(node.deps, "oak-street")).find((t) => t.jti === issued.jti)!.revokedAt;
    expect(revokedAt).toBeInstanceOf(Date);

    const again = await client.post(path, hidden, { csrf: false });
    expect(again.status).toBe(303);
    expect((await listTokens(node.deps, "oak-street")).find((t) => t.jti === issued.jti)!.revokedAt).toEqual(revokedAt);

    const page = await client.get(r.location!);
    expect(page.text).toContain("The token was revoked.");
    expect(page.text).toMatch(/to be revoked[\s\S]*?revoked \d{4}-\d{2}-\d{2}/);
    expect(page.text).not.toContain(`action="${path}"`);
  });

  it("cannot revoke another pod's token", async () => {
    const elm = await issueToken(node.deps, { podSlug: "elm-row", label: "elm laptop" });
    const hidden = formOf((await client.get(TOKENS)).text, ISSUE);
    const r = await client.post(`${TOKENS}/${elm.jti}/revoke`, { _csrf: hidden._csrf!, _once: "revoke-elm" }, { csrf: false });
    expect(r.status).toBe(404);
    expect(codeOn(r.text)).toBe("TOKEN_NOT_FOUND");
    expect((await whoAmI(elm.token)).status).toBe(200);
    expect((await listTokens(node.deps, "elm-row")).find((t) => t.jti === elm.jti)!.revokedAt).toBeNull();
  });
});
