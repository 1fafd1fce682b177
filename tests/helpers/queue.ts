/** Helpers for message-queue tests: a log that records, and more handles on one database. */
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import type { QueueLog } from "../../src/federation/storage/message-queue.ts";
import type { TestDatabase } from "./db.ts";

export interface LogEntry {
  level: "warn" | "error";
  message: string;
  properties?: Record<string, unknown>;
}

export function recordingLog(): QueueLog & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    warn: (message, properties) => entries.push({ level: "warn", message, properties }),
    error: (message, properties) => entries.push({ level: "error", message, properties }),
  };
}

/**
 * Another handle on the same storage: on PostgreSQL a new pool on the same database (like
 * another process); on PGlite the one in-memory instance is shared. Handles opened here are
 * pushed to `opened` so the test can close them.
 */
export async function otherHandle(testDb: TestDatabase, opened: DatabaseHandle[]): Promise<DatabaseHandle> {
  if (testDb.url === null) return testDb.handle;
  const handle = await openDatabase({ databaseUrl: testDb.url });
  opened.push(handle);
  return handle;
}
