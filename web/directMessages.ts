/**
 * The people this account writes to directly, newest first, saved per account so
 * that their conversations are listed again after a reload.
 */
import type { DirectMessage, User } from "../src/client/index.js";
import { dmKey } from "./model.js";
import type { Page } from "./page.js";
import { savePeers } from "./storage.js";
import type { AppState } from "./view.js";

function addPeer(state: AppState, user: User): void {
  const rest = state.peers.filter((p) => p.id !== user.id);
  state.peers = [user, ...rest];
  savePeers(state.me.id, state.peers);
}

/** Opens the direct conversation with `user`, listing them first. */
export function writeTo(page: Page, user: User): void {
  const { state } = page;
  if (user.id === state.me.id) return;
  state.users.set(user.id, user);
  addPeer(state, user);
  page.open(dmKey(user.id));
}

/** Lists first the other person of a message sent or received. */
export function addPeerOf(state: AppState, message: DirectMessage): void {
  const me = state.me.id;
  addPeer(state, message.from.id === me ? state.users.get(message.to_user_id) ?? { id: message.to_user_id, username: null } : message.from);
}

/** Keeps a renamed person's saved name current, in their place in the list. */
export function renamePeer(state: AppState, user: User): void {
  if (!state.peers.some((p) => p.id === user.id)) return;
  state.peers = state.peers.map((p) => (p.id === user.id ? user : p));
  savePeers(state.me.id, state.peers);
}
