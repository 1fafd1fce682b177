/**
 * The only module that reads the process environment. Everything else receives a
 * frozen `Config`. A bad value stops start-up with one line naming the variable.
 */
import path from "node:path";
import { z } from "zod";
import { SLUG_PATTERN } from "./domain/pods.ts";

export const NODE_ROLES = ["all", "web", "worker"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];


export const TEST_FAULTS = ["exit-after-idempotent-commit", "kill-after-outbox-claim", "exit-after-inbox-commit"] as const;
export type TestFault = (typeof TEST_FAULTS)[number];

export interface Config {
  readonly publicUrl: URL;
  /** PUBLIC_URL was set; otherwise publicUrl is the http://localhost:PORT default (or the node's recorded origin). */
  readonly publicUrlFromEnv: boolean;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string | null;
  readonly dataDir: string;
  readonly role: NodeRole;
  readonly podSlug: string;
  readonly podName: string;
  readonly allowPrivateAddresses: boolean;
  readonly logLevel: LogLevel;
  readonly trustProxy: boolean | string;
  /** Write clients' IP addresses into request logs (LOG_CLIENT_IPS; off by default). */
  readonly logClientIps: boolean;
  /** Refused inbox POSTs allowed per client address per minute; 0 turns the limit off. */
  readonly inboxRateLimit: number;
  /** Sessionless steward-page POSTs (sign-in links, passkey challenges) per address per minute; 0 = no limit. */
  readonly stewardSignInRateLimit: number;
  readonly queue: {
    readonly concurrency: number;
    readonly leaseSeconds: number;
    readonly pollSeconds: number;
    /** Claims per message (runs, and runs cut short by a crash) before it becomes a dead letter. */
    readonly maxAttempts: number;
    /** A handler running longer is aborted and its message retried. */
    readonly handlerTimeoutSeconds: number;
  };
  readonly tokenTtlDays: number;
  /** How long a steward's one-time sign-in link stays valid (minutes). */
  readonly stewardInviteMinutes: number;
  /** How long a steward web session lasts after sign-in (days). */
  readonly stewardSessionDays: number;
  readonly outbox: {
    /** How long an outbound event (and each delivery of it) is retried before it is given up on. */
    readonly giveUpHours: number;
  };
  readonly adminSocket: string | null;
  /** Fault injection for tests (HYPHAE_TEST_FAULTS); empty in production. */
  readonly testFaults: readonly TestFault[];
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

const boolean = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["true", "false", "1", "0", "yes", "no"].includes(v), "must be true or false")
  .transform((v) => v === "true" || v === "1" || v === "yes");

function integer(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number between ${min} and ${max}`);
}

const httpUrl = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), "must be an http(s) URL such as https://pod.example")
  .transform((v) => new URL(v))
  .refine((u) => (u.pathname === "/" || u.pathname === "") && !u.search && !u.hash, "must be an origin without a path, query or fragment");

const postgresUrl = z
  .string()
  .trim()
  .refine((v) => URL.canParse(v) && /^postgres(ql)?:$/.test(new URL(v).protocol), "must be a postgres:// or postgresql:// URL");

/** Each variable: its schema and its default (as the string the environment would hold). */
const variables = {
  HOST: { schema: z.string().trim().min(1, "must not be empty"), default: "127.0.0.1" },
  PORT: { schema: integer(0, 65535), default: "3000" },
  PUBLIC_URL: { schema: httpUrl, default: undefined },
  DATABASE_URL: { schema: postgresUrl, default: undefined },
  DATA_DIR: { schema: z.string().trim().min(1, "must not be empty"), default: "./data" },
  NODE_ROLE: { schema: z.enum(NODE_ROLES, { error: `must be one of ${NODE_ROLES.join(", ")}` }), default: "all" },
  POD_SLUG: {
    schema: z
      .string()
      .trim()
      .max(64, "must be at most 64 characters")
      .regex(SLUG_PATTERN, "must be lowercase letters, digits and _, with - only between them (e.g. oak-street)"),
    default: "commons",
  },
  POD_NAME: { schema: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"), default: "Our Commons" },
  ALLOW_PRIVATE_ADDRESSES: { schema: boolean, default: "false" },
  LOG_LEVEL: { schema: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` }), default: "info" },
  TRUST_PROXY: {
    schema: z.string().trim().min(1).transform((v) => (v === "true" ? true : v === "false" ? false : v)),
    default: "loopback",
  },
  LOG_CLIENT_IPS: { schema: boolean, default: "false" },
  INBOX_RATE_LIMIT: { schema: integer(0, 1_000_000), default: "60" },
  STEWARD_SIGN_IN_RATE_LIMIT: { schema: integer(0, 1_000_000), default: "30" },
  QUEUE_CONCURRENCY: { schema: integer(1, 64), default: "4" },
  QUEUE_LEASE_SECONDS: { schema: integer(1, 3600), default: "120" },
  QUEUE_POLL_SECONDS: { schema: integer(1, 300), default: "5" },
  QUEUE_MAX_ATTEMPTS: { schema: integer(1, 1000), default: "25" },
  QUEUE_HANDLER_TIMEOUT_SECONDS: { schema: integer(1, 3600), default: "60" },
  TOKEN_TTL_DAYS: { schema: integer(1, 3650), default: "90" },
  STEWARD_INVITE_MINUTES: { schema: integer(1, 10080), default: "60" },
  STEWARD_SESSION_DAYS: { schema: integer(1, 365), default: "30" },
  OUTBOX_GIVE_UP_HOURS: {
    schema: z
      .string()
      .trim()
      .regex(/^\d+(\.\d+)?$/, "must be a number of hours such as 72 (decimals allowed)")
      .transform(Number)
      .refine((n) => n > 0 && n <= 8760, "must be more than 0 and at most 8760 (a year)"),
    default: "72",
  },
  ADMIN_SOCKET: { schema: z.string().trim(), default: undefined },
  HYPHAE_TEST_FAULTS: {
    schema: z
      .string()
      .trim()
      .transform((v) => v.split(",").map((f) => f.trim()).filter(Boolean))
      .refine((fs) => fs.every((f) => (TEST_FAULTS as readonly string[]).includes(f)), `must be a comma-separated list of ${TEST_FAULTS.join(", ")}`)
      .transform((fs) => fs as TestFault[]),
    default: "",
  },
} as const;

type Env = Record<string, string | undefined>;

function read<K extends keyof typeof variables>(env: Env, name: K): z.output<(typeof variables)[K]["schema"]> | undefined {
  const spec = variables[name];
  const raw = env[name] === undefined || env[name] === "" ? spec.default : env[name];
  if (raw === undefined) return undefined;
  const parsed = spec.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(name, `${issue?.message ?? "is invalid"} (got ${JSON.stringify(raw)})`);
  }
  return parsed.data as z.output<(typeof variables)[K]["schema"]>;
}

/** Names of every variable the node reads, for docs and tests. */
export const CONFIG_VARIABLES = Object.keys(variables);

/** `defaults` fill in variables the environment leaves unset (the CLI quietens logs this way). */
export function loadConfig(env: Env = process.env, defaults: Env = {}): Config {
  env = { ...defaults, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")) };
  const port = read(env, "PORT")!;
  const host = read(env, "HOST")!;
  const configuredUrl = read(env, "PUBLIC_URL");
  const publicUrl = configuredUrl ?? new URL(`http://localhost:${port}`);
  const dataDir = path.resolve(read(env, "DATA_DIR")!);
  const databaseUrl = read(env, "DATABASE_URL") ?? null;
  const adminSocket = read(env, "ADMIN_SOCKET");
  const role = read(env, "NODE_ROLE")!;
  if (role !== "all" && !databaseUrl) {
    throw new ConfigError("NODE_ROLE", `${role} needs DATABASE_URL: the embedded database allows only one process, so use NODE_ROLE=all`);
  }
  return Object.freeze({
    publicUrl,
    publicUrlFromEnv: configuredUrl !== undefined,
    host,
    port,
    databaseUrl,
    dataDir,
    role,
    podSlug: read(env, "POD_SLUG")!,
    podName: read(env, "POD_NAME")!,
    allowPrivateAddresses: read(env, "ALLOW_PRIVATE_ADDRESSES")!,
    logLevel: read(env, "LOG_LEVEL")!,
    trustProxy: read(env, "TRUST_PROXY")!,
    logClientIps: read(env, "LOG_CLIENT_IPS")!,
    inboxRateLimit: read(env, "INBOX_RATE_LIMIT")!,
    stewardSignInRateLimit: read(env, "STEWARD_SIGN_IN_RATE_LIMIT")!,
    queue: Object.freeze({
      concurrency: read(env, "QUEUE_CONCURRENCY")!,
      leaseSeconds: read(env, "QUEUE_LEASE_SECONDS")!,
      pollSeconds: read(env, "QUEUE_POLL_SECONDS")!,
      maxAttempts: read(env, "QUEUE_MAX_ATTEMPTS")!,
      handlerTimeoutSeconds: read(env, "QUEUE_HANDLER_TIMEOUT_SECONDS")!,
    }),
    tokenTtlDays: read(env, "TOKEN_TTL_DAYS")!,
    stewardInviteMinutes: read(env, "STEWARD_INVITE_MINUTES")!,
    stewardSessionDays: read(env, "STEWARD_SESSION_DAYS")!,
    outbox: Object.freeze({ giveUpHours: read(env, "OUTBOX_GIVE_UP_HOURS")! }),
    testFaults: Object.freeze(read(env, "HYPHAE_TEST_FAULTS") ?? []),
    // The admin socket exists for the embedded database, where a second process
    // may not open the data directory. "off" disables it.
    adminSocket: adminSocket === "off" ? null : adminSocket ? path.resolve(adminSocket) : databaseUrl ? null : path.join(dataDir, "admin.sock"),
  });
}
