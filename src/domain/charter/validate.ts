/**
 * Validation of the charter a steward submits (unknown JSON) with zod. Every problem is
 * reported with the dotted path of the field it concerns ("nextServices.0.targetDate");
 * the first one becomes the error message, all of them go in `details.issues`.
 */
import { z } from "zod";
import { invalid } from "../errors.ts";
import { CHARTER_LIMITS, DEFAULT_LICENCE, SERVICE_CATEGORIES } from "./constants.ts";
import type { CharterRevisionInput } from "./model.ts";
import { isCalendarDate } from "./dates.ts";
import { isHttpUrl } from "./html.ts";

const L = CHARTER_LIMITS;

const maxLength = (limit: number) =>
  ({
    error: (iss: { input?: unknown }) =>
      `must be at most ${limit} characters (got ${typeof iss.input === "string" ? iss.input.length : "more"})`,
  }) as const;

const tooMany = (limit: number, what: string) =>
  ({
    error: (iss: { input?: unknown }) =>
      `at most ${limit} ${what} are allowed (got ${Array.isArray(iss.input) ? iss.input.length : "more"})`,
  }) as const;

/** A trimmed string of at most `limit` characters; `required` also refuses "". */
const text = (limit: number, required = false) => {
  const s = z.string().trim().max(limit, maxLength(limit));
  return required ? s.min(1, "must not be empty") : s;
};

/** A trimmed optional string; absent, null and "" all become null. */
const optionalText = (limit: number) =>
  text(limit)
    .nullish()
    .transform((v) => (v ? v : null));

const calendarDate = z
  .string()
  .trim()
  .refine(isCalendarDate, "must be a real calendar date written YYYY-MM-DD (e.g. 2026-11-23)");

const httpUrl = z
  .string()
  .trim()
  .max(L.url, maxLength(L.url))
  .refine(isHttpUrl, "must be an http(s) URL (e.g. https://example.org/)");

const category = z.enum(SERVICE_CATEGORIES, {
  error: (iss) => `must be one of ${SERVICE_CATEGORIES.join(", ")} (got ${JSON.stringify(iss.input)})`,
});

const serviceSchema = z.strictObject({
  name: text(L.serviceName, true),
  description: text(L.serviceDescription),
  category,
  since: calendarDate,
  figure: optionalText(L.figure),
});

const licenceSchema = z.strictObject({
  name: text(L.licenceName, true),
  // "" is read as "no URL", like null or an absent key.
  url: z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? null : v), httpUrl.nullish()).transform(
    (v) => v ?? null,
  ),
});

/** Services are matched by name (case-insensitive) when revisions are compared. */
export function serviceKey(name: string): string {
  return name.trim().normalize("NFC").toLowerCase();
}

function refuseDuplicateNames(list: { name: string }[], field: string, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const key = serviceKey(item.name);
    if (key === "") return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `duplicate name ${JSON.stringify(item.name)} (same as ${field}.${first}.name; names are compared ignoring case)`,
      });
  });
}

export function charterInputSchema(today: string) {
  const nextServiceSchema = z.strictObject({
    name: text(L.serviceName, true),
    why: text(L.why),
    targetDate: calendarDate.refine((d) => !isCalendarDate(d) || d >= today, {
      error: (iss) => `must not be in the past (got ${String(iss.input)}, today is ${today})`,
    }),
  });

  return z
    .strictObject({
      title: text(L.title, true),
      preamble: text(L.preamble).default(""),
      services: z
        .array(serviceSchema)
        .max(L.services, tooMany(L.services, "services"))
        .default([])
        .superRefine((list, ctx) => refuseDuplicateNames(list, "services", ctx)),
      nextServices: z
        .array(nextServiceSchema)
        .max(L.nextServices, tooMany(L.nextServices, "next services"))
        .default([])
        .superRefine((list, ctx) => refuseDuplicateNames(list, "nextServices", ctx)),
      assemblyRhythm: optionalText(L.assemblyRhythm),
      meetingPlace: optionalText(L.meetingPlace),
      licence: licenceSchema
        .nullish()
        .transform((v) => v ?? { ...DEFAULT_LICENCE }),
      changeNote: text(L.changeNote).default(""),
    })
    .superRefine((charter, ctx) => {
      if (charter.services.length + charter.nextServices.length === 0)
        ctx.addIssue({
          code: "custom",
          path: ["services"],
          message: "the charter needs at least one service (in services or nextServices)",
        });
    });
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Plain-language messages for the zod issues we do not word ourselves. */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === "invalid_type") {
    if (iss.input === undefined) return "is required";
    const expected = iss.expected === "array" ? "a list" : iss.expected === "object" ? "an object" : `a ${iss.expected}`;
    return `must be ${expected} (got ${describeType(iss.input)})`;
  }
  return undefined;
};

export interface CharterIssue {
  field: string;
  message: string;
}

function toIssues(error: z.ZodError): CharterIssue[] {
  const out: CharterIssue[] = [];
  for (const i of error.issues) {
    const at = i.path.map(String);
    if (i.code === "unrecognized_keys") {
      for (const key of i.keys)
        out.push({ field: [...at, key].join("."), message: "unknown field (check its spelling against docs/charter-format.md)" });
    } else {
      out.push({ field: at.join(".") || "(root)", message: i.message });
    }
  }
  return out;
}

/**
 * Validates steward input against the charter rules. `today` (YYYY-MM-DD, from the
 * injected clock) decides which target dates are in the past. Applies defaults and trims
 * strings. Throws DomainError (invalid, VALIDATION_FAILED) naming the first bad field.
 */
export function parseCharterInput(input: unknown, today: string): CharterRevisionInput {
  if (!isCalendarDate(today)) throw new TypeError(`parseCharterInput: today must be YYYY-MM-DD, got ${JSON.stringify(today)}`);
  const result = charterInputSchema(today).safeParse(input, { error: errorMap });
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  const first = issues[0]!;
  throw invalid("VALIDATION_FAILED", first.field === "(root)" ? first.message : `${first.field}: ${first.message}`, {
    issues,
  });
}
