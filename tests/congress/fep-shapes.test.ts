/**
 * Our ValueFlows documents, field by field against the FEP-0837 and FEP-3264 shapes.
 *
 * Two real nodes: oak-street (A) offers squash and needs oven time (with something in
 * return, in exact amounts), elm-row (B) follows it back and claims 10 kg; alice, on a Mastodon-shaped
 * server, claims 5 kg too, so the Accept A sends (through Fedify) is recorded as it
 * arrives. Then A records the transfer. We fetch, as an ActivityPub client would, the
 * Proposal (offer and need), B's claim Offer, the Agreement at its id, the Accept alice
 * received, and the EconomicEvent, and compare each with a reference document written from
 * the FEPs' text (fixtures/fep-references.ts):
 *
 * - both are expanded with the `jsonld` package, offline (the AS2 context from Fedify's
 *   preloaded contexts, nothing else), in safe mode: a term our context does not define
 *   would be dropped silently, and here it fails the test;
 * - on each node: the same types (vf:Proposal, vf:Intent, vf:Agreement, vf:Commitment,
 *   vf:EconomicEvent…), the same expanded property IRIs (vf:purpose, vf:publishes,
 *   vf:resourceQuantity → om2:hasUnit/om2:hasNumericalValue, vf:availableQuantity,
 *   vf:minimumQuantity, vf:satisfies, vf:stipulates, vf:fulfills, vf:action, vf:provider,
 *   vf:receiver…), the same value kinds (an id, a literal or an embedded node); every
 *   property the reference has, ours has too, except the ones listed as reference-only;
 * - one named difference: the FEPs' contexts leave satisfies/fulfills/provider/receiver/
 *   resourceConformsTo as plain terms (their values expand to strings), ours make them ids
 *   — Fedify 2.3.6 cannot read the string form at all (checked below);
 * - every vf: property we emit is a ValueFlows term, none of our own terms (fund, urgent,
 *   status…) is under vf:, and they all live under the hyphae: namespace;
 * - Fedify's own classes (Proposal, Offer, Accept, Agreement) read our documents back.
 */
import { createRequire } from "node:module";
import { sql } from "kysely";
import { Accept, Agreement, Offer, Proposal } from "@fedify/vocab";
import { preloadedContexts } from "@fedify/vocab-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HYPHAE_NS } from "../../src/federation/charter.ts";
import { AGREEMENT_CONTEXT } from "../../src/federation/claims.ts";
import { PROPOSAL_CONTEXT } from "../../src/federation/proposal.ts";
import { TRANSFER_CONTEXT } from "../../src/federation/transfers.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { addResource } from "../../src/services/books.ts";
import { acceptClaim, getClaim, listClaims, makeClaim, updateClaimRules } from "../../src/services/claims.ts";
import { listFollowing, requestFollow } from "../../src/services/follows.ts";
import { createProposal, getRemoteProposal } from "../../src/services/proposals.ts";
import { recordTransfer } from "../../src/services/transfers.ts";
import { postSigned, recordedJson, startFakeMastodon, type FakeMastodon, type FakeUser } from "../helpers/mastodon.ts";
import { startTestNode, waitFor, type TestNode } from "../helpers/node.ts";
import { AS2, OM2, VF, fep0837Accept, fep0837Offer, fep0837Proposal, fep3264EconomicEvent } from "./fixtures/fep-references.ts";

// ---------------------------------------------------------------------------------------
// The harness: offline JSON-LD expansion and shape comparison

type LdNode = Record<string, unknown>;
type Kind = "iri" | "literal" | "node";
type Loader = (url: string) => Promise<{ contextUrl: null; document: unknown; documentUrl: string }>;

const jsonld = createRequire(import.meta.url)("jsonld") as {
  expand(input: unknown, options: { documentLoader: Loader; safe?: boolean }): Promise<LdNode[]>;
};

/** Serves the contexts Fedify ships (AS2, security…) and refuses everything else. */
const offlineLoader: Loader = async (url) => {
  const document = preloadedContexts[url];
  if (!document) throw new Error(`refused to load ${url}: these tests expand offline`);
  return { contextUrl: null, document, documentUrl: url };
};

/**
 * The document's one top node, expanded. Safe mode throws on anything it would drop; a term
 * no context defines is not dropped but turned into a blank-node property (`_:fund`, the
 * AS2 context's `@vocab`), so those are refused here too.
 */
async function expand(document: unknown): Promise<LdNode> {
  const out = await jsonld.expand(document, { documentLoader: offlineLoader, safe: true });
  expect(out).toHaveLength(1);
  const undefinedTerms = [...vocabularyOf(out).props].filter((p) => p.startsWith("_:"));
  if (undefinedTerms.length > 0) throw new Error(`terms no context defines: ${undefinedTerms.join(", ")}`);
  return out[0]!;
}

const as = (local: string) => `${AS2}#${local}`;
const vf = (local: string) => `${VF}${local}`;
const om2 = (local: string) => `${OM2}${local}`;

function valuesOf(node: LdNode, prop: string): LdNode[] {
  const v = node[prop];
  return v === undefined ? [] : ((Array.isArray(v) ? v : [v]) as LdNode[]);
}

function one(node: LdNode, prop: string, what: string): LdNode {
  const values = valuesOf(node, prop);
  expect({ what, prop, count: values.length }).toEqual({ what, prop, count: 1 });
  return values[0]!;
}

function kindOf(value: LdNode): Kind {
  if ("@value" in value) return "literal";
  if ("@id" in value && Object.keys(value).length === 1) return "iri";
  return "node";
}

const typesOf = (node: LdNode): string[] => (node["@type"] as string[] | undefined) ?? [];
const literal = (node: LdNode, prop: string, what: string): unknown => one(node, prop, what)["@value"];
const iri = (node: LdNode, prop: string, what: string): unknown => one(node, prop, what)["@id"];
const propsOf = (node: LdNode): string[] => Object.keys(node).filter((k) => !k.startsWith("@")).sort();

/**
 * The one difference between the FEPs' contexts and ours: these VF object properties are
 * plain terms there (a string value expands to a literal), ids in ours.
 */
const ID_HERE_STRING_THERE = new Set([vf("satisfies"), vf("fulfills"), vf("provider"), vf("receiver"), vf("resourceConformsTo")]);

/** Each property: present once on both nodes, with the same kind of value. */
function expectSameShape(what: string, reference: LdNode, ours: LdNode, rules: [string, Kind][]): void {
  for (const [prop, kind] of rules) {
    const r = one(reference, prop, `${what} (reference)`);
    const o = one(ours, prop, `${what} (ours)`);
    if (kind === "iri" && ID_HERE_STRING_THERE.has(prop)) {
      expect({ what, prop, reference: kindOf(r), ours: kindOf(o) }).toEqual({ what, prop, reference: "literal", ours: "iri" });
      expect(URL.canParse(String(r["@value"]))).toBe(true);
    } else {
      expect({ what, prop, reference: kindOf(r), ours: kindOf(o) }).toEqual({ what, prop, reference: kind, ours: kind });
    }
  }
}

/** Every property of the reference node is on ours, except those named. */
function expectNoneMissing(what: string, reference: LdNode, ours: LdNode, referenceOnly: string[] = []): void {
  const missing = propsOf(reference).filter((p) => !(p in ours) && !referenceOnly.includes(p));
  expect({ what, missing }).toEqual({ what, missing: [] });
}

/** A Measure: an embedded node with om2:hasUnit and om2:hasNumericalValue, both literals. */
function expectMeasure(what: string, reference: LdNode, ours: LdNode, unit: string, value: string): void {
  expectSameShape(what, reference, ours, [
    [om2("hasUnit"), "literal"],
    [om2("hasNumericalValue"), "literal"],
  ]);
  expect({ what, unit: literal(ours, om2("hasUnit"), what), value: String(literal(ours, om2("hasNumericalValue"), what)) }).toEqual({ what, unit, value });
}

/** The ValueFlows 1.0 properties a document of ours may carry under vf:. */
const VF_TERMS = new Set([
  "purpose", "publishes", "reciprocal", "unitBased", "action", "provider", "receiver", "resourceConformsTo", "resourceClassifiedAs",
  "resourceQuantity", "availableQuantity", "minimumQuantity", "effortQuantity", "stipulates", "stipulatesReciprocal", "satisfies",
  "fulfills", "realizationOf", "hasPointInTime", "hasBeginning", "hasEnd", "finished", "note", "inScopeOf", "atLocation",
]);

/** Every property and type IRI in an expanded document, at any depth. */
function vocabularyOf(node: unknown, props = new Set<string>(), types = new Set<string>()): { props: Set<string>; types: Set<string> } {
  if (Array.isArray(node)) for (const n of node) vocabularyOf(n, props, types);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node as LdNode)) {
      if (k === "@type" && !("@value" in (node as LdNode))) for (const t of [v].flat()) types.add(String(t));
      if (!k.startsWith("@")) props.add(k);
      if (k !== "@value") vocabularyOf(v, props, types);
    }
  }
  return { props, types };
}

/** Fedify signs what it sends (LD signature, FEP-8b32 integrity proof) under this namespace. */
const SECURITY = "https://w3id.org/security#";

/** Our own terms (the hyphae: entries of our three contexts), by local name. */
const OUR_TERMS = [PROPOSAL_CONTEXT, AGREEMENT_CONTEXT, TRANSFER_CONTEXT].flatMap((ctx) =>
  Object.values(ctx)
    .map((v) => (typeof v === "string" ? v : (v as { "@id": string })["@id"]))
    .filter((v) => v.startsWith("hyphae:"))
    .map((v) => v.slice("hyphae:".length)),
);

function expectOwnTermsInOwnNamespace(what: string, expanded: LdNode): void {
  // The signatures Fedify attaches (an LD signature and an integrity proof, in the security
  // and Dublin Core vocabularies) are not ours to check here.
  const { [`${SECURITY}proof`]: _proof, [`${SECURITY}signature`]: _signature, ...content } = expanded;
  const { props, types } = vocabularyOf(content);
  for (const p of props) {
    const known = p.startsWith(`${AS2}#`) || p.startsWith(OM2) || p.startsWith(HYPHAE_NS) || (p.startsWith(VF) && VF_TERMS.has(p.slice(VF.length)));
    expect({ what, property: p, known }).toEqual({ what, property: p, known: true });
    if (p.startsWith(VF)) expect(OUR_TERMS).not.toContain(p.slice(VF.length));
  }
  for (const t of types) {
    const known = t.startsWith(`${AS2}#`) || t.startsWith(VF) || t.startsWith(OM2) || t.startsWith("http://www.w3.org/2001/XMLSchema#");
    expect({ what, type: t, known }).toEqual({ what, type: t, known: true });
  }
}

// ---------------------------------------------------------------------------------------
// Real documents from real nodes

const A = "oak-street";
const B = "elm-row";
const WAIT = 60_000;
const AP = { accept: "application/activity+json" };
const OVEN_SPEC = "https://www.wikidata.org/wiki/Q1060829";
const SQUASH_SPEC = "https://www.wikidata.org/wiki/Q7533";

let a: TestNode;
let b: TestNode;
let masto: FakeMastodon;
let alice: FakeUser;
const docs: { offer?: any; need?: any; claimOffer?: any; agreement?: any; accept?: any; event?: any } = {};
const ids: { offer?: string; need?: string; claimOffer?: string; agreement?: string; aliceOffer?: string; aliceAgreement?: string; event?: string } = {};

/** Nothing left to deliver or to handle on either node. */
async function settled(): Promise<boolean> {
  for (const node of [a, b]) {
    const { rows } = await sql<{ n: number }>`select (select count(*) from fedify_queue)::int + (select count(*) from outbox_events where sent_at is null and dead_at is null)::int as n`.execute(node.deps.db);
    if (rows[0]!.n > 0) return false;
  }
  return true;
}

async function dereference(url: string): Promise<any> {
  const response = await fetch(url, { headers: AP });
  expect(response.status).toBe(200);
  return response.json();
}

beforeAll(async () => {
  [a, b, masto] = await Promise.all([startTestNode({ podSlug: A }), startTestNode({ podSlug: B }), startFakeMastodon({ users: ["alice"] })]);
  alice = masto.user("alice");
  await requestFollow(b.deps, B, a.actorUrl());
  await requestFollow(a.deps, A, b.actorUrl());
  await waitFor(async () => (await listFollowing(a.deps, A)).some((f) => f.status === "accepted") && (await listFollowing(b.deps, B)).some((f) => f.status === "accepted"), WAIT, "the follows");

  await addResource(a.deps, A, { key: "squash", name: "Squash", unit: "kilogram", category: "food", specificationUri: SQUASH_SPEC });
  await recordEntry(a.deps, A, { kind: "contribution", resource: "squash", quantity: "60", counterpartyLabel: "allotment" });
  const until = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const offer = await createProposal(a.deps, A, "offer", {
    resource: "squash", name: "Squash", quantity: "40", minimum: "2", specificationUri: SQUASH_SPEC,
    description: "Butternut squash from the allotment.", location: "Oak Street allotments", availableUntil: until,
  });
  const need = await createProposal(a.deps, A, "need", {
    name: "Bread oven time", quantity: "4", unit: "hour", category: "care", unitBased: false, specificationUri: OVEN_SPEC, location: "Oak Street",
    reciprocal: { name: "Squash soup", unit: "kilogram", quantity: "2", specificationUri: "https://www.wikidata.org/wiki/Q12117" },
  });
  ids.offer = offer.url;
  ids.need = need.url;

  // B claims 10 kg; A's steward accepts.
  await waitFor(() => getRemoteProposal(b.deps, offer.url), WAIT, "B's copy of the offer");
  const claim = await makeClaim(b.deps, B, { proposal: offer.url, quantity: "10" });
  ids.claimOffer = claim.offer;
  const incoming = await waitFor(async () => (await listClaims(a.deps, A, { direction: "incoming" })).find((c) => c.offer === claim.offer), WAIT, "A to hold B's claim");
  ids.agreement = (await acceptClaim(a.deps, A, incoming.id)).agreement!;
  await waitFor(async () => (await getClaim(b.deps, B, claim.id)).status === "accepted", WAIT, "B to learn of the Accept");

  // alice (not a neighbour: left to the stewards) claims 5 kg; A accepts; her server records the Accept.
  await updateClaimRules(a.deps, A, { strangers: "review" });
  ids.aliceOffer = `${masto.origin}/users/alice/offers/1`;
  const aliceOffer = {
    "@context": [AS2, { vf: VF, om2: OM2, Agreement: "vf:Agreement", Commitment: "vf:Commitment", stipulates: "vf:stipulates", satisfies: { "@id": "vf:satisfies", "@type": "@id" }, resourceQuantity: "vf:resourceQuantity", hasUnit: "om2:hasUnit", hasNumericalValue: "om2:hasNumericalValue" }],
    id: ids.aliceOffer,
    type: "Offer",
    actor: alice.actorUrl,
    to: a.actorUrl(),
    object: { type: "Agreement", stipulates: { type: "Commitment", satisfies: `${offer.url}#primary`, resourceQuantity: { hasUnit: "kilogram", hasNumericalValue: "5" } } },
  };
  expect((await postSigned(`${a.actorUrl()}/inbox`, aliceOffer, { signer: alice })).status).toBe(202);
  const aliceClaim = await waitFor(async () => (await listClaims(a.deps, A, { direction: "incoming" })).find((c) => c.offer === ids.aliceOffer), WAIT, "A to hold alice's claim");
  ids.aliceAgreement = (await acceptClaim(a.deps, A, aliceClaim.id)).agreement!;
  docs.accept = await waitFor(() => masto.inbox.map(recordedJson).find((x) => x?.type === "Accept" && x.object === ids.aliceOffer), WAIT, "the Accept at alice's server");

  // A gives B the 10 kg; B books it and acknowledges. Stop only once both nodes are quiet
  // (a node stopping mid-exchange waits for its peer's answers).
  ids.event = (await recordTransfer(a.deps, A, { agreement: ids.agreement })).url;
  await waitFor(settled, WAIT, "both nodes to finish their exchanges");

  [docs.offer, docs.need, docs.claimOffer, docs.agreement, docs.event] = await Promise.all([ids.offer, ids.need, ids.claimOffer, ids.agreement, ids.event].map((u) => dereference(u!)));
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop(), masto?.close()]);
}, 90_000);

// ---------------------------------------------------------------------------------------

describe("the harness on the references", () => {
  it("expands every reference offline, and refuses to fetch any other context", async () => {
    for (const doc of [fep0837Proposal, fep0837Offer, fep0837Accept, fep3264EconomicEvent]) {
      const node = await expand(doc);
      expect(typesOf(node)[0]).toMatch(/^(https:\/\/www\.w3\.org\/ns\/activitystreams#|https:\/\/w3id\.org\/valueflows\/ont\/vf#)/);
    }
    await expect(expand({ ...fep0837Offer, "@context": [AS2, "https://w3id.org/fep/0837"] })).rejects.toThrow(/https:\/\/w3id\.org\/fep\/0837/);
  });

  it("safe mode fails on a term no context defines (so nothing of ours is silently dropped)", async () => {
    await expect(expand({ ...fep0837Proposal, fund: "survival" })).rejects.toThrow(/terms no context defines: _:fund/);
    const intent = one(await expand(fep0837Proposal), vf("publishes"), "reference");
    expect(typesOf(intent)).toEqual([vf("Intent")]);
    expect(literal(one(intent, vf("resourceQuantity"), "r"), om2("hasUnit"), "r")).toBe("hour");
  });

  it("the comparison fails on a different kind of value and on a missing property", async () => {
    const ref = await expand(fep0837Proposal);
    const asId = await expand({ ...fep0837Proposal, "@context": [AS2, { ...(fep0837Proposal["@context"][1] as object), purpose: { "@id": "vf:purpose", "@type": "@id" } }], purpose: "https://example.org/offer" });
    expect(() => expectSameShape("purpose as an id", ref, asId, [[vf("purpose"), "literal"]])).toThrow();
    const { publishes: _publishes, ...withoutIntent } = fep0837Proposal;
    const noIntent = await expand(withoutIntent);
    expect(() => expectNoneMissing("no publishes", ref, noIntent)).toThrow();
    expect(() => expectNoneMissing("all there", ref, ref)).not.toThrow();
  });

  it("why our VF object properties are ids: Fedify 2.3.6 cannot read FEP-0837's string `satisfies`", async () => {
    const loaders = { documentLoader: offlineLoader, contextLoader: offlineLoader };
    const read = async (doc: unknown) => {
      const offer = await Offer.fromJsonLd(doc, loaders);
      return ((await offer.getObject(loaders)) as Agreement).stipulates?.satisfies?.href;
    };
    await expect(read(fep0837Offer)).rejects.toThrow(TypeError);
    // The same Offer with `satisfies` declared as an id (as ours are) reads fine.
    const context = [AS2, { ...(fep0837Offer["@context"][1] as object), satisfies: { "@id": "vf:satisfies", "@type": "@id" } }];
    await expect(read({ ...fep0837Offer, "@context": context })).resolves.toBe(fep0837Offer.object.stipulates.satisfies);
  });
});

describe("Proposal and Intent (FEP-0837)", () => {
  it("our offer has the reference's shape: types, properties, kinds of values, the primary Intent and its Measures", async () => {
    const ref = await expand(fep0837Proposal);
    const ours = await expand(docs.offer);
    expect(typesOf(ours)).toEqual(expect.arrayContaining([vf("Proposal"), as("Note")]));
    expect(typesOf(ref)).toEqual([vf("Proposal")]);
    expect(ours["@id"]).toBe(ids.offer);
    expectSameShape("Proposal", ref, ours, [
      [vf("purpose"), "literal"],
      [vf("publishes"), "node"],
      [as("attributedTo"), "iri"],
      [as("name"), "literal"],
      [as("content"), "literal"],
      [as("published"), "literal"],
      [as("location"), "node"],
      [as("to"), "iri"],
    ]);
    expect(literal(ours, vf("purpose"), "offer")).toBe(literal(ref, vf("purpose"), "ref"));
    expect(iri(ours, as("attributedTo"), "offer")).toBe(a.actorUrl());
    expect(typesOf(one(ours, as("location"), "offer"))).toEqual([as("Place")]);
    // The offer is a gift: no reciprocal (the need below has one); unitBased is left out
    // when the steward did not say (FEP-0837: absent ⇒ any amount; the need says false).
    expectNoneMissing("Proposal", ref, ours, [vf("reciprocal"), vf("unitBased")]);

    const refIntent = one(ref, vf("publishes"), "ref");
    const intent = one(ours, vf("publishes"), "offer");
    expect(typesOf(intent)).toEqual([vf("Intent")]);
    expect(intent["@id"]).toBe(`${ids.offer}#primary`);
    expect(String(refIntent["@id"]).endsWith("#primary")).toBe(true);
    expectSameShape("Intent", refIntent, intent, [
      [vf("action"), "literal"],
      [vf("resourceConformsTo"), "iri"],
      [vf("resourceQuantity"), "node"],
      [vf("availableQuantity"), "node"],
      [vf("minimumQuantity"), "node"],
    ]);
    expectNoneMissing("Intent", refIntent, intent);
    expect(literal(intent, vf("action"), "offer")).toBe("transfer");
    expect(iri(intent, vf("resourceConformsTo"), "offer")).toBe(SQUASH_SPEC);
    expect(iri(intent, vf("provider"), "offer")).toBe(a.actorUrl());
    expectMeasure("resourceQuantity", one(refIntent, vf("resourceQuantity"), "ref"), one(intent, vf("resourceQuantity"), "offer"), "kilogram", "40");
    // B took 10 and alice 5 before the document was fetched.
    expectMeasure("availableQuantity", one(refIntent, vf("availableQuantity"), "ref"), one(intent, vf("availableQuantity"), "offer"), "kilogram", "25");
    expectMeasure("minimumQuantity", one(refIntent, vf("minimumQuantity"), "ref"), one(intent, vf("minimumQuantity"), "offer"), "kilogram", "2");
  });

  it("our need has the same shape, purpose request, and a reciprocal Intent like the reference's", async () => {
    const ref = await expand(fep0837Proposal);
    const ours = await expand(docs.need);
    expect(literal(ours, vf("purpose"), "need")).toBe("request");
    expectSameShape("Proposal (need)", ref, ours, [
      [vf("purpose"), "literal"],
      [vf("publishes"), "node"],
      [vf("reciprocal"), "node"],
      [vf("unitBased"), "literal"],
      [as("attributedTo"), "iri"],
      [as("to"), "iri"],
    ]);
    expect(literal(ours, vf("unitBased"), "need")).toBe(false);
    expectNoneMissing("Proposal (need)", ref, ours);
    const intent = one(ours, vf("publishes"), "need");
    expect(iri(intent, vf("receiver"), "need")).toBe(a.actorUrl());
    expectMeasure("need resourceQuantity", one(one(ref, vf("publishes"), "r"), vf("resourceQuantity"), "r"), one(intent, vf("resourceQuantity"), "need"), "hour", "4");

    const refReciprocal = one(ref, vf("reciprocal"), "ref");
    const reciprocal = one(ours, vf("reciprocal"), "need");
    expect(typesOf(reciprocal)).toEqual([vf("Intent")]);
    expect(reciprocal["@id"]).toBe(`${ids.need}#reciprocal`);
    expect(String(refReciprocal["@id"]).endsWith("#reciprocal")).toBe(true);
    expectSameShape("reciprocal Intent", refReciprocal, reciprocal, [
      [vf("action"), "literal"],
      [vf("resourceConformsTo"), "iri"],
      [vf("resourceQuantity"), "node"],
    ]);
    expectNoneMissing("reciprocal Intent", refReciprocal, reciprocal);
    expect(iri(reciprocal, vf("provider"), "need")).toBe(a.actorUrl());
    expectMeasure("reciprocal resourceQuantity", one(refReciprocal, vf("resourceQuantity"), "r"), one(reciprocal, vf("resourceQuantity"), "need"), "kilogram", "2");
  });

  it("Fedify's Proposal class reads ours back", async () => {
    const loaders = { documentLoader: offlineLoader, contextLoader: offlineLoader };
    const offer = await Proposal.fromJsonLd(docs.offer, loaders);
    expect(offer.id?.href).toBe(ids.offer);
    expect(offer.purpose).toBe("offer");
    expect(offer.unitBased).toBeNull();
    const intent = offer.publishes!;
    expect(intent.id?.href).toBe(`${ids.offer}#primary`);
    expect(intent.action).toBe("transfer");
    expect(intent.resourceConformsTo?.href).toBe(SQUASH_SPEC);
    expect([intent.resourceQuantity?.unit, String(intent.resourceQuantity?.numericalValue)]).toEqual(["kilogram", "40"]);
    expect([intent.availableQuantity?.unit, String(intent.availableQuantity?.numericalValue)]).toEqual(["kilogram", "25"]);
    expect([intent.minimumQuantity?.unit, String(intent.minimumQuantity?.numericalValue)]).toEqual(["kilogram", "2"]);
    const need = await Proposal.fromJsonLd(docs.need, loaders);
    expect(need.purpose).toBe("request");
    expect(need.unitBased).toBe(false);
    expect(need.reciprocal?.id?.href).toBe(`${ids.need}#reciprocal`);
    expect([need.reciprocal?.resourceQuantity?.unit, String(need.reciprocal?.resourceQuantity?.numericalValue)]).toEqual(["kilogram", "2"]);
  });
});

describe("claim Offer, Accept and Agreement (FEP-0837)", () => {
  it("our claim's Offer(Agreement{stipulates: Commitment}) has the reference's shape", async () => {
    const ref = await expand(fep0837Offer);
    const ours = await expand(docs.claimOffer);
    expect(typesOf(ours)).toEqual([as("Offer")]);
    expect(ours["@id"]).toBe(ids.claimOffer);
    expectSameShape("Offer", ref, ours, [
      [as("actor"), "iri"],
      [as("object"), "node"],
      [as("to"), "iri"],
    ]);
    expectNoneMissing("Offer", ref, ours);
    expect(iri(ours, as("actor"), "offer")).toBe(b.actorUrl());
    expect(iri(ours, as("to"), "offer")).toBe(a.actorUrl());
    const refAgreement = one(ref, as("object"), "ref");
    const agreement = one(ours, as("object"), "offer");
    expect(typesOf(agreement)).toEqual([vf("Agreement")]);
    expectSameShape("Agreement (offered)", refAgreement, agreement, [[vf("stipulates"), "node"]]);
    // Our offer asks nothing in return, so there is no reciprocal commitment to stipulate.
    expectNoneMissing("Agreement (offered)", refAgreement, agreement, [vf("stipulatesReciprocal")]);
    const refCommitment = one(refAgreement, vf("stipulates"), "ref");
    const commitment = one(agreement, vf("stipulates"), "offer");
    expect(typesOf(commitment)).toEqual([vf("Commitment")]);
    expectSameShape("Commitment (offered)", refCommitment, commitment, [
      [vf("satisfies"), "iri"],
      [vf("resourceQuantity"), "node"],
    ]);
    expectNoneMissing("Commitment (offered)", refCommitment, commitment);
    expect(iri(commitment, vf("satisfies"), "offer")).toBe(`${ids.offer}#primary`);
    expectMeasure("Commitment resourceQuantity", one(refCommitment, vf("resourceQuantity"), "r"), one(commitment, vf("resourceQuantity"), "offer"), "kilogram", "10");
  });

  it("the Accept alice received (compacted by Fedify) has the reference's shape: object = her Offer's id, result = the Agreement", async () => {
    const ref = await expand(fep0837Accept);
    const ours = await expand(docs.accept);
    expect(typesOf(ours)).toEqual([as("Accept")]);
    expectSameShape("Accept", ref, ours, [
      [as("actor"), "iri"],
      [as("object"), "iri"],
      [as("result"), "node"],
      [as("to"), "iri"],
    ]);
    expectNoneMissing("Accept", ref, ours);
    expect(iri(ours, as("object"), "accept")).toBe(ids.aliceOffer);
    expect(iri(ours, as("actor"), "accept")).toBe(a.actorUrl());
    const refAgreement = one(ref, as("result"), "ref");
    const agreement = one(ours, as("result"), "accept");
    expectFinalizedAgreement("Agreement (in the Accept)", refAgreement, agreement, ids.aliceAgreement!, "5");

    const accept = await Accept.fromJsonLd(docs.accept, { documentLoader: offlineLoader, contextLoader: offlineLoader });
    expect(accept.objectId?.href).toBe(ids.aliceOffer);
    const result = await accept.getResult({ documentLoader: offlineLoader, contextLoader: offlineLoader });
    expect(result).toBeInstanceOf(Agreement);
    const read = result as Agreement;
    expect(read.id?.href).toBe(ids.aliceAgreement);
    expect(read.stipulates?.id?.href).toBe(`${ids.aliceAgreement}#primary`);
    expect(read.stipulates?.satisfies?.href).toBe(`${ids.offer}#primary`);
    expect([read.stipulates?.resourceQuantity?.unit, String(read.stipulates?.resourceQuantity?.numericalValue)]).toEqual(["kilogram", "5"]);
  });

  it("the Agreement at its id has the shape of the reference's finalized Agreement", async () => {
    const ref = one(await expand(fep0837Accept), as("result"), "ref");
    const ours = await expand(docs.agreement);
    expectFinalizedAgreement("Agreement (at its id)", ref, ours, ids.agreement!, "10");
    expect(iri(ours, as("attributedTo"), "agreement")).toBe(a.actorUrl());

    const loaders = { documentLoader: offlineLoader, contextLoader: offlineLoader };
    const agreement = await Agreement.fromJsonLd(docs.agreement, loaders);
    expect(agreement.id?.href).toBe(ids.agreement);
    expect(agreement.stipulates?.satisfies?.href).toBe(`${ids.offer}#primary`);
    expect(String(agreement.stipulates?.resourceQuantity?.numericalValue)).toBe("10");
    const offer = await Offer.fromJsonLd(docs.claimOffer, loaders);
    expect(offer.id?.href).toBe(ids.claimOffer);
    const offered = await offer.getObject(loaders);
    expect(offered).toBeInstanceOf(Agreement);
    expect((offered as Agreement).stipulates?.satisfies?.href).toBe(`${ids.offer}#primary`);
    expect([(offered as Agreement).stipulates?.resourceQuantity?.unit, String((offered as Agreement).stipulates?.resourceQuantity?.numericalValue)]).toEqual(["kilogram", "10"]);
  });
});

/** A finalized Agreement: an id, a Commitment with an id `#primary`, satisfies, resourceQuantity. */
function expectFinalizedAgreement(what: string, ref: LdNode, ours: LdNode, id: string, quantity: string): void {
  expect(typesOf(ours)).toEqual([vf("Agreement")]);
  expect(ours["@id"]).toBe(id);
  expect(typeof ref["@id"]).toBe("string");
  expectSameShape(what, ref, ours, [[vf("stipulates"), "node"]]);
  expectNoneMissing(what, ref, ours, [vf("stipulatesReciprocal")]);
  const refCommitment = one(ref, vf("stipulates"), "ref");
  const commitment = one(ours, vf("stipulates"), what);
  expect(typesOf(commitment)).toEqual([vf("Commitment")]);
  expect(commitment["@id"]).toBe(`${id}#primary`);
  expect(String(refCommitment["@id"]).endsWith("#primary")).toBe(true);
  expectSameShape(`${what} Commitment`, refCommitment, commitment, [
    [vf("satisfies"), "iri"],
    [vf("resourceQuantity"), "node"],
  ]);
  expectNoneMissing(`${what} Commitment`, refCommitment, commitment);
  expect(iri(commitment, vf("satisfies"), what)).toBe(`${ids.offer}#primary`);
  expectMeasure(`${what} resourceQuantity`, one(refCommitment, vf("resourceQuantity"), "r"), one(commitment, vf("resourceQuantity"), what), "kilogram", quantity);
}

describe("EconomicEvent (FEP-3264, the confirmation FEP-0837 asks for)", () => {
  it("our transfer's EconomicEvent has the reference's shape: context = the Agreement, fulfills its Commitment", async () => {
    const ref = await expand(fep3264EconomicEvent);
    const ours = await expand(docs.event);
    expect(typesOf(ours)).toEqual([vf("EconomicEvent")]);
    expect(ours["@id"]).toBe(ids.event);
    expectSameShape("EconomicEvent", ref, ours, [
      [as("attributedTo"), "iri"],
      [as("context"), "iri"],
      [as("published"), "literal"],
      [as("to"), "iri"],
      [vf("action"), "literal"],
      [vf("fulfills"), "iri"],
      [vf("provider"), "iri"],
      [vf("receiver"), "iri"],
      [vf("resourceConformsTo"), "iri"],
      [vf("resourceQuantity"), "node"],
    ]);
    // `finished` (optional) is not ours to say: a transfer may be one of several under an agreement.
    expectNoneMissing("EconomicEvent", ref, ours, [vf("finished")]);
    expect(iri(ours, as("attributedTo"), "event")).toBe(a.actorUrl());
    expect(iri(ours, as("context"), "event")).toBe(ids.agreement);
    expect(iri(ours, vf("fulfills"), "event")).toBe(`${ids.agreement}#primary`);
    expect(iri(ours, vf("provider"), "event")).toBe(a.actorUrl());
    expect(iri(ours, vf("receiver"), "event")).toBe(b.actorUrl());
    expect(iri(ours, vf("resourceConformsTo"), "event")).toBe(SQUASH_SPEC);
    expect(literal(ours, vf("action"), "event")).toBe("transfer");
    expect(iri(ours, as("to"), "event")).toBe(b.actorUrl());
    expectMeasure("EconomicEvent resourceQuantity", one(ref, vf("resourceQuantity"), "r"), one(ours, vf("resourceQuantity"), "event"), "kilogram", "10");
  });
});

describe("our own terms", () => {
  it("every vf: property we emit is a ValueFlows term; fund, urgent, status… are under hyphae:, never vf:", async () => {
    expect(OUR_TERMS).toEqual(expect.arrayContaining(["fund", "urgent", "status", "category", "expiresAt", "claimOffer", "ledgerEntry"]));
    for (const [what, doc] of Object.entries(docs)) expectOwnTermsInOwnNamespace(what, await expand(doc));
    const offer = await expand(docs.offer);
    expect(literal(offer, `${HYPHAE_NS}status`, "offer")).toBe("open");
    expect(literal(offer, `${HYPHAE_NS}urgent`, "offer")).toBe(false);
    expect(iri(await expand(docs.agreement), `${HYPHAE_NS}claimOffer`, "agreement")).toBe(ids.claimOffer);
    // and the check itself catches a term of ours put under vf:
    const wrong = { ...docs.offer, "@context": [AS2, { ...PROPOSAL_CONTEXT, fund: "vf:fund" }], fund: "survival" };
    await expect((async () => expectOwnTermsInOwnNamespace("wrong", await expand(wrong)))()).rejects.toThrow();
  });
});
