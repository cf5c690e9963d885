/**
 * Retention: at start and then every minute, messages older than `retainDays` or beyond
 * the newest `retainMessages` of their conversation are deleted, a budget of rows at a
 * time, so that a first prune of a large file blocks the loop only briefly.
 */
import type { Logger } from "pino";
import { expireRecent } from "../core/expiry.js";
import type { ChatState } from "../core/model.js";
import { uuidv7Floor, type Retention } from "../store/retention.js";
import type { Store } from "../store/store.js";
import type { Timers } from "./timers.js";

/** Rows one pass may delete. */
const PRUNE_BUDGET = 5000;
const PRUNE_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export interface PruningOptions {
  store: Store;
  retainDays: number;
  retainMessages: number;
  timers: Timers;
  logger: Logger;
  /** The state, whose recent messages are trimmed too. */
  state(): ChatState;
  /** Writes are refused for now (read-only mode): the pass waits for the next minute. */
  refused(): boolean;
}

/** Starts the passes, when anything is to be deleted. */
export function startPruning(opts: PruningOptions): void {
  const { store, retainDays, retainMessages, timers, logger } = opts;
  if (retainDays <= 0 && retainMessages <= 0) return;
  /** A pass is under way, a budget at a time. */
  let pruning = false;
  const prune = (continuing: boolean): void => {
    if (pruning && !continuing) return;
    pruning = false;
    // The next minute tries again; a pass cut short here must not hold that off.
    if (opts.refused()) return;
    const retain: Retention = {};
    if (retainDays > 0) retain.beforeId = uuidv7Floor(Date.now() - retainDays * DAY_MS);
    if (retainMessages > 0) retain.keepPerConversation = retainMessages;
    // Once a pass: the state's recent messages are trimmed at once, the store a budget at a time.
    if (!continuing) expireRecent(opts.state(), retain);
    try {
      // A full pass means more is left: go on soon, without holding the loop.
      if (store.prune(retain, PRUNE_BUDGET) >= PRUNE_BUDGET) {
        pruning = true;
        timers.after(10, () => prune(true));
      }
    } catch (err) {
      logger.error({ err }, "could not delete expired messages");
    }
  };
  timers.after(0, () => prune(false));
  timers.every(PRUNE_INTERVAL_MS, () => prune(false));
}
