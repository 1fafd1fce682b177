/**
 * The steward session cookie's attributes (Secure exactly when the node is served over HTTPS),
 * reading one cookie among several, and the coarse device names of the sessions list.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { clearSessionCookie, describeDevice, readCookie, setSessionCookie } from "../../src/http/steward/session.ts";

async function cookieFor(publicUrl: string, clear = false): Promise<string> {
  const app = Fastify();
  app.get("/", async (_request, reply) => {
    const now = new Date("2026-11-29T00:00:00Z");
    if (clear) clearSessionCookie(reply, new URL(publicUrl), "oak-street");
    else setSessionCookie(reply, new URL(publicUrl), "oak-street", "s".repeat(43), new Date(now.getTime() + 3_600_000), now);
    return "ok";
  });
  const r = await app.inject({ method: "GET", url: "/" });
  await app.close();
  return String(r.headers["set-cookie"]);
}

describe("the session cookie", () => {
  it("is HttpOnly, SameSite=Lax, scoped to the pod's steward path, and Secure behind HTTPS", async () => {
    expect(await cookieFor("https://hyphae.example")).toBe(`hyphae_steward=${"s".repeat(43)}; Path=/pods/oak-street/steward; HttpOnly; SameSite=Lax; Secure; Max-Age=3600`);
    expect(await cookieFor("http://127.0.0.1:3000")).toBe(`hyphae_steward=${"s".repeat(43)}; Path=/pods/oak-street/steward; HttpOnly; SameSite=Lax; Max-Age=3600`);
    expect(await cookieFor("https://hyphae.example", true)).toBe("hyphae_steward=; Path=/pods/oak-street/steward; HttpOnly; SameSite=Lax; Secure; Max-Age=0");
  });

  it("is read by its own name among other cookies", async () => {
    const app = Fastify();
    app.get("/", async (request) => ({ value: readCookie(request, "hyphae_steward") ?? null }));
    const read = async (cookie: string | undefined) => (await app.inject({ method: "GET", url: "/", headers: cookie ? { cookie } : {} })).json().value;
    expect(await read("a=1; hyphae_steward=abc; b=2")).toBe("abc");
    expect(await read("not_hyphae_steward=x")).toBeNull();
    expect(await read(undefined)).toBeNull();
    await app.close();
  });
});

describe("device names", () => {
  it("say the browser and the system, nothing more", () => {
    expect(describeDevice("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36")).toBe("Chrome on Android");
    expect(describeDevice("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")).toBe("Safari on iOS");
    expect(describeDevice("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")).toBe("Firefox on Linux");
    expect(describeDevice("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0")).toBe("Edge on Windows");
    expect(describeDevice(undefined)).toBe("A browser");
  });
});
