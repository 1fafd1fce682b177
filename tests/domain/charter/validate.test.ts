import { describe, expect, it } from "vitest";
import { DomainError } from "../../../src/domain/errors.ts";
import {
  CHARTER_LIMITS,
  DEFAULT_LICENCE,
  SERVICE_CATEGORIES,
  parseCharterInput,
  type CharterRevisionInput,
} from "../../../src/domain/charter/model.ts";
import { TODAY, exampleInput, minimalInput } from "./fixtures.ts";

/** Runs the parser on bad input and returns the DomainError it must throw. */
function refuse(input: unknown, today = TODAY): DomainError {
  try {
    parseCharterInput(input, today);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    const err = e as DomainError;
    expect(err.kind).toBe("invalid");
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(Array.isArray(err.details?.issues)).toBe(true);
    return err;
  }
  throw new Error(`expected ${JSON.stringify(input).slice(0, 200)} to be refused`);
}

const issuesOf = (err: DomainError) => err.details!.issues as { field: string; message: string }[];

/** Builds an input by applying `change` to the minimal one. */
function withChange(change: (input: any) => void): any {
  const input = minimalInput();
  change(input);
  return input;
}

describe("parseCharterInput: valid input", () => {
  it("applies every default to the smallest valid charter", () => {
    const parsed = parseCharterInput(minimalInput(), TODAY);
    expect(parsed).toEqual<CharterRevisionInput>({
      title: "Elm Row charter",
      preamble: "",
      services: [{ name: "Soup kitchen", description: "Soup on Sundays.", category: "food", since: "2026-01-04", figure: null }],
      nextServices: [],
      assemblyRhythm: null,
      meetingPlace: null,
      licence: { name: "CC BY-SA 4.0", url: "https://creativecommons.org/licenses/by-sa/4.0/" },
      changeNote: "",
    });
    expect(parsed.licence).toEqual(DEFAULT_LICENCE);
    // A copy: changing one parsed charter's licence cannot change the default.
    expect(parsed.licence).not.toBe(DEFAULT_LICENCE);
  });

  it("round-trips a full charter unchanged, and parsing its output again gives the same", () => {
    const input = exampleInput();
    const parsed = parseCharterInput(input, TODAY);
    expect(parsed).toEqual(input);
    expect(parseCharterInput(JSON.parse(JSON.stringify(parsed)), TODAY)).toEqual(parsed);
  });

  it("trims strings and reads empty optional text as null", () => {
    const parsed = parseCharterInput(
      {
        title: "  Elm Row  ",
        preamble: "\n Hello \n",
        services: [{ name: " Soup ", description: " hot ", category: "food", since: " 2026-01-04 ", figure: "   " }],
        nextServices: [{ name: " Bikes ", why: " fix them ", targetDate: TODAY }],
        assemblyRhythm: "  ",
        meetingPlace: null,
        licence: { name: " CC0 ", url: "" },
        changeNote: " first ",
      },
      TODAY,
    );
    expect(parsed).toEqual({
      title: "Elm Row",
      preamble: "Hello",
      services: [{ name: "Soup", description: "hot", category: "food", since: "2026-01-04", figure: null }],
      nextServices: [{ name: "Bikes", why: "fix them", targetDate: TODAY }],
      assemblyRhythm: null,
      meetingPlace: null,
      licence: { name: "CC0", url: null },
      changeNote: "first",
    });
  });

  it("accepts a charter whose only service is a next one, and a null licence as the default", () => {
    const parsed = parseCharterInput(
      { title: "New pod", nextServices: [{ name: "Food bank", why: "", targetDate: "2027-01-01" }], licence: null },
      TODAY,
    );
    expect(parsed.services).toEqual([]);
    expect(parsed.nextServices).toHaveLength(1);
    expect(parsed.licence).toEqual(DEFAULT_LICENCE);
  });

  it("accepts every documented category", () => {
    const input = withChange((c) => {
      c.services = SERVICE_CATEGORIES.map((category, i) => ({ name: `S${i}`, description: "", category, since: "2026-01-01" }));
    });
    expect(parseCharterInput(input, TODAY).services.map((s) => s.category)).toEqual([...SERVICE_CATEGORIES]);
  });

  it("accepts fields at exactly their limit and exactly 100 services", () => {
    const input = withChange((c) => {
      c.title = "t".repeat(CHARTER_LIMITS.title);
      c.preamble = "p".repeat(CHARTER_LIMITS.preamble);
      c.services = Array.from({ length: CHARTER_LIMITS.services }, (_, i) => ({
        name: `Service ${i}`,
        description: "d".repeat(CHARTER_LIMITS.serviceDescription),
        category: "other",
        since: "2026-01-01",
        figure: "f".repeat(CHARTER_LIMITS.figure),
      }));
    });
    const parsed = parseCharterInput(input, TODAY);
    expect(parsed.services).toHaveLength(100);
    expect(parsed.title).toHaveLength(CHARTER_LIMITS.title);
  });

  it("accepts a next service due today, and real leap days", () => {
    const input = withChange((c) => {
      c.services[0].since = "2024-02-29";
      c.nextServices = [
        { name: "A", why: "", targetDate: TODAY },
        { name: "B", why: "", targetDate: "2028-02-29" },
        { name: "C", why: "", targetDate: "2400-02-29" },
      ];
    });
    expect(parseCharterInput(input, TODAY).nextServices).toHaveLength(3);
  });

  it("refuses to run with a malformed today (a programming error, not bad input)", () => {
    expect(() => parseCharterInput(minimalInput(), "23/11/2026")).toThrow(TypeError);
  });
});

describe("parseCharterInput: every rule names the field", () => {
  it("refuses an empty or blank title, and a missing one", () => {
    for (const title of ["", "   \n\t"]) {
      const err = refuse(withChange((c) => (c.title = title)));
      expect(err.message).toBe("title: must not be empty");
    }
    expect(refuse(withChange((c) => delete c.title)).message).toBe("title: is required");
  });

  it("refuses a charter with no services at all", () => {
    for (const input of [
      withChange((c) => (c.services = [])),
      withChange((c) => {
        c.services = [];
        c.nextServices = [];
      }),
      { title: "Nothing yet" },
    ]) {
      const err = refuse(input);
      expect(err.message).toMatch(/^services: the charter needs at least one service/);
    }
  });

  it("refuses a next service whose target date is in the past", () => {
    const err = refuse(withChange((c) => (c.nextServices = [{ name: "Solar co-op", why: "", targetDate: "2026-11-22" }])));
    expect(err.message).toMatch(/^nextServices\.0\.targetDate: must not be in the past/);
    expect(err.message).toContain("2026-11-22");
    // The same date is fine when the clock says it is still that day.
    expect(() =>
      parseCharterInput(withChange((c) => (c.nextServices = [{ name: "Solar co-op", why: "", targetDate: "2026-11-22" }])), "2026-11-22"),
    ).not.toThrow();
  });

  const overLong: [string, (c: any, text: string) => void, number][] = [
    ["title", (c, t) => (c.title = t), CHARTER_LIMITS.title],
    ["preamble", (c, t) => (c.preamble = t), CHARTER_LIMITS.preamble],
    ["services.0.name", (c, t) => (c.services[0].name = t), CHARTER_LIMITS.serviceName],
    ["services.0.description", (c, t) => (c.services[0].description = t), CHARTER_LIMITS.serviceDescription],
    ["services.0.figure", (c, t) => (c.services[0].figure = t), CHARTER_LIMITS.figure],
    ["nextServices.0.name", (c, t) => (c.nextServices = [{ name: t, why: "", targetDate: TODAY }]), CHARTER_LIMITS.serviceName],
    ["nextServices.0.why", (c, t) => (c.nextServices = [{ name: "n", why: t, targetDate: TODAY }]), CHARTER_LIMITS.why],
    ["assemblyRhythm", (c, t) => (c.assemblyRhythm = t), CHARTER_LIMITS.assemblyRhythm],
    ["meetingPlace", (c, t) => (c.meetingPlace = t), CHARTER_LIMITS.meetingPlace],
    ["changeNote", (c, t) => (c.changeNote = t), CHARTER_LIMITS.changeNote],
    ["licence.name", (c, t) => (c.licence = { name: t, url: null }), CHARTER_LIMITS.licenceName],
    [
      "licence.url",
      (c, t) => (c.licence = { name: "CC0", url: `https://example.org/${t.slice(20)}` }),
      CHARTER_LIMITS.url,
    ],
  ];
  it.each(overLong)("refuses an over-long %s, naming the field and the limit", (field, set, limit) => {
    const err = refuse(withChange((c) => set(c, "x".repeat(limit + 1))));
    expect(err.message).toBe(`${field}: must be at most ${limit} characters (got ${limit + 1})`);
    expect(issuesOf(err)[0]!.field).toBe(field);
  });

  it("counts length after trimming", () => {
    expect(parseCharterInput(withChange((c) => (c.title = ` ${"t".repeat(CHARTER_LIMITS.title)} `)), TODAY).title).toHaveLength(200);
  });

  it("refuses more than 100 services, and more than 100 next services", () => {
    const service = (i: number) => ({ name: `S${i}`, description: "", category: "care", since: "2026-01-01" });
    const err = refuse(withChange((c) => (c.services = Array.from({ length: 101 }, (_, i) => service(i)))));
    expect(err.message).toBe("services: at most 100 services are allowed (got 101)");
    const next = (i: number) => ({ name: `N${i}`, why: "", targetDate: "2027-01-01" });
    const err2 = refuse(withChange((c) => (c.nextServices = Array.from({ length: 101 }, (_, i) => next(i)))));
    expect(err2.message).toBe("nextServices: at most 100 next services are allowed (got 101)");
  });

  it("refuses an unknown category, listing the allowed ones", () => {
    const err = refuse(withChange((c) => (c.services[0].category = "Food")));
    expect(err.message).toBe(
      'services.0.category: must be one of food, energy, care, health, housing, education, safety, repair, transport, other (got "Food")',
    );
    expect(refuse(withChange((c) => delete c.services[0].category)).message).toMatch(/^services\.0\.category: /);
  });

  it.each([
    ["2026-02-30"],
    ["2027-02-29"],
    ["2100-02-29"],
    ["2026-13-01"],
    ["2026-04-31"],
    ["2026-00-10"],
    ["2026-01-00"],
    ["2026-1-5"],
    ["26-01-05"],
    ["2026-01-05T00:00:00Z"],
    ["yesterday"],
  ])("refuses the impossible or malformed date %s in since and targetDate", (date) => {
    const since = refuse(withChange((c) => (c.services[0].since = date)));
    expect(since.message).toMatch(/^services\.0\.since: must be a real calendar date written YYYY-MM-DD/);
    const target = refuse(withChange((c) => (c.nextServices = [{ name: "n", why: "", targetDate: date }])));
    expect(target.message).toMatch(/^nextServices\.0\.targetDate: must be a real calendar date written YYYY-MM-DD/);
  });

  it.each([["javascript:alert(1)"], ["data:text/html,<b>x</b>"], ["ftp://example.org/licence"], ["vbscript:msgbox(1)"], ["creativecommons.org/licenses/by/4.0"], ["https://"]])(
    "refuses the licence URL %s",
    (url) => {
      const err = refuse(withChange((c) => (c.licence = { name: "CC BY 4.0", url })));
      expect(err.message).toBe("licence.url: must be an http(s) URL (e.g. https://example.org/)");
    },
  );

  it("refuses a licence without a name", () => {
    expect(refuse(withChange((c) => (c.licence = { url: null }))).message).toBe("licence.name: is required");
    expect(refuse(withChange((c) => (c.licence = { name: " ", url: null }))).message).toBe("licence.name: must not be empty");
  });

  it("refuses unknown keys anywhere, naming them, so typos surface", () => {
    expect(refuse(withChange((c) => (c.nextService = []))).message).toMatch(/^nextService: unknown field/);
    expect(refuse(withChange((c) => (c.services[0].figures = "12"))).message).toMatch(/^services\.0\.figures: unknown field/);
    expect(refuse(withChange((c) => (c.licence = { name: "CC0", url: null, version: 1 }))).message).toMatch(
      /^licence\.version: unknown field/,
    );
    expect(
      refuse(withChange((c) => (c.nextServices = [{ name: "n", why: "", targetDate: TODAY, target: TODAY }]))).message,
    ).toMatch(/^nextServices\.0\.target: unknown field/);
    // A misspelt required key reports both the missing field and the unknown one.
    const err = refuse({ titel: "Elm Row", services: minimalInput().services });
    expect(issuesOf(err).map((i) => i.field)).toEqual(["title", "titel"]);
  });

  it("refuses duplicate service names, ignoring case and surrounding spaces", () => {
    const err = refuse(
      withChange((c) => c.services.push({ name: " SOUP kitchen ", description: "", category: "care", since: "2026-02-01" })),
    );
    expect(err.message).toMatch(/^services\.1\.name: duplicate name "SOUP kitchen" \(same as services\.0\.name/);
    const next = refuse(
      withChange(
        (c) =>
          (c.nextServices = [
            { name: "Solar co-op", why: "", targetDate: TODAY },
            { name: "solar CO-OP", why: "", targetDate: TODAY },
          ]),
      ),
    );
    expect(next.message).toMatch(/^nextServices\.1\.name: duplicate name/);
    // The same name may appear once now and once next (e.g. expanding a service).
    expect(() =>
      parseCharterInput(withChange((c) => (c.nextServices = [{ name: "Soup kitchen", why: "more days", targetDate: TODAY }])), TODAY),
    ).not.toThrow();
  });

  it("refuses wrong types and non-objects in plain words", () => {
    expect(refuse(null).message).toBe("must be an object (got null)");
    expect(refuse([]).message).toBe("must be an object (got a list)");
    expect(refuse(withChange((c) => (c.services = "food"))).message).toBe("services: must be a list (got a string)");
    expect(refuse(withChange((c) => (c.services[0] = "Soup"))).message).toBe("services.0: must be an object (got a string)");
    expect(refuse(withChange((c) => (c.title = 42))).message).toBe("title: must be a string (got a number)");
    expect(refuse(withChange((c) => (c.services[0].figure = 120))).message).toBe("services.0.figure: must be a string (got a number)");
  });

  it("reports every issue in details.issues, the first one in the message", () => {
    const err = refuse(
      withChange((c) => {
        c.title = "";
        c.services[0].category = "fun";
        c.meetingPlace = "m".repeat(201);
      }),
    );
    expect(err.message).toBe("title: must not be empty");
    expect(issuesOf(err).map((i) => i.field)).toEqual(["title", "services.0.category", "meetingPlace"]);
  });
});
