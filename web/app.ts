/**
 * The chat page: connects with the SDK (reconnecting by itself), signs back into
 * the account kept in localStorage, keeps the rooms list live from the pushes, and
 * turns every failed request into a message on the page.
 *
 * This file puts the parts together; each lives in its own file: `session.ts` (the
 * account), `rooms.ts`, `conversations.ts`, `history.ts`, `directMessages.ts`,
 * `composer.ts` and `pushes.ts`.
 */
import { ChatClient, type User } from "../src/client/index.js";
import { wireComposer } from "./composer.js";
import { openConversation } from "./conversations.js";
import { writeTo } from "./directMessages.js";
import { byId } from "./dom.js";
import { wireScrollBack } from "./history.js";
import { LOBBY, parseKey, RoomList, type ConvKey } from "./model.js";
import { notify } from "./notices.js";
import type { OpenOptions, Page } from "./page.js";
import { listenToPushes } from "./pushes.js";
import { Rooms } from "./rooms.js";
import { Session } from "./session.js";
import { loadPeers } from "./storage.js";
import { conversationView, drawConversation, drawLists, drawStatus, showPane, type Actions, type AppState } from "./view.js";

class App implements Page, Actions {
  readonly client: ChatClient;
  readonly state: AppState;
  readonly #rooms: Rooms;
  readonly #session: Session;

  constructor(client: ChatClient) {
    this.client = client;
    this.state = {
      me: client.user,
      rooms: new RoomList(),
      convs: new Map(),
      peers: loadPeers(client.user.id),
      users: new Map(),
      current: LOBBY,
    };
    this.#rooms = new Rooms(this);
    this.#session = new Session(this, this.#rooms);
  }

  async start(): Promise<void> {
    listenToPushes(this, this.#rooms, this.#session);
    this.#wireControls();
    drawStatus({ state: this.client.state });
    await this.#session.signInSaved();
    await this.#session.adopt();
  }

  open(key: ConvKey, options?: OpenOptions): void {
    openConversation(this, key, options);
  }

  writeTo(user: User): void {
    writeTo(this, user);
  }

  draw(stick = false): void {
    drawLists(this.state, this);
    drawConversation(this.state, this, conversationView(this.state, this.#rooms.actions), stick);
    const join = byId("join", HTMLButtonElement);
    const t = parseKey(this.state.current);
    join.onclick = t?.kind === "room" ? () => void this.#rooms.join(t.id) : null;
  }

  drawIfCurrent(key: ConvKey, stick = false): void {
    if (key === this.state.current) this.draw(stick);
    else this.drawLists();
  }

  drawLists(): void {
    drawLists(this.state, this);
  }

  #wireControls(): void {
    this.#session.wire();
    this.#rooms.wire();
    wireComposer(this);
    wireScrollBack(this);
    byId("lobby-button", HTMLButtonElement).addEventListener("click", () => this.open(LOBBY));
    byId("back", HTMLButtonElement).addEventListener("click", () => showPane("list"));
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
