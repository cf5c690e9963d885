/**
 * What a person does with rooms: see them all, create, join, leave, rename and
 * delete them.
 */
import { byId, onSubmit } from "./dom.js";
import { HISTORY_PAGE } from "./history.js";
import { addMessage, LOBBY, newConversation, parseKey, roomKey } from "./model.js";
import { attempt, notify } from "./notices.js";
import type { RoomListing } from "../src/client/index.js";
import type { Page } from "./page.js";
import { focusComposer, type RoomActions } from "./view.js";

export function endRename(): void {
  byId("rename-room", HTMLFormElement).hidden = true;
}

export class Rooms {
  readonly #page: Page;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** For the open room's header buttons. */
  readonly actions: RoomActions = {
    rename: (id) => this.#startRename(id),
    remove: (id) => void this.#delete(id),
    leave: (id) => void this.#leave(id),
  };

  constructor(page: Page) {
    this.#page = page;
  }

  wire(): void {
    onSubmit("create-room", () => this.#create(byId("create-room-input", HTMLInputElement)));
    onSubmit("rename-room", (form) => {
      const roomId = form.dataset.room;
      if (roomId) return this.#rename(roomId, byId("rename-room-input", HTMLInputElement));
    });
    byId("rename-cancel", HTMLButtonElement).addEventListener("click", () => endRename());
    byId("rename-room", HTMLFormElement).addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") endRename();
    });
  }

  async refresh(): Promise<void> {
    const { state } = this.#page;
    const rooms = await attempt("load the rooms", () => this.#allRooms());
    if (!rooms) return;
    state.rooms.replaceAll(rooms);
    const current = parseKey(state.current);
    if (current?.kind === "room" && !state.rooms.get(current.id)) this.#page.open(LOBBY, { show: false, focus: false });
    else this.#page.draw();
  }

  /** Every page of the listing; the server sends at most 500 rooms a reply. */
  async #allRooms(): Promise<RoomListing[]> {
    const rooms: RoomListing[] = [];
    for (;;) {
      const last = rooms[rooms.length - 1];
      const page = await this.#page.client.request("show_rooms", last ? { after: last.name } : {});
      rooms.push(...page.rooms);
      if (!page.has_more || page.rooms.length === 0) return rooms;
    }
  }

  /** Member counts change with every join and leave; one refresh covers a burst of them. */
  refreshSoon(): void {
    if (this.#refreshTimer !== null) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      if (this.#page.client.state === "open") void this.refresh();
    }, 150);
  }

  async join(roomId: string): Promise<void> {
    const { state } = this.#page;
    const reply = await attempt("join the room", () => this.#page.client.request("choose_room", { room_id: roomId }));
    if (!reply) return;
    state.rooms.put(reply.room, true);
    const conv = newConversation();
    for (const m of reply.history) addMessage(conv, m);
    conv.loaded = true;
    conv.hasMore = reply.history.length >= HISTORY_PAGE;
    state.convs.set(roomKey(roomId), conv);
    this.#page.draw(true);
    focusComposer();
  }

  async #create(input: HTMLInputElement): Promise<void> {
    const { state } = this.#page;
    const reply = await attempt("create the room", () => this.#page.client.request("create_room", { room_name: input.value }));
    if (!reply) return;
    input.value = "";
    state.rooms.put(reply.room, true);
    const conv = newConversation();
    conv.loaded = true;
    state.convs.set(roomKey(reply.room.id), conv);
    this.#page.open(roomKey(reply.room.id));
  }

  async #leave(roomId: string): Promise<void> {
    const { state } = this.#page;
    const reply = await attempt("leave the room", () => this.#page.client.request("exit_room", { room_id: roomId }));
    if (!reply) return;
    state.rooms.setJoined(roomId, false);
    state.convs.delete(roomKey(roomId));
    this.#page.draw();
    this.refreshSoon();
  }

  #startRename(roomId: string): void {
    const form = byId("rename-room", HTMLFormElement);
    const input = byId("rename-room-input", HTMLInputElement);
    form.dataset.room = roomId;
    input.value = this.#page.state.rooms.get(roomId)?.name ?? "";
    form.hidden = false;
    input.focus();
    input.select();
  }

  async #rename(roomId: string, input: HTMLInputElement): Promise<void> {
    const reply = await attempt("rename the room", () => this.#page.client.request("rename_room", { room_id: roomId, room_name: input.value }));
    if (!reply) return;
    this.#page.state.rooms.put(reply.room);
    endRename();
    this.#page.draw();
  }

  async #delete(roomId: string): Promise<void> {
    const { state } = this.#page;
    const room = state.rooms.get(roomId);
    if (!room || !window.confirm(`Delete the room “${room.name}” and all its messages, for everyone?`)) return;
    const reply = await attempt("delete the room", () => this.#page.client.request("del_room", { room_id: roomId }));
    if (!reply) return;
    state.rooms.remove(roomId);
    state.convs.delete(roomKey(roomId));
    if (state.current === roomKey(roomId)) this.#page.open(LOBBY, { focus: false });
    else this.#page.draw();
    notify("info", `You deleted the room “${room.name}”.`);
  }
}
