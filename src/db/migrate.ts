/**
 * Applies the migrations in `migrations/` with Kysely's Migrator. The same files run on
 * PGlite and PostgreSQL; on PostgreSQL the Migrator holds a lock, so several processes
 * starting at once are safe.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promises as fs } from "node:fs";
import type { Kysely } from "kysely";
import { FileMigrationProvider, Migrator, type MigrationResult } from "kysely/migration";

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../migrations");

export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({
      fs,
      path: { join: path.join },
      migrationFolder: MIGRATIONS_DIR,
      // File URLs keep the import working on every platform.
      import: (file: string) => import(pathToFileURL(file).href),
    } as ConstructorParameters<typeof FileMigrationProvider>[0]),
    migrationTableName: "hyphae_migrations",
    migrationLockTableName: "hyphae_migrations_lock",
  });
}

export class MigrationFailedError extends Error {
  readonly code = "MIGRATION_FAILED";
}

/** Runs every pending migration; returns the names applied now. */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results } = await createMigrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r: MigrationResult) => r.status === "Error");
    throw new MigrationFailedError(
      `Migration ${failed?.migrationName ?? "(unknown)"} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
