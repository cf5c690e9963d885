/**
 * The storage seam: what the shell needs from persistence. SqliteStore (a file)
 * and MemoryStore (`:memory:`) implement it. In a cluster every node keeps its own
 * store, a replica of what the shared command log built, and commits with each
 * batch the log position it reached.
 */
import type { Change } from "../core/changes.js";
import type { StoredMessage } from "../core/commands.js";
import type { ChatState } from "../core/model.js";
import type { HistoryReply, Message } from "../protocol/wire.generated.js";
import type { Retention } from "./retention.js";

/** Which log a store follows (`epoch`) and the last entry it applied (`entry`, a stream id `<ms>-<seq>`). */
export interface LogPosition {
  epoch: string;
  entry: string;
}

export interface Store {
  /** Whether a commit reaches a disk (an fsync): only then is it worth waiting to share one (the hub's commit window). */
  readonly syncs: boolean;
  /** The durable part of the state, as the changes written so far left it; with `sessions`, also the stored sessions and guest accounts. */
  load(sessions?: boolean): ChatState;
  /** Queues changes, in order; they become durable together at the next `commit`. */
  write(changes: readonly Change[]): void;
  /**
   * Makes everything written so far durable, atomically, with `position` when given.
   * Throws when it cannot: that batch is then dropped, none of it stored, and later commits work.
   */
  commit(position?: LogPosition): void;
  /**
   * As `commit`, with the wait for the disk off the event loop where the store finds that pays
   * (SqliteStore: while its syncs are slow): a promise that resolves once the batch is durable,
   * or undefined when it already is (and a throw, as `commit`'s, when it could not be).
   * Until it settles the store takes writes, reads and lookups, which do not see the batch,
   * but no other commit. On a rejection that batch and everything written after it are dropped.
   */
  commitAsync?(position?: LogPosition): Promise<void> | undefined;
  /** The position last committed, if any. */
  position(): LogPosition | undefined;
  /** A stored (committed) message by its id, with its conversation's key. */
  message(id: string): StoredMessage | undefined;
  /** The message `sender` sent with `clientMsgId`, if it is stored (committed). */
  sentBy(sender: string, clientMsgId: string): Message | undefined;
  /** The highest message id stored, so that new ids sort after it even if the clock went back. */
  lastMessageId(): string | undefined;
  /** No account, room or message stored: a cluster node with this store can replay the log from its start. */
  isEmpty(): boolean;
  /**
   * A page of a conversation's committed messages, oldest first: the newest `limit` below
   * `before`, or with `after` the oldest `limit` above it (and below `before`). `has_more`
   * says whether more lie beyond the page in the direction read (older, or with `after` newer).
   */
  page(key: string, limit: number, before?: string, after?: string): HistoryReply;
  /**
   * Deletes committed messages older than `retain.beforeId` (see `uuidv7Floor`) and beyond the
   * newest `retain.keepPerConversation` of each conversation, oldest first. It works through
   * the conversations in rounds, a part per call, each call going on where the last stopped,
   * and deletes at most `budget` rows and looks at at most `budget` conversations per call.
   * Returns the rows deleted when the call reached the end of a round, or `budget` when it
   * stopped for the budget first: call again soon while it returns `budget`.
   */
  prune(retain: Retention, budget: number): number;
  /** Returns when the store can take a write now; throws StoreError with a short reason when it cannot. */
  probe(): void;
  /** Writes a consistent copy of the stored data to a new SQLite file at `path`; absent where there is nothing on disk to copy. */
  backup?(path: string): Promise<void>;
  /** Releases the store; what was written but not committed is dropped (the hub commits first). */
  close(): void;
}
