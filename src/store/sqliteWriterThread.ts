/**
 * The writer thread of a SqliteStore on a file (started by ThreadWriter): its own connection
 * to the database, applying the journal's records as the store hands them over and answering
 * the store's calls in the order they were made. Replies go through `replies`, each followed
 * by a bump of `shared[0]` that wakes the store if it waits.
 */
import { closeSync, fdatasyncSync, openSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import { LOCK_WAIT_MS } from "./databaseLock.js";
import { SqliteApplier, type Batch } from "./sqliteApplier.js";
import { parseBatch } from "./sqliteWriter.js";
import type { WriterReply, WriterRequest, WriterSetup } from "./threadWriter.js";

const { path, replies, shared } = workerData as WriterSetup;

function reply(r: WriterReply): void {
  replies.postMessage(r);
  Atomics.add(shared, 0, 1n);
  Atomics.notify(shared, 0);
}

const failed = (id: number, err: unknown): WriterReply => ({
  id,
  error: { message: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code as string | undefined },
});

let opened: { db: BetterSqlite3.Database; applier: SqliteApplier };
try {
  const db = new BetterSqlite3(path, { timeout: LOCK_WAIT_MS });
  db.pragma("journal_mode = WAL");
  // Durability comes from the journal; SQLite syncs when the store asks (and at checkpoints).
  db.pragma("synchronous = NORMAL");
  opened = { db, applier: new SqliteApplier(db) };
  reply({ id: 0 });
} catch (err) {
  reply(failed(0, err));
  throw err;
}
const { db, applier } = opened;

/** Batches handed over and not applied yet, and the seq of the last of them. */
let queue: Batch[] = [];
let queuedSeq: number | undefined;
let soon = false;

/** Why SQLite's WAL could not be synced, for as long as the thread runs. */
let walFailure: unknown;

/**
 * Takes SQLite's WAL to disk: what the connection's commits (at `synchronous=NORMAL`) left
 * in the page cache. (Not a commit at `synchronous=FULL`: one that changes nothing writes
 * nothing, and syncs nothing either.) Checkpointed pages are already synced by SQLite.
 */
function syncWal(): void {
  // Once a sync failed, none may pass: the kernel reports a lost write once, and a later sync of the same file succeeds without it.
  if (walFailure !== undefined) throw walFailure;
  try {
    const fd = openSync(`${path}-wal`, "r+");
    try {
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    walFailure = err;
    throw err;
  }
}

function applyQueue(sync: boolean): void {
  if (queue.length > 0) {
    applier.commit(queue, queuedSeq);
    queue = [];
    if (queuedSeq !== undefined) Atomics.store(shared, 1, BigInt(queuedSeq));
  }
  if (!sync) return;
  syncWal();
  if (queuedSeq !== undefined) Atomics.store(shared, 2, BigInt(queuedSeq));
}

/** The calls answered at once (backup answers when its copy is done). */
function answer(r: Exclude<WriterRequest, { type: "apply" | "sync" | "backup" }>): unknown {
  switch (r.type) {
    case "flush":
      return applyQueue(r.sync);
    case "prune":
      applyQueue(false);
      return applier.prune(r.retain, r.budget);
    case "touch":
      applier.touch();
      syncWal();
      return applyQueue(false);
    case "close":
      // The store flushed first; whatever it could not apply is in the journal.
      db.close();
      parentPort!.close();
      return undefined;
  }
}

parentPort!.on("message", (r: WriterRequest) => {
  if (r.type === "apply") {
    for (const b of r.batches) queue.push(parseBatch(b));
    queuedSeq = r.seq;
    if (!soon) {
      soon = true;
      // After every message already waiting: one transaction for all of them.
      setImmediate(() => {
        soon = false;
        try {
          applyQueue(false);
        } catch {
          // Kept in the queue: the next flush tries again and reports the failure.
        }
      });
    }
    return;
  }
  if (r.type === "sync") {
    try {
      applyQueue(true);
    } catch {
      // As for "apply": the next flush tries again and reports the failure.
    }
    return;
  }
  if (r.type === "backup") {
    try {
      applyQueue(false);
    } catch (err) {
      reply(failed(r.id, err));
      return;
    }
    db.backup(r.path).then(
      () => reply({ id: r.id }),
      (err: unknown) => reply(failed(r.id, err)),
    );
    return;
  }
  try {
    reply({ id: r.id, value: answer(r) });
  } catch (err) {
    reply(failed(r.id, err));
  }
});
