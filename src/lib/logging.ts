/**
 * LogTape setup for Fedify's logs and our own service logs: JSON lines on stdout, the
 * same format Fastify's logger writes. `contextLocalStorage` lets Fedify attach request
 * and message ids to every record (without it LogTape warns on every request).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getConsoleSink, getLogger, jsonLinesFormatter, reset, type LogLevel as TapeLevel, type LogRecord } from "@logtape/logtape";
import type { LogLevel } from "../config.ts";
import type { Logger } from "../services/ports.ts";

const LEVELS: Record<Exclude<LogLevel, "silent">, TapeLevel> = {
  fatal: "fatal",
  error: "error",
  warn: "warning",
  info: "info",
  debug: "debug",
  trace: "trace",
};

let configured = false;

/**
 * A commons receipt's number is what lets its holder open the receipt page: no log line
 * keeps it, whichever library wrote the line (Fedify logs every path at debug level).
 */
const RECEIPT_PATH = /(\/receipts\/)[^"\s?#/\\]+/g;
export const redactReceiptNumbers = (line: string): string => line.replace(RECEIPT_PATH, "$1[redacted]");

/** How every LogTape record is written: a JSON line, receipt numbers redacted. */
export const formatLogLine = (record: LogRecord): string => redactReceiptNumbers(jsonLinesFormatter(record));

export async function configureLogging(level: LogLevel): Promise<void> {
  if (configured) await reset();
  configured = true;
  const lowestLevel = level === "silent" ? null : LEVELS[level];
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { console: getConsoleSink({ formatter: formatLogLine }) },
    loggers:
      lowestLevel === null
        ? [{ category: ["logtape", "meta"], sinks: [], lowestLevel: "fatal" }]
        : [
            { category: ["fedify"], sinks: ["console"], lowestLevel: lowestLevel === "info" ? "warning" : lowestLevel },
            // Fedify warns about every response >= 400 it returns, including the 404s that
            // hand a request on to our own routes; Fastify already logs each request's status.
            {
              category: ["fedify", "federation", "http"],
              parentSinks: "override",
              sinks: ["console"],
              lowestLevel: lowestLevel === "debug" || lowestLevel === "trace" ? lowestLevel : "error",
            },
            { category: ["hyphae"], sinks: ["console"], lowestLevel },
            { category: ["logtape", "meta"], sinks: ["console"], lowestLevel: "warning" },
          ],
  });
}

export function serviceLogger(...category: string[]): Logger {
  return getLogger(["hyphae", ...category]);
}
