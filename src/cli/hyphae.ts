#!/usr/bin/env node
/**
 * `hyphae`: everything an operator or steward does from a terminal.
 *
 * On PostgreSQL the command opens the database itself. On the embedded database only
 * one process may open the data directory: when a node is running there, the command
 * goes through that node's admin socket; when none is, it opens the directory itself
 * (holding the same lock the node would).
 */
import { Command, Option } from "commander";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import type { Config } from "../config.ts";
import { SOFTWARE_VERSION } from "../lib/version.ts";
import type { OpContext } from "../services/admin-ops.ts";
import { registerBookCommands } from "./books.ts";
import { registerSummaryCommands } from "./summaries.ts";
import { registerProposalCommands } from "./proposals.ts";
import { registerClaimCommands } from "./claims.ts";
import { registerTransferCommands } from "./transfers.ts";
import { registerCongressCommands } from "./congress.ts";
import type { CliTools } from "./tools.ts";

process.umask(0o077); // what commands create (a data directory, db copy output) is for this user only

class CliError extends Error {}

// The configuration (zod), the lock, the admin socket client and logging load when a command
// needs them, so `--version` and `--help` load little more than commander.
async function config(): Promise<Config> {
  const { ConfigError, loadConfig } = await import("../config.ts");
  try {
    // Commands are quiet unless asked: the node's own logs are for the server.
    return loadConfig(undefined, { LOG_LEVEL: "error" });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** The pid of a running node holding the embedded database's directory, or null. */
async function lockHolder(dataDir: string): Promise<number | null> {
  return (await import("../db/lock.ts")).lockHolder(dataDir);
}

/** Runs one admin operation, locally or through the running node. */
async function op(name: string, args: Record<string, unknown>, context?: OpContext): Promise<unknown> {
  const cfg = await config();
  await (await import("../lib/logging.ts")).configureLogging(cfg.logLevel);
  if (!cfg.databaseUrl) {
    const holder = await lockHolder(cfg.dataDir);
    if (holder !== null) {
      if (!cfg.adminSocket) {
        throw new CliError(`A node (process ${holder}) is using ${cfg.dataDir} and its admin socket is off; stop it or set ADMIN_SOCKET.`);
      }
      const { callAdminSocket, callAdminSocketStream } = await import("./admin-client.ts");
      return context ? callAdminSocketStream(cfg.adminSocket, name, args, context) : callAdminSocket(cfg.adminSocket, name, args);
    }
  }
  // The node's code (Fedify, the services) loads only when a command opens the database
  // itself: `--version`, `--help` and commands sent to a running node start quickly.
  const [{ createAppContext }, { runAdminOp }] = await Promise.all([import("../wiring.ts"), import("../services/admin-ops.ts")]);
  const ctx = await createAppContext(cfg);
  try {
    return await runAdminOp(ctx.deps, name, args, context);
  } finally {
    await ctx.close();
  }
}

let json = false;
function print(value: unknown, human: (v: never) => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + "\n" : human(value as never) + "\n");
}

type PodView = { slug: string; name: string; handle: string; actorUrl: string; followers: number; pendingFollowers: number; following: number; manuallyApprovesFollowers: boolean; networkVisibility?: string; retiredAt: string | null };
const podLine = (p: PodView) =>
  `${p.handle}  ${p.name}${p.retiredAt ? `  (retired ${p.retiredAt.slice(0, 10)})` : ""}\n  ${p.actorUrl}\n  ${p.followers} followers${p.pendingFollowers ? `, ${p.pendingFollowers} waiting for approval` : ""}, follows ${p.following}${p.manuallyApprovesFollowers ? "; approves followers by hand" : ""}${p.networkVisibility === "public" ? "; follower lists public" : "; follower lists hidden"}`;

const program = new Command()
  .name("hyphae")
  .description("Run and steward a Hyphae node for mutual-aid pods")
  .version(SOFTWARE_VERSION)
  .option("--json", "print machine-readable JSON")
  .hook("preAction", (cmd) => {
    json = Boolean(cmd.opts().json);
  });

program
  .command("start")
  .description("start the node (same as npm start)")
  .action(async () => {
    await import("../main.ts");
    await new Promise(() => {});
  });

program
  .command("migrate")
  .description("apply pending database migrations")
  .action(async () => {
    const cfg = await config();
    if (!cfg.databaseUrl && (await lockHolder(cfg.dataDir)) !== null) {
      print({ applied: [], note: "running node applied migrations at start" }, () => "The running node applied all migrations when it started; nothing to do.");
      return;
    }
    const { openDatabase } = await import("../db/connect.ts");
    const { migrateToLatest } = await import("../db/migrate.ts");
    const handle = await openDatabase(cfg.databaseUrl ? { databaseUrl: cfg.databaseUrl } : { dataDir: cfg.dataDir });
    try {
      const applied = await migrateToLatest(handle.db);
      print({ applied }, (a: { applied: string[] }) => (applied.length ? `Applied ${a.applied.join(", ")}` : "Database is up to date."));
    } finally {
      await handle.close();
    }
  });

const pod = program.command("pod").description("create and inspect pods");
pod
  .command("create <slug>")
  .description("create a pod (slug: lowercase letters, digits, _ and - between them)")
  .requiredOption("--name <name>", "display name")
  .option("--summary <text>", "a short description", "")
  .option("--icon <url>", "avatar image URL")
  .option("--manual-approval", "approve followers by hand")
  .action(async (slug: string, o: { name: string; summary: string; icon?: string; manualApproval?: boolean }) => {
    const view = await op("pod.create", {
      slug,
      name: o.name,
      summary: o.summary,
      iconUrl: o.icon ?? null,
      manuallyApprovesFollowers: Boolean(o.manualApproval),
    });
    print(view, (p: PodView) => `Created ${podLine(p)}\nIssue a steward token with: npx hyphae token issue --pod ${p.slug}`);
  });
pod
  .command("list")
  .description("list the pods on this node")
  .action(async () => print(await op("pod.list", {}), (ps: PodView[]) => (ps.length ? ps.map(podLine).join("\n") : "No pods yet.")));
pod
  .command("show <slug>")
  .description("show one pod")
  .action(async (slug: string) => print(await op("pod.show", { pod: slug }), podLine));
pod
  .command("delete <slug>")
  .description("remove a pod that has published nothing (a mistake, or the first-start pod you do not want)")
  .action(async (slug: string) =>
    print(await op("pod.delete", { pod: slug }), () => `Deleted ${slug} and all its rows; the name ${slug} is free again.`),
  );
pod
  .command("retire <slug>")
  .description("retire a pod that has published: its actor is gone (410), followers are sent a Delete, its records stay")
  .action(async (slug: string) =>
    print(await op("pod.retire", { pod: slug }), (p: PodView & { alreadyRetired: boolean }) =>
      p.alreadyRetired
        ? `${slug} was already retired on ${p.retiredAt}; nothing changed.`
        : `Retired ${slug}. Its ${p.followers} ${p.followers === 1 ? "follower is" : "followers are"} being sent a Delete; its charter and records stay on this node.`,
    ),
  );
pod
  .command("set <slug>")
  .description("change a pod's profile")
  .option("--name <name>")
  .option("--summary <text>")
  .option("--icon <url>")
  .addOption(new Option("--manual-approval <on|off>", "approve followers by hand").choices(["on", "off"]))
  .addOption(new Option("--network <hidden|public>", "who sees who follows the pod and whom it follows (hidden: only the numbers and other pods)").choices(["hidden", "public"]))
  .action(async (slug: string, o: { name?: string; summary?: string; icon?: string; manualApproval?: string; network?: string }) => {
    const patch = {
      ...(o.name !== undefined && { name: o.name }),
      ...(o.summary !== undefined && { summary: o.summary }),
      ...(o.icon !== undefined && { iconUrl: o.icon || null }),
      ...(o.manualApproval !== undefined && { manuallyApprovesFollowers: o.manualApproval === "on" }),
      ...(o.network !== undefined && { networkVisibility: o.network }),
    };
    print(await op("pod.update", { pod: slug, patch }), podLine);
  });

const token = program.command("token").description("steward tokens for the API");
token
  .command("issue")
  .description("issue a steward token (shown once)")
  .requiredOption("--pod <slug>", "the pod the token acts for")
  .addOption(new Option("--role <role>", "token role").choices(["steward"]).default("steward"))
  .option("--label <text>", "a note to recognise the token by")
  .option("--ttl-days <days>", "days until it expires", (v) => Number(v))
  .action(async (o: { pod: string; role: string; label?: string; ttlDays?: number }) => {
    const issued = await op("token.issue", { pod: o.pod, role: o.role, label: o.label ?? null, ...(o.ttlDays !== undefined && { ttlDays: o.ttlDays }) });
    print(
      issued,
      (t: { token: string; jti: string; expiresAt: string }) =>
        `${t.token}\n\nThis steward token for ${o.pod} is shown only once. Id ${t.jti}, expires ${new Date(t.expiresAt).toISOString()}.\nUse it as: Authorization: Bearer <token>. Revoke it with: npx hyphae token revoke ${t.jti}`,
    );
  });
token
  .command("revoke <jti>")
  .description("revoke a token by its id")
  .action(async (jti: string) => print(await op("token.revoke", { jti }), () => `Revoked ${jti}.`));
token
  .command("list")
  .description("list a pod's tokens (never the tokens themselves)")
  .requiredOption("--pod <slug>")
  .action(async (o: { pod: string }) =>
    print(await op("token.list", { pod: o.pod }), (ts: Array<{ jti: string; label: string | null; expiresAt: string; revokedAt: string | null }>) =>
      ts.length
        ? ts.map((t) => `${t.jti}  ${t.revokedAt ? "revoked" : `expires ${new Date(t.expiresAt).toISOString()}`}${t.label ? `  ${t.label}` : ""}`).join("\n")
        : "No tokens.",
    ),
  );

const steward = program.command("steward").description("stewards of a pod in the web app: sign-in links and sessions");
steward
  .command("invite")
  .description("print a one-time sign-in link for a new steward of the pod")
  .requiredOption("--pod <slug>", "the pod")
  .option("--minutes <n>", "how long the link works (default STEWARD_INVITE_MINUTES, 60)", (v) => Number(v))
  .action(async (o: { pod: string; minutes?: number }) =>
    print(await op("steward.invite", { pod: o.pod, ...(o.minutes !== undefined && { minutes: o.minutes }) }), (i: { url: string; expiresAt: string }) =>
      `${i.url}\n\nThis one-time sign-in link for a new steward of ${o.pod} works once, until ${new Date(i.expiresAt).toISOString()}.\nSend it privately; whoever opens it first becomes a steward.`,
    ),
  );
steward
  .command("list")
  .description("list the pod's stewards (by number; names are never recorded)")
  .requiredOption("--pod <slug>")
  .action(async (o: { pod: string }) =>
    print(await op("steward.list", { pod: o.pod }), (ss: Array<{ number: number; invitedBy: number | null; createdAt: string; endedAt: string | null }>) =>
      ss.length
        ? ss.map((s) => `Steward ${s.number}  since ${new Date(s.createdAt).toISOString().slice(0, 10)}  invited by ${s.invitedBy ? `Steward ${s.invitedBy}` : "the operator"}${s.endedAt ? `  stepped down ${new Date(s.endedAt).toISOString().slice(0, 10)}` : ""}`).join("\n")
        : `No stewards yet. Invite one with: npx hyphae steward invite --pod ${o.pod}`,
    ),
  );
steward
  .command("sessions")
  .description("list the browsers signed in to the pod's steward pages")
  .requiredOption("--pod <slug>")
  .action(async (o: { pod: string }) =>
    print(await op("steward.sessions", { pod: o.pod }), (ss: Array<{ id: string; stewardNumber: number; device: string; lastSeenAt: string }>) =>
      ss.length ? ss.map((s) => `${s.id}  Steward ${s.stewardNumber}  ${s.device || "a browser"}  last seen ${new Date(s.lastSeenAt).toISOString()}`).join("\n") : "No one is signed in.",
    ),
  );
steward
  .command("end-session <id>")
  .description("end one signed-in browser's session")
  .requiredOption("--pod <slug>")
  .action(async (id: string, o: { pod: string }) =>
    print(await op("steward.end-session", { pod: o.pod, session: id }), (r: { ended: boolean }) => (r.ended ? `Ended session ${id}.` : `Session ${id} was not live.`)),
  );
steward
  .command("end <number>")
  .description("end a steward's stewardship and all their sessions")
  .requiredOption("--pod <slug>")
  .action(async (n: string, o: { pod: string }) =>
    print(await op("steward.end", { pod: o.pod, number: Number(n) }), (r: { ended: boolean }) => (r.ended ? `Steward ${n} has stepped down.` : `Steward ${n} had already stepped down.`)),
  );

program
  .command("follow <target>")
  .description("follow a remote pod or account (@name@host or actor URL)")
  .requiredOption("--pod <slug>", "which of our pods follows")
  .action(async (target: string, o: { pod: string }) =>
    print(await op("follow", { pod: o.pod, target }), (f: { actorIri: string; status: string }) =>
      f.status === "accepted" ? `${o.pod} already follows ${f.actorIri}.` : `Sent a follow request from ${o.pod} to ${f.actorIri}; it shows as accepted once they answer.`,
    ),
  );
program
  .command("unfollow <target>")
  .description("stop following (@name@host or actor URL)")
  .requiredOption("--pod <slug>")
  .action(async (target: string, o: { pod: string }) => print(await op("unfollow", { pod: o.pod, target }), () => `${o.pod} no longer follows ${target}.`));
program
  .command("following")
  .description("list who a pod follows")
  .requiredOption("--pod <slug>")
  .action(async (o: { pod: string }) =>
    print(await op("following", { pod: o.pod }), (fs: Array<{ actorIri: string; handle: string | null; status: string }>) =>
      fs.length ? fs.map((f) => `${f.status.padEnd(9)} ${f.handle ?? ""} ${f.actorIri}`).join("\n") : "Not following anyone.",
    ),
  );

const followers = program.command("followers").description("followers and follow requests");
const listFollowers = (status: "accepted" | "pending") => async (o: { pod: string }) =>
  print(await op("followers", { pod: o.pod, status }), (fs: Array<{ actorIri: string; handle: string | null }>) =>
    fs.length ? fs.map((f) => `${f.handle ?? ""} ${f.actorIri}`).join("\n") : status === "pending" ? "No pending requests." : "No followers yet.",
  );
followers.command("list").requiredOption("--pod <slug>").description("list accepted followers").action(listFollowers("accepted"));
followers.command("pending").requiredOption("--pod <slug>").description("list follow requests waiting for approval").action(listFollowers("pending"));
followers
  .command("accept <actor>")
  .requiredOption("--pod <slug>")
  .description("accept a pending follow request")
  .action(async (actor: string, o: { pod: string }) => print(await op("followers.accept", { pod: o.pod, actor }), () => `Accepted ${actor}.`));
followers
  .command("reject <actor>")
  .requiredOption("--pod <slug>")
  .description("reject a pending follow request")
  .action(async (actor: string, o: { pod: string }) => print(await op("followers.reject", { pod: o.pod, actor }), () => `Rejected ${actor}.`));

const charter = program.command("charter").description("the pod's People's Service Charter");
type CharterOut = {
  revision: number;
  content: { title: string; services: unknown[]; nextServices: Array<{ name: string; targetDate: string }> };
  changeNote: string;
  review: { due: boolean; dueAt: string; lastReviewedAt: string };
};
const charterLine = (c: CharterOut) =>
  `${c.content.title} (revision ${c.revision})\n  ${c.content.services.length} services now, ${c.content.nextServices.length} next${c.content.nextServices.map((n) => `\n  next: ${n.name} by ${n.targetDate}`).join("")}\n  ${c.review.due ? "DUE FOR REVIEW" : "reviewed"} ${new Date(c.review.lastReviewedAt).toISOString().slice(0, 10)}; next review by ${new Date(c.review.dueAt).toISOString().slice(0, 10)}`;
charter
  .command("set")
  .description("publish a new revision from a JSON file (see docs/charter-format.md; - reads standard input)")
  .requiredOption("--pod <slug>")
  .requiredOption("--file <path>", "charter JSON")
  .action(async (o: { pod: string; file: string }) => {
    const { readFileSync } = await import("node:fs");
    let text: string;
    try {
      text = readFileSync(o.file === "-" ? 0 : o.file, "utf8");
    } catch (error) {
      throw new CliError(`Cannot read ${o.file}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${o.file} is not valid JSON: ${(error as Error).message}`);
    }
    print(await op("charter.set", { pod: o.pod, charter: parsed }), (c: CharterOut) => `Published ${charterLine(c)}`);
  });
charter
  .command("show")
  .requiredOption("--pod <slug>")
  .description("show the current charter and its review status")
  .action(async (o: { pod: string }) => print(await op("charter.show", { pod: o.pod }), charterLine));
charter
  .command("confirm")
  .requiredOption("--pod <slug>")
  .description("re-confirm the charter without changes (a new review date, federated)")
  .action(async (o: { pod: string }) => print(await op("charter.confirm", { pod: o.pod }), (c: CharterOut) => `Re-confirmed ${charterLine(c)}`));
charter
  .command("history")
  .requiredOption("--pod <slug>")
  .description("list revisions, newest first")
  .action(async (o: { pod: string }) =>
    print(await op("charter.revisions", { pod: o.pod }), (rs: Array<{ number: number; createdAt: string; changeNote: string; content: { title: string } }>) =>
      rs.length ? rs.map((r) => `${String(r.number).padStart(3)}  ${new Date(r.createdAt).toISOString().slice(0, 10)}  ${r.content.title}${r.changeNote ? ` — ${r.changeNote}` : ""}`).join("\n") : "No charter yet.",
    ),
  );
charter
  .command("diff <from> <to>")
  .requiredOption("--pod <slug>")
  .description("what changed between two revisions")
  .action(async (from: string, to: string, o: { pod: string }) =>
    print(await op("charter.diff", { pod: o.pod, from: Number(from), to: Number(to) }), (d: { lines: string[] }) => (d.lines.length ? d.lines.join("\n") : "No differences.")),
  );

const outboxCmd = program.command("outbox").description("outbound events waiting to be sent, and dead letters");
type OutboxEventOut = { id: string; kind: string; pod: string; to: string; state: string; createdAt: string; attempts: number; nextAttemptAt: string | null; lastError: string | null; deadAt: string | null };
const outboxLine = (e: OutboxEventOut) =>
  `${e.id.padStart(6)}  ${e.kind}  ${e.pod} -> ${e.to}\n        recorded ${e.createdAt}, ${e.attempts} attempt${e.attempts === 1 ? "" : "s"}, ${e.deadAt ? `dead since ${e.deadAt}` : `next ${e.nextAttemptAt}`}${e.lastError ? `\n        last error: ${e.lastError}` : ""}`;
outboxCmd
  .command("list")
  .description("list events not yet handed to delivery (--failed: dead letters)")
  .option("--failed", "list dead letters instead")
  .option("--limit <n>", "at most this many", (v) => Number(v), 100)
  .action(async (o: { failed?: boolean; limit: number }) =>
    print(await op("outbox.list", { failed: Boolean(o.failed), limit: o.limit }), (es: OutboxEventOut[]) =>
      es.length ? es.map(outboxLine).join("\n") : o.failed ? "No dead letters." : "Nothing waiting: every event has been handed to delivery.",
    ),
  );
outboxCmd
  .command("retry [id]")
  .description("send a dead letter again (or every one with --all)")
  .option("--all", "retry every dead letter")
  .action(async (id: string | undefined, o: { all?: boolean }) => {
    if (Boolean(id) === Boolean(o.all)) throw new CliError("Give one event id, or --all.");
    print(await op("outbox.retry", id ? { id } : { all: true }), (r: { retried: string[] }) =>
      r.retried.length ? `Retrying ${r.retried.length === 1 ? `event ${r.retried[0]}` : `${r.retried.length} events (${r.retried.join(", ")})`}.` : "No dead letters to retry.",
    );
  });

type QueueStatsOut = { queued: number; ready: number; delayed: number; leased: number; dead: number; oldestPendingSeconds: number };
type QueueItemOut = { id: string; type: string | null; activityType: string | null; activityId: string | null; inboxOrigin: string | null; attempts: number; lastError: string | null; createdAt: string };
const queueItemLine = (m: QueueItemOut, head: string) =>
  `${m.id.padStart(6)}  ${head}  ${m.type ?? "?"} ${m.activityType ?? ""}${m.inboxOrigin ? ` → ${m.inboxOrigin}` : ""}  attempts ${m.attempts}${m.activityId ? `\n        ${m.activityId}` : ""}${m.lastError ? `\n        last error: ${m.lastError}` : ""}`;
program
  .command("status")
  .description("the node's queue: waiting, running, dead letters and the oldest waiting age")
  .action(async () =>
    print(await op("status", {}), (s: { database: string; role: string; queue: QueueStatsOut }) =>
      [
        `Database: ${s.database}, role ${s.role}`,
        `Queue: ${s.queue.ready} ready, ${s.queue.delayed} delayed, ${s.queue.leased} running (leased), ${s.queue.dead} dead letters`,
        `Oldest waiting item: ${s.queue.oldestPendingSeconds} s${s.queue.dead ? "\nSee the dead letters with: npx hyphae queue list --dead" : ""}`,
      ].join("\n"),
    ),
  );
const queueCmd = program.command("queue").description("the federation queue (deliveries and received activities)");
queueCmd
  .command("list")
  .description("list waiting and running messages, or the dead letters (never their content)")
  .option("--dead", "list dead letters: messages given up on after QUEUE_MAX_ATTEMPTS")
  .option("--limit <n>", "at most this many", (v) => Number(v), 50)
  .action(async (o: { dead?: boolean; limit: number }) =>
    print(await op("queue.list", { dead: Boolean(o.dead), limit: o.limit }), (ms: Array<QueueItemOut & { state?: string; deadAt?: string }>) =>
      ms.length
        ? ms.map((m) => queueItemLine(m, m.deadAt ? `dead ${m.deadAt}` : (m.state ?? "").padEnd(7))).join("\n")
        : o.dead
          ? "No dead letters."
          : "The queue is empty.",
    ),
  );
queueCmd
  .command("retry [id]")
  .description("put a dead letter (or --all) back into the queue")
  .option("--all", "every dead letter")
  .action(async (id: string | undefined, o: { all?: boolean }) =>
    print(await op("queue.retry", { ...(id !== undefined && { id }), ...(o.all && { all: true }) }), (r: { retried: Array<{ deadId: string; queueId: string }> }) =>
      r.retried.length ? `Queued again: ${r.retried.map((x) => `${x.deadId} (now ${x.queueId})`).join(", ")}.` : "No dead letters to retry.",
    ),
  );

program
  .command("db")
  .description("database tools")
  .command("copy")
  .description("copy the embedded database into an empty PostgreSQL database (node stopped)")
  .requiredOption("--to <postgres-url>", "target database URL")
  .action(async (o: { to: string }) => {
    const cfg = await config();
    if (cfg.databaseUrl) throw new CliError("DATABASE_URL is set: db copy reads the embedded database in DATA_DIR; unset DATABASE_URL for this command.");
    const { copyDatabase } = await import("./db-copy.ts");
    const report = await copyDatabase({ dataDir: cfg.dataDir, targetUrl: o.to });
    print(report, (r: { tables: Record<string, number> }) =>
      `Copied ${Object.entries(r.tables).map(([t, n]) => `${t} ${n}`).join(", ")}.\nStart the node with DATABASE_URL=${o.to.replace(/\/\/[^@/]*@/, "//…@")} to use it.`,
    );
  });

const nodeCmd = program.command("node").description("the node's identity");
/** Opens the database directly: these commands must work with the node stopped, and never rewrite the origin by accident. */
async function withDatabase<T>(fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const cfg = await config();
  if (!cfg.databaseUrl && (await lockHolder(cfg.dataDir)) !== null) {
    throw new CliError(`A node is using ${cfg.dataDir}: stop it first (the origin is read once, at start).`);
  }
  const { openDatabase } = await import("../db/connect.ts");
  const { migrateToLatest } = await import("../db/migrate.ts");
  const handle = await openDatabase(cfg.databaseUrl ? { databaseUrl: cfg.databaseUrl } : { dataDir: cfg.dataDir });
  try {
    await migrateToLatest(handle.db);
    return await fn(handle.db);
  } finally {
    await handle.close();
  }
}
nodeCmd
  .command("show")
  .description("show the public origin recorded at first start")
  .action(async () => {
    const { getStoredOrigin } = await import("../services/node-identity.ts");
    const stored = await withDatabase((db) => getStoredOrigin(db));
    print(stored, (s: Awaited<ReturnType<typeof getStoredOrigin>>) =>
      s
        ? [`Public origin: ${s.origin} (recorded ${s.recordedAt})`, ...s.previous.map((p) => `  before: ${p.origin} (until ${p.until})`)].join("\n")
        : "No origin recorded yet: the first start records PUBLIC_URL.",
    );
  });
nodeCmd
  .command("move-origin <url>")
  .description("record a new public origin (node stopped; every published id changes: read docs/operations.md first)")
  .action(async (url: string) => {
    const { movePublicOrigin } = await import("../services/node-identity.ts");
    const moved = await withDatabase((db) => movePublicOrigin(db, url, new Date()));
    print(moved, (m: { from: string | null; to: string }) =>
      m.from === m.to
        ? `The node's origin is already ${m.to}.`
        : `Moved the node's origin from ${m.from ?? "(none)"} to ${m.to}. Start it with PUBLIC_URL=${m.to}. Followers elsewhere still know the old ids: see docs/operations.md.`,
    );
  });

const tools: CliTools = { op, print, json: () => json, fail: (message) => new CliError(message) };
registerBookCommands(program, tools);
registerSummaryCommands(program, tools);
registerProposalCommands(program, tools);
registerClaimCommands(program, tools);
registerTransferCommands(program, tools);
registerCongressCommands(program, tools);

/** node-identity's PublicUrlChangedError, recognised without loading that module. */
const isPublicUrlChanged = (error: unknown): error is Error => error instanceof Error && (error as { code?: unknown }).code === "PUBLIC_URL_CHANGED";

program.parseAsync(process.argv).catch(async (error: unknown) => {
  // Only now, on an error, are the classes it may be loaded to recognise it.
  const [{ DomainError }, { DirectoryLockedError, InsecurePathError, LockUnavailableError }, { AdminSocketUnavailableError }] = await Promise.all([
    import("../domain/errors.ts"),
    import("../db/lock.ts"),
    import("./admin-client.ts"),
  ]);
  if (error instanceof DomainError) {
    process.stderr.write(`hyphae: ${error.message} (${error.code})\n`);
    const issues = (error.details?.issues as Array<{ field: string; message: string }> | undefined) ?? [];
    for (const i of issues.slice(1)) process.stderr.write(`  ${i.field}: ${i.message}\n`);
  } else if (error instanceof CliError || error instanceof AdminSocketUnavailableError || error instanceof DirectoryLockedError || error instanceof InsecurePathError || error instanceof LockUnavailableError || isPublicUrlChanged(error)) {
    process.stderr.write(`hyphae: ${error.message}\n`);
  } else {
    process.stderr.write(`hyphae: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
});
