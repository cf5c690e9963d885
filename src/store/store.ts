/**
 * The storage seam: what the shell needs from persistence. SqliteStore (a file)
 * and MemoryStore (`:memory:`) implement it today; a shared store for cluster mode
 * would too, though it would need an asynchronous commit.
 */
import type { Change } from "../core/changes.js";
import type { ChatState } from "../core/model.js";
import type { HistoryReply } from "../protocol/wire.generated.js";

export interface Store {
  /** The durable part of the state, as the changes written so far left it. */
  load(): ChatState;
  /** Queues changes, in order; they become durable together at the next `commit`. */
  write(changes: readonly Change[]): void;
  /** Makes everything written so far durable, atomically. Throws when it cannot. */
  commit(): void;
  /** The highest message id stored, so that new ids sort after it even if the clock went back. */
  lastMessageId(): string | undefined;
  /** A page of a conversation's committed messages, oldest first. */
  page(key: string, limit: number, before?: string): HistoryReply;
  /** Releases the store; what was written but not committed is dropped (the hub commits first). */
  close(): void;
}
