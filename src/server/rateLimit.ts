/**
 * A token bucket per connection: `burst` requests at once, refilled at `perSecond`.
 * A request over the allowance learns how long to wait; a client that keeps
 * sending while refused is a flooder, and the caller closes it.
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Refusals in a row after which the connection is closed with 1008. */
  closeAfter: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number; flooding: boolean };

export class TokenBucket {
  #tokens: number;
  #last: number;
  #refusedInARow = 0;
  readonly #opts: RateLimitOptions;

  constructor(opts: RateLimitOptions, now: number) {
    this.#opts = opts;
    this.#tokens = opts.burst;
    this.#last = now;
  }

  /** Takes one token at time `now` (ms), or says when one will be there. */
  take(now: number): Admission {
    const { perSecond, burst, closeAfter } = this.#opts;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#last) * perSecond) / 1000);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#refusedInARow = 0;
      return { ok: true };
    }
    this.#refusedInARow++;
    const retryAfterMs = Math.ceil(((1 - this.#tokens) * 1000) / perSecond);
    return { ok: false, retryAfterMs, flooding: this.#refusedInARow > closeAfter };
  }
}
