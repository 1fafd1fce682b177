/**
 * Opening the embedded database: one process per data directory (a second opener, in
 * this process or another, gets DirectoryLockedError), stale locks of dead processes are
 * taken over, and PGlite returns int8 / numeric as strings exactly like pg.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sql, type Kysely } from "kysely";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase, type DatabaseHandle } from "../../src/db/connect.ts";
import { DirectoryLockedError, lockFilePath, lockHolder } from "../../src/db/lock.ts";
import { TEST_DATABASE, createTestDatabase } from "../helpers/db.ts";

const CONNECT = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/db/connect.ts")).href;

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-connect-"));
  dirs.push(dir);
  return dir;
}

/** A data directory reused by tests that only need an initialised cluster nobody holds. */
let shared: string | null = null;
const sharedDir = () => (shared ??= tempDir());

const open: DatabaseHandle[] = [];
async function openDir(dataDir: string): Promise<DatabaseHandle> {
  const handle = await openDatabase({ dataDir });
  open.push(handle);
  return handle;
}

const children: ChildProcessWithoutNullStreams[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const handle of open.splice(0)) await handle.close();
});

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function expectLocked(promise: Promise<unknown>, pid: number, dataDir: string): Promise<DirectoryLockedError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DirectoryLockedError);
  const locked = error as DirectoryLockedError;
  expect(locked.code).toBe("DATA_DIR_LOCKED");
  expect(locked.pid).toBe(pid);
  expect(locked.dataDir).toBe(dataDir);
  expect(locked.message).toContain(dataDir);
  expect(locked.message).toContain(String(pid));
  return locked;
}

/** Runs a module script in a child node process; `argv[1]` is the data directory. */
function child(script: string, dataDir: string): { process: ChildProcessWithoutNullStreams; lines: AsyncIterator<string>; exit: Promise<number | null> } {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", script, dataDir], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(proc);
  let stderr = "";
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  const queue: string[] = [];
  const waiting: Array<(value: IteratorResult<string>) => void> = [];
  let buffer = "";
  let ended = false;
  proc.stdout.on("data", (c: Buffer) => {
    buffer += c.toString();
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const w = waiting.shift();
      if (w) w({ value: line, done: false });
      else queue.push(line);
    }
  });
  proc.stdout.on("end", () => {
    ended = true;
    for (const w of waiting.splice(0)) w({ value: undefined, done: true });
  });
  const lines: AsyncIterator<string> = {
    next: () =>
      new Promise((resolve, reject) => {
        if (queue.length) return resolve({ value: queue.shift()!, done: false });
        if (ended) return reject(new Error(`child exited without output; stderr: ${stderr}`));
        waiting.push(resolve);
      }),
  };
  return { process: proc, lines, exit };
}

async function nextJson(lines: AsyncIterator<string>): Promise<any> {
  const r = await lines.next();
  if (r.done) throw new Error("child ended without a line");
  return JSON.parse(r.value);
}

const TRY_OPEN = `
import { openDatabase } from ${JSON.stringify(CONNECT)};
try {
  const handle = await openDatabase({ dataDir: process.argv[1] });
  console.log(JSON.stringify({ opened: true, pid: process.pid }));
  await handle.close();
} catch (error) {
  console.log(JSON.stringify({ opened: false, name: error.name, code: error.code, pid: error.pid }));
}
`;

const HOLD = `
import { openDatabase } from ${JSON.stringify(CONNECT)};
const handle = await openDatabase({ dataDir: process.argv[1] });
await handle.db.executeQuery({ sql: "create table if not exists held (n int)", parameters: [], query: { kind: "RawNode" } });
await handle.db.executeQuery({ sql: "insert into held values (1)", parameters: [], query: { kind: "RawNode" } });
console.log(JSON.stringify({ holding: process.pid }));
process.stdin.on("end", async () => { await handle.close(); console.log(JSON.stringify({ closed: true })); });
process.stdin.resume();
`;

describe("one process per PGlite data directory", () => {
  it("refuses a second open in the same process, without disturbing the first", async () => {
    const dataDir = tempDir();
    const first = await openDir(dataDir);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
    expect(fs.statSync(lockFilePath(dataDir)).mode & 0o777).toBe(0o600);
    expect(lockHolder(dataDir)).toBe(process.pid);

    await expectLocked(openDatabase({ dataDir }), process.pid, dataDir);

    // The refused attempt left the first handle and its lock alone.
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
    const r = await sql<{ one: number }>`select 1 as one`.execute(first.db);
    expect(r.rows).toEqual([{ one: 1 }]);

    // Closing releases the lock; the directory opens again.
    await first.close();
    open.splice(open.indexOf(first), 1);
    // The lock file stays (it is never deleted); releasing empties it.
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe("");
    expect(lockHolder(dataDir)).toBeNull();
    const again = await openDir(dataDir);
    expect((await sql<{ one: number }>`select 1 as one`.execute(again.db)).rows).toEqual([{ one: 1 }]);
  });

  it("refuses a second process while this one holds the directory", async () => {
    const dataDir = tempDir();
    await openDir(dataDir);
    const other = child(TRY_OPEN, dataDir);
    expect(await nextJson(other.lines)).toEqual({ opened: false, name: "DirectoryLockedError", code: "DATA_DIR_LOCKED", pid: process.pid });
    expect(await other.exit).toBe(0);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
  });

  it("refuses this process while another holds it, and takes over once that process has died", async () => {
    const dataDir = tempDir();
    const holder = child(HOLD, dataDir);
    const { holding } = await nextJson(holder.lines);
    expect(holding).toBe(holder.process.pid);
    expect(lockHolder(dataDir)).toBe(holding);

    await expectLocked(openDatabase({ dataDir }), holding, dataDir);

    // The holder dies without cleaning up: its lock file stays behind, naming a dead pid.
    holder.process.kill("SIGKILL");
    await holder.exit;
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(holding));
    expect(lockHolder(dataDir)).toBeNull();

    const taken = await openDir(dataDir);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
    // The data the dead process committed survived.
    expect((await sql<{ n: number }>`select n from held`.execute(taken.db)).rows).toEqual([{ n: 1 }]);
  });

  it("lets a second process open the directory after the first closed it cleanly", async () => {
    const dataDir = tempDir();
    const holder = child(HOLD, dataDir);
    await nextJson(holder.lines);
    holder.process.stdin.end();
    expect(await nextJson(holder.lines)).toEqual({ closed: true });
    expect(await holder.exit).toBe(0);
    // The lock file stays (it is never deleted); releasing empties it.
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe("");
    const handle = await openDir(dataDir);
    expect((await sql<{ n: number }>`select n from held`.execute(handle.db)).rows).toEqual([{ n: 1 }]);
  });

  it("takes over a stale lock file whose pid is dead", async () => {
    const dataDir = sharedDir();
    // A pid that certainly belonged to a process that has exited.
    const dead = spawn(process.execPath, ["-e", ""]);
    const deadPid = dead.pid!;
    await new Promise((resolve) => dead.on("close", resolve));
    fs.writeFileSync(lockFilePath(dataDir), String(deadPid));
    expect(lockHolder(dataDir)).toBeNull();

    const handle = await openDir(dataDir);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
    await handle.close();
    open.splice(open.indexOf(handle), 1);
    // The lock file stays (it is never deleted); releasing empties it.
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe("");
  });

  it("treats a lock file with garbage in it as stale", async () => {
    const dataDir = sharedDir();
    fs.writeFileSync(lockFilePath(dataDir), "not a pid");
    await openDir(dataDir);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
  });
});

async function expectPgTypes(db: Kysely<any>): Promise<void> {
  const r = await sql<Record<string, unknown>>`
    select 9007199254740993::int8 as big, 12.50::numeric as exact, 7::int4 as small, true as flag,
           count(*) as n, '2026-01-02T03:04:05Z'::timestamptz as at
    from (values (1), (2)) v(x)`.execute(db);
  expect(r.rows).toEqual([{ big: "9007199254740993", exact: "12.50", small: 7, flag: true, n: "2", at: new Date("2026-01-02T03:04:05Z") }]);
}

describe("value types", () => {
  it("PGlite in a data directory returns int8 and numeric as strings, like pg", async () => {
    await expectPgTypes((await openDir(sharedDir())).db);
  });

  it("PGlite in memory does too", async () => {
    const handle = await openDatabase({ memory: true });
    open.push(handle);
    await expectPgTypes(handle.db);
  });

  it(`the test database (${TEST_DATABASE}) agrees`, async () => {
    const database = await createTestDatabase();
    try {
      expect(database.handle.kind).toBe(TEST_DATABASE);
      await expectPgTypes(database.handle.db);
    } finally {
      await database.drop();
    }
  });
});
