/**
 * `hyphae claim …` and `hyphae claims list|show|accept|reject|rules` from a terminal: the
 * real CLI beside a real node on an embedded data directory, through the node's admin
 * socket. (Claims between real pods run through the same ops in claims-federation.test.ts
 * and claims-wire.test.ts; here: the commands, their output, --json and their codes.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddedNode } from "../helpers/processes.ts";

const node = embeddedNode("hyphae-claims-cli-");
const hyphae = node.hyphae;
const POD = ["--pod", "oak-street"];

beforeAll(() => node.start(), 120_000);
afterAll(() => node.stop());

describe("hyphae claims", () => {
  it("list prints none yet, and [] under --json", { timeout: 60_000 }, async () => {
    expect(await hyphae(["claims", "list", ...POD])).toMatchObject({ code: 0, stdout: "No claims.\n", stderr: "" });
    const json = await hyphae(["--json", "claims", "list", ...POD, "--incoming", "--status", "pending"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it("rules show the defaults, change, and print as JSON", { timeout: 60_000 }, async () => {
    const shown = await hyphae(["claims", "rules", ...POD]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("Neighbours' claims accepted automatically: never (stewards decide)");
    expect(shown.stdout).toContain("Claims from pods that are not neighbours: rejected");
    const changed = await hyphae(["--json", "claims", "rules", ...POD, "--auto-accept-up-to", "20", "--strangers", "review", "--stranger-reason", "Neighbours first"]);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toEqual({ autoAcceptUpTo: "20", strangers: "review", strangerReason: "Neighbours first" });
    const text = await hyphae(["claims", "rules", ...POD]);
    expect(text.stdout).toBe("Neighbours' claims accepted automatically: up to 20\nClaims from pods that are not neighbours: left to the stewards\n");
    const none = await hyphae(["--json", "claims", "rules", ...POD, "--auto-accept-up-to", "none", "--strangers", "reject"]);
    expect(JSON.parse(none.stdout)).toEqual({ autoAcceptUpTo: null, strangers: "reject", strangerReason: "Neighbours first" });
  });

  it("each command names the code of what is wrong", { timeout: 60_000 }, async () => {
    const unknown = crypto.randomUUID();
    const cases: Array<[string[], string]> = [
      [["claim", "https://elsewhere.example/pods/x/offers/1", ...POD, "--quantity", "5"], "(PROPOSAL_NOT_KNOWN)"],
      [["claims", "show", unknown, ...POD], "(CLAIM_NOT_FOUND)"],
      [["claims", "accept", unknown, ...POD], "(CLAIM_NOT_FOUND)"],
      [["claims", "reject", unknown, ...POD, "--reason", "No"], "(CLAIM_NOT_FOUND)"],
      [["claims", "reject", unknown, ...POD, "--reason", "<b>No</b>"], "(INVALID_TEXT)"],
      [["claims", "rules", ...POD, "--strangers", "maybe"], "(INVALID_FIELD)"],
      [["claims", "rules", ...POD, "--auto-accept-up-to", "lots"], "(INVALID_DECIMAL)"],
      [["claims", "list", "--pod", "nowhere"], "(POD_NOT_FOUND)"],
    ];
    for (const [args, code] of cases) {
      const r = await hyphae(args);
      expect({ args, code: r.code, stderr: r.stderr.includes(code) ? code : r.stderr }).toEqual({ args, code: 1, stderr: code });
    }
    const both = await hyphae(["claims", "list", ...POD, "--incoming", "--outgoing"]);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/--incoming or --outgoing/);
    const status = await hyphae(["claims", "list", ...POD, "--status", "maybe"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(/--status/);
  });
});
