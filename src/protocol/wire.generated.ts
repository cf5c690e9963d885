// Generated from schemas/ by `npm run gen:types`. Do not edit by hand.

/**
 * Client-chosen correlation id, echoed on the reply.
 */
export type Ref = string | number;
/**
 * A lower-case UUID string.
 */
export type Uuid = string;
/**
 * A display name: no control characters, no characters that change the direction of text, and no invisible characters other than the joiners and selectors that emoji and some scripts need (U+200C, U+200D, U+FE00-U+FE0F, U+E0020-U+E007F, U+E0100-U+E01EF); its length is checked after trimming.
 */
export type Name = string;
/**
 * List your direct conversations, newest first. Any data, or none, is accepted.
 */
export type ConversationsRequest = unknown;
/**
 * Delete the current account. Any data, or none, is accepted.
 */
export type DelUserRequest = unknown;
/**
 * Read a page of a room's, the lobby's (room_id "all") or a direct conversation's messages, oldest first: the newest `limit` (1-100, default 50) older than the message id `before` when given; or, with `after`, the oldest `limit` newer than the message id `after` (and older than `before` when both are given).
 */
export type HistoryRequest = RoomHistory | DirectHistory;
/**
 * A room id, or "all" for the lobby.
 */
export type RoomTarget = Uuid | "all";
/**
 * Ask for the server's time. Any data, or none, is accepted.
 */
export type PingRequest = unknown;
/**
 * Give the account a new token: the old one stops working and every other connection signed into the account is signed out. Any data, or none, is accepted.
 */
export type ReplaceTokenRequest = unknown;
/**
 * Send to a room (or "all", the lobby) with room_id, or to one user with user_id: exactly one of the two. With `client_msg_id`, a repeat from the same account is not sent again: it gets the original message.
 */
export type SendMessageRequest = SendToRoom | SendToUser;
/**
 * An id the sending client chose for a message, 1-64 characters: a repeat with the same one from the same account is the same message.
 */
export type ClientMsgId = string;
/**
 * List the rooms, sorted by name ignoring case, a page at a time: at most `limit` (1-500, default 500) rooms whose names sort after `after` (the last name of the previous page). Other fields, and data that is not an object, are ignored, as the seed protocol allowed any data.
 */
export type ShowRoomsRequest = ShowRoomsPage | AnyOtherData;
export type AnyOtherData = string | number | boolean | null | unknown[];
/**
 * Sign this connection out of its account, onto a fresh guest account. Any data, or none, is accepted.
 */
export type SignOutRequest = unknown;
/**
 * Say you are typing in a room you belong to (`room_id`) or to one person (`user_id`); not stored. Send it again every few seconds while typing.
 */
export type TypingRequest = RoomTyping | DirectTyping;
/**
 * A lower-case UUID string.
 */
export type Uuid1 = string;
export type Message = RoomMessage | DirectMessage;
/**
 * ISO-8601 UTC time with milliseconds, set by the server.
 */
export type Timestamp = string;
/**
 * The conversation the others were told you are typing in.
 */
export type TypingReply = RoomTypingReply | DirectTypingReply;
/**
 * A message in a room the connection's account is a member of, in the lobby, or a direct message.
 */
export type MessagePush = RoomMessage | DirectMessage;
/**
 * A lower-case UUID string.
 */
export type Uuid2 = string;

export interface Wire {
  envelope: Envelope;
  requests: RequestDataMap;
  replies: ReplyDataMap;
  pushes: PushDataMap;
}
/**
 * Every frame, in both directions, is one envelope.
 */
export interface Envelope {
  event: string;
  data?: unknown;
  ref?: Ref;
}
export interface RequestDataMap {
  auth: AuthRequest;
  change_name: ChangeNameRequest;
  choose_room: ChooseRoomRequest;
  conversations: ConversationsRequest;
  create_room: CreateRoomRequest;
  del_room: DelRoomRequest;
  del_user: DelUserRequest;
  delete_message: DeleteMessageRequest;
  edit_message: EditMessageRequest;
  exit_room: ExitRoomRequest;
  history: HistoryRequest;
  ping: PingRequest;
  rename_room: RenameRoomRequest;
  replace_token: ReplaceTokenRequest;
  room_members: RoomMembersRequest;
  send_message: SendMessageRequest;
  show_rooms: ShowRoomsRequest;
  sign_out: SignOutRequest;
  typing: TypingRequest;
}
/**
 * Sign this connection into an existing account.
 */
export interface AuthRequest {
  user_id: Uuid;
  /**
   * Required unless the server runs in open-auth mode.
   */
  token?: string;
}
/**
 * Set the account's display name (1-32 characters after trimming), unique among accounts as names compare (case, width and invisible characters ignored).
 */
export interface ChangeNameRequest {
  username: Name;
}
/**
 * Join a room; joining again is a no-op success.
 */
export interface ChooseRoomRequest {
  room_id: Uuid;
}
/**
 * Create a room (name 1-64 characters after trimming, unique as names compare: case, width and invisible characters ignored); the creator owns it and joins it.
 */
export interface CreateRoomRequest {
  room_name: Name;
}
/**
 * Delete a room; owner only.
 */
export interface DelRoomRequest {
  room_id: Uuid;
}
/**
 * Delete a message you sent, or any message in a room you own.
 */
export interface DeleteMessageRequest {
  message_id: Uuid;
}
/**
 * Replace the text of a message you sent.
 */
export interface EditMessageRequest {
  message_id: Uuid;
  /**
   * 1-4000 characters, not only white space.
   */
  message: string;
}
/**
 * Leave a room.
 */
export interface ExitRoomRequest {
  room_id: Uuid;
}
export interface RoomHistory {
  room_id: RoomTarget;
  before?: Uuid;
  after?: Uuid;
  limit?: number;
}
export interface DirectHistory {
  user_id: Uuid;
  before?: Uuid;
  after?: Uuid;
  limit?: number;
}
/**
 * Rename a room; owner only.
 */
export interface RenameRoomRequest {
  room_id: Uuid;
  room_name: Name;
}
/**
 * List the members of a room you belong to, each with whether it is online, ordered by id: up to `limit` (1-1000, default 1000) after the user id `after` when given.
 */
export interface RoomMembersRequest {
  room_id: Uuid;
  limit?: number;
  after?: Uuid;
}
export interface SendToRoom {
  room_id: RoomTarget;
  /**
   * 1-4000 characters, not only white space.
   */
  message: string;
  client_msg_id?: ClientMsgId;
}
export interface SendToUser {
  user_id: Uuid;
  /**
   * 1-4000 characters, not only white space.
   */
  message: string;
  client_msg_id?: ClientMsgId;
}
export interface ShowRoomsPage {
  limit?: number;
  /**
   * The name of the last room of the previous page.
   */
  after?: string;
  [k: string]: unknown;
}
export interface RoomTyping {
  room_id: Uuid;
}
export interface DirectTyping {
  user_id: Uuid;
}
export interface ReplyDataMap {
  auth: AuthReply;
  change_name: ChangeNameReply;
  choose_room: ChooseRoomReply;
  conversations: ConversationsReply;
  create_room: CreateRoomReply;
  del_room: DelRoomReply;
  del_user: DelUserReply;
  delete_message: DeleteMessageReply;
  edit_message: EditMessageReply;
  exit_room: ExitRoomReply;
  history: HistoryReply;
  ping: PingReply;
  rename_room: RenameRoomReply;
  replace_token: ReplaceTokenReply;
  room_members: RoomMembersReply;
  send_message: SendMessageReply;
  show_rooms: ShowRoomsReply;
  sign_out: SignOutReply;
  typing: TypingReply;
}
/**
 * The account signed into, the rooms it is a member of, and `since`: where the connection's pushes for the account begin.
 */
export interface AuthReply {
  user: User;
  rooms: Room[];
  since: Uuid1;
  /**
   * Present once, at the first sign-in after an upgrade renamed the account: the name it had, which an older account holds under today's comparison of names. `user.username` is the name it has now.
   */
  renamed_from?: string;
}
export interface User {
  id: Uuid;
  username: string | null;
  /**
   * Present (true) when the account was deleted: `username` is then null.
   */
  deleted?: true;
}
export interface Room {
  id: Uuid;
  name: string;
  owner_id: Uuid;
  member_count: number;
}
/**
 * The account with its new name.
 */
export interface ChangeNameReply {
  user: User;
}
/**
 * The room joined and its last 50 messages, oldest first.
 */
export interface ChooseRoomReply {
  room: Room;
  history: Message[];
}
/**
 * A message in a room, or in the lobby (room_id "all").
 */
export interface RoomMessage {
  id: Uuid;
  from: User;
  text: string;
  ts: Timestamp;
  room_id: RoomTarget;
  client_msg_id?: ClientMsgId;
  edited_ts?: Timestamp;
}
/**
 * A direct message to one user.
 */
export interface DirectMessage {
  id: Uuid;
  from: User;
  text: string;
  ts: Timestamp;
  to_user_id: Uuid;
  client_msg_id?: ClientMsgId;
  edited_ts?: Timestamp;
}
/**
 * Your direct conversations, the one with the newest message first: the other account and the last message (null when none is kept). `has_more` when the reply budget cut the list short.
 */
export interface ConversationsReply {
  conversations: Conversation[];
  has_more: boolean;
}
/**
 * A direct conversation: the other account, and its last message (null when none is kept).
 */
export interface Conversation {
  user: User;
  last_message: Message | null;
}
/**
 * The new room.
 */
export interface CreateRoomReply {
  room: Room;
}
/**
 * The id of the deleted room.
 */
export interface DelRoomReply {
  room_id: Uuid;
}
/**
 * The id of the deleted account; a welcome push with a fresh guest account follows.
 */
export interface DelUserReply {
  deleted_user_id: Uuid;
}
/**
 * The id of the message deleted.
 */
export interface DeleteMessageReply {
  message_id: Uuid;
}
/**
 * The message as edited.
 */
export interface EditMessageReply {
  message: Message;
}
/**
 * The id of the room left.
 */
export interface ExitRoomReply {
  room_id: Uuid;
}
/**
 * A page of messages, oldest first; has_more tells whether older ones exist.
 */
export interface HistoryReply {
  messages: Message[];
  has_more: boolean;
}
/**
 * The server's time.
 */
export interface PingReply {
  ts: Timestamp;
}
/**
 * The renamed room.
 */
export interface RenameRoomReply {
  room: Room;
}
/**
 * The account and its new token; keep the token, the old one no longer signs in.
 */
export interface ReplaceTokenReply {
  user: User;
  token: string;
}
/**
 * A page of the room's members, ordered by id; `has_more` when more follow (pass the last id as `after`).
 */
export interface RoomMembersReply {
  room_id: Uuid;
  members: Member[];
  has_more: boolean;
}
/**
 * A room's member: its account, and whether it has a connection now.
 */
export interface Member {
  id: Uuid;
  username: string | null;
  online: boolean;
}
/**
 * The stored message.
 */
export interface SendMessageReply {
  message: Message;
}
/**
 * A page of rooms, sorted by name ignoring case; has_more tells whether more follow (ask again with `after` set to the last name).
 */
export interface ShowRoomsReply {
  rooms: RoomListing[];
  has_more: boolean;
}
export interface RoomListing {
  id: Uuid;
  name: string;
  owner_id: Uuid;
  member_count: number;
  joined: boolean;
}
/**
 * The id of the account this connection left; a welcome push with a fresh guest account follows.
 */
export interface SignOutReply {
  user_id: Uuid;
}
export interface RoomTypingReply {
  room_id: Uuid;
}
export interface DirectTypingReply {
  user_id: Uuid;
}
export interface PushDataMap {
  account_deleted: AccountDeletedPush;
  error: ErrorPush;
  member_joined: MemberJoinedPush;
  member_left: MemberLeftPush;
  message: MessagePush;
  message_deleted: MessageDeletedPush;
  message_edited: MessageEditedPush;
  presence: PresencePush;
  room_created: RoomCreatedPush;
  room_deleted: RoomDeletedPush;
  room_renamed: RoomRenamedPush;
  signed_in_elsewhere: SignedInElsewherePush;
  signed_out: SignedOutPush;
  user_renamed: UserRenamedPush;
  user_typing: UserTypingPush;
  welcome: WelcomePush;
}
/**
 * This connection's account was deleted from another connection; a welcome with a fresh guest account follows.
 */
export interface AccountDeletedPush {
  user_id: Uuid;
}
/**
 * A request failed, or a frame could not be read. Echoes the frame's ref when it had one.
 */
export interface ErrorPush {
  code:
    | "bad_json"
    | "bad_request"
    | "unknown_event"
    | "auth_failed"
    | "not_found"
    | "forbidden"
    | "not_member"
    | "name_taken"
    | "rate_limited"
    | "limit_reached"
    | "unavailable"
    | "internal";
  /**
   * A sentence for a person.
   */
  message: string;
  /**
   * The request's event name, when known.
   */
  request?: string;
  /**
   * What was wrong: for bad_request, each failing field; for rate_limited and unavailable, retry_after_ms.
   */
  details?: {
    fields?: {
      /**
       * JSON pointer into the frame, e.g. /data/room_id.
       */
      pointer: string;
      reason: string;
    }[];
    retry_after_ms?: number;
    [k: string]: unknown;
  };
}
/**
 * A user joined a room the connection's account is in.
 */
export interface MemberJoinedPush {
  room_id: Uuid;
  user: User;
}
/**
 * A user left a room the connection's account is in.
 */
export interface MemberLeftPush {
  room_id: Uuid;
  user: User;
}
/**
 * A message you could read was deleted: its id, and its conversation (a room, "all", or for a direct message the two accounts).
 */
export interface MessageDeletedPush {
  message_id: Uuid;
  room_id?: RoomTarget;
  from_user_id?: Uuid;
  to_user_id?: Uuid;
}
/**
 * A message you can read was edited: the message as it is now.
 */
export interface MessageEditedPush {
  message: Message;
}
/**
 * An account that shares a room or a direct conversation with yours came online (its first connection) or went offline (its last one closed).
 */
export interface PresencePush {
  user: User;
  online: boolean;
}
/**
 * A room was created, and by whom.
 */
export interface RoomCreatedPush {
  room: Room;
  by: User;
}
/**
 * A room was deleted; its members are no longer in it.
 */
export interface RoomDeletedPush {
  room_id: Uuid;
  room_name: string;
  by: User;
}
/**
 * A room was renamed, and by whom.
 */
export interface RoomRenamedPush {
  room: Room;
  by: User;
}
/**
 * Another connection signed into this connection's account.
 */
export interface SignedInElsewherePush {
  user_id: Uuid;
  ts: Timestamp;
}
/**
 * This connection was signed out of its account because another connection replaced the account's token; a welcome with a fresh guest account follows.
 */
export interface SignedOutPush {
  user_id: Uuid;
  reason: "token_replaced";
}
/**
 * A user who shares a room with the connection's account (or the account itself) changed name.
 */
export interface UserRenamedPush {
  user: User;
}
/**
 * Someone is typing: in the room `room_id`, or (without it) to you in your direct conversation.
 */
export interface UserTypingPush {
  user: User;
  room_id?: Uuid;
}
/**
 * The connection's current account, the secret token that signs into it later, and `since`: where the connection's pushes begin.
 */
export interface WelcomePush {
  user: User;
  token: string;
  since: Uuid2;
}
