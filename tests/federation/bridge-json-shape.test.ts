// The bridge's one-pass shape check for inbox bodies: exact limits, and strings never count.
import { describe, expect, it } from "vitest";
import { checkJsonShape, isJsonLdInputError } from "../../src/federation/fastify-bridge.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("checkJsonShape", () => {
  it("accepts nesting up to the limit and refuses one level more", () => {
    expect(checkJsonShape(bytes(nested(4)), 4, 10)).toBeNull();
    expect(checkJsonShape(bytes(nested(5)), 4, 10)?.error).toBe("BODY_TOO_DEEP");
    expect(checkJsonShape(bytes(`{"a":{"b":{"c":{"d":1}}}}`), 4, 10)).toBeNull();
    expect(checkJsonShape(bytes(`{"a":{"b":{"c":{"d":{}}}}}`), 4, 10)?.error).toBe("BODY_TOO_DEEP");
  });

  it("accepts arrays up to the limit and refuses one element more, at any level", () => {
    expect(checkJsonShape(bytes(JSON.stringify([1, 2, 3])), 4, 3)).toBeNull();
    expect(checkJsonShape(bytes(JSON.stringify([1, 2, 3, 4])), 4, 3)?.error).toBe("BODY_ARRAY_TOO_LONG");
    expect(checkJsonShape(bytes(JSON.stringify({ a: [[1, 2, 3], [1, 2, 3, 4]] })), 4, 3)?.error).toBe("BODY_ARRAY_TOO_LONG");
    // commas between object members are not array elements
    expect(checkJsonShape(bytes(JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: [1] })), 4, 3)).toBeNull();
  });

  it("does not count brackets, commas or escaped quotes inside strings, multi-byte text included", () => {
    const text = JSON.stringify({ s: `[[[[[ ,,,,, \\" \\\\ " ] ü 🌱 ${"[".repeat(50)}`, t: ["a,b,c,d,e"] });
    expect(checkJsonShape(bytes(text), 2, 1)).toBeNull();
  });

  it("refuses what is not JSON after the structural pass", () => {
    expect(checkJsonShape(bytes('{"a": '), 4, 10)?.error).toBe("MALFORMED_JSON");
    expect(checkJsonShape(bytes(""), 4, 10)?.error).toBe("MALFORMED_JSON");
    expect(checkJsonShape(bytes("]]]]"), 4, 10)?.error).toBe("MALFORMED_JSON");
  });
});

describe("isJsonLdInputError", () => {
  it("recognises document-loading and JSON-LD errors, also as a cause, and nothing else", () => {
    const named = (name: string) => Object.assign(new Error("x"), { name });
    expect(isJsonLdInputError(named("FetchError"))).toBe(true);
    expect(isJsonLdInputError(named("UrlError"))).toBe(true);
    expect(isJsonLdInputError(named("jsonld.InvalidUrl"))).toBe(true);
    expect(isJsonLdInputError(new Error("wrapped", { cause: named("UrlError") }))).toBe(true);
    expect(isJsonLdInputError(new Error("connection terminated"))).toBe(false);
    expect(isJsonLdInputError(new TypeError("x is undefined"))).toBe(false);
    expect(isJsonLdInputError("a string")).toBe(false);
  });
});
