/**
 * The embedded default store: one SQLite file through better-sqlite3, in WAL mode,
 * so that a committed batch survives a crash of the process or of the machine.
 * Changes are buffered and committed together (the hub commits once per event-loop
 * turn or commit window). On a file a commit is one fsynced record of the changes
 * journal (changeJournal.ts); the records reach SQLite later, many per transaction,
 * without an fsync of their own, and before anything reads them. The file is held
 * with an exclusive lock while the store is open: one server per file.
 */
import { renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import type { Change } from "../core/changes.js";
import type { StoredMessage } from "../core/commands.js";
import { directKey, type ChatState } from "../core/model.js";
import { loadState, type StoredRows } from "./loadState.js";
import type { HistoryReply, Message } from "../protocol/wire.generated.js";
import { LOCK_WAIT_MS, lockDatabase } from "./databaseLock.js";
import { lowSpace } from "./diskSpace.js";
import { failureReason } from "./failureReason.js";
import { createPrivate } from "./fileModes.js";
import { migrate, SCHEMA_VERSION, StoreError } from "./migrations.js";
import type { Retention } from "./retention.js";
import { SqlitePrune } from "./sqlitePrune.js";
import type { LogPosition, Store } from "./store.js";
import { ChangeJournal, journalPathOf, type JournalRecord } from "./changeJournal.js";
import { deletesConversation, PendingMessages } from "./pendingMessages.js";

export { StoreError } from "./migrations.js";

type Row<T> = T extends Iterable<infer R> ? R : never;
type StoredUser = Row<StoredRows["users"]>;
type StoredRoom = Row<StoredRows["rooms"]>;
type StoredMember = Row<StoredRows["members"]>;

/** A page of a conversation, newest first, served by the (conv, id) primary key. */
export const PAGE_SQL = "SELECT body FROM messages WHERE conv = ? AND id < ? ORDER BY id DESC LIMIT ?";
/** The message a sender sent with a client id, through the (client_msg_id, sender) index. */
export const SENT_BY_SQL = "SELECT body FROM messages WHERE sender = ? AND client_msg_id = ?";
/** A page of a conversation after a message, oldest first. */
const PAGE_AFTER_SQL = "SELECT body FROM messages WHERE conv = ? AND id > ? AND id < ? ORDER BY id ASC LIMIT ?";

/** Journaled changes applied to SQLite together once this many wait (each transaction costs WAL frames, whatever its size). */
const APPLY_AT = 256;
/** Journal bytes after which SQLite is synced and the journal written from its start again. */
const RESTART_AT = 4 * 1024 * 1024;

function open(path: string): { db: Database; release(): void } {
  const onDisk = path !== ":memory:";
  try {
    if (onDisk) createPrivate(path);
    const db = new BetterSqlite3(path, { timeout: LOCK_WAIT_MS });
    let lock: { release(): void } | undefined;
    try {
      if (onDisk) lock = lockDatabase(db, path);
      // Checked and migrated before anything else changes the file, so a refused file stays as it was.
      migrate(db);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      return { db, release: () => lock?.release() };
    } catch (err) {
      lock?.release();
      db.close();
      throw err;
    }
  } catch (err) {
    if (err instanceof StoreError) throw new StoreError(`cannot use the database ${path}: ${err.message}`);
    const reason = err instanceof Error ? err.message : String(err);
    throw new StoreError(`cannot open the database ${path}: ${reason}`);
  }
}

export class SqliteStore implements Store {
  readonly #db: Database;
  readonly #release: () => void;
  /** The folder whose free space `probe` checks; undefined for `:memory:`. */
  readonly #dir: string | undefined;
  readonly syncs: boolean;
  readonly #prune: SqlitePrune;
  readonly #touch: () => void;
  #pending: Change[] = [];
  readonly #apply: { [T in Change["type"]]: (c: Extract<Change, { type: T }>) => void };
  readonly #page: Statement<[string, string, number]>;
  readonly #pageAfter: Statement<[string, string, string, number]>;
  readonly #sentBy: Statement<[string, string]>;
  readonly #byId: Statement<[string]>;
  readonly #commitAll: (records: readonly Omit<JournalRecord, "seq">[], seq?: number) => void;
  readonly #position: Statement<[]>;
  /** On a file: where commits go first. */
  readonly #journal: ChangeJournal | undefined;
  /** The last journal record committed, and the id of this database its records carry. */
  #seq = 0;
  #dbId = "";
  /** Journal records not yet in SQLite, and how many changes they hold. */
  #unapplied: JournalRecord[] = [];
  #unappliedChanges = 0;
  readonly #recent = new PendingMessages();
  /** A journaled change deleted whole conversations: lookups must apply the journal first. */
  #mustApply = false;
  /** The record `commitAsync` wrote and waits to sync. */
  #syncing: JournalRecord | undefined;

  /** Opens (creating if needed) and migrates the file at `path` (SQLite's `:memory:` works too, for tests). Throws StoreError. */
  constructor(path: string) {
    const opened = open(path);
    const db = (this.#db = opened.db);
    this.#release = opened.release;
    this.#dir = path === ":memory:" ? undefined : dirname(path);
    this.syncs = this.#dir !== undefined;
    this.#prune = new SqlitePrune(db);
    // The smallest real write: the schema version rewritten to itself, committed and synced.
    const touch = db.transaction(() => db.pragma(`user_version = ${SCHEMA_VERSION}`));
    this.#touch = () => touch.immediate();
    const s = (sql: string) => db.prepare(sql);
    const upsertUser = s(
      "INSERT INTO users (id, username, token_hash, renamed_from) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET username = excluded.username, token_hash = excluded.token_hash, renamed_from = excluded.renamed_from",
    );
    const deleteUser = s("DELETE FROM users WHERE id = ?");
    const upsertRoom = s("INSERT INTO rooms (id, name, owner_id) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner_id = excluded.owner_id");
    const deleteRoom = s("DELETE FROM rooms WHERE id = ?");
    const deleteRoomMembers = s("DELETE FROM members WHERE room_id = ?");
    const deleteConversation = s("DELETE FROM messages WHERE conv = ?");
    const addMember = s("INSERT OR IGNORE INTO members (room_id, user_id) VALUES (?, ?)");
    const removeMember = s("DELETE FROM members WHERE room_id = ? AND user_id = ?");
    const addPair = s("INSERT OR IGNORE INTO direct_pairs (a, b) VALUES (?, ?)");
    const deletePair = s("DELETE FROM direct_pairs WHERE (a = ? AND b = ?) OR (a = ? AND b = ?)");
    const addMessage = s("INSERT INTO messages (conv, id, body, sender, client_msg_id) VALUES (?, ?, ?, ?, ?)");
    this.#sentBy = s(SENT_BY_SQL) as Statement<[string, string]>;
    this.#byId = s("SELECT conv, body FROM messages WHERE id = ?") as Statement<[string]>;
    const editMessage = s("UPDATE messages SET body = ? WHERE conv = ? AND id = ?");
    const deleteMessage = s("DELETE FROM messages WHERE conv = ? AND id = ?");
    const putSession = s("INSERT OR REPLACE INTO sessions (conn, user_id) VALUES (?, ?)");
    const deleteSession = s("DELETE FROM sessions WHERE conn = ?");
    const putGuest = s("INSERT OR REPLACE INTO guests (id, token_hash) VALUES (?, ?)");
    const deleteGuest = s("DELETE FROM guests WHERE id = ?");
    const setPosition = s("INSERT OR REPLACE INTO log_position (one, epoch, entry) VALUES (1, ?, ?)");
    this.#position = s("SELECT epoch, entry FROM log_position WHERE one = 1") as Statement<[]>;
    this.#page = s(PAGE_SQL) as Statement<[string, string, number]>;
    this.#pageAfter = s(PAGE_AFTER_SQL) as Statement<[string, string, string, number]>;

    this.#apply = {
      user_put: (c) => {
        upsertUser.run(c.id, c.username, c.tokenHash, c.renamedFrom ?? null);
        // A guest made permanent (in a cluster, where guests are stored).
        deleteGuest.run(c.id);
      },
      user_deleted: (c) => deleteUser.run(c.id),
      room_put: (c) => upsertRoom.run(c.id, c.name, c.ownerId),
      room_deleted: (c) => {
        deleteRoom.run(c.id);
        deleteRoomMembers.run(c.id);
        deleteConversation.run(c.id);
      },
      member_added: (c) => addMember.run(c.roomId, c.userId),
      member_removed: (c) => removeMember.run(c.roomId, c.userId),
      direct_pair_added: (c) => addPair.run(c.a, c.b),
      direct_pair_deleted: (c) => {
        deletePair.run(c.a, c.b, c.b, c.a);
        deleteConversation.run(directKey(c.a, c.b));
      },
      message_added: (c) => addMessage.run(c.key, c.message.id, JSON.stringify(c.message), c.message.from.id, c.message.client_msg_id ?? null),
      message_edited: (c) => editMessage.run(JSON.stringify(c.message), c.key, c.message.id),
      message_deleted: (c) => deleteMessage.run(c.key, c.id),
      session_put: (c) => putSession.run(c.conn, c.userId),
      session_deleted: (c) => deleteSession.run(c.conn),
      guest_put: (c) => putGuest.run(c.id, c.tokenHash),
      guest_deleted: (c) => deleteGuest.run(c.id),
    };
    const setSeq = s("UPDATE journal_seq SET seq = ? WHERE one = 1");
    this.#commitAll = db.transaction((records: readonly Omit<JournalRecord, "seq">[], seq?: number) => {
      let position: LogPosition | undefined;
      for (const r of records) {
        for (const c of r.changes) (this.#apply[c.type] as (c: Change) => void)(c);
        position = r.position ?? position;
      }
      if (position) setPosition.run(position.epoch, position.entry);
      if (seq !== undefined) setSeq.run(seq);
    });
    this.#journal = this.syncs ? this.#openJournal(path) : undefined;
  }

  /** Opens the journal and applies what it holds beyond SQLite (a crash left it there), syncing SQLite before the journal starts again. */
  #openJournal(path: string): ChangeJournal {
    const file = journalPathOf(path);
    let journal: ChangeJournal | undefined;
    try {
      journal = new ChangeJournal(file);
      const { seq: stored, dbId } = this.#db.prepare("SELECT seq, db_id AS dbId FROM journal_seq WHERE one = 1").get() as { seq: number; dbId: string };
      this.#dbId = dbId;
      const after = journal.recovered.filter((r) => r.seq > stored);
      if (after.some((r) => r.db !== undefined && r.db !== dbId)) {
        throw new StoreError(`${file} belongs to another database (was ${path} deleted or replaced without it?); move that file away to start without it`);
      }
      if (after.length > 0 && after[0]!.seq !== stored + 1) {
        throw new StoreError(`${file} does not continue this database (was the database restored from a backup?); move that file away to start without it`);
      }
      this.#seq = stored + after.length;
      this.#unapplied = after;
      this.#db.pragma("synchronous = NORMAL");
      this.#settle(journal, true);
      return journal;
    } catch (err) {
      journal?.close();
      this.#release();
      this.#db.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot use the changes journal ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  write(changes: readonly Change[]): void {
    for (const c of changes) this.#pending.push(c);
  }

  /** A batch that fails (a full disk, an I/O error …) is dropped, none of it stored; the store takes later commits. */
  commit(position?: LogPosition): void {
    const record = this.#begin(position);
    if (record === undefined) return;
    this.#journal!.sync();
    this.#accept(record);
  }

  /**
   * As `commit`, with the journal's wait for the disk off the event loop: the record is
   * durable once the promise resolves. Meanwhile the store takes writes, reads and lookups
   * (which do not see the batch yet), but no other commit. On a rejection that batch and
   * everything written after it are dropped.
   */
  commitAsync(position?: LogPosition): Promise<void> | undefined {
    const record = this.#begin(position);
    if (record === undefined) return undefined;
    this.#syncing = record;
    return new Promise((resolve, reject) =>
      this.#journal!.syncLater((err) => {
        // Unless `close` took it over meanwhile.
        if (this.#syncing === record) {
          this.#syncing = undefined;
          if (err === undefined) this.#accept(record);
          else this.#pending = [];
        }
        if (err === undefined) resolve();
        else reject(err instanceof Error ? err : new Error(String(err)));
      }),
    );
  }

  /** Writes the batch: straight to SQLite (returning undefined), or as a journal record still to sync. */
  #begin(position: LogPosition | undefined): JournalRecord | undefined {
    if (this.#pending.length === 0 && position === undefined) return undefined;
    const journal = this.#journal;
    if (journal?.busy) throw new Error("a commit is still waiting for the disk");
    const batch = this.#pending;
    this.#pending = [];
    if (journal === undefined) {
      this.#commitAll([{ changes: batch, position }]);
      this.#prune.committed(batch);
      return undefined;
    }
    // Refused while SQLite could still take what the journal holds: on a full disk nothing waits in the journal.
    const full = lowSpace(this.#dir!);
    if (full !== undefined) {
      try {
        this.#settle(journal);
      } catch {
        // The full disk is the news; the journal keeps what SQLite could not take.
      }
      throw new StoreError(full);
    }
    if (this.#unappliedChanges >= APPLY_AT || journal.bytes >= RESTART_AT) this.#settle(journal);
    const record: JournalRecord = { seq: this.#seq + 1, db: this.#dbId, changes: batch, ...(position && { position }) };
    journal.write(record);
    return record;
  }

  /** The record is durable: lookups find it, and it waits to be applied to SQLite. */
  #accept(record: JournalRecord): void {
    this.#seq = record.seq;
    this.#unapplied.push(record);
    this.#unappliedChanges += record.changes.length;
    this.#recent.add(record.changes);
    if (record.changes.some(deletesConversation)) this.#mustApply = true;
  }

  /**
   * Applies the journal's records to SQLite in one transaction without an fsync (or, once the
   * journal is long, with one, and the journal starts again). When SQLite lacks room it
   * is tried once more after the journal gives back its spare space.
   */
  #settle(journal = this.#journal, sync = journal !== undefined && journal.bytes >= RESTART_AT && !journal.busy): void {
    if (journal === undefined || (this.#unapplied.length === 0 && !sync)) return;
    const records = this.#unapplied;
    if (sync) this.#db.pragma("synchronous = FULL");
    try {
      try {
        this.#commitAll(records, this.#seq);
      } catch (err) {
        if (failureReason(err) !== "the disk is full") throw err;
        journal.releaseSpare();
        this.#commitAll(records, this.#seq);
      }
    } finally {
      if (sync) this.#db.pragma("synchronous = NORMAL");
    }
    this.#unapplied = [];
    this.#unappliedChanges = 0;
    this.#recent.clear();
    this.#mustApply = false;
    for (const r of records) this.#prune.committed(r.changes);
    if (sync) journal.restart();
  }

  position(): LogPosition | undefined {
    for (let i = this.#unapplied.length - 1; i >= 0; i--) {
      const at = this.#unapplied[i]!.position;
      if (at) return { ...at };
    }
    return (this.#position.get() as LogPosition | undefined) ?? undefined;
  }

  prune(retain: Retention, budget: number): number {
    this.#settle();
    return this.#prune.prune(retain, budget);
  }

  /** Free space first (a cheap statfs), then a real write, which catches what statfs cannot (a read-only remount, I/O errors). */
  probe(): void {
    const fail = (what: string, err: unknown): never => {
      const reason = failureReason(err);
      throw new StoreError(reason === "the disk is full" ? reason : `${what} (${reason})`, { cause: err });
    };
    let full: string | undefined;
    try {
      full = this.#dir === undefined ? undefined : lowSpace(this.#dir);
    } catch (err) {
      fail("cannot measure the free space", err);
    }
    if (full !== undefined) throw new StoreError(full);
    try {
      this.#touch();
      this.#settle();
    } catch (err) {
      fail("a test write failed", err);
    }
  }

  page(key: string, limit: number, before?: string, after?: string): HistoryReply {
    this.#settle();
    // One row more than asked tells whether more messages exist beyond the page.
    if (after !== undefined) {
      const rows = this.#pageAfter.all(key, after, before ?? "\uffff", limit + 1) as { body: string }[];
      return { messages: rows.slice(0, limit).map((r) => JSON.parse(r.body) as Message), has_more: rows.length > limit };
    }
    const rows = this.#page.all(key, before ?? "\uffff", limit + 1) as { body: string }[];
    const has_more = rows.length > limit;
    const messages = rows.slice(0, limit).reverse().map((r) => JSON.parse(r.body) as Message);
    return { messages, has_more };
  }

  message(id: string): StoredMessage | undefined {
    if (this.#mustApply) this.#settle();
    return this.#recent.message(id, (key) => {
      const row = this.#byId.get(key) as { conv: string; body: string } | undefined;
      return row && { key: row.conv, message: JSON.parse(row.body) as Message };
    });
  }

  sentBy(sender: string, clientMsgId: string): Message | undefined {
    if (this.#mustApply) this.#settle();
    return this.#recent.sentBy(sender, clientMsgId, () => {
      const row = this.#sentBy.get(sender, clientMsgId) as { body: string } | undefined;
      return row && (JSON.parse(row.body) as Message);
    });
  }

  lastMessageId(): string | undefined {
    this.#settle();
    return (this.#db.prepare("SELECT max(id) AS id FROM messages").get() as { id: string | null }).id ?? undefined;
  }

  isEmpty(): boolean {
    this.#settle();
    const any = this.#db.prepare("SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM rooms) OR EXISTS (SELECT 1 FROM messages) AS found").get() as { found: number };
    return any.found === 0;
  }

  load(sessions = false): ChatState {
    this.#settle();
    const db = this.#db;
    return loadState({
      ...(sessions && {
        sessions: db.prepare("SELECT conn, user_id AS userId FROM sessions").iterate() as Iterable<{ conn: string; userId: string }>,
        guests: db.prepare("SELECT id, token_hash AS tokenHash FROM guests").iterate() as Iterable<{ id: string; tokenHash: string }>,
      }),
      users: db.prepare("SELECT id, username, token_hash AS tokenHash, renamed_from AS renamedFrom FROM users").iterate() as Iterable<StoredUser>,
      rooms: db.prepare("SELECT id, name, owner_id AS ownerId FROM rooms").iterate() as Iterable<StoredRoom>,
      members: db.prepare("SELECT room_id AS roomId, user_id AS userId FROM members").iterate() as Iterable<StoredMember>,
      directPairs: db.prepare("SELECT a, b FROM direct_pairs").iterate() as Iterable<{ a: string; b: string }>,
      page: (key, limit) => this.page(key, limit),
    });
  }

  /**
   * Writes a consistent copy of the database to `path` (SQLite's online backup, a step at a
   * time between event-loop turns; commits made meanwhile are carried into the copy), via a
   * temporary file renamed into place, so that `path` is only ever whole.
   */
  async backup(path: string): Promise<void> {
    this.#settle();
    const partial = `${path}.partial`;
    rmSync(partial, { force: true });
    createPrivate(partial);
    try {
      await this.#db.backup(partial);
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }

  close(): void {
    this.#pending = [];
    const syncing = this.#syncing;
    this.#syncing = undefined;
    if (syncing && this.#journal) {
      try {
        this.#journal.sync();
        this.#accept(syncing);
      } catch {
        // Refused: its commitAsync rejects.
      }
    }
    if (this.#journal && this.#db.open) {
      // Left as it is when SQLite cannot take it: the next start applies it.
      try {
        this.#settle(this.#journal, true);
      } catch {
        // Nothing is lost: the journal still holds it.
      }
      this.#journal.close();
    }
    // The pid file goes first, while the lock still keeps any successor from writing its own.
    this.#release();
    this.#db.close();
  }
}
