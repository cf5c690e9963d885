/**
 * The command log: one order for every command that changes state. A server appends
 * the commands of each event-loop turn as one entry and applies entries only as the
 * log delivers them, its own included, so that every node of a cluster applies the
 * same commands in the same order. Two implementations share one contract: an
 * in-process log (a single server) and a Redis Stream (a cluster).
 */
import type { Command } from "../core/commands.js";
import type { NodeId } from "../core/model.js";

export interface LogEntry {
  /** The entry's place, a stream id `<ms>-<seq>`; increasing along the log. */
  id: string;
  /** The node that appended it. */
  node: NodeId;
  /** That node's number for the batch, so that it can tell its own entries from a restart's. */
  batch: number;
  /** Log time (ms) by which the entry had to be placed: every node ignores one placed later. */
  deadline: number;
  commands: Command[];
}

export type EntryDraft = Omit<LogEntry, "id">;

export interface CommandLog {
  /** Names the log, so that a store that followed another log is not applied to this one. */
  readonly epoch: string;
  /** Why appends would fail now (the log cannot be reached, or is not the one it was), or undefined. */
  readonly unavailable: string | undefined;
  /** The log's clock, in ms: deadlines are judged by it. */
  now(): number;
  /**
   * Appends an entry. Resolves once it has its place; rejects with NotAppended when it surely
   * has none, and with another error when that is not known (its deadline then decides).
   * The entry may be delivered before this resolves.
   */
  append(entry: EntryDraft): Promise<void>;
  /**
   * Delivers every entry after `after` (all when undefined), in order and in batches, now and as
   * they are appended, until closed. Entries without commands may come too (the Redis log begins with one).
   */
  follow(after: string | undefined, deliver: (entries: readonly LogEntry[]) => void): void;
  /** The newest entry's id now: a starting node is caught up once it has applied it. */
  head(): Promise<string | undefined>;
  close(): Promise<void>;
}

/** An append that certainly did not reach the log (nothing was sent, or the log refused it): its commands may be answered at once. */
export class NotAppended extends Error {
  override name = "NotAppended";
}
