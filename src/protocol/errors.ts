/**
 * The one registry of error codes. Client mistakes become `error` frames built
 * from here (values, not exceptions); only programmer mistakes throw.
 */
import type { ErrorPush } from "./wire.generated.js";

export type ErrorCode = ErrorPush["code"];
export type FieldProblem = { pointer: string; reason: string };
export type ErrorDetails = NonNullable<ErrorPush["details"]>;

/** Default sentence for each code; a call site may give a more precise one. */
export const ERROR_MESSAGES = {
  bad_json: "The frame is not a JSON object.",
  bad_request: "The request does not match its schema.",
  unknown_event: "This server does not know that event.",
  auth_failed: "Wrong user id or token.",
  not_found: "No such room or user.",
  forbidden: "Only the room's owner may do that.",
  not_member: "You are not a member of that room.",
  name_taken: "Another room already has that name.",
  rate_limited: "Too many requests; slow down.",
  limit_reached: "A configured limit of the server was reached.",
  unavailable: "The server cannot store changes right now; nothing was applied. Try again later.",
  internal: "The server failed to handle this request; it has been logged.",
} as const satisfies Record<ErrorCode, string>;

export function errorData(
  code: ErrorCode,
  request?: string,
  message: string = ERROR_MESSAGES[code],
  details?: ErrorDetails,
): ErrorPush {
  const data: ErrorPush = { code, message };
  if (request !== undefined) data.request = request;
  if (details !== undefined) data.details = details;
  return data;
}
