/**
 * Read-only mode: once a commit failed (disk full, I/O error), writes are refused until the
 * store takes one again, probed every `retryMs`.
 */
import type { Logger } from "pino";
import { failureReason } from "../store/failureReason.js";
import type { Store } from "../store/store.js";
import type { Timers } from "./timers.js";

export class ReadOnlyMode {
  readonly #store: Pick<Store, "probe">;
  readonly #retryMs: number;
  readonly #timers: Timers;
  readonly #logger: Logger;
  /** Why writes are refused (the store could not be written), and when the store is tried again. */
  #refused: { reason: string; retryAt: number } | undefined;

  constructor(store: Pick<Store, "probe">, retryMs: number, timers: Timers, logger: Logger) {
    this.#store = store;
    this.#retryMs = retryMs;
    this.#timers = timers;
    this.#logger = logger;
  }

  /** Why writes are refused for now, or undefined while they are not. */
  get reason(): string | undefined {
    return this.#refused?.reason;
  }

  /** Milliseconds until the store is tried again, or undefined while writes are not refused. */
  retryAfterMs(now: number): number | undefined {
    return this.#refused && Math.max(0, Math.ceil(this.#refused.retryAt - now));
  }

  enter(reason: string): void {
    this.#refused = { reason, retryAt: performance.now() + this.#retryMs };
    this.#timers.after(this.#retryMs, () => this.#probe());
  }

  /** Tries the store again; writes are accepted once it takes one. */
  #probe(): void {
    try {
      this.#store.probe();
    } catch (err) {
      return this.enter(failureReason(err));
    }
    this.#logger.warn("the database takes writes again; accepting them");
    this.#refused = undefined;
  }
}
