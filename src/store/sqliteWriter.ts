/**
 * Where a SqliteStore's writes run: on its own connection (InlineWriter, for `:memory:`), or
 * on a second connection in a thread of its own (ThreadWriter, for a file), so that applying
 * the journal to SQLite and checkpointing its WAL cost the event loop nothing.
 */
import type { Database } from "better-sqlite3";
import { SqliteApplier, type Batch } from "./sqliteApplier.js";
import type { Retention } from "./retention.js";

export const parseBatch = (b: Batch | string): Batch => (typeof b === "string" ? (JSON.parse(b) as Batch) : b);

export interface SqliteWriter {
  /**
   * Applies `batches` (each a Batch or its JSON) after those given before, with `seq` as the journal's last record they
   * hold. The inline writer applies them at once and throws when it cannot; the thread writer
   * applies them soon, keeps them on a failure and retries at the next `flush`.
   */
  apply(batches: readonly (Batch | string)[], seq?: number): void;
  /** The `seq` of the last batch applied, and of the last one synced. */
  readonly applied: number;
  readonly durable: number;
  /** Applies what was given and syncs it, on the side: `durable` tells when it is done. */
  sync(): void;
  /** Returns once everything given is applied (with `sync`, also on disk); throws the failure when it cannot. */
  flush(sync: boolean): void;
  /** See `Store.prune`; applies what was given first. */
  prune(retain: Retention, budget: number): number;
  /** A real write, synced (the probe's); applies what was given after it. */
  touch(): void;
  /** Writes a copy of the database to `path` (SQLite's online backup), including what was given before. */
  backup(path: string): Promise<void>;
  close(): void;
}

export class InlineWriter implements SqliteWriter {
  readonly #db: Database;
  readonly #applier: SqliteApplier;
  applied = 0;

  get durable(): number {
    return this.applied;
  }

  constructor(db: Database) {
    this.#db = db;
    this.#applier = new SqliteApplier(db);
  }

  apply(batches: readonly (Batch | string)[], seq?: number): void {
    this.#applier.commit(batches.map(parseBatch), seq);
    if (seq !== undefined) this.applied = seq;
  }

  flush(): void {}

  sync(): void {}

  prune(retain: Retention, budget: number): number {
    return this.#applier.prune(retain, budget);
  }

  touch(): void {
    this.#applier.touch();
  }

  async backup(path: string): Promise<void> {
    await this.#db.backup(path);
  }

  close(): void {}
}
