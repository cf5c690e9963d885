/**
 * The log of a single server: entries get their place in the process and are
 * delivered at once, within `append`. Nothing is kept: the store, which commits
 * each batch with its position, is what survives a restart.
 */
import type { CommandLog, EntryDraft, LogEntry } from "./commandLog.js";
import { compareEntryIds, formatEntryId, parseEntryId, type EntryId } from "./positions.js";

export const LOCAL_EPOCH = "local";

export class InProcessLog implements CommandLog {
  readonly epoch = LOCAL_EPOCH;
  readonly unavailable = undefined;
  #last: EntryId;
  readonly #followers = new Set<(entries: readonly LogEntry[]) => void>();
  #closed = false;

  /** `after`: ids continue above it (the position a store reached), even if the clock went back. */
  constructor(after?: string) {
    this.#last = after === undefined ? { ms: 0, seq: 0 } : parseEntryId(after);
  }

  now(): number {
    return Date.now();
  }

  append(draft: EntryDraft): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("the log is closed"));
    const now = Date.now();
    this.#last = now > this.#last.ms ? { ms: now, seq: 0 } : { ms: this.#last.ms, seq: this.#last.seq + 1 };
    const entries = [{ ...draft, id: formatEntryId(this.#last) }];
    for (const deliver of this.#followers) deliver(entries);
    return Promise.resolve();
  }

  /** Nothing is kept, so there is nothing before now to deliver: `after` only has to be where the ids already are. */
  follow(after: string | undefined, deliver: (entries: readonly LogEntry[]) => void): void {
    if (compareEntryIds(after, formatEntryId(this.#last)) > 0) this.#last = parseEntryId(after!);
    this.#followers.add(deliver);
  }

  head(): Promise<string | undefined> {
    return Promise.resolve(this.#last.ms === 0 ? undefined : formatEntryId(this.#last));
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#followers.clear();
    return Promise.resolve();
  }
}
