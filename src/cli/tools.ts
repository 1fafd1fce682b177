/** What the `hyphae` command's sub-command modules share with it (see hyphae.ts). */
import type { Command } from "commander";
import type { OpContext } from "../services/admin-ops.ts";

export interface CliTools {
  /**
   * Runs one admin operation, in this process or through a running node's admin socket.
   * With a `context`, progress and output pieces reach it as the operation runs (through
   * the socket's streamed route when a node holds the database).
   */
  op(name: string, args: Record<string, unknown>, context?: OpContext): Promise<unknown>;
  /** Prints `value` as JSON under --json, else the human text. */
  print(value: unknown, human: (v: never) => string): void;
  /** True under --json. */
  json(): boolean;
  /** An error printed as `hyphae: <message>` with exit code 1 (no stack). */
  fail(message: string): Error;
}

export type RegisterCommands = (program: Command, tools: CliTools) => void;
