/**
 * Offers and needs from a terminal: the real `hyphae` CLI on an embedded data directory
 * (no node running: each command opens the directory itself). `hyphae offer add|list|
 * show|update|withdraw` and `hyphae need add --urgent|list`, human text and --json; bad
 * input exits 1 with the service's code and writes nothing.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/node.ts";
import { ProcessGroup, type ProcessResult } from "../helpers/processes.ts";

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
}));
const hyphae = (args: string[]): Promise<ProcessResult> => procs.hyphae(args);
const POD = ["--pod", "oak-street"];

async function ok(args: string[]): Promise<string> {
  const r = await hyphae(args);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return r.stdout;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-proposals-cli-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  await ok(["pod", "create", "oak-street", "--name", "Oak Street"]);
  await ok(["resource", "add", "squash", ...POD, "--name", "Squash", "--unit", "kilogram", "--category", "food"]);
}, 120_000);

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("hyphae offer and hyphae need", () => {
  it("offer add (lots, window, place), list, show, update, withdraw", { timeout: 120_000 }, async () => {
    const added = await ok([
      "offer", "add", ...POD, "--name", "squash", "--quantity", "5", "--total", "40", "--unit", "kilogram", "--resource", "squash",
      "--unit-based", "yes", "--minimum", "5", "--until", "2099-12-05", "--location", "Oak Street allotments", "--fund", "survival",
    ]);
    expect(added).toContain("Published Offer 1: squash — 40 of 40 kilogram left (lots of 5), at least 5 per claim, food, Oak Street allotments; open until 2099-12-06");
    expect(added).toContain(`${origin}/pods/oak-street/offers/1`);

    const listed = JSON.parse(await ok(["--json", "offer", "list", ...POD]));
    expect(listed).toEqual([expect.objectContaining({ number: 1, unitBased: true, quantity: "5", total: "40", remaining: "40", fund: "survival", status: "open", version: 1 })]);

    const updated = JSON.parse(await ok(["--json", "offer", "update", "1", ...POD, "--total", "45", "--description", "Butternut"]));
    expect(updated).toMatchObject({ total: "45", description: "Butternut", version: 2 });
    expect(await ok(["offer", "show", "1", ...POD])).toContain("45 of 45 kilogram left");

    expect(await ok(["offer", "withdraw", "1", ...POD])).toContain("Withdrawn: Offer 1: squash");
    expect(JSON.parse(await ok(["--json", "offer", "list", ...POD, "--status", "withdrawn"])).map((o: any) => o.number)).toEqual([1]);
  });

  it("need add --urgent comes first in need list", { timeout: 120_000 }, async () => {
    await ok(["need", "add", ...POD, "--name", "jars", "--quantity", "30", "--unit", "one", "--category", "food"]);
    const urgent = JSON.parse(await ok(["--json", "need", "add", ...POD, "--name", "drinking water", "--quantity", "200", "--unit", "litre", "--category", "water", "--urgent"]));
    expect(urgent).toMatchObject({ kind: "need", urgent: true, url: `${origin}/pods/oak-street/needs/3` });
    const lines = (await ok(["need", "list", ...POD])).trim().split("\n").filter((l) => /^Need/.test(l));
    expect(lines[0]).toMatch(/^Need 3 URGENT: drinking water — 200 of 200 litre left/);
    expect(lines[1]).toMatch(/^Need 2: jars/);
  });

  it("bad input exits 1 with the code and writes nothing", { timeout: 120_000 }, async () => {
    const zero = await hyphae(["offer", "add", ...POD, "--name", "squash", "--quantity", "0", "--resource", "squash"]);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toMatch(/^hyphae: /);
    expect(zero.stderr).toContain("NOT_POSITIVE");
    const lots = await hyphae(["offer", "add", ...POD, "--name", "squash", "--quantity", "3", "--resource", "squash", "--unit-based", "maybe"]);
    expect(lots.code).toBe(1);
    expect(lots.stderr).toContain("--unit-based");
    const closed = await hyphae(["offer", "update", "1", ...POD, "--total", "50"]);
    expect(closed.stderr).toContain("PROPOSAL_CLOSED");
    expect(JSON.parse(await ok(["--json", "offer", "list", ...POD, "--status", "all"])).length).toBe(1);
  });
});
