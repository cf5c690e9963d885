/** The SDK's vocabulary: event names, argument shapes, frames and the socket it drives. */
import type { PushDataMap, RequestDataMap, Room, User } from "../protocol/wire.generated.js";
import type { CaughtUp } from "./catchUp.js";
import type { ChatError } from "./errors.js";

export type RequestEvent = keyof RequestDataMap;
export type PushEvent = keyof PushDataMap;

/** Events whose data the protocol leaves free: `request('ping')` needs no data. */
type OptionalData = "del_user" | "show_rooms" | "ping" | "sign_out" | "replace_token" | "conversations";

/** The arguments after the event name: the request's data, optional where the protocol allows it. */
export type RequestArgs<E extends RequestEvent> = E extends OptionalData
  ? [data?: RequestDataMap[E]]
  : [data: RequestDataMap[E]];

/** Any frame the server sent, as parsed. */
export interface Frame {
  event: string;
  data: unknown;
  ref?: string | number;
}

/** What a socket's message event carries, in browsers and in `ws`. */
export interface MessageLike {
  data: unknown;
}
/** What a socket's close event carries, in browsers and in `ws`. */
export interface CloseLike {
  code: number;
  reason: string;
}

/**
 * The part of the WebSocket API the client uses, common to browsers and `ws`.
 * The handler slots take `never` so that both the DOM's and `ws`'s sockets (whose
 * event classes differ) fit without a cast; the client assigns its own handlers,
 * which read only `data`, `code` and `reason`.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: never) => void) | null;
  onmessage: ((ev: never) => void) | null;
  onclose: ((ev: never) => void) | null;
  onerror: ((ev: never) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * The connection as the app should show it:
 * - `connecting`: the first socket is opening (before `connect()` resolves);
 * - `open`: welcomed (and, after a reconnect, signed back in); requests are sent;
 * - `reconnecting`: the socket dropped and the client is trying again, then signs back in and
 *   catches up; requests reject at once, except `send_message`, which waits (up to 100);
 * - `closed`: for good (`close()` was called, reconnecting is off, or it gave up).
 */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** The payload of the client's `state` event. */
export interface StateChange {
  state: ConnectionState;
  /** While reconnecting: which attempt comes next (1 for the first). */
  attempt?: number;
  /** While reconnecting: the wait, in ms, before that attempt. */
  delayMs?: number;
  /** Reconnecting or closed: the close code and reason of the socket that ended. */
  code?: number;
  reason?: string;
}

/** The payload of the client's `reconnect` event, once a dropped connection is back. */
export interface Reconnected {
  /**
   * True when the client signed back into the account it had; false when it could not
   * (the account is gone, e.g. the server lost its state) and now uses the fresh guest
   * account the server welcomed it with: `user` and the client's `token` are that guest's.
   */
  resumed: boolean;
  user: User;
  /** The account's rooms from the `auth` reply (empty for a fresh guest). */
  rooms: Room[];
  /** Why the account could not be resumed (usually `auth_failed`). */
  error?: ChatError;
  /**
   * When resumed: what the catch-up handed to the app (as `message` events, before this
   * event) and whether it could read everything.
   */
  caughtUp?: CaughtUp;
}
