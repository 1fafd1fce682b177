/**
 * ValueFlows spellings. Our documents use VF 1.0 (`https://w3id.org/valueflows/ont/vf#`,
 * camelCase actions) as FEP-0837 does. On input we also accept what other ValueFlows
 * software sends: Bonfire's `ValueFlows:` prefix (`https://w3id.org/valueflows#`), full
 * IRIs of either namespace, `vf:` CURIEs, and the older hyphenated action names
 * (`deliver-service`, `transfer-custody`…). These functions map all of them to one form.
 */

export const VF_NAMESPACE = "https://w3id.org/valueflows/ont/vf#";
/** Bonfire's prefix IRI (not the same IRI as VF 1.0's). */
export const BONFIRE_VF_NAMESPACE = "https://w3id.org/valueflows#";
export const OM2_UNIT_NAMESPACE = "http://www.ontology-of-units-of-measure.org/resource/om-2/";

/** The VF 1.0 actions (camelCase). */
export const VF_ACTIONS = [
  "produce", "consume", "use", "cite", "work", "pickup", "dropoff", "accept", "modify", "combine", "separate",
  "deliverService", "transferAllRights", "transferCustody", "transfer", "move", "copy", "raise", "lower",
] as const;
export type VfAction = (typeof VF_ACTIONS)[number];

/** The actions an offer or a need of ours may carry (FEP-0837: SHOULD be one of these). */
export const PROPOSAL_ACTIONS = ["transfer", "deliverService"] as const;

const PREFIXES = [VF_NAMESPACE, BONFIRE_VF_NAMESPACE, "https://w3id.org/valueflows/", "vf:", "ValueFlows:", "valueflows:"];

/** Strips a known VF namespace or prefix: `ValueFlows:Proposal` → `Proposal`. */
export function vfLocalName(value: string): string {
  for (const prefix of PREFIXES) if (value.startsWith(prefix)) return value.slice(prefix.length);
  return value;
}

/** `deliver-service` → `deliverService`; any known spelling to the VF 1.0 action, or null. */
export function normalizeAction(value: unknown): VfAction | null {
  if (typeof value !== "string") {
    // Bonfire may send an action as an object with an id or label.
    if (value && typeof value === "object") {
      const o = value as Record<string, unknown>;
      return normalizeAction(o.id ?? o["@id"] ?? o.label ?? o.name);
    }
    return null;
  }
  const local = vfLocalName(value.trim());
  const camel = local.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
  return (VF_ACTIONS as readonly string[]).includes(camel) ? (camel as VfAction) : null;
}

/** True when a JSON-LD `type` (a string or an array) names the VF class `name` in any spelling. */
export function hasVfType(type: unknown, name: string): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => typeof t === "string" && vfLocalName(t) === name);
}

/** An OM2 unit in any spelling (`kilogram`, `om2:kilogram`, the full IRI, or `{ "@id": … }`) → its local id. */
export function normalizeUnit(value: unknown): string | null {
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return normalizeUnit(o.id ?? o["@id"] ?? o.omUnitIdentifier ?? o.label);
  }
  if (typeof value !== "string" || value.trim() === "") return null;
  const v = value.trim();
  for (const prefix of [OM2_UNIT_NAMESPACE, "https://www.ontology-of-units-of-measure.org/resource/om-2/", "om2:", "om:"]) {
    if (v.startsWith(prefix)) return v.slice(prefix.length);
  }
  return v;
}

/** Reads a property under any of its spellings (`purpose`, `vf:purpose`, `ValueFlows:purpose`, full IRIs). */
export function vfProperty(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  for (const prefix of PREFIXES) {
    const key = `${prefix}${name}`;
    if (key in object) return object[key];
  }
  return undefined;
}
