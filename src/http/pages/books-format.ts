/**
 * How the open-books pages write figures. Quantities and money arrive as exact decimal
 * strings and are formatted as strings (Intl.NumberFormat formats a numeric string exactly,
 * without going through a float), so "0.3" kg stays "0.3" kg on the page.
 */
import { FUNDS, OM2_UNITS, type Fund } from "../../domain/books/model.ts";

const LOCALE = "en-GB";

/** The digits-and-point text Intl accepts as an exact decimal; anything else is shown as given. */
const DECIMAL = /^-?\d+(\.\d+)?$/;
type NumericText = `${number}`;

const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(currency: string): Intl.NumberFormat | null {
  let format = moneyFormats.get(currency);
  if (!format) {
    try {
      format = new Intl.NumberFormat(LOCALE, { style: "currency", currency, currencyDisplay: "narrowSymbol" });
    } catch {
      return null;
    }
    moneyFormats.set(currency, format);
  }
  return format;
}

const quantityFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 6 });

/** "€1,234.50" for ("1234.5", "EUR"); a suppressed or odd value is returned as it is. */
export function formatMoney(value: string, currency: string): string {
  if (!DECIMAL.test(value)) return value;
  const format = moneyFormat(currency);
  return format ? format.format(value as NumericText) : `${value} ${currency}`;
}

/** "1,234.5" for "1234.5" (up to six decimals, as stored). */
export function formatQuantity(value: string): string {
  return DECIMAL.test(value) ? quantityFormat.format(value as NumericText) : value;
}

/** A unit as readers say it: "kg", "kWh", "hours", "EUR"; "" for plain counts ("one"). */
export function unitSymbol(unit: string): string {
  const known = OM2_UNITS[unit];
  if (!known) return unit;
  return known.symbol || (unit === "one" ? "" : known.label);
}

/** "12.5 kg", "3 hours", "40" (items), "25 EUR". */
export function formatAmount(quantity: string, unit: string): string {
  const symbol = unit === "hour" || unit === "day" ? OM2_UNITS[unit]!.label : unitSymbol(unit);
  return symbol ? `${formatQuantity(quantity)} ${symbol}` : formatQuantity(quantity);
}

export const FUND_LABELS: Readonly<Record<Fund, string>> = {
  survival: "Survival",
  capacity_building: "Capacity-building",
  power_shifting: "Power-shifting",
};

export const FUND_ORDER: readonly Fund[] = FUNDS;

export const KIND_LABELS: Readonly<Record<string, string>> = {
  contribution: "contributed",
  draw: "drawn",
  expenditure: "spent",
  transfer_out: "sent to other pods",
  transfer_in: "received from other pods",
  correction: "corrected",
};

const DAY_FORMAT = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const SHORT_DAY_FORMAT = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", timeZone: "UTC" });
const MONTH_FORMAT = new Intl.DateTimeFormat(LOCALE, { month: "short", year: "numeric", timeZone: "UTC" });

/** "28 November 2026" (read in UTC). */
export const formatDay = (at: Date) => DAY_FORMAT.format(at);
/** "28 Nov" (read in UTC). */
export const formatShortDay = (at: Date) => SHORT_DAY_FORMAT.format(at);
/** "Nov 2026" (read in UTC). */
export const formatMonth = (at: Date) => MONTH_FORMAT.format(at);
/** YYYY-MM-DD of an instant, in UTC. */
export const isoDay = (at: Date) => at.toISOString().slice(0, 10);
