/** A sentence for every failed request: what could not be done, and why, in words. */
import { ChatError } from "../../src/client/index.js";

const FIELD_NAMES: Record<string, string> = {
  username: "The name",
  room_name: "The room name",
  message: "The message",
  user_id: "The user id",
  room_id: "The room id",
  token: "The token",
};

/** True when the request failed only because the page was not connected: worth trying again once it is. */
export function isOffline(err: unknown): boolean {
  return err instanceof ChatError && err.code === "disconnected";
}

/** "the name is taken", without "Could not …": for places that already say what failed. */
export function reason(err: unknown): string {
  if (!(err instanceof ChatError)) return err instanceof Error ? err.message : String(err);
  switch (err.code) {
    case "disconnected":
      return "not connected right now. Try again once the status says Connected.";
    case "timeout":
      return "the server did not answer in time.";
    case "rate_limited": {
      const wait = err.details?.retry_after_ms;
      return `you are going too fast.${typeof wait === "number" ? ` Wait ${Math.ceil(wait / 1000)} s.` : ""}`;
    }
    case "unavailable":
      return "the server cannot store anything right now. Try again in a moment.";
    case "auth_failed":
      return "that id and token do not match an account.";
    case "forbidden":
      return err.request === "delete_message" || err.request === "edit_message" ? "that is not yours to change." : "only the room's owner may do that.";
    case "not_member":
      return "you are not a member of that room (any more).";
    case "bad_request": {
      const field = err.details?.fields?.[0];
      if (field) {
        const key = field.pointer.split("/").pop() ?? "";
        return `${FIELD_NAMES[key] ?? "A field"} ${field.reason}.`;
      }
      return err.message;
    }
    default:
      return err.message;
  }
}

/** "Could not create the room: Another room is already called …" */
export function describeError(action: string, err: unknown): string {
  return `Could not ${action}: ${reason(err)}`;
}
