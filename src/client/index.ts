/**
 * The chat SDK, exported by the package as `./client`: one `ChatClient` for browsers
 * (native WebSocket) and Node (`ws`), typed from `schemas/` through the generated wire types.
 */
export { ChatClient } from "./chatClient.js";
export type { ConnectOptions } from "./chatClient.js";
export { ChatError } from "./errors.js";
export type { ClientErrorCode, ErrorCode } from "./errors.js";
export type { CaughtUp } from "./catchUp.js";
export { MAX_QUEUED } from "./outbox.js";
export { backoffDelay, backoffOptions, BACKOFF_DEFAULTS } from "./backoff.js";
export type { Backoff, ReconnectOptions } from "./backoff.js";
export type {
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
export type * from "../protocol/wire.generated.js";
