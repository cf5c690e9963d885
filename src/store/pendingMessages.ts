/**
 * Messages written but not yet where a store's lookups find them, by id and by (sender,
 * client id), answering as the store will once it has them: an edit shows, a delete frees
 * the client id. The hub keeps one for the batch it has not committed; SqliteStore one for
 * the journal's records not yet applied to SQLite. Changes that delete whole conversations
 * are not followed here: whoever holds one must consult the store after applying them.
 */
import type { Change } from "../core/changes.js";
import type { StoredMessage } from "../core/commands.js";
import type { Message } from "../protocol/wire.generated.js";

export const clientKey = (sender: string, clientMsgId: string) => `${sender}\u0000${clientMsgId}`;

/** Changes this index cannot answer for: the store must apply them before its next lookup. */
export function deletesConversation(c: Change): boolean {
  return c.type === "room_deleted" || c.type === "direct_pair_deleted";
}

export class PendingMessages {
  /** The message as it now stands, or null once deleted. */
  readonly #byId = new Map<string, StoredMessage | null>();
  readonly #byClient = new Map<string, string>();

  add(changes: readonly Change[]): void {
    for (const c of changes) {
      if (c.type === "message_added" || c.type === "message_edited") {
        this.#byId.set(c.message.id, { key: c.key, message: c.message });
        if (c.type === "message_added" && c.message.client_msg_id !== undefined) this.#byClient.set(clientKey(c.message.from.id, c.message.client_msg_id), c.message.id);
      } else if (c.type === "message_deleted") {
        this.#byId.set(c.id, null);
      }
    }
  }

  /** A message as it stands: as the pending changes left it, or else as `stored` has it. */
  message(id: string, stored: (id: string) => StoredMessage | undefined): StoredMessage | undefined {
    const pending = this.#byId.get(id);
    return pending === undefined ? stored(id) : (pending ?? undefined);
  }

  /** The message `sender` sent with `clientMsgId` as it stands, if it exists: a pending one, or `stored`'s as the pending changes left it. */
  sentBy(sender: string, clientMsgId: string, stored: () => Message | undefined): Message | undefined {
    const id = this.#byClient.get(clientKey(sender, clientMsgId));
    if (id !== undefined) return this.#byId.get(id)?.message;
    const found = stored();
    if (found === undefined) return undefined;
    const now = this.#byId.get(found.id);
    return now === undefined ? found : now?.message;
  }

  clear(): void {
    this.#byId.clear();
    this.#byClient.clear();
  }
}
