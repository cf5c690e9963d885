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
import { v4 as uuidv4 } from "uuid";
import { forEachConn } from "../core/audience.js";
import type { Command, NewAccount } from "../core/commands.js";
import { conversationOf } from "../core/messages.js";
import type { ChatState, ConnId, Limits, UserId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { errorData, type ErrorCode } from "../protocol/errors.js";
import { isRequestEvent } from "../protocol/events.js";
import { isValidRef, readFrame, type FrameLimits } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import type { Ref } from "../protocol/wire.generated.js";
import type { Store } from "../store/store.js";
import { toAction, type Query } from "./handlers.js";
import { MessageIds } from "./messageIds.js";
import { TokenBucket, type RateLimitOptions } from "./rateLimit.js";
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

export interface HubOptions {
  validators: Validators;
  store: Store;
  logger: Logger;
  openAuth: boolean;
  limits: Limits & FrameLimits;
  rate: RateLimitOptions;
  observer?: HubObserver;
  /** Called when a commit fails: state in memory is ahead of the disk, so the process must stop. */
  onFatal(err: unknown): void;
}

/** A serialised message and the peers it goes to, resolved when the command was applied. */
type Delivery = { text: string; peers: Peer[] };

/** `client` names where the connection comes from (its IP address, an IPv6 /64), for per-address quotas. */
type Connection = { peer: Peer; bucket: TokenBucket; client: string };

function envelope(event: string, data: unknown, ref?: Ref): string {
  return JSON.stringify(ref === undefined ? { event, data } : { event, data, ref });
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

const NO_OBSERVER: HubObserver = { request() {}, delivered() {} };

export class Hub {
  readonly #state: ChatState;
  readonly #conns = new Map<ConnId, Connection>();
  /** Tokens minted for accounts whose welcome has not been sent yet; never logged or stored. */
  readonly #pendingTokens = new Map<UserId, string>();
  readonly #opts: HubOptions;
  readonly #observer: HubObserver;
  /** Deliveries waiting for the commit of the changes that caused them. */
  #outbox: Delivery[] = [];
  #uncommitted = false;
  #flushScheduled = false;
  /** Set when a commit failed: from then on nothing is applied or sent. */
  #failed = false;
  #nextConn = 1;
  readonly #messageIds: MessageIds;

  constructor(opts: HubOptions) {
    this.#opts = opts;
    this.#observer = opts.observer ?? NO_OBSERVER;
    this.#state = opts.store.load();
    this.#messageIds = new MessageIds(opts.store.lastMessageId());
    this.#state.limits = { maxRoomsPerAccount: opts.limits.maxRoomsPerAccount, maxRoomMembers: opts.limits.maxRoomMembers };
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
    return undefined;
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
    const admission = c.bucket.take(performance.now());
    if (!admission.ok) return this.#refuse(c.peer, raw, isBinary, admission.retryAfterMs, admission.flooding);

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
        messageId: () => this.#messageIds.next(),
        ...(ref === undefined ? {} : { ref }),
      });
      const outcome = action.type === "history" ? this.#history(c.peer, action) : this.#dispatch(action);
      this.#observer.request(event, outcome);
    } catch (err) {
      this.#observer.request(event, "internal");
      this.#internalError(c.peer, err, event, ref);
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

  #refuse(peer: Peer, raw: string | Buffer, isBinary: boolean, retryAfterMs: number, flooding: boolean): void {
    const { ref, request } = glance(raw, isBinary);
    this.#observer.request(request ?? "invalid", "rate_limited");
    if (flooding) return peer.close(1008, "flooding");
    const message = `Too many requests; retry in ${retryAfterMs} ms.`;
    const error = errorData("rate_limited", request, message, { retry_after_ms: retryAfterMs });
    this.#send([peer], envelope("error", error, ref));
  }

  #newAccount(): NewAccount {
    const token = mintToken();
    const account = { id: uuidv4(), tokenHash: hashToken(token) };
    this.#pendingTokens.set(account.id, token);
    return account;
  }

  /** Applies a command and returns its outcome. A throw here is a bug in the core. */
  #dispatch(cmd: Command): "ok" | ErrorCode {
    const { out, changes } = reduce(this.#state, cmd);
    if (changes.length > 0) {
      this.#opts.store.write(changes);
      this.#uncommitted = true;
    }
    for (const o of out) this.#enqueue(o);
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
    this.#send([peer], envelope("history", page, q.ref));
    return "ok";
  }

  /** Resolves an outbound message's audience now and serialises it once. */
  #enqueue(o: Outbound): void {
    let text: string;
    if (o.event === "welcome") {
      const token = this.#pendingTokens.get(o.data.user.id);
      this.#pendingTokens.delete(o.data.user.id);
      if (token === undefined) throw new Error(`no token minted for ${o.data.user.id}`);
      text = envelope("welcome", { user: o.data.user, token });
    } else {
      text = envelope(o.event, o.data, o.ref);
    }
    const peers: Peer[] = [];
    forEachConn(this.#state, o.to, (conn) => {
      const c = this.#conns.get(conn);
      if (c) peers.push(c.peer);
    });
    this.#send(peers, text);
  }

  /** Sends at once when nothing waits for a commit; otherwise after it, keeping the order. */
  #send(peers: Peer[], text: string): void {
    if (this.#failed) return;
    if (!this.#uncommitted && this.#outbox.length === 0) {
      for (const p of peers) p.send(text);
      this.#observer.delivered(peers.length);
      return;
    }
    this.#outbox.push({ text, peers });
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#failed) return;
    if (this.#uncommitted) {
      try {
        this.#opts.store.commit();
      } catch (err) {
        // Replies would claim what the disk does not hold: send nothing more, stop.
        this.#failed = true;
        this.#outbox = [];
        this.#opts.onFatal(err);
        return;
      }
      this.#uncommitted = false;
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

  #internalError(peer: Peer, err: unknown, request: string, ref: Ref | undefined): void {
    this.#opts.logger.error({ err, request, ref }, "request failed");
    this.#send([peer], envelope("error", errorData("internal", request), ref));
  }
}
