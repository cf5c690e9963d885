/**
 * The chat page: connects with the SDK (reconnecting by itself), signs back into
 * the account kept in localStorage, keeps the rooms list live from the pushes, and
 * turns every failed request into a message on the page.
 */
import { ChatClient, ChatError, type Message, type RequestDataMap, type User } from "../src/client/index.js";
import { byId } from "./dom.js";
import {
  addMessage,
  addNote,
  dmKey,
  keyOf,
  LOBBY,
  newConversation,
  oldestMessageId,
  parseKey,
  prependPage,
  roomKey,
  RoomList,
  type Conversation,
  type ConvKey,
} from "./model.js";
import { wireAccountDialog } from "./account.js";
import { notify } from "./notices.js";
import { loadAccount, loadOpen, loadPeers, saveAccount, saveOpen, savePeers } from "./storage.js";
import { describeError, displayName } from "./text.js";
import { conversationView, drawConversation, drawLists, drawMe, drawStatus, showPane, type Actions, type AppState, type RoomActions } from "./view.js";

const PAGE = 50;
const wide = (): boolean => window.matchMedia("(min-width: 721px)").matches;

class App implements Actions {
  readonly #client: ChatClient;
  readonly state: AppState;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #sending = false;
  readonly #roomActions: RoomActions = {
    rename: (id) => this.#startRename(id),
    remove: (id) => void this.#deleteRoom(id),
    leave: (id) => void this.#leave(id),
  };
  /** Set when the page itself closes the connection (signing out), so that is not reported as a failure. */
  #leaving = false;

  constructor(client: ChatClient) {
    this.#client = client;
    this.state = {
      me: client.user,
      rooms: new RoomList(),
      convs: new Map(),
      peers: loadPeers(client.user.id),
      users: new Map(),
      current: LOBBY,
    };
  }

  async start(): Promise<void> {
    this.#listen();
    this.#wireForms();
    drawStatus({ state: this.#client.state });
    await this.#signInSaved();
    await this.#adopt();
  }

  /** Runs a request; on failure shows what went wrong and resolves to undefined. */
  async #try<T>(action: string, run: () => Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      notify("error", describeError(action, err));
      return undefined;
    }
  }

  // ---- account ------------------------------------------------------------

  async #signInSaved(): Promise<void> {
    const saved = loadAccount();
    if (!saved || saved.user_id === this.#client.user.id) return;
    try {
      await this.#client.request("auth", { user_id: saved.user_id, token: saved.token });
    } catch (err) {
      if (err instanceof ChatError && err.code === "auth_failed") {
        if (saved.username !== null) {
          notify("error", `Your saved account “${saved.username}” could not be signed into: this server no longer knows it. You are a new guest now.`);
        }
      } else {
        notify("error", describeError("sign back into your account", err));
      }
    }
  }

  /** Takes up the client's current account: saved for the next visit, everything reloaded. */
  async #adopt(): Promise<void> {
    const me = this.#client.user;
    this.state.me = me;
    this.state.users.set(me.id, me);
    saveAccount(me, this.#client.token);
    this.state.peers = loadPeers(me.id);
    this.state.convs.clear();
    drawMe(this.state);
    await this.#refreshRooms();
    const saved = loadOpen(me.id);
    this.open(saved && this.#canOpen(saved) ? saved : LOBBY, { show: false, focus: false });
  }

  #setMe(user: User): void {
    this.state.me = user;
    this.state.users.set(user.id, user);
    saveAccount(user, this.#client.token);
    drawMe(this.state);
    this.#draw();
  }

  async #changeName(input: HTMLInputElement): Promise<boolean> {
    const reply = await this.#try("change your name", () => this.#client.request("change_name", { username: input.value }));
    if (!reply) return false;
    this.#setMe(reply.user);
    notify("info", `Your name is now “${displayName(reply.user)}”.`);
    return true;
  }

  // ---- rooms ----------------------------------------------------------------

  async #refreshRooms(): Promise<void> {
    const reply = await this.#try("load the rooms", () => this.#client.request("show_rooms"));
    if (!reply) return;
    this.state.rooms.replaceAll(reply.rooms);
    const current = parseKey(this.state.current);
    if (current?.kind === "room" && !this.state.rooms.get(current.id)) this.open(LOBBY, { show: false, focus: false });
    else this.#draw();
  }

  /** Member counts change with every join and leave; one refresh covers a burst of them. */
  #refreshRoomsSoon(): void {
    if (this.#refreshTimer !== null) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      if (this.#client.state === "open") void this.#refreshRooms();
    }, 150);
  }

  async #createRoom(input: HTMLInputElement): Promise<void> {
    const reply = await this.#try("create the room", () => this.#client.request("create_room", { room_name: input.value }));
    if (!reply) return;
    input.value = "";
    this.state.rooms.put(reply.room, true);
    const conv = newConversation();
    conv.loaded = true;
    this.state.convs.set(roomKey(reply.room.id), conv);
    this.open(roomKey(reply.room.id));
  }

  async #join(roomId: string): Promise<void> {
    const reply = await this.#try("join the room", () => this.#client.request("choose_room", { room_id: roomId }));
    if (!reply) return;
    this.state.rooms.put(reply.room, true);
    const conv = newConversation();
    for (const m of reply.history) addMessage(conv, m);
    conv.loaded = true;
    conv.hasMore = reply.history.length >= PAGE;
    this.state.convs.set(roomKey(roomId), conv);
    this.#draw(true);
    this.#focusComposer();
  }

  async #leave(roomId: string): Promise<void> {
    const reply = await this.#try("leave the room", () => this.#client.request("exit_room", { room_id: roomId }));
    if (!reply) return;
    this.state.rooms.setJoined(roomId, false);
    this.state.convs.delete(roomKey(roomId));
    this.#draw();
    this.#refreshRoomsSoon();
  }

  #startRename(roomId: string): void {
    const form = byId("rename-room", HTMLFormElement);
    const input = byId("rename-room-input", HTMLInputElement);
    form.dataset.room = roomId;
    input.value = this.state.rooms.get(roomId)?.name ?? "";
    form.hidden = false;
    input.focus();
    input.select();
  }

  #endRename(): void {
    byId("rename-room", HTMLFormElement).hidden = true;
  }

  async #rename(roomId: string, input: HTMLInputElement): Promise<void> {
    const reply = await this.#try("rename the room", () => this.#client.request("rename_room", { room_id: roomId, room_name: input.value }));
    if (!reply) return;
    this.state.rooms.put(reply.room);
    this.#endRename();
    this.#draw();
  }

  async #deleteRoom(roomId: string): Promise<void> {
    const room = this.state.rooms.get(roomId);
    if (!room || !window.confirm(`Delete the room “${room.name}” and all its messages, for everyone?`)) return;
    const reply = await this.#try("delete the room", () => this.#client.request("del_room", { room_id: roomId }));
    if (!reply) return;
    this.state.rooms.remove(roomId);
    this.state.convs.delete(roomKey(roomId));
    if (this.state.current === roomKey(roomId)) this.open(LOBBY, { focus: false });
    else this.#draw();
    notify("info", `You deleted the room “${room.name}”.`);
  }

  // ---- conversations --------------------------------------------------------

  #canOpen(key: ConvKey): boolean {
    const t = parseKey(key);
    if (!t) return false;
    if (t.kind === "room") return this.state.rooms.get(t.id) !== undefined;
    if (t.kind === "dm") return this.state.peers.some((p) => p.id === t.id);
    return true;
  }

  #conv(key: ConvKey): Conversation {
    let conv = this.state.convs.get(key);
    if (!conv) {
      conv = newConversation();
      this.state.convs.set(key, conv);
    }
    return conv;
  }

  open(key: ConvKey, { show = true, focus = true }: { show?: boolean; focus?: boolean } = {}): void {
    this.state.current = key;
    saveOpen(this.state.me.id, key);
    this.#endRename();
    const conv = this.#conv(key);
    conv.unread = 0;
    if (show) showPane("conversation");
    this.#draw(true);
    const t = parseKey(key);
    const readable = t?.kind !== "room" || this.state.rooms.get(t.id)?.joined === true;
    if (readable && !conv.loaded && !conv.loading) void this.#loadHistory(key, false);
    if (focus) this.#focusComposer();
  }

  writeTo(user: User): void {
    if (user.id === this.state.me.id) return;
    this.state.users.set(user.id, user);
    this.#addPeer(user);
    this.open(dmKey(user.id));
  }

  #addPeer(user: User): void {
    const rest = this.state.peers.filter((p) => p.id !== user.id);
    this.state.peers = [user, ...rest];
    savePeers(this.state.me.id, this.state.peers);
  }

  #historyTarget(key: ConvKey): RequestDataMap["history"] | null {
    const t = parseKey(key);
    if (!t) return null;
    if (t.kind === "lobby") return { room_id: "all" };
    if (t.kind === "room") return { room_id: t.id };
    return { user_id: t.id };
  }

  async #loadHistory(key: ConvKey, older: boolean): Promise<void> {
    const target = this.#historyTarget(key);
    const conv = this.#conv(key);
    if (!target || conv.loading) return;
    const before = older ? oldestMessageId(conv) : undefined;
    conv.loading = true;
    this.#drawIfCurrent(key);
    const reply = await this.#try(older ? "load older messages" : "load the messages", () =>
      this.#client.request("history", { ...target, limit: PAGE, ...(before === undefined ? {} : { before }) }),
    );
    conv.loading = false;
    if (reply) {
      if (older) prependPage(conv, reply.messages);
      else for (const m of reply.messages) addMessage(conv, m);
      conv.loaded = true;
      conv.hasMore = reply.has_more;
    }
    this.#drawIfCurrent(key, !older);
  }

  async #send(textarea: HTMLTextAreaElement): Promise<void> {
    const text = textarea.value;
    const t = parseKey(this.state.current);
    if (!t || this.#sending) return;
    if (text.trim() === "") {
      notify("error", "Write something first: a message cannot be empty.");
      return;
    }
    const data: RequestDataMap["send_message"] =
      t.kind === "dm" ? { user_id: t.id, message: text } : { room_id: t.kind === "lobby" ? "all" : t.id, message: text };
    this.#sending = true;
    const reply = await this.#try("send the message", () => this.#client.request("send_message", data));
    this.#sending = false;
    if (!reply) return;
    textarea.value = "";
    this.#receive(reply.message, true);
  }

  /** A message from a reply or a push: into its conversation, counted as unread when that is not open. */
  #receive(message: Message, stick = false): void {
    const me = this.state.me.id;
    this.state.users.set(message.from.id, message.from);
    const key = keyOf(message, me);
    if ("to_user_id" in message) {
      const peer = message.from.id === me ? this.state.users.get(message.to_user_id) ?? { id: message.to_user_id, username: null } : message.from;
      this.#addPeer(peer);
    }
    const conv = this.#conv(key);
    const fresh = conv.loaded ? addMessage(conv, message) : !conv.ids.has(message.id);
    if (fresh && key !== this.state.current && message.from.id !== me) conv.unread += 1;
    if (key === this.state.current) this.#draw(stick);
    else drawLists(this.state, this);
  }

  #note(roomId: string, text: string, user?: User): void {
    const conv = this.state.convs.get(roomKey(roomId));
    if (!conv?.loaded) return;
    addNote(conv, text, user);
    this.#drawIfCurrent(roomKey(roomId));
  }

  // ---- drawing --------------------------------------------------------------

  #draw(stick = false): void {
    drawLists(this.state, this);
    drawConversation(this.state, this, conversationView(this.state, this.#roomActions), stick);
    const join = byId("join", HTMLButtonElement);
    const t = parseKey(this.state.current);
    join.onclick = t?.kind === "room" ? () => void this.#join(t.id) : null;
  }

  #drawIfCurrent(key: ConvKey, stick = false): void {
    if (key === this.state.current) this.#draw(stick);
    else drawLists(this.state, this);
  }

  #focusComposer(): void {
    if (!wide()) {
      byId("conv-title", HTMLHeadingElement).focus();
      return;
    }
    const composer = byId("composer", HTMLFormElement);
    if (!composer.hidden) byId("composer-input", HTMLTextAreaElement).focus();
    else byId("join", HTMLButtonElement).focus();
  }

  // ---- server pushes --------------------------------------------------------

  #listen(): void {
    const c = this.#client;
    c.on("state", (change) => drawStatus(change));
    c.on("message", (m) => this.#receive(m));
    c.on("room_created", ({ room, by }) => {
      this.state.rooms.put(room, by.id === this.state.me.id ? true : undefined);
      this.state.users.set(by.id, by);
      drawLists(this.state, this);
    });
    c.on("room_renamed", ({ room, by }) => {
      const before = this.state.rooms.get(room.id)?.name;
      this.state.rooms.put(room);
      if (before !== undefined && before !== room.name) this.#note(room.id, `renamed the room from “${before}” to “${room.name}”.`, by);
      this.#draw();
    });
    c.on("room_deleted", ({ room_id, room_name, by }) => {
      const had = this.state.rooms.remove(room_id);
      this.state.convs.delete(roomKey(room_id));
      const byMe = by.id === this.state.me.id;
      if (!byMe && (had?.joined || this.state.current === roomKey(room_id))) {
        notify("info", `The room “${room_name}” was deleted by ${displayName(by)}.`);
      }
      if (this.state.current === roomKey(room_id)) this.open(LOBBY, { show: false, focus: false });
      else drawLists(this.state, this);
    });
    c.on("member_joined", ({ room_id, user }) => {
      this.state.users.set(user.id, user);
      if (user.id === this.state.me.id) this.state.rooms.setJoined(room_id, true);
      else this.#note(room_id, "joined the room.", user);
      this.#refreshRoomsSoon();
    });
    c.on("member_left", ({ room_id, user }) => {
      this.#note(room_id, "left the room.", user);
      this.#refreshRoomsSoon();
    });
    c.on("user_renamed", ({ user }) => {
      this.state.users.set(user.id, user);
      if (this.state.peers.some((p) => p.id === user.id)) {
        this.state.peers = this.state.peers.map((p) => (p.id === user.id ? user : p));
        savePeers(this.state.me.id, this.state.peers);
      }
      if (user.id === this.state.me.id) this.#setMe(user);
      else this.#draw();
    });
    c.on("signed_in_elsewhere", () => {
      notify("info", "Your account was just signed into somewhere else (another tab or device). You stay signed in here too.");
    });
    c.on("account_deleted", () => {
      notify("error", "Your account was deleted from another tab or device. You are now a new guest.");
    });
    c.on("welcome", () => void this.#adopt());
    c.on("error", (e) => notify("error", `The server reported a problem: ${e.message}`));
    c.on("reconnect", (info) => {
      if (!info.resumed) {
        notify("error", "Reconnected, but your account could not be signed back into (the server no longer knows it). You are a new guest now.");
        return;
      }
      this.state.me = info.user;
      // Messages may have come while the connection was down: read every conversation afresh.
      this.state.convs.clear();
      void this.#refreshRooms().then(() => this.open(this.state.current, { show: false, focus: false }));
    });
    c.on("close", () => this.#leaving || notify("error", "The connection to the server has closed. Reload the page to connect again."));
  }

  // ---- the page's own controls ----------------------------------------------

  #wireForms(): void {
    const onSubmit = (id: string, run: (form: HTMLFormElement) => Promise<unknown> | void): void => {
      const form = byId(id, HTMLFormElement);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        void run(form);
      });
    };
    onSubmit("pick-name", () => this.#changeName(byId("pick-name-input", HTMLInputElement)));
    onSubmit("name-form", () => this.#changeName(byId("name-input", HTMLInputElement)));
    onSubmit("create-room", () => this.#createRoom(byId("create-room-input", HTMLInputElement)));
    onSubmit("composer", () => this.#send(byId("composer-input", HTMLTextAreaElement)));
    onSubmit("rename-room", (form) => {
      const roomId = form.dataset.room;
      if (roomId) return this.#rename(roomId, byId("rename-room-input", HTMLInputElement));
    });

    byId("lobby-button", HTMLButtonElement).addEventListener("click", () => this.open(LOBBY));
    byId("rename-cancel", HTMLButtonElement).addEventListener("click", () => this.#endRename());
    byId("rename-room", HTMLFormElement).addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") this.#endRename();
    });
    byId("back", HTMLButtonElement).addEventListener("click", () => showPane("list"));
    byId("older", HTMLButtonElement).addEventListener("click", () => void this.#loadHistory(this.state.current, true));
    const log = byId("log", HTMLDivElement);
    let atBottom = true;
    log.addEventListener("scroll", () => {
      atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
      const conv = this.state.convs.get(this.state.current);
      if (log.scrollTop < 40 && conv?.hasMore && !conv.loading) void this.#loadHistory(this.state.current, true);
    });
    // A notice above, or the phone's keyboard, shrinks the log: keep the newest message in sight.
    new ResizeObserver(() => {
      if (atBottom) log.scrollTop = log.scrollHeight;
    }).observe(log);

    const textarea = byId("composer-input", HTMLTextAreaElement);
    textarea.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        byId("composer", HTMLFormElement).requestSubmit();
      }
    });

    wireAccountDialog({
      client: this.#client,
      me: () => this.state.me,
      adopt: () => this.#adopt(),
      leaving: () => {
        this.#leaving = true;
      },
    });
  }

}

async function main(): Promise<void> {
  const url = `${window.location.protocol === "https:" ? "wss:" : "ws:"}//${window.location.host}/ws`;
  let client: ChatClient;
  try {
    client = await ChatClient.connect(url, { reconnect: true });
  } catch {
    drawStatus({ state: "closed" });
    notify("error", "Could not connect to the chat server. Check that it is running, then reload the page.");
    return;
  }
  await new App(client).start();
}

void main();
