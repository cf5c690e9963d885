/**
 * The embedded default store: one SQLite file through better-sqlite3, in WAL mode,
 * so that a committed batch survives a crash of the process or of the machine.
 * Changes are buffered and committed together (the hub commits once per event-loop
 * turn or commit window). On a file a commit is one fsynced record of the changes
 * journal (changeJournal.ts); the records reach SQLite later, many per transaction,
 * without an fsync of their own, in a thread of their own (sqliteWriterThread.ts) on a
 * second connection, while this one reads. A read that needs them waits until they are
 * in; lookups by message and client id find them earlier, in memory. The file is held
 * with an exclusive lock while the store is open: one server per file.
 */
import { realpathSync, renameSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3, { type Database, type Statement } from "better-sqlite3";
import type { Change } from "../core/changes.js";
import type { StoredMessage } from "../core/commands.js";
import type { ChatState } from "../core/model.js";
import { loadState, type StoredRows } from "./loadState.js";
import type { HistoryReply, Message } from "../protocol/wire.generated.js";
import { heldBy, isBusy, LOCK_WAIT_MS, lockDatabase, type DatabaseLock } from "./databaseLock.js";
import { lowSpace } from "./diskSpace.js";
import { failureReason } from "./failureReason.js";
import { createPrivate } from "./fileModes.js";
import { checkFile, checkHeader, migrate, StoreError } from "./migrations.js";
import type { Retention } from "./retention.js";
import { InlineWriter, type SqliteWriter } from "./sqliteWriter.js";
import { ThreadWriter } from "./threadWriter.js";
import type { LogPosition, Store } from "./store.js";
import { ChangeJournal, journalPathOf, type JournalRecord } from "./changeJournal.js";
import { deletesConversation, PendingMessages } from "./pendingMessages.js";
import { HIGHEST_CLIENT_ID_SQL, RisingClientIds } from "./risingClientIds.js";
import { LOOP_SYNC_MS, SyncPlacement } from "./syncPlacement.js";

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
/** Journal bytes at which a commit waits for that sync, rather than the writer doing it on the side. */
const RESTART_BY = 2 * RESTART_AT;

/** Batches the writer thread may hold unapplied before a commit waits for it (what it holds, the store also holds in memory). */
const BEHIND_AT = 32 * APPLY_AT;

/** The full check on a connection that cannot write (a read-write one closing last would checkpoint another program's WAL into its file). */
function checkReadOnly(path: string): void {
  const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true, timeout: LOCK_WAIT_MS });
  try {
    checkFile(db);
  } finally {
    db.close();
  }
}

/**
 * Opens `path` (on disk: its real path, so that a link to it shares its lock and journal),
 * checked, locked and migrated.
 */
function open(path: string): { db: Database; file: string; release(): void } {
  const onDisk = path !== ":memory:";
  try {
    if (onDisk) createPrivate(path);
    const file = onDisk ? realpathSync(path) : path;
    let lock: DatabaseLock | undefined;
    let db: Database | undefined;
    try {
      if (onDisk) {
        // Refused before anything is made beside it (from the header), or at least before anything in it changes.
        checkHeader(file);
        checkReadOnly(file);
        lock = lockDatabase(file);
      }
      db = new BetterSqlite3(file, { timeout: LOCK_WAIT_MS });
      migrate(db);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      lock?.announce();
      const held = lock;
      return { db, file, release: () => held?.release() };
    } catch (err) {
      db?.close();
      lock?.release();
      // A server from before the lock file holds the database itself.
      throw isBusy(err) ? heldBy(file) : err;
    }
  } catch (err) {
    if (err instanceof StoreError) throw new StoreError(`cannot use the database ${path}: ${err.message}`);
    const reason = err instanceof Error ? err.message : String(err);
    throw new StoreError(`cannot open the database ${path}: ${reason}`);
  }
}

/** A journal record written, and its JSON as written. */
interface Written {
  record: JournalRecord;
  text: string;
}

/** The log position the last of `records` that has one reaches. */
const lastPosition = (records: readonly Written[]): LogPosition | undefined => records.findLast((r) => r.record.position)?.record.position;

/** Records handed to the writer thread and not known to be applied, with the lookups they answer meanwhile. */
interface HandedOff {
  seq: number;
  changes: number;
  recent: PendingMessages;
  position: LogPosition | undefined;
}

export class SqliteStore implements Store {
  /** Reads; for `:memory:`, writes too. */
  readonly #db: Database;
  readonly #release: () => void;
  /** The folder whose free space `probe` checks; undefined for `:memory:`. */
  readonly #dir: string | undefined;
  readonly syncs: boolean;
  readonly #writer: SqliteWriter;
  #pending: Change[] = [];
  readonly #page: Statement<[string, string, number]>;
  readonly #pageAfter: Statement<[string, string, string, number]>;
  readonly #sentBy: Statement<[string, string]>;
  readonly #byId: Statement<[string]>;
  readonly #position: Statement<[]>;
  /** On a file: where commits go first. */
  readonly #journal: ChangeJournal | undefined;
  /** The last journal record committed, and the id of this database its records carry. */
  #seq = 0;
  #dbId = "";
  /** Journal records not handed to the writer yet, how many changes they hold, and their messages. */
  #unapplied: Written[] = [];
  #unappliedChanges = 0;
  #recent = new PendingMessages();
  /** Handed to the writer, oldest first. */
  #handedOff: HandedOff[] = [];
  /** The last record the writer was asked to make durable in SQLite on the side, while the journal waits to start again. */
  #syncAsked: number | undefined;
  /** A journaled change deleted whole conversations: lookups must apply the journal first. */
  #mustApply = false;
  readonly #clientIds: RisingClientIds;
  /** Where `commitAsync` waits for the disk: on the event loop or on libuv's pool. */
  readonly #placement: SyncPlacement;
  /** The record `commitAsync` wrote and waits to sync on the pool. */
  #syncing: Written | undefined;

  /**
   * Opens (creating if needed) and migrates the file at `path` (SQLite's `:memory:` works too, for tests). Throws StoreError.
   * `loopSyncMs`: `commitAsync` syncs the journal on the event loop while syncs take at most this long on average (SyncPlacement); 0: always on libuv's pool.
   */
  constructor(path: string, { loopSyncMs = LOOP_SYNC_MS }: { loopSyncMs?: number } = {}) {
    const opened = open(path);
    const db = (this.#db = opened.db);
    this.#release = opened.release;
    this.#dir = path === ":memory:" ? undefined : dirname(opened.file);
    this.syncs = this.#dir !== undefined;
    this.#placement = new SyncPlacement(this.syncs ? loopSyncMs : 0);
    const s = (sql: string) => db.prepare(sql);
    this.#sentBy = s(SENT_BY_SQL) as Statement<[string, string]>;
    this.#byId = s("SELECT conv, body FROM messages WHERE id = ?") as Statement<[string]>;
    this.#position = s("SELECT epoch, entry FROM log_position WHERE one = 1") as Statement<[]>;
    this.#page = s(PAGE_SQL) as Statement<[string, string, number]>;
    this.#pageAfter = s(PAGE_AFTER_SQL) as Statement<[string, string, string, number]>;
    this.#clientIds = new RisingClientIds(() => (db.prepare(HIGHEST_CLIENT_ID_SQL).get() as { top: string | null }).top ?? undefined);
    if (!this.syncs) {
      this.#writer = new InlineWriter(db);
      this.#journal = undefined;
      return;
    }
    try {
      this.#writer = new ThreadWriter(opened.file);
    } catch (err) {
      db.close();
      this.#release();
      throw new StoreError(`cannot open the database ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.#journal = this.#openJournal(opened.file);
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
      this.#unapplied = after.map((record) => ({ record, text: JSON.stringify(record) }));
      this.#settle(journal, true);
      return journal;
    } catch (err) {
      // Each step on its own: a writer that cannot apply what it holds must not keep the lock.
      for (const step of [() => journal?.close(), () => this.#writer.close(), () => this.#db.close(), () => this.#release()]) {
        try {
          step();
        } catch {
          // The failure reported is the first.
        }
      }
      if (err instanceof StoreError) throw err;
      throw new StoreError(`cannot use the changes journal ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  write(changes: readonly Change[]): void {
    for (const c of changes) {
      this.#pending.push(c);
      if (c.type === "message_added") this.#clientIds.wrote(c.message.from.id, c.message.client_msg_id);
    }
  }

  /** A batch that fails (a full disk, an I/O error …) is dropped, none of it stored; the store takes later commits. */
  commit(position?: LogPosition): void {
    const written = this.#begin(position);
    if (written === undefined) return;
    const start = performance.now();
    try {
      this.#journal!.sync();
    } finally {
      this.#placement.tookOnLoop(performance.now() - start);
    }
    this.#accept(written);
  }

  /**
   * As `commit` while the disk is quick (SyncPlacement): then it returns undefined, the batch
   * durable, or throws. Otherwise the journal's wait for the disk runs off the event loop: the
   * record is durable once the promise resolves. Meanwhile the store takes writes, reads and
   * lookups (which do not see the batch yet), but no other commit. On a rejection that batch
   * and everything written after it are dropped.
   */
  commitAsync(position?: LogPosition): Promise<void> | undefined {
    if (this.#placement.onLoop) {
      this.commit(position);
      return undefined;
    }
    const written = this.#begin(position);
    if (written === undefined) return undefined;
    this.#syncing = written;
    return new Promise((resolve, reject) =>
      this.#journal!.syncLater((err) => {
        // Unless `close` took it over meanwhile.
        if (this.#syncing === written) {
          this.#syncing = undefined;
          if (err === undefined) this.#accept(written);
          else this.#pending = [];
        }
        if (err === undefined) resolve();
        else reject(err instanceof Error ? err : new Error(String(err)));
      }),
    );
  }

  /** Writes the batch: straight to SQLite (returning undefined), or as a journal record still to sync. */
  #begin(position: LogPosition | undefined): Written | undefined {
    if (this.#pending.length === 0 && position === undefined) return undefined;
    const journal = this.#journal;
    if (journal?.busy) throw new Error("a commit is still waiting for the disk");
    const batch = this.#pending;
    this.#pending = [];
    if (journal === undefined) {
      this.#writer.apply([{ changes: batch, position }]);
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
    if (journal.bytes >= RESTART_AT) this.#restart(journal);
    if (this.#behind() >= BEHIND_AT) this.#settle(journal);
    const record: JournalRecord = { seq: this.#seq + 1, db: this.#dbId, changes: batch, ...(position && { position }) };
    return { record, text: journal.write(record) };
  }

  /** The record is durable: lookups find it, and it waits to be handed to the writer. */
  #accept(written: Written): void {
    const { record } = written;
    this.#seq = record.seq;
    this.#unapplied.push(written);
    this.#unappliedChanges += record.changes.length;
    this.#recent.add(record.changes);
    if (record.changes.some(deletesConversation)) this.#mustApply = true;
    if (this.#unappliedChanges >= APPLY_AT) this.#handOff();
  }

  /** Gives the writer the records it does not have yet, to apply in one transaction soon. */
  #handOff(): void {
    const records = this.#unapplied;
    if (records.length === 0) return;
    // As the journal's JSON: a string crosses to the thread for the price of a copy.
    this.#writer.apply(records.map((r) => r.text), this.#seq);
    this.#handedOff.push({ seq: this.#seq, changes: this.#unappliedChanges, recent: this.#recent, position: lastPosition(records) });
    this.#unapplied = [];
    this.#unappliedChanges = 0;
    this.#recent = new PendingMessages();
  }

  /**
   * Starts the journal again once SQLite holds all of it durably. First the writer syncs SQLite
   * on the side; the commit after that hands it what came meanwhile and waits for a second
   * sync, which has little left to write (the first took the bulk of the WAL to disk). A
   * journal at RESTART_BY (a writer that cannot keep up) waits at once.
   */
  #restart(journal: ChangeJournal): void {
    if (this.#writer.durable >= this.#seq) {
      journal.restart();
      this.#syncAsked = undefined;
    } else if (this.#syncAsked === undefined && journal.bytes < RESTART_BY) {
      this.#handOff();
      this.#writer.sync();
      this.#syncAsked = this.#seq;
    } else if (journal.bytes >= RESTART_BY || (this.#syncAsked !== undefined && this.#writer.durable >= this.#syncAsked)) {
      try {
        this.#settle(journal, true);
      } catch (err) {
        // The journal has room to wait for a later round; at RESTART_BY the commit is refused.
        if (journal.bytes >= RESTART_BY) throw err;
      } finally {
        this.#syncAsked = undefined;
      }
    }
  }

  /** Forgets the records the writer has applied: SQLite answers for them now. */
  #dropApplied(): void {
    const applied = this.#writer.applied;
    while (this.#handedOff.length > 0 && this.#handedOff[0]!.seq <= applied) this.#handedOff.shift();
  }

  /** Changes handed to the writer and not applied yet. */
  #behind(): number {
    this.#dropApplied();
    let changes = 0;
    for (const h of this.#handedOff) changes += h.changes;
    return changes;
  }

  /**
   * Applies the journal's records to SQLite and waits until they are in (with `sync`, on disk,
   * and the journal starts again). When SQLite lacks room it is tried once more after the
   * journal gives back its spare space.
   */
  #settle(journal = this.#journal, sync = false): void {
    if (journal === undefined) return;
    this.#handOff();
    if (this.#behind() === 0 && !sync) {
      this.#mustApply = false;
      return;
    }
    try {
      this.#writer.flush(sync);
    } catch (err) {
      if (failureReason(err) !== "the disk is full") throw err;
      journal.releaseSpare();
      this.#writer.flush(sync);
    }
    this.#handedOff = [];
    this.#mustApply = false;
    if (sync) journal.restart();
  }

  /** Asks `ask` of the messages not in SQLite yet, newest first, and then of `stored`. */
  #lookUp<T>(ask: (layer: PendingMessages, below: () => T) => T, stored: () => T): T {
    if (this.#mustApply) this.#settle();
    this.#dropApplied();
    const handedOff = this.#handedOff;
    // Layer 0 is the store's own; then the handed-over ones from the newest.
    const from = (i: number): T =>
      i > handedOff.length ? stored() : ask(i === 0 ? this.#recent : handedOff[handedOff.length - i]!.recent, () => from(i + 1));
    return from(0);
  }

  /** Returns once the writer thread has applied what it was handed (not what waits in the journal still): tests copy the files then, as a crash would leave them. */
  quiesce(): void {
    if (this.#journal && this.#db.open) this.#writer.flush(false);
  }

  position(): LogPosition | undefined {
    const at = lastPosition(this.#unapplied) ?? this.#handedOff.findLast((h) => h.position)?.position;
    return at ? { ...at } : ((this.#position.get() as LogPosition | undefined) ?? undefined);
  }

  prune(retain: Retention, budget: number): number {
    this.#settle();
    return this.#writer.prune(retain, budget);
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
      this.#writer.touch();
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
    return this.#lookUp<StoredMessage | undefined>(
      (layer, below) => layer.message(id, below),
      () => {
        const row = this.#byId.get(id) as { conv: string; body: string } | undefined;
        return row && { key: row.conv, message: JSON.parse(row.body) as Message };
      },
    );
  }

  sentBy(sender: string, clientMsgId: string): Message | undefined {
    // A new id from a client whose ids rise (the SDK's): known absent without asking SQLite.
    if (this.#clientIds.unseen(sender, clientMsgId)) return undefined;
    return this.#lookUp<Message | undefined>(
      (layer, below) => layer.sentBy(sender, clientMsgId, below),
      () => {
        const row = this.#sentBy.get(sender, clientMsgId) as { body: string } | undefined;
        return row && (JSON.parse(row.body) as Message);
      },
    );
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
   * time, by the connection that writes, so that commits made meanwhile are carried into the
   * copy rather than starting it again), via a temporary file renamed into place, so that
   * `path` is only ever whole.
   */
  async backup(path: string): Promise<void> {
    this.#settle();
    const partial = `${path}.partial`;
    rmSync(partial, { force: true });
    createPrivate(partial);
    try {
      await this.#writer.backup(partial);
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
    // The writer's connection closes last, and so checkpoints the WAL into the file.
    this.#db.close();
    try {
      this.#writer.close();
    } catch {
      // What it could not apply is in the journal, for the next start.
    } finally {
      this.#release();
    }
  }
}
