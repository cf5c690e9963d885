/**
 * The event names of the protocol, as data: the handler table, the validators and
 * the docs test all iterate these. A new event touches more than this list: README's
 * "Adding an event" has the whole checklist.
 */
import type { PushDataMap, ReplyDataMap, RequestDataMap } from "./wire.generated.js";

export const REQUEST_EVENTS = [
  "auth",
  "change_name",
  "del_user",
  "send_message",
  "create_room",
  "rename_room",
  "choose_room",
  "show_rooms",
  "del_room",
  "exit_room",
  "history",
  "ping",
  "sign_out",
  "replace_token",
  "room_members",
  "typing",
  "conversations",
  "edit_message",
  "delete_message",
] as const satisfies readonly (keyof RequestDataMap)[];

export const PUSH_EVENTS = [
  "welcome",
  "message",
  "room_created",
  "room_renamed",
  "room_deleted",
  "member_joined",
  "member_left",
  "user_renamed",
  "signed_in_elsewhere",
  "account_deleted",
  "signed_out",
  "presence",
  "user_typing",
  "message_edited",
  "message_deleted",
  "error",
] as const satisfies readonly (keyof PushDataMap)[];

export type RequestEvent = (typeof REQUEST_EVENTS)[number];
export type PushEvent = (typeof PUSH_EVENTS)[number];

// Fails to compile when an event has a schema but no entry above, or the other way round.
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const requestsComplete: Exactly<RequestEvent, keyof RequestDataMap & keyof ReplyDataMap> = true;
const pushesComplete: Exactly<PushEvent, keyof PushDataMap> = true;
void requestsComplete;
void pushesComplete;

const requestSet: ReadonlySet<string> = new Set(REQUEST_EVENTS);

export function isRequestEvent(name: string): name is RequestEvent {
  return requestSet.has(name);
}
