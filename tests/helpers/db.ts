/**
 * Per-test-file databases. By default each file gets an in-memory PGlite; with
 * HYPHAE_TEST_DATABASE=postgres each file gets a fresh database on the local
 * PostgreSQL server (dropped afterwards).
 */
import fs from "node:fs";
import { inject } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { createPostgresDatabase, POSTGRES_ADMIN_URL } from "./infra.ts";

export { createPostgresDatabase, POSTGRES_ADMIN_URL };

export const TEST_DATABASE: "pglite" | "postgres" = process.env.HYPHAE_TEST_DATABASE === "postgres" ? "postgres" : "pglite";

export interface TestDatabase {
  readonly handle: DatabaseHandle;
  /** postgres:// URL of the fresh database (postgres mode only). */
  readonly url: string | null;
  drop(): Promise<void>;
}

let template: Blob | null | undefined;
/** The migrated cluster dump made by tests/global-setup.ts, read once per test file. */
function pgliteTemplate(): Blob | null {
  if (template === undefined) {
    let file: string | null = null;
    try {
      file = inject("pgliteTemplate");
    } catch {
      file = null; // outside vitest (scripts): start from an empty cluster
    }
    template = file ? new Blob([fs.readFileSync(file)]) : null;
  }
  return template;
}

export async function createTestDatabase(options: { migrate?: boolean; kind?: "pglite" | "postgres" } = {}): Promise<TestDatabase> {
  const kind = options.kind ?? TEST_DATABASE;
  let handle: DatabaseHandle;
  let url: string | null = null;
  let dropDb = async () => {};
  if (kind === "postgres") {
    const created = await createPostgresDatabase();
    url = created.url;
    dropDb = created.drop;
    handle = await openDatabase({ databaseUrl: url });
  } else {
    // The template is already migrated: use it only when the caller wants a migrated database.
    const template = options.migrate === false ? null : pgliteTemplate();
    handle = await openDatabase({ memory: true, ...(template && { template }) });
  }
  if (options.migrate !== false) await migrateToLatest(handle.db);
  return {
    handle,
    url,
    async drop() {
      await handle.close();
      await dropDb();
    },
  };
}
