/**
 * The pieces the inbox wrapper decides with: which failures are retried, which text can
 * never be stored, and how an activity without a usable id gets its key. Pure functions,
 * no database.
 */
import { describe, expect, it } from "vitest";
import { invalid, unavailable } from "../../src/domain/errors.ts";
import { findBadText } from "../../src/domain/text.ts";
import { classifyInboxFailure } from "../../src/federation/inbox/failures.ts";
import { canonicalJson, inboxActivityRef } from "../../src/services/inbox.ts";

const sqlError = (code: string, message = "db") => Object.assign(new Error(message), { code });
const fetchError = (status?: number) =>
  Object.assign(new Error(`HTTP ${status}`), { name: "FetchError", response: status === undefined ? undefined : { status } });

describe("classifyInboxFailure", () => {
  it.each([
    ["a serialisation conflict", sqlError("40001")],
    ["a deadlock", sqlError("40P01")],
    ["a lost connection (SQLSTATE 08006)", sqlError("08006")],
    ["too many connections", sqlError("53300")],
    ["an administrator shutdown", sqlError("57P01")],
    ["a lock not available", sqlError("55P03")],
    ["a 503 from the remote", fetchError(503)],
    ["a 429 from the remote", fetchError(429)],
    ["a refused connection", Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect"), { code: "ECONNREFUSED" }) })],
    ["an undici timeout", Object.assign(new TypeError("fetch failed"), { cause: { code: "UND_ERR_CONNECT_TIMEOUT" } })],
    ["an abort", Object.assign(new Error("aborted"), { name: "AbortError" })],
    ["pg losing its connection", new Error("Connection terminated unexpectedly")],
    ["a service that is unavailable", unavailable("BUSY", "try later")],
  ])("retries %s", (_what, error) => {
    expect(classifyInboxFailure(error).kind).toBe("transient");
  });

  it.each([
    ["a domain rule", invalid("NOT_OUR_ACTOR", "no"), "NOT_OUR_ACTOR"],
    ["a NUL PostgreSQL cannot store", sqlError("22P05", "unsupported Unicode escape sequence"), "BAD_TEXT"],
    ["an invalid byte sequence", sqlError("22021"), "BAD_TEXT"],
    ["a value over a column's limit", sqlError("22001"), "VALUE_TOO_LONG"],
    ["another data exception", sqlError("22007"), "UNSTORABLE_VALUE"],
    ["a broken check constraint", sqlError("23514"), "CONSTRAINT_VIOLATION"],
    ["a 404 from the remote", fetchError(404), "REMOTE_DOCUMENT_UNAVAILABLE"],
    ["a 410 from the remote", fetchError(410), "REMOTE_DOCUMENT_UNAVAILABLE"],
    ["a redirect loop", fetchError(), "REMOTE_DOCUMENT_UNAVAILABLE"],
    ["a document that is not JSON", new SyntaxError("Unexpected token"), "INVALID_JSON"],
  ])("refuses %s without retrying", (_what, error, code) => {
    expect(classifyInboxFailure(error)).toMatchObject({ kind: "refused", code });
  });

  it("treats anything else as our own fault, not retried", () => {
    expect(classifyInboxFailure(new TypeError("Cannot read properties of undefined")).kind).toBe("fault");
    expect(classifyInboxFailure(sqlError("42703", "column does not exist")).kind).toBe("fault");
  });
});

describe("findBadText", () => {
  it("finds NUL and lone surrogates with their path, and accepts clean text including pairs", () => {
    expect(findBadText({ title: "ok", services: [{ name: "a\u0000b" }] })).toEqual({ path: "services[0].name", problem: expect.stringMatching(/NUL/) });
    expect(findBadText(["fine", "x\ud800"])).toEqual({ path: "[1]", problem: expect.stringMatching(/surrogate/) });
    expect(findBadText("\udc00 low alone")).toMatchObject({ path: "" });
    expect(findBadText({ "bad\u0000key": 1 })).toMatchObject({ problem: expect.stringMatching(/key/) });
    expect(findBadText({ emoji: "🌿 garden", n: 3, nested: { ok: [null, true, "é"] } })).toBeNull();
  });
});

describe("inboxActivityRef", () => {
  const actor = "https://social.example/users/alice";

  it("uses the id when it is on the actor's own server", () => {
    expect(inboxActivityRef({ id: "https://social.example/a/1", actorIri: actor, type: "Follow", body: null })).toEqual({
      key: "https://social.example/a/1",
      actorIri: actor,
      type: "Follow",
    });
  });

  it("uses a digest of signer and canonical body for a missing or foreign id, the same for the same body in any key order", () => {
    const a = inboxActivityRef({ id: null, actorIri: actor, type: "Like", body: { type: "Like", object: "x", actor } });
    const b = inboxActivityRef({ id: null, actorIri: actor, type: "Like", body: { actor, object: "x", type: "Like" } });
    const other = inboxActivityRef({ id: null, actorIri: "https://other.example/u/bob", type: "Like", body: { type: "Like", object: "x", actor } });
    const foreign = inboxActivityRef({ id: "https://elsewhere.example/a/1", actorIri: actor, type: "Like", body: { id: "https://elsewhere.example/a/1" } });
    expect(a.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.key).toBe(a.key);
    expect(other.key).not.toBe(a.key);
    expect(foreign.key).toMatch(/^sha256:/);
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});
