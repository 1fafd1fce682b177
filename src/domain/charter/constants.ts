/**
 * The fixed vocabulary and limits of a charter. Kept apart from the validator so that
 * model.ts can re-export both without an import cycle.
 */
import type { Licence } from "./model.ts";

/** The documented service categories (docs/charter-format.md). */
export const SERVICE_CATEGORIES = [
  "food",
  "energy",
  "care",
  "health",
  "housing",
  "education",
  "safety",
  "repair",
  "transport",
  "other",
] as const;
export type ServiceCategory = (typeof SERVICE_CATEGORIES)[number];

/** The commons licence a charter carries unless its stewards choose another. */
export const DEFAULT_LICENCE: Licence = Object.freeze({
  name: "CC BY-SA 4.0",
  url: "https://creativecommons.org/licenses/by-sa/4.0/",
});

/** Maximum lengths (characters, after trimming) and list sizes. */
export const CHARTER_LIMITS = {
  title: 200,
  preamble: 5000,
  serviceName: 120,
  serviceDescription: 1000,
  figure: 120,
  why: 1000,
  assemblyRhythm: 200,
  meetingPlace: 200,
  changeNote: 1000,
  licenceName: 100,
  url: 2048,
  services: 100,
  nextServices: 100,
} as const;
