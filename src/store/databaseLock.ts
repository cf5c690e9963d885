/**
 * One server per database file. Each server keeps its state in memory, so a second
 * one on the same file would hand out names twice and bring back deleted accounts.
 * The first takes SQLite's exclusive lock for as long as it runs (the OS drops it if
 * the process dies, even by SIGKILL) and writes its pid beside the file, because
 * SQLite cannot say who holds a lock; a second is refused with that pid.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Database } from "better-sqlite3";
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

/**
 * Takes the lock on a database just opened (with `timeout: LOCK_WAIT_MS`), before anything
 * reads it; returns what releases the pid file. Throws StoreError naming the holder.
 */
export function lockDatabase(db: Database, path: string): { release(): void } {
  // Before anything else, so that the lock is kept and the WAL index lives in memory (no -shm file).
  db.pragma("locking_mode = EXCLUSIVE");
  const pidFile = pidFileOf(path);
  try {
    db.exec("BEGIN EXCLUSIVE; COMMIT");
  } catch (err) {
    if ((err as { code?: unknown }).code === "SQLITE_BUSY") throw new StoreError(holder(pidFile));
    throw err;
  }
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  return { release: () => rmSync(pidFile, { force: true }) };
}
