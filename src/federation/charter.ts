/**
 * The charter on the fediverse. It is a `Note` (Mastodon ignores the body of `Article`s)
 * with a stable id, readable HTML content, hashtags, and the structured charter under our
 * own JSON-LD namespace, with its context inlined.
 *
 * Fedify compacts activities it sends and drops terms it does not know, so the structured
 * data never travels inside Create/Update. Other Hyphae nodes dereference the Note's id
 * with a signed GET instead: our object dispatcher serves the full document verbatim.
 */
import type { Context } from "@fedify/fedify";
import { Activity, Create, Note, PUBLIC_COLLECTION, Update } from "@fedify/vocab";
import { isoDate, reviewStatus } from "../domain/charter/review.ts";
import type { Pod } from "../domain/pods.ts";
import { charterEventSnapshot, countCharterHistory, findCharter, getCharterRevision, listCharterHistory } from "../services/charters.ts";
import { charterNoteParts, currentCharterInput, type CharterNoteInput } from "../services/notes.ts";
import { findPodById, findPodCached } from "../services/pods.ts";
import type { ServiceDeps } from "../services/ports.ts";
import type { HyphaeFederation } from "./federation.ts";
import { dateToInstant } from "./temporal.ts";
import { PATHS, charterEventUrl, charterRevisionId, charterUrl, podUris, tagUrl } from "./uris.ts";

/** Our vocabulary. Terms are defined inline in every document, so nothing is fetched. */
export const HYPHAE_NS = "https://hyphae-pods.github.io/ns#";

export const CHARTER_CONTEXT = {
  hyphae: HYPHAE_NS,
  xsd: "http://www.w3.org/2001/XMLSchema#",
  Hashtag: "as:Hashtag",
  // FEP-bad1's term for an object's history collection.
  history: { "@id": "https://w3id.org/fep/bad1/history", "@type": "@id" },
  charterRevision: { "@id": "hyphae:charterRevision", "@type": "xsd:integer" },
  revisionOf: { "@id": "hyphae:revisionOf", "@type": "@id" },
  changeNote: "hyphae:changeNote",
  reviewedOn: { "@id": "hyphae:reviewedOn", "@type": "xsd:date" },
  reviewDue: { "@id": "hyphae:reviewDue", "@type": "xsd:date" },
  servicesNow: { "@id": "hyphae:servicesNow", "@container": "@list" },
  servicesNext: { "@id": "hyphae:servicesNext", "@container": "@list" },
  CharterService: "hyphae:CharterService",
  NextService: "hyphae:NextService",
  description: "hyphae:description",
  category: "hyphae:category",
  since: { "@id": "hyphae:since", "@type": "xsd:date" },
  figure: "hyphae:figure",
  why: "hyphae:why",
  targetDate: { "@id": "hyphae:targetDate", "@type": "xsd:date" },
  preamble: "hyphae:preamble",
  assemblyRhythm: "hyphae:assemblyRhythm",
  meetingPlace: "hyphae:meetingPlace",
  licence: { "@id": "hyphae:licence" },
  Licence: "hyphae:Licence",
} as const;

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/** What the Note says (id, page, content, dates: services/notes.ts) and whose it is. */
interface NoteParts extends CharterNoteInput {
  pod: Pod;
}

/** The charter as a JSON-LD Note (compact form, our context inlined). */
export function charterToNoteJson(ctx: Context<ServiceDeps>, parts: NoteParts): Record<string, unknown> {
  const origin = new URL(ctx.canonicalOrigin);
  const actor = ctx.getActorUri(parts.pod.slug);
  const note = charterNoteParts({ uris: podUris(origin) }, parts.pod, parts);
  const review = reviewStatus(parts.reviewedAt, parts.reviewedAt);
  const { content } = parts;
  return {
    "@context": [AS_CONTEXT, CHARTER_CONTEXT],
    id: note.uri,
    type: "Note",
    attributedTo: actor.href,
    content: note.contentHtml,
    url: note.url,
    published: note.published.toISOString(),
    ...(note.updated && { updated: note.updated.toISOString() }),
    to: [PUBLIC_COLLECTION.href],
    cc: [ctx.getFollowersUri(parts.pod.slug).href],
    tag: note.tags.map((t) => ({ type: "Hashtag", href: tagUrl(origin, t).href, name: `#${t}` })),
    ...(parts.snapshot && { revisionOf: charterUrl(origin, parts.pod.slug).href }),
    history: new URL(`${charterUrl(origin, parts.pod.slug).href}/history`).href,
    // Structured charter, for other pods.
    name: content.title,
    charterRevision: parts.revision,
    changeNote: parts.changeNote,
    reviewedOn: isoDate(parts.reviewedAt),
    reviewDue: isoDate(review.dueAt),
    preamble: content.preamble,
    servicesNow: content.services.map((s) => ({
      type: "CharterService",
      name: s.name,
      description: s.description,
      category: s.category,
      since: s.since,
      ...(s.figure !== null && { figure: s.figure }),
    })),
    servicesNext: content.nextServices.map((s) => ({ type: "NextService", name: s.name, why: s.why, targetDate: s.targetDate })),
    ...(content.assemblyRhythm !== null && { assemblyRhythm: content.assemblyRhythm }),
    ...(content.meetingPlace !== null && { meetingPlace: content.meetingPlace }),
    licence: { type: "Licence", name: content.licence.name, ...(content.licence.url && { url: content.licence.url }) },
  };
}

/**
 * Rendered Notes per charter URL, keyed by the charter's `updated` (revisions never
 * change, so their key is fixed). Parsing our own JSON keeps it as the served document.
 */
const noteCache = new Map<string, { stamp: number; note: Note }>();

async function cachedNote(ctx: Context<ServiceDeps>, key: string, stamp: number, build: () => Record<string, unknown>): Promise<Note> {
  const hit = noteCache.get(key);
  if (hit && hit.stamp === stamp) return hit.note;
  const note = await Note.fromJsonLd(build(), { contextLoader: ctx.contextLoader, documentLoader: ctx.documentLoader });
  if (noteCache.size > 5000) noteCache.clear();
  noteCache.set(key, { stamp, note });
  return note;
}

async function revisionNote(ctx: Context<ServiceDeps>, pod: Pod, asked: string): Promise<Note | null> {
  if (!/^[1-9]\d{0,8}$/.test(asked)) return null;
  const number = Number(asked);
  const revision = await getCharterRevision(ctx.data, pod.slug, number).catch(() => null);
  if (!revision) return null;
  const origin = new URL(ctx.canonicalOrigin);
  const id = charterRevisionId(origin, pod.slug, number);
  return cachedNote(ctx, id.href, 0, () =>
    charterToNoteJson(ctx, {
      pod,
      content: revision.content,
      changeNote: revision.changeNote,
      revision: number,
      published: revision.createdAt,
      updated: null,
      reviewedAt: revision.createdAt,
      snapshot: true,
    }),
  );
}

/** The pod's current charter Note, or null when it has none. */
export async function currentCharterNote(ctx: Context<ServiceDeps>, pod: Pod): Promise<Note | null> {
  const charter = await findCharter(ctx.data, pod.slug);
  if (!charter) return null;
  const id = charterUrl(new URL(ctx.canonicalOrigin), pod.slug);
  return cachedNote(ctx, id.href, charter.updatedAt.getTime(), () => charterToNoteJson(ctx, { pod, ...currentCharterInput(charter) }));
}

export function registerCharter(federation: HyphaeFederation): void {
  // The charter, or with ?revision=n one of its revision snapshots.
  federation.setObjectDispatcher(Note, PATHS.charter, async (ctx, values) => {
    const pod = await findPodCached(ctx.data, values.identifier);
    if (!pod) return null;
    const asked = ctx.url.searchParams.get("revision");
    return asked === null ? currentCharterNote(ctx, pod) : revisionNote(ctx, pod, asked);
  });

  // FEP-bad1: the activities that made the charter what it is, newest first.
  federation
    .setOrderedCollectionDispatcher("charterHistory", Activity, PATHS.charterHistory, async (ctx, values) => {
      const pod = await findPodCached(ctx.data, values.identifier);
      if (!pod) return null;
      const items = await charterHistoryActivities(ctx, pod);
      return items.length ? { items } : null;
    })
    .setCounter(async (ctx, values) => {
      const pod = await findPodCached(ctx.data, values.identifier);
      return pod ? await countCharterHistory(ctx.data, pod.id) : null;
    });
}

/** Create/Update activities of the charter, newest first; objects are revision snapshots. */
export async function charterHistoryActivities(ctx: Context<ServiceDeps>, pod: Pod): Promise<Activity[]> {
  const origin = new URL(ctx.canonicalOrigin);
  const events = await listCharterHistory(ctx.data, pod.slug);
  return events.map((e) => historyActivity(ctx, pod.slug, e.id, e.kind, charterRevisionId(origin, pod.slug, e.revision), e.createdAt));
}

function historyActivity(ctx: Context<ServiceDeps>, slug: string, eventId: string, kind: string, object: URL | Note, at: Date): Activity {
  const origin = new URL(ctx.canonicalOrigin);
  const Kind = kind === "create" ? Create : Update;
  return new Kind({
    id: charterEventUrl(origin, slug, eventId),
    actor: ctx.getActorUri(slug),
    object,
    published: dateToInstant(at),
    to: PUBLIC_COLLECTION,
    cc: ctx.getFollowersUri(slug),
  });
}

/** The activity that federates one charter event: Create for the first revision, else Update. */
export async function charterEventToActivity(ctx: Context<ServiceDeps>, podId: string, eventId: string): Promise<{ slug: string; activity: Activity } | null> {
  const snapshot = await charterEventSnapshot(ctx.data, podId, eventId);
  if (!snapshot) return null;
  const { event, state, revision } = snapshot;
  const pod = await findPodById(ctx.data, podId);
  if (!pod) return null;
  const json = charterToNoteJson(ctx, {
    pod,
    content: revision.content,
    changeNote: revision.changeNote,
    revision: revision.number,
    published: state.publishedAt,
    updated: event.kind === "create" ? null : event.createdAt,
    reviewedAt: event.createdAt,
  });
  const note = await Note.fromJsonLd(json, { contextLoader: ctx.contextLoader, documentLoader: ctx.documentLoader });
  return { slug: pod.slug, activity: historyActivity(ctx, pod.slug, event.id, event.kind, note, event.createdAt) };
}
