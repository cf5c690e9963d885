/**
 * The page's whole state as plain, read-only data. `apply.ts` is the only thing that
 * makes a new one; the view draws it; nothing here knows about the DOM or the socket,
 * so all of it can be tested without a browser.
 */
import type { ConnectionState, Message, RoomListing } from "../../src/client/index.js";
import { LOBBY, type ConvKey } from "./keys.js";

/** What the page knows of an account: the latest name seen, and whether it is online or gone. */
export interface Person {
  id: string;
  username: string | null;
  /** The account was deleted: shown as such, never as a live name. */
  deleted?: boolean;
  /** Known only from `room_members` and `presence`; undefined when never told. */
  online?: boolean;
}

/** One line of a conversation: a stored message, or a note such as "Bob joined the room". */
export type Entry =
  | { kind: "message"; message: Message }
  | { kind: "note"; id: string; ts: string; userId?: string; text: string };

export interface Conv {
  /** Oldest first: messages by id (ids sort in the server's order), notes where they happened. */
  entries: readonly Entry[];
  /** The newest page was read (what came live before that is kept too, and joined to it). */
  loaded: boolean;
  /** Older messages exist on the server. */
  hasMore: boolean;
  loading: boolean;
  /** Messages from others, newer than `readUpTo`, that arrived while the conversation was not in view. */
  unread: number;
  /** The newest message id the person has seen (or written) here. */
  readUpTo: string | null;
  /** The newest message id the page has taken in here, counted or not: no message is counted twice. */
  seenUpTo: string | null;
  /** While open after unread messages: the "New messages" line goes before the first newer one. */
  dividerAfter: string | null;
  /** The conversation cannot be read any more: the other account was deleted. */
  gone: boolean;
}

export type SendStatus = "queued" | "sending" | "failed";

/** A message the person wrote that the server has not confirmed yet. */
export interface Outgoing {
  /** The `client_msg_id`: the same for every try, so that a retry can never store it twice. */
  id: string;
  key: ConvKey;
  text: string;
  /** When it was written (the page's clock), to place it and show its time. */
  ts: string;
  status: SendStatus;
  /** Why it failed, as a sentence. */
  error?: string;
}

/** Where a notice is shown: next to what it is about. One notice per place; a new one replaces it. */
export type NoticeArea = "global" | "name" | "sidebar" | "room" | "conversation" | "composer" | "account";

export interface Notice {
  kind: "error" | "info";
  text: string;
  /** Gone by itself at this time (ms); errors stay until replaced, dismissed or the thing succeeds. */
  until?: number;
  /** Caused by being offline: cleared once the connection is back. */
  offline?: boolean;
}

export interface ConnectionView {
  state: ConnectionState;
  attempt?: number;
  /** While reconnecting: when the next attempt starts (ms), for the countdown. */
  retryAt?: number;
  /** "Retry now" was pressed: trying, or that try failed. */
  manual?: "trying" | "failed";
}

export interface State {
  /** The clock as of the last event that carried it (ms). */
  now: number;
  /** The tab is shown: messages arriving in the open conversation count as read. */
  visible: boolean;
  connection: ConnectionView;
  me: Person | null;
  people: Readonly<Record<string, Person>>;
  rooms: Readonly<Record<string, RoomListing>>;
  /** When the room list (and its member counts) was last read from the server. */
  roomsAt: number | null;
  /** People with a direct conversation, newest first (from the server's `conversations`, then live). */
  dms: readonly string[];
  convs: Readonly<Record<ConvKey, Conv>>;
  current: ConvKey;
  /** On a narrow screen one pane shows at a time. */
  pane: "list" | "conversation";
  outbox: readonly Outgoing[];
  /** Member ids of rooms whose member list was read, kept current by pushes. */
  members: Readonly<Record<string, readonly string[]>>;
  /** Per conversation, who is typing and until when (ms). */
  typing: Readonly<Record<ConvKey, Readonly<Record<string, number>>>>;
  notices: Readonly<Partial<Record<NoticeArea, Notice>>>;
  /** Editing one of one's own messages in the composer. */
  editing: { key: ConvKey; messageId: string } | null;
  /** The room whose rename form is open. */
  renaming: string | null;
  /** The member list on a narrow screen (on a wide one it is always beside the messages). */
  showMembers: boolean;
  /** Browser notifications for direct messages and mentions: the person opted in. */
  notifications: boolean;
}

export function emptyConv(): Conv {
  return { entries: [], loaded: false, hasMore: false, loading: false, unread: 0, readUpTo: null, seenUpTo: null, dividerAfter: null, gone: false };
}

export function initialState(now = 0): State {
  return {
    now,
    visible: true,
    connection: { state: "connecting" },
    me: null,
    people: {},
    rooms: {},
    roomsAt: null,
    dms: [],
    convs: {},
    current: LOBBY,
    pane: "list",
    outbox: [],
    members: {},
    typing: {},
    notices: {},
    editing: null,
    renaming: null,
    showMembers: false,
    notifications: false,
  };
}
