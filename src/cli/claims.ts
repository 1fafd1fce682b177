/**
 * `hyphae claim <offer-id-or-url> --pod <mine> --quantity <q>` and `hyphae claims
 * list|show|accept|reject|rules`: claims between pods from a terminal. Each command runs the
 * same service as the steward API (ops in services/claim-ops.ts); `--json` prints the
 * result as the API answers it.
 */
import type { RegisterCommands } from "./tools.ts";

type ClaimOut = {
  id: string;
  direction: "outgoing" | "incoming";
  status: string;
  proposal: string;
  proposalName: string | null;
  quantity: string;
  unit: string;
  counterpart: { actor: string; handle: string | null };
  reason: string | null;
  decidedBy: string | null;
  agreement: string | null;
};
type RulesOut = { autoAcceptUpTo: string | null; strangers: string; strangerReason: string };

export const claimLine = (c: ClaimOut) =>
  `${c.id} ${c.direction === "outgoing" ? "we claim from" : "claimed by"} ${c.counterpart.handle ?? c.counterpart.actor}: ` +
  `${c.quantity} ${c.unit} of ${c.proposalName ?? c.proposal} — ${c.status}${c.decidedBy === "rule" ? " (by rule)" : ""}` +
  `${c.reason ? `: ${c.reason}` : ""}${c.agreement ? `\n  agreement ${c.agreement}` : ""}`;

const rulesText = (r: RulesOut) =>
  `Neighbours' claims accepted automatically: ${r.autoAcceptUpTo === null ? "never (stewards decide)" : `up to ${r.autoAcceptUpTo}`}\n` +
  `Claims from pods that are not neighbours: ${r.strangers === "reject" ? `rejected ("${r.strangerReason}")` : "left to the stewards"}`;

export const registerClaimCommands: RegisterCommands = (program, { op, print, fail }) => {
  program
    .command("claim <proposal>")
    .description("claim all or part of a neighbour's offer or need (its URL, or the id our congress view lists)")
    .requiredOption("--pod <slug>", "our pod")
    .requiredOption("--quantity <q>", "how much, in the proposal's unit")
    .option("--resource <key>", "our resource to book the transfer to or from")
    .action(async (proposal: string, o: { pod: string; quantity: string; resource?: string }) => {
      const claim = (await op("claim.make", { pod: o.pod, proposal, quantity: o.quantity, ...(o.resource !== undefined && { resource: o.resource }) })) as ClaimOut;
      print(claim, (c: ClaimOut) => `Claim sent: ${claimLine(c)}`);
    });

  const claims = program.command("claims").description("claims between pods: ours on neighbours' proposals, and theirs on ours");
  claims
    .command("list")
    .description("the pod's claims, newest first")
    .requiredOption("--pod <slug>")
    .option("--incoming", "only claims on our proposals")
    .option("--outgoing", "only our claims on others'")
    .option("--status <status>", "pending, accepted or rejected")
    .action(async (o: { pod: string; incoming?: boolean; outgoing?: boolean; status?: string }) => {
      if (o.incoming && o.outgoing) throw fail("give --incoming or --outgoing, not both");
      if (o.status !== undefined && !["pending", "accepted", "rejected"].includes(o.status)) throw fail("--status must be pending, accepted or rejected");
      const rows = (await op("claim.list", {
        pod: o.pod,
        ...(o.incoming && { direction: "incoming" }),
        ...(o.outgoing && { direction: "outgoing" }),
        ...(o.status !== undefined && { status: o.status }),
      })) as ClaimOut[];
      print(rows, (r: ClaimOut[]) => (r.length ? r.map(claimLine).join("\n") : "No claims."));
    });
  claims
    .command("show <id>")
    .description("one claim")
    .requiredOption("--pod <slug>")
    .action(async (id: string, o: { pod: string }) => print(await op("claim.show", { pod: o.pod, id }), claimLine));
  claims
    .command("accept <id>")
    .description("accept a pending claim on one of our proposals (takes its quantity; the other pod gets the Agreement)")
    .requiredOption("--pod <slug>")
    .action(async (id: string, o: { pod: string }) => print(await op("claim.accept", { pod: o.pod, id }), (c: ClaimOut) => `Accepted: ${claimLine(c)}`));
  claims
    .command("reject <id>")
    .description("reject a pending claim on one of our proposals")
    .requiredOption("--pod <slug>")
    .option("--reason <text>", "why (the other pod reads it)")
    .action(async (id: string, o: { pod: string; reason?: string }) =>
      print(await op("claim.reject", { pod: o.pod, id, ...(o.reason !== undefined && { reason: o.reason }) }), (c: ClaimOut) => `Rejected: ${claimLine(c)}`),
    );
  claims
    .command("rules")
    .description("show or change how claims on our proposals are answered")
    .requiredOption("--pod <slug>")
    .option("--auto-accept-up-to <q>", "accept neighbours' claims up to this quantity automatically ('none': never)")
    .option("--strangers <mode>", "claims from pods that are not neighbours: reject or review")
    .option("--stranger-reason <text>", "the reason sent with those rejections")
    .action(async (o: { pod: string; autoAcceptUpTo?: string; strangers?: string; strangerReason?: string }) => {
      const patch = {
        ...(o.autoAcceptUpTo !== undefined && { autoAcceptUpTo: o.autoAcceptUpTo === "none" ? null : o.autoAcceptUpTo }),
        ...(o.strangers !== undefined && { strangers: o.strangers }),
        ...(o.strangerReason !== undefined && { strangerReason: o.strangerReason }),
      };
      print(await op("claim.rules", { pod: o.pod, patch }), rulesText);
    });
};
