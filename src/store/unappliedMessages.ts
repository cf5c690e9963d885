/**
 * The messages committed to the changes journal and not yet applied to SQLite, by id and
 * by (sender, client id), so that the lookups a send or an edit makes (`message`,
 * `sentBy`) need not apply the journal first. Changes that delete whole conversations
 * are not followed here: the store applies them at once.
 */
import type { Change } from "../core/changes.js";
import type { StoredMessage } from "../core/commands.js";
import type { Message } from "../protocol/wire.generated.js";

const clientKey = (sender: string, clientMsgId: string) => `${sender}\u0000${clientMsgId}`;

/** Changes this index cannot answer for: the store must apply them before its next lookup. */
export function deletesConversation(c: Change): boolean {
  return c.type === "room_deleted" || c.type === "direct_pair_deleted";
}

export class UnappliedMessages {
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

  /** A message as the journal left it: undefined when the journal did not touch it, null when it deleted it. */
  message(id: string): StoredMessage | null | undefined {
    return this.#byId.get(id);
  }

  /** The id of the message `sender` sent with `clientMsgId`, if the journal added it. */
  sentBy(sender: string, clientMsgId: string): string | undefined {
    return this.#byClient.get(clientKey(sender, clientMsgId));
  }

  /** `stored` (read from SQLite) as the journal has changed it since. */
  over(stored: Message | undefined): Message | undefined {
    if (stored === undefined) return undefined;
    const now = this.#byId.get(stored.id);
    return now === undefined ? stored : (now?.message ?? undefined);
  }

  clear(): void {
    this.#byId.clear();
    this.#byClient.clear();
  }
}
