/**
 * What writes to a SQLite connection: committed batches (a journal's records, or a batch
 * straight from the hub), retention, and the probe's test write. It runs on the
 * store's own connection for `:memory:` and in the writer thread for a file.
 */
import type { Database } from "better-sqlite3";
import type { Change } from "../core/changes.js";
import { directKey } from "../core/model.js";
import { SCHEMA_VERSION } from "./migrations.js";
import type { Retention } from "./retention.js";
import { SqlitePrune } from "./sqlitePrune.js";
import type { LogPosition } from "./store.js";

/** Changes committed together, with the log position they reach. */
export interface Batch {
  changes: Change[];
  position?: LogPosition;
}

export class SqliteApplier {
  readonly #prune: SqlitePrune;
  readonly #commit: (batches: readonly Batch[], seq?: number) => void;
  readonly #touch: () => void;

  constructor(db: Database) {
    this.#prune = new SqlitePrune(db);
    // The smallest real write: the schema version rewritten to itself.
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
    const editMessage = s("UPDATE messages SET body = ? WHERE conv = ? AND id = ?");
    const deleteMessage = s("DELETE FROM messages WHERE conv = ? AND id = ?");
    const putSession = s("INSERT OR REPLACE INTO sessions (conn, user_id) VALUES (?, ?)");
    const deleteSession = s("DELETE FROM sessions WHERE conn = ?");
    const putGuest = s("INSERT OR REPLACE INTO guests (id, token_hash) VALUES (?, ?)");
    const deleteGuest = s("DELETE FROM guests WHERE id = ?");
    const setPosition = s("INSERT OR REPLACE INTO log_position (one, epoch, entry) VALUES (1, ?, ?)");
    const setSeq = s("UPDATE journal_seq SET seq = ? WHERE one = 1");

    const apply: { [T in Change["type"]]: (c: Extract<Change, { type: T }>) => void } = {
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
    this.#commit = db.transaction((batches: readonly Batch[], seq?: number) => {
      let position: LogPosition | undefined;
      for (const b of batches) {
        for (const c of b.changes) (apply[c.type] as (c: Change) => void)(c);
        position = b.position ?? position;
      }
      if (position) setPosition.run(position.epoch, position.entry);
      if (seq !== undefined) setSeq.run(seq);
    });
  }

  /** Commits `batches` in one transaction, with `seq` as the last journal record SQLite holds. Throws when it cannot, changing nothing. */
  commit(batches: readonly Batch[], seq?: number): void {
    this.#commit(batches, seq);
    for (const b of batches) this.#prune.committed(b.changes);
  }

  /** See `Store.prune`. */
  prune(retain: Retention, budget: number): number {
    return this.#prune.prune(retain, budget);
  }

  /** A real write (the writer thread then syncs it): what `Store.probe` tries. */
  touch(): void {
    this.#touch();
  }
}
