/**
 * The data-directory lock is a kernel flock held through an open file: what the lock file
 * says (PID 1, a live unrelated pid, garbage) never decides who holds it; a process that
 * holds it refuses others with DATA_DIR_LOCKED naming the directory; simultaneous starts
 * yield exactly one holder; a SIGKILLed holder frees it at once; a missing `flock` says so.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { acquireDirectoryLock, DirectoryLockedError, lockFilePath, lockHolder, type DirectoryLock } from "../../src/db/lock.ts";

const LOCK = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/db/lock.ts")).href;

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyphae-lock-"));
  dirs.push(dir);
  return dir;
}

const children: ChildProcessWithoutNullStreams[] = [];
const held: DirectoryLock[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const lock of held.splice(0)) lock.release();
});

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A child that tries to take the lock, prints one JSON line saying whether it did, and then
 * holds it until its stdin closes (or it is killed).
 */
const TRY_LOCK = `
import { acquireDirectoryLock } from ${JSON.stringify(LOCK)};
try {
  const lock = acquireDirectoryLock(process.argv[1]);
  console.log(JSON.stringify({ locked: true, pid: process.pid }));
  process.stdin.on("end", () => { lock.release(); process.exit(0); });
  process.stdin.resume();
} catch (error) {
  console.log(JSON.stringify({ locked: false, pid: process.pid, code: error.code, holder: error.pid, message: error.message }));
  process.exit(0);
}
`;

interface Attempt {
  locked: boolean;
  pid: number;
  code?: string;
  holder?: number;
  message?: string;
}

function tryLockInChild(dataDir: string, env: NodeJS.ProcessEnv = process.env) {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", TRY_LOCK, dataDir], { stdio: ["pipe", "pipe", "pipe"], env });
  children.push(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.on("close", () => resolve()));
  const answer = new Promise<Attempt>((resolve, reject) => {
    const check = () => {
      const nl = stdout.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(stdout.slice(0, nl)) as Attempt);
    };
    proc.stdout.on("data", check);
    proc.on("close", (code) => {
      check();
      reject(new Error(`child exited ${code} without an answer: ${stderr}`));
    });
  });
  return { proc, answer, exited };
}

function lockHere(dataDir: string): DirectoryLock {
  const lock = acquireDirectoryLock(dataDir);
  held.push(lock);
  return lock;
}

describe("what the lock file says does not decide who holds the lock", () => {
  it("a lock file naming PID 1 (as a container's killed node leaves it) does not stop a start", () => {
    const dataDir = tempDir();
    fs.writeFileSync(lockFilePath(dataDir), "1");
    expect(lockHolder(dataDir)).toBeNull();
    lockHere(dataDir);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
  });

  it("a lock file naming a live unrelated process (a reused pid) does not stop a start", async () => {
    const dataDir = tempDir();
    const unrelated = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    children.push(unrelated as ChildProcessWithoutNullStreams);
    fs.writeFileSync(lockFilePath(dataDir), String(unrelated.pid));
    expect(lockHolder(dataDir)).toBeNull();
    lockHere(dataDir);
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(process.pid));
  });

  it("a lock file left behind by a SIGKILLed holder does not stop the next start", async () => {
    const dataDir = tempDir();
    const holder = tryLockInChild(dataDir);
    const { locked, pid } = await holder.answer;
    expect(locked).toBe(true);
    expect(lockHolder(dataDir)).toBe(pid);

    holder.proc.kill("SIGKILL");
    await holder.exited;
    // The file still names the dead holder; the kernel has released its lock all the same.
    expect(fs.readFileSync(lockFilePath(dataDir), "utf8")).toBe(String(pid));
    expect(lockHolder(dataDir)).toBeNull();
    const next = tryLockInChild(dataDir);
    expect((await next.answer).locked).toBe(true);
  });
});

describe("a process that really holds the lock", () => {
  it("refuses another process with DATA_DIR_LOCKED naming the directory and its pid", async () => {
    const dataDir = tempDir();
    lockHere(dataDir);
    const other = await tryLockInChild(dataDir).answer;
    expect(other).toMatchObject({ locked: false, code: "DATA_DIR_LOCKED", holder: process.pid });
    expect(other.message).toContain(dataDir);
    expect(other.message).toContain(`process ${process.pid}`);
  });

  it("refuses a second lock in the same process, and keeps its own", () => {
    const dataDir = tempDir();
    lockHere(dataDir);
    let error: unknown = null;
    try {
      acquireDirectoryLock(dataDir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect((error as DirectoryLockedError).code).toBe("DATA_DIR_LOCKED");
    expect(lockHolder(dataDir)).toBe(process.pid);
  });

  it("releasing keeps the lock file (never deleted) and frees the lock", () => {
    const dataDir = tempDir();
    const lock = acquireDirectoryLock(dataDir);
    const inode = fs.statSync(lock.file).ino;
    expect(fs.statSync(lock.file).mode & 0o777).toBe(0o600);
    lock.release();
    expect(fs.statSync(lock.file).ino).toBe(inode);
    expect(lockHolder(dataDir)).toBeNull();
    lockHere(dataDir);
    expect(fs.statSync(lock.file).ino).toBe(inode);
  });
});

describe("simultaneous starts", () => {
  it("six processes starting at once on a stale lock: exactly one holds it, round after round", { timeout: 120_000 }, async () => {
    const dataDir = tempDir();
    for (let round = 0; round < 4; round++) {
      // A stale lock file as a killed node leaves it.
      fs.writeFileSync(lockFilePath(dataDir), "1");
      const attempts = Array.from({ length: 6 }, () => tryLockInChild(dataDir));
      const answers = await Promise.all(attempts.map((a) => a.answer));
      const holders = answers.filter((a) => a.locked);
      expect(holders, `round ${round}`).toHaveLength(1);
      for (const refused of answers.filter((a) => !a.locked)) expect(refused.code).toBe("DATA_DIR_LOCKED");
      expect(lockHolder(dataDir)).toBe(holders[0]!.pid);
      // The holder dies hard; the next round starts on its leftovers.
      const holder = attempts[answers.indexOf(holders[0]!)]!;
      holder.proc.kill("SIGKILL");
      await Promise.all(attempts.map((a) => a.exited));
      expect(lockHolder(dataDir)).toBeNull();
    }
  });
});

describe("without flock", () => {
  it("says that util-linux's flock is needed", async () => {
    const dataDir = tempDir();
    const emptyBin = tempDir();
    const attempt = await tryLockInChild(dataDir, { ...process.env, PATH: emptyBin }).answer;
    expect(attempt).toMatchObject({ locked: false, code: "LOCK_UNAVAILABLE" });
    expect(attempt.message).toContain("flock");
    expect(attempt.message).toContain("util-linux");
  });
});
