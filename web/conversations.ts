/**
 * Which conversation is open, and what arrives into conversations: messages (from
 * replies and pushes) and notes such as "alice joined the room".
 */
import type { Message, User } from "../src/client/index.js";
import { addPeerOf } from "./directMessages.js";
import { loadHistory } from "./history.js";
import { addMessage, addNote, conversationFor, keyOf, parseKey, roomKey, type ConvKey } from "./model.js";
import type { OpenOptions, Page } from "./page.js";
import { endRename } from "./rooms.js";
import { saveOpen } from "./storage.js";
import { focusComposer, showPane, type AppState } from "./view.js";

/** Whether `key` still names a conversation of this account (a saved one may be gone). */
export function canOpen(state: AppState, key: ConvKey): boolean {
  const t = parseKey(key);
  if (!t) return false;
  if (t.kind === "room") return state.rooms.get(t.id) !== undefined;
  if (t.kind === "dm") return state.peers.some((p) => p.id === t.id);
  return true;
}

export function openConversation(page: Page, key: ConvKey, { show = true, focus = true }: OpenOptions = {}): void {
  const { state } = page;
  state.current = key;
  saveOpen(state.me.id, key);
  endRename();
  const conv = conversationFor(state.convs, key);
  conv.unread = 0;
  if (show) showPane("conversation");
  page.draw(true);
  const t = parseKey(key);
  const readable = t?.kind !== "room" || state.rooms.get(t.id)?.joined === true;
  if (readable && !conv.loaded && !conv.loading) void loadHistory(page, key, false);
  if (focus) focusComposer();
}

/** A message from a reply or a push: into its conversation, counted as unread when that is not open. */
export function receive(page: Page, message: Message, stick = false): void {
  const { state } = page;
  const me = state.me.id;
  state.users.set(message.from.id, message.from);
  const key = keyOf(message, me);
  if ("to_user_id" in message) addPeerOf(state, message);
  const conv = conversationFor(state.convs, key);
  const fresh = conv.loaded ? addMessage(conv, message) : !conv.ids.has(message.id);
  if (fresh && key !== state.current && message.from.id !== me) conv.unread += 1;
  page.drawIfCurrent(key, stick);
}

/** A note such as "joined the room", kept only in a room whose history is already loaded. */
export function noteInRoom(page: Page, roomId: string, text: string, user?: User): void {
  const conv = page.state.convs.get(roomKey(roomId));
  if (!conv?.loaded) return;
  addNote(conv, text, user);
  page.drawIfCurrent(roomKey(roomId));
}
