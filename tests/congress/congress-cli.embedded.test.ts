/**
 * The congress from a terminal: the real `hyphae` CLI on an embedded data directory (no
 * node running: each command opens the directory itself). `hyphae congress show` prints
 * the pod's urgent needs, matches and totals (text and --json: the page's JSON);
 * `hyphae congress neighbours` lists none for a pod nobody follows back; an unknown pod
 * exits 1 with POD_NOT_FOUND.
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
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-congress-cli-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  await ok(["pod", "create", "oak-street", "--name", "Oak Street"]);
  await ok(["need", "add", ...POD, "--name", "Blankets", "--quantity", "40", "--unit", "one", "--category", "housing", "--urgent"]);
}, 120_000);

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("hyphae congress", () => {
  it("show: neighbours, urgent needs, matches, totals; --json is the view", { timeout: 120_000 }, async () => {
    const text = await ok(["congress", "show", ...POD]);
    expect(text).toContain("Congress of Oak Street");
    expect(text).toContain("Neighbours: none yet");
    expect(text).toContain("URGENT Need Blankets — 40 one, housing (ours)");
    expect(text).toContain("Neighbours' offers for our needs: none");
    expect(text).toContain("this lunar cycle");
    expect(text).toContain("Gaps (needs no charter covers): housing (Blankets)");
    const json = JSON.parse(await ok(["congress", "show", ...POD, "--json"]));
    expect(json.pod.slug).toBe("oak-street");
    expect(json.pod.neighbours).toBe(`${origin}/pods/oak-street/neighbours`);
    expect(json.urgentNeeds.map((p: any) => p.name)).toEqual(["Blankets"]);
    expect(json.ours.offers).toEqual([]);
    expect(json.totals.withoutSummary).toHaveLength(1);
  });

  it("neighbours: none; an unknown pod exits 1 with its code", { timeout: 120_000 }, async () => {
    expect((await ok(["congress", "neighbours", ...POD])).trim()).toBe("No neighbours yet.");
    const missing = await hyphae(["congress", "show", "--pod", "no-such-pod"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("POD_NOT_FOUND");
  });
});
