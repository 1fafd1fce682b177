/**
 * The register of members: pseudonyms (m- and hex digits), private name and contact for
 * stewards only, refusals naming the field, and nothing private in the logs of book
 * writes (names, contacts, pseudonyms, private memos, receipt numbers).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Logger, ServiceDeps } from "../../src/services/ports.ts";
import { addMember, addResource, listMembers } from "../../src/services/books.ts";
import { publicEntries, recordEntry, verifyLedger } from "../../src/services/ledger.ts";
import { pseudonymFrom } from "../../src/domain/books/entries.ts";
import { PSEUDONYM } from "../../src/domain/books/model.ts";
import { DomainError } from "../../src/domain/errors.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

const POD = "oak-street";

let node: TestNode;
let deps: ServiceDeps;
const logged: string[] = [];

const recording: Logger = {
  debug: (m, p) => void logged.push(JSON.stringify([m, p])),
  info: (m, p) => void logged.push(JSON.stringify([m, p])),
  warn: (m, p) => void logged.push(JSON.stringify([m, p])),
  error: (m, p) => void logged.push(JSON.stringify([m, p])),
};

beforeAll(async () => {
  node = await startTestNode({ podSlug: POD });
  deps = { ...node.deps, log: recording };
  await addResource(deps, POD, { key: "tools", name: "Tool loans", unit: "one", category: "repair" });
});

afterAll(async () => {
  await node?.stop();
});

describe("members", () => {
  it("registers members under distinct pseudonyms; stewards see name and contact", async () => {
    const ada = await addMember(deps, POD, { name: "  Ada Lovelace ", contact: "ada@example.org" });
    expect(ada).toMatchObject({ name: "Ada Lovelace", contact: "ada@example.org" });
    expect(ada.pseudonym).toMatch(/^m-[0-9a-f]{4}$/);
    expect(ada.joinedAt).toBeInstanceOf(Date);
    const others = [];
    for (let i = 0; i < 20; i++) others.push(await addMember(deps, POD, { name: `Neighbour ${i}` }));
    const all = await listMembers(deps, POD);
    expect(all).toHaveLength(21);
    expect(new Set(all.map((m) => m.pseudonym)).size).toBe(21);
    expect(all.every((m) => PSEUDONYM.test(m.pseudonym))).toBe(true);
    expect(all.find((m) => m.pseudonym === ada.pseudonym)).toEqual(ada);
    expect(others[0]!.contact).toBeNull();
  });

  it("refuses a member without a name, with unknown fields, or with too long a contact", async () => {
    const codes = async (input: unknown) =>
      addMember(deps, POD, input).then(
        () => null,
        (e: unknown) => (e instanceof DomainError ? { code: e.code, field: e.details?.field } : String(e)),
      );
    expect(await codes({})).toEqual({ code: "FIELD_REQUIRED", field: "name" });
    expect(await codes({ name: "   " })).toEqual({ code: "FIELD_REQUIRED", field: "name" });
    expect(await codes({ name: "Bo", pseudonym: "m-beef" })).toEqual({ code: "UNKNOWN_FIELD", field: "pseudonym" });
    expect(await codes({ name: "Bo", contact: "c".repeat(501) })).toEqual({ code: "TOO_LONG", field: "contact" });
    expect(await codes({ name: "B\uD800o" })).toEqual({ code: "INVALID_TEXT", field: "name" });
    expect(await listMembers(deps, POD)).toHaveLength(21);
  });

  it("makes longer pseudonyms from the same random bytes when asked", () => {
    const bytes = new Uint8Array([0xab, 0xcd, 0xef, 0x01, 0x23, 0x45]);
    expect(pseudonymFrom(bytes, 4)).toBe("m-abcd");
    expect(pseudonymFrom(bytes, 6)).toBe("m-abcdef");
    expect(pseudonymFrom(bytes, 12)).toBe("m-abcdef012345");
    expect(() => pseudonymFrom(bytes, 14)).toThrow();
  });

  it("keeps names, contacts, pseudonyms, private memos and receipts out of logs and public entries", async () => {
    const [ada] = await listMembers(deps, POD);
    await recordEntry(deps, POD, { kind: "contribution", resource: "tools", quantity: "3", member: ada!.pseudonym, privateMemo: "her late husband's drill" });
    const draw = await recordEntry(deps, POD, { kind: "draw", resource: "tools", quantity: "1", fund: "capacity_building", member: ada!.pseudonym, privateMemo: "back by Friday" });
    expect(draw.receipt).toBeTruthy();
    expect((await verifyLedger(deps, POD)).ok).toBe(true);
    const published: string[] = [];
    for await (const e of publicEntries(deps, POD)) published.push(JSON.stringify(e));
    const secrets = ["Ada", "ada@example.org", ada!.pseudonym, "drill", "Friday", draw.receipt!];
    const text = logged.join("\n") + published.join("\n");
    expect(logged.length).toBeGreaterThan(20);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(published.join("\n")).toContain('"counterpartyKind":"member"');
  });
});
