/**
 * Token buckets. `Allowance` is the bucket itself: `burst` tokens at most,
 * refilled at `perSecond`. `TokenBucket` is the per-connection request limit on
 * top of it: a request over the allowance learns how long to wait, and a client
 * that keeps sending while refused is a flooder, which the caller closes.
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Refusals in a row after which the connection is closed with 1008. */
  closeAfter: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number; flooding: boolean };

export class Allowance {
  #tokens: number;
  #last: number;
  readonly #perSecond: number;
  readonly #burst: number;

  constructor(perSecond: number, burst: number, now: number) {
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#perSecond) / 1000);
    this.#last = now;
  }

  /** Milliseconds until `n` tokens are there at time `now` (ms); 0 when they are. */
  wait(n: number, now: number): number {
    this.#refill(now);
    return this.#tokens >= n ? 0 : Math.ceil(((n - this.#tokens) * 1000) / this.#perSecond);
  }

  /** Takes `n` tokens; the balance may go below zero (a command that made more than it was judged to). */
  spend(n: number, now: number): void {
    this.#refill(now);
    this.#tokens -= n;
  }

  /** Gives one token back (a request that turned out to be paid for from another allowance). */
  refund(now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }

  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.#burst;
  }
}

export class TokenBucket {
  readonly #allowance: Allowance;
  readonly #closeAfter: number;
  #refusedInARow = 0;

  constructor(opts: RateLimitOptions, now: number) {
    this.#allowance = new Allowance(opts.perSecond, opts.burst, now);
    this.#closeAfter = opts.closeAfter;
  }

  /** Takes one token at time `now` (ms), or says when one will be there. */
  take(now: number): Admission {
    const retryAfterMs = this.#allowance.wait(1, now);
    if (retryAfterMs === 0) {
      this.#allowance.spend(1, now);
      this.#refusedInARow = 0;
      return { ok: true };
    }
    return { ok: false, retryAfterMs, flooding: this.refused() };
  }

  /** Gives back the token of a frame paid for from another allowance. */
  refund(now: number): void {
    this.#allowance.refund(now);
  }

  /** Counts a refusal made for another reason (the address's allowance); true once the client is flooding. */
  refused(): boolean {
    return ++this.#refusedInARow > this.#closeAfter;
  }
}
