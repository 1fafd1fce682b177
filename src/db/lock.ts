/**
 * The embedded database's data directory: kept private, and held by one process at a time.
 *
 * Privacy: the directory holds every secret of the node (the pods' private keys, the
 * token-signing key, queued deliveries), so it must be 0700 and owned by us; start-up
 * refuses anything else, as PostgreSQL and ssh do. PGlite writes its files 0666 whatever the
 * umask, so their modes are tightened to 0600 after opening and then periodically; the
 * directory is the real protection, the file modes are defence in depth.
 *
 * The lock is an OS-level `flock(2)` lock on `hyphae.lock`, which is never deleted. Node has
 * no flock API, so util-linux's `flock -n 3` runs as a child with our open file as its fd 3:
 * a flock lock belongs to the open file description, which we keep open after the child has
 * exited, so the kernel releases it exactly when this process closes the file or dies,
 * whatever its pid. The pid written into the file is only for messages.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface DirectoryLock {
  readonly file: string;
  release(): void;
}

export class DirectoryLockedError extends Error {
  readonly code = "DATA_DIR_LOCKED";
  /** The holder's pid as it wrote it, or 0 when it has not written it yet. */
  readonly pid: number;
  readonly dataDir: string;
  constructor(dataDir: string, pid: number) {
    super(
      `The embedded database in ${dataDir} is in use by ${pid > 0 ? `process ${pid}` : "another process"}. ` +
        `Only one process may open it: stop that process, or run this command while it runs (it talks to the node's admin socket).`,
    );
    this.name = "DirectoryLockedError";
    this.pid = pid;
    this.dataDir = dataDir;
  }
}

/** The data directory is open to other users, or not ours. */
export class InsecurePathError extends Error {
  readonly code = "DATA_DIR_INSECURE";
  readonly path: string;
  constructor(file: string, message: string) {
    super(message);
    this.name = "InsecurePathError";
    this.path = file;
  }
}

/** util-linux's `flock` is not installed (or failed in a way that says nothing about the lock). */
export class LockUnavailableError extends Error {
  readonly code = "LOCK_UNAVAILABLE";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "LockUnavailableError";
  }
}

export function lockFilePath(dataDir: string): string {
  return path.join(dataDir, "hyphae.lock");
}

const CONFLICT = 75;

/**
 * Try to take an exclusive flock on `fd`, waiting at most `waitSeconds` for a holder that is
 * about to let go (a `lockHolder` probe holds it for a few milliseconds). True when taken.
 */
function flockFd(fd: number, waitSeconds: number): boolean {
  const result = spawnSync("flock", ["-w", String(waitSeconds), "-E", String(CONFLICT), "3"], {
    stdio: ["ignore", "ignore", "pipe", fd],
    encoding: "utf8",
  });
  if (result.error) {
    if ((result.error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new LockUnavailableError(
        "Hyphae needs the flock command (util-linux) to lock its data directory; install util-linux (Debian/Ubuntu: apt-get install util-linux, Alpine: apk add util-linux).",
        { cause: result.error },
      );
    }
    throw new LockUnavailableError(`Could not run flock to lock the data directory: ${result.error.message}`, { cause: result.error });
  }
  if (result.status === 0) return true;
  if (result.status === CONFLICT) return false;
  throw new LockUnavailableError(`flock failed (exit ${result.status ?? result.signal}): ${(result.stderr ?? "").trim()}`);
}

function readPid(file: string): number {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

function openLockFile(dataDir: string): { file: string; fd: number } {
  const file = lockFilePath(dataDir);
  // O_CREAT without O_EXCL or O_TRUNC: the file is shared by every opener and never deleted
  // (deleting it would let two processes lock two different files).
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  return { file, fd };
}

/**
 * The pid holding the lock on `dataDir` (0 when it has not written it yet), or null when the
 * directory is free. The probe holds the lock for a few milliseconds when it is free.
 */
export function lockHolder(dataDir: string): number | null {
  const file = lockFilePath(dataDir);
  let fd: number;
  try {
    // Never creates anything: no lock file means nobody has ever held the directory.
    fd = fs.openSync(file, fs.constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    if (flockFd(fd, 0)) return null;
    return readPid(file);
  } finally {
    fs.closeSync(fd);
  }
}

export function acquireDirectoryLock(dataDir: string): DirectoryLock {
  const { file, fd } = openLockFile(dataDir);
  let locked = false;
  try {
    locked = flockFd(fd, 1);
  } finally {
    if (!locked) fs.closeSync(fd);
  }
  if (!locked) throw new DirectoryLockedError(dataDir, readPid(file));
  fs.fchmodSync(fd, 0o600);
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, String(process.pid), 0);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    try {
      fs.ftruncateSync(fd, 0);
    } finally {
      // Closing the last descriptor of the open file description releases the lock.
      fs.closeSync(fd);
    }
  };
  // The kernel releases the lock anyway when the process ends; this only clears the pid.
  process.on("exit", release);
  return { file, release };
}

// ---- keeping the data directory private -------------------------------------------------------

function describeMode(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, "0");
}

/**
 * Create `dataDir` 0700 if missing; refuse one that group or others can read, write or enter,
 * or that another user owns, with one line saying how to fix it.
 */
export function ensurePrivateDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const stat = fs.statSync(dataDir);
  if (!stat.isDirectory()) {
    throw new InsecurePathError(dataDir, `DATA_DIR ${dataDir} is not a directory.`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new InsecurePathError(
      dataDir,
      `The data directory ${dataDir} belongs to user ${stat.uid}, not to this process's user ${uid}; run hyphae as its owner or fix it with: chown -R ${uid} ${dataDir}`,
    );
  }
  if (stat.mode & 0o077) {
    throw new InsecurePathError(
      dataDir,
      `The data directory ${dataDir} is open to other users (mode ${describeMode(stat.mode)}) and holds the node's private keys; fix it with: chmod 700 ${dataDir}`,
    );
  }
}

/**
 * Make every file under `dir` 0600 and every directory 0700 (PGlite creates its files 0666).
 * Returns how many modes were changed. Files that vanish meanwhile are skipped.
 */
export function tightenModes(dir: string): number {
  let changed = 0;
  const walk = (current: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      try {
        if (entry.isDirectory()) {
          if (fs.lstatSync(full).mode & 0o077) {
            fs.chmodSync(full, 0o700);
            changed++;
          }
          walk(full);
        } else if (entry.isFile()) {
          if (fs.lstatSync(full).mode & 0o077) {
            fs.chmodSync(full, 0o600);
            changed++;
          }
        }
      } catch {
        // removed between listing and chmod (a recycled WAL segment): nothing to protect
      }
    }
  };
  walk(dir);
  return changed;
}
