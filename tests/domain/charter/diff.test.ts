import { describe, expect, it } from "vitest";
import { diffCharters, diffToText } from "../../../src/domain/charter/diff.ts";
import { parseCharterInput, type CharterContent } from "../../../src/domain/charter/model.ts";
import { TODAY, exampleInput } from "./fixtures.ts";

function base(): CharterContent {
  const { changeNote: _note, ...content } = parseCharterInput(exampleInput(), TODAY);
  return content;
}

describe("diffCharters", () => {
  it("finds nothing between a charter and itself, or a reordering of its services", () => {
    const a = base();
    const diff = diffCharters(a, base());
    expect(diff).toEqual({ fields: [], services: [], nextServices: [], unchanged: true });
    expect(diffToText(diff)).toEqual([]);
    const reordered = { ...a, services: [...a.services].reverse() };
    expect(diffCharters(a, reordered).unchanged).toBe(true);
  });

  it("reports added, removed and changed services, matched by name ignoring case", () => {
    const before = base();
    const after = base();
    after.services = [
      { ...after.services[0]!, figure: "150 meals a week", description: "Now on Saturdays too." }, // changed
      { ...after.services[1]! }, // unchanged
      // Tool library removed; Homework club renamed by case only
      { ...after.services[3]!, name: "Homework Club" },
      { name: "Laundry", description: "Two machines.", category: "care", since: "2026-11-01", figure: null }, // added
    ];
    const diff = diffCharters(before, after);
    expect(diff.unchanged).toBe(false);
    expect(diff.fields).toEqual([]);
    expect(diff.nextServices).toEqual([]);
    expect(diff.services).toEqual([
      { name: "Meal distribution", before: before.services[0], after: after.services[0], fields: ["description", "figure"] },
      { name: "Homework Club", before: before.services[3], after: after.services[2], fields: ["name"] },
      { name: "Laundry", before: null, after: after.services[3], fields: [] },
      { name: "Tool library", before: before.services[2], after: null, fields: [] },
    ]);
    expect(diffToText(diff)).toEqual([
      "~ Meal distribution: description, figure",
      "~ Homework Club: name",
      "+ service Laundry",
      "- service Tool library",
    ]);
  });

  it("reports every service field that changes", () => {
    const before = base();
    const after = base();
    after.services[2] = { name: "Tool library", description: "Bigger.", category: "other", since: "2026-02-01", figure: null };
    const change = diffCharters(before, after).services;
    expect(change).toHaveLength(1);
    expect(change[0]!.fields).toEqual(["description", "category", "since", "figure"]);
  });

  it("reports added, removed and changed next services", () => {
    const before = base();
    const after = base();
    after.nextServices = [
      { ...after.nextServices[0]!, targetDate: "2027-06-01" },
      { name: "Repair café", why: "People keep asking.", targetDate: "2027-02-01" },
    ];
    let diff = diffCharters(before, after);
    expect(diff.services).toEqual([]);
    expect(diff.nextServices).toEqual([
      { name: "Solar co-op", before: before.nextServices[0], after: after.nextServices[0], fields: ["targetDate"] },
      { name: "Repair café", before: null, after: after.nextServices[1], fields: [] },
    ]);
    expect(diffToText(diff)).toEqual(["~ next: Solar co-op: targetDate", "+ next: Repair café"]);

    diff = diffCharters(after, { ...after, nextServices: [after.nextServices[1]!] });
    expect(diffToText(diff)).toEqual(["- next: Solar co-op"]);
  });

  it("reports field changes with before and after", () => {
    const before = base();
    const after: CharterContent = {
      ...base(),
      title: "Oak Street Charter",
      preamble: "Shorter.",
      assemblyRhythm: null,
      meetingPlace: "Northfield",
      licence: { name: "CC0 1.0", url: null },
    };
    const diff = diffCharters(before, after);
    expect(diff.fields).toEqual([
      { field: "title", before: "Oak Street People's Service Charter", after: "Oak Street Charter" },
      { field: "preamble", before: before.preamble, after: "Shorter." },
      { field: "assemblyRhythm", before: "Thursdays 19:00, every other week", after: null },
      { field: "meetingPlace", before: "Oak Street parish hall, Northfield", after: "Northfield" },
      { field: "licence", before: "CC BY-SA 4.0 <https://creativecommons.org/licenses/by-sa/4.0/>", after: "CC0 1.0" },
    ]);
    expect(diffToText(diff)).toEqual([
      '~ title: "Oak Street People\'s Service Charter" → "Oak Street Charter"',
      "~ preamble",
      '- assembly rhythm: "Thursdays 19:00, every other week"',
      '~ meeting place: "Oak Street parish hall, Northfield" → "Northfield"',
      '~ licence: "CC BY-SA 4.0 <https://creativecommons.org/licenses/by-sa/4.0/>" → "CC0 1.0"',
    ]);
    // Setting a field that was empty reads as an addition.
    expect(diffToText(diffCharters(after, { ...after, assemblyRhythm: "Mondays" }))).toEqual(['+ assembly rhythm: "Mondays"']);
  });

  it("shortens long values in text lines", () => {
    const before = base();
    const lines = diffToText(diffCharters(before, { ...before, title: "x".repeat(200) }));
    expect(lines[0]!.length).toBeLessThan(140);
    expect(lines[0]).toContain("…");
  });
});
