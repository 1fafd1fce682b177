/**
 * The People's Service Charter: what a pod does now, what it takes on next, and on what
 * terms. A pod's charter is a sequence of revisions of this content; revisions are never
 * edited. This module holds the shapes; validation lives in validate.ts.
 */
import type { ServiceCategory } from "./constants.ts";

export { SERVICE_CATEGORIES, DEFAULT_LICENCE, CHARTER_LIMITS } from "./constants.ts";
export type { ServiceCategory } from "./constants.ts";
export { parseCharterInput } from "./validate.ts";

/** A service the pod provides now. */
export interface CharterService {
  name: string;
  description: string;
  category: ServiceCategory;
  /** YYYY-MM-DD */
  since: string;
  /** e.g. "120 meals a week" */
  figure: string | null;
}

/** A service the pod means to take on next. */
export interface NextService {
  name: string;
  why: string;
  /** YYYY-MM-DD */
  targetDate: string;
}

export interface Licence {
  name: string;
  url: string | null;
}

export interface CharterContent {
  title: string;
  /** Source text: plain text or the Markdown subset of markdown.ts. */
  preamble: string;
  /** Services provided now. */
  services: CharterService[];
  /** Services we take on next. */
  nextServices: NextService[];
  /** e.g. "Thursdays 19:00" */
  assemblyRhythm: string | null;
  /** A coarse place, e.g. a neighbourhood. */
  meetingPlace: string | null;
  licence: Licence;
}

export interface CharterRevisionInput extends CharterContent {
  changeNote: string;
}
