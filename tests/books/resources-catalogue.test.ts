/**
 * The catalogue of resources and the books' settings: add, edit, list; the key and (once
 * used) the unit never change; the charter's categories give a warning, not a refusal;
 * history keeps its market values when a price changes; every refusal names its field.
 */
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { addResource, getBookSettings, listResources, updateBookSettings, updateResource } from "../../src/services/books.ts";
import { listEntries, recordEntry } from "../../src/services/ledger.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const POD = "oak-street";
const EXAMPLE = JSON.parse(fs.readFileSync(new URL("../../docs/charter.example.json", import.meta.url), "utf8")) as Record<string, unknown>;

let node: TestNode;
let deps: ServiceDeps;

async function failure(fn: () => Promise<unknown>): Promise<{ kind: string; code: string; field: unknown }> {
  const error = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  const d = error as DomainError;
  return { kind: d.kind, code: d.code, field: d.details?.field };
}

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD });
  deps = node.deps;
});

afterAll(async () => {
  await node?.stop();
});

describe("resources", () => {
  it("adds a resource with its price, source and date, and lists it", async () => {
    const r = await addResource(deps, POD, {
      key: "bread",
      name: "Bread",
      unit: "kilogram",
      category: "food",
      specificationUri: "https://example.org/spec/bread",
      referencePrice: "3.500000",
      referencePriceSource: "the corner bakery",
      referencePriceOn: "2026-11-01",
    });
    expect(r).toEqual({
      key: "bread",
      name: "Bread",
      unit: "kilogram",
      category: "food",
      specificationUri: "https://example.org/spec/bread",
      referencePrice: "3.5",
      referencePriceSource: "the corner bakery",
      referencePriceOn: "2026-11-01",
      currency: "EUR",
    });
    await addResource(deps, POD, { key: "electricity", name: "Electricity", unit: "kilowattHour", category: "energy" });
    const list = await listResources(deps, POD);
    expect(list.map((x) => x.key)).toEqual(["bread", "electricity"]);
    expect(list[1]).toMatchObject({ referencePrice: null, specificationUri: null, referencePriceSource: null, referencePriceOn: null });
  });

  it("accepts a currency code as a unit", async () => {
    expect((await addResource(deps, POD, { key: "cash", name: "Cash", unit: "EUR", category: "other", referencePrice: "1" })).unit).toBe("EUR");
  });

  it("refuses bad resources, naming the field", async () => {
    const base = { key: "soup", name: "Soup", unit: "litre", category: "food" };
    expect(await failure(() => addResource(deps, POD, { ...base, key: "bread" }))).toEqual({ kind: "conflict", code: "RESOURCE_EXISTS", field: "key" });
    expect(await failure(() => addResource(deps, POD, { ...base, key: "Soup!" }))).toMatchObject({ code: "INVALID_RESOURCE_KEY", field: "key" });
    expect(await failure(() => addResource(deps, POD, { ...base, key: "-soup" }))).toMatchObject({ code: "INVALID_RESOURCE_KEY", field: "key" });
    expect(await failure(() => addResource(deps, POD, { ...base, key: "x".repeat(41) }))).toMatchObject({ code: "INVALID_RESOURCE_KEY", field: "key" });
    expect(await failure(() => addResource(deps, POD, { ...base, unit: "bushel" }))).toMatchObject({ code: "UNKNOWN_UNIT", field: "unit" });
    expect(await failure(() => addResource(deps, POD, { ...base, category: "" }))).toMatchObject({ code: "FIELD_REQUIRED", field: "category" });
    expect(await failure(() => addResource(deps, POD, { ...base, category: "c".repeat(61) }))).toMatchObject({ code: "TOO_LONG", field: "category" });
    expect(await failure(() => addResource(deps, POD, { ...base, specificationUri: "javascript:alert(1)" }))).toMatchObject({ code: "INVALID_URI", field: "specificationUri" });
    expect(await failure(() => addResource(deps, POD, { ...base, referencePrice: "-1" }))).toMatchObject({ code: "NEGATIVE", field: "referencePrice" });
    expect(await failure(() => addResource(deps, POD, { ...base, referencePrice: "0.0000001" }))).toMatchObject({ code: "TOO_PRECISE", field: "referencePrice" });
    expect(await failure(() => addResource(deps, POD, { ...base, referencePriceOn: "2026-02-30" }))).toMatchObject({ code: "INVALID_DATE", field: "referencePriceOn" });
    expect(await failure(() => addResource(deps, POD, { ...base, name: undefined }))).toMatchObject({ code: "FIELD_REQUIRED", field: "name" });
    expect(await failure(() => addResource(deps, POD, { ...base, flavour: "leek" }))).toMatchObject({ code: "UNKNOWN_FIELD", field: "flavour" });
    expect(await failure(() => addResource(deps, POD, "soup"))).toMatchObject({ code: "INVALID_INPUT" });
    expect(await failure(() => addResource(deps, "nowhere", base))).toMatchObject({ kind: "not_found", code: "POD_NOT_FOUND" });
    expect((await listResources(deps, POD)).map((x) => x.key)).toEqual(["bread", "cash", "electricity"]);
  });

  it("edits name, category and price; the key never, the unit only while no entry uses it", async () => {
    const edited = await updateResource(deps, POD, "electricity", { unit: "kilowattHour", name: "Power", referencePrice: "0.31", referencePriceSource: null });
    expect(edited).toMatchObject({ key: "electricity", name: "Power", referencePrice: "0.31", unit: "kilowattHour" });
    expect((await updateResource(deps, POD, "electricity", { unit: "hour" })).unit).toBe("hour");
    expect(await failure(() => updateResource(deps, POD, "electricity", { key: "power" }))).toMatchObject({ code: "KEY_IMMUTABLE", field: "key" });
    expect(await failure(() => updateResource(deps, POD, "nothing", { name: "x" }))).toMatchObject({ kind: "not_found", code: "UNKNOWN_RESOURCE" });

    const before = await recordEntry(deps, POD, { kind: "contribution", resource: "bread", quantity: "2" });
    expect(before.marketValue).toBe("7");
    expect(await failure(() => updateResource(deps, POD, "bread", { unit: "gram" }))).toEqual({ kind: "conflict", code: "RESOURCE_IN_USE", field: "unit" });
    const repriced = await updateResource(deps, POD, "bread", { referencePrice: "4", referencePriceOn: "2026-11-20", name: "Sourdough" });
    expect(repriced).toMatchObject({ referencePrice: "4", referencePriceOn: "2026-11-20", name: "Sourdough", unit: "kilogram" });
    const after = await recordEntry(deps, POD, { kind: "contribution", resource: "bread", quantity: "2" });
    expect(after.marketValue).toBe("8");
    const entries = await listEntries(deps, POD);
    expect(entries.map((e) => [e.marketValue, e.resourceName])).toEqual([
      ["7", "Sourdough"],
      ["8", "Sourdough"],
    ]);
    // Clearing the price: later entries are valued at 0 unless a market value is given.
    await updateResource(deps, POD, "bread", { referencePrice: null });
    expect((await recordEntry(deps, POD, { kind: "contribution", resource: "bread", quantity: "1" })).marketValue).toBe("0");
  });

  it("warns (and accepts) a category the charter does not list", async () => {
    expect((await addResource(deps, POD, { key: "rides", name: "Rides", unit: "hour", category: "transport" })).warning).toBeUndefined();
    await publishCharterRevision(deps, POD, EXAMPLE);
    const odd = await addResource(deps, POD, { key: "bikes", name: "Bike repair hours", unit: "hour", category: "bicycles" });
    expect(odd.warning).toMatch(/bicycles.*not among the charter's service categories/);
    expect(odd.category).toBe("bicycles");
    expect((await addResource(deps, POD, { key: "meals", name: "Meals", unit: "one", category: "food" })).warning).toBeUndefined();
    expect((await updateResource(deps, POD, "meals", { category: "feasts" })).warning).toMatch(/feasts/);
  });
});

describe("book settings", () => {
  it("has defaults and changes what is given", async () => {
    expect(await getBookSettings(deps, POD)).toEqual({ currency: "EUR", allowOverdraw: false, autoPeriods: ["week"], invoiceAddressee: null });
    const s = await updateBookSettings(deps, POD, { allowOverdraw: true, autoPeriods: ["month", "week", "month"], invoiceAddressee: "City of Exampleton" });
    expect(s).toEqual({ currency: "EUR", allowOverdraw: true, autoPeriods: ["week", "month"], invoiceAddressee: "City of Exampleton" });
    expect(await getBookSettings(deps, POD)).toEqual(s);
    expect((await updateBookSettings(deps, POD, { invoiceAddressee: null })).invoiceAddressee).toBeNull();
  });

  it("refuses bad settings and a currency change once entries exist", async () => {
    expect(await failure(() => updateBookSettings(deps, POD, { currency: "euro" }))).toMatchObject({ code: "INVALID_CURRENCY", field: "currency" });
    expect(await failure(() => updateBookSettings(deps, POD, { autoPeriods: ["fortnight"] }))).toMatchObject({ code: "INVALID_PERIOD", field: "autoPeriods.0" });
    expect(await failure(() => updateBookSettings(deps, POD, { allowOverdraw: "yes" }))).toMatchObject({ code: "INVALID_FIELD", field: "allowOverdraw" });
    expect(await failure(() => updateBookSettings(deps, POD, { currency: "GBP" }))).toEqual({ kind: "conflict", code: "CURRENCY_IN_USE", field: "currency" });
    expect((await updateBookSettings(deps, POD, { currency: "EUR" })).currency).toBe("EUR");
  });
});
