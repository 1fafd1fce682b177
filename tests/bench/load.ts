/**
 * Child-process side of the HTTP load: run.ts forks this file once per measured target, so
 * the load generator never shares an event loop (or a core's worth of JIT and GC) with
 * the server under test. Protocol over IPC:
 *   parent → child  LoadRequest
 *   child → parent  { type: "measuring" }  when the warm-up is over
 *   child → parent  { type: "done", result: LoadSummary }
 */
import { createRequire } from "node:module";

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  connections: number;
  /** Seconds. */
  warmup: number;
  /** Seconds. */
  duration: number;
}

export interface LoadSummary {
  /** Mean of autocannon's per-second samples of completed requests. */
  requestsPerSecond: number;
  totalRequests: number;
  latencyP50: number;
  latencyP99: number;
  latencyMean: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
}

export type LoadMessage = { type: "measuring" } | { type: "done"; result: LoadSummary } | { type: "failed"; error: string };

// autocannon 8 ships no type declarations; this is the part of its API used here.
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
}
type Autocannon = (options: {
  url: string;
  headers: Record<string, string>;
  connections: number;
  duration: number;
}) => Promise<AutocannonResult>;

async function run(request: LoadRequest): Promise<void> {
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  const base = { url: request.url, headers: request.headers, connections: request.connections };
  if (request.warmup > 0) await autocannon({ ...base, duration: request.warmup });
  send({ type: "measuring" });
  const r = await autocannon({ ...base, duration: request.duration });
  send({
    type: "done",
    result: {
      requestsPerSecond: r.requests.average,
      totalRequests: r.requests.total,
      latencyP50: r.latency.p50,
      latencyP99: r.latency.p99,
      latencyMean: r.latency.average,
      ok: r["2xx"],
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      seconds: r.duration,
    },
  });
}

function send(message: LoadMessage): void {
  process.send!(message);
}

if (process.send) {
  // The parent went away (finished, failed or interrupted): stop loading at once.
  process.once("disconnect", () => process.exit(0));
  process.once("message", (request: LoadRequest) => {
    run(request)
      .catch((error: unknown) => send({ type: "failed", error: String(error) }))
      .finally(() => process.disconnect());
  });
}
