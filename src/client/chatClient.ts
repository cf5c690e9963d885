/**
 * A typed client for the chat protocol: `request(event, data)` resolves to the
 * reply's data (matched by `ref`) or rejects with a `ChatError` carrying the
 * protocol's code; `on(event, fn)` subscribes to pushes. Works with the browser's
 * WebSocket and with `ws` in Node (pass it as `WebSocket`).
 *
 * With `reconnect` on, a dropped connection is reopened with capped, jittered
 * backoff and signed back into the same account with the stored id and token; then
 * every message missed while away is read (`catchUp.ts`) and handed to the app as
 * ordinary `message` events before the live ones, and unanswered `send_message`
 * requests are sent again with their `client_msg_id` (`outbox.ts`). Other requests
 * in flight when it dropped reject with `disconnected`, and the `state` event tells
 * the app where the connection stands. Off by default: then a closed client stays
 * closed.
 */
import type { AuthReply, Message, PushDataMap, ReplyDataMap, RequestDataMap, User, WelcomePush } from "../protocol/wire.generated.js";
import { CLOSE_CODES, shouldReconnect } from "../protocol/closeCodes.js";
import { backoffDelay, backoffOptions, type Backoff, type ReconnectOptions } from "./backoff.js";
import { CatchUp, type CatchUpIO } from "./catchUp.js";
import { Cursor, newestIdIn } from "./cursor.js";
import { ChatError } from "./errors.js";
import { Listeners } from "./listeners.js";
import { Outbox } from "./outbox.js";
import type {
  CloseLike,
  ConnectionState,
  Frame,
  MessageLike,
  PushEvent,
  Reconnected,
  RequestArgs,
  RequestEvent,
  StateChange,
  WebSocketConstructor,
  WebSocketLike,
} from "./types.js";

export interface ConnectOptions {
  /** The WebSocket implementation; defaults to the global one (browsers, Node 22+). */
  WebSocket?: WebSocketConstructor;
  /** Reject a request whose reply has not come within this many ms. @default 10000 */
  requestTimeoutMs?: number;
  /**
   * Reopen a dropped connection and sign back in (`true` for the default timing, or
   * the timing itself). Off by default: a closed client then stays closed.
   * @default false
   */
  reconnect?: boolean | ReconnectOptions;
}

interface Pending {
  event: string;
  resolve: (data: unknown) => void;
  reject: (err: ChatError) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Runs on success before `resolve`, so the client's own view (user, token) is current first. */
  onReply?: (data: unknown) => void;
}

export class ChatClient {
  readonly #url: string;
  readonly #Impl: WebSocketConstructor;
  readonly #timeoutMs: number;
  readonly #backoff: Backoff | null;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Listeners();
  #ws: WebSocketLike;
  #state: ConnectionState = "connecting";
  #nextRef = 1;
  #user: User | null = null;
  #token: string | null = null;
  #closed: { code: number; reason: string } | null = null;
  /** Set by `close()`: the next socket close is final. */
  #closing: { code: number; reason: string } | null = null;
  #attempt = 0;
  #retry: ReturnType<typeof setTimeout> | null = null;
  readonly #cursor = new Cursor();
  readonly #catchUp = new CatchUp();
  readonly #outbox = new Outbox({
    send: (data) => this.#send("send_message", data),
    sleep: (ms) => this.#sleep(ms),
    account: () => this.#user?.id ?? null,
  });
  /** While a resume is under way: the pushes received meanwhile, handed to the app once it is done. */
  #held: Frame[] | null = null;
  /** Bumped at every socket close: work begun for an earlier socket stops. */
  #session = 0;
  readonly #sleepers = new Set<() => void>();

  private constructor(url: string, Impl: WebSocketConstructor, options: ConnectOptions) {
    this.#url = url;
    this.#Impl = Impl;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    const { reconnect = false } = options;
    this.#backoff = reconnect === false ? null : backoffOptions(reconnect === true ? {} : reconnect);
    this.#ws = this.#open();
  }

  /**
   * Opens a connection and resolves once the server's `welcome` arrives (the client
   * is then signed into a fresh guest account); rejects with `disconnected` if the
   * connection closes first. The first connection is never retried.
   */
  static connect(url: string, options: ConnectOptions = {}): Promise<ChatClient> {
    const Impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) throw new TypeError("No WebSocket implementation: pass { WebSocket } (e.g. from the ws package).");
    const client = new ChatClient(url, Impl, options);
    return new Promise((resolve, reject) => {
      const off = client.on("state", ({ state, code }) => {
        if (state === "open") {
          off();
          resolve(client);
        } else if (state === "closed") {
          off();
          reject(new ChatError({ code: "disconnected", message: `The connection closed before the server's welcome (${code ?? "no code"}).` }));
        }
      });
    });
  }

  /** The account this client is signed into. */
  get user(): User {
    if (!this.#user) throw new Error("not welcomed yet");
    return this.#user;
  }

  /**
   * The token of the account this client is signed into: the one the last `welcome`
   * gave, or the one a successful `auth` request used (null for a token-less `auth`
   * in open-auth mode). Reconnecting signs back in with it.
   */
  get token(): string | null {
    return this.#token;
  }

  /**
   * The newest message id this client has seen (pushes and replies), or the `since` of
   * its last `welcome` or `auth` when that is newer: every message the account can read
   * up to it has reached the app. A resume reads what is newer. Null before `welcome`.
   */
  get cursor(): string | null {
    return this.#cursor.value;
  }

  /** Where the connection stands; the `state` event reports each change. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The close code and reason once the client has closed for good. */
  get closed(): { code: number; reason: string } | null {
    return this.#closed;
  }

  /**
   * Sends a request; resolves to the reply's data or rejects with a ChatError.
   * `send_message` gets a `client_msg_id` when it has none and, with `reconnect` on,
   * outlives a drop: see the outbox.
   */
  request<E extends RequestEvent>(event: E, ...[data]: RequestArgs<E>): Promise<ReplyDataMap[E]> {
    if (event === "send_message" && this.#user && (this.#state === "open" || this.#state === "reconnecting")) {
      return this.#outbox.submit(data as RequestDataMap["send_message"], this.#user.id) as Promise<ReplyDataMap[E]>;
    }
    if (this.#state !== "open") {
      const message =
        this.#state === "reconnecting"
          ? `Not connected (reconnecting, attempt ${this.#attempt}): ${event} was not sent. Try again once the connection is back.`
          : `The connection is closed: ${event} was not sent.`;
      return Promise.reject(new ChatError({ code: "disconnected", message, request: event }));
    }
    return this.#send(event, data as RequestDataMap[E] | undefined);
  }

  /** Sends a text frame as it is, for tools and tests that speak the protocol by hand. */
  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  /**
   * Calls `fn` for every push of `event`. Besides the pushes: `state` for each change of
   * the connection's state, `reconnect` once a dropped connection is back, `close` once
   * the client has closed for good, and `frame` for every frame received.
   * Returns the unsubscribe function.
   */
  on<P extends PushEvent>(event: P, fn: (data: PushDataMap[P], frame: Frame) => void): () => void;
  on(event: "state", fn: (change: StateChange) => void): () => void;
  on(event: "reconnect", fn: (info: Reconnected) => void): () => void;
  on(event: "close", fn: (ev: { code: number; reason: string }) => void): () => void;
  on(event: "frame", fn: (frame: Frame) => void): () => void;
  on(event: string, fn: (...args: never[]) => void): () => void {
    return this.#listeners.on(event, fn);
  }

  /** Resolves with the next push of `event` that satisfies `match`. */
  next<P extends PushEvent>(event: P, match: (data: PushDataMap[P]) => boolean = () => true): Promise<PushDataMap[P]> {
    return new Promise((resolve) => {
      const off = this.on(event, (data) => {
        if (!match(data)) return;
        off();
        resolve(data);
      });
    });
  }

  /** Closes the connection for good: no reconnect follows. */
  close(code = 1000, reason = ""): void {
    if (this.#state === "closed") return;
    this.#closing = { code, reason };
    if (this.#retry !== null) {
      // Between attempts there is no live socket to wait for.
      clearTimeout(this.#retry);
      this.#retry = null;
      this.#finish(code, reason);
      return;
    }
    this.#ws.close(code, reason);
  }

  #open(): WebSocketLike {
    const ws = new this.#Impl(this.#url);
    ws.onmessage = (ev: MessageLike) => {
      if (ws === this.#ws) this.#receive(ev.data);
    };
    ws.onclose = (ev: CloseLike) => {
      if (ws === this.#ws) this.#onClose(ev.code, ev.reason);
    };
    // Every failure is followed by a close event, which is where it is handled.
    ws.onerror = () => {};
    return ws;
  }

  #send<E extends RequestEvent>(event: E, data: RequestDataMap[E] | undefined, onReply?: (reply: ReplyDataMap[E]) => void): Promise<ReplyDataMap[E]> {
    const ref = this.#nextRef++;
    return new Promise<ReplyDataMap[E]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new ChatError({ code: "timeout", message: `No reply to ${event} within ${this.#timeoutMs} ms.`, request: event }));
      }, this.#timeoutMs);
      const pending: Pending = { event, resolve: resolve as (d: unknown) => void, reject, timer };
      if (event === "auth") {
        const token = (data as RequestDataMap["auth"]).token ?? null;
        pending.onReply = () => {
          this.#token = token;
        };
      }
      if (event === "replace_token") {
        // The old token no longer signs in: reconnecting must use the new one.
        pending.onReply = (d) => {
          this.#token = (d as ReplyDataMap["replace_token"]).token;
        };
      }
      if (onReply) {
        const before = pending.onReply;
        pending.onReply = (d) => {
          before?.(d);
          onReply(d as ReplyDataMap[E]);
        };
      }
      this.#pending.set(ref, pending);
      this.#ws.send(JSON.stringify(data === undefined ? { event, ref } : { event, data, ref }));
    });
  }

  #setState(change: StateChange): void {
    this.#state = change.state;
    this.#listeners.emit("state", change);
  }

  #receive(raw: unknown): void {
    if (typeof raw !== "string") return;
    let frame: Frame;
    try {
      frame = JSON.parse(raw) as Frame;
    } catch {
      return;
    }
    this.#listeners.emit("frame", frame);
    if ((frame.event === "auth" || frame.event === "change_name") && frame.data !== null && typeof frame.data === "object") {
      this.#user = (frame.data as { user: User }).user;
    }
    const pending = typeof frame.ref === "number" ? this.#pending.get(frame.ref) : undefined;
    if (pending && typeof frame.ref === "number") {
      this.#pending.delete(frame.ref);
      clearTimeout(pending.timer);
      if (frame.event === "error") {
        pending.reject(new ChatError({ request: pending.event, ...(frame.data as PushDataMap["error"]) }));
      } else {
        pending.onReply?.(frame.data);
        this.#cursor.see(newestIdIn(frame.event, frame.data));
        pending.resolve(frame.data);
      }
      return;
    }
    if (this.#held) this.#held.push(frame);
    else this.#dispatch(frame);
  }

  /** Hands a push to the app. */
  #dispatch(frame: Frame): void {
    if (frame.event === "welcome") {
      this.#onWelcome(frame.data as WelcomePush, frame);
      return;
    }
    this.#cursor.see(newestIdIn(frame.event, frame.data));
    this.#listeners.emit(frame.event, frame.data, frame);
  }

  #onWelcome(welcome: WelcomePush, frame: Frame): void {
    if (this.#state === "reconnecting" && this.#user) {
      this.#resume(welcome, frame, this.#user);
      return;
    }
    this.#user = welcome.user;
    this.#token = welcome.token;
    this.#cursor.see(welcome.since);
    if (this.#state !== "open") this.#opened();
    this.#listeners.emit("welcome", welcome, frame);
  }

  /**
   * A new socket after a drop: sign back into the account the client had, catch up and
   * resend, or adopt the new guest. Pushes wait in `#held` until then.
   */
  #resume(welcome: WelcomePush, frame: Frame, previous: User): void {
    this.#held = [];
    this.#cursor.hold();
    const session = this.#session;
    const identity = this.#token === null ? { user_id: previous.id } : { user_id: previous.id, token: this.#token };
    this.#send("auth", identity).then(
      (reply) => this.#catchUpAndOpen(reply, session),
      (error: ChatError) => {
        // The socket dropped again: its close event has already scheduled the next attempt.
        if (error.code === "disconnected" || session !== this.#session) return;
        if (error.code === "timeout") {
          this.#ws.close(CLOSE_CODES.noReply.code, "no reply to auth");
          return;
        }
        this.#user = welcome.user;
        this.#token = welcome.token;
        this.#cursor.reset(welcome.since);
        this.#catchUp.reset();
        this.#outbox.fail("The client could not sign back into its account (it is a new guest now): send_message was not sent again.");
        const held = this.#release();
        this.#opened();
        this.#listeners.emit("welcome", welcome, frame);
        this.#listeners.emit("reconnect", { resumed: false, user: welcome.user, rooms: [], error } satisfies Reconnected);
        for (const f of held) if (session === this.#session) this.#dispatch(f);
      },
    );
  }

  /** Signed back in: resend what waits, hand over what was missed, then go `open` and hand over the pushes held meanwhile. */
  #catchUpAndOpen(reply: AuthReply, session: number): void {
    const me = reply.user.id;
    this.#outbox.resume();
    const io: CatchUpIO = {
      request: (event, data) =>
        session === this.#session
          ? this.#send(event, data)
          : Promise.reject(new ChatError({ code: "disconnected", message: `The connection closed: ${event} was not sent.`, request: event })),
      emit: (m) => this.#listeners.emit("message", m, { event: "message", data: m }),
      // A direct message this connection sent reaches the app only through its promise, as when nothing dropped.
      ownSend: (m) => m.from.id === me && "to_user_id" in m && this.#outbox.isOwn(m.client_msg_id),
      sleep: (ms) => this.#sleep(ms),
    };
    this.#catchUp.run(io, this.#cursor.value ?? reply.since, reply).then(
      (caughtUp) => {
        if (session !== this.#session) return;
        this.#cursor.commit(reply.since);
        this.#outbox.forgetOwn();
        const held = this.#release();
        this.#opened();
        this.#listeners.emit("reconnect", { resumed: true, user: reply.user, rooms: reply.rooms, caughtUp } satisfies Reconnected);
        for (const f of held) {
          if (session !== this.#session) break;
          if (f.event === "message" && this.#catchUp.covers(f.data as Message, me)) continue;
          this.#dispatch(f);
        }
        this.#catchUp.reset();
      },
      (error: unknown) => {
        if (session !== this.#session || (error instanceof ChatError && error.code === "disconnected")) return;
        // No reply (or a failure of the client itself): start over on a new connection.
        this.#ws.close(CLOSE_CODES.noReply.code, "no reply during the catch-up");
      },
    );
  }

  #release(): Frame[] {
    const held = this.#held ?? [];
    this.#held = null;
    return held;
  }

  /** A wait that ends early when the socket closes. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }

  #opened(): void {
    this.#attempt = 0;
    this.#setState({ state: "open" });
  }

  #onClose(code: number, reason: string): void {
    this.#session += 1;
    this.#held = null;
    this.#cursor.drop();
    for (const wake of [...this.#sleepers]) wake();
    for (const [ref, p] of this.#pending) {
      clearTimeout(p.timer);
      const why = `The connection closed (${code}${reason ? ` ${reason}` : ""}) before the reply to ${p.event}.`;
      p.reject(new ChatError({ code: "disconnected", message: why, request: p.event }));
      this.#pending.delete(ref);
    }
    const backoff = this.#backoff;
    // The first connection is never retried (`connect()` rejects instead), nor a close the server means as final (1000).
    if (this.#closing !== null || backoff === null || this.#state === "connecting" || this.#attempt >= backoff.maxAttempts || !shouldReconnect(code)) {
      this.#finish(code, reason);
      return;
    }
    this.#outbox.hold();
    this.#attempt += 1;
    const delayMs = backoffDelay(this.#attempt, backoff);
    this.#setState({ state: "reconnecting", attempt: this.#attempt, delayMs, code, reason });
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#ws = this.#open();
    }, delayMs);
  }

  #finish(code: number, reason: string): void {
    this.#outbox.fail(`The connection closed (${code}${reason ? ` ${reason}` : ""}) before the reply to send_message, for good.`);
    this.#closed = { code, reason };
    this.#setState({ state: "closed", code, reason });
    this.#listeners.emit("close", { code, reason });
  }
}
