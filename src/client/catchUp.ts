/**
 * The catch-up after a resume: every message the account can read that is newer than
 * the cursor, read with `history` (`after`, paging while `has_more`, one request at a
 * time) for the lobby, each room of the `auth` reply and each direct conversation whose
 * last message is newer than the cursor, and handed to the app in id order per
 * conversation. What one attempt handed over is remembered per conversation, so an
 * attempt cut short by another drop is continued by the next one without repeating it.
 */
import type { AuthReply, Message, ReplyDataMap, RequestDataMap } from "../protocol/wire.generated.js";
import { ChatError } from "./errors.js";

/** Room for the whole catch-up: what it asks the server, and where it hands messages. */
export interface CatchUpIO {
  /** Sends on the connection being resumed; rejects with `disconnected` once it is gone. */
  request<E extends "history" | "conversations">(event: E, data: RequestDataMap[E]): Promise<ReplyDataMap[E]>;
  /** Hands one message to the app. */
  emit(message: Message): void;
  /** True for a message the app learns of through its own `send_message` promise instead. */
  ownSend(message: Message): boolean;
  sleep(ms: number): Promise<void>;
}

/** What a catch-up did, reported with the `reconnect` event. */
export interface CaughtUp {
  /** Messages handed to the app as `message` events. */
  messages: number;
  /**
   * False when some conversation could not be read to the end: the server cut the
   * `conversations` list short while all of it was still newer than the cursor, or a
   * `history` request failed unexpectedly. Reload what you show to be sure.
   */
  complete: boolean;
}

const PAGE = 100;
/** Waits, when `rate_limited` or `unavailable` came without `retry_after_ms`. */
const DEFAULT_RETRY_MS = 1000;
/** The account left the conversation (or it is gone) while the client was away: nothing to read. */
const GONE = new Set(["not_member", "not_found", "forbidden"]);

type Target = { room_id: string } | { user_id: string };

/** The conversation a message belongs to, as seen by account `me`. */
export function conversationKey(m: Message, me: string): string {
  if ("room_id" in m && typeof m.room_id === "string") return `room:${m.room_id}`;
  const to = (m as { to_user_id: string }).to_user_id;
  return `user:${m.from.id === me ? to : m.from.id}`;
}

const keyOf = (t: Target): string => ("room_id" in t ? `room:${t.room_id}` : `user:${t.user_id}`);

export class CatchUp {
  /** Per conversation: the newest id handed over by catch-ups since the last complete one. */
  readonly #done = new Map<string, string>();
  #account: string | null = null;

  /** Forgets what earlier attempts handed over, after a complete catch-up or a change of account. */
  reset(): void {
    this.#done.clear();
    this.#account = null;
  }

  /** True when `m` (a live push) was already handed over by the catch-up. */
  covers(m: Message, me: string): boolean {
    const done = this.#done.get(conversationKey(m, me));
    return done !== undefined && m.id <= done;
  }

  /** Reads everything newer than `cursor`; rejects only with `disconnected` or `timeout` (then nothing more was handed over). */
  async run(io: CatchUpIO, cursor: string, auth: AuthReply): Promise<CaughtUp> {
    const me = auth.user.id;
    if (this.#account !== me) {
      this.#done.clear();
      this.#account = me;
    }
    const summary: CaughtUp = { messages: 0, complete: true };
    const after = (t: Target): string => {
      const done = this.#done.get(keyOf(t));
      return done !== undefined && done > cursor ? done : cursor;
    };
    const targets: Target[] = [{ room_id: "all" }, ...auth.rooms.map((r) => ({ room_id: r.id }))];
    for (const t of targets) await this.#read(io, t, after(t), me, summary);

    let list: ReplyDataMap["conversations"];
    try {
      list = await ask(io, "conversations", undefined);
    } catch (err) {
      if (err instanceof ChatError && (err.code === "disconnected" || err.code === "timeout")) throw err;
      summary.complete = false;
      return summary;
    }
    const { conversations, has_more } = list;
    for (const c of conversations) {
      const t = { user_id: c.user.id };
      if (c.last_message !== null && c.last_message.id > after(t)) await this.#read(io, t, after(t), me, summary);
    }
    // The list is newest first and cannot be paged: if its oldest entry is still newer
    // than the cursor, conversations the server left out may hold messages too.
    const oldest = conversations.at(-1)?.last_message;
    if (has_more && (oldest === undefined || oldest === null || oldest.id > cursor)) summary.complete = false;
    return summary;
  }

  async #read(io: CatchUpIO, target: Target, from: string, me: string, summary: CaughtUp): Promise<void> {
    const key = keyOf(target);
    let after = from;
    for (;;) {
      let page: ReplyDataMap["history"];
      try {
        page = await ask(io, "history", { ...target, after, limit: PAGE } as RequestDataMap["history"]);
      } catch (err) {
        if (err instanceof ChatError && (err.code === "disconnected" || err.code === "timeout")) throw err;
        // Left (or gone) while away: there is nothing of it to read. Anything else is unexpected.
        if (!(err instanceof ChatError && GONE.has(err.code))) summary.complete = false;
        return;
      }
      const start = after;
      for (const m of page.messages) {
        if (m.id <= after || conversationKey(m, me) !== key) continue;
        after = m.id;
        this.#done.set(key, m.id);
        if (io.ownSend(m)) continue;
        summary.messages += 1;
        io.emit(m);
      }
      if (!page.has_more) return;
      if (after === start) {
        // A page that moves nothing forward would be asked for again and again.
        summary.complete = false;
        return;
      }
    }
  }
}

/** A request that waits and tries again, as often as it takes, on `rate_limited` and `unavailable`. */
async function ask<E extends "history" | "conversations">(io: CatchUpIO, event: E, data: RequestDataMap[E]): Promise<ReplyDataMap[E]> {
  for (;;) {
    try {
      return await io.request(event, data);
    } catch (err) {
      if (!(err instanceof ChatError) || (err.code !== "rate_limited" && err.code !== "unavailable")) throw err;
      await io.sleep(retryAfter(err));
    }
  }
}

/** The wait a `rate_limited` or `unavailable` error asks for. */
export function retryAfter(err: ChatError): number {
  const ms = err.details?.retry_after_ms;
  return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? ms : DEFAULT_RETRY_MS;
}
