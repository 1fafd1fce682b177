/** `hyphae summary …` and `hyphae indicator …`: period summaries and sovereignty indicators. */
import type { RegisterCommands } from "./tools.ts";

type SummaryOut = {
  label: string;
  periodKind: string;
  periodStart: string | Date;
  version: number;
  headSeq: number;
  headHash: string;
  url: string;
  created?: boolean;
  content: { entries: number; lateEntries: number; participants: number | string; valueReclaimed: string; currency: string; totals: unknown[]; indicators: unknown[] };
};
type IndicatorOut = { key: string; name: string; source: string; resource: string | null; entryKind: string | null; description: string };
type CountOut = { key: string; countedOn: string; count: string; publicNote: string };

const money = (s: SummaryOut) => (s.content.valueReclaimed === "fewer than 3" ? "withheld (fewer than 3 members)" : `${s.content.valueReclaimed} ${s.content.currency}`);

export const summaryLine = (s: SummaryOut) =>
  `${s.label} (${s.periodKind}-${new Date(s.periodStart).toISOString().slice(0, 10)}, version ${s.version}): ${s.content.entries} entries` +
  `${s.content.lateEntries ? ` (${s.content.lateEntries} recorded late)` : ""}, participants ${s.content.participants}, value reclaimed ${money(s)}\n` +
  `  head: entry ${s.headSeq}, ${s.headHash}\n  ${s.url}`;

const indicatorLine = (i: IndicatorOut) =>
  `${i.key.padEnd(20)} ${i.source === "ledger" ? `ledger: ${i.resource} ${i.entryKind}` : "counted"}  ${i.name}${i.description ? ` — ${i.description}` : ""}`;

export const registerSummaryCommands: RegisterCommands = (program, { op, print, fail }) => {
  const summary = program.command("summary").description("period summaries of the open books (published to followers)");
  summary
    .command("publish")
    .description("publish the summary of a period that has ended (default: the last one); unchanged periods are not published again")
    .requiredOption("--pod <slug>")
    .requiredOption("--period <kind>", "week, lunar or month")
    .option("--at <date>", "a date (2026-11-28) or date and time in the period (UTC)")
    .action(async (o: { pod: string; period: string; at?: string }) => {
      if (!["week", "lunar", "month"].includes(o.period)) throw fail("--period must be week, lunar or month");
      const result = (await op("summary.publish", { pod: o.pod, period: o.period, ...(o.at !== undefined && { at: o.at }) })) as SummaryOut;
      print(result, (s: SummaryOut) => `${s.created ? "Published" : "Unchanged, not published again:"} ${summaryLine(s)}`);
    });
  summary
    .command("list")
    .description("the pod's published summaries (latest version of each period), newest first")
    .requiredOption("--pod <slug>")
    .option("--limit <n>", "at most this many", "50")
    .action(async (o: { pod: string; limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw fail("--limit must be a whole number from 1 to 500");
      print(await op("summary.list", { pod: o.pod, limit }), (rows: SummaryOut[]) => (rows.length ? rows.map(summaryLine).join("\n") : "No summaries yet."));
    });
  summary
    .command("show <period>")
    .description("one summary by its id, e.g. week-2026-11-23 (totals and indicators)")
    .requiredOption("--pod <slug>")
    .option("--version <n>", "a given version (default: the latest)")
    .action(async (period: string, o: { pod: string; version?: string }) => {
      const m = /^(week|lunar|month)-(\d{4}-\d{2}-\d{2})$/.exec(period);
      if (!m) throw fail("the period id looks like week-2026-11-23, lunar-2026-11-09 or month-2026-11-01");
      const version = o.version === undefined ? undefined : Number(o.version);
      if (version !== undefined && !(Number.isInteger(version) && version > 0)) throw fail("--version must be a positive whole number");
      print(await op("summary.show", { pod: o.pod, period: m[1], start: m[2], ...(version !== undefined && { version }) }), (s: SummaryOut) =>
        [summaryLine(s), JSON.stringify({ totals: s.content.totals, indicators: s.content.indicators }, null, 2)].join("\n"),
      );
    });

  const indicator = program.command("indicator").description("sovereignty indicators: derived from the ledger, or counted by stewards");
  indicator
    .command("add")
    .description("define an indicator: --source ledger with --resource and --kind, or --source count")
    .requiredOption("--pod <slug>")
    .requiredOption("--key <key>", "short public key, e.g. meals-cooked")
    .requiredOption("--name <name>", "public name, e.g. \"Meals prepared autonomously\"")
    .requiredOption("--source <source>", "ledger or count")
    .option("--resource <key>", "the resource a ledger indicator sums")
    .option("--kind <kind>", "the entry kind it sums: contribution, draw, expenditure, transfer_out or transfer_in")
    .option("--description <text>", "what it measures and why")
    .action(async (o: { pod: string; key: string; name: string; source: string; resource?: string; kind?: string; description?: string }) => {
      const input = {
        key: o.key,
        name: o.name,
        source: o.source,
        ...(o.resource !== undefined && { resource: o.resource }),
        ...(o.kind !== undefined && { entryKind: o.kind }),
        ...(o.description !== undefined && { description: o.description }),
      };
      print(await op("indicator.add", { pod: o.pod, indicator: input }), (i: IndicatorOut) => `Defined ${indicatorLine(i)}`);
    });
  indicator
    .command("list")
    .description("the pod's indicators")
    .requiredOption("--pod <slug>")
    .action(async (o: { pod: string }) =>
      print(await op("indicator.list", { pod: o.pod }), (rows: IndicatorOut[]) => (rows.length ? rows.map(indicatorLine).join("\n") : "No indicators yet.")),
    );
  indicator
    .command("count")
    .description("record a dated count of a counted indicator, with a public note")
    .requiredOption("--pod <slug>")
    .requiredOption("--key <key>")
    .requiredOption("--count <n>", "a number ≥ 0")
    .requiredOption("--on <date>", "the date counted, YYYY-MM-DD")
    .option("--note <text>", "a public note (shown in summaries)", "")
    .action(async (o: { pod: string; key: string; count: string; on: string; note: string }) =>
      print(await op("indicator.count", { pod: o.pod, key: o.key, count: { countedOn: o.on, count: o.count, publicNote: o.note } }), (c: CountOut) =>
        `Recorded ${c.count} for ${c.key} on ${c.countedOn}${c.publicNote ? ` (${c.publicNote})` : ""}`,
      ),
    );
};
