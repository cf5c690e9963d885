/**
 * Per-address quotas on what outlives a connection: accounts made permanent and
 * rooms created. Judged before a command is applied (enough allowance left?) and
 * charged after it (what it really made), so a failed request costs nothing.
 * Keys are client addresses (an IPv6 /64 is one key); idle keys are forgotten.
 */
import type { Command } from "../core/commands.js";
import type { ChatState, UserId } from "../core/model.js";
import { accountsMadePermanent } from "../core/writes.js";
import { Allowance } from "./rateLimit.js";

export interface QuotaOptions {
  accountsPerMinute: number;
  roomsPerMinute: number;
  /** Bytes of frames an address may send per second, sustained; four seconds' worth at once. */
  bytesPerSecond: number;
}

/** What a command may draw on: untouched accounts it could make permanent, and whether it creates a room. */
export interface Draw {
  accounts: UserId[];
  room: boolean;
}

export type QuotaVerdict = { ok: true } | { ok: false; retryAfterMs: number; what: "accounts" | "rooms" };

export function drawOf(state: ChatState, cmd: Command): Draw {
  return { accounts: accountsMadePermanent(state, cmd), room: cmd.type === "create_room" };
}

export class AddressQuotas {
  readonly #accounts: Buckets;
  readonly #rooms: Buckets;
  readonly #bytes: Buckets;

  constructor(opts: QuotaOptions) {
    this.#accounts = new Buckets(opts.accountsPerMinute / 60, opts.accountsPerMinute);
    this.#rooms = new Buckets(opts.roomsPerMinute / 60, opts.roomsPerMinute);
    this.#bytes = new Buckets(opts.bytesPerSecond, 4 * opts.bytesPerSecond);
  }

  /**
   * Charges a frame's bytes to its address before it is read: what every connection of
   * one address may make the server parse, validate and fan out, whatever the number of
   * connections. Returns 0, or how long to wait (the frame is then not read).
   */
  inbound(client: string, bytes: number, now: number): number {
    return this.#bytes.take(client, bytes, now);
  }

  /** Whether the address has the allowance `draw` needs; most commands need none. */
  check(client: string, draw: Draw, now: number): QuotaVerdict {
    if (draw.accounts.length > 0) {
      const wait = this.#accounts.wait(client, draw.accounts.length, now);
      if (wait > 0) return { ok: false, retryAfterMs: wait, what: "accounts" };
    }
    if (draw.room) {
      const wait = this.#rooms.wait(client, 1, now);
      if (wait > 0) return { ok: false, retryAfterMs: wait, what: "rooms" };
    }
    return { ok: true };
  }

  /** Charges what the command really made: the accounts of `draw` now touched, and a room if it made one. */
  charge(client: string, draw: Draw, state: ChatState, roomMade: boolean, now: number): void {
    if (draw.accounts.length === 0 && !draw.room) return;
    const made = draw.accounts.filter((id) => state.users.get(id)?.touched === true).length;
    if (made > 0) this.#accounts.spend(client, made, now);
    if (draw.room && roomMade) this.#rooms.spend(client, 1, now);
  }
}

/** One allowance per key, refilled at `perSecond` up to `burst`; full ones are dropped on a sweep. */
class Buckets {
  readonly #perSecond: number;
  readonly #burst: number;
  readonly #byKey = new Map<string, Allowance>();
  #sweepAt = 1024;

  constructor(perSecond: number, burst: number) {
    this.#perSecond = perSecond;
    this.#burst = burst;
  }

  wait(key: string, n: number, now: number): number {
    // More than a whole burst can never be there at once: wait for a full allowance instead.
    return this.#byKey.get(key)?.wait(Math.min(n, this.#burst), now) ?? 0;
  }

  /** Takes `n` now if they are there (returns 0), or returns how long to wait for them. */
  take(key: string, n: number, now: number): number {
    const wait = this.wait(key, n, now);
    if (wait === 0) this.spend(key, n, now);
    return wait;
  }

  spend(key: string, n: number, now: number): void {
    let a = this.#byKey.get(key);
    if (!a) {
      a = new Allowance(this.#perSecond, this.#burst, now);
      this.#byKey.set(key, a);
      if (this.#byKey.size >= this.#sweepAt) this.#sweep(now);
    }
    a.spend(n, now);
  }

  /** Forgets keys whose allowance is full again, so memory follows the addresses active lately. */
  #sweep(now: number): void {
    for (const [key, a] of this.#byKey) if (a.full(now)) this.#byKey.delete(key);
    this.#sweepAt = Math.max(1024, this.#byKey.size * 2);
  }
}
