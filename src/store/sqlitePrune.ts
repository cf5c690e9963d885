/**
 * Retention for the SQLite store. Every deletion takes the oldest rows of one
 * conversation through the (conv, id) primary key, so a call costs its budget, never
 * a scan of the table. For the count rule it learns how many messages a conversation
 * holds by counting its newest rows once, in steps, then keeps that count up to date
 * as messages are committed and pruned (new ids always sort above the stored ones).
 */
import type { Database, Statement } from "better-sqlite3";
import type { Change } from "../core/changes.js";
import { directKey } from "../core/model.js";
import { PruneRounds, type Visit } from "./pruneRounds.js";
import type { Retention } from "./retention.js";

/** Sorts above every id, as a "no upper bound". */
const TOP = "\uffff";
/** Rows a call may count per row of budget: counting one costs about a quarter of deleting one (~1 µs against ~5 µs, measured). */
const COUNTED_PER_DELETED = 4;

/** The conversation after a key: one seek of the primary key per conversation, whatever their sizes. */
export const NEXT_CONVERSATION_SQL = "SELECT conv FROM messages WHERE conv > ? ORDER BY conv LIMIT 1";
/** One counting step: up to :n rows below :floor, newest first, and the lowest of them. */
export const COUNT_NEWEST_SQL =
  "SELECT count(*) AS n, min(id) AS low FROM (SELECT id FROM messages WHERE conv = :conv AND id < :floor ORDER BY id DESC LIMIT :n)";
/** The oldest :n rows below :below (written without DELETE … LIMIT, which not every SQLite build has). */
export const DELETE_OLDEST_SQL =
  "DELETE FROM messages WHERE conv = :conv AND id IN (SELECT id FROM messages WHERE conv = :conv AND id < :below ORDER BY id LIMIT :n)";

/** Exactly `above` rows have ids at or above `floor`; those below it are not counted yet (none when `floor` is undefined). */
interface Census {
  above: number;
  floor: string | undefined;
}

/** What one call may still do beyond deleting: count rows. */
interface CallRules {
  beforeId: string | undefined;
  keep: number;
  countLeft: number;
}

export class SqlitePrune {
  readonly #census = new Map<string, Census>();
  readonly #rounds = new PruneRounds();
  readonly #next: Statement<[string]>;
  readonly #count: Statement<[{ conv: string; floor: string; n: number }]>;
  readonly #delete: Statement<[{ conv: string; below: string; n: number }]>;
  readonly #run: (retain: Retention, budget: number) => number;

  constructor(db: Database) {
    this.#next = db.prepare(NEXT_CONVERSATION_SQL);
    this.#count = db.prepare(COUNT_NEWEST_SQL);
    this.#delete = db.prepare(DELETE_OLDEST_SQL);
    // One transaction per call: one fsync however many conversations it touched.
    this.#run = db.transaction((retain: Retention, budget: number) => {
      const rules: CallRules = { beforeId: retain.beforeId, keep: retain.keepPerConversation ?? 0, countLeft: budget * COUNTED_PER_DELETED };
      const next = (after: string | undefined) => (this.#next.get(after ?? "") as { conv: string } | undefined)?.conv;
      return this.#rounds.run(budget, next, (key, limit) => this.#visit(key, limit, rules));
    });
  }

  /** See `Store.prune`. */
  prune(retain: Retention, budget: number): number {
    if (budget <= 0 || (retain.beforeId === undefined && (retain.keepPerConversation ?? 0) <= 0)) return 0;
    try {
      return this.#run(retain, budget);
    } catch (err) {
      // The transaction was rolled back, and with it what the counts had learnt.
      this.#census.clear();
      throw err;
    }
  }

  /** Keeps the counts right once a batch is committed. */
  committed(batch: readonly Change[]): void {
    if (this.#census.size === 0) return;
    for (const c of batch) {
      if (c.type === "message_added") {
        const census = this.#census.get(c.key);
        if (census) census.above++;
      } else if (c.type === "room_deleted") this.#census.delete(c.id);
      // A message deleted by hand: the count is taken again when the conversation's turn comes.
      else if (c.type === "message_deleted") this.#census.delete(c.key);
      else if (c.type === "direct_pair_deleted") this.#census.delete(directKey(c.a, c.b));
    }
  }

  #visit(conv: string, limit: number, rules: CallRules): Visit {
    let deleted = 0;
    const drop = (below: string, n: number): number => {
      const d = n > 0 ? this.#delete.run({ conv, below, n }).changes : 0;
      deleted += d;
      return d;
    };
    const unfinished = (): Visit => ({ deleted, finished: false });

    let census = this.#census.get(conv);
    if (rules.keep > 0) {
      if (!census) {
        if (rules.countLeft <= 0) return unfinished();
        census = { above: 0, floor: TOP };
        this.#census.set(conv, census);
      }
      // Count down from the newest until `keep` rows are counted or none is left.
      while (census.floor !== undefined && census.above < rules.keep) {
        if (rules.countLeft <= 0) return unfinished();
        const n = Math.min(rules.keep - census.above, rules.countLeft);
        const step = this.#count.get({ conv, floor: census.floor, n }) as { n: number; low: string | null };
        rules.countLeft -= Math.max(1, step.n);
        census.above += step.n;
        census.floor = step.n < n ? undefined : step.low!;
      }
      // Whatever is below the floor is older than `keep` counted rows.
      if (census.floor !== undefined) {
        if (drop(census.floor, limit) === limit) return unfinished();
        census.floor = undefined;
      }
      census.above -= drop(TOP, Math.min(census.above - rules.keep, limit - deleted));
      if (census.above > rules.keep) return unfinished();
    } else if (census) {
      // Deleting by age alone would leave the count wrong: count again when the count rule returns.
      this.#census.delete(conv);
      census = undefined;
    }
    if (rules.beforeId !== undefined) {
      const room = limit - deleted;
      if (room <= 0) return unfinished();
      const d = drop(rules.beforeId, room);
      if (census) census.above -= d;
      if (d === room) return unfinished();
    }
    return { deleted, finished: true };
  }
}
