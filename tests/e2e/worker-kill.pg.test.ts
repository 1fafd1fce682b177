/**
 * Real processes on PostgreSQL: two worker processes share one queue; the worker that
 * holds a delivery is killed with SIGKILL in the middle of it (the remote inbox has the
 * request open); the other worker redelivers once the lease runs out, and a restarted
 * worker joins without running the message again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";
import { createPostgresDatabase } from "../helpers/db.ts";
import { freePort, waitFor } from "../helpers/node.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const LEASE_SECONDS = 3;

interface Delivery {
  body: { id?: string; type?: string };
  respond: (status: number) => void;
}

let database: { url: string; drop: () => Promise<void> };
let handle: DatabaseHandle;
let remote: http.Server;
let remoteOrigin: string;
const deliveries: Delivery[] = [];
const processes: ChildProcess[] = [];
let env: NodeJS.ProcessEnv;

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, "src/main.ts")], { cwd: ROOT, env: { ...env, NODE_ROLE: "worker" }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.resume();
  child.stderr!.resume();
  processes.push(child);
  return child;
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, "src/cli/hyphae.ts"), ...args], { cwd: ROOT, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  database = await createPostgresDatabase();
  handle = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
  await migrateToLatest(handle.db);

  // A remote actor whose inbox holds the first delivery open (the worker is mid-request
  // when it is killed) and answers later ones with 202.
  remote = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/users/alice") {
      res.writeHead(200, { "content-type": "application/activity+json" });
      res.end(
        JSON.stringify({
          "@context": "https://www.w3.org/ns/activitystreams",
          id: `${remoteOrigin}/users/alice`,
          type: "Person",
          preferredUsername: "alice",
          inbox: `${remoteOrigin}/users/alice/inbox`,
        }),
      );
      return;
    }
    if (req.method === "POST") {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const delivery: Delivery = {
          body: JSON.parse(raw),
          respond: (status) => {
            if (!res.writableEnded) res.writeHead(status).end();
          },
        };
        deliveries.push(delivery);
        if (deliveries.length > 1) delivery.respond(202);
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => remote.listen(0, "127.0.0.1", resolve));
  remoteOrigin = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;

  const port = await freePort();
  env = {
    PATH: process.env.PATH,
    DATABASE_URL: database.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORT: String(port),
    POD_SLUG: "oak-street",
    ALLOW_PRIVATE_ADDRESSES: "true",
    LOG_LEVEL: "error",
    QUEUE_LEASE_SECONDS: String(LEASE_SECONDS),
    QUEUE_POLL_SECONDS: "1",
  };
});

afterAll(async () => {
  for (const p of processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  for (const d of deliveries) d.respond(202);
  await new Promise<void>((resolve) => remote?.close(() => resolve()));
  remote?.closeAllConnections();
  await handle?.close();
  await database?.drop();
});

async function leasedBy(): Promise<string | null> {
  const row = await handle.db.selectFrom("fedify_queue").select("leased_by").where("lease_until", ">", new Date()).executeTakeFirst();
  return row?.leased_by ?? null;
}

describe("a worker killed mid-delivery", () => {
  it("has its delivery redone by another worker, exactly once at a time", async () => {
    const first = startWorker();
    const second = startWorker();
    // The first worker to start creates the pod; wait until it exists.
    await waitFor(async () => (await handle.db.selectFrom("pods").select("slug").executeTakeFirst())?.slug === "oak-street", 30_000, "the pod");

    const followed = await runCli(["follow", `${remoteOrigin}/users/alice`, "--pod", "oak-street", "--json"]);
    expect(followed.stderr).toBe("");
    expect(followed.code).toBe(0);
    expect(JSON.parse(followed.stdout)).toMatchObject({ actorIri: `${remoteOrigin}/users/alice`, status: "pending" });

    // One worker picks the delivery up and is now waiting on the open request.
    await waitFor(() => deliveries.length === 1, 30_000, "the first delivery attempt");
    expect(deliveries[0]!.body).toMatchObject({ type: "Follow", object: `${remoteOrigin}/users/alice` });
    const holder = await waitFor(leasedBy, 10_000, "a lease on the message");
    const holderPid = Number(holder.split(":")[1]);
    const victim = [first, second].find((p) => p.pid === holderPid);
    expect(victim).toBeDefined();

    // While the holder is alive it keeps renewing its lease: nobody else runs the message.
    await new Promise((r) => setTimeout(r, (LEASE_SECONDS * 2 + 1) * 1000));
    expect(deliveries).toHaveLength(1);

    victim!.kill("SIGKILL");
    await new Promise((resolve) => victim!.once("exit", resolve));
    const restarted = startWorker();

    // After the lease runs out, a live worker delivers the same activity again.
    await waitFor(() => deliveries.length >= 2, 30_000, "the redelivery");
    expect(deliveries[1]!.body.id).toBe(deliveries[0]!.body.id);
    await waitFor(async () => {
      const left = await handle.db.selectFrom("fedify_queue").select((eb) => eb.fn.countAll<string>().as("n")).executeTakeFirstOrThrow();
      return Number(left.n) === 0;
    }, 30_000, "the queue to drain");
    // Give the restarted worker time to (wrongly) run it again: it must not.
    await new Promise((r) => setTimeout(r, 2000));
    expect(deliveries).toHaveLength(2);

    // Graceful shutdown of the remaining workers exits cleanly.
    const survivors = [first, second, restarted].filter((p) => p !== victim);
    for (const p of survivors) p.kill("SIGTERM");
    const codes = await Promise.all(survivors.map((p) => new Promise((resolve) => (p.exitCode !== null ? resolve(p.exitCode) : p.once("exit", resolve)))));
    expect(codes).toEqual([0, 0]);
  }, 120_000);
});
