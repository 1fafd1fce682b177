/**
 * `hyphae offer add|list|show|update|withdraw` and `hyphae need add|list|show|update|withdraw`
 * (`need add --urgent`): the pod's offers and needs from a terminal. Each command runs the
 * same service as the steward API (ops in services/proposal-ops.ts); `--json` prints the
 * result as the API answers it.
 */
import type { Command } from "commander";
import type { CliTools, RegisterCommands } from "./tools.ts";

type ProposalOut = {
  number: number;
  kind: "offer" | "need";
  url: string;
  name: string;
  unit: string;
  quantity: string;
  total: string;
  remaining: string;
  minimum: string | null;
  unitBased: boolean | null;
  resource: string | null;
  category: string;
  location: string | null;
  availableUntil: string | Date | null;
  expiresAt: string | Date;
  urgent: boolean;
  fund: string | null;
  status: string;
  version: number;
};

/** In process the operation answers Dates; through the admin socket, ISO text. */
const day = (at: string | Date) => new Date(at).toISOString().slice(0, 10);

export const proposalLine = (p: ProposalOut) =>
  `${p.kind === "offer" ? "Offer" : "Need"} ${p.number}${p.urgent ? " URGENT" : ""}: ${p.name} — ${p.remaining} of ${p.total} ${p.unit} left` +
  `${p.unitBased === true ? ` (lots of ${p.quantity})` : p.unitBased === false ? ` (exactly ${p.quantity} per claim)` : ""}` +
  `${p.minimum ? `, at least ${p.minimum} per claim` : ""}, ${p.category}${p.location ? `, ${p.location}` : ""}` +
  `; ${p.status}${p.status === "open" ? ` until ${day(p.expiresAt)}` : ""} (version ${p.version})\n  ${p.url}`;

interface AddOptions {
  pod: string;
  name: string;
  quantity: string;
  unit?: string;
  resource?: string;
  category?: string;
  total?: string;
  minimum?: string;
  unitBased?: string;
  from?: string;
  until?: string;
  expires?: string;
  location?: string;
  fund?: string;
  description?: string;
  action?: string;
  spec?: string;
  urgent?: boolean;
}

type UpdateOptions = Partial<Omit<AddOptions, "unit" | "resource" | "action" | "urgent">> & { pod: string; urgent?: string };

function unitBasedOf(value: string | undefined, fail: CliTools["fail"]): boolean | null | undefined {
  if (value === undefined) return undefined;
  if (value === "yes" || value === "true") return true;
  if (value === "no" || value === "false") return false;
  if (value === "any") return null;
  throw fail("--unit-based must be yes (whole multiples of the quantity), no (exactly the quantity) or any");
}

function numberOf(value: string, fail: CliTools["fail"]): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw fail("the number must be a positive whole number (see `list`)");
  return Number(value);
}

/** The options given, as the service's field names (only those present). */
function fieldsOf(o: Partial<AddOptions> & { urgentFlag?: boolean | undefined }, fail: CliTools["fail"]): Record<string, unknown> {
  const unitBased = unitBasedOf(o.unitBased, fail);
  const pairs: Array<[string, unknown]> = [
    ["name", o.name],
    ["quantity", o.quantity],
    ["unit", o.unit],
    ["resource", o.resource],
    ["category", o.category],
    ["total", o.total],
    ["minimum", o.minimum],
    ["unitBased", unitBased],
    ["availableFrom", o.from],
    ["availableUntil", o.until],
    ["expiresAt", o.expires],
    ["location", o.location],
    ["fund", o.fund],
    ["description", o.description],
    ["action", o.action],
    ["specificationUri", o.spec],
    ["urgent", o.urgentFlag],
  ];
  return Object.fromEntries(pairs.filter(([, v]) => v !== undefined));
}

function register(program: Command, tools: CliTools, kind: "offer" | "need"): void {
  const { op, print, fail } = tools;
  const a = kind === "offer" ? "an offer" : "a need";
  const group = program.command(kind).description(`the pod's ${kind}s (FEP-0837 proposals, posted to followers and congress neighbours)`);
  const add = group
    .command("add")
    .description(`publish ${a}: followers (Mastodon too) get a post, neighbours can claim it`)
    .requiredOption("--pod <slug>")
    .requiredOption("--name <name>", `what is ${kind === "offer" ? "offered" : "needed"}, e.g. "squash"`)
    .requiredOption("--quantity <q>", "how much (one lot with --unit-based)")
    .option("--unit <unit>", "an OM2 unit (kilogram, litre, hour, one…) or a currency code; default: the resource's")
    .option("--resource <key>", "the pod's resource (unit, category and specification default from it)")
    .option("--category <category>", "e.g. food (required without --resource)")
    .option("--total <q>", "the whole amount available when --quantity is one lot")
    .option("--minimum <q>", "the least one claim may take")
    .option("--unit-based <yes|no|any>", "yes: whole multiples of the quantity; no: exactly the quantity; any (default): any amount")
    .option("--from <date>", "available from (2026-12-01, or a date and time with a zone)")
    .option("--until <date>", "available until (a bare date includes that day)")
    .option("--expires <date>", "when it closes (default: --until, else in 14 days)")
    .option("--location <place>", "a street or neighbourhood (public: never an address)")
    .option("--description <text>", "more about it (plain text)")
    .option("--action <action>", "transfer or deliverService (default: deliverService for hours, else transfer)")
    .option("--spec <uri>", "what kind of thing it is, as a URI (e.g. a Wikidata item)");
  if (kind === "offer") add.option("--fund <fund>", "the fund a transfer out is booked to: survival (default), capacity_building or power_shifting");
  else add.option("--urgent", "a shared crisis: posted with #MutualAidUrgent and shown first");
  add.action(async (o: AddOptions) => {
    const input = fieldsOf({ ...o, urgentFlag: o.urgent ? true : undefined }, fail);
    print(await op("proposal.add", { pod: o.pod, purpose: kind, input }), (p: ProposalOut) => `Published ${proposalLine(p)}`);
  });

  group
    .command("list")
    .description(`the pod's ${kind}s: open ones unless --status says otherwise; urgent first`)
    .requiredOption("--pod <slug>")
    .option("--status <status>", "open, withdrawn, expired, fulfilled or all", "open")
    .action(async (o: { pod: string; status: string }) => {
      print(await op("proposal.list", { pod: o.pod, purpose: kind, status: o.status }), (rows: ProposalOut[]) =>
        rows.length ? rows.map(proposalLine).join("\n") : `No ${o.status === "all" ? "" : `${o.status} `}${kind}s.`,
      );
    });

  group
    .command("show <number>")
    .description(`one ${kind} by its number`)
    .requiredOption("--pod <slug>")
    .action(async (number: string, o: { pod: string }) => {
      print(await op("proposal.show", { pod: o.pod, purpose: kind, number: numberOf(number, fail) }), (p: ProposalOut) => proposalLine(p));
    });

  const update = group
    .command("update <number>")
    .description(`change an open ${kind}: a new version, posted as an edit`)
    .requiredOption("--pod <slug>")
    .option("--name <name>")
    .option("--quantity <q>")
    .option("--total <q>")
    .option("--minimum <q>")
    .option("--unit-based <yes|no|any>")
    .option("--category <category>")
    .option("--from <date>")
    .option("--until <date>")
    .option("--expires <date>")
    .option("--location <place>")
    .option("--description <text>")
    .option("--spec <uri>");
  if (kind === "offer") update.option("--fund <fund>");
  else update.option("--urgent <yes|no>", "mark or unmark it urgent");
  update.action(async (number: string, o: UpdateOptions) => {
    let urgentFlag: boolean | undefined;
    if (o.urgent !== undefined) {
      if (!["yes", "no"].includes(o.urgent)) throw fail("--urgent must be yes or no");
      urgentFlag = o.urgent === "yes";
    }
    const { urgent: _urgent, ...rest } = o;
    const patch = fieldsOf({ ...rest, urgentFlag }, fail);
    if (Object.keys(patch).length === 0) throw fail("say what changes (e.g. --total 50, --until 2026-12-12)");
    print(await op("proposal.update", { pod: o.pod, purpose: kind, number: numberOf(number, fail), patch }), (p: ProposalOut) => `Updated ${proposalLine(p)}`);
  });

  group
    .command("withdraw <number>")
    .description(`withdraw an open ${kind}: its post is updated to say so`)
    .requiredOption("--pod <slug>")
    .action(async (number: string, o: { pod: string }) => {
      print(await op("proposal.withdraw", { pod: o.pod, purpose: kind, number: numberOf(number, fail) }), (p: ProposalOut) => `Withdrawn: ${proposalLine(p)}`);
    });
}

export const registerProposalCommands: RegisterCommands = (program, tools) => {
  register(program, tools, "offer");
  register(program, tools, "need");
};
