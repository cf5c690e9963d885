/**
 * A connection as the hub holds it: its peer, its own rate allowances, the address it
 * comes from, and its line: its requests in the order it made them, each answered only
 * after every earlier one, so that its replies keep that order.
 */
import type { Logger } from "pino";
import type { ConnId, UserId } from "../core/model.js";
import type { RequestEvent } from "../protocol/events.js";
import type { Ref } from "../protocol/wire.generated.js";
import type { Minter } from "./identities.js";
import { Allowance, TokenBucket, type RateLimitOptions } from "./rateLimit.js";

/** What the hub needs of a connection. */
export interface Peer {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/**
 * One request (or a connection's start) on its way through the log; a connection's
 * tickets are answered in order. A read waits in line as a ticket with `run`.
 */
export type Ticket = {
  conn: ConnId;
  request?: RequestEvent;
  ref?: Ref;
  done: boolean;
  run?: () => void;
  /**
   * What was minted for it, with the plain tokens its replies hand out: kept here, not in
   * the command, which goes to the log. Only this node renders those replies (they go to
   * its own connections), so nothing else needs them.
   */
  minted?: Minter;
  /** The connections a guest-moving command moved and the account each had, should its commit fail (single server). */
  restore?: Map<ConnId, UserId>;
};

/** Typing notices a connection may send per second, and at once: its own allowance, apart from other requests. */
const TYPING_PER_SECOND = 1;
const TYPING_BURST = 3;

export class Connection {
  readonly id: ConnId;
  readonly peer: Peer;
  /** Where the connection comes from (its IP address, an IPv6 /64), for per-address quotas. */
  readonly client: string;
  readonly bucket: TokenBucket;
  readonly typing: Allowance;
  readonly #line: Ticket[] = [];

  constructor(id: ConnId, peer: Peer, client: string, rate: RateLimitOptions, now: number) {
    this.id = id;
    this.peer = peer;
    this.client = client;
    this.bucket = new TokenBucket(rate, now);
    this.typing = new Allowance(TYPING_PER_SECOND, TYPING_BURST, now);
  }

  /** A write (or the connection's start) takes its place in line. */
  join(ticket: Ticket): void {
    this.#line.push(ticket);
  }

  /** Runs `answer` now when nothing is ahead of it, or else once everything ahead of it is answered. */
  inTurn(answer: () => void): void {
    if (this.#line.length === 0) return answer();
    this.#line.push({ conn: "", done: true, run: answer });
  }

  /** Every request before `ticket` is answered. */
  isNext(ticket: Ticket): boolean {
    return this.#line[0] === ticket;
  }

  /** Runs, in order, what waited for the tickets now done. */
  drain(logger: Logger): void {
    const line = this.#line;
    while (line.length > 0 && line[0]!.done) {
      const run = line.shift()!.run;
      try {
        run?.();
      } catch (err) {
        logger.error({ err }, "a read failed");
      }
    }
  }
}
