/**
 * What `reduce` asks the transport to send: plain data naming an audience, never a
 * socket. The transport resolves each audience to its own connections.
 */
import type { RequestEvent } from "../protocol/events.js";
import type { PushDataMap, Ref, ReplyDataMap, User } from "../protocol/wire.generated.js";
import type { ConnId, RoomId, UserId } from "./model.js";

export type Audience =
  | { kind: "conn"; conn: ConnId }
  /** Every connection of these accounts, except `except`. */
  | { kind: "users"; users: readonly UserId[]; except?: ConnId }
  /** Every connection of every member of the room, as the room stands after the command. */
  | { kind: "room"; room: RoomId }
  | { kind: "everyone" };

/** Replies and pushes that hand out a token carry the account only: the shell, which minted the token, adds it. */
type TokenEvent = "welcome" | "replace_token";

/** What the core says of a reply: the shell adds `since` (a place in the log, which the core never sees) to `auth`'s. */
export type ReplyData<E extends Exclude<RequestEvent, TokenEvent>> = E extends "auth" ? Omit<ReplyDataMap[E], "since"> : ReplyDataMap[E];

export type Reply = {
  [E in Exclude<RequestEvent, TokenEvent>]: { to: Audience; event: E; data: ReplyData<E>; ref?: Ref };
}[Exclude<RequestEvent, TokenEvent>];

export type WelcomeOut = { to: Audience; event: "welcome"; data: { user: User } };
export type TokenReplyOut = { to: Audience; event: "replace_token"; data: { user: User }; ref?: Ref };

type PushEventWithData = Exclude<keyof PushDataMap, "welcome">;
export type Push = {
  [E in PushEventWithData]: { to: Audience; event: E; data: PushDataMap[E]; ref?: Ref };
}[PushEventWithData];

export type Outbound = Reply | WelcomeOut | TokenReplyOut | Push;
