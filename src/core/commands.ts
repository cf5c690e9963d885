/**
 * Commands: a request plus everything non-deterministic it needs (new ids, the
 * time, token hashes), so that `reduce` stays pure and the same commands always
 * lead to the same state. Plain-text tokens never appear here, only their hashes.
 */
import type { Message, Ref, RoomTarget } from "../protocol/wire.generated.js";
import type { ConnId, MessageId, NodeId, RoomId, UserId } from "./model.js";

/** A fresh guest account: its id and the hash of the token handed to its connection. */
export interface NewAccount {
  id: UserId;
  tokenHash: string;
}

export interface Base {
  conn: ConnId;
  /** ISO-8601 time of the command's place in the log (the shell stamps it when it applies the entry). */
  ts: string;
}
export interface RequestBase extends Base {
  ref?: Ref;
}

export type Target = { room_id: RoomTarget } | { user_id: UserId };

/** A stored message and the key of its conversation (a room id, LOBBY or directKey(a, b)). */
export interface StoredMessage {
  key: string;
  message: Message;
}

export type Command =
  | (Base & { type: "connect"; guest: NewAccount })
  | (Base & { type: "disconnect" })
  | (RequestBase & { type: "auth"; user_id: UserId; tokenHash: string | null; openAuth: boolean })
  | (RequestBase & { type: "change_name"; username: string })
  /**
   * `guests` holds one fresh account for the connections of the deleted account that the requester's
   * node serves (their tokens can be handed out only there); its other connections end.
   */
  | (RequestBase & { type: "del_user"; guests: Array<NewAccount & { conn: ConnId }> })
  /**
   * `duplicateOf`: the message the account already sent with `clientMsgId`, found by the shell
   * when it applies the command (in what it has stored, and in the batch being applied).
   */
  | (RequestBase & { type: "send_message"; target: Target; text: string; messageId: MessageId; clientMsgId?: string; duplicateOf?: Message })
  | (RequestBase & { type: "create_room"; room_name: string; roomId: RoomId })
  | (RequestBase & { type: "rename_room"; room_id: RoomId; room_name: string })
  | (RequestBase & { type: "choose_room"; room_id: RoomId })
  | (RequestBase & { type: "show_rooms"; limit: number; after?: string })
  | (RequestBase & { type: "room_members"; room_id: RoomId; limit: number; after?: UserId })
  | (RequestBase & { type: "typing"; target: Target })
  /** `found`: the message and its conversation's key, looked up by the shell when it applies the command (absent: no such message). */
  | (RequestBase & { type: "edit_message"; message_id: MessageId; text: string; found?: StoredMessage })
  | (RequestBase & { type: "delete_message"; message_id: MessageId; found?: StoredMessage })
  | (RequestBase & { type: "del_room"; room_id: RoomId })
  | (RequestBase & { type: "exit_room"; room_id: RoomId })
  | (RequestBase & { type: "ping" })
  /** `guest` is the fresh account the connection moves to. */
  | (RequestBase & { type: "sign_out"; guest: NewAccount })
  /** `guests` holds a fresh account for the account's *other* connections on the requester's node, which are signed out; its connections elsewhere end. */
  | (RequestBase & { type: "replace_token"; tokenHash: string; guests: Array<NewAccount & { conn: ConnId }> })
  /** A node of the cluster stopped or was declared dead: every connection it served ends. `conn` is empty. */
  | (Base & { type: "node_gone"; node: NodeId });

export type CommandType = Command["type"];
export type CommandOf<T extends CommandType> = Extract<Command, { type: T }>;
