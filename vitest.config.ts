import { defineConfig } from "vitest/config";

// Tests that need real PostgreSQL processes (named *.pg.test.ts) run only when the suite
// runs against PostgreSQL (HYPHAE_TEST_DATABASE=postgres, as `.ci/run` does). Tests that only
// exercise node processes on an embedded data directory (named *.embedded.test.ts) run only in
// the default, embedded run: they would test the same thing twice.
const onPostgres = process.env.HYPHAE_TEST_DATABASE === "postgres";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/global-setup.ts"],
    exclude: onPostgres ? ["**/node_modules/**", "tests/**/*.embedded.test.ts"] : ["**/node_modules/**", "tests/**/*.pg.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
