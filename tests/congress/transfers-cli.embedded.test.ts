/**
 * `hyphae transfer …` from a terminal: the real CLI beside a real node on an embedded data
 * directory, through the node's admin socket. (Recording under a real agreement is covered
 * through the same ops in transfers-federation.test.ts; here: the commands, their output
 * and their codes.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedNode } from "../helpers/processes.ts";

const node = embeddedNode("hyphae-transfers-cli-");
const hyphae = node.hyphae;
const POD = ["--pod", "oak-street"];

beforeAll(() => node.start(), 120_000);
afterAll(() => node.stop());

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
