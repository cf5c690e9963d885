/**
 * The walk both stores share for `prune`: rounds over the conversations in key order,
 * a bounded part of a round per call, each call going on from where the last one
 * stopped, so that every conversation gets its turn however large the store.
 */

/** One conversation's share of a call: rows deleted, and whether it has nothing more to drop for now. */
export interface Visit {
  deleted: number;
  finished: boolean;
}

export class PruneRounds {
  /** The last conversation finished in this round; undefined at the start of one. */
  #after: string | undefined;

  /**
   * Visits at most `budget` conversations, letting them delete at most `budget` rows in all.
   * Returns the rows deleted when it reached the end of the round (the next call starts
   * another), or `budget` when it stopped for the budget first (so the caller comes back soon).
   * `next(after)` is the first conversation key above `after` (the first of all when undefined).
   */
  run(budget: number, next: (after: string | undefined) => string | undefined, visit: (key: string, limit: number) => Visit): number {
    let deleted = 0;
    for (let visits = 0; visits < budget; visits++) {
      const key = next(this.#after);
      if (key === undefined) {
        this.#after = undefined;
        return deleted;
      }
      const v = visit(key, budget - deleted);
      deleted += v.deleted;
      // An unfinished conversation is where the next call starts again.
      if (!v.finished) return budget;
      this.#after = key;
      if (deleted >= budget) return budget;
    }
    return budget;
  }
}
