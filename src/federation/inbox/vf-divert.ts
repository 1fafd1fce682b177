/**
 * ValueFlows activities that Fedify cannot read: Bonfire-spelled offers and needs, and
 * FEP-0837 claims spelled as the FEP's own example.
 *
 * Fedify 2.3.6 parses every inbox body with its own vocabulary before our listeners run. An
 * embedded object whose only type it does not know — Bonfire's `ValueFlows:Proposal` or
 * `ValueFlows:Intent`, which expand to `https://w3id.org/valueflows#…`, not VF 1.0's
 * `https://w3id.org/valueflows/ont/vf#…` — makes `Activity.fromJsonLd` throw
 * ("Invalid type"), and Fedify answers 400: the offer would be lost.
 *
 * The bridge's inbox guard (fastify-bridge.ts, `inbox.divert`) offers every inbox POST that
 * passed its body checks to `createVfDivert(...)` first. It takes a Create or Update whose
 * embedded object has a ValueFlows Proposal or Intent type (any spelling, vf.ts
 * `hasVfType`) AND that Fedify cannot parse; everything else (our own Note+Proposal
 * documents, FEP-0837 Proposals in VF 1.0 terms, every other activity but the claims
 * below) returns null and goes to Fedify as before. For the ones it takes, it does what
 * Fedify's inbox would:
 *
 *   1. verify the HTTP signature (draft-cavage or RFC 9421, Fedify's `verifyRequest`, with
 *      Fedify's document and context loaders and its default one-hour time window) and that
 *      the key belongs to the activity's `actor` (`doesActorOwnKey`) — else 401;
 *   2. key the activity (`inboxActivityRef`) and answer 202 to one already recorded;
 *   3. read the embedded object with the one proposal parser (`parseProposalJson`: it must
 *      be attributed to the actor, its id on the actor's server) and store it through
 *      `receiveRemoteProposal` under that key (only from an actor one of our pods follows —
 *      the service decides; the same activity again changes nothing).
 *
 * The same path takes one more thing Fedify cannot read: a FEP-0837 claim spelled exactly as
 * the FEP's example, `Offer{object: Agreement{stipulates: Commitment{satisfies: "<intent
 * id>"}}}` under a context where `satisfies` is a plain term. The string expands to a
 * literal where Fedify's Commitment expects an id, and its parser crashes (a TypeError that
 * is not one of its validation errors: the inbox would answer 500 and the sender retry
 * forever). Once the signature checks above pass, the string is read as the id it names
 * and the Offer goes to the same handler as any claim (inbox/claims.ts `onClaimOffer`).
 *
 * Answers: 202 when stored, ignored or refused (bad input is recorded as refused, with its
 * code, exactly as the inbox wrapper does, so a copy is not tried again); 400 for a
 * malformed activity (no usable actor or object); 401 for a missing or bad signature; a
 * transient failure (database, network) is thrown, so the bridge answers 500 and the sender
 * retries. One log line per activity, never a body.
 */
import { doesActorOwnKey, verifyRequest, type InboxContext } from "@fedify/fedify";
import { Activity, Offer } from "@fedify/vocab";
import { parseProposalJson } from "../../domain/congress/proposal-json.ts";
import { hasVfType } from "../../domain/congress/vf.ts";
import { findReceivedActivity, inboxActivityRef, markActivityProcessed, markActivityRefused } from "../../services/inbox.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import { receiveRemoteProposal } from "../../services/proposals.ts";
import type { HyphaeFederation } from "../federation.ts";
import { onClaimOffer } from "./claims.ts";
import { classifyInboxFailure } from "./failures.ts";

type Json = Record<string, unknown>;

const AS = "https://www.w3.org/ns/activitystreams#";
/** Fedify's default window for the signed Date (an hour either side of now). */
const SIGNATURE_TIME_WINDOW = { hours: 1 } as const;

const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** `Create`, `as:Create` or the full IRI → `Create`; anything we might divert, else null. */
function activityType(type: unknown): "Create" | "Update" | "Offer" | null {
  const t = Array.isArray(type) && type.length === 1 ? type[0] : type;
  if (typeof t !== "string") return null;
  const local = t.startsWith(AS) ? t.slice(AS.length) : t.startsWith("as:") ? t.slice(3) : t;
  return local === "Create" || local === "Update" || local === "Offer" ? local : null;
}

/** The embedded object of an activity (a lone element of a one-item list counts), or null. */
function embeddedObject(activity: Json): Json | null {
  const object = Array.isArray(activity.object) && activity.object.length === 1 ? activity.object[0] : activity.object;
  return isObject(object) ? object : null;
}

function httpIri(value: unknown): string | null {
  const v = isObject(value) ? (value.id ?? value["@id"]) : value;
  if (typeof v !== "string") return null;
  try {
    const url = new URL(v);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Pure first sieve: a Create or Update whose embedded object is typed as a ValueFlows
 * Proposal or Intent in some spelling. Whether Fedify can read it is decided afterwards.
 */
export function isVfDivertCandidate(json: unknown): boolean {
  return divertKind(json) !== null;
}

/**
 * What a candidate would be read as: an offer or need (Create/Update of a ValueFlows
 * Proposal or Intent), or a claim (an Offer of an embedded ValueFlows Agreement).
 */
function divertKind(json: unknown): "proposal" | "claim" | null {
  if (!isObject(json)) return null;
  const type = activityType(json.type ?? json["@type"]);
  const object = type && embeddedObject(json);
  if (!object) return null;
  const objectType = object.type ?? object["@type"];
  if (type === "Offer") return hasVfType(objectType, "Agreement") ? "claim" : null;
  return hasVfType(objectType, "Proposal") || hasVfType(objectType, "Intent") ? "proposal" : null;
}

type Loaders = NonNullable<Parameters<typeof Activity.fromJsonLd>[1]>;

/**
 * True when Fedify's vocabulary cannot read the activity: for a proposal, an object type it
 * does not know ("Invalid type"); for a claim, any TypeError from its parser (the literal
 * `satisfies` crashes it). Anything else (a context that cannot be loaded, broken JSON-LD)
 * is Fedify's to answer.
 */
async function fedifyCannotRead(json: Json, kind: "proposal" | "claim", loaders: Loaders): Promise<boolean> {
  try {
    await Activity.fromJsonLd(json, loaders);
    return false;
  } catch (error) {
    if (!(error instanceof TypeError)) return false;
    return kind === "claim" || /Invalid type/i.test(error.message);
  }
}

/**
 * The claim with each Commitment's `satisfies` given as a node (`{ id }`) instead of a
 * string, so it expands to the id it names whatever the sender's context said.
 */
function satisfiesAsIds(activity: Json): Json {
  const agreement = embeddedObject(activity)!;
  const patched: Json = { ...agreement };
  for (const key of Object.keys(agreement)) {
    const commitment = agreement[key];
    if (!/(^|[:#])stipulates(Reciprocal)?$/.test(key) || !isObject(commitment)) continue;
    const fixed: Json = { ...commitment };
    for (const prop of Object.keys(commitment)) {
      if (/(^|[:#])satisfies$/.test(prop) && typeof commitment[prop] === "string") fixed[prop] = { id: commitment[prop] };
    }
    patched[key] = fixed;
  }
  return { ...activity, object: patched };
}

const PERSONAL_INBOX = /^\/pods\/([^/]+)\/inbox\/?$/;

function answer(status: number, body?: { error: string; message: string }): Response {
  if (!body) return new Response(null, { status });
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" } });
}

/** The `divert` hook for the bridge's inbox guard (see the file comment). */
export function createVfDivert(federation: HyphaeFederation, deps: ServiceDeps): (json: unknown, request: Request) => Promise<Response | null> {
  return async (json, request) => {
    const kind = divertKind(json);
    if (!kind) return null;
    const activity = json as Json;
    const ctx = federation.createContext(request, deps);
    const loaders = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
    if (!(await fedifyCannotRead(activity, kind, loaders))) return null;

    const log = deps.log;
    const type = activityType(activity.type ?? activity["@type"])!;
    const actorIri = httpIri(activity.actor);
    const object = embeddedObject(activity)!;
    if (!actorIri) {
      log.warn("Inbox activity refused", { type, code: "INCOMPLETE_ACTIVITY", reason: "no http(s) actor" });
      return answer(400, { error: "INCOMPLETE_ACTIVITY", message: `An ${type === "Offer" ? "Offer" : "activity"} needs an http(s) actor.` });
    }

    const key = await verifyRequest(request, { ...loaders, timeWindow: SIGNATURE_TIME_WINDOW });
    if (!key) {
      log.warn("Inbox activity refused: its HTTP signature did not verify", { type, actor: actorIri });
      return answer(401, { error: "INVALID_SIGNATURE", message: "The request's HTTP signature could not be verified." });
    }
    const owner = new Activity({ id: httpIri(activity.id) ? new URL(httpIri(activity.id)!) : null, actor: new URL(actorIri) });
    if (!(await doesActorOwnKey(owner, key, loaders))) {
      log.warn("Inbox activity refused: signed by a key its actor does not own", { type, actor: actorIri, keyId: key.id?.href ?? null });
      return answer(401, { error: "KEY_NOT_ACTORS", message: "The request was signed with a key that does not belong to the activity's actor." });
    }

    // Keyed as the inbox wrapper keys it (an LD signature is not part of the activity).
    const { signature: _ldSignature, ...body } = activity;
    const ref = inboxActivityRef({ id: typeof activity.id === "string" ? activity.id : null, actorIri, type, body });
    const earlier = await findReceivedActivity(deps, ref.key);
    if (earlier) {
      log.debug("Inbox activity already received", { id: ref.key, type, outcome: earlier.outcome });
      return answer(202);
    }

    let claim: Offer | null = null;
    if (kind === "claim") {
      try {
        claim = await Offer.fromJsonLd(satisfiesAsIds(body), loaders);
      } catch (error) {
        log.warn("Inbox activity refused", { id: ref.key, type, actor: actorIri, code: "INVALID_ACTIVITY", reason: String(error) });
        return answer(400, { error: "INVALID_ACTIVITY", message: "The Offer could not be read as a FEP-0837 claim." });
      }
    }

    try {
      if (claim) {
        // The handler every claim goes through; it reads what an inbox context gives it.
        const recipient = PERSONAL_INBOX.exec(new URL(request.url).pathname)?.[1] ?? null;
        const inboxCtx = {
          data: deps,
          origin: ctx.origin,
          recipient: recipient === null ? null : decodeURIComponent(recipient),
          documentLoader: ctx.documentLoader,
          contextLoader: ctx.contextLoader,
          getDocumentLoader: ctx.getDocumentLoader.bind(ctx),
        } as unknown as InboxContext<ServiceDeps>;
        await onClaimOffer(inboxCtx, claim, ref);
      } else {
        const copy = parseProposalJson(object, { actorIri, now: deps.clock.now() });
        const outcome = await receiveRemoteProposal(deps, { ...copy, activity: ref });
        if (outcome === "not_followed") log.debug("ValueFlows proposal from an actor none of our pods follows: not stored", { id: ref.key, type, actor: actorIri });
      }
    } catch (error) {
      const failure = classifyInboxFailure(error);
      if (failure.kind === "transient") throw error; // → 500: the sender retries
      if (failure.kind === "refused") {
        log.warn("Inbox activity refused", { id: ref.key, type, actor: actorIri, code: failure.code, reason: failure.reason });
        await markActivityRefused(deps, ref, failure.code);
      } else {
        log.error("Inbox activity failed", { id: ref.key, type, actor: actorIri, error: failure.reason });
      }
      return answer(202);
    }
    // A no-op when the service recorded it with its effect.
    await markActivityProcessed(deps, ref);
    return answer(202);
  };
}
