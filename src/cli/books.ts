/** `hyphae resource|member|ledger|books …`: the open books from a terminal. */
import fs from "node:fs";
import nodePath from "node:path";
import { Option, type Command } from "commander";
import { createRequire } from "node:module";
import type CliProgress from "cli-progress";
import { DomainError } from "../domain/errors.ts";
import type { CliTools, RegisterCommands } from "./tools.ts";

type ResourceOut = {
  key: string;
  name: string;
  unit: string;
  category: string;
  specificationUri: string | null;
  referencePrice: string | null;
  referencePriceSource: string | null;
  referencePriceOn: string | null;
  currency: string;
  warning?: string;
};
type MemberOut = { pseudonym: string; name: string; contact: string | null; joinedAt: string };
type EntryOut = {
  seq: number;
  kind: string;
  resource: string;
  resourceName: string;
  unit: string;
  quantity: string;
  fund: string | null;
  marketValue: string;
  charged: string;
  currency: string;
  counterpartyKind: string;
  counterparty: string | null;
  member: string | null;
  corrects: number | null;
  receipt: string | null;
  receiptUrl: string | null;
  hash: string;
  occurredAt: string;
};
type Fault = { seq: number; reason: string; expected: string; found: string };
type VerifyOut = { ok: boolean; entries: number; headSeq: number; headHash: string; fault: Fault | null };
type ImportOut = { importId: string; rows: number; firstSeq: number; lastSeq: number };
type Progress = { phase: "validate" | "write"; rows: number; total: number | null };
type CsvError = { row: number; column: string | null; code: string; message: string };
type SettingsOut = { currency: string; allowOverdraw: boolean; autoPeriods: string[]; invoiceAddressee: string | null };

const priceText = (r: ResourceOut) =>
  r.referencePrice === null
    ? "no reference price"
    : `reference price ${r.referencePrice} ${r.currency} per ${r.unit}${r.referencePriceSource ? ` (${r.referencePriceSource}${r.referencePriceOn ? `, ${r.referencePriceOn}` : ""})` : r.referencePriceOn ? ` (${r.referencePriceOn})` : ""}`;
const resourceLine = (r: ResourceOut) => `${r.key.padEnd(16)} ${r.name} — ${r.unit}, ${r.category}; ${priceText(r)}${r.specificationUri ? `\n${" ".repeat(17)}${r.specificationUri}` : ""}`;

const fundText = (fund: string | null) => (fund ? ` (${fund.replace(/_/g, "-")} fund)` : "");
export const entryLine = (e: EntryOut) =>
  `Entry ${e.seq}: ${e.kind} of ${e.quantity} ${e.unit} ${e.resource}${fundText(e.fund)}, market value ${e.marketValue} ${e.currency}, charged ${e.charged}` +
  `${e.member ? `, member ${e.member}` : e.counterparty ? `, ${e.counterpartyKind === "pod" ? "pod" : "with"} ${e.counterparty}` : ""}${e.corrects !== null ? `, corrects entry ${e.corrects}` : ""}`;

/** "Entry 17 does not match its hash …": the first bad entry, in words. */
export function faultText(f: Fault): string {
  switch (f.reason) {
    case "hash_mismatch":
      return `Entry ${f.seq} does not match its hash: its content hashes to ${f.expected}, the ledger stores ${f.found}. It was changed after it was recorded.`;
    case "prev_hash_mismatch":
      return `Entry ${f.seq} does not follow the entry before it: it names ${f.found} as the previous hash, the chain says ${f.expected}.`;
    case "seq_gap":
      return `Entry ${f.expected} is missing: the ledger jumps to entry ${f.found}.`;
    case "private_digest_mismatch":
      return `Entry ${f.seq} does not match its private digest: its member, private memo or receipt was changed after it was recorded.`;
    case "head_mismatch":
      return `The chain head does not match the last entry: the entries end at ${f.expected}, the head says ${f.found}.`;
    default:
      return `Entry ${f.seq} is bad (${f.reason}): expected ${f.expected}, found ${f.found}.`;
  }
}

/** `row 12, column quantity: …` for each listed error (the message's own "row 12, …:" prefix dropped). */
export function csvErrorLines(errors: CsvError[]): string[] {
  return errors.map((e) => {
    const message = e.message.replace(/^row \d+(, [^:]+)?: /, "");
    const where = e.row > 0 ? `row ${e.row}${e.column ? `, column ${e.column}` : ""}` : e.column ? `column ${e.column}` : "file";
    return `${where}: ${message} (${e.code})`;
  });
}

/**
 * Import progress: a cli-progress bar on a terminal; otherwise plain lines (checking,
 * then writing at every 10 %), so logs of a scripted import stay short.
 */
function importProgress(rowsLabel: (n: number) => string) {
  const stream = process.stderr;
  if (stream.isTTY) {
    // Loaded only for a bar on a terminal (it is CommonJS, so synchronously), not for every command.
    const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof CliProgress;
    let bar: CliProgress.SingleBar | null = null;
    let phase: Progress["phase"] | null = null;
    return {
      onProgress(p: Progress) {
        if (p.phase !== phase) {
          bar?.stop();
          phase = p.phase;
          bar =
            p.phase === "validate"
              ? new cliProgress.SingleBar({ format: "Checking rows  {value} rows checked", stream, hideCursor: true }, cliProgress.Presets.shades_classic)
              : new cliProgress.SingleBar({ format: "Writing rows   [{bar}] {percentage}% | {value}/{total} rows", stream, hideCursor: true }, cliProgress.Presets.shades_classic);
          bar.start(p.total ?? 0, p.rows);
        }
        if (p.total !== null) bar!.setTotal(p.total);
        bar!.update(p.rows);
      },
      stop: () => bar?.stop(),
    };
  }
  let lastPhase: Progress["phase"] | null = null;
  let lastStep = -1;
  return {
    onProgress(p: Progress) {
      if (p.phase === "validate") {
        if (lastPhase !== "validate") stream.write("Checking every row before writing anything…\n");
        else if (p.total !== null) stream.write(`Checked ${rowsLabel(p.total)}: no errors.\n`);
        lastPhase = "validate";
        return;
      }
      const total = p.total ?? 0;
      const percent = total === 0 ? 100 : Math.floor((p.rows * 100) / total);
      const step = Math.floor(percent / 10);
      if (lastPhase !== "write") {
        stream.write(`Writing ${rowsLabel(total)} in one transaction…\n`);
        lastPhase = "write";
      }
      if (p.rows > 0 && step > lastStep) {
        lastStep = step;
        stream.write(`Written ${percent}% (${p.rows} of ${total} rows)\n`);
      }
    },
    stop: () => {},
  };
}

/** Writes pieces to a stream, waiting for it to drain (so a big export never piles up in memory). */
function streamWriter(out: NodeJS.WritableStream): (chunk: string) => Promise<void> {
  return (chunk) =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      out.once("error", onError);
      const flushed = out.write(chunk);
      const done = () => {
        out.off("error", onError);
        resolve();
      };
      if (flushed) done();
      else out.once("drain", done);
    });
}

function podOption(cmd: Command): Command {
  return cmd.requiredOption("--pod <slug>", "the pod whose books these are");
}

function registerResources(program: Command, { op, print }: CliTools): void {
  const resource = program.command("resource").description("what the pod shares, with its unit, category and reference price");
  podOption(resource.command("add <key>"))
    .description("add a resource (key: a-z, 0-9, _ and -; public, never changes)")
    .requiredOption("--name <name>", "display name")
    .requiredOption("--unit <unit>", "OM2 unit (kilogram, litre, hour, one, day, kilowattHour…) or a currency code (EUR)")
    .requiredOption("--category <category>", "the charter's service category (food, care…)")
    .option("--price <decimal>", "market reference price per unit, in the pod's currency")
    .option("--price-source <text>", "where the reference price comes from")
    .option("--price-date <date>", "when that price was true (YYYY-MM-DD)")
    .option("--spec <uri>", "a resource specification URI")
    .action(async (key: string, o: { pod: string; name: string; unit: string; category: string; price?: string; priceSource?: string; priceDate?: string; spec?: string }) => {
      const added = (await op("resource.add", {
        pod: o.pod,
        resource: {
          key,
          name: o.name,
          unit: o.unit,
          category: o.category,
          ...(o.price !== undefined && { referencePrice: o.price }),
          ...(o.priceSource !== undefined && { referencePriceSource: o.priceSource }),
          ...(o.priceDate !== undefined && { referencePriceOn: o.priceDate }),
          ...(o.spec !== undefined && { specificationUri: o.spec }),
        },
      })) as ResourceOut;
      print(added, (r: ResourceOut) => `Added ${resourceLine(r)}${r.warning ? `\nWarning: ${r.warning}` : ""}`);
    });
  podOption(resource.command("update <key>"))
    .description("change a resource's name, category, price or specification (the unit only while no entry uses it)")
    .option("--name <name>")
    .option("--unit <unit>")
    .option("--category <category>")
    .option("--price <decimal>", "reference price per unit (empty: none)")
    .option("--price-source <text>")
    .option("--price-date <date>")
    .option("--spec <uri>", "specification URI (empty: none)")
    .action(async (key: string, o: { pod: string; name?: string; unit?: string; category?: string; price?: string; priceSource?: string; priceDate?: string; spec?: string }) => {
      const patch = {
        ...(o.name !== undefined && { name: o.name }),
        ...(o.unit !== undefined && { unit: o.unit }),
        ...(o.category !== undefined && { category: o.category }),
        ...(o.price !== undefined && { referencePrice: o.price || null }),
        ...(o.priceSource !== undefined && { referencePriceSource: o.priceSource || null }),
        ...(o.priceDate !== undefined && { referencePriceOn: o.priceDate || null }),
        ...(o.spec !== undefined && { specificationUri: o.spec || null }),
      };
      const updated = (await op("resource.update", { pod: o.pod, key, patch })) as ResourceOut;
      print(updated, (r: ResourceOut) => `Updated ${resourceLine(r)}${r.warning ? `\nWarning: ${r.warning}` : ""}`);
    });
  podOption(resource.command("list"))
    .description("list the pod's resources")
    .action(async (o: { pod: string }) => print(await op("resource.list", { pod: o.pod }), (rs: ResourceOut[]) => (rs.length ? rs.map(resourceLine).join("\n") : "No resources yet.")));
}

function registerMembers(program: Command, { op, print, fail }: CliTools): void {
  const member = program.command("member").description("the pod's members, under pseudonyms (names and contacts stay with stewards)");
  podOption(member.command("add"))
    .description("register a member; prints the pseudonym to use in entries (m-7f3a)")
    .requiredOption("--name <name>", "the member's name (private)")
    .option("--contact <text>", "how to reach them (private)")
    .action(async (o: { pod: string; name: string; contact?: string }) => {
      const added = (await op("member.add", { pod: o.pod, name: o.name, ...(o.contact !== undefined && { contact: o.contact }) })) as MemberOut;
      print(added, (m: MemberOut) => `${m.pseudonym}\nRegistered ${m.name} as ${m.pseudonym}: use --member ${m.pseudonym} in ledger entries. The name stays private.`);
    });
  podOption(member.command("update <pseudonym>"))
    .description("change a member's name or contact (the pseudonym never changes; an option left out keeps its value)")
    .option("--name <name>", "the member's name (private)")
    .option("--contact <text>", "how to reach them (private; empty: none)")
    .action(async (pseudonym: string, o: { pod: string; name?: string; contact?: string }) => {
      if (o.name === undefined && o.contact === undefined) throw fail("Give --name, --contact or both.");
      const updated = (await op("member.update", {
        pod: o.pod,
        pseudonym,
        ...(o.name !== undefined && { name: o.name }),
        ...(o.contact !== undefined && { contact: o.contact }),
      })) as MemberOut;
      print(updated, (m: MemberOut) => `Updated ${m.pseudonym}: ${m.name}${m.contact ? `  <${m.contact}>` : " (no contact)"}. The name stays private.`);
    });
  podOption(member.command("list"))
    .description("list members with their names and contacts (private: for stewards' eyes)")
    .action(async (o: { pod: string }) =>
      print(await op("member.list", { pod: o.pod }), (ms: MemberOut[]) =>
        ms.length ? ms.map((m) => `${m.pseudonym.padEnd(10)} ${m.name}${m.contact ? `  <${m.contact}>` : ""}  since ${m.joinedAt.slice(0, 10)}`).join("\n") : "No members yet.",
      ),
    );
}

function registerLedger(program: Command, tools: CliTools): void {
  const { op, print, fail, json } = tools;
  const ledger = program.command("ledger").description("the pod's append-only, hash-chained ledger");
  podOption(ledger.command("add"))
    .description("append one entry (a draw issues a commons receipt)")
    .addOption(new Option("--kind <kind>", "what happened").choices(["contribution", "draw", "expenditure", "transfer_out", "transfer_in", "correction"]).makeOptionMandatory())
    .option("--resource <key>", "the resource (a correction takes its corrected entry's)")
    .requiredOption("--quantity <decimal>", "how much, in the resource's unit (a correction: the signed change)")
    .option("--unit <unit>", "checked against the resource's unit")
    .addOption(new Option("--fund <fund>", "required on draws, expenditures and transfers out").choices(["survival", "capacity_building", "power_shifting"]))
    .option("--member <pseudonym>", "the member involved (m-7f3a)")
    .option("--counterparty-pod <uri>", "another pod's actor URI")
    .option("--counterparty-label <text>", "someone outside (a shop, a school)")
    .option("--market-value <decimal>", "market-equivalent value (default: quantity × reference price)")
    .option("--charged <decimal>", "the price actually charged (default 0)")
    .option("--memo <text>", "public memo")
    .option("--private-memo <text>", "private memo (stewards only)")
    .option("--occurred <date>", "when it happened: 2026-11-20 or 2026-11-20T10:00:00Z (default now)")
    .option("--corrects <seq>", "the entry a correction corrects")
    .action(async (o: Record<string, string | undefined> & { pod: string }) => {
      if (o.counterpartyPod !== undefined && o.counterpartyLabel !== undefined) throw fail("Give --counterparty-pod or --counterparty-label, not both.");
      const entry: Record<string, unknown> = { kind: o.kind, quantity: o.quantity };
      const fields: Array<[string, string]> = [
        ["resource", "resource"],
        ["unit", "unit"],
        ["fund", "fund"],
        ["member", "member"],
        ["counterpartyPod", "counterpartyPod"],
        ["counterpartyLabel", "counterpartyLabel"],
        ["marketValue", "marketValue"],
        ["charged", "charged"],
        ["memo", "publicMemo"],
        ["privateMemo", "privateMemo"],
        ["occurred", "occurredAt"],
      ];
      for (const [option, field] of fields) if (o[option] !== undefined) entry[field] = o[option];
      if (o.corrects !== undefined) entry.corrects = /^\d{1,15}$/.test(o.corrects) ? Number(o.corrects) : o.corrects;
      const recorded = (await op("ledger.add", { pod: o.pod, entry })) as EntryOut;
      print(recorded, (e: EntryOut) => `Recorded ${entryLine(e)}\n  hash ${e.hash}${e.receipt ? `\nReceipt ${e.receipt}: ${e.receiptUrl}` : ""}`);
    });

  podOption(ledger.command("import <file>"))
    .description("import entries from a CSV file (docs/examples/ledger.csv): every row checked first, then all written or none")
    .action(async (file: string, o: { pod: string }) => {
      const absolute = nodePath.resolve(file);
      try {
        if (!fs.statSync(absolute).isFile()) throw new Error("not a file");
        fs.accessSync(absolute, fs.constants.R_OK);
      } catch (error) {
        throw fail(`Cannot read ${file}: ${(error as Error).message}`);
      }
      const progress = importProgress((n) => `${n} row${n === 1 ? "" : "s"}`);
      let result: ImportOut;
      try {
        result = (await op("ledger.import", { pod: o.pod, path: absolute }, { onProgress: (p) => progress.onProgress(p as unknown as Progress) })) as ImportOut;
      } catch (error) {
        progress.stop();
        if (error instanceof DomainError && error.code === "CSV_INVALID" && !json()) {
          const errors = (error.details?.errors as CsvError[] | undefined) ?? [];
          const more = Number(error.details?.more ?? 0);
          process.stderr.write(`hyphae: ${error.message.split(". First:")[0]} (CSV_INVALID)\n`);
          for (const line of csvErrorLines(errors)) process.stderr.write(`  ${line}\n`);
          if (more > 0) process.stderr.write(`  … and ${more} more\n`);
          process.exitCode = 1;
          return;
        }
        throw error;
      }
      progress.stop();
      print(result, (r: ImportOut) => `Imported ${r.rows} entries (${r.firstSeq}–${r.lastSeq}) from ${file}. Import ${r.importId}; the same file is refused if imported again.`);
    });

  podOption(ledger.command("export"))
    .description("export the ledger as CSV or JSON (to standard output, or --output)")
    .addOption(new Option("--format <format>", "csv or json").choices(["csv", "json"]).default("csv"))
    .option("--private", "include private memos, member pseudonyms, receipt numbers and salts (stewards only: keep the file private)")
    .option("--output <file>", "write to this file (created for your user only) instead of standard output")
    .action(async (o: { pod: string; format: "csv" | "json"; private?: boolean; output?: string }) => {
      const target = o.output === undefined ? null : nodePath.resolve(o.output);
      const out = target === null ? process.stdout : fs.createWriteStream(target, { mode: 0o600 });
      type ExportOut = { format: string; private: boolean; bytes: number; head: { seq: number; hash: string } };
      let result: ExportOut;
      try {
        result = (await op("ledger.export", { pod: o.pod, format: o.format, private: Boolean(o.private) }, { write: streamWriter(out) })) as ExportOut;
      } catch (error) {
        if (target !== null) {
          out.destroy();
          fs.rmSync(target, { force: true });
        }
        throw error;
      }
      if (target === null) return; // standard output carries the export itself
      await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
      print(result, (r: ExportOut) => `Wrote ${r.bytes} bytes of ${r.private ? "private " : ""}${r.format.toUpperCase()} to ${o.output} (head: entry ${r.head.seq}, ${r.head.hash}).`);
    });

  podOption(ledger.command("verify"))
    .description("recompute the whole hash chain; exits non-zero naming the first bad entry")
    .action(async (o: { pod: string }) => {
      const report = (await op("ledger.verify", { pod: o.pod })) as VerifyOut;
      if (report.ok) {
        print(report, (r: VerifyOut) => `Chain OK: ${r.entries} entries, head ${r.headHash}${r.entries ? ` (entry ${r.headSeq})` : " (empty ledger)"}`);
        return;
      }
      if (json()) print(report, () => "");
      else process.stderr.write(`hyphae: ${faultText(report.fault!)}\n  The ${report.entries} entries before it verify (up to entry ${report.headSeq}, ${report.headHash}).\n`);
      process.exitCode = 1;
    });
}

function registerBooks(program: Command, { op, print, fail }: CliTools): void {
  const booksCmd = program.command("books").description("the open books' settings and balances");
  podOption(booksCmd.command("settings"))
    .description("show the books' settings, or change them with the options")
    .option("--currency <code>", "the pod's currency (only while the ledger is empty)")
    .addOption(new Option("--allow-overdraw <on|off>", "allow draws larger than the stock").choices(["on", "off"]))
    .option("--auto-periods <list>", "periods published automatically when they end: week,lunar,month (empty: none)")
    .option("--invoice-addressee <text>", "who the 'what the city would have charged us' page is addressed to (empty: none)")
    .action(async (o: { pod: string; currency?: string; allowOverdraw?: string; autoPeriods?: string; invoiceAddressee?: string }) => {
      const patch = {
        ...(o.currency !== undefined && { currency: o.currency }),
        ...(o.allowOverdraw !== undefined && { allowOverdraw: o.allowOverdraw === "on" }),
        ...(o.autoPeriods !== undefined && { autoPeriods: o.autoPeriods.split(",").map((s) => s.trim()).filter(Boolean) }),
        ...(o.invoiceAddressee !== undefined && { invoiceAddressee: o.invoiceAddressee || null }),
      };
      const changed = Object.keys(patch).length > 0;
      const settings = (await op(changed ? "books.settings.set" : "books.settings", changed ? { pod: o.pod, patch } : { pod: o.pod })) as SettingsOut;
      print(settings, (s: SettingsOut) =>
        [
          `Currency: ${s.currency}`,
          `Draws larger than the stock: ${s.allowOverdraw ? "allowed" : "refused"}`,
          `Published automatically: ${s.autoPeriods.length ? s.autoPeriods.join(", ") : "nothing"}`,
          `Invoice addressed to: ${s.invoiceAddressee ?? "(nobody named)"}`,
        ].join("\n"),
      );
    });
  podOption(booksCmd.command("balances"))
    .description("stock per resource and flows per fund, now or at a date")
    .option("--at <datetime>", "an ISO date and time with a zone (2026-11-30T23:59:59Z)")
    .action(async (o: { pod: string; at?: string }) => {
      if (o.at !== undefined && Number.isNaN(Date.parse(o.at))) throw fail("--at must be an ISO date and time, e.g. 2026-11-30T23:59:59Z");
      type BalancesOut = {
        at: string;
        currency: string;
        stock: Array<{ resource: string; unit: string; quantity: string }>;
        funds: Array<{ fund: string; inflowValue: string; outflowValue: string; entries: number }>;
        valueReclaimed: string;
        entries: number;
      };
      print(await op("books.balances", { pod: o.pod, ...(o.at !== undefined && { at: o.at }) }), (b: BalancesOut) =>
        [
          `Books at ${b.at}: ${b.entries} entries; value reclaimed ${b.valueReclaimed} ${b.currency}`,
          ...b.stock.map((s) => `  stock  ${s.resource.padEnd(16)} ${s.quantity} ${s.unit}`),
          ...b.funds.map((f) => `  fund   ${f.fund.padEnd(18)} in ${f.inflowValue} ${b.currency}, out ${f.outflowValue} ${b.currency} (${f.entries} entries)`),
        ].join("\n"),
      );
    });
}

export const registerBookCommands: RegisterCommands = (program, tools) => {
  registerResources(program, tools);
  registerMembers(program, tools);
  registerLedger(program, tools);
  registerBooks(program, tools);
};
