/**
 * The account this page is signed into: signing back into the saved one on load,
 * taking up whichever account the client holds now, and its name.
 */
import { ChatError, type ChatClient, type User } from "../src/client/index.js";
import { wireAccountDialog } from "./account.js";
import { canOpen } from "./conversations.js";
import { byId, onSubmit } from "./dom.js";
import { LOBBY } from "./model.js";
import { attempt, notify } from "./notices.js";
import type { Page } from "./page.js";
import type { Rooms } from "./rooms.js";
import { loadAccount, loadOpen, loadPeers, saveAccount } from "./storage.js";
import { describeError, displayName } from "./text.js";
import { drawMe } from "./view.js";

export class Session {
  readonly #page: Page;
  readonly #client: ChatClient;
  readonly #rooms: Rooms;
  #leaving = false;

  constructor(page: Page, rooms: Rooms) {
    this.#page = page;
    this.#client = page.client;
    this.#rooms = rooms;
  }

  /** Set when the page itself closes the connection (signing out), so that is not reported as a failure. */
  get leaving(): boolean {
    return this.#leaving;
  }

  wire(): void {
    onSubmit("pick-name", () => this.#changeName(byId("pick-name-input", HTMLInputElement)));
    onSubmit("name-form", () => this.#changeName(byId("name-input", HTMLInputElement)));
    wireAccountDialog({
      client: this.#client,
      me: () => this.#page.state.me,
      adopt: () => this.adopt(),
      leaving: () => {
        this.#leaving = true;
      },
    });
  }

  async signInSaved(): Promise<void> {
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
  async adopt(): Promise<void> {
    const { state } = this.#page;
    const me = this.#client.user;
    state.me = me;
    state.users.set(me.id, me);
    saveAccount(me, this.#client.token);
    state.peers = loadPeers(me.id);
    state.convs.clear();
    drawMe(state);
    await this.#rooms.refresh();
    const saved = loadOpen(me.id);
    this.#page.open(saved && canOpen(state, saved) ? saved : LOBBY, { show: false, focus: false });
  }

  setMe(user: User): void {
    const { state } = this.#page;
    state.me = user;
    state.users.set(user.id, user);
    saveAccount(user, this.#client.token);
    drawMe(state);
    this.#page.draw();
  }

  async #changeName(input: HTMLInputElement): Promise<boolean> {
    const reply = await attempt("change your name", () => this.#client.request("change_name", { username: input.value }));
    if (!reply) return false;
    this.setMe(reply.user);
    notify("info", `Your name is now “${displayName(reply.user)}”.`);
    return true;
  }
}
