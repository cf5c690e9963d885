/**
 * The imperative shell around the pure core: turns frames into commands, applies
 * them with `reduce`, records them in the command log and fans the outbound
 * messages out to connections. It knows connections only as `Peer`s, not sockets.
 */
import type { Logger } from "pino";
import { forEachConn } from "../core/audience.js";
import type { Command, NewAccount } from "../core/commands.js";
import { createState, type ChatState, type ConnId, type UserId } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { errorData } from "../protocol/errors.js";
import { QUERY_EVENTS } from "../protocol/events.js";
import { readFrame } from "../protocol/frame.js";
import type { Validators } from "../protocol/schemas.js";
import type { ErrorPush, Ref } from "../protocol/wire.generated.js";
import type { CommandLog } from "../store/commandLog.js";
import { toCommand } from "./handlers.js";
import { hashToken, mintToken } from "./tokens.js";
import { v4 as uuidv4 } from "uuid";

/** What the hub needs of a connection: a way to send it text. */
export interface Peer {
  send(text: string): void;
}

export interface HubOptions {
  validators: Validators;
  log: CommandLog;
  logger: Logger;
  openAuth: boolean;
  /** Clock, replaceable in tests. */
  now?: () => Date;
}

function envelope(event: string, data: unknown, ref?: Ref): string {
  return JSON.stringify(ref === undefined ? { event, data } : { event, data, ref });
}

export class Hub {
  readonly #state: ChatState = createState();
  readonly #peers = new Map<ConnId, Peer>();
  /** Tokens minted for accounts whose welcome has not been sent yet; never logged or stored. */
  readonly #pendingTokens = new Map<UserId, string>();
  readonly #opts: HubOptions;
  #nextConn = 1;

  constructor(opts: HubOptions) {
    this.#opts = opts;
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
    this.#dispatch({ type: "connect", conn, ts: this.#ts(), guest: this.#newAccount() });
    return conn;
  }

  /** Handles one frame from a connection. Every text frame gets exactly one reply or error. */
  receive(conn: ConnId, raw: string | Buffer, isBinary: boolean): void {
    const peer = this.#peers.get(conn);
    if (!peer) return;
    const frame = readFrame(raw, isBinary, this.#opts.validators);
    if (!frame.ok) {
      peer.send(envelope("error", frame.error, frame.ref));
      return;
    }
    const { event, data, ref } = frame.request;
    let cmd: Command;
    try {
      cmd = toCommand(event, data, {
        state: this.#state,
        conn,
        ts: this.#ts(),
        openAuth: this.#opts.openAuth,
        newAccount: () => this.#newAccount(),
        ...(ref === undefined ? {} : { ref }),
      });
    } catch (err) {
      this.#internalError(conn, err, event, ref);
      return;
    }
    this.#dispatch(cmd, !QUERY_EVENTS.has(event));
  }

  /** Forgets a connection that closed, for whatever reason. */
  close(conn: ConnId): void {
    if (!this.#peers.delete(conn)) return;
    this.#dispatch({ type: "disconnect", conn, ts: this.#ts() });
  }

  #ts(): string {
    return (this.#opts.now?.() ?? new Date()).toISOString();
  }

  #newAccount(): NewAccount {
    const token = mintToken();
    const account = { id: uuidv4(), tokenHash: hashToken(token) };
    this.#pendingTokens.set(account.id, token);
    return account;
  }

  #dispatch(cmd: Command, logged = true): void {
    let out: Outbound[];
    try {
      out = reduce(this.#state, cmd).out;
    } catch (err) {
      if (cmd.type === "connect" || cmd.type === "disconnect") throw err;
      this.#internalError(cmd.conn, err, cmd.type, cmd.ref);
      return;
    }
    if (logged) this.#opts.log.append(cmd);
    for (const o of out) this.#deliver(o);
  }

  #deliver(o: Outbound): void {
    if (o.event === "welcome") {
      const token = this.#pendingTokens.get(o.data.user.id);
      this.#pendingTokens.delete(o.data.user.id);
      if (token === undefined) throw new Error(`no token minted for ${o.data.user.id}`);
      const text = envelope("welcome", { user: o.data.user, token });
      forEachConn(this.#state, o.to, (conn) => this.#peers.get(conn)?.send(text));
      return;
    }
    // Serialised once, whatever the audience's size.
    const text = envelope(o.event, o.data, o.ref);
    forEachConn(this.#state, o.to, (conn) => this.#peers.get(conn)?.send(text));
  }

  #internalError(conn: ConnId, err: unknown, request: string, ref: Ref | undefined): void {
    this.#opts.logger.error({ err, conn, request, ref }, "request failed");
    const data: ErrorPush = errorData("internal", request);
    this.#peers.get(conn)?.send(envelope("error", data, ref));
  }
}
