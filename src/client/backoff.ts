/** Reconnect timing: capped exponential backoff with jitter, as a pure function of the attempt. */

export interface ReconnectOptions {
  /** Ceiling of the first wait; each further attempt doubles it. @default 500 */
  initialDelayMs?: number;
  /** The ceiling never grows past this. @default 10000 */
  maxDelayMs?: number;
  /** Give up (state `closed`) after this many failed attempts in a row. @default Infinity */
  maxAttempts?: number;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

export type Backoff = Readonly<Required<ReconnectOptions>>;

export const BACKOFF_DEFAULTS: Backoff = Object.freeze({
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  random: Math.random,
});

/** Fills in defaults and rejects settings that contradict each other. */
export function backoffOptions(options: ReconnectOptions = {}): Backoff {
  const o = { ...BACKOFF_DEFAULTS, ...options };
  const check = (name: string, value: number, ok: boolean): void => {
    if (!ok) throw new TypeError(`reconnect.${name} must be ${name === "maxAttempts" ? "an integer of at least 1 or Infinity" : "a finite number of at least 0"}; received ${String(value)}`);
  };
  check("initialDelayMs", o.initialDelayMs, Number.isFinite(o.initialDelayMs) && o.initialDelayMs >= 0);
  check("maxDelayMs", o.maxDelayMs, Number.isFinite(o.maxDelayMs) && o.maxDelayMs >= 0);
  check("maxAttempts", o.maxAttempts, o.maxAttempts === Number.POSITIVE_INFINITY || (Number.isInteger(o.maxAttempts) && o.maxAttempts >= 1));
  if (o.maxDelayMs < o.initialDelayMs) {
    throw new TypeError(`reconnect.maxDelayMs (${o.maxDelayMs}) must not be below reconnect.initialDelayMs (${o.initialDelayMs})`);
  }
  return Object.freeze(o);
}

/**
 * The wait before reconnect attempt `attempt` (1-based): a ceiling of
 * `initialDelayMs * 2^(attempt-1)`, capped at `maxDelayMs`, of which a random half is
 * added to the fixed half ("equal jitter"), so clients that dropped together do not
 * all come back in the same instant, and none retries in a tight loop.
 */
export function backoffDelay(attempt: number, o: Backoff): number {
  const ceiling = Math.min(o.maxDelayMs, o.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  const r = Math.min(Math.max(o.random(), 0), 1);
  return Math.round(ceiling / 2 + (r * ceiling) / 2);
}
