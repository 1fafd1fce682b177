/**
 * `hyphae transfer …` from a terminal: the real CLI beside a real node on an embedded data
 * directory, through the node's admin socket. (Recording under a real agreement is covered
 * through the same ops in transfers-federation.test.ts; here: the commands, their output
 * and their codes.)
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
  POD_SLUG: "oak-street",
  POD_NAME: "Oak Street",
}));
const hyphae = (args: string[]): Promise<ProcessResult> => procs.hyphae(args);
const POD = ["--pod", "oak-street"];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-transfers-cli-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  await procs.node().ready;
}, 120_000);

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("hyphae transfer", () => {
  it("list prints none yet, and [] under --json", { timeout: 60_000 }, async () => {
    expect(await hyphae(["transfer", "list", ...POD])).toMatchObject({ code: 0, stdout: "No transfers.\n", stderr: "" });
    const json = await hyphae(["--json", "transfer", "list", ...POD, "--discrepancies"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it("record, show and flag name the code of what is wrong", { timeout: 60_000 }, async () => {
    const unknown = crypto.randomUUID();
    const cases: Array<[string[], string]> = [
      [["transfer", "record", unknown, ...POD], "(AGREEMENT_NOT_FOUND)"],
      [["transfer", "record", "nonsense", ...POD], "(INVALID_AGREEMENT)"],
      [["transfer", "record", unknown, ...POD, "--quantity", "-2"], "(NOT_POSITIVE)"],
      [["transfer", "record", unknown, ...POD, "--fund", "gold"], "(INVALID_FUND)"],
      [["transfer", "record", unknown, ...POD, "--at", "someday"], "(INVALID_DATE)"],
      [["transfer", "show", unknown, ...POD], "(TRANSFER_NOT_FOUND)"],
      [["transfer", "flag", unknown, ...POD, "--reason", "Short by 2 kg"], "(TRANSFER_NOT_FOUND)"],
    ];
    for (const [args, code] of cases) {
      const r = await hyphae(args);
      expect({ args, code: r.code, stderr: r.stderr.includes(code) ? code : r.stderr }).toEqual({ args, code: 1, stderr: code });
    }
    const noReason = await hyphae(["transfer", "flag", unknown, ...POD, "--reason", " "]);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/^hyphae: --reason/);
  });
});
