/** What the server and the connection tell the page unasked, and how the page follows it. */
import { noteInRoom, receive } from "./conversations.js";
import { renamePeer } from "./directMessages.js";
import { LOBBY, roomKey } from "./model.js";
import { notify } from "./notices.js";
import type { Page } from "./page.js";
import type { Rooms } from "./rooms.js";
import type { Session } from "./session.js";
import { displayName } from "./text.js";
import { drawStatus } from "./view.js";

export function listenToPushes(page: Page, rooms: Rooms, session: Session): void {
  const { client: c, state } = page;
  c.on("state", (change) => drawStatus(change));
  c.on("message", (m) => receive(page, m));
  c.on("room_created", ({ room, by }) => {
    state.rooms.put(room, by.id === state.me.id ? true : undefined);
    state.users.set(by.id, by);
    page.drawLists();
  });
  c.on("room_renamed", ({ room, by }) => {
    const before = state.rooms.get(room.id)?.name;
    state.rooms.put(room);
    if (before !== undefined && before !== room.name) noteInRoom(page, room.id, `renamed the room from “${before}” to “${room.name}”.`, by);
    page.draw();
  });
  c.on("room_deleted", ({ room_id, room_name, by }) => {
    const had = state.rooms.remove(room_id);
    state.convs.delete(roomKey(room_id));
    const byMe = by.id === state.me.id;
    if (!byMe && (had?.joined || state.current === roomKey(room_id))) {
      notify("info", `The room “${room_name}” was deleted by ${displayName(by)}.`);
    }
    if (state.current === roomKey(room_id)) page.open(LOBBY, { show: false, focus: false });
    else page.drawLists();
  });
  c.on("member_joined", ({ room_id, user }) => {
    state.users.set(user.id, user);
    if (user.id === state.me.id) state.rooms.setJoined(room_id, true);
    else noteInRoom(page, room_id, "joined the room.", user);
    rooms.refreshSoon();
  });
  c.on("member_left", ({ room_id, user }) => {
    noteInRoom(page, room_id, "left the room.", user);
    rooms.refreshSoon();
  });
  c.on("user_renamed", ({ user }) => {
    state.users.set(user.id, user);
    renamePeer(state, user);
    if (user.id === state.me.id) session.setMe(user);
    else page.draw();
  });
  c.on("signed_in_elsewhere", () => {
    notify("info", "Your account was just signed into somewhere else (another tab or device). You stay signed in here too.");
  });
  c.on("account_deleted", () => {
    notify("error", "Your account was deleted from another tab or device. You are now a new guest.");
  });
  c.on("welcome", () => void session.adopt());
  c.on("error", (e) => notify("error", `The server reported a problem: ${e.message}`));
  c.on("reconnect", (info) => {
    if (!info.resumed) {
      notify("error", "Reconnected, but your account could not be signed back into (the server no longer knows it). You are a new guest now.");
      return;
    }
    state.me = info.user;
    // Messages may have come while the connection was down: read every conversation afresh.
    state.convs.clear();
    void rooms.refresh().then(() => page.open(state.current, { show: false, focus: false }));
  });
  c.on("close", () => session.leaving || notify("error", "The connection to the server has closed. Reload the page to connect again."));
}
