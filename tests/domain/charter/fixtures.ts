/** Shared charter inputs for the charter domain tests. */
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export const TODAY = "2026-11-23";

export const exampleJsonPath = fileURLToPath(new URL("../../../docs/charter.example.json", import.meta.url));

/** The documented example (docs/charter.example.json), parsed fresh on each call. */
export function exampleInput(): any {
  return JSON.parse(fs.readFileSync(exampleJsonPath, "utf8"));
}

/** The smallest valid input: a title and one service. */
export function minimalInput(): any {
  return {
    title: "Elm Row charter",
    services: [{ name: "Soup kitchen", description: "Soup on Sundays.", category: "food", since: "2026-01-04" }],
  };
}
