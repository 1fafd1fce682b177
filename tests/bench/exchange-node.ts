/**
 * Child-process side of the claims benchmark (exchange.ts): one Hyphae node in its own
 * process, as in production, so two nodes exchanging claims each have their own event loop
 * and the figure is not the sum of both nodes' CPU on one thread. Protocol over IPC:
 *   child → parent  { type: "ready", origin }                  once the node listens
 *   parent → child  { type: "call", id, op, args }            one of OPS below
 *   child → parent  { type: "result", id, value } | { type: "error", id, message }
 *   parent → child  { type: "stop" }                           stops the node, drops its database, exits
 * The database (PGlite in a temporary directory, or a fresh PostgreSQL database when
 * BENCH_POSTGRES_ADMIN_URL is set) is made and dropped here.
 */
import { sql } from "kysely";
import { configureLogging } from "../../src/lib/logging.ts";
import { addResource } from "../../src/services/books.ts";
import { makeClaim, updateClaimRules } from "../../src/services/claims.ts";
import { listFollowing, requestFollow } from "../../src/services/follows.ts";
import { recordEntry } from "../../src/services/ledger.ts";
import { createProposal } from "../../src/services/proposals.ts";
import { startBenchNode, type Started } from "./exchange.ts";

export type ExchangeCall =
  | { op: "follow"; args: { slug: string; target: string } }
  | { op: "followsAccepted"; args: { slug: string } }
  | { op: "offer"; args: { slug: string; quantity: string; autoAcceptUpTo: string } }
  | { op: "holdsOffer"; args: { slug: string; offerUrl: string } }
  | { op: "claims"; args: { slug: string; offerUrl: string; n: number; inFlight: number } }
  | { op: "acceptedClaims"; args: Record<string, never> }
  | { op: "cpu"; args: Record<string, never> }
  | { op: "outboxKinds"; args: Record<string, never> };

export type ExchangeChildMessage =
  | { type: "ready"; origin: string }
  | { type: "result"; id: number; value: unknown }
  | { type: "error"; id: number; message: string };

let started: Started | null = null;

async function call(c: ExchangeCall): Promise<unknown> {
  const deps = started!.node.ctx.deps;
  switch (c.op) {
    case "follow":
      await requestFollow(deps, c.args.slug, c.args.target);
      return null;
    case "followsAccepted":
      return (await listFollowing(deps, c.args.slug)).some((f) => f.status === "accepted");
    case "offer": {
      const { slug, quantity, autoAcceptUpTo } = c.args;
      await addResource(deps, slug, { key: "squash", name: "Squash", unit: "kilogram", category: "food" });
      await recordEntry(deps, slug, { kind: "contribution", resource: "squash", quantity, counterpartyLabel: "allotment" });
      await updateClaimRules(deps, slug, { autoAcceptUpTo });
      const offer = await createProposal(deps, slug, "offer", { resource: "squash", name: "Squash", quantity, unit: "kilogram" });
      return offer.url;
    }
    case "holdsOffer": {
      const response = await fetch(`${started!.origin}/pods/${c.args.slug}/congress`, { headers: { accept: "application/json" } });
      return JSON.stringify(await response.json()).includes(c.args.offerUrl);
    }
    case "claims": {
      const { slug, offerUrl, n, inFlight } = c.args;
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < n) {
            next++;
            await makeClaim(deps, slug, { proposal: offerUrl, quantity: "1" });
          }
        }),
      );
      return null;
    }
    case "acceptedClaims":
      return Number((await sql<{ n: number }>`select count(*)::int as n from claims where direction = 'outgoing' and status = 'accepted'`.execute(deps.db)).rows[0]!.n);
    case "outboxKinds":
      // Outbound events by kind: handed to delivery, and dropped (superseded or moot).
      return (
        await sql<{ kind: string; sent: number; dropped: number }>`select kind, count(*) filter (where last_error is null)::int as sent,
          count(*) filter (where last_error like 'dropped%')::int as dropped from outbox_events where sent_at is not null group by kind order by kind`.execute(deps.db)
      ).rows;
    case "cpu": {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  }
}

if (process.send) {
  const send = (m: ExchangeChildMessage) => process.send!(m);
  await configureLogging("error");
  const slug = process.env.BENCH_SLUG ?? "pod";
  started = await startBenchNode(slug, process.env.BENCH_POSTGRES_ADMIN_URL || null);
  process.on("message", (m: { type: "call"; id: number } & ExchangeCall | { type: "stop" }) => {
    if (m.type === "stop") {
      void (async () => {
        await started?.node.stop();
        await started?.drop();
        process.exit(0);
      })();
      return;
    }
    call(m).then(
      (value) => send({ type: "result", id: m.id, value }),
      (error: unknown) => send({ type: "error", id: m.id, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
    );
  });
  send({ type: "ready", origin: started.origin });
}
