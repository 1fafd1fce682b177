/**
 * `hyphae steward …` beside a running node on an embedded data directory (through its admin
 * socket): the operator prints a sign-in link, a browser uses it once, the steward and the
 * session are listed by number, and ending the session signs that browser out.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/node.ts";
import { ProcessGroup, type ProcessResult } from "../helpers/processes.ts";
import { StewardClient } from "../helpers/steward-web.ts";

let dataDir: string;
let port: number;
let origin: string;

const procs = new ProcessGroup(() => ({
  HOME: os.tmpdir(),
  DATA_DIR: dataDir,
  LOG_LEVEL: "error",
  HOST: "127.0.0.1",
  PORT: String(port),
  PUBLIC_URL: origin,
  POD_SLUG: "oak-street",
  POD_NAME: "Oak Street",
}));
const hyphae = (args: string[]): Promise<ProcessResult> => procs.hyphae(args);

async function ok(args: string[]): Promise<string> {
  const r = await hyphae(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-steward-cli-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  await procs.node().ready;
}, 120_000);

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("hyphae steward", () => {
  it("invite prints a one-time link; it signs one browser in, then list and sessions show Steward 1; end-session signs it out", { timeout: 90_000 }, async () => {
    expect(await ok(["steward", "list", "--pod", "oak-street"])).toBe("No stewards yet. Invite one with: npx hyphae steward invite --pod oak-street\n");
    const out = await ok(["steward", "invite", "--pod", "oak-street", "--minutes", "15"]);
    const url = out.split("\n")[0]!;
    expect(url).toMatch(new RegExp(`^${origin}/pods/oak-street/steward/sign-in\\?link=[\\w-]{43}$`));
    expect(out).toContain("works once, until");

    const browser = new StewardClient(origin, "oak-street");
    expect((await browser.useLink(url)).status).toBe(303);
    expect((await browser.get("/pods/oak-street/steward/")).status).toBe(200);
    expect((await new StewardClient(origin, "oak-street").useLink(url)).status).toBe(401);

    expect(await ok(["steward", "list", "--pod", "oak-street"])).toMatch(/^Steward 1  since \d{4}-\d{2}-\d{2}  invited by the operator\n$/);
    const sessions = JSON.parse(await ok(["--json", "steward", "sessions", "--pod", "oak-street"])) as Array<{ id: string; stewardNumber: number; device: string }>;
    expect(sessions).toEqual([expect.objectContaining({ stewardNumber: 1 })]);
    expect(await ok(["steward", "end-session", sessions[0]!.id, "--pod", "oak-street"])).toBe(`Ended session ${sessions[0]!.id}.\n`);
    expect((await browser.get("/pods/oak-street/steward/")).status).toBe(401);
    expect(await ok(["steward", "sessions", "--pod", "oak-street"])).toBe("No one is signed in.\n");
  });

  it("refuses an unknown pod and a link longer than a week, naming the problem", { timeout: 60_000 }, async () => {
    const unknown = await hyphae(["steward", "invite", "--pod", "no-such-pod"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("POD_NOT_FOUND");
    const long = await hyphae(["steward", "invite", "--pod", "oak-street", "--minutes", "20000"]);
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/minutes/);
  });
});
