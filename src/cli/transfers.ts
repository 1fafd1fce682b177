/**
 * `hyphae transfer record|list|show|flag`: transfers between pods from a terminal. Each
 * command runs the same service as the steward API (ops in services/transfer-ops.ts);
 * `--json` prints the result as the API answers it.
 */
import type { RegisterCommands } from "./tools.ts";

type TransferOut = {
  id: string;
  url: string;
  direction: "out" | "in";
  agreement: string;
  counterpart: string;
  counterpartHandle: string | null;
  quantity: string;
  unit: string;
  resource: string;
  fund: string | null;
  ledgerSeq: number;
  occurredAt: string;
  acknowledgedAt: string | null;
  discrepancy: { by: "us" | "them"; reason: string; at: string } | null;
  notes?: string[];
};

const day = (at: string) => new Date(at).toISOString().slice(0, 10);

export const transferLine = (t: TransferOut) =>
  `${t.direction === "out" ? "Gave" : "Received"} ${t.quantity} ${t.unit} of ${t.resource} ${t.direction === "out" ? "to" : "from"} ${t.counterpartHandle ?? t.counterpart}` +
  ` on ${day(t.occurredAt)} (ledger #${t.ledgerSeq}${t.fund ? `, ${t.fund}` : ""})` +
  `; ${t.acknowledgedAt ? "acknowledged" : "not acknowledged yet"}` +
  `${t.discrepancy ? `; DISCREPANCY flagged by ${t.discrepancy.by === "us" ? "us" : "them"}: ${t.discrepancy.reason}` : ""}` +
  `\n  ${t.id}  ${t.url}\n  agreement ${t.agreement}`;

export const registerTransferCommands: RegisterCommands = (program, tools) => {
  const { op, print, fail } = tools;
  const group = program.command("transfer").description("transfers between pods under accepted agreements (both ledgers, FEP-3264 EconomicEvents)");

  group
    .command("record <agreement-id>")
    .description("record that our pod gave what an agreement says (the agreement's IRI or our claim's id): transfer_out, and the other pod is told")
    .requiredOption("--pod <slug>")
    .option("--quantity <q>", "what changed hands (default: the agreed quantity)")
    .option("--fund <fund>", "survival, capacity_building or power_shifting (default: the offer's, else survival)")
    .option("--memo <text>", "the public memo of the ledger entry (public: nothing private)")
    .option("--at <date>", "when it changed hands (2026-11-28, or a date and time with a zone; default now)")
    .action(async (agreement: string, o: { pod: string; quantity?: string; fund?: string; memo?: string; at?: string }) => {
      const pairs: Array<[string, unknown]> = [
        ["agreement", agreement],
        ["quantity", o.quantity],
        ["fund", o.fund],
        ["publicMemo", o.memo],
        ["occurredAt", o.at],
      ];
      const input = Object.fromEntries(pairs.filter(([, v]) => v !== undefined));
      print(await op("transfer.record", { pod: o.pod, input }), (t: TransferOut) => `Recorded: ${transferLine(t)}${t.notes?.length ? `\n  ${t.notes.join("\n  ")}` : ""}`);
    });

  group
    .command("list")
    .description("the pod's transfers with other pods, newest first")
    .requiredOption("--pod <slug>")
    .option("--discrepancies", "only those with a discrepancy flagged")
    .action(async (o: { pod: string; discrepancies?: boolean }) => {
      print(await op("transfer.list", { pod: o.pod, discrepancies: o.discrepancies === true }), (rows: TransferOut[]) =>
        rows.length ? rows.map(transferLine).join("\n") : "No transfers.",
      );
    });

  group
    .command("show <id>")
    .description("one transfer, by its id (or its agreement's IRI)")
    .requiredOption("--pod <slug>")
    .action(async (id: string, o: { pod: string }) => {
      print(await op("transfer.show", { pod: o.pod, id }), (t: TransferOut) => transferLine(t));
    });

  group
    .command("flag <id>")
    .description("flag a discrepancy on a transfer: both pods' pages show it, the other pod is told")
    .requiredOption("--pod <slug>")
    .requiredOption("--reason <text>", "what does not match")
    .action(async (id: string, o: { pod: string; reason: string }) => {
      if (!o.reason.trim()) throw fail("--reason must say what does not match");
      print(await op("transfer.flag", { pod: o.pod, id, reason: o.reason }), (t: TransferOut) => `Flagged: ${transferLine(t)}`);
    });
};
