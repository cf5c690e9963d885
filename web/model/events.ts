/**
 * Everything that can change the page's state: pushes and replies from the server
 * (translated, not raw frames), the connection's news, and what the person does.
 * Events that depend on the time carry it (`now`, ms) so that `apply` stays pure.
 */
import type { ConnectionState, Conversation as DirectConversation, Message, Room, RoomListing, User } from "../../src/client/index.js";
import type { ConvKey } from "./keys.js";
import type { Notice, NoticeArea } from "./state.js";

/** What the page kept of an account between visits (see browser/storage.ts). */
export interface SavedReadState {
  convs: Record<ConvKey, { unread: number; readUpTo: string | null; seenUpTo: string | null }>;
}

export type Event =
  // Time and the tab.
  | { type: "tick"; now: number }
  | { type: "visibility"; visible: boolean }
  // The connection.
  | { type: "connection"; state: ConnectionState; attempt?: number; delayMs?: number; now: number }
  | { type: "manualRetry"; phase: "trying" | "failed" }
  // The account.
  | { type: "signedIn"; user: User; read?: SavedReadState; outbox?: readonly { id: string; key: ConvKey; text: string; ts: string }[]; open?: ConvKey | null; notifications?: boolean }
  | { type: "userRenamed"; user: User }
  // Rooms.
  | { type: "rooms"; rooms: readonly RoomListing[]; now: number }
  | { type: "roomCreated"; room: Room; by: User; mine: boolean }
  | { type: "roomRenamed"; room: Room; by: User; now: number }
  | { type: "roomDeleted"; roomId: string; roomName: string; by: User; now: number }
  | { type: "joined"; room: Room; history: readonly Message[]; hasMore: boolean }
  | { type: "left"; roomId: string }
  | { type: "memberJoined"; roomId: string; user: User; now: number }
  | { type: "memberLeft"; roomId: string; user: User; now: number }
  | { type: "members"; roomId: string; members: readonly (User & { online: boolean })[] }
  | { type: "presence"; user: User; online: boolean }
  | { type: "startRename"; roomId: string }
  | { type: "endRename" }
  // Direct conversations.
  | { type: "conversations"; list: readonly DirectConversation[] }
  | { type: "writeTo"; user: User }
  | { type: "accountGone"; userId: string }
  // Messages.
  | { type: "message"; message: Message; now: number }
  | { type: "historyLoading"; key: ConvKey; loading: boolean }
  | { type: "history"; key: ConvKey; messages: readonly Message[]; hasMore: boolean; mode: "latest" | "older" }
  /** Read after a reload (or a fresh connection): messages newer than what the page had seen, to count. */
  | { type: "missed"; key: ConvKey; messages: readonly Message[]; hasMore: boolean }
  | { type: "edited"; message: Message }
  | { type: "deleted"; messageId: string }
  | { type: "typing"; key: ConvKey; user: User; now: number }
  // Sending.
  | { type: "queue"; id: string; key: ConvKey; text: string; ts: string }
  | { type: "sending"; id: string }
  | { type: "sent"; id: string; message: Message }
  | { type: "sendFailed"; id: string; error: string }
  /** Back in line without counting as a failure (rate limited, or the connection was replaced). */
  | { type: "requeue"; id: string }
  | { type: "retry"; id: string }
  | { type: "discard"; id: string }
  | { type: "startEdit"; messageId: string }
  | { type: "endEdit" }
  // Navigation and panels.
  /** `show`: on a narrow screen, switch to the conversation pane (not when the page opens one by itself). */
  | { type: "open"; key: ConvKey; show?: boolean }
  | { type: "pane"; pane: "list" | "conversation" }
  | { type: "toggleMembers" }
  | { type: "notifications"; on: boolean }
  | { type: "notice"; area: NoticeArea; notice: Notice | null };
