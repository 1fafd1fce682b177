/**
 * The configuration module: defaults, and one-line errors naming the variable for every
 * bad value, both from `loadConfig` and from the real process entry.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig defaults", () => {
  it("fills in every default from an empty environment", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe("127.0.0.1");
    expect(config.publicUrl.href).toBe("http://localhost:3000/");
    expect(config.dataDir).toBe(path.resolve("./data"));
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.databaseUrl).toBeNull();
    expect(config.role).toBe("all");
    expect(config.podSlug).toBe("commons");
    expect(config.podName).toBe("Our Commons");
    expect(config.allowPrivateAddresses).toBe(false);
    expect(config.logLevel).toBe("info");
    expect(config.queue).toEqual({ concurrency: 4, leaseSeconds: 120, pollSeconds: 5, maxAttempts: 25, handlerTimeoutSeconds: 60 });
    expect(config.tokenTtlDays).toBe(90);
    // Embedded database: the admin socket lives in the data directory.
    expect(config.adminSocket).toBe(path.join(path.resolve("./data"), "admin.sock"));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("derives the default PUBLIC_URL from PORT and treats empty strings as unset", () => {
    const config = loadConfig({ PORT: "8080", HOST: "", PUBLIC_URL: "" });
    expect(config.publicUrl.href).toBe("http://localhost:8080/");
    expect(config.host).toBe("127.0.0.1");
  });

  it("reads explicit values", () => {
    const config = loadConfig({
      PORT: "4000",
      HOST: "0.0.0.0",
      PUBLIC_URL: "https://pods.example",
      DATABASE_URL: "postgres://u@db.example/hyphae",
      DATA_DIR: "/tmp/somewhere",
      NODE_ROLE: "web",
      POD_SLUG: "oak-street",
      POD_NAME: "Oak Street",
      ALLOW_PRIVATE_ADDRESSES: "true",
      QUEUE_CONCURRENCY: "8",
    });
    expect(config.port).toBe(4000);
    expect(config.host).toBe("0.0.0.0");
    expect(config.publicUrl.origin).toBe("https://pods.example");
    expect(config.databaseUrl).toBe("postgres://u@db.example/hyphae");
    expect(config.dataDir).toBe("/tmp/somewhere");
    expect(config.role).toBe("web");
    expect(config.podSlug).toBe("oak-street");
    expect(config.podName).toBe("Oak Street");
    expect(config.allowPrivateAddresses).toBe(true);
    expect(config.queue.concurrency).toBe(8);
    // PostgreSQL: no admin socket unless asked for.
    expect(config.adminSocket).toBeNull();
  });
});

describe("loadConfig rejects bad values with one line naming the variable", () => {
  const cases: Array<{ env: Record<string, string>; variable: string; problem: RegExp }> = [
    { env: { PORT: "abc" }, variable: "PORT", problem: /whole number between 0 and 65535/ },
    { env: { PORT: "70000" }, variable: "PORT", problem: /whole number between 0 and 65535/ },
    { env: { PUBLIC_URL: "ftp://x" }, variable: "PUBLIC_URL", problem: /http\(s\) URL/ },
    { env: { PUBLIC_URL: "https://x/path" }, variable: "PUBLIC_URL", problem: /without a path/ },
    { env: { DATABASE_URL: "mysql://" }, variable: "DATABASE_URL", problem: /postgres:\/\// },
    { env: { NODE_ROLE: "boss" }, variable: "NODE_ROLE", problem: /one of all, web, worker/ },
    { env: { NODE_ROLE: "web" }, variable: "NODE_ROLE", problem: /needs DATABASE_URL/ },
    { env: { POD_SLUG: "Bad Slug" }, variable: "POD_SLUG", problem: /lowercase letters/ },
    { env: { POD_SLUG: "-x" }, variable: "POD_SLUG", problem: /- only between them/ },
    { env: { LOG_LEVEL: "loud" }, variable: "LOG_LEVEL", problem: /one of fatal, error/ },
    { env: { ALLOW_PRIVATE_ADDRESSES: "maybe" }, variable: "ALLOW_PRIVATE_ADDRESSES", problem: /true or false/ },
    { env: { QUEUE_CONCURRENCY: "0" }, variable: "QUEUE_CONCURRENCY", problem: /whole number between 1 and 64/ },
  ];

  it.each(cases)("$env", ({ env, variable, problem }) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.message).toContain(variable);
    expect(error.message).toMatch(problem);
    // The value read is echoed so the operator sees what the node got.
    expect(error.message).toContain(Object.values(env)[0]);
  });

  it("accepts NODE_ROLE=web and worker once DATABASE_URL is set", () => {
    for (const role of ["web", "worker"]) {
      expect(loadConfig({ NODE_ROLE: role, DATABASE_URL: "postgresql://localhost/x" }).role).toBe(role);
    }
  });
});

describe("the node process", () => {
  it("exits with code 1 and one line on stderr naming PORT when PORT is bad", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-config-"));
    try {
      const child = spawn(process.execPath, ["src/main.ts"], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), PORT: "abc", DATA_DIR: dataDir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
      expect(code).toBe(1);
      expect(stdout).toBe("");
      const lines = stderr.split("\n").filter((l) => l !== "");
      expect(lines).toHaveLength(1);
      expect(stderr.endsWith("\n")).toBe(true);
      expect(lines[0]).toContain("PORT");
      expect(lines[0]).toContain('"abc"');
      // Nothing was started, so nothing was written to the data directory.
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
