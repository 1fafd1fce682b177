/**
 * A node killed (SIGKILL) right after a charter revision commits, before it answers: the
 * client sees a connection error, retries with the same Idempotency-Key against the
 * restarted node, and gets the revision that was committed — one revision, one outbox
 * event, not two.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/node.ts";
import { ProcessGroup } from "../helpers/processes.ts";

let dataDir: string;
let port: number;
let origin: string;
const procs = new ProcessGroup(() => ({
  HOME: os.tmpdir(),
  DATA_DIR: dataDir,
  LOG_LEVEL: "error",
  HOST: "127.0.0.1",
  PORT: String(port),
  PUBLIC_URL: origin,
  POD_SLUG: "oak-street",
  POD_NAME: "Oak Street",
}));

const charter = {
  title: "Oak Street People's Service Charter",
  preamble: "We feed, fix and look after each other.",
  services: [{ name: "Community kitchen", description: "Hot meals.", category: "food", since: "2024-03-01" }],
  nextServices: [],
  changeNote: "First charter",
};

function post(token: string, key: string) {
  return fetch(`${origin}/api/hyphae/v1/pods/oak-street/charter`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify(charter),
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-idem-kill-"));
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
});

afterAll(() => {
  procs.killAll();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("a kill right after commit, then a retry with the same Idempotency-Key", () => {
  it("gives exactly one revision and one outbox event", { timeout: 240_000 }, async () => {
    const doomed = procs.node({ HYPHAE_TEST_FAULTS: "exit-after-idempotent-commit" });
    await doomed.ready;
    const issued = await procs.hyphae(["--json", "token", "issue", "--pod", "oak-street"]);
    expect(issued.stderr).toBe("");
    const { token } = JSON.parse(issued.stdout) as { token: string };

    // The node dies between commit and answer: the client only sees the connection drop.
    await expect(post(token, "kill-1")).rejects.toThrow();
    const died = await doomed.done;
    expect(died.code).toBeNull();

    const node = procs.node();
    await node.ready;
    const retry = await post(token, "kill-1");
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(((await retry.json()) as { revision: number }).revision).toBe(1);

    const list = await fetch(`${origin}/api/hyphae/v1/pods/oak-street/charter/revisions`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(1);
    node.child.kill("SIGTERM");
    expect((await node.done).code).toBe(0);

    // One Create in the charter's history: the outbox holds one event for it.
    const history = await procs.hyphae(["--json", "charter", "history", "--pod", "oak-street"]);
    expect(JSON.parse(history.stdout)).toHaveLength(1);
  });
});
