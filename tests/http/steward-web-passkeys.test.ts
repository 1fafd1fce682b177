/**
 * Passkeys on the steward pages, over real HTTP against a real node, with a software
 * authenticator written here (an ES256 key, "none" attestation) standing in for the browser's:
 * adding, listing and removing one's own passkeys, signing in with one (a session like a
 * link's), and the refusals: a challenge used twice or expired, another origin, another pod's
 * passkey, a removed one, a stepped-down steward's, a counter that did not go up, missing CSRF.
 *
 * The node's PUBLIC_URL is http://localhost:PORT (listening on 127.0.0.1): WebAuthn needs a
 * domain name as the relying party ID, and browsers refuse an IP address.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPod } from "../../src/services/pods.ts";
import { finishSignIn } from "../../src/services/steward-passkeys.ts";
import { listSessions, listStewards } from "../../src/services/steward-sessions.ts";
import { freePort, startTestNode, type TestNode } from "../helpers/node.ts";
import { formOf, scriptsOf, StewardClient, type WebResponse } from "../helpers/steward-web.ts";

let node: TestNode;
let ipNode: TestNode;

beforeAll(async () => {
  const port = await freePort();
  node = await startTestNode({ podSlug: "oak-street", podName: "Oak Street", env: { PORT: String(port), PUBLIC_URL: `http://localhost:${port}`, STEWARD_SIGN_IN_RATE_LIMIT: "0" } });
  await createPod(node.deps, { slug: "elm-row", name: "Elm Row" });
  ipNode = await startTestNode({ podSlug: "ash-lane", podName: "Ash Lane" });
});

afterAll(async () => {
  await node?.stop();
  await ipNode?.stop();
});

const b64 = (bytes: Uint8Array | Buffer) => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();

/** A passkey authenticator in software: one credential, user verification, an optional counter. */
class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  readonly privateKey: KeyObject;
  readonly publicJwk: { x: string; y: string };
  counter: number;
  userHandle: string | null = null;

  constructor(counter = 0) {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.privateKey = pair.privateKey;
    this.publicJwk = pair.publicKey.export({ format: "jwk" }) as { x: string; y: string };
    this.counter = counter;
  }

  private authData(rpId: string, flags: number, attested?: Uint8Array): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** The answer to `navigator.credentials.create` for these options, as the page's script sends it. */
  create(options: { challenge: string; rp: { id: string }; user: { id: string } }, origin: string) {
    this.userHandle = options.user.id;
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(this.publicJwk.x, "base64url")],
        [-3, Buffer.from(this.publicJwk.y, "base64url")],
      ]),
    );
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, cose]);
    // User present, user verified, attested credential data.
    const authData = this.authData(options.rp.id, 0x01 | 0x04 | 0x40, attested);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]) as never);
    const clientData = JSON.stringify({ type: "webauthn.create", challenge: options.challenge, origin, crossOrigin: false });
    return {
      id: b64(this.credentialId),
      rawId: b64(this.credentialId),
      type: "public-key",
      response: { clientDataJSON: b64(Buffer.from(clientData)), attestationObject: b64(attestationObject), transports: ["internal"] },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** The answer to `navigator.credentials.get`; the counter goes up first when it counts. */
  get(options: { challenge: string; rpId: string }, origin: string, counter?: number) {
    if (counter !== undefined) this.counter = counter;
    else if (this.counter > 0) this.counter += 1;
    const authData = this.authData(options.rpId, 0x01 | 0x04);
    const clientData = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin, crossOrigin: false }));
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientData)]), this.privateKey);
    return {
      id: b64(this.credentialId),
      rawId: b64(this.credentialId),
      type: "public-key",
      response: { clientDataJSON: b64(clientData), authenticatorData: b64(authData), signature: b64(signature), ...(this.userHandle && { userHandle: this.userHandle }) },
      clientExtensionResults: {},
    };
  }
}

/** A JSON POST as passkeys.js makes it (our origin, the page's CSRF token in a header). */
async function postJson(client: StewardClient, path: string, body: unknown, headers: Record<string, string> = {}): Promise<WebResponse & { json: any }> {
  const r = await client.request("POST", path, { body: JSON.stringify(body), headers: { "content-type": "application/json", origin: client.origin, ...headers } });
  return { ...r, json: r.text.startsWith("{") ? JSON.parse(r.text) : null };
}

/** The CSRF token of the Stewards page's passkey form. */
async function csrfOf(client: StewardClient): Promise<string> {
  return formOf((await client.get(`${client.base}/stewards`)).text, "/passkeys/register")._csrf!;
}

/** Adds a passkey for the client's steward, as the Stewards page's script does. */
async function addPasskey(client: StewardClient, authenticator: SoftAuthenticator, name: string) {
  const csrf = await csrfOf(client);
  const options = await postJson(client, `${client.base}/passkeys/register/options`, {}, { "x-csrf-token": csrf });
  expect(options.status, options.text).toBe(200);
  const response = authenticator.create(options.json, client.origin);
  return postJson(client, `${client.base}/passkeys/register`, { name, response }, { "x-csrf-token": csrf });
}

/** Asks for a sign-in challenge on a pod's sign-in page (no session). */
async function signInOptions(browser: StewardClient) {
  const r = await postJson(browser, `${browser.base}/passkeys/sign-in/options`, {});
  expect(r.status, r.text).toBe(200);
  return r.json as { challenge: string; rpId: string; allowCredentials?: unknown[]; userVerification: string };
}

async function signInWith(browser: StewardClient, authenticator: SoftAuthenticator, counter?: number) {
  const options = await signInOptions(browser);
  return postJson(browser, `${browser.base}/passkeys/sign-in`, { response: authenticator.get(options, browser.origin, counter) });
}

describe("adding a passkey", () => {
  it("the Stewards page offers it hidden behind the node's own script; the steward adds one, sees it by name, others see the count", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const page = await client.get(`${client.base}/stewards`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h2 id="passkeys">Your passkeys</h2>');
    expect(page.text).toMatch(/<form id="passkey-add" method="post" action="\/pods\/oak-street\/steward\/passkeys\/register" hidden /);
    expect(page.text).toContain('<label for="f-name">Name of the new passkey');
    expect(scriptsOf(page.text)).toEqual(['<script src="/pods/oak-street/steward/enhance.js" defer></script>', '<script src="/pods/oak-street/steward/passkeys.js" defer></script>']);
    expect(page.text.match(/<h1[\s>]/g)?.length).toBe(1);
    const js = await fetch(`${node.origin}/pods/oak-street/steward/passkeys.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toContain("navigator.credentials.create");

    const csrf = await csrfOf(client);
    const r = await postJson(client, `${client.base}/passkeys/register/options`, {}, { "x-csrf-token": csrf });
    expect(r.status).toBe(200);
    // A discoverable credential with user verification, for this node's host name.
    expect(r.json.rp).toEqual({ name: "Oak Street", id: "localhost" });
    expect(r.json.authenticatorSelection).toMatchObject({ residentKey: "required", userVerification: "required" });
    expect(r.json.user.name).toMatch(/^Steward \d+ of Oak Street$/);
    expect(r.json.excludeCredentials).toEqual([]);

    const phone = new SoftAuthenticator();
    const added = await postJson(client, `${client.base}/passkeys/register`, { name: "my phone", response: phone.create(r.json, client.origin) }, { "x-csrf-token": csrf });
    expect(added.status, added.text).toBe(200);
    expect(added.json.next).toBe("/pods/oak-street/steward/stewards?done=passkey-added#passkeys");
    const after = await client.get(`${client.base}/stewards?done=passkey-added`);
    expect(after.text).toContain("The passkey was added.");
    expect(after.text).toMatch(/<li>my phone<br><span class="muted small">added \d{4}-\d\d-\d\d, not used yet<\/span>/);
    const me = /Signed in as Steward (\d+)/.exec(after.text)![1];
    expect(after.text).toMatch(new RegExp(`<tr><td>Steward ${me} \\(you\\)</td><td>[^<]*</td><td>[^<]*</td><td>1</td>`));

    // Another steward sees the count, not the name, and has none of their own.
    const other = await StewardClient.signIn(node, "oak-street");
    const theirs = await other.get(`${other.base}/stewards`);
    expect(theirs.text).toMatch(new RegExp(`<tr><td>Steward ${me}</td><td>[^<]*</td><td>[^<]*</td><td>1</td>`));
    expect(theirs.text).not.toContain("<li>my phone");
    expect(theirs.text).toContain("You have no passkey for Oak Street.");

    // The same authenticator again: the options exclude it, and a second registration is refused.
    const again = await postJson(client, `${client.base}/passkeys/register/options`, {}, { "x-csrf-token": csrf });
    expect(again.json.excludeCredentials).toEqual([{ id: b64(phone.credentialId), type: "public-key", transports: ["internal"] }]);
    const twice = await postJson(client, `${client.base}/passkeys/register`, { name: "again", response: phone.create(again.json, client.origin) }, { "x-csrf-token": csrf });
    expect(twice.status).toBe(400);
    expect(twice.json.error).toBe("PASSKEY_EXISTS");
  });

  it("needs the session's CSRF token in the header and our origin; a name is required and plain", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const csrf = await csrfOf(client);
    const missing = await postJson(client, `${client.base}/passkeys/register/options`, {});
    expect([missing.status, missing.json.error]).toEqual([403, "CSRF_MISSING"]);
    const wrong = await postJson(client, `${client.base}/passkeys/register/options`, {}, { "x-csrf-token": "x".repeat(43) });
    expect([wrong.status, wrong.json.error]).toEqual([403, "CSRF_INVALID"]);
    const elsewhere = await postJson(client, `${client.base}/passkeys/register/options`, {}, { "x-csrf-token": csrf, origin: "https://evil.example" });
    expect([elsewhere.status, elsewhere.json.error]).toEqual([403, "CSRF_ORIGIN"]);
    const signedOut = await postJson(new StewardClient(node.origin, "oak-street"), "/pods/oak-street/steward/passkeys/register/options", {}, { "x-csrf-token": csrf });
    expect(signedOut.status).toBe(401);

    const key = new SoftAuthenticator();
    for (const [name, code] of [
      ["", "PASSKEY_NAME_REQUIRED"],
      ["x".repeat(61), "PASSKEY_NAME_TOO_LONG"],
      ["<b>phone</b>", "MARKUP_NOT_ALLOWED"],
    ] as const) {
      const r = await addPasskey(client, key, name);
      expect([r.status, r.json.error, r.json.field]).toEqual([400, code, "name"]);
    }
    const garbage = await postJson(client, `${client.base}/passkeys/register`, { name: "x", response: { id: "nope" } }, { "x-csrf-token": csrf });
    expect([garbage.status, garbage.json.error]).toEqual([400, "PASSKEY_RESPONSE_INVALID"]);
  });

  it("a registration challenge is used once, only by the session that asked, and from our origin", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const csrf = await csrfOf(client);
    const options = (await postJson(client, `${client.base}/passkeys/register/options`, {}, { "x-csrf-token": csrf })).json;

    // Another session of the same pod cannot answer this session's challenge.
    const other = await StewardClient.signIn(node, "oak-street");
    const stolen = await postJson(other, `${other.base}/passkeys/register`, { name: "x", response: new SoftAuthenticator().create(options, other.origin) }, { "x-csrf-token": await csrfOf(other) });
    expect([stolen.status, stolen.json.error]).toEqual([400, "PASSKEY_CHALLENGE_INVALID"]);

    // An answer made for another origin (a look-alike site relaying our challenge) is refused, and uses the challenge up.
    const relayed = await postJson(client, `${client.base}/passkeys/register`, { name: "x", response: new SoftAuthenticator().create(options, "https://oak-street.example") }, { "x-csrf-token": csrf });
    expect([relayed.status, relayed.json.error]).toEqual([400, "PASSKEY_NOT_VERIFIED"]);
    const honest = await postJson(client, `${client.base}/passkeys/register`, { name: "x", response: new SoftAuthenticator().create(options, client.origin) }, { "x-csrf-token": csrf });
    expect([honest.status, honest.json.error]).toEqual([400, "PASSKEY_CHALLENGE_INVALID"]);
  });
});

describe("signing in with a passkey", () => {
  it("the sign-in page offers it hidden; a passkey opens a session like a link's, for the same steward", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const key = new SoftAuthenticator();
    expect((await addPasskey(client, key, "laptop")).status).toBe(200);
    const me = Number(/Signed in as Steward (\d+)/.exec((await client.get(`${client.base}/`)).text)![1]);

    const browser = new StewardClient(node.origin, "oak-street");
    const page = await browser.get("/pods/oak-street/steward/sign-in");
    expect(page.text).toMatch(/<section id="passkey-sign-in" hidden [^>]*data-options="\/pods\/oak-street\/steward\/passkeys\/sign-in\/options"/);
    expect(page.text).toContain("<button type=\"button\">Sign in with a passkey</button>");
    expect(scriptsOf(page.text)).toEqual(['<script src="/pods/oak-street/steward/passkeys.js" defer></script>']);
    // No passkey section on a link's own page.
    expect((await browser.get("/pods/oak-street/steward/sign-in?link=abc")).text).not.toContain("passkey-sign-in");

    const options = await signInOptions(browser);
    expect(options).toMatchObject({ rpId: "localhost", userVerification: "required" });
    expect(options.allowCredentials ?? []).toEqual([]);
    const r = await postJson(browser, `${browser.base}/passkeys/sign-in`, { response: key.get(options, browser.origin) });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toEqual({ signedIn: { stewardNumber: me }, next: "/pods/oak-street/steward/?done=signed-in" });
    expect(r.headers.get("set-cookie")).toMatch(/^hyphae_steward=[\w-]{43}; Path=\/pods\/oak-street\/steward; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    const stewards = await browser.get("/pods/oak-street/steward/stewards");
    expect(stewards.status).toBe(200);
    expect(stewards.text).toContain(`Signed in as Steward ${me}`);
    expect(stewards.text).toMatch(/<li>laptop<br><span class="muted small">added [\d-]+, last used [\d-]+ [\d:]+ UTC<\/span>/);
    const sessions = (await listSessions(node.deps, "oak-street")).filter((s) => s.stewardNumber === me);
    expect(sessions).toHaveLength(2);

    // The same answer again (a replay): its challenge is spent.
    const replay = await postJson(new StewardClient(node.origin, "oak-street"), `${browser.base}/passkeys/sign-in`, { response: key.get(options, browser.origin) });
    expect([replay.status, replay.json.error]).toEqual([401, "PASSKEY_CHALLENGE_INVALID"]);
    expect(replay.headers.get("set-cookie")).toBeNull();
  });

  it("refuses an expired challenge, another origin, and a challenge given for another pod", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const key = new SoftAuthenticator();
    expect((await addPasskey(client, key, "tablet")).status).toBe(200);
    const browser = new StewardClient(node.origin, "oak-street");

    // Five minutes is the challenge's life: a minute later than that, it is gone.
    const options = await signInOptions(browser);
    const later = { ...node.deps, clock: { now: () => new Date(Date.now() + 6 * 60_000) } };
    await expect(finishSignIn(later, { podSlug: "oak-street", response: key.get(options, browser.origin) })).rejects.toMatchObject({ code: "PASSKEY_CHALLENGE_INVALID" });

    // The request from another website, and an answer signed for another origin.
    const cross = await postJson(browser, `${browser.base}/passkeys/sign-in/options`, {}, { origin: "https://evil.example" });
    expect([cross.status, cross.json.error]).toEqual([403, "CSRF_ORIGIN"]);
    const crossSite = await postJson(browser, `${browser.base}/passkeys/sign-in`, { response: key.get(await signInOptions(browser), browser.origin) }, { origin: "https://evil.example" });
    expect([crossSite.status, crossSite.json.error]).toEqual([403, "CSRF_ORIGIN"]);
    const phished = await postJson(browser, `${browser.base}/passkeys/sign-in`, { response: key.get(await signInOptions(browser), "https://oak-street.example") });
    expect([phished.status, phished.json.error]).toEqual([401, "PASSKEY_NOT_VERIFIED"]);

    // Elm Row's challenge answered at Oak Street's sign-in.
    const elm = new StewardClient(node.origin, "elm-row");
    const elmOptions = await signInOptions(elm);
    const swapped = await postJson(browser, `${browser.base}/passkeys/sign-in`, { response: key.get(elmOptions, browser.origin) });
    expect([swapped.status, swapped.json.error]).toEqual([401, "PASSKEY_CHALLENGE_INVALID"]);

    // After all that, the passkey still signs in.
    expect((await signInWith(browser, key)).status).toBe(200);
  });

  it("another pod's steward's passkey does not sign in here", async () => {
    const elmSteward = await StewardClient.signIn(node, "elm-row");
    const key = new SoftAuthenticator();
    expect((await addPasskey(elmSteward, key, "phone")).status).toBe(200);
    const r = await signInWith(new StewardClient(node.origin, "oak-street"), key);
    expect([r.status, r.json.error]).toEqual([403, "PASSKEY_OTHER_POD"]);
    expect(r.headers.get("set-cookie")).toBeNull();
    expect((await signInWith(new StewardClient(node.origin, "elm-row"), key)).status).toBe(200);
  });

  it("a removed passkey, or one of a steward who stepped down, signs nobody in; only its owner can remove it", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const first = new SoftAuthenticator();
    const second = new SoftAuthenticator();
    expect((await addPasskey(client, first, "first")).status).toBe(200);
    expect((await addPasskey(client, second, "second")).status).toBe(200);
    const page = (await client.get(`${client.base}/stewards`)).text;
    const removeFirst = /action="(\/pods\/oak-street\/steward\/stewards\/passkeys\/[0-9a-f-]{36}\/remove)"[^]*?Remove the passkey “first”/.exec(page)![1]!;

    // Another steward posting the remove form for it changes nothing.
    const other = await StewardClient.signIn(node, "oak-street");
    const refused = await other.post(removeFirst, { _csrf: formOf((await other.get(`${other.base}/stewards`)).text, "/stewards/device-link")._csrf!, _once: randomUUID() }, { csrf: false });
    expect(refused.status).toBe(404);
    expect(refused.text).toContain("PASSKEY_NOT_FOUND");
    expect((await signInWith(new StewardClient(node.origin, "oak-street"), first)).status).toBe(200);

    const removed = await client.post(removeFirst, {}, { from: `${client.base}/stewards` });
    expect(removed.status).toBe(303);
    expect(removed.location).toBe("/pods/oak-street/steward/stewards?done=passkey-removed#passkeys");
    const after = (await client.get(`${client.base}/stewards?done=passkey-removed`)).text;
    expect(after).toContain("The passkey was removed");
    expect(after).not.toContain("Remove the passkey “first”");
    const gone = await signInWith(new StewardClient(node.origin, "oak-street"), first);
    expect([gone.status, gone.json.error]).toEqual([401, "PASSKEY_UNKNOWN"]);

    // Ending the stewardship removes the rest of that steward's passkeys.
    const number = Number(/Signed in as Steward (\d+)/.exec(after)![1]);
    const ended = await other.post(`${other.base}/stewards/${number}/end`, {}, { from: `${other.base}/stewards` });
    expect(ended.status).toBe(303);
    const steward = (await listStewards(node.deps, "oak-street")).find((s) => s.number === number)!;
    expect(steward.endedAt).not.toBeNull();
    expect((await other.get(`${other.base}/stewards`)).text).toMatch(new RegExp(`<tr><td>Steward ${number}</td><td>[^<]*</td><td>[^<]*</td><td>0</td>`));
    const stepped = await signInWith(new StewardClient(node.origin, "oak-street"), second);
    expect([stepped.status, stepped.json.error]).toEqual([401, "PASSKEY_UNKNOWN"]);
  });

  it("a counting authenticator must count up; one that keeps no counter (0) may sign in again", async () => {
    const client = await StewardClient.signIn(node, "oak-street");
    const counting = new SoftAuthenticator(1);
    expect((await addPasskey(client, counting, "key")).status).toBe(200);
    const browser = new StewardClient(node.origin, "oak-street");
    expect((await signInWith(browser, counting, 5)).status).toBe(200);
    for (const stale of [5, 3]) {
      const r = await signInWith(new StewardClient(node.origin, "oak-street"), counting, stale);
      expect([r.status, r.json.error]).toEqual([403, "PASSKEY_COUNTER"]);
    }
    expect((await signInWith(new StewardClient(node.origin, "oak-street"), counting, 6)).status).toBe(200);

    const none = new SoftAuthenticator(0);
    expect((await addPasskey(client, none, "no counter")).status).toBe(200);
    expect((await signInWith(new StewardClient(node.origin, "oak-street"), none)).status).toBe(200);
    expect((await signInWith(new StewardClient(node.origin, "oak-street"), none)).status).toBe(200);
  });
});

describe("a node reached by an IP address", () => {
  it("offers no passkeys (browsers refuse an IP as the relying party) and its endpoints say why", async () => {
    const client = await StewardClient.signIn(ipNode, "ash-lane");
    const page = await client.get(`${client.base}/stewards`);
    expect(page.text).toContain("passkeys cannot be used here");
    expect(page.text).not.toContain("passkey-add");
    expect(scriptsOf(page.text)).toEqual(['<script src="/pods/ash-lane/steward/enhance.js" defer></script>']);
    const signIn = await new StewardClient(ipNode.origin, "ash-lane").get("/pods/ash-lane/steward/sign-in");
    expect(signIn.text).not.toContain("passkey");
    expect(scriptsOf(signIn.text)).toEqual([]);
    const r = await postJson(new StewardClient(ipNode.origin, "ash-lane"), "/pods/ash-lane/steward/passkeys/sign-in/options", {});
    expect([r.status, r.json.error]).toEqual([403, "PASSKEYS_UNAVAILABLE"]);
  });
});
