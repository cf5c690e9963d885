/**
 * The outbox: deliveries held until the store has committed what was applied before
 * them, so that a reply means stored. After a commit, later ones wait `windowMs` for
 * company (one fsync for all, as PostgreSQL's commit_delay), and what they caused waits
 * with them. A read answered meanwhile is built when it is sent, so that it sees the
 * commit before it. A failed commit turns what it held into `unavailable` answers.
 *
 * A commit may finish later (the store's fsync may run off the event loop): batches applied
 * meanwhile wait for the next commit, which starts once this one is done (group commit).
 */
import type { ConnId } from "../core/model.js";
import type { RequestEvent } from "../protocol/events.js";
import type { Ref } from "../protocol/wire.generated.js";
import type { Peer } from "./connection.js";
import { retryLater } from "./envelope.js";

/** The store's side of the outbox. */
export interface Committer {
  /** Changes were written since the last commit: what is sent now must follow their commit, and reads must see them. */
  written(): boolean;
  /** Something applied awaits a commit: written changes, or (a cluster node) the log position reached. */
  pending(): boolean;
  /**
   * Commits what was applied; called only while `pending`. Returns a promise when the commit
   * is done only once it resolves. A failure is the committer's to handle (the promise
   * still resolves): it rolls the outbox back, or stops it.
   */
  commit(): void | Promise<void>;
}

/** The request that caused a delivery (a write, or a read answered while a commit is under way): answered `unavailable` in its place should the commit fail. */
export interface Cause {
  conn: ConnId;
  request?: RequestEvent;
  ref?: Ref;
}

/** A frame, or a read to build when it is sent, and the peers it goes to; `cause` when a request caused it. */
type Delivery<C> = { text: string | (() => string); peers: Peer[]; cause?: C };

export interface OutboxOptions {
  committer: Committer;
  /** How long after a commit later changes wait to be committed together; 0 commits each applied batch at once. */
  windowMs: number;
  /** A connection's peer, while it is open. */
  peerOf(conn: ConnId): Peer | undefined;
  /** Frames handed to peers. */
  delivered(count: number): void;
  /** After each commit, once what waited for it has gone out: `everything` when nothing is left waiting for a later one. */
  afterCommit(everything: boolean): void;
}

export class Outbox<C extends Cause = Cause> {
  readonly #opts: OutboxOptions;
  #held: Array<Delivery<C>> = [];
  /** A batch is being applied: what it sends follows its commit. */
  #applying = false;
  /** When the store last committed, and the timer of the next commit while the window since then is open. */
  #committedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  /** A commit still under way, and how many of the held deliveries wait for it (the rest wait for the next). */
  #committing: Promise<void> | undefined;
  #covered = 0;
  /** Memory went ahead of the disk for good: nothing more is sent. */
  #stopped = false;

  constructor(opts: OutboxOptions) {
    this.#opts = opts;
  }

  /** Something applied waits for its commit: what is sent now must follow it, and reads must see it. */
  get waiting(): boolean {
    return this.#applying || this.#committing !== undefined || this.#opts.committer.written() || this.#held.length > 0;
  }

  /** Sends at once when nothing waits for a commit; otherwise after it, keeping the order. */
  send(peers: Peer[], text: string | (() => string), cause?: C): void {
    if (this.#stopped) return;
    if (!this.waiting) {
      const t = typeof text === "string" ? text : text();
      for (const p of peers) p.send(t);
      this.#opts.delivered(peers.length);
      return;
    }
    this.#held.push(cause ? { text, peers, cause } : { text, peers });
  }

  /**
   * Applies a batch (`apply`), then commits it and sends what it caused: at once, or, when
   * the store committed less than `windowMs` ago, when that window closes, together with
   * whatever else is applied meanwhile. Nothing waiting is sent before its commit.
   */
  apply(apply: () => void): void {
    this.#applying = true;
    try {
      apply();
    } finally {
      this.#applying = false;
    }
    // A commit under way: the next one starts when it is done.
    if (this.#committing) return;
    this.#commitSoon();
  }

  /** Commits now what waits for the window to close (at shutdown); resolves once nothing waits for a commit. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#timer !== undefined) this.#commitAndSend();
      if (!this.#committing) return;
      await this.#committing;
    }
  }

  /**
   * A commit failed: nothing it held may be claimed. Each request's deliveries (a write's,
   * or a read's answered meanwhile, which saw what is lost) become one `unavailable` answer
   * to its requester, if still connected; what no request caused still goes. Returns those requests.
   */
  rollBack(reason: string, retryMs: number): C[] {
    const lost = new Set<C>();
    const kept: Array<Delivery<C>> = [];
    for (const d of this.#held) {
      if (!d.cause) {
        kept.push(d);
        continue;
      }
      if (lost.has(d.cause)) continue;
      lost.add(d.cause);
      const peer = this.#opts.peerOf(d.cause.conn);
      const message = `The server could not store this (${reason}); nothing was applied. Retry in ${retryMs} ms.`;
      if (peer) kept.push({ text: retryLater("unavailable", d.cause.request, message, retryMs, d.cause.ref), peers: [peer] });
    }
    this.#held = kept;
    return [...lost];
  }

  /** Memory is ahead of the disk and cannot be brought back: nothing held or later is sent. */
  stop(): void {
    this.#stopped = true;
    this.#held = [];
  }

  /** Commits at once, or when the window since the last commit closes. */
  #commitSoon(): void {
    const wait = this.#committedAt + this.#opts.windowMs - performance.now();
    if (wait <= 0 || !this.#opts.committer.pending()) return this.#commitAndSend();
    this.#timer ??= setTimeout(() => this.#commitAndSend(), wait);
  }

  #commitAndSend(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#committing) return;
    if (this.#opts.committer.pending()) {
      this.#committedAt = performance.now();
      const done = this.#opts.committer.commit();
      if (done) {
        this.#covered = this.#held.length;
        this.#committing = done.then(() => this.#done());
        return;
      }
    }
    this.#sendHeld(this.#held.length);
    this.#opts.afterCommit(true);
  }

  /** The commit under way is done (or was rolled back): what waited for it goes, and what came since waits for the next. */
  #done(): void {
    this.#committing = undefined;
    if (this.#stopped) return;
    // After a rollback nothing is pending any more: all that is left may go.
    const everything = !this.#opts.committer.pending();
    this.#sendHeld(everything ? this.#held.length : Math.min(this.#covered, this.#held.length));
    this.#opts.afterCommit(everything);
    if (!everything) this.#commitSoon();
  }

  /** Sends the first `count` held deliveries. */
  #sendHeld(count: number): void {
    const held = this.#held.splice(0, count);
    if (this.#stopped) return;
    let frames = 0;
    for (const d of held) {
      const text = typeof d.text === "string" ? d.text : d.text();
      for (const p of d.peers) p.send(text);
      frames += d.peers.length;
    }
    this.#opts.delivered(frames);
  }
}
