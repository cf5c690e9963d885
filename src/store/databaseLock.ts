/**
 * One server per database file. Each server keeps its state in memory, so a second
 * one on the same file would hand out names twice and bring back deleted accounts.
 * The first takes SQLite's exclusive lock on `<db>.lock` for as long as it runs (the OS
 * drops it if the process dies, even by SIGKILL) and writes its pid beside the file,
 * because SQLite cannot say who holds a lock; a second is refused with that pid.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import BetterSqlite3 from "better-sqlite3";
import { lockFileOf } from "./databaseFiles.js";
import { createPrivate } from "./fileModes.js";
import { StoreError } from "./migrations.js";

/**
 * How long a start waits for the lock (better-sqlite3's default is 5 s): long enough for a
 * predecessor still checkpointing its WAL on the way out, short enough that a refused
 * second start says so at once.
 */
export const LOCK_WAIT_MS = 1000;

export const pidFileOf = (path: string) => `${path}.pid`;

/** Who holds the file, as the end of the refusal sentence. */
function holder(pidFile: string): string {
  let text: string | undefined;
  try {
    text = readFileSync(pidFile, "utf8").trim();
  } catch {
    // Missing or unreadable: said below without a pid.
  }
  if (text !== undefined && /^\d+$/.test(text)) return `another chat-server (pid ${text}) holds it`;
  return `another process holds it (its pid could not be read from ${pidFile})`;
}

/** Whether `err` is SQLite saying that another connection holds the lock it needs. */
export const isBusy = (err: unknown) => (err as { code?: unknown }).code === "SQLITE_BUSY";

/** The refusal of a database someone else holds. */
export const heldBy = (path: string) => new StoreError(holder(pidFileOf(path)));

export interface DatabaseLock {
  /** Writes this process's pid beside the database, once the database proved free (a server from before the lock file locks the database itself). */
  announce(): void;
  /** Removes the pid file and lets the lock go; once only. */
  release(): void;
}

/**
 * Takes the lock on a database before anything opens it: SQLite's exclusive lock on an
 * empty SQLite file beside it, `<db>.lock`, kept for as long as the store is open. (Not on
 * the database itself, which the store's reads and its writer thread open side by side.)
 * Throws StoreError naming the holder.
 */
export function lockDatabase(path: string): DatabaseLock {
  const file = lockFileOf(path);
  createPrivate(file);
  const lock = new BetterSqlite3(file, { timeout: LOCK_WAIT_MS });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.exec("BEGIN EXCLUSIVE; COMMIT");
  } catch (err) {
    lock.close();
    if (isBusy(err)) throw heldBy(path);
    throw err;
  }
  const pidFile = pidFileOf(path);
  let announced = false;
  return {
    announce: () => {
      writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
      announced = true;
    },
    release: () => {
      if (!lock.open) return;
      // The pid file goes first, while the lock still keeps any successor from writing its own.
      if (announced) rmSync(pidFile, { force: true });
      // The lock file stays: removed, a successor waiting on it and a newcomer creating it anew could both hold "the" lock.
      lock.close();
    },
  };
}
