// Lint rules, including the layer boundaries described in docs/architecture.md.
import tseslint from "typescript-eslint";

const fedify = { group: ["@fedify/*"], message: "Only src/federation/ talks to Fedify." };
const web = { group: ["fastify", "fastify/*"], message: "HTTP belongs in src/http/ (and app.ts)." };
const layer = (name, why) => ({ group: [`**/${name}/**`, `../${name}/*`, `../../${name}/*`], message: why });

export default tseslint.config(
  { ignores: ["node_modules/**", "data/**", "coverage/**"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/config.ts"],
    rules: {
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Read configuration through src/config.ts." }],
    },
  },
  {
    files: ["src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [fedify, web, { group: ["kysely", "pg", "@electric-sql/*"], message: "The domain does no I/O." }, layer("services", "domain imports nothing but itself"), layer("db", "domain imports nothing but itself"), layer("federation", "domain imports nothing but itself"), layer("http", "domain imports nothing but itself")] }],
    },
  },
  {
    files: ["src/services/**/*.ts", "src/db/**/*.ts", "src/jobs/**/*.ts", "src/lib/**/*.ts", "src/cli/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [fedify, web, layer("federation", "reach federation through ports wired in src/wiring.ts"), layer("http", "services do not know about HTTP")] }],
    },
  },
  {
    files: ["src/db/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [fedify, web, layer("services", "repositories sit below services"), layer("federation", "db knows nothing of federation"), layer("http", "db knows nothing of HTTP")] }],
    },
  },
  {
    // Federation handlers call services; only the storage adapters and the outbox
    // publisher (infrastructure under Fedify) touch the database directly.
    files: ["src/federation/**/*.ts"],
    ignores: ["src/federation/storage/**", "src/federation/publish.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [layer("db", "federation handlers call services, not repositories"), layer("http", "federation does not know about routes")] }],
    },
  },
  {
    files: ["src/http/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [fedify, layer("federation", "HTTP routes call services; only app.ts wires the bridge"), layer("db", "HTTP routes call services, not repositories")] }],
    },
  },
);
