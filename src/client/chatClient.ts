/**
 * A typed client for the chat protocol: `request(event, data)` resolves to the
 * reply's data (matched by `ref`) or rejects with a `ChatError` carrying the
 * protocol's code; `on(event, fn)` subscribes to pushes. Works with the browser's
 * WebSocket and with `ws` in Node (pass it as `WebSocket`).
 */
import type { PushDataMap, ReplyDataMap, RequestDataMap, User } from "../protocol/wire.generated.js";

export type RequestEvent = keyof RequestDataMap;
export type PushEvent = keyof PushDataMap;
export type ErrorCode = PushDataMap["error"]["code"];

/** The part of the WebSocket API the client uses, common to browsers and `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** A request that failed: `code` is the protocol's error code. */
export class ChatError extends Error {
  readonly code: ErrorCode | "disconnected" | "timeout";
  readonly request?: string;
  readonly details?: PushDataMap["error"]["details"];
  constructor(data: { code: ChatError["code"]; message: string; request?: string; details?: ChatError["details"] }) {
    super(data.message);
    this.name = "ChatError";
    this.code = data.code;
    if (data.request !== undefined) this.request = data.request;
    if (data.details !== undefined) this.details = data.details;
  }
}

/** Events whose data the seed leaves free: `request('ping')` needs no data. */
type OptionalData = "del_user" | "show_rooms" | "ping";
export type RequestArgs<E extends RequestEvent> = E extends OptionalData
  ? [data?: RequestDataMap[E]]
  : [data: RequestDataMap[E]];

/** Any frame the server sent, as parsed. */
export interface Frame {
  event: string;
  data: unknown;
  ref?: string | number;
}

export interface ConnectOptions {
  /** The WebSocket implementation; defaults to the global one (browsers, Node 22+). */
  WebSocket?: WebSocketConstructor;
  /** Reject a request whose reply has not come within this many ms. @default 10000 */
  requestTimeoutMs?: number;
}

type Pending = { resolve: (data: unknown) => void; reject: (err: ChatError) => void; timer: ReturnType<typeof setTimeout> };
type Listener = (data: never, frame: Frame) => void;

export class ChatClient {
  readonly #ws: WebSocketLike;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #timeoutMs: number;
  #nextRef = 1;
  #user: User | null = null;
  #token: string | null = null;
  #closed: { code: number; reason: string } | null = null;

  private constructor(ws: WebSocketLike, timeoutMs: number) {
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onclose = (ev) => this.#onClose(ev.code, ev.reason);
    ws.onerror = () => {};
  }

  /** Opens a connection and resolves once the server's `welcome` arrives. */
  static connect(url: string, options: ConnectOptions = {}): Promise<ChatClient> {
    const Impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) throw new TypeError("No WebSocket implementation: pass { WebSocket } (e.g. from the ws package).");
    const client = new ChatClient(new Impl(url), options.requestTimeoutMs ?? 10_000);
    return new Promise((resolve, reject) => {
      const offWelcome = client.on("welcome", () => {
        offWelcome();
        offClose();
        resolve(client);
      });
      const offClose = client.on("close", (ev) => {
        offWelcome();
        offClose();
        reject(new ChatError({ code: "disconnected", message: `Connection closed before welcome (${ev.code}).` }));
      });
    });
  }

  /** The account this connection is signed into. */
  get user(): User {
    if (!this.#user) throw new Error("not welcomed yet");
    return this.#user;
  }

  /** The token of the account this connection was last welcomed into, if any. */
  get token(): string | null {
    return this.#token;
  }

  /** The close code and reason once the connection has closed. */
  get closed(): { code: number; reason: string } | null {
    return this.#closed;
  }

  /** Sends a request; resolves to the reply's data or rejects with a ChatError. */
  request<E extends RequestEvent>(event: E, ...[data]: RequestArgs<E>): Promise<ReplyDataMap[E]> {
    if (this.#closed) return Promise.reject(new ChatError({ code: "disconnected", message: "The connection is closed.", request: event }));
    const ref = this.#nextRef++;
    return new Promise<ReplyDataMap[E]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(ref);
        reject(new ChatError({ code: "timeout", message: `No reply to ${event} within ${this.#timeoutMs} ms.`, request: event }));
      }, this.#timeoutMs);
      this.#pending.set(ref, { resolve: resolve as (d: unknown) => void, reject, timer });
      this.#ws.send(JSON.stringify(data === undefined ? { event, ref } : { event, data, ref }));
    });
  }

  /** Sends a text frame as it is, for tools and tests that speak the protocol by hand. */
  sendRaw(text: string): void {
    this.#ws.send(text);
  }

  /**
   * Calls `fn` for every push of `event` (and for "close" when the connection ends;
   * "frame" sees every frame received). Returns the unsubscribe function.
   */
  on<P extends PushEvent>(event: P, fn: (data: PushDataMap[P], frame: Frame) => void): () => void;
  on(event: "close", fn: (ev: { code: number; reason: string }) => void): () => void;
  on(event: "frame", fn: (frame: Frame) => void): () => void;
  on(event: string, fn: (...args: never[]) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    set.add(fn as Listener);
    this.#listeners.set(event, set);
    return () => set.delete(fn as Listener);
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

  close(code = 1000, reason = ""): void {
    this.#ws.close(code, reason);
  }

  #emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args);
  }

  #receive(raw: unknown): void {
    if (typeof raw !== "string") return;
    let frame: Frame;
    try {
      frame = JSON.parse(raw) as Frame;
    } catch {
      return;
    }
    this.#emit("frame", frame);
    if (frame.event === "welcome") {
      const data = frame.data as PushDataMap["welcome"];
      this.#user = data.user;
      this.#token = data.token;
    } else if (frame.event === "auth" || frame.event === "change_name") {
      this.#user = (frame.data as { user: User }).user;
    }
    const pending = typeof frame.ref === "number" ? this.#pending.get(frame.ref) : undefined;
    if (pending && typeof frame.ref === "number") {
      this.#pending.delete(frame.ref);
      clearTimeout(pending.timer);
      if (frame.event === "error") pending.reject(new ChatError(frame.data as PushDataMap["error"]));
      else pending.resolve(frame.data);
      return;
    }
    this.#emit(frame.event, frame.data, frame);
  }

  #onClose(code: number, reason: string): void {
    this.#closed = { code, reason };
    for (const [ref, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new ChatError({ code: "disconnected", message: `The connection closed (${code}) before the reply.` }));
      this.#pending.delete(ref);
    }
    this.#emit("close", { code, reason });
  }
}
