/**
 * The command log: the seam where commands become durable and ordered before their
 * effects are sent. The in-memory log keeps nothing; SQLite and Redis Streams
 * implement the same interface.
 */
import type { Command } from "../core/commands.js";

export interface CommandLog {
  /** Records a command that changed (or may have changed) state, in the order applied. */
  append(cmd: Command): void;
  /** Resolves once every appended command is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Keeps nothing: state lives only as long as the process. */
export class MemoryLog implements CommandLog {
  append(_cmd: Command): void {}
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}
