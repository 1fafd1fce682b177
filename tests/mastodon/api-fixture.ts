/**
 * The node the Mastodon client API tests read (api-shapes, api-paging, api-errors, cors):
 * two pods with a charter, a books summary in two versions, offers and needs, and behind
 * them a member with a contact and a ledger entry with a private memo that must never show.
 * Also the entity field lists from mastodon-interop.md §14 and a shape checker.
 */
import { expect } from "vitest";
import { addMember, addResource } from "../../src/services/books.ts";
import { publishCharterRevision } from "../../src/services/charters.ts";
import { addIndicator, recordIndicatorCount } from "../../src/services/indicators.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createPod } from "../../src/services/pods.ts";
import type { ServiceDeps } from "../../src/services/ports.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { publishSummaryOutcome } from "../../src/services/summaries.ts";
import { startTestNode, type TestNode } from "../helpers/node.ts";

export const A = "oak-street";
export const B = "elm-row";
export const MEMBER = "Quentin Marrowby";
export const CONTACT = "quentin.m@example.org";
export const MEMO = "SECRET-MEMO about Quentin's rent";
/** What must never appear in an answer. */
export const SECRETS = [MEMBER, "Marrowby", CONTACT, MEMO, "SECRET-MEMO"];
export const ELM_ICON = "https://img.example/elm-row.png";

/** Statuses of oak-street: the charter, seven offers and needs, a books summary. */
export const OAK_POSTS = 9;
/** Every pod's statuses (elm-row has one offer). */
export const ALL_POSTS = OAK_POSTS + 1;

/** Type of a field: "string", "number", "boolean", "array", "object", "null", or alternatives "string|null". */
type Shape = Record<string, string>;

/** Fields Mastodon always sends (app/serializers/rest/*, masto.js and megalodon types), and their types. */
export const ACCOUNT: Shape = {
  id: "string", username: "string", acct: "string", display_name: "string", locked: "boolean", bot: "boolean",
  discoverable: "boolean", indexable: "boolean", group: "boolean", created_at: "string", note: "string", url: "string",
  uri: "string", avatar: "string", avatar_static: "string", header: "string", header_static: "string",
  followers_count: "number", following_count: "number", statuses_count: "number", last_status_at: "string|null",
  emojis: "array", fields: "array", roles: "array", hide_collections: "boolean", feature_approval: "object",
  noindex: "boolean", moved: "null", suspended: "boolean", limited: "boolean",
};
export const STATUS: Shape = {
  id: "string", uri: "string", url: "string", created_at: "string", edited_at: "string|null", account: "object",
  content: "string", visibility: "string", sensitive: "boolean", spoiler_text: "string", language: "string|null",
  in_reply_to_id: "null", in_reply_to_account_id: "null", reblog: "null", media_attachments: "array", mentions: "array",
  tags: "array", emojis: "array", replies_count: "number", reblogs_count: "number", favourites_count: "number",
  quotes_count: "number", card: "null", poll: "null", application: "null", quote: "null", quote_approval: "object",
};
/** Per-user flags: only with a token, which no client has here. */
export const STATUS_USER_FLAGS = ["favourited", "reblogged", "muted", "bookmarked", "pinned", "filtered"];
export const TAG: Shape = { name: "string", url: "string" };
export const INSTANCE_V2: Shape = {
  domain: "string", title: "string", version: "string", source_url: "string", description: "string", usage: "object",
  thumbnail: "object", icon: "array", languages: "array", configuration: "object", registrations: "object",
  api_versions: "object", contact: "object", rules: "array",
};
export const INSTANCE_V2_CONFIGURATION: Shape = {
  urls: "object", vapid: "object", accounts: "object", statuses: "object", media_attachments: "object", polls: "object", translation: "object",
};
export const INSTANCE_V1: Shape = {
  uri: "string", title: "string", short_description: "string", description: "string", email: "string", version: "string",
  urls: "object", stats: "object", thumbnail: "string", languages: "array", registrations: "boolean",
  approval_required: "boolean", invites_enabled: "boolean", configuration: "object", contact_account: "object|null", rules: "array",
};
export const STATUS_LIMITS: Shape = { max_characters: "number", max_media_attachments: "number", characters_reserved_per_url: "number" };

const typeOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** Every field of `shape` is present with its type; the mismatches are listed by name. */
export function expectShape(value: unknown, shape: Shape, what: string): void {
  expect(typeOf(value), what).toBe("object");
  const record = value as Record<string, unknown>;
  const wrong = Object.entries(shape)
    .filter(([key, type]) => !(key in record) || !type.split("|").includes(typeOf(record[key])))
    .map(([key, type]) => `${key}: ${type} expected, got ${key in record ? typeOf(record[key]) : "nothing"}`);
  expect(wrong, what).toEqual([]);
}

export interface ApiNode {
  node: TestNode;
  deps: ServiceDeps;
  /** The deps with the clock stopped at `iso`. */
  at(iso: string): ServiceDeps;
  /** GET (or any method) on the node; every body read is kept in `seen`. */
  get(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  seen: string[];
  /** oak-street's account as the API gave it. */
  oak: any;
  elm: any;
  stop(): Promise<void>;
}

export async function startApiNode(): Promise<ApiNode> {
  const node = await startTestNode({ podSlug: A, podName: "Oak Street" });
  const deps = node.deps;
  const at = (iso: string): ServiceDeps => ({ ...deps, clock: { now: () => new Date(iso) } });
  const seen: string[] = [];
  const get = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${node.origin}${path}`, init);
    const text = await response.text();
    seen.push(text);
    let body: any = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { notJson: text.slice(0, 80) };
    }
    return { status: response.status, headers: response.headers, body, text };
  };

  // The books: a member with a contact, a draw for them with a private memo.
  await addResource(at("2027-03-29T08:00:00Z"), A, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
  await addIndicator(at("2027-03-29T08:00:00Z"), A, { key: "meals", name: "Meals cooked", source: "count" });
  const member = await addMember(at("2027-03-29T08:00:00Z"), A, { name: MEMBER, contact: CONTACT });
  await recordEntry(at("2027-03-30T08:30:00Z"), A, { kind: "contribution", resource: "squash", quantity: "40", counterpartyLabel: "allotment" });
  await recordEntry(at("2027-03-30T08:40:00Z"), A, { kind: "draw", resource: "squash", quantity: "2", fund: "survival", member: member.pseudonym, privateMemo: MEMO });
  await publishCharterRevision(at("2027-04-01T09:00:00Z"), A, {
    title: "Oak Street charter",
    changeNote: "First charter",
    services: [{ name: "Squash share", description: "Squash from the allotments every week.", category: "food", since: "2026-01-04" }],
  });
  // Seven offers and needs an hour apart.
  for (let i = 0; i < 7; i++) {
    const when = at(`2027-04-02T${String(10 + i).padStart(2, "0")}:00:00Z`);
    if (i % 2 === 0) await createProposal(when, A, "offer", { resource: "squash", name: `Squash lot ${i}`, quantity: "4" });
    else await createProposal(when, A, "need", { name: `Jars batch ${i}`, quantity: "10", unit: "one", category: "food" });
  }
  await createPod(at("2027-04-03T00:00:00Z"), {
    slug: B,
    name: "Elm Row",
    summary: "Tools & seeds.\n\n<b>Spades</b> on Saturdays.",
    iconUrl: ELM_ICON,
    manuallyApprovesFollowers: true,
    // oak-street keeps the default, hidden.
    networkVisibility: "public",
  });
  await createProposal(at("2027-04-03T10:00:00Z"), B, "offer", { name: "Spades", quantity: "3", unit: "one", category: "tools" });
  // The week of Monday 29 March, then a count dated in it: version 2 of the same status (edited).
  await publishSummaryOutcome(at("2027-04-05T10:00:00Z"), A, "week", new Date("2027-03-31T00:00:00Z"));
  await recordIndicatorCount(at("2027-04-06T10:00:00Z"), A, "meals", { countedOn: "2027-03-31", count: "12" });
  await publishSummaryOutcome(at("2027-04-06T10:00:01Z"), A, "week", new Date("2027-03-31T00:00:00Z"));

  const oak = (await get(`/api/v1/accounts/lookup?acct=${A}`)).body;
  const elm = (await get(`/api/v1/accounts/lookup?acct=${B}`)).body;
  return { node, deps, at, get, seen, oak, elm, stop: () => node.stop() };
}

export const idsOf = (statuses: readonly any[]): string[] => statuses.map((s) => s.id as string);

/** The `next` and `prev` targets of a Link header (null when missing). */
export function linksOf(header: string | null): { next: string | null; prev: string | null } {
  return {
    next: /<([^>]+)>; rel="next"/.exec(header ?? "")?.[1] ?? null,
    prev: /<([^>]+)>; rel="prev"/.exec(header ?? "")?.[1] ?? null,
  };
}
