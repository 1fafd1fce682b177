import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseCharterInput } from "../../../src/domain/charter/model.ts";
import { TODAY, exampleInput } from "./fixtures.ts";

const docPath = fileURLToPath(new URL("../../../docs/charter-format.md", import.meta.url));

describe("the documented charter example", () => {
  it("docs/charter.example.json is valid on 2026-11-23 and needs no defaults", () => {
    const input = exampleInput();
    const parsed = parseCharterInput(input, TODAY);
    expect(parsed).toEqual(input);
    expect(parsed.services.map((s) => s.name)).toEqual(["Meal distribution", "Elder watch", "Tool library", "Homework club"]);
    expect(parsed.nextServices.map((s) => s.name)).toEqual(["Solar co-op"]);
  });

  it("is the same JSON as the example in docs/charter-format.md", () => {
    const doc = fs.readFileSync(docPath, "utf8");
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
    const full = blocks.map((b) => JSON.parse(b)).find((j) => Array.isArray(j.services) && j.services.length > 1);
    expect(full).toEqual(exampleInput());
  });
});
