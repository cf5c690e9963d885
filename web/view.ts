/**
 * Draws the state: the account line, the connection status, the conversation lists
 * and the open conversation. Every list is rebuilt from the state when it changes
 * (they are short); user text only ever becomes text nodes.
 */
import type { ConnectionState, Message, RoomListing, StateChange, User } from "../src/client/index.js";
import { byId, fill, h } from "./dom.js";
import { dmKey, LOBBY, parseKey, roomKey, type Conversation, type ConvKey, type Entry, type RoomList } from "./model.js";
import { displayName, longTime, shortTime } from "./text.js";

export interface AppState {
  me: User;
  rooms: RoomList;
  convs: Map<ConvKey, Conversation>;
  /** People with a direct conversation, newest first. */
  peers: User[];
  /** The latest name seen for each user id. */
  users: Map<string, User>;
  current: ConvKey;
}

/** What clicking in the drawn page asks the app to do. */
export interface Actions {
  open(key: ConvKey): void;
  writeTo(user: User): void;
}

const el = {
  meName: () => byId("me-name", HTMLElement),
  status: () => byId("status", HTMLParagraphElement),
  pickName: () => byId("pick-name", HTMLFormElement),
  myRooms: () => byId("my-rooms", HTMLUListElement),
  otherRooms: () => byId("other-rooms", HTMLUListElement),
  dmList: () => byId("dm-list", HTMLUListElement),
  lobby: () => byId("lobby-button", HTMLButtonElement),
  title: () => byId("conv-title", HTMLHeadingElement),
  sub: () => byId("conv-sub", HTMLParagraphElement),
  actions: () => byId("conv-actions", HTMLDivElement),
  log: () => byId("log", HTMLDivElement),
  older: () => byId("older", HTMLButtonElement),
  empty: () => byId("log-empty", HTMLParagraphElement),
  messages: () => byId("messages", HTMLOListElement),
  joinPanel: () => byId("join-panel", HTMLDivElement),
  joinText: () => byId("join-text", HTMLParagraphElement),
  composer: () => byId("composer", HTMLFormElement),
  composerInput: () => byId("composer-input", HTMLTextAreaElement),
  composerLabel: () => byId("composer-label", HTMLLabelElement),
};

/** The latest known version of a user (names change). */
function latest(state: AppState, user: User): User {
  return state.users.get(user.id) ?? user;
}

export function drawMe(state: AppState): void {
  el.meName().textContent = displayName(state.me);
  el.pickName().hidden = state.me.username !== null;
}

const STATUS_TEXT: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Connection lost. Reconnecting…",
  closed: "Disconnected. Reload the page to connect again.",
};

export function drawStatus(change: StateChange): void {
  document.body.dataset.state = change.state;
  let text = STATUS_TEXT[change.state];
  if (change.state === "reconnecting" && change.delayMs !== undefined) {
    text = `Connection lost. Trying again in ${Math.max(1, Math.round(change.delayMs / 1000))} s (attempt ${change.attempt ?? 1})…`;
  }
  el.status().textContent = text;
}

function badge(conv: Conversation | undefined): HTMLElement | null {
  if (!conv || conv.unread === 0) return null;
  return h("span", { class: "badge", "aria-label": `${conv.unread} unread` }, conv.unread > 99 ? "99+" : String(conv.unread));
}

function convButton(state: AppState, actions: Actions, key: ConvKey, name: string, meta: string): HTMLLIElement {
  const current = state.current === key;
  return h(
    "li",
    {},
    h(
      "button",
      { type: "button", class: "conv", "data-key": key, "aria-current": current ? "page" : undefined, onclick: () => actions.open(key) },
      h("span", { class: "conv-name", title: name }, name),
      h("span", { class: "conv-meta" }, meta),
      badge(state.convs.get(key)),
    ),
  );
}

function roomMeta(state: AppState, room: RoomListing): string {
  const people = `${room.member_count} ${room.member_count === 1 ? "member" : "members"}`;
  return room.owner_id === state.me.id ? `${people} · yours` : people;
}

export function drawLists(state: AppState, actions: Actions): void {
  const lobby = el.lobby();
  if (state.current === LOBBY) lobby.setAttribute("aria-current", "page");
  else lobby.removeAttribute("aria-current");
  const lobbyBadge = badge(state.convs.get(LOBBY));
  fill(lobby, h("span", { class: "conv-name" }, "Lobby"), h("span", { class: "conv-meta" }, "everyone"), lobbyBadge);

  const rooms = state.rooms.sorted();
  const mine = rooms.filter((r) => r.joined);
  const others = rooms.filter((r) => !r.joined);
  fill(el.myRooms(), ...mine.map((r) => convButton(state, actions, roomKey(r.id), r.name, roomMeta(state, r))));
  if (mine.length === 0) el.myRooms().append(h("li", { class: "none" }, "None yet: create one, or join one below."));
  fill(el.otherRooms(), ...others.map((r) => convButton(state, actions, roomKey(r.id), r.name, roomMeta(state, r))));
  if (others.length === 0) el.otherRooms().append(h("li", { class: "none" }, "No other rooms."));
  fill(el.dmList(), ...state.peers.map((u) => convButton(state, actions, dmKey(u.id), displayName(latest(state, u)), "direct")));
  if (state.peers.length === 0) el.dmList().append(h("li", { class: "none" }, "No conversations yet."));
}

/** The button that opens a direct conversation with `user`; just the name for oneself. */
function nameOf(state: AppState, actions: Actions, user: User): HTMLElement {
  const u = latest(state, user);
  if (u.id === state.me.id) return h("span", { class: "name me" }, `${displayName(u)} (you)`);
  return h(
    "button",
    { type: "button", class: "name", title: `Write to ${displayName(u)} directly`, onclick: () => actions.writeTo(u) },
    displayName(u),
  );
}

/** Messages from one sender within this many ms of the one before are drawn as one group. */
const GROUP_MS = 5 * 60_000;

function continues(prev: Entry | undefined, m: Message): boolean {
  if (prev?.kind !== "message") return false;
  return prev.message.from.id === m.from.id && Date.parse(m.ts) - Date.parse(prev.message.ts) < GROUP_MS;
}

function drawEntry(state: AppState, actions: Actions, entry: Entry, prev: Entry | undefined): HTMLLIElement {
  if (entry.kind === "note") {
    return h("li", { class: "note" }, entry.user ? nameOf(state, actions, entry.user) : null, entry.user ? " " : null, entry.text);
  }
  const m: Message = entry.message;
  const mine = m.from.id === state.me.id ? " mine" : "";
  if (continues(prev, m)) {
    // The name and time are shown once per group; screen readers still hear who wrote each line.
    return h(
      "li",
      { class: `msg cont${mine}`, "data-id": m.id, title: longTime(m.ts) },
      h("span", { class: "visually-hidden" }, `${displayName(latest(state, m.from))}, ${shortTime(m.ts)}: `),
      h("p", { class: "msg-text" }, m.text),
    );
  }
  return h(
    "li",
    { class: `msg${mine}`, "data-id": m.id },
    h("div", { class: "msg-head" }, nameOf(state, actions, m.from), h("time", { datetime: m.ts, title: longTime(m.ts) }, shortTime(m.ts))),
    h("p", { class: "msg-text" }, m.text),
  );
}

export interface ConversationView {
  title: string;
  subtitle: string;
  /** Buttons for the header (join, leave, rename, delete). */
  actions: HTMLElement[];
  /** Set when the conversation cannot be read until the person joins. */
  joinText?: string;
  empty: string;
}

/** What the room header's buttons do. */
export interface RoomActions {
  rename(roomId: string): void;
  remove(roomId: string): void;
  leave(roomId: string): void;
}

/** The open conversation's title, subtitle, header buttons and empty-state text. */
export function conversationView(state: AppState, rooms: RoomActions): ConversationView {
  const t = parseKey(state.current);
  if (t?.kind === "room") {
    const room = state.rooms.get(t.id);
    if (!room) return { title: "Room not found", subtitle: "", actions: [], empty: "" };
    const owner = room.owner_id === state.me.id;
    const people = `${room.member_count} ${room.member_count === 1 ? "member" : "members"}`;
    const button = (label: string, run: () => void, cls = ""): HTMLButtonElement =>
      h("button", { type: "button", class: cls, onclick: run }, label);
    const actions = room.joined
      ? [
          ...(owner
            ? [button("Rename", () => rooms.rename(room.id)), button("Delete room", () => rooms.remove(room.id), "danger")]
            : []),
          button("Leave room", () => rooms.leave(room.id)),
        ]
      : [];
    const view: ConversationView = {
      title: room.name,
      subtitle: owner ? `${people} · you own this room` : people,
      actions,
      empty: "No messages here yet. Write the first one.",
    };
    if (!room.joined) view.joinText = `You are not a member of “${room.name}”. Join to read its messages and write in it.`;
    return view;
  }
  if (t?.kind === "dm") {
    const peer = state.users.get(t.id) ?? state.peers.find((p) => p.id === t.id) ?? { id: t.id, username: null };
    return {
      title: displayName(peer),
      subtitle: "Direct messages: only the two of you read them.",
      actions: [],
      empty: `No messages with ${displayName(peer)} yet. Write the first one.`,
    };
  }
  return { title: "Lobby", subtitle: "Everyone connected reads the lobby.", actions: [], empty: "No messages in the lobby yet. Say hello!" };
}

/** Where the log is scrolled, so that redrawing keeps the reader's place. */
type Anchor = { atBottom: boolean; fromBottom: number };

function anchorOf(log: HTMLElement): Anchor {
  const fromBottom = log.scrollHeight - log.scrollTop - log.clientHeight;
  return { atBottom: fromBottom < 48, fromBottom };
}

/** Draws the open conversation; `stick` scrolls to the newest message. */
export function drawConversation(state: AppState, actions: Actions, view: ConversationView, stick = false): void {
  el.title().textContent = view.title;
  el.sub().textContent = view.subtitle;
  fill(el.actions(), ...view.actions);
  document.title = `${view.title} · Chat`;

  const conv = state.convs.get(state.current);
  const log = el.log();
  const anchor = anchorOf(log);
  const blocked = view.joinText !== undefined;
  el.joinPanel().hidden = !blocked;
  el.joinText().textContent = view.joinText ?? "";
  el.composer().hidden = blocked;
  el.composerLabel().textContent = `Message to ${view.title}`;
  el.composerInput().placeholder = "Write a message… (Enter sends, Shift+Enter for a new line)";

  const entries = blocked || !conv ? [] : conv.entries;
  fill(el.messages(), ...entries.map((e, i) => drawEntry(state, actions, e, entries[i - 1])));
  const older = el.older();
  const hadFocus = document.activeElement === older;
  older.hidden = blocked || !conv?.hasMore;
  // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
  older.setAttribute("aria-disabled", String(conv?.loading ?? false));
  older.textContent = conv?.loading ? "Loading…" : "Load older messages";
  if (hadFocus && older.hidden) log.focus();
  const empty = el.empty();
  empty.hidden = blocked || entries.length > 0 || !conv?.loaded;
  empty.textContent = view.empty;

  if (stick || anchor.atBottom) log.scrollTop = log.scrollHeight;
  else log.scrollTop = log.scrollHeight - log.clientHeight - anchor.fromBottom;
}

/** Shows the list or the conversation on a narrow screen (both on a wide one). */
export function showPane(pane: "list" | "conversation"): void {
  document.body.dataset.view = pane;
}

/** Matches style.css: from this width the list and the conversation stand side by side. */
const wide = (): boolean => window.matchMedia("(min-width: 721px)").matches;

/**
 * Puts the keyboard in a conversation just opened: on a wide screen in its composer (its
 * join button while it cannot be written in), on a narrow one on its title.
 */
export function focusComposer(): void {
  if (!wide()) {
    el.title().focus();
    return;
  }
  if (!el.composer().hidden) el.composerInput().focus();
  else byId("join", HTMLButtonElement).focus();
}

export function peerOf(key: ConvKey): string | null {
  const t = parseKey(key);
  return t?.kind === "dm" ? t.id : null;
}
