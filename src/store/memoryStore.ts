/**
 * The ephemeral store behind `CHAT_DB=:memory:`: the same tables as SqliteStore,
 * as maps and arrays in the process, gone when it ends. It honours the same
 * contract (changes apply at `commit`, in order), checked by the same tests.
 */
import type { Change } from "../core/changes.js";
import type { StoredMessage } from "../core/commands.js";
import { addTo, directKey, removeFrom, type ChatState } from "../core/model.js";
import { itself, lowerBound, upperBound } from "../core/sorted.js";
import type { HistoryReply, Message } from "../protocol/wire.generated.js";
import { loadState } from "./loadState.js";
import { clientKey } from "./pendingMessages.js";
import { PruneRounds, type Visit } from "./pruneRounds.js";
import type { Retention } from "./retention.js";
import type { LogPosition, Store } from "./store.js";

/** The key of the conversation a message belongs to. */
function conversationKeyOf(m: Message): string {
  return "room_id" in m ? m.room_id : directKey(m.from.id, m.to_user_id);
}

/** Index of the first message whose id is not below `id`. */
const firstNotBelow = (messages: readonly Message[], id: string): number => lowerBound(messages, id, (m) => m.id);

/** Where the message `id` stands in a conversation, or -1. */
function indexOf(messages: readonly Message[] | undefined, id: string): number {
  if (!messages) return -1;
  const i = firstNotBelow(messages, id);
  return messages[i]?.id === id ? i : -1;
}

export class MemoryStore implements Store {
  readonly syncs: boolean = false;
  readonly #users = new Map<string, { id: string; username: string | null; tokenHash: string; renamedFrom?: string }>();
  readonly #rooms = new Map<string, { id: string; name: string; ownerId: string }>();
  /** Room → its members. */
  readonly #members = new Map<string, Set<string>>();
  readonly #pairs = new Map<string, { a: string; b: string }>();
  /** Each conversation's messages, in id order (ids only grow within a process). */
  readonly #messages = new Map<string, Message[]>();
  readonly #sessions = new Map<string, string>();
  readonly #guests = new Map<string, string>();
  #position: LogPosition | undefined;
  #pending: Change[] = [];
  #lastMessageId: string | undefined;
  /** Messages sent with a client id, by sender and that id. */
  readonly #byClientId = new Map<string, Message>();
  readonly #rounds = new PruneRounds();

  write(changes: readonly Change[]): void {
    for (const c of changes) this.#pending.push(c);
  }

  commit(position?: LogPosition): void {
    const batch = this.#pending;
    this.#pending = [];
    for (const c of batch) this.#apply(c);
    if (position) this.#position = { ...position };
  }

  position(): LogPosition | undefined {
    return this.#position && { ...this.#position };
  }

  #apply(c: Change): void {
    switch (c.type) {
      case "user_put":
        this.#users.set(c.id, { id: c.id, username: c.username, tokenHash: c.tokenHash, renamedFrom: c.renamedFrom });
        this.#guests.delete(c.id);
        return;
      case "user_deleted":
        this.#users.delete(c.id);
        return;
      case "room_put":
        this.#rooms.set(c.id, { id: c.id, name: c.name, ownerId: c.ownerId });
        return;
      case "room_deleted":
        this.#rooms.delete(c.id);
        this.#members.delete(c.id);
        this.#messages.delete(c.id);
        return;
      case "member_added":
        addTo(this.#members, c.roomId, c.userId);
        return;
      case "member_removed":
        removeFrom(this.#members, c.roomId, c.userId);
        return;
      case "direct_pair_added":
        this.#pairs.set(directKey(c.a, c.b), { a: c.a, b: c.b });
        return;
      case "direct_pair_deleted":
        this.#pairs.delete(directKey(c.a, c.b));
        this.#messages.delete(directKey(c.a, c.b));
        return;
      case "message_added": {
        if (this.#lastMessageId === undefined || c.message.id > this.#lastMessageId) this.#lastMessageId = c.message.id;
        const conversation = this.#messages.get(c.key);
        if (conversation) conversation.push(c.message);
        else this.#messages.set(c.key, [c.message]);
        if (c.message.client_msg_id !== undefined) this.#byClientId.set(clientKey(c.message.from.id, c.message.client_msg_id), c.message);
        return;
      }
      case "message_edited": {
        const messages = this.#messages.get(c.key);
        const i = indexOf(messages, c.message.id);
        if (!messages || i < 0) return;
        const before = messages[i]!;
        messages[i] = c.message;
        if (before.client_msg_id !== undefined) this.#byClientId.set(clientKey(before.from.id, before.client_msg_id), c.message);
        return;
      }
      case "message_deleted": {
        const messages = this.#messages.get(c.key);
        const i = indexOf(messages, c.id);
        if (!messages || i < 0) return;
        messages.splice(i, 1);
        if (messages.length === 0) this.#messages.delete(c.key);
        return;
      }
      case "session_put":
        this.#sessions.set(c.conn, c.userId);
        return;
      case "session_deleted":
        this.#sessions.delete(c.conn);
        return;
      case "guest_put":
        this.#guests.set(c.id, c.tokenHash);
        return;
      case "guest_deleted":
        this.#guests.delete(c.id);
        return;
      default: {
        const unhandled: never = c;
        throw new Error(`unhandled change ${JSON.stringify(unhandled)}`);
      }
    }
  }

  message(id: string): StoredMessage | undefined {
    // Tests and development only: a scan is fine.
    for (const [key, messages] of this.#messages) {
      const i = indexOf(messages, id);
      if (i >= 0) return { key, message: messages[i]! };
    }
    return undefined;
  }

  sentBy(sender: string, clientMsgId: string): Message | undefined {
    const m = this.#byClientId.get(clientKey(sender, clientMsgId));
    // Gone with its conversation (deleted, or pruned): then it no longer counts.
    const messages = m && this.#messages.get(conversationKeyOf(m));
    return m && messages?.[indexOf(messages, m.id)] === m ? m : undefined;
  }

  lastMessageId(): string | undefined {
    return this.#lastMessageId;
  }

  prune(retain: Retention, budget: number): number {
    const keep = retain.keepPerConversation ?? 0;
    if (budget <= 0 || (retain.beforeId === undefined && keep <= 0)) return 0;
    // Sorted afresh each call: this store serves tests and development, where conversations are few.
    const keys = [...this.#messages.keys()].sort();
    const next = (after: string | undefined): string | undefined => keys[after === undefined ? 0 : upperBound(keys, after, itself)];
    return this.#rounds.run(budget, next, (key, limit) => this.#pruneOne(key, limit, retain.beforeId, keep));
  }

  #pruneOne(key: string, limit: number, beforeId: string | undefined, keep: number): Visit {
    const messages = this.#messages.get(key);
    if (!messages) return { deleted: 0, finished: true };
    // Both rules drop a prefix of the conversation: the longer one wins.
    const cut = Math.max(keep > 0 ? messages.length - keep : 0, beforeId === undefined ? 0 : firstNotBelow(messages, beforeId));
    const deleted = Math.min(cut, limit);
    messages.splice(0, deleted);
    if (messages.length === 0) this.#messages.delete(key);
    return { deleted, finished: deleted === cut };
  }

  /** Memory always takes a write. */
  probe(): void {}

  page(key: string, limit: number, before?: string, after?: string): HistoryReply {
    const messages = this.#messages.get(key);
    if (!messages) return { messages: [], has_more: false };
    const end = before === undefined ? messages.length : firstNotBelow(messages, before);
    if (after !== undefined) {
      const start = upperBound(messages, after, (m) => m.id);
      const stop = Math.min(end, start + limit);
      return { messages: messages.slice(start, stop), has_more: stop < end };
    }
    const start = Math.max(0, end - limit);
    return { messages: messages.slice(start, end), has_more: start > 0 };
  }

  isEmpty(): boolean {
    return this.#users.size === 0 && this.#rooms.size === 0 && this.#messages.size === 0;
  }

  load(sessions = false): ChatState {
    return loadState({
      ...(sessions && {
        sessions: [...this.#sessions].map(([conn, userId]) => ({ conn, userId })),
        guests: [...this.#guests].map(([id, tokenHash]) => ({ id, tokenHash })),
      }),
      users: this.#users.values(),
      rooms: this.#rooms.values(),
      members: [...this.#members].flatMap(([roomId, users]) => [...users].map((userId) => ({ roomId, userId }))),
      directPairs: this.#pairs.values(),
      page: (key, limit) => this.page(key, limit),
    });
  }

  close(): void {
    this.#pending = [];
  }
}
