/**
 * PGlite allows one process per data directory. This lock file makes a second process
 * fail fast with a clear message instead of corrupting the database.
 */
import fs from "node:fs";
import path from "node:path";

export interface DirectoryLock {
  readonly file: string;
  release(): void;
}

export class DirectoryLockedError extends Error {
  readonly code = "DATA_DIR_LOCKED";
  readonly pid: number;
  readonly dataDir: string;
  constructor(dataDir: string, pid: number) {
    super(
      `The embedded database in ${dataDir} is in use by process ${pid}. ` +
        `Only one process may open it: stop that process, or run this command while it runs (it talks to the node's admin socket).`,
    );
    this.name = "DirectoryLockedError";
    this.pid = pid;
    this.dataDir = dataDir;
  }
}

export function lockFilePath(dataDir: string): string {
  return path.join(dataDir, "hyphae.lock");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The pid holding the lock on `dataDir`, or null when it is free (or held by a dead process). */
export function lockHolder(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(lockFilePath(dataDir), "utf8").trim());
    return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}

export function acquireDirectoryLock(dataDir: string): DirectoryLock {
  const file = lockFilePath(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off("exit", release);
        try {
          if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.on("exit", release);
      return { file, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = lockHolder(dataDir);
      if (holder !== null && holder !== process.pid) throw new DirectoryLockedError(dataDir, holder);
      if (holder === process.pid) throw new DirectoryLockedError(dataDir, holder);
      // Stale lock left by a process that died: take it over.
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}
