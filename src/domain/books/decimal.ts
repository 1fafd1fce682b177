/**
 * Exact decimals for the books. Quantities and money travel as decimal strings (as `pg`
 * returns `numeric`), and all arithmetic goes through decimal.js: never a float.
 *
 * Columns: quantities are numeric(24, 6), money numeric(24, 2): at most 18 digits before
 * the point, and 6 (quantities) or 2 (money) after it.
 */
import { Decimal } from "decimal.js";
import { invalid } from "../errors.ts";

/** A private constructor with enough precision for sums of many numeric(24, 6) values. */
export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -100, toExpPos: 100 });
export type Dec = InstanceType<typeof Dec>;

export const QUANTITY_SCALE = 6;
export const MONEY_SCALE = 2;
const INTEGER_DIGITS = 18;

const DECIMAL_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export interface DecimalRule {
  /** Digits allowed after the point. */
  scale: number;
  /** zero allowed, positive only, or any sign (a correction's delta). */
  sign: "positive" | "non_negative" | "any_nonzero";
}

/**
 * Parses a decimal written in plain notation ("12", "0.5", "-3.25"; no exponent, no
 * thousands separators). Throws INVALID_DECIMAL, TOO_PRECISE, TOO_LARGE or a sign error
 * with the field named in `details.field`.
 */
export function parseDecimal(text: unknown, field: string, rule: DecimalRule): Dec {
  const value = typeof text === "number" && Number.isFinite(text) ? String(text) : text;
  if (typeof value !== "string" || !DECIMAL_TEXT.test(value.trim())) {
    throw invalid("INVALID_DECIMAL", `${field} must be a decimal number such as 12 or 0.5 (a dot before the decimals, no exponent)`, { field });
  }
  const d = new Dec(value.trim());
  if (d.decimalPlaces() > rule.scale) {
    throw invalid("TOO_PRECISE", `${field} has more than ${rule.scale} digits after the point`, { field, scale: rule.scale });
  }
  if (d.abs().gte(new Dec(10).pow(INTEGER_DIGITS))) {
    throw invalid("TOO_LARGE", `${field} has more than ${INTEGER_DIGITS} digits before the point`, { field });
  }
  if (rule.sign === "positive" && !d.gt(0)) {
    throw invalid("NOT_POSITIVE", `${field} must be more than zero (record a correction to take something back)`, { field });
  }
  if (rule.sign === "non_negative" && d.isNeg() && !d.isZero()) throw invalid("NEGATIVE", `${field} cannot be negative`, { field });
  if (rule.sign === "any_nonzero" && d.isZero()) throw invalid("ZERO_DELTA", `${field} cannot be zero`, { field });
  return d;
}

/**
 * The one textual form of a decimal used in hashes, exports and federated summaries:
 * plain notation, no exponent, no trailing zeros after the point, no "+", "-0" as "0".
 * `normalizeDecimal("12.500000") === "12.5"`.
 */
export function normalizeDecimal(value: Dec | string): string {
  const d = typeof value === "string" ? new Dec(value) : value;
  if (d.isZero()) return "0";
  return d.toFixed();
}

/** quantity × price, rounded half-up to cents (money scale). */
export function marketValueOf(quantity: Dec | string, pricePerUnit: Dec | string): Dec {
  return new Dec(quantity).times(pricePerUnit).toDecimalPlaces(MONEY_SCALE, Dec.ROUND_HALF_UP);
}

export function sumDecimals(values: Iterable<Dec | string>): Dec {
  let total = new Dec(0);
  for (const v of values) total = total.plus(v);
  return total;
}
