/**
 * `hyphae congress show --pod <slug>` (neighbours, urgent needs, matches both ways, the
 * lunar cycle's totals, discrepancies) and `hyphae congress neighbours --pod <slug>`.
 * They run the same service as the page and its JSON (ops in services/congress-ops.ts);
 * `--json` prints the result as `/pods/{slug}/congress` answers it.
 */
import type { RegisterCommands } from "./tools.ts";

type Proposal = {
  id: string;
  podLabel: string;
  ours: boolean;
  kind: "offer" | "need";
  name: string;
  unit: string;
  quantity: string | null;
  remaining: string | null;
  category: string | null;
  urgent: boolean;
  url: string;
  claim: { command: string } | null;
};
type MatchOut = { urgent: boolean; fit: "full" | "partial"; text: string; claim: string | null; offer: Proposal; need: Proposal };
type ViewOut = {
  pod: { slug: string; name: string; url: string; neighbours: string };
  neighbours: Array<{ actor: string; handle: string | null; name: string | null; since: string | Date; offers: Proposal[]; needs: Proposal[]; charter: { title: string } | null }>;
  ours: { offers: Proposal[]; needs: Proposal[] };
  urgentNeeds: Proposal[];
  matches: { forOurNeeds: MatchOut[]; forTheirNeeds: MatchOut[]; more: number };
  totals: { text: string; label: string; withoutSummary: Array<{ label: string }>; withheld: number };
  sideBySide: { gaps: Array<{ category: string; needs: Array<{ name: string; label: string }> }>; partners: unknown[] };
  discrepancies: Array<{ direction: string; quantity: string; unit: string; counterpart: string; flaggedBy: string; reason: string | null }>;
};
type NeighbourOut = { actorIri: string; handle: string | null; name: string | null; since: string | Date };

/** In process the operation answers Dates; through the admin socket, ISO text. */
const day = (at: string | Date) => new Date(at).toISOString().slice(0, 10);
const amount = (p: Proposal) => `${p.remaining ?? p.quantity ?? "any amount"}${p.remaining ?? p.quantity ? ` ${p.unit}` : ""}`;
const line = (p: Proposal) => `${p.urgent ? "URGENT " : ""}${p.kind === "offer" ? "Offer" : "Need"} ${p.name} — ${amount(p)}${p.category ? `, ${p.category}` : ""} (${p.ours ? "ours" : p.podLabel})`;

function matchLines(title: string, matches: MatchOut[]): string[] {
  if (matches.length === 0) return [`${title}: none`];
  return [
    `${title}:`,
    ...matches.map(
      (m) =>
        `  ${m.urgent ? "URGENT " : ""}${m.offer.name} (${m.offer.ours ? "ours" : m.offer.podLabel}) → ${m.need.name} (${m.need.ours ? "ours" : m.need.podLabel}): ${m.fit === "full" ? "full" : "partly"}, ${m.text}` +
        (m.claim ? `\n    ${m.claim}` : ""),
    ),
  ];
}

export function congressText(v: ViewOut): string {
  const out: string[] = [`Congress of ${v.pod.name} (${v.pod.url})`];
  out.push(
    v.neighbours.length
      ? `Neighbours (${v.neighbours.length}):\n${v.neighbours
          .map((n) => `  ${n.handle ?? n.actor}${n.name ? ` — ${n.name}` : ""}, since ${day(n.since)}: ${n.offers.length} open offers, ${n.needs.length} open needs${n.charter ? `; charter "${n.charter.title}"` : ""}`)
          .join("\n")}`
      : "Neighbours: none yet (pods that follow each other)",
  );
  out.push(v.urgentNeeds.length ? `Urgent needs:\n${v.urgentNeeds.map((p) => `  ${line(p)}\n    ${p.url}`).join("\n")}` : "Urgent needs: none");
  out.push(...matchLines("Neighbours' offers for our needs", v.matches.forOurNeeds));
  out.push(...matchLines("Our offers for neighbours' needs", v.matches.forTheirNeeds));
  if (v.matches.more) out.push(`(${v.matches.more} more matches; see --json or the page)`);
  const offers = v.neighbours.flatMap((n) => n.offers);
  const needs = v.neighbours.flatMap((n) => n.needs);
  if (offers.length) out.push(`Neighbours' open offers:\n${offers.map((p) => `  ${line(p)}\n    ${p.claim?.command ?? p.url}`).join("\n")}`);
  if (needs.length) out.push(`Neighbours' open needs (a claim on a need: our pod gives):\n${needs.map((p) => `  ${line(p)}\n    ${p.claim?.command ?? p.url}`).join("\n")}`);
  out.push(`Totals (${v.totals.label}): ${v.totals.text}.`);
  if (v.totals.withoutSummary.length) out.push(`  No summary yet from: ${v.totals.withoutSummary.map((p) => p.label).join(", ")}`);
  if (v.sideBySide.gaps.length) out.push(`Gaps (needs no charter covers): ${v.sideBySide.gaps.map((g) => `${g.category} (${g.needs.map((n) => n.name).join(", ")})`).join("; ")}`);
  if (v.discrepancies.length) {
    out.push(`Discrepancies:\n${v.discrepancies.map((d) => `  ${d.direction === "out" ? "sent" : "received"} ${d.quantity} ${d.unit} ${d.direction === "out" ? "to" : "from"} ${d.counterpart}, flagged by ${d.flaggedBy}${d.reason ? `: ${d.reason}` : ""}`).join("\n")}`);
  }
  return out.join("\n");
}

export const registerCongressCommands: RegisterCommands = (program, tools) => {
  const { op, print } = tools;
  const group = program.command("congress").description("the pod's congress: neighbours (pods that follow each other), their offers and needs, matches, totals");
  group
    .command("show")
    .description("neighbours, urgent needs, matches both ways and this lunar cycle's totals (--json: the page's JSON)")
    .requiredOption("--pod <slug>")
    .action(async (o: { pod: string }) => {
      print(await op("congress.show", { pod: o.pod }), (v: ViewOut) => congressText(v));
    });
  group
    .command("neighbours")
    .description("the pod's congress neighbours: pods it follows that follow it back")
    .requiredOption("--pod <slug>")
    .action(async (o: { pod: string }) => {
      print(await op("congress.neighbours", { pod: o.pod }), (rows: NeighbourOut[]) =>
        rows.length ? rows.map((n) => `${n.handle ?? n.actorIri}${n.name ? ` — ${n.name}` : ""}, since ${day(n.since)}\n  ${n.actorIri}`).join("\n") : "No neighbours yet.",
      );
    });
};
