/** What the person can do, as requests to the server whose outcome goes into the state. */
import type { ChatClient } from "../../src/client/index.js";
import { forgetPage, saveAccount } from "../browser/storage.js";
import { findMessage } from "../model/conversation.js";
import { dmKey, parseKey, roomKey, type ConvKey } from "../model/keys.js";
import { person } from "../model/select.js";
import type { Actions } from "../view/actions.js";
import { displayName } from "../text/names.js";
import type { Connection } from "./connection.js";
import type { Ctx } from "./context.js";
import { loadLatest, loadMembers, loadOlder, loadRooms, PAGE } from "./loaders.js";
import { run } from "./run.js";
import type { Sender } from "./sender.js";
import type { Session } from "./session.js";
import { ask } from "./ask.js";
import type { Event } from "../model/events.js";

/** A random UUID for `client_msg_id`; getRandomValues works where randomUUID does not (plain http on another host). */
export function newClientMsgId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class PageActions implements Actions {
  readonly #ctx: Ctx;
  readonly #connection: Connection;
  readonly #sender: Sender;
  readonly #session: Session;

  constructor(ctx: Ctx, connection: Connection, sender: Sender, session: Session) {
    this.#ctx = ctx;
    this.#connection = connection;
    this.#sender = sender;
    this.#session = session;
  }

  get #store() {
    return this.#ctx.store;
  }

  #client(): ChatClient | null {
    return this.#ctx.client();
  }

  dispatch(event: Event): void {
    this.#store.dispatch(event);
  }

  /** Opens a conversation and reads what it needs: its newest messages, a room's members, a room's current count. */
  open(key: ConvKey, show = true): void {
    this.#store.dispatch({ type: "open", key, show });
    const { state } = this.#store;
    const conv = state.convs[key];
    const t = parseKey(key);
    if (t?.kind === "room") {
      const room = state.rooms[t.id];
      if (!room?.joined) {
        // Rooms one is not in get no pushes about their members: their count is read when shown.
        void loadRooms(this.#ctx);
        return;
      }
      if (!(t.id in state.members)) void loadMembers(this.#ctx, t.id);
    }
    if (conv && !conv.loaded && !conv.loading && !conv.gone) void loadLatest(this.#ctx, key);
  }

  writeTo(userId: string): void {
    if (userId === this.#store.state.me?.id) return;
    const p = person(this.#store.state, userId);
    this.#store.dispatch({ type: "writeTo", user: { id: p.id, username: p.username, ...(p.deleted ? { deleted: true as const } : {}) } });
    this.open(dmKey(userId));
  }

  async join(roomId: string): Promise<void> {
    const reply = await run(this.#ctx, "room", "join the room", () => ask(this.#client(), "choose_room", { room_id: roomId }));
    if (!reply) return;
    this.#store.dispatch({ type: "joined", room: reply.room, history: reply.history, hasMore: reply.history.length >= PAGE });
    await loadMembers(this.#ctx, roomId);
  }

  async leave(roomId: string): Promise<void> {
    const reply = await run(this.#ctx, "room", "leave the room", () => ask(this.#client(), "exit_room", { room_id: roomId }));
    if (reply) this.#store.dispatch({ type: "left", roomId });
  }

  async removeRoom(roomId: string): Promise<void> {
    const room = this.#store.state.rooms[roomId];
    if (!room || !window.confirm(`Delete the room “${room.name}” and all its messages, for everyone?`)) return;
    // The room_deleted push (which reaches this page too) takes it off the page.
    await run(this.#ctx, "room", "delete the room", () => ask(this.#client(), "del_room", { room_id: roomId }));
  }

  async rename(roomId: string, name: string): Promise<boolean> {
    const reply = await run(this.#ctx, "room", "rename the room", () => ask(this.#client(), "rename_room", { room_id: roomId, room_name: name }));
    if (!reply) return false;
    const me = this.#store.state.me;
    if (me) this.#store.dispatch({ type: "roomRenamed", room: reply.room, by: { id: me.id, username: me.username }, now: Date.now() });
    this.#store.dispatch({ type: "endRename" });
    return true;
  }

  async createRoom(name: string): Promise<boolean> {
    const reply = await run(this.#ctx, "sidebar", "create the room", () => ask(this.#client(), "create_room", { room_name: name }));
    const me = this.#store.state.me;
    if (!reply || !me) return false;
    this.#store.dispatch({ type: "roomCreated", room: reply.room, by: { id: me.id, username: me.username }, mine: true });
    this.#store.dispatch({ type: "joined", room: reply.room, history: [], hasMore: false });
    this.open(roomKey(reply.room.id));
    void loadMembers(this.#ctx, reply.room.id);
    return true;
  }

  async changeName(name: string, area: "name" | "account"): Promise<boolean> {
    const reply = await run(this.#ctx, area, "change your name", () => ask(this.#client(), "change_name", { username: name }));
    if (!reply) return false;
    this.#store.dispatch({ type: "userRenamed", user: reply.user });
    const client = this.#client();
    if (client) saveAccount(reply.user, client.token);
    // Picked in the list's card, the new name shows at once at the top; in the Account panel it is said there.
    if (area === "account") this.#store.dispatch({ type: "notice", area: "account", notice: { kind: "info", text: `Your name is now “${displayName(reply.user)}”.`, until: Date.now() + 8000 } });
    return true;
  }

  /** Puts a message in the outbox: shown at once as sending, the box is free for the next one. */
  send(text: string): void {
    const key = this.#store.state.current;
    this.#store.dispatch({ type: "queue", id: newClientMsgId(), key, text, ts: new Date().toISOString() });
    this.#sender.pump();
  }

  async saveEdit(messageId: string, text: string): Promise<boolean> {
    const before = findMessage(this.#store.state.convs[this.#store.state.current]?.entries ?? [], messageId);
    if (before?.text === text) {
      this.#store.dispatch({ type: "endEdit" });
      return true;
    }
    const reply = await run(this.#ctx, "composer", "edit the message", () => ask(this.#client(), "edit_message", { message_id: messageId, message: text }));
    if (!reply) return false;
    this.#store.dispatch({ type: "edited", message: reply.message });
    this.#store.dispatch({ type: "endEdit" });
    return true;
  }

  editMessage(messageId: string): void {
    this.#store.dispatch({ type: "startEdit", messageId });
  }

  async deleteMessage(messageId: string): Promise<void> {
    if (!window.confirm("Delete this message for everyone?")) return;
    const reply = await run(this.#ctx, "conversation", "delete the message", () => ask(this.#client(), "delete_message", { message_id: messageId }));
    if (reply) this.#store.dispatch({ type: "deleted", messageId });
  }

  retrySend(id: string): void {
    this.#store.dispatch({ type: "retry", id });
    this.#sender.pump();
  }

  discardSend(id: string): void {
    this.#store.dispatch({ type: "discard", id });
  }

  olderPage(): void {
    void loadOlder(this.#ctx, this.#store.state.current);
  }

  retryNow(): void {
    void this.#connection.retryNow();
  }

  // The account panel.

  async signIn(userId: string, token: string): Promise<boolean> {
    const client = this.#client();
    const reply = await run(this.#ctx, "account", "sign in", () => ask(client, "auth", { user_id: userId, token }));
    if (!reply || !client) return false;
    await this.#session.adopt(client);
    this.#store.dispatch({ type: "notice", area: "global", notice: { kind: "info", text: `Signed in as ${displayName(reply.user)}.`, until: Date.now() + 8000 } });
    return true;
  }

  /** Signs out to a new guest: the server's welcome that follows brings the page the new account. */
  async signOut(): Promise<boolean> {
    return (await run(this.#ctx, "account", "sign out", () => ask(this.#client(), "sign_out"))) !== undefined;
  }

  async replaceToken(): Promise<string | null> {
    const client = this.#client();
    const reply = await run(this.#ctx, "account", "replace your token", () => ask(client, "replace_token"));
    if (!reply || !client) return null;
    saveAccount(reply.user, reply.token);
    this.#store.dispatch({ type: "notice", area: "account", notice: { kind: "info", text: "Your token was replaced: the old one no longer signs in, and other devices were signed out. This page keeps the new one." } });
    return reply.token;
  }

  async deleteAccount(): Promise<boolean> {
    if (!window.confirm("Delete your account for good? Rooms you own are deleted with it.")) return false;
    const reply = await run(this.#ctx, "account", "delete your account", () => ask(this.#client(), "del_user"));
    if (!reply) return false;
    forgetPage(reply.deleted_user_id);
    this.#store.dispatch({ type: "notice", area: "global", notice: { kind: "info", text: "Your account was deleted. You are a new guest now.", until: Date.now() + 8000 } });
    return true;
  }
}
