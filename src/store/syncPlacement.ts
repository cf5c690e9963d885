/**
 * Where the journal's next fdatasync runs. On the event loop it costs about half the CPU of
 * one on libuv's pool (no hand-off to a pool thread and wake-up back; measured in README),
 * but the loop waits for the disk meanwhile. So syncs run on the loop while the disk is
 * quick: while a moving average of their times stays within `loopUpToMs`. Once it does not,
 * they go to the pool for POOL_FOR_MS and the average starts again, so a slow disk holds the
 * event loop for a few syncs at most once in that time.
 */

/** How long syncs stay on the pool once the loop's were slow. */
export const POOL_FOR_MS = 10_000;
/**
 * The default `loopUpToMs`: several times what a sync takes on an SSD with nothing queued. On
 * this project's machine syncs took 0.25 ms at the median, but 2 % took over 1 ms, in bursts
 * (4, 2 and 7.5 ms within four syncs), which moved an average against 1 ms every few seconds.
 */
export const LOOP_SYNC_MS = 2;
/** Each sync's weight in the average (about the last 16): a lone slow sync does not move them; one over 16 times the limit does at once. */
const WEIGHT = 1 / 16;

export class SyncPlacement {
  readonly #loopUpToMs: number;
  readonly #now: () => number;
  #typicalMs = 0;
  #poolUntil = -Infinity;

  /** `loopUpToMs` 0: always on the pool. */
  constructor(loopUpToMs: number, now: () => number = () => performance.now()) {
    this.#loopUpToMs = loopUpToMs;
    this.#now = now;
  }

  get onLoop(): boolean {
    return this.#loopUpToMs > 0 && this.#now() >= this.#poolUntil;
  }

  /** A sync on the loop took `ms`. (A sync on the pool is not timed: a busy loop delays its callback, not the disk.) */
  tookOnLoop(ms: number): void {
    this.#typicalMs += (ms - this.#typicalMs) * WEIGHT;
    if (this.#typicalMs <= this.#loopUpToMs) return;
    this.#poolUntil = this.#now() + POOL_FOR_MS;
    this.#typicalMs = 0;
  }
}
