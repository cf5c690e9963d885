/**
 * The account this page is signed into: signing back into the saved one, taking up
 * whichever account the client holds now (after a reload, a sign-in, signing out, a
 * deletion), and bringing the page up to date after a reconnect.
 */
import { ChatError, type ChatClient, type Reconnected } from "../../src/client/index.js";
import { loadAccount, loadPage, saveAccount } from "../browser/storage.js";
import { describeError } from "../text/errors.js";
import type { Ctx } from "./context.js";
import { loadConversations, loadLatest, loadMembers, loadMissed, loadRooms } from "./loaders.js";
import { parseKey } from "../model/keys.js";

export class Session {
  readonly #ctx: Ctx;
  readonly #open: (key: string, show: boolean) => void;
  /**
   * The client whose cursor the saved read state matches: every message up to it has
   * been taken in. A client taken up in place of another becomes it only once what came
   * in between has been read (until then its cursor would skip those messages).
   */
  #source: ChatClient | null = null;

  constructor(ctx: Ctx, open: (key: string, show: boolean) => void) {
    this.#ctx = ctx;
    this.#open = open;
  }

  /** A client the page has just taken up (on load, or in place of one that could not reconnect). */
  async start(client: ChatClient): Promise<void> {
    const saved = loadAccount();
    if (saved && saved.user_id !== client.user.id) {
      try {
        const reply = await client.request("auth", { user_id: saved.user_id, token: saved.token });
        if (reply.renamed_from !== undefined) {
          this.#ctx.store.dispatch({
            type: "notice",
            area: "global",
            notice: { kind: "info", text: `Your name is now “${reply.user.username ?? ""}”: another account already had “${reply.renamed_from}” (names that differ only in case or look the same count as one name).` },
          });
        }
      } catch (err) {
        const gone = err instanceof ChatError && err.code === "auth_failed";
        if (!gone || saved.username !== null) {
          const text = gone
            ? `Your saved account “${saved.username}” could not be signed into: this server no longer knows it. You are a new guest now.`
            : describeError("sign back into your account", err);
          this.#ctx.store.dispatch({ type: "notice", area: "global", notice: { kind: "error", text } });
        }
      }
    }
    await this.adopt(client);
  }

  /** Takes up the client's current account: saved for the next visit, everything read afresh. */
  async adopt(client: ChatClient): Promise<void> {
    const { store } = this.#ctx;
    const user = client.user;
    saveAccount(user, client.token);
    if (store.state.me?.id !== user.id) this.#source = null;
    const page = loadPage(user.id);
    store.dispatch({ type: "signedIn", user, read: { convs: page.convs }, outbox: page.outbox, open: page.open, notifications: page.notifications });
    await loadRooms(this.#ctx);
    const dms = await loadConversations(this.#ctx);
    await loadMissed(this.#ctx, page.cursor, dms);
    this.#source = client;
    this.#open(store.state.current, false);
  }

  /** The cursor to save with the read state; undefined while it is not known yet. */
  cursor(): string | null | undefined {
    return this.#source ? this.#source.cursor : undefined;
  }

  /**
   * The SDK reconnected. When it resumed the account it has already handed over every
   * missed message as `message` events; what it does not follow (names, member counts,
   * edits and deletions, who is online) is read again here.
   */
  async resumed(info: Reconnected): Promise<void> {
    const { store } = this.#ctx;
    if (!info.resumed) {
      store.dispatch({ type: "notice", area: "global", notice: { kind: "error", text: "Reconnected, but your account could not be signed back into (the server no longer knows it). You are a new guest now." } });
      return;
    }
    await loadRooms(this.#ctx);
    await loadConversations(this.#ctx);
    const key = store.state.current;
    await loadLatest(this.#ctx, key);
    const t = parseKey(key);
    if (t?.kind === "room" && store.state.rooms[t.id]?.joined) await loadMembers(this.#ctx, t.id);
  }

  rememberToken(client: ChatClient): void {
    saveAccount(client.user, client.token);
  }
}
