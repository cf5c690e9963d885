/** The error a request rejects with: the protocol's `code`, or one the client adds. */
import type { ErrorPush } from "../protocol/wire.generated.js";

/** The protocol's error codes (from `schemas/pushes/error.json`). */
export type ErrorCode = ErrorPush["code"];

/**
 * Codes the client itself produces: `disconnected` when the connection is not open
 * or closed before the reply came, `timeout` when no reply came in time.
 */
export type ClientErrorCode = "disconnected" | "timeout";

/** A request that failed: `code` is the protocol's error code, or a client one. */
export class ChatError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  /** The request's event name, when known. */
  readonly request?: string;
  /** What was wrong: for `bad_request` the failing fields, for `rate_limited` `retry_after_ms`. */
  readonly details?: ErrorPush["details"];
  constructor(data: { code: ChatError["code"]; message: string; request?: string; details?: ChatError["details"] }) {
    super(data.message);
    this.name = "ChatError";
    this.code = data.code;
    if (data.request !== undefined) this.request = data.request;
    if (data.details !== undefined) this.details = data.details;
  }
}
