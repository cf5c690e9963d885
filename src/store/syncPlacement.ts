/**
 * Where the journal's next fdatasync runs. On the event loop it costs about half the CPU of
 * one on libuv's pool (no hand-off to a pool thread and wake-up back; measured in README),
 * but the loop waits for the disk meanwhile. So syncs run on the loop only while the disk is
 * quick: one that takes longer than `loopUpToMs` sends them to the pool for POOL_FOR_MS, and
 * a slow disk holds the event loop for one sync at most once in that time.
 */

/** How long syncs stay on the pool after one on the loop was slow. */
export const POOL_FOR_MS = 10_000;
/** The default `loopUpToMs`: a few times what a sync takes on an SSD with nothing queued. */
export const LOOP_SYNC_MS = 1;

export class SyncPlacement {
  readonly #loopUpToMs: number;
  readonly #now: () => number;
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
    if (ms > this.#loopUpToMs) this.#poolUntil = this.#now() + POOL_FOR_MS;
  }
}
