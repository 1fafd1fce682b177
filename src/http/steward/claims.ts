/**
 * Steward pages: claims between pods, the transfers that fulfil them, and the claim rules.
 *
 *   GET  /claims                           incoming claims (pending first), transfers we owe, ours,
 *                                          transfers, rules
 *   POST /claims/{id}/accept               acceptClaim (a claim answered already is not an error)
 *   POST /claims/{id}/reject               rejectClaim with reason
 *   GET  /claims/{id}/transfer             the form to record what changed hands under it
 *   POST /claims/{id}/transfer             recordTransfer under the claim's agreement (the giver only)
 *   POST /claims/transfers/{id}/flag       flagDiscrepancy with reason
 *   POST /claims/rules                     updateClaimRules (autoAcceptUpTo, strangers, strangerReason)
 *
 * The same services as the steward API's routes (api/claims.ts, api/transfers.ts).
 */
import type { FastifyInstance } from "fastify";
import { DomainError } from "../../domain/errors.ts";
import { quantityText } from "../../domain/congress/totals.ts";
import { html, type SafeHtml } from "../../lib/html.ts";
import * as claims from "../../services/claims.ts";
import type { ServiceDeps } from "../../services/ports.ts";
import * as transfers from "../../services/transfers.ts";
import { buttonForm, errorSummary, field, formStart, notice, stewardGet, stewardPost, type FormState, type StewardContext } from "./forms.ts";
import { CONGRESS_STYLE, dayOf, FUND_LABELS, fundOptions, plainState, rowErrorSummary, rowField, today, unitWord, when } from "./congress-forms.ts";
import { stewardPage } from "./layout.ts";

const NOTICES: Record<string, string> = {
  claimed: "Your claim is sent. The other pod's stewards, or its rules, answer it: the answer shows below under Our claims.",
  accepted: "The claim is accepted: what it takes is no longer available to others, and the other pod is told at once.",
  rejected: "The claim is rejected. The other pod reads your reason.",
  "already-accepted": "This claim had already been accepted (by another steward or the pod's rules): nothing more was done.",
  "already-rejected": "This claim had already been rejected (by another steward or the pod's rules): nothing more was done.",
  "transfer-recorded": "The transfer is recorded in the books and sent to the other pod, which books what it received.",
  flagged: "The discrepancy is flagged: both pods now show it on the transfer.",
  "rules-saved": "The claim rules are saved.",
};

const RULE_LABELS: Record<string, string> = {
  autoAcceptUpTo: "Accept neighbours' claims by themselves up to",
  strangers: "Claims from pods that are not neighbours",
  strangerReason: "Reason sent when such a claim is turned down",
};

/** How many of each list one page shows, so it stays small on a phone (the API lists more). */
const PENDING_SHOWN = 15;
const OWED_SHOWN = 15;
const DECIDED_SHOWN = 15;
const OUTGOING_SHOWN = 15;
const TRANSFERS_SHOWN = 15;

/** Which form on the page was refused, so its message goes next to its field. */
interface Failed {
  form: "accept" | "reject" | "flag" | "rules";
  id: string;
  state: FormState;
}

const who = (c: claims.ClaimView) => c.counterpart.name ?? c.counterpart.handle ?? c.counterpart.actor;
const what = (c: claims.ClaimView) => c.proposalName ?? "an offer or need";

function headline(c: claims.ClaimView): string {
  const q = quantityText(c.quantity, c.unit);
  if (c.direction === "incoming") {
    return c.purpose === "offer" ? `${who(c)} asks for ${q} of our offer ${what(c)}` : `${who(c)} offers ${q} for our need ${what(c)}`;
  }
  return c.purpose === "offer" ? `We asked ${who(c)} for ${q} of ${what(c)}` : `We offered ${who(c)} ${q} for their need ${what(c)}`;
}

function statusText(c: claims.ClaimView): string {
  // Our answers say who decided; another pod's answer says only that it was that pod.
  const by = c.direction === "outgoing" ? ` by ${who(c)}` : c.decidedBy === "rule" ? " by the pod's rules" : c.decidedBy === "steward" ? " by a steward" : "";
  const at = c.decidedAt ? ` on ${when(c.decidedAt)}` : "";
  if (c.status === "pending") return c.direction === "incoming" ? "Waiting for your answer." : "Waiting for the other pod's answer.";
  if (c.status === "accepted") return `Accepted${by}${at}.`;
  return `Rejected${by}${at}${c.reason ? `: ${c.reason}` : "."}`;
}

function errorFor(failed: Failed | null, form: Failed["form"], id: string, name: string): string | undefined {
  return failed && failed.form === form && failed.id === id ? failed.state.errors[name] : undefined;
}
const valueFor = (failed: Failed | null, form: Failed["form"], id: string, name: string, fallback: string): string =>
  failed && failed.form === form && failed.id === id ? (failed.state.values[name] ?? fallback) : fallback;

function claimItem(ctx: StewardContext, c: claims.ClaimView, byClaim: Map<string, transfers.TransferView>, failed: Failed | null, level: 3 | 4): SafeHtml {
  const gives = transfers.ourPodGives(c);
  const transfer = byClaim.get(c.id);
  const reasonId = `r-${c.id}`;
  const reasonError = errorFor(failed, "reject", c.id, "reason");
  let actions: SafeHtml | string = "";
  if (c.direction === "incoming" && c.status === "pending") {
    actions = html`<div class="actions">${buttonForm(ctx, `${ctx.base}/claims/${c.id}/accept`, "Accept", { describedBy: `h-claim-${c.id}` })}</div>
${formStart(ctx, `${ctx.base}/claims/${c.id}/reject`, { label: `Reject: ${headline(c)}` })}<div class="row-form">
${rowField({ id: reasonId, name: "reason", label: "Reason (the other pod reads it)", value: valueFor(failed, "reject", c.id, "reason", ""), hint: "Optional, plain words, at most 500 characters.", error: reasonError, maxlength: 500 })}
<button type="submit" class="danger">Reject</button></div></form>`;
  } else if (c.status === "accepted") {
    if (transfer) {
      actions = html`<p>Transfer recorded: ${quantityText(transfer.quantity, transfer.unit)} on ${dayOf(transfer.occurredAt)}. <a href="#transfer-${transfer.id}">See it under Transfers</a>.</p>`;
    } else if (gives) {
      actions = html`<p><a class="button" href="${ctx.base}/claims/${c.id}/transfer" aria-describedby="h-claim-${c.id}">Record the transfer</a></p>`;
    } else {
      actions = html`<p class="muted small">${who(c)} gives: it records the transfer when it changes hands, and our books get the transfer in by themselves.</p>`;
    }
  }
  return html`<li class="item" id="claim-${c.id}">
${level === 3 ? html`<h3 id="h-claim-${c.id}">${headline(c)}</h3>` : html`<h4 id="h-claim-${c.id}">${headline(c)}</h4>`}
<p><span class="status">${c.status}</span> ${statusText(c)}</p>
<ul><li>Sent ${when(c.createdAt)}${c.counterpart.handle ? html` · <span class="handle">${c.counterpart.handle}</span>` : ""}</li>
<li>${gives ? "Our pod gives" : "Our pod receives"}${c.resource ? html` · books resource ${c.resource}` : ""}</li>
<li><a href="${c.proposal}">The ${c.purpose === "offer" ? "offer" : "need"}</a>${c.agreement ? html` · <a href="${c.agreement}">the agreement</a>` : ""}</li></ul>
${actions}</li>`;
}

function transferItem(ctx: StewardContext, t: transfers.TransferView, failed: Failed | null): SafeHtml {
  const other = t.counterpartHandle ?? t.counterpart;
  const reasonId = `flag-${t.id}`;
  return html`<li class="item" id="transfer-${t.id}">
<h3>${t.direction === "out" ? `Gave ${quantityText(t.quantity, t.unit)} of ${t.resourceName} to ${other}` : `Received ${quantityText(t.quantity, t.unit)} of ${t.resourceName} from ${other}`}</h3>
<ul><li>${dayOf(t.occurredAt)} · books entry ${t.ledgerSeq}${t.fund ? html` · ${FUND_LABELS[t.fund]}` : ""}</li>
<li>${t.acknowledgedAt ? `The other pod's record arrived ${when(t.acknowledgedAt)}.` : "The other pod's record has not arrived yet."}</li>
${t.discrepancy ? html`<li><strong>Discrepancy</strong> flagged by ${t.discrepancy.by === "us" ? "us" : "the other pod"} on ${when(t.discrepancy.at)}: ${t.discrepancy.reason}</li>` : ""}
<li><a href="${t.url}">Its public record</a>${t.agreementPage ? html` · <a href="${t.agreementPage}">the agreement</a>` : ""}</li></ul>
${
  t.discrepancy
    ? ""
    : html`${formStart(ctx, `${ctx.base}/claims/transfers/${t.id}/flag`, { label: `Flag a discrepancy on the transfer of ${quantityText(t.quantity, t.unit)}` })}<div class="row-form">
${rowField({ id: reasonId, name: "reason", label: "What does not match?", value: valueFor(failed, "flag", t.id, "reason", ""), hint: "e.g. only 14 kg arrived. Both pods will show it.", error: errorFor(failed, "flag", t.id, "reason"), maxlength: transfers.REASON_MAX })}
<button type="submit" class="secondary">Flag a discrepancy</button></div></form>`
}</li>`;
}

async function claimsPage(ctx: StewardContext, failed: Failed | null, query: { done?: string } = {}): Promise<string> {
  const { deps, pod, base } = ctx;
  const [pending, incoming, outgoing, accepted, moved, rules] = await Promise.all([
    claims.listClaims(deps, pod.slug, { direction: "incoming", status: "pending", limit: PENDING_SHOWN + 1 }),
    claims.listClaims(deps, pod.slug, { direction: "incoming", limit: DECIDED_SHOWN + PENDING_SHOWN + 1 }),
    claims.listClaims(deps, pod.slug, { direction: "outgoing", limit: OUTGOING_SHOWN + 1 }),
    claims.listClaims(deps, pod.slug, { status: "accepted", limit: 200 }),
    transfers.listTransfers(deps, pod.slug, { limit: 200 }),
    claims.getClaimRules(deps, pod.slug),
  ]);
  const decided = incoming.filter((c) => c.status !== "pending");
  const byClaim = new Map(moved.filter((t) => t.direction === "out").map((t) => [t.claimId, t]));
  for (const t of moved) if (!byClaim.has(t.claimId)) byClaim.set(t.claimId, t);
  // Accepted agreements where we give and no transfer is recorded yet (an older one is looked up).
  const owed: claims.ClaimView[] = [];
  for (const c of accepted.filter((x) => transfers.ourPodGives(x) && !byClaim.has(x.id)).slice(0, OWED_SHOWN + 1)) {
    const done = c.agreement ? await transfers.getTransfer(deps, pod.slug, c.agreement).catch(() => null) : null;
    if (done) byClaim.set(c.id, done);
    else owed.push(c);
  }
  const list = (items: claims.ClaimView[], limit: number, empty: string, level: 3 | 4) =>
    items.length
      ? html`<ul class="items">${items.slice(0, limit).map((c) => claimItem(ctx, c, byClaim, failed, level))}</ul>${items.length > limit ? html`<p class="muted">More not shown here: the steward API lists them all.</p>` : ""}`
      : html`<p class="muted">${empty}</p>`;
  const target = failed ? targetOf(failed) : null;
  const rulesState: FormState =
    failed?.form === "rules"
      ? failed.state
      : { values: { autoAcceptUpTo: rules.autoAcceptUpTo ?? "", strangers: rules.strangers, strangerReason: rules.strangerReason }, errors: {} };
  return stewardPage(
    ctx,
    { title: "Claims", section: "claims", style: CONGRESS_STYLE },
    html`<h1>Claims</h1>
${notice(query, NOTICES)}${failed?.form === "rules" ? errorSummary(failed.state, RULE_LABELS) : rowErrorSummary(failed?.state ?? null, target)}
<p>Claims are how pods take from each other's offers and meet each other's needs. Answer the ones on ${pod.name}'s offers and needs; see the answers to ours; record what changed hands. <a href="${base}/congress">Claim from neighbours on the Congress page.</a></p>
<ul class="small"><li><a href="#incoming">Claims on our offers and needs</a></li><li><a href="#owed">Transfers to record</a></li><li><a href="#outgoing">Our claims</a></li><li><a href="#transfers">Transfers</a></li><li><a href="#rules">Claim rules</a></li></ul>
<h2 id="incoming">Claims on our offers and needs</h2>
<h3>Waiting for an answer</h3>
${list(pending, PENDING_SHOWN, "None waiting.", 4)}
<h3>Answered</h3>
${list(decided, DECIDED_SHOWN, "None answered yet.", 4)}
<h2 id="owed">Transfers to record</h2>
<p class="muted small">Agreements where ${pod.name} gives: once it has changed hands, record it, and both pods' books show it.</p>
${
  owed.length
    ? html`<ul>${owed.slice(0, OWED_SHOWN).map((c) => html`<li>${headline(c)} <span class="muted small">(accepted ${c.decidedAt ? dayOf(c.decidedAt) : ""})</span> — <a href="${base}/claims/${c.id}/transfer">record the transfer</a></li>`)}</ul>${owed.length > OWED_SHOWN ? html`<p class="muted">More not shown here: the steward API lists them all.</p>` : ""}`
    : html`<p class="muted">None to record.</p>`
}
<h2 id="outgoing">Our claims</h2>
${list(outgoing, OUTGOING_SHOWN, "No claims sent yet.", 3)}
<h2 id="transfers">Transfers</h2>
<p class="muted small">What changed hands under agreements, both ways. If what arrived is not what was booked, flag a discrepancy: both pods show it.</p>
${moved.length ? html`<ul class="items">${moved.slice(0, TRANSFERS_SHOWN).map((t) => transferItem(ctx, t, failed))}</ul>` : html`<p class="muted">No transfers yet.</p>`}
<h2 id="rules">Claim rules</h2>
<p>How claims on ${pod.name}'s offers and needs are answered when no steward does.</p>
${formStart(ctx, `${base}/claims/rules`, { label: "Claim rules" })}
${field({ name: "autoAcceptUpTo", label: RULE_LABELS.autoAcceptUpTo!, type: "number", step: "any", min: "0", inputmode: "decimal", hint: "A quantity, in each offer's or need's own unit. Empty: a steward answers every claim." }, rulesState)}
${field({ name: "strangers", label: RULE_LABELS.strangers!, type: "select", options: [{ value: "reject", label: "Turn them down at once" }, { value: "review", label: "Leave them to a steward" }] }, rulesState)}
${field({ name: "strangerReason", label: RULE_LABELS.strangerReason!, maxlength: 500, hint: "Plain words; the other pod reads it." }, rulesState)}
<button type="submit">Save the rules</button>
</form>`,
  );
}


const TRANSFER_LABELS: Record<string, string> = {
  quantity: "Quantity given",
  fund: "Fund",
  occurredAt: "Day it changed hands",
  publicMemo: "Public memo",
};

/** The form that records what changed hands under one accepted claim (the giver's side). */
async function transferPage(ctx: StewardContext, id: string, state: FormState | null): Promise<string> {
  const { deps, pod, base } = ctx;
  const c = await claims.getClaim(deps, pod.slug, id);
  const done = c.agreement ? await transfers.getTransfer(deps, pod.slug, c.agreement).catch(() => null) : null;
  const shown: FormState = state ?? { values: { quantity: c.quantity, fund: "", occurredAt: today(ctx), publicMemo: "" }, errors: {} };
  let body: SafeHtml;
  if (done) {
    body = html`<p>The transfer under this agreement is recorded: ${quantityText(done.quantity, done.unit)} on ${dayOf(done.occurredAt)}. <a href="${base}/claims#transfer-${done.id}">See it on the Claims page</a>, where a discrepancy can be flagged.</p>`;
  } else if (c.status !== "accepted") {
    body = html`<p>This claim is ${c.status}: only an accepted agreement is fulfilled by a transfer.</p>`;
  } else if (!transfers.ourPodGives(c)) {
    body = html`<p>Under this agreement ${pod.name} receives: ${who(c)} records the transfer, and our books get it by themselves.</p>`;
  } else {
    body = html`<p>When it has changed hands: ${pod.name}'s books get a transfer out, booked from the offer's resource (or one made for it), and ${who(c)} books what it received.</p>
${formStart(ctx, `${base}/claims/${c.id}/transfer`, { label: "Record the transfer" })}
${field({ name: "quantity", label: `${TRANSFER_LABELS.quantity} (${unitWord(c.unit)})`, type: "number", step: "any", min: "0", inputmode: "decimal", required: true, hint: `At most what was agreed: ${quantityText(c.quantity, c.unit)}.` }, shown)}
${field({ name: "fund", label: TRANSFER_LABELS.fund!, type: "select", options: fundOptions({ value: "", label: "The offer's fund, else survival" }) }, shown)}
${field({ name: "occurredAt", label: TRANSFER_LABELS.occurredAt!, type: "date", hint: "Empty: today." }, shown)}
${field({ name: "publicMemo", label: `${TRANSFER_LABELS.publicMemo} (optional)`, maxlength: 500, hint: "Part of the public books: never a member's name. Empty: To the other pod, under the agreement." }, shown)}
<button type="submit">Record the transfer</button>
</form>`;
  }
  return stewardPage(
    ctx,
    { title: "Record a transfer", section: "claims", style: CONGRESS_STYLE },
    html`<p><a href="${base}/claims">Back to the claims</a></p>
<h1>Record a transfer</h1>
${state ? errorSummary(state, TRANSFER_LABELS) : ""}
<div class="item"><p><strong>${headline(c)}</strong></p><p><span class="status">${c.status}</span> ${statusText(c)}</p>
${c.agreement ? html`<p class="small"><a href="${c.agreement}">The agreement</a> · <a href="${c.proposal}">the ${c.purpose === "offer" ? "offer" : "need"}</a></p>` : ""}</div>
${body}`,
  );
}

function targetOf(failed: Failed): string | null {
  switch (failed.form) {
    case "reject":
      return `r-${failed.id}`;
    case "flag":
      return `flag-${failed.id}`;
    case "accept":
      return `claim-${failed.id}`;
    default:
      return null;
  }
}

const idOf = (ctx: StewardContext) => (ctx.request.params as { id: string }).id;

export function registerClaimForms(app: FastifyInstance, deps: ServiceDeps): void {
  stewardGet<{ done?: string }>(app, deps, "/claims", (ctx, query) => claimsPage(ctx, null, query));

  const rowRender = (form: Failed["form"], labels: Record<string, string> = {}) => (ctx: StewardContext, state: FormState) =>
    claimsPage(ctx, { form, id: idOf(ctx), state: plainState(state, labels) });

  stewardPost(app, deps, "/claims/:id/accept", {
    handle: async (ctx) => {
      try {
        const accepted = await claims.acceptClaim(deps, ctx.pod.slug, idOf(ctx));
        return `${ctx.base}/claims?done=accepted#claim-${accepted.id}`;
      } catch (error) {
        // Pressed twice, or after another steward or the rules answered: say so, it is no failure.
        if (error instanceof DomainError && error.code === "CLAIM_NOT_PENDING") {
          return `${ctx.base}/claims?done=already-${error.details?.status === "rejected" ? "rejected" : "accepted"}#claim-${idOf(ctx)}`;
        }
        throw error;
      }
    },
    render: rowRender("accept"),
  });

  stewardPost(app, deps, "/claims/:id/reject", {
    handle: async (ctx, input) => {
      try {
        const rejected = await claims.rejectClaim(deps, ctx.pod.slug, idOf(ctx), input.values.reason ?? "");
        return `${ctx.base}/claims?done=rejected#claim-${rejected.id}`;
      } catch (error) {
        if (error instanceof DomainError && error.code === "CLAIM_NOT_PENDING") {
          return `${ctx.base}/claims?done=already-${error.details?.status === "rejected" ? "rejected" : "accepted"}#claim-${idOf(ctx)}`;
        }
        throw error;
      }
    },
    render: rowRender("reject"),
  });

  stewardGet(app, deps, "/claims/:id/transfer", (ctx) => transferPage(ctx, idOf(ctx), null));
  stewardPost(app, deps, "/claims/:id/transfer", {
    handle: async (ctx, input) => {
      const v = input.values;
      const body: Record<string, string> = { agreement: idOf(ctx) };
      for (const k of ["quantity", "fund", "occurredAt", "publicMemo"]) if ((v[k] ?? "").trim() !== "") body[k] = v[k]!.trim();
      const recorded = await transfers.recordTransfer(deps, ctx.pod.slug, body);
      return `${ctx.base}/claims?done=transfer-recorded#transfer-${recorded.id}`;
    },
    render: async (ctx, state) => transferPage(ctx, idOf(ctx), plainState(state, TRANSFER_LABELS)),
  });

  stewardPost(app, deps, "/claims/transfers/:id/flag", {
    handle: async (ctx, input) => {
      const flagged = await transfers.flagDiscrepancy(deps, ctx.pod.slug, idOf(ctx), input.values.reason ?? "");
      return `${ctx.base}/claims?done=flagged#transfer-${flagged.id}`;
    },
    render: rowRender("flag"),
  });

  stewardPost(app, deps, "/claims/rules", {
    handle: async (ctx, input) => {
      const v = input.values;
      const upTo = (v.autoAcceptUpTo ?? "").trim();
      await claims.updateClaimRules(deps, ctx.pod.slug, {
        autoAcceptUpTo: upTo === "" ? null : upTo,
        strangers: v.strangers ?? "",
        strangerReason: v.strangerReason ?? "",
      });
      return `${ctx.base}/claims?done=rules-saved#rules`;
    },
    render: (ctx, state) => claimsPage(ctx, { form: "rules", id: "", state: plainState(state, RULE_LABELS) }),
  });
}
