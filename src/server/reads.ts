/**
 * Reads: requests answered from this node's state and store rather than through the log,
 * as of their place among the connection's requests, so that a reply never shows what
 * was applied after it. `history` and `conversations` read the store; `show_rooms`,
 * `room_members` and `ping` are `reduce`'s answers from the state.
 */
import type { CommandOf } from "../core/commands.js";
import type { Limits } from "../core/limits.js";
import { conversationOf } from "../core/messages.js";
import { directKey, type ChatState } from "../core/model.js";
import type { Outbound } from "../core/outbound.js";
import { reduce } from "../core/reduce.js";
import { currentMessage, userView } from "../core/views.js";
import type { Store } from "../store/store.js";
import type { Peer } from "./connection.js";
import type { Cause } from "./outbox.js";
import { envelope, errorFrame } from "./envelope.js";
import type { Query } from "./handlers.js";
import type { HubObserver } from "./hubObserver.js";
import { fitConversations, fitPage, fitPageAfter, withinBudget } from "./replyBudget.js";

/** A request answered from this node's state and store rather than through the log. */
export type Read = Query | CommandOf<"show_rooms"> | CommandOf<"room_members"> | CommandOf<"ping">;

export interface ReadsOptions {
  store: Store;
  limits: Limits;
  maxReplyBytes: number;
  observer: Pick<HubObserver, "request">;
  state(): ChatState;
  /** An id above every message applied before the read and below every later one. */
  bound(): string | undefined;
  /**
   * Sends now, or after the commit of what was applied before; a function builds the frame
   * only then. `cause` is the read: should that commit fail, it is answered `unavailable`
   * instead, since what it saw may be gone.
   */
  send(peers: Peer[], text: string | (() => string), cause: Cause): void;
  /** Sends one of `reduce`'s answers to whom it names, as `send`. */
  enqueue(o: Outbound, cause: Cause): void;
}

export class Reads {
  readonly #opts: ReadsOptions;

  constructor(opts: ReadsOptions) {
    this.#opts = opts;
  }

  /** Answers `read` on `peer`, the requester's. */
  answer(peer: Peer, read: Read): void {
    switch (read.type) {
      case "history":
        return this.#history(peer, read);
      case "conversations":
        return this.#conversations(peer, read);
      case "show_rooms":
      case "room_members":
      case "ping":
        return this.#fromState(read);
      default: {
        const unhandled: never = read;
        throw new Error(`unhandled read ${JSON.stringify(unhandled)}`);
      }
    }
  }

  #history(peer: Peer, q: Extract<Query, { type: "history" }>): void {
    const state = this.#opts.state();
    // A connection the log has ended while this read waited: it is being closed.
    if (!state.connections.has(q.conn)) return;
    const conversation = conversationOf(state, q.conn, q.target);
    if ("error" in conversation) {
      const error = { ...conversation.error, request: "history" };
      this.#opts.send([peer], errorFrame(error, q.ref), causeOf(q));
      return this.#opts.observer.request("history", error.code);
    }
    // What was applied so far and no later message: ids follow the log, so a bound on the id is a bound in the log.
    const bound = this.#opts.bound();
    const before = q.before === undefined || (bound !== undefined && bound < q.before) ? bound : q.before;
    const fit = q.after === undefined ? fitPage : fitPageAfter;
    // Read when sent: after the commit of what was applied before it, in its place among the replies.
    this.#opts.send([peer], () => {
      const read = this.#opts.store.page(conversation.key, q.limit, before, q.after);
      const current = { ...read, messages: read.messages.map((m) => currentMessage(this.#opts.state(), m)) };
      return withinBudget((d) => envelope("history", d, q.ref), current, this.#opts.maxReplyBytes, fit);
    }, causeOf(q));
    this.#opts.observer.request("history", "ok");
  }

  /** The requester's direct conversations, newest first, each with its last message as stored (up to what was applied before the request). */
  #conversations(peer: Peer, q: Extract<Query, { type: "conversations" }>): void {
    const state = this.#opts.state();
    const me = state.connections.get(q.conn)?.userId;
    // A connection the log has ended while this read waited: it is being closed.
    if (me === undefined) return;
    const bound = this.#opts.bound();
    const peers = [...(state.directPeers.get(me) ?? [])].map((id) => userView(state.users.get(id)!));
    this.#opts.send([peer], () => {
      const conversations = peers.map((user) => {
        const last = this.#opts.store.page(directKey(me, user.id), 1, bound).messages[0];
        return { user, last_message: last === undefined ? null : currentMessage(this.#opts.state(), last) };
      });
      conversations.sort((x, y) => ((y.last_message?.id ?? "") > (x.last_message?.id ?? "") ? 1 : -1));
      return withinBudget((d) => envelope("conversations", d, q.ref), { conversations, has_more: false }, this.#opts.maxReplyBytes, fitConversations);
    }, causeOf(q));
    this.#opts.observer.request("conversations", "ok");
  }

  /** Answered by `reduce` from the state, which they leave as it was. */
  #fromState(cmd: CommandOf<"show_rooms"> | CommandOf<"room_members"> | CommandOf<"ping">): void {
    // Not in the log: the time of the answer.
    cmd.ts = new Date().toISOString();
    const { out } = reduce(this.#opts.state(), cmd, this.#opts.limits);
    // One cause for all its answers: a failed commit turns them into one `unavailable`.
    const cause = causeOf(cmd);
    for (const o of out) this.#opts.enqueue(o, cause);
    const first = out[0];
    this.#opts.observer.request(cmd.type, first?.event === "error" ? first.data.code : "ok");
  }
}

const causeOf = (read: Read): Cause => ({ conn: read.conn, request: read.type, ref: read.ref });
