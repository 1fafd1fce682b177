/**
 * What services depend on. The composition root (src/wiring.ts) supplies real
 * implementations; tests may supply a fixed clock.
 */
import type { Kysely, Transaction } from "kysely";
import type { Config } from "../config.ts";
import type { Database } from "../db/schema.ts";
import type { RemoteActorInfo } from "../domain/actors.ts";

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A random UUID (v4). */
  uuid(): string;
}

export interface Logger {
  debug(message: string, properties?: Record<string, unknown>): void;
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

/** An outbound federation event, recorded in the same transaction as the change that caused it. */
export type OutboundEvent =
  | { kind: "accept_follow"; podId: string; actorIri: string; followIri: string }
  | { kind: "reject_follow"; podId: string; actorIri: string; followIri: string }
  | { kind: "send_follow"; podId: string; actorIri: string; followIri: string }
  | { kind: "undo_follow"; podId: string; actorIri: string; followIri: string }
  /** A charter revision or re-confirmation (charter_events row) to send to followers. */
  | { kind: "charter_published"; podId: string; charterEventId: string }
  /** The pod retired: a Delete of its actor (actor = object) to Public and its followers. */
  | { kind: "delete_actor"; podId: string }
  /** The pod's profile changed (name, summary, icon, follower approval): an Update of its actor to its followers. */
  | { kind: "update_actor"; podId: string }
  /** A period summary of the open books (book_summaries row) to send to followers. */
  | { kind: "summary_published"; podId: string; summaryId: string }
  /**
   * An offer or need (proposals row) to send to followers: Create at version 1, Update
   * after (a claim took some, it was withdrawn, it expired, it was edited).
   */
  | { kind: "proposal_published"; podId: string; proposalId: string; version: number }
  /** Our claim on a neighbour's proposal (claims row, outgoing): Offer(Agreement) to the proposer. */
  | { kind: "claim_offer"; podId: string; claimId: string; actorIri: string }
  /** Our answer to an incoming claim (claims row): Accept with the Agreement, or Reject with the reason. */
  | { kind: "claim_answer"; podId: string; claimId: string; actorIri: string }
  /** Our side of a transfer (transfers row): Create(EconomicEvent) to the other pod. */
  | { kind: "transfer_event"; podId: string; transferId: string; actorIri: string }
  /** A discrepancy we flagged on a transfer (transfers row): Flag to the other pod. */
  | { kind: "transfer_flag"; podId: string; transferId: string; actorIri: string };

/**
 * Where outbound events go. `record` writes inside the caller's transaction;
 * `flush` is called after commit and hands recorded events to federation delivery.
 */
export interface Outbox {
  record(trx: Transaction<Database>, event: OutboundEvent): Promise<void>;
  flush(): Promise<void>;
}

export type { RemoteActorInfo } from "../domain/actors.ts";

/** Looks up actors on other servers (implemented in src/federation with signed fetches). */
export interface ActorDirectory {
  /** Resolve `@user@host`, `user@host` or an actor URL, fetching as the given pod. */
  resolve(podSlug: string, handleOrIri: string): Promise<RemoteActorInfo>;
}

/** The node's own IRIs, built in one place (src/federation/uris.ts). */
export interface PodUris {
  actor(slug: string): URL;
  profile(slug: string): URL;
  follow(slug: string, id: string): URL;
  charter(slug: string): URL;
  /** The HTML page of revision n. */
  charterRevision(slug: string, n: number): URL;
  /** The ActivityPub id of revision n's snapshot. */
  charterRevisionObject(slug: string, n: number): URL;
  /** The open-books page (`/pods/{slug}/books`). */
  books(slug: string): URL;
  /** The public JSON export of the ledger. */
  booksExport(slug: string): URL;
  /** A commons receipt's page. */
  receipt(slug: string, number: string): URL;
  /** A period summary: its Note id and HTML page (`/pods/{slug}/books/summaries/{kind}-{YYYY-MM-DD}`). */
  summary(slug: string, periodKind: string, periodStartDate: string): URL;
  /** One version's snapshot of a summary (`?version=n` on the summary's id). */
  summaryVersion(slug: string, periodKind: string, periodStartDate: string, version: number): URL;
  /** A hashtag's page (`/tags/{tag}`, lowercased), what Notes link their hashtags to. */
  tag(name: string): URL;
  /** An offer (`/pods/{slug}/offers/{n}`) or a need (`/pods/{slug}/needs/{n}`): its id and HTML page. */
  proposal(slug: string, purpose: "offer" | "request", number: number): URL;
  /** Our claim's Offer activity (`/pods/{slug}/claims/{id}`). */
  claim(slug: string, claimId: string): URL;
  /** An Agreement our pod made, accepting a claim on its proposal (`/pods/{slug}/agreements/{claimId}`). */
  agreement(slug: string, claimId: string): URL;
  /** Our side of a transfer, an EconomicEvent (`/pods/{slug}/transfers/{id}`). */
  transfer(slug: string, transferId: string): URL;
  /** The congress view (`/pods/{slug}/congress`). */
  congress(slug: string): URL;
  /** The collection of the pod's congress neighbours (`/pods/{slug}/neighbours`). */
  neighbours(slug: string): URL;
}

export interface ServiceDeps {
  readonly db: Kysely<Database>;
  readonly config: Config;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly log: Logger;
  readonly outbox: Outbox;
  readonly actors: ActorDirectory;
  readonly uris: PodUris;
}

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: Ids = { uuid: () => crypto.randomUUID() };
