/**
 * Reads an offer or a need from ActivityPub JSON: our own documents (a Note co-typed
 * Proposal), other FEP-0837 Proposals, and Bonfire's spellings (`ValueFlows:` prefix,
 * hyphenated actions, a bare Intent whose provider or receiver is the actor). Pure: the
 * caller passes the actor that sent it and the time.
 *
 * What is read, in order of preference:
 * - purpose: `purpose` (offer | request, any prefix); for a lone Intent, `provider` = the
 *   actor means an offer, `receiver` = the actor a need;
 * - the primary Intent: `publishes` (an embedded object; the first of a list), or the
 *   document itself when it is a lone Intent; its id (default: the proposal id + `#primary`);
 * - `action` (VF 1.0 camelCase after normalisation; absent means transfer);
 * - `resourceQuantity` (a Measure: `hasUnit` + `hasNumericalValue`, also `om2:`-prefixed;
 *   the unit is required, the value optional = any amount), `availableQuantity`,
 *   `minimumQuantity` (same unit), `unitBased`, `reciprocal` (an Intent);
 * - text: `name`, our `description` or the `content` (tags removed) or `summary`; a
 *   `location` Place's name (or `atLocation`); `startTime`/`endTime` (or the Intent's
 *   `hasBeginning`/`hasEnd`); our `expiresAt`, `status`, `urgent`, `category` (else the
 *   Intent's `resourceClassifiedAs`); `resourceConformsTo`;
 * - `updated` (else `published`): older copies never replace newer ones.
 */
import { invalid } from "../errors.ts";
import { QUANTITY_SCALE, normalizeDecimal, parseDecimal } from "../books/decimal.ts";
import type { ProposalPurpose, ProposalStatus, ReciprocalTerms, RemoteProposalInput } from "./model.ts";
import { hasVfType, normalizeAction, normalizeUnit, vfLocalName, vfProperty } from "./vf.ts";

export interface ProposalJsonContext {
  /** The actor that sent or published it: the document must be attributed to it. */
  actorIri: string;
  /** The id it was fetched by (when dereferenced): the document's id must equal it. */
  objectIri?: string;
  now: Date;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const first = (v: unknown): unknown => (Array.isArray(v) ? v[0] : v);
const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** An id from a string or an object with `id`/`@id`. */
function idOf(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (isObject(v)) {
    const id = v.id ?? v["@id"];
    return typeof id === "string" ? id : null;
  }
  return null;
}

function isHttp(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}

/** A lone Intent of an actor: an offer (provider) or need (receiver) in its own right. */
function isLoneIntent(doc: Json): boolean {
  return hasVfType(doc.type ?? doc["@type"], "Intent") && (vfProperty(doc, "provider") !== undefined || vfProperty(doc, "receiver") !== undefined);
}

/** True when the JSON is an offer or a need (a Proposal, or a lone Intent, in any spelling). */
export function isProposalJson(document: unknown): boolean {
  if (!isObject(document)) return false;
  const type = document.type ?? document["@type"];
  return hasVfType(type, "Proposal") || isLoneIntent(document);
}

// ---------------------------------------------------------------------------------------
// Text from elsewhere: plain, bounded, no control characters

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", "#39": "'" };

function plainText(value: unknown, limit: number, multiline = false): string | null {
  let v = typeof value === "string" ? value : isObject(value) ? Object.values(value).find((x) => typeof x === "string") : undefined; // nameMap / contentMap
  if (typeof v !== "string") return null;
  v = v
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|li|div|h\d)>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(amp|lt|gt|quot|apos|nbsp|#39);/g, (_, e: string) => ENTITIES[e]!)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, multiline ? "" : " ")
    .replace(/[\uD800-\uDFFF]/g, (c, i: number, s: string) => {
      // Drop lone surrogates (they cannot be stored); keep pairs.
      const code = c.charCodeAt(0);
      if (code <= 0xdbff) return /[\uDC00-\uDFFF]/.test(s[i + 1] ?? "") ? c : "";
      return /[\uD800-\uDBFF]/.test(s[i - 1] ?? "") ? c : "";
    });
  v = multiline ? v.replace(/[ \t]+\n/g, "\n").replace(/\n{3,}/g, "\n\n") : v.replace(/\s+/g, " ");
  v = v.trim();
  if (v === "") return null;
  return v.length > limit ? `${v.slice(0, limit - 1)}…` : v;
}

function dateOf(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

// ---------------------------------------------------------------------------------------
// Measures

interface Measure {
  unit: string;
  value: string | null;
}

const UNIT_TEXT = /^[A-Za-z][A-Za-z0-9_-]{0,59}$/;

function measureOf(value: unknown, field: string, sign: "positive" | "non_negative" = "positive"): Measure | null {
  const m = first(value);
  if (m === undefined || m === null) return null;
  if (!isObject(m)) throw invalid("INVALID_QUANTITY", `${field} must be a Measure with hasUnit and hasNumericalValue`, { field });
  const rawUnit = m.hasUnit ?? m["om2:hasUnit"] ?? m["om:hasUnit"] ?? m.unit ?? vfProperty(m, "hasUnit");
  const unit = normalizeUnit(rawUnit);
  if (!unit || !UNIT_TEXT.test(unit)) throw invalid("NO_UNIT", `${field} has no unit (hasUnit)`, { field });
  const rawValue = m.hasNumericalValue ?? m["om2:hasNumericalValue"] ?? m["om:hasNumericalValue"] ?? m.numericalValue ?? vfProperty(m, "hasNumericalValue");
  if (rawValue === undefined || rawValue === null || rawValue === "") return { unit, value: null };
  const text = isObject(rawValue) ? (rawValue["@value"] ?? rawValue.value) : rawValue;
  return { unit, value: normalizeDecimal(parseDecimal(text, `${field}.hasNumericalValue`, { scale: QUANTITY_SCALE, sign })) };
}

function valueInUnit(value: unknown, field: string, unit: string, sign: "positive" | "non_negative" = "positive"): string | null {
  const m = measureOf(value, field, sign);
  if (!m) return null;
  if (m.unit !== unit) throw invalid("UNIT_MISMATCH", `${field} is in ${m.unit}, the resourceQuantity in ${unit}`, { field });
  return m.value;
}

// ---------------------------------------------------------------------------------------

const STATUSES: readonly ProposalStatus[] = ["open", "withdrawn", "expired", "fulfilled"];

function purposeOf(doc: Json, intent: Json, actorIri: string, lone: boolean): ProposalPurpose {
  const raw = vfProperty(doc, "purpose");
  const named = typeof raw === "string" ? vfLocalName(raw.trim()) : idOf(raw) ? vfLocalName(idOf(raw)!) : null;
  if (named === "offer" || named === "request") return named;
  if (named === "need") return "request";
  if (raw !== undefined && raw !== null) throw invalid("INVALID_PURPOSE", "purpose must be offer or request", { field: "purpose" });
  const provider = asList(vfProperty(intent, "provider")).map(idOf);
  const receiver = asList(vfProperty(intent, "receiver")).map(idOf);
  if (provider.includes(actorIri) && !receiver.includes(actorIri)) return "offer";
  if (receiver.includes(actorIri) && !provider.includes(actorIri)) return "request";
  throw invalid("INVALID_PURPOSE", lone ? "An Intent's provider or receiver must be the actor" : "A Proposal needs a purpose (offer or request)", { field: "purpose" });
}

function reciprocalOf(value: unknown): ReciprocalTerms | null {
  const r = first(value);
  if (!isObject(r)) return null;
  const quantity = measureOf(vfProperty(r, "resourceQuantity"), "reciprocal.resourceQuantity");
  if (!quantity) return null;
  const spec = idOf(vfProperty(r, "resourceConformsTo"));
  return {
    name: plainText(r.name, 200) ?? plainText(r.summary ?? r.content ?? vfProperty(r, "note"), 200) ?? (spec ?? quantity.unit),
    unit: quantity.unit,
    quantity: quantity.value,
    specificationUri: spec && isHttp(spec) ? spec : null,
  };
}

/**
 * The proposal as we store it, or a DomainError (kind invalid, a stable code) when it is a
 * proposal that breaks the rules (no quantity unit, a foreign id, not attributed to the actor…).
 */
export function parseProposalJson(document: unknown, ctx: ProposalJsonContext): RemoteProposalInput {
  if (!isObject(document) || !isProposalJson(document)) throw invalid("NOT_A_PROPOSAL", "The document is not a Proposal or an Intent");
  const doc = document;
  const lone = !hasVfType(doc.type ?? doc["@type"], "Proposal");
  const id = idOf(doc);
  if (!id || !isHttp(id)) throw invalid("PROPOSAL_MISMATCH", "The proposal has no http(s) id", { field: "id" });
  if (ctx.objectIri !== undefined && id !== ctx.objectIri) throw invalid("PROPOSAL_MISMATCH", `The fetched proposal's id is not ${ctx.objectIri}`, { field: "id" });
  if (new URL(id).origin !== new URL(ctx.actorIri).origin) throw invalid("FOREIGN_OBJECT", `The proposal ${id} is on another server than its actor`, { field: "id" });

  let intent: Json;
  if (lone) {
    intent = doc;
  } else {
    const published = first(vfProperty(doc, "publishes"));
    if (!isObject(published)) throw invalid("PROPOSAL_INCOMPLETE", "The proposal publishes no embedded Intent", { field: "publishes" });
    intent = published;
  }

  // Attribution: the actor wrote it (attributedTo), or, for a lone Intent, is its provider or receiver.
  const authors = asList(doc.attributedTo ?? vfProperty(doc, "creator")).map(idOf);
  const agents = lone ? [...asList(vfProperty(doc, "provider")), ...asList(vfProperty(doc, "receiver"))].map(idOf) : [];
  if (!authors.includes(ctx.actorIri) && !(lone && authors.length === 0 && agents.includes(ctx.actorIri))) {
    throw invalid("NOT_AUTHOR", `The proposal ${id} is attributed to someone other than the actor sending it`, { field: "attributedTo" });
  }
  const purpose = purposeOf(doc, intent, ctx.actorIri, lone);

  const rawAction = vfProperty(intent, "action");
  const action = rawAction === undefined || rawAction === null ? "transfer" : normalizeAction(rawAction);
  if (!action) throw invalid("INVALID_ACTION", "The Intent's action is not a ValueFlows action", { field: "action" });

  const quantity = measureOf(vfProperty(intent, "resourceQuantity"), "resourceQuantity");
  if (!quantity) throw invalid("NO_UNIT", "The Intent has no resourceQuantity (a unit is required)", { field: "resourceQuantity" });
  const available = valueInUnit(vfProperty(intent, "availableQuantity"), "availableQuantity", quantity.unit, "non_negative");
  const minimum = valueInUnit(vfProperty(intent, "minimumQuantity"), "minimumQuantity", quantity.unit);
  const unitBasedRaw = vfProperty(doc, "unitBased") ?? vfProperty(intent, "unitBased");
  const unitBased = typeof unitBasedRaw === "boolean" ? unitBasedRaw : unitBasedRaw === "true" ? true : unitBasedRaw === "false" ? false : null;

  const intentId = lone ? id : idOf(intent);
  const intentIri = intentId && isHttp(intentId) && new URL(intentId).origin === new URL(id).origin ? intentId : `${id}#primary`;

  const name =
    plainText(doc.name ?? doc.nameMap, 200) ??
    (lone ? null : plainText(intent.name, 200)) ??
    plainText(doc.summary ?? doc.content ?? doc.contentMap ?? vfProperty(doc, "note"), 200);
  if (!name) throw invalid("PROPOSAL_INCOMPLETE", "The proposal has no name", { field: "name" });
  const description =
    plainText(doc.description, 2000, true) ??
    plainText(doc.content ?? doc.contentMap, 2000, true) ??
    plainText(doc.summary ?? vfProperty(doc, "note") ?? (lone ? undefined : vfProperty(intent, "note")), 2000, true) ??
    "";

  const classified = asList(vfProperty(intent, "resourceClassifiedAs")).map((c) => (typeof c === "string" ? c : idOf(c)));
  const category = plainText(doc.category, 60) ?? plainText(classified.find((c) => c !== null) ?? null, 60);
  const spec = idOf(vfProperty(intent, "resourceConformsTo"));
  const place = first(doc.location ?? vfProperty(intent, "atLocation") ?? vfProperty(doc, "eligibleLocation"));
  const location = typeof place === "string" && !isHttp(place) ? plainText(place, 120) : isObject(place) ? plainText(place.name ?? place.nameMap, 120) : null;
  const availableFrom = dateOf(doc.startTime) ?? dateOf(vfProperty(intent, "hasBeginning"));
  const availableUntil = dateOf(doc.endTime) ?? dateOf(vfProperty(intent, "hasEnd")) ?? dateOf(vfProperty(intent, "due"));
  const expiresAt = dateOf(doc.expiresAt) ?? availableUntil;

  let status: ProposalStatus = "open";
  if (typeof doc.status === "string" && (STATUSES as readonly string[]).includes(doc.status)) status = doc.status as ProposalStatus;
  else if (vfProperty(intent, "finished") === true) status = "fulfilled";
  if (status === "open" && expiresAt && expiresAt.getTime() <= ctx.now.getTime()) status = "expired";
  if (status === "open" && available === "0") status = "fulfilled";

  return {
    actorIri: ctx.actorIri,
    objectIri: id,
    intentIri,
    purpose,
    action,
    name,
    description,
    unit: quantity.unit,
    category,
    specificationUri: spec && isHttp(spec) ? spec : null,
    quantity: quantity.value,
    remaining: available ?? (unitBased === null ? quantity.value : null),
    minimum,
    unitBased,
    reciprocal: reciprocalOf(vfProperty(doc, "reciprocal")),
    location,
    availableFrom,
    availableUntil,
    expiresAt,
    urgent: purpose === "request" && doc.urgent === true,
    status,
    remoteUpdatedAt: dateOf(doc.updated) ?? dateOf(doc.published) ?? dateOf(vfProperty(intent, "created")) ?? ctx.now,
  };
}
