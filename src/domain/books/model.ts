/**
 * The vocabulary of the open books: entry kinds, funds, counterparties, periods, units.
 * Pure types and small rules; validation schemas for input live beside them.
 */
export const ENTRY_KINDS = ["contribution", "draw", "expenditure", "transfer_out", "transfer_in", "correction"] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** Entries that take something out of the commons: each must name a fund. */
export const OUTFLOW_KINDS: readonly EntryKind[] = ["draw", "expenditure", "transfer_out"];
export const INFLOW_KINDS: readonly EntryKind[] = ["contribution", "transfer_in"];
export const isOutflow = (kind: EntryKind) => OUTFLOW_KINDS.includes(kind);

export const FUNDS = ["survival", "capacity_building", "power_shifting"] as const;
export type Fund = (typeof FUNDS)[number];

export const COUNTERPARTY_KINDS = ["member", "pod", "outside", "none"] as const;
export type CounterpartyKind = (typeof COUNTERPARTY_KINDS)[number];

export const PERIOD_KINDS = ["week", "lunar", "month"] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

/**
 * OM2 units we accept (ids as in http://www.ontology-of-units-of-measure.org/resource/om-2/),
 * with a short label for pages. Currency codes (ISO 4217, three capitals) are units too.
 */
export const OM2_UNITS: Readonly<Record<string, { label: string; symbol: string }>> = {
  one: { label: "items", symbol: "" },
  kilogram: { label: "kilograms", symbol: "kg" },
  gram: { label: "grams", symbol: "g" },
  tonne: { label: "tonnes", symbol: "t" },
  litre: { label: "litres", symbol: "l" },
  cubicMetre: { label: "cubic metres", symbol: "m³" },
  metre: { label: "metres", symbol: "m" },
  squareMetre: { label: "square metres", symbol: "m²" },
  hour: { label: "hours", symbol: "h" },
  day: { label: "days", symbol: "d" },
  kilowattHour: { label: "kilowatt-hours", symbol: "kWh" },
};
export const OM2_NAMESPACE = "http://www.ontology-of-units-of-measure.org/resource/om-2/";

export const isCurrencyCode = (unit: string) => /^[A-Z]{3}$/.test(unit);
export const isKnownUnit = (unit: string) => Object.hasOwn(OM2_UNITS, unit) || isCurrencyCode(unit);

/** Pseudonymous member ids: "m-" and 4 to 12 lowercase hex digits. */
export const PSEUDONYM = /^m-[0-9a-f]{4,12}$/;
