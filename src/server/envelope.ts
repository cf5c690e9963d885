/** Frames as the wire has them: an event, its data and the request's ref. Every error frame the server sends is built here. */
import { errorData } from "../protocol/errors.js";
import type { ErrorPush, Ref } from "../protocol/wire.generated.js";

export function envelope(event: string, data: unknown, ref?: Ref): string {
  return JSON.stringify(ref === undefined ? { event, data } : { event, data, ref });
}

/** The error push's data in an envelope echoing the request's ref. */
export function errorFrame(error: ErrorPush, ref: Ref | undefined): string {
  return envelope("error", error, ref);
}

/** An error that means "not applied, try again in `retryAfterMs`", as a frame. */
export function retryLater(code: "rate_limited" | "unavailable", request: string | undefined, message: string, retryAfterMs: number, ref: Ref | undefined): string {
  return errorFrame(errorData(code, request, message, { retry_after_ms: retryAfterMs }), ref);
}
