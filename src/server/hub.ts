/**
 * The imperative shell around the pure core: turns frames into commands, applies
 * them with `reduce`, makes their changes durable and fans the outbound messages
 * out to connections. It knows connections only as `Peer`s, not sockets.
 *
 * Durability rule: nothing a command caused is sent before its changes are
 * committed. Changes are committed once per event-loop turn (group commit), so
 * one fsync covers every command that arrived in that turn.
 */
import type { Logger } from "pino";
import type { Options } from "../config.js";
import { v4 as uuidv4 } from "uuid";
import { forEachConn } from "../core/audience.js";
import type { Command, NewAccount } from "../core/commands.js";
import { expireRecent } from "../core/expiry.js";
import { conversationOf } from "../core/messages.js";
import type { ChatState, ConnId, Limits, UserId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { carryConnections } from "../core/rollback.js";
import { mayWrite } from "../core/writes.js";
import { errorData, type ErrorCode } from "../protocol/errors.js";
import { isRequestEvent, type RequestEvent } from "../protocol/events.js";
import { isValidRef, readFrame, type FrameLimits } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import type { Ref } from "../protocol/wire.generated.js";
import { failureReason } from "../store/failureReason.js";
import { uuidv7Floor, type Retention } from "../store/retention.js";
import type { Store } from "../store/store.js";
import { AddressQuotas, drawOf } from "./addressQuotas.js";
import { toAction, type Query } from "./handlers.js";
import { MessageIds } from "./messageIds.js";
import { TokenBucket, type RateLimitOptions } from "./rateLimit.js";
import { fitPage, fitRecent, fitRooms, withinBudget } from "./replyBudget.js";
import { hashToken, mintToken } from "./tokens.js";

/** What the hub needs of a connection. */
export interface Peer {
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** Hooks for metrics; every method is optional to implement as a no-op. */
export interface HubObserver {
  /** One per text or binary frame received: its event (or "invalid") and "ok" or the error code. */
  request(event: string, outcome: "ok" | ErrorCode): void;
  /** Frames handed to connections. */
  delivered(count: number): void;
}

/** Hub settings beyond the core's limits, as the server's options name them. */
export type HubLimits = Pick<Options, "accountsPerMinutePerIp" | "roomsPerMinutePerIp" | "bytesPerSecondPerIp" | "maxReplyBytes" | "retainDays" | "retainMessages">;

export interface HubOptions {
  validators: Validators;
  store: Store;
  logger: Logger;
  openAuth: boolean;
  limits: Limits & FrameLimits & HubLimits;
  rate: RateLimitOptions;
  observer?: HubObserver;
  /** How long writes stay refused after the store failed, before it is tried again. @default 2000 */
  retryMs?: number;
  /** Called when the state could not be rebuilt after a failed commit: the process must stop. */
  onFatal(err: unknown): void;
}

/** A request whose changes wait for a commit: if the commit fails, it is answered `unavailable` instead. */
type Writer = { peer: Peer; request: string; ref?: Ref; restore?: Map<ConnId, UserId> };

/** A serialised message and the peers it goes to, resolved when the command was applied; `cause` when a write caused it. */
type Delivery = { text: string; peers: Peer[]; cause?: Writer };

/** `client` names where the connection comes from (its IP address, an IPv6 /64), for per-address quotas. */
type Connection = { peer: Peer; bucket: TokenBucket; client: string };

function envelope(event: string, data: unknown, ref?: Ref): string {
  return JSON.stringify(ref === undefined ? { event, data } : { event, data, ref });
}

/** An error that means "not applied, try again in `retryAfterMs`", as a frame. */
function retryLater(code: "rate_limited" | "unavailable", request: string | undefined, message: string, retryAfterMs: number, ref: Ref | undefined): string {
  return envelope("error", errorData(code, request, message, { retry_after_ms: retryAfterMs }), ref);
}

/** The ref and request name of a frame that will not be read further, as far as they are valid. */
function glance(raw: string | Buffer, isBinary: boolean): { ref?: Ref; request?: string } {
  if (isBinary) return {};
  try {
    const parsed = JSON.parse(String(raw)) as { ref?: unknown; event?: unknown } | null;
    const found: { ref?: Ref; request?: string } = {};
    if (isValidRef(parsed?.ref)) found.ref = parsed.ref;
    if (typeof parsed?.event === "string" && isRequestEvent(parsed.event)) found.request = parsed.event;
    return found;
  } catch {
    // Not JSON: there is nothing to echo.
    return {};
  }
}

/** Largest refused frame still parsed for its ref: beyond this, parsing would cost what the refusal saves. */
const GLANCE_BYTES = 4096;

const NO_OBSERVER: HubObserver = { request() {}, delivered() {} };

/** Rows one retention pass may delete, so that a first prune of a large file blocks the loop only briefly. */
const PRUNE_BUDGET = 5000;
const PRUNE_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export class Hub {
  #state: ChatState;
  readonly #conns = new Map<ConnId, Connection>();
  /** Tokens minted for the welcome or replace_token reply being built; never logged or stored. */
  readonly #pendingTokens = new Map<UserId, string>();
  readonly #opts: HubOptions;
  readonly #observer: HubObserver;
  readonly #quotas: AddressQuotas;
  /** Deliveries waiting for the commit of the changes that caused them. */
  #outbox: Delivery[] = [];
  #uncommitted = false;
  #flushScheduled = false;
  /** Why writes are refused (the store could not be written), and when the store is tried again. */
  #readOnly: { reason: string; retryAt: number } | undefined;
  /** Set when the state could not be rebuilt after a failed commit: from then on nothing is applied or sent. */
  #failed = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** A retention pass is under way, a budget at a time. */
  #pruning = false;
  #nextConn = 1;
  readonly #messageIds: MessageIds;

  constructor(opts: HubOptions) {
    this.#opts = opts;
    this.#observer = opts.observer ?? NO_OBSERVER;
    this.#state = this.#load();
    this.#messageIds = new MessageIds(opts.store.lastMessageId());
    const { accountsPerMinutePerIp, roomsPerMinutePerIp, bytesPerSecondPerIp, retainDays, retainMessages } = opts.limits;
    this.#quotas = new AddressQuotas({ accountsPerMinute: accountsPerMinutePerIp, roomsPerMinute: roomsPerMinutePerIp, bytesPerSecond: bytesPerSecondPerIp });
    if (retainDays > 0 || retainMessages > 0) {
      this.#after(0, () => this.#prune());
      this.#every(PRUNE_INTERVAL_MS, () => this.#prune());
    }
  }

  /** Read-only view for diagnostics and tests. */
  get state(): Readonly<ChatState> {
    return this.#state;
  }

  get connectionCount(): number {
    return this.#conns.size;
  }

  /** Why writes are refused for now (the database could not be written), or undefined while they are not. */
  get unavailable(): string | undefined {
    return this.#readOnly && `read-only: ${this.#readOnly.reason}`;
  }

  /** Registers a new connection from `client` (its address key): it gets a guest account and a welcome. */
  open(peer: Peer, client = "local"): ConnId {
    const conn = `c${this.#nextConn++}`;
    this.#conns.set(conn, { peer, bucket: new TokenBucket(this.#opts.rate, performance.now()), client });
    this.#dispatch({ type: "connect", conn, ts: new Date().toISOString(), guest: this.#newAccount() });
    return conn;
  }

  /** Handles one frame from a connection. Every frame gets exactly one reply or error. */
  receive(conn: ConnId, raw: string | Buffer, isBinary: boolean): void {
    const c = this.#conns.get(conn);
    if (!c || this.#failed) return;
    const now = performance.now();
    const admission = c.bucket.take(now);
    if (!admission.ok) return this.#refuse(c.peer, raw, isBinary, admission.retryAfterMs, admission.flooding);
    const wait = this.#quotas.inbound(c.client, raw.length, now);
    if (wait > 0) return this.#refuse(c.peer, raw, isBinary, wait, c.bucket.refused(), "Your address sends more than its share");

    const frame = readFrame(raw, isBinary, this.#opts.validators, this.#opts.limits);
    if (!frame.ok) {
      // Only known event names become metric labels: a client must not be able to mint series.
      const request = frame.error.request;
      this.#observer.request(request !== undefined && isRequestEvent(request) ? request : "invalid", frame.error.code);
      return this.#send([c.peer], envelope("error", frame.error, frame.ref));
    }
    const { event, data, ref } = frame.request;
    try {
      const action = toAction(event, data, {
        state: this.#state,
        conn,
        ts: new Date().toISOString(),
        openAuth: this.#opts.openAuth,
        newAccount: () => this.#newAccount(),
        newToken: (user) => this.#newToken(user),
        messageId: () => this.#messageIds.next(),
        ...(ref === undefined ? {} : { ref }),
      });
      const outcome = action.type === "history" ? this.#history(c.peer, action) : this.#apply(c, action, event, now);
      this.#observer.request(event, outcome);
    } catch (err) {
      this.#observer.request(event, "internal");
      this.#internalError(c.peer, err, event, ref);
    } finally {
      // Tokens of a request refused before it was applied were never handed out.
      this.#pendingTokens.clear();
    }
  }

  /** Forgets a connection that closed, for whatever reason. */
  close(conn: ConnId): void {
    if (!this.#conns.delete(conn)) return;
    this.#dispatch({ type: "disconnect", conn, ts: new Date().toISOString() });
  }

  /** Commits and sends everything pending now; used at shutdown. */
  flush(): void {
    this.#flush();
  }

  /** Stops the hub's timers (retention, retrying the store); the server calls it when it closes. */
  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** A request, after the gates that may refuse it unapplied: the store being read-only, then the address's quotas. */
  #apply(c: Connection, cmd: Command, request: RequestEvent, now: number): "ok" | ErrorCode {
    const ref = "ref" in cmd ? cmd.ref : undefined;
    // A read must not show what this turn's commit might still take back: commit first (one more fsync, rarely).
    if (this.#uncommitted && cmd.type !== "ping" && !mayWrite(this.#state, cmd)) this.#flush();
    // Judged after that commit, which may have failed and taken back what made this a read.
    const writes = mayWrite(this.#state, cmd);
    if (this.#readOnly && writes) {
      const retryAfterMs = Math.max(0, Math.ceil(this.#readOnly.retryAt - now));
      const message = `The server cannot store changes right now (${this.#readOnly.reason}); nothing was applied. Retry in ${retryAfterMs} ms.`;
      this.#send([c.peer], retryLater("unavailable", request, message, retryAfterMs, ref));
      return "unavailable";
    }
    const draw = drawOf(this.#state, cmd);
    const quota = this.#quotas.check(c.client, draw, now);
    if (!quota.ok) {
      const made = quota.what === "accounts" ? "new accounts" : "new rooms";
      const message = `Too many ${made} from your address; retry in ${quota.retryAfterMs} ms.`;
      this.#send([c.peer], retryLater("rate_limited", request, message, quota.retryAfterMs, ref));
      return "rate_limited";
    }
    const outcome = this.#dispatch(cmd, { peer: c.peer, request, ...(ref === undefined ? {} : { ref }) });
    this.#quotas.charge(c.client, draw, this.#state, outcome === "ok", now);
    return outcome;
  }

  #refuse(peer: Peer, raw: string | Buffer, isBinary: boolean, retryAfterMs: number, flooding: boolean, why = "Too many requests"): void {
    // A refused frame is not read; only a small one is parsed, to echo its ref.
    const { ref, request } = raw.length <= GLANCE_BYTES ? glance(raw, isBinary) : {};
    this.#observer.request(request ?? "invalid", "rate_limited");
    if (flooding) return peer.close(1008, "flooding");
    this.#send([peer], retryLater("rate_limited", request, `${why}; retry in ${retryAfterMs} ms.`, retryAfterMs, ref));
  }

  #newAccount(): NewAccount {
    const token = mintToken();
    const account = { id: uuidv4(), tokenHash: hashToken(token) };
    this.#pendingTokens.set(account.id, token);
    return account;
  }

  #newToken(user: UserId): string {
    const token = mintToken();
    this.#pendingTokens.set(user, token);
    return hashToken(token);
  }

  /** Applies a command and returns its outcome. A throw here is a bug in the core. */
  #dispatch(cmd: Command, requester?: Omit<Writer, "restore">): "ok" | ErrorCode {
    // Commands that move connections to fresh guests (all from the requester's account) say where they were, should their commit fail.
    let restore: Map<ConnId, UserId> | undefined;
    const owner = "guests" in cmd ? this.#state.connections.get(cmd.conn)?.userId : undefined;
    if (owner !== undefined && "guests" in cmd) restore = new Map(cmd.guests.map((g) => [g.conn, owner]));
    const { out, changes } = reduce(this.#state, cmd);
    let cause: Writer | undefined;
    if (changes.length > 0) {
      this.#opts.store.write(changes);
      this.#uncommitted = true;
      if (requester) cause = restore ? { ...requester, restore } : requester;
    }
    for (const o of out) this.#enqueue(o, cause);
    const first = out[0];
    return first?.event === "error" ? first.data.code : "ok";
  }

  #history(peer: Peer, q: Query): "ok" | ErrorCode {
    const conversation = conversationOf(this.#state, q.conn, q.target);
    if ("error" in conversation) {
      const error = { ...conversation.error, request: "history" };
      this.#send([peer], envelope("error", error, q.ref));
      return error.code;
    }
    // The page must include what earlier requests wrote, and its reply must follow theirs.
    this.#flush();
    const page = this.#opts.store.page(conversation.key, q.limit, q.before);
    this.#send([peer], withinBudget((d) => envelope("history", d, q.ref), page, this.#opts.limits.maxReplyBytes, fitPage));
    return "ok";
  }

  /** Resolves an outbound message's audience now and serialises it once. */
  #enqueue(o: Outbound, cause: Writer | undefined): void {
    let text: string;
    if (o.event === "welcome" || o.event === "replace_token") {
      const token = this.#pendingTokens.get(o.data.user.id);
      this.#pendingTokens.delete(o.data.user.id);
      if (token === undefined) throw new Error(`no token minted for ${o.data.user.id}`);
      text = envelope(o.event, { user: o.data.user, token }, o.event === "replace_token" ? o.ref : undefined);
    } else if (o.event === "choose_room") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, this.#opts.limits.maxReplyBytes, fitRecent);
    } else if (o.event === "show_rooms") {
      text = withinBudget((d) => envelope(o.event, d, o.ref), o.data, this.#opts.limits.maxReplyBytes, fitRooms);
    } else {
      text = envelope(o.event, o.data, o.ref);
    }
    const peers: Peer[] = [];
    forEachConn(this.#state, o.to, (conn) => {
      const c = this.#conns.get(conn);
      if (c) peers.push(c.peer);
    });
    this.#send(peers, text, cause);
  }

  /** Sends at once when nothing waits for a commit; otherwise after it, keeping the order. */
  #send(peers: Peer[], text: string, cause?: Writer): void {
    if (this.#failed) return;
    if (!this.#uncommitted && this.#outbox.length === 0) {
      for (const p of peers) p.send(text);
      this.#observer.delivered(peers.length);
      return;
    }
    this.#outbox.push(cause ? { text, peers, cause } : { text, peers });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#failed) return;
    if (this.#uncommitted) {
      this.#uncommitted = false;
      try {
        this.#opts.store.commit();
      } catch (err) {
        this.#rollBack(err);
      }
    }
    const outbox = this.#outbox;
    this.#outbox = [];
    let count = 0;
    for (const d of outbox) {
      for (const p of d.peers) p.send(d.text);
      count += d.peers.length;
    }
    this.#observer.delivered(count);
  }

  /**
   * A commit failed (disk full, I/O error): nothing it held may be claimed. The state is
   * rebuilt from the store, each request whose changes were lost is answered `unavailable`
   * in place of what it caused, and writes are refused until the store takes one again.
   */
  #rollBack(err: unknown): void {
    const reason = failureReason(err);
    this.#opts.logger.error({ err }, `could not write to the database (${reason}); refusing writes until it can`);
    const restore = new Map<ConnId, UserId>();
    const answered = new Set<Writer>();
    const kept: Delivery[] = [];
    for (const d of this.#outbox) {
      if (!d.cause) {
        kept.push(d);
        continue;
      }
      if (answered.has(d.cause)) continue;
      answered.add(d.cause);
      for (const [conn, user] of d.cause.restore ?? []) restore.set(conn, user);
      const message = `The server could not store this (${reason}); nothing was applied. Retry in ${this.#retryMs} ms.`;
      kept.push({ text: retryLater("unavailable", d.cause.request, message, this.#retryMs, d.cause.ref), peers: [d.cause.peer] });
    }
    this.#outbox = kept;
    try {
      const fresh = this.#load();
      carryConnections(fresh, this.#state, restore);
      this.#state = fresh;
    } catch (loadErr) {
      // Memory is ahead of the disk and cannot be brought back: send nothing more, stop.
      this.#failed = true;
      this.#outbox = [];
      this.#opts.onFatal(loadErr);
      return;
    }
    this.#enterReadOnly(reason);
  }

  get #retryMs(): number {
    return this.#opts.retryMs ?? 2000;
  }

  #enterReadOnly(reason: string): void {
    this.#readOnly = { reason, retryAt: performance.now() + this.#retryMs };
    this.#after(this.#retryMs, () => this.#probe());
  }

  /** Tries the store again; writes are accepted once it takes one. */
  #probe(): void {
    try {
      this.#opts.store.probe();
    } catch (err) {
      return this.#enterReadOnly(failureReason(err));
    }
    this.#opts.logger.warn("the database takes writes again; accepting them");
    this.#readOnly = undefined;
  }

  #prune(continuing = false): void {
    if (this.#pruning && !continuing) return;
    this.#pruning = false;
    // The next minute tries again; a pass cut short here must not hold that off.
    if (this.#readOnly) return;
    const { retainDays, retainMessages } = this.#opts.limits;
    const retain: Retention = {};
    if (retainDays > 0) retain.beforeId = uuidv7Floor(Date.now() - retainDays * DAY_MS);
    if (retainMessages > 0) retain.keepPerConversation = retainMessages;
    // Once a pass: the state's recent messages are trimmed at once, the store a budget at a time.
    if (!continuing) expireRecent(this.#state, retain);
    try {
      // A full pass means more is left: go on soon, without holding the loop.
      if (this.#opts.store.prune(retain, PRUNE_BUDGET) >= PRUNE_BUDGET) {
        this.#pruning = true;
        this.#after(10, () => this.#prune(true));
      }
    } catch (err) {
      this.#opts.logger.error({ err }, "could not delete expired messages");
    }
  }

  #load(): ChatState {
    const state = this.#opts.store.load();
    const { maxRoomsPerAccount, maxRoomMembers, maxRoomsJoined, maxSessionsPerAccount } = this.#opts.limits;
    state.limits = { maxRoomsPerAccount, maxRoomMembers, maxRoomsJoined, maxSessionsPerAccount };
    return state;
  }

  #after(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      run();
    }, ms);
    t.unref();
    this.#timers.add(t);
  }

  #every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.#timers.add(t);
  }

  #internalError(peer: Peer, err: unknown, request: string, ref: Ref | undefined): void {
    this.#opts.logger.error({ err, request, ref }, "request failed");
    this.#send([peer], envelope("error", errorData("internal", request), ref));
  }
}
