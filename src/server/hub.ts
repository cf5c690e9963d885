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
import type { ChatState, ConnId, UserId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { errorData } from "../protocol/errors.js";
import { readFrame } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import type { Ref } from "../protocol/wire.generated.js";
import type { Store } from "../store/store.js";
import { toAction, type Query } from "./handlers.js";
import { hashToken, mintToken } from "./tokens.js";

/** What the hub needs of a connection: a way to send it text. */
export interface Peer {
  send(text: string): void;
}

export interface HubOptions {
  validators: Validators;
  store: Store;
  logger: Logger;
  openAuth: boolean;
  /** Called when a commit fails: state in memory is ahead of the disk, so the process must stop. */
  onFatal(err: unknown): void;
}

/** A serialised message and the peers it goes to, resolved when the command was applied. */
type Delivery = { text: string; peers: Peer[] };

function envelope(event: string, data: unknown, ref?: Ref): string {
  return JSON.stringify(ref === undefined ? { event, data } : { event, data, ref });
}

export class Hub {
  readonly #state: ChatState;
  readonly #peers = new Map<ConnId, Peer>();
  /** Tokens minted for accounts whose welcome has not been sent yet; never logged or stored. */
  readonly #pendingTokens = new Map<UserId, string>();
  readonly #opts: HubOptions;
  /** Deliveries waiting for the commit of the changes that caused them. */
  #outbox: Delivery[] = [];
  #uncommitted = false;
  #flushScheduled = false;
  #nextConn = 1;

  constructor(opts: HubOptions) {
    this.#opts = opts;
    this.#state = opts.store.load();
  }

  /** Read-only view for diagnostics and tests. */
  get state(): Readonly<ChatState> {
    return this.#state;
  }

  get connectionCount(): number {
    return this.#peers.size;
  }

  /** Registers a new connection: it gets a guest account and a welcome. */
  open(peer: Peer): ConnId {
    const conn = `c${this.#nextConn++}`;
    this.#peers.set(conn, peer);
    this.#dispatch({ type: "connect", conn, ts: new Date().toISOString(), guest: this.#newAccount() });
    return conn;
  }

  /** Handles one frame from a connection. Every text frame gets exactly one reply or error. */
  receive(conn: ConnId, raw: string | Buffer, isBinary: boolean): void {
    const peer = this.#peers.get(conn);
    if (!peer) return;
    const frame = readFrame(raw, isBinary, this.#opts.validators);
    if (!frame.ok) return this.#send([peer], envelope("error", frame.error, frame.ref));
    const { event, data, ref } = frame.request;
    try {
      const action = toAction(event, data, {
        state: this.#state,
        conn,
        ts: new Date().toISOString(),
        openAuth: this.#opts.openAuth,
        newAccount: () => this.#newAccount(),
        ...(ref === undefined ? {} : { ref }),
      });
      if (action.type === "history") this.#history(peer, action);
      else this.#dispatch(action);
    } catch (err) {
      this.#internalError(peer, err, event, ref);
    }
  }

  /** Forgets a connection that closed, for whatever reason. */
  close(conn: ConnId): void {
    if (!this.#peers.delete(conn)) return;
    this.#dispatch({ type: "disconnect", conn, ts: new Date().toISOString() });
  }

  /** Commits and sends everything pending now; used at shutdown. */
  flush(): void {
    this.#flush();
  }

  #newAccount(): NewAccount {
    const token = mintToken();
    const account = { id: uuidv4(), tokenHash: hashToken(token) };
    this.#pendingTokens.set(account.id, token);
    return account;
  }

  /** Applies a command. A throw here is a bug in the core; the caller answers `internal`. */
  #dispatch(cmd: Command): void {
    const { out, changes } = reduce(this.#state, cmd);
    if (changes.length > 0) {
      this.#opts.store.write(changes);
      this.#uncommitted = true;
    }
    for (const o of out) this.#enqueue(o);
  }

  #history(peer: Peer, q: Query): void {
    const conversation = conversationOf(this.#state, q.conn, q.target);
    if ("error" in conversation) {
      const error = { ...conversation.error, request: "history" };
      return this.#send([peer], envelope("error", error, q.ref));
    }
    // The page must include what earlier requests wrote, and its reply must follow theirs.
    this.#flush();
    const page = this.#opts.store.page(conversation.key, q.limit, q.before);
    this.#send([peer], envelope("history", page, q.ref));
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
      const peer = this.#peers.get(conn);
      if (peer) peers.push(peer);
    });
    this.#send(peers, text);
  }

  /** Sends at once when nothing waits for a commit; otherwise after it, keeping the order. */
  #send(peers: Peer[], text: string): void {
    if (!this.#uncommitted && this.#outbox.length === 0) {
      for (const p of peers) p.send(text);
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
    if (this.#uncommitted) {
      try {
        this.#opts.store.commit();
      } catch (err) {
        // Replies would claim what the disk does not hold: send nothing more, stop.
        this.#outbox = [];
        this.#opts.onFatal(err);
        return;
      }
      this.#uncommitted = false;
    }
    const outbox = this.#outbox;
    this.#outbox = [];
    for (const d of outbox) for (const p of d.peers) p.send(d.text);
  }

  #internalError(peer: Peer, err: unknown, request: string, ref: Ref | undefined): void {
    this.#opts.logger.error({ err, request, ref }, "request failed");
    this.#send([peer], envelope("error", errorData("internal", request), ref));
  }
}
