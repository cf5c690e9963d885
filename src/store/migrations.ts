/**
 * The SQLite schema as an ordered list of migrations. A file records the version
 * it is at in `PRAGMA user_version`, and ours in `PRAGMA application_id`, so that a
 * foreign or newer file is refused rather than changed.
 */
import { randomUUID } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import type { Database } from "better-sqlite3";
import { settleNames } from "./settleNames.js";

/** "CHAT" in ASCII: marks a file as this server's. */
export const APPLICATION_ID = 0x43484154;

export const MIGRATIONS: ReadonlyArray<{ version: number; up: (db: Database) => void }> = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT, token_hash TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE rooms (id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_id TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE members (room_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (room_id, user_id)) WITHOUT ROWID;
        -- conv is a room id, 'all', or 'dm:<a>:<b>'; message ids are UUIDv7, so (conv, id) pages by time.
        CREATE TABLE messages (conv TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (conv, id)) WITHOUT ROWID;
      `),
  },
  {
    // Who has a direct conversation with whom, so start-up need not scan every message to learn it.
    version: 2,
    up: (db) =>
      db.exec(`
        CREATE TABLE direct_pairs (a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;
        INSERT OR IGNORE INTO direct_pairs (a, b)
          SELECT DISTINCT substr(conv, 4, 36), substr(conv, 41, 36) FROM messages WHERE conv LIKE 'dm:%';
      `),
  },
  {
    // The command log: the position applied, and (in a cluster) the sessions and guests other nodes' connections hold.
    version: 3,
    up: (db) =>
      db.exec(`
        CREATE TABLE log_position (one INTEGER PRIMARY KEY CHECK (one = 1), epoch TEXT NOT NULL, entry TEXT NOT NULL);
        CREATE TABLE sessions (conn TEXT PRIMARY KEY, user_id TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE guests (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL) WITHOUT ROWID;
      `),
  },
  {
    // A message's sender and the id its client chose, so that a repeated send is found, also after a restart.
    version: 4,
    up: (db) =>
      db.exec(`
        ALTER TABLE messages ADD COLUMN sender TEXT;
        ALTER TABLE messages ADD COLUMN client_msg_id TEXT;
        CREATE UNIQUE INDEX messages_by_client_id ON messages (sender, client_msg_id) WHERE client_msg_id IS NOT NULL;
      `),
  },
  {
    // A message found by its id alone, for edits and deletes.
    version: 5,
    up: (db) => db.exec("CREATE INDEX messages_by_id ON messages (id)"),
  },
  {
    // Names compared as today's nameKey does: clashes among stored names are settled, and a renamed account is told once.
    version: 6,
    up: settleNames,
  },
  {
    // The last record of the changes journal (changeJournal.ts) this file holds: records after it are applied on opening.
    version: 7,
    up: (db) => db.exec("CREATE TABLE journal_seq (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL); INSERT INTO journal_seq VALUES (1, 0);"),
  },
  {
    // The client id first: the SDK's ids rise with time, so a new one lands at the index's end, not on a random page of it.
    version: 8,
    up: (db) =>
      db.exec(`
        DROP INDEX messages_by_client_id;
        CREATE UNIQUE INDEX messages_by_client_id ON messages (client_msg_id, sender) WHERE client_msg_id IS NOT NULL;
      `),
  },
  {
    // A random id of this database, carried by every journal record: a journal left by another database is refused, not applied.
    version: 9,
    up: (db) => {
      db.exec("ALTER TABLE journal_seq ADD COLUMN db_id TEXT NOT NULL DEFAULT ''");
      db.prepare("UPDATE journal_seq SET db_id = ?").run(randomUUID());
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Why a file cannot be used, as a sentence for the operator. */
export class StoreError extends Error {
  override name = "StoreError";
}

/** Brings a file to SCHEMA_VERSION, or refuses it. `target` is for tests that need an older file. */
export function migrate(db: Database, target = SCHEMA_VERSION): void {
  const version = checkFile(db);
  const pending = MIGRATIONS.filter((m) => m.version > version && m.version <= target);
  if (pending.length === 0) return;
  db.transaction(() => {
    for (const m of pending) m.up(db);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${pending[pending.length - 1]!.version}`);
  })();
}

/** Refuses (StoreError) another program's file and a newer server's; returns the file's schema version. Reads only. */
export function checkFile(db: Database): number {
  const appId = db.pragma("application_id", { simple: true }) as number;
  const version = db.pragma("user_version", { simple: true }) as number;
  const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n;
  judgeFile(appId, version, tables === 0);
  return version;
}

/**
 * The same judgement from the file's first bytes, before SQLite opens it (which would add
 * -wal and -shm files beside a WAL-mode file): a header that may lag behind the WAL
 * refuses only what the full check would refuse too.
 */
export function checkHeader(path: string): void {
  const header = Buffer.alloc(105);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  // A new (empty) file, or not SQLite's: SQLite says what is wrong with it.
  if (read < header.length || header.toString("latin1", 0, 16) !== "SQLite format 3\u0000") return;
  // Offsets from SQLite's file format: user_version at 60, application_id at 68, and page 1 (the schema table) holds its cell count at 103.
  judgeFile(header.readUInt32BE(68), header.readUInt32BE(60), header.readUInt16BE(103) === 0);
}

function judgeFile(appId: number, version: number, empty: boolean): void {
  if (appId !== APPLICATION_ID && !(appId === 0 && version === 0 && empty)) {
    throw new StoreError("it is not a chat-server database (another program's file?); refusing to change it");
  }
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `it was written by a newer chat-server (schema version ${version}; this one knows up to ${SCHEMA_VERSION}); refusing to change it`,
    );
  }
}
