/**
 * `npm run backup -- [--db PATH] [--to FILE]`: a consistent copy of a database (SQLite's
 * online backup). A running server holds its file locked, so it is asked (SIGUSR2) to
 * write the copy beside the file; a file no server holds is copied here. The copy
 * seeds a new cluster node or restores one: stop the node, put the copy at its
 * CHAT_DB path (removing any -wal, -shm and -changes file), start it.
 */
import { copyFileSync, existsSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { loadOptions } from "./config.js";
import { backupPathOf } from "./store/backupPath.js";
import { pidFileOf } from "./store/databaseLock.js";
import { SqliteStore, StoreError } from "./store/sqliteStore.js";

function fail(message: string): never {
  console.error(`backup: ${message}`);
  process.exit(1);
}

const argv = process.argv.slice(2);
const toAt = argv.indexOf("--to");
const to = toAt >= 0 ? argv[toAt + 1] : undefined;
if (toAt >= 0 && to === undefined) fail("--to needs a file name");
const { db } = loadOptions(toAt >= 0 ? [...argv.slice(0, toAt), ...argv.slice(toAt + 2)] : argv, process.env);
if (db === ":memory:") fail("the database is :memory:; there is nothing on disk to copy");
const target = to ?? backupPathOf(db);

if (!existsSync(db)) fail(`there is no database at ${db} (set CHAT_DB or pass --db)`);

/** The file opened here when no server holds it; otherwise the pid of the server that does (from its pid file). */
function openOrHolder(): SqliteStore | number {
  try {
    return new SqliteStore(db);
  } catch (err) {
    const pid = Number(readFileSync(pidFileOf(realpathSync(db)), "utf8").trim());
    // Only a holder that SQLite's lock proves is there is signalled: a stale pid file may name anyone.
    if (err instanceof StoreError && /holds it/.test(err.message) && Number.isInteger(pid) && pid > 0) return pid;
    fail(err instanceof Error ? err.message : String(err));
  }
}

const opened = openOrHolder();
if (typeof opened === "number") {
  const pid = opened;
  const written = backupPathOf(db);
  const asked = Date.now();
  process.kill(pid, "SIGUSR2");
  const deadline = asked + 120_000;
  while (!(existsSync(written) && statSync(written).mtimeMs >= asked - 1000)) {
    if (Date.now() > deadline) fail(`the server (pid ${pid}) did not write ${written} within two minutes; see its log`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (written !== target) {
    copyFileSync(written, target);
    rmSync(written, { force: true });
  }
  console.log(`backup of the running server (pid ${pid}) written to ${target}`);
} else {
  try {
    await opened.backup(target);
  } catch (err) {
    fail(String(err));
  } finally {
    opened.close();
  }
  console.log(`backup of ${db} written to ${target}`);
}
