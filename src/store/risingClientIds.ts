/**
 * Knows, without a lookup, that most new client ids were never stored. The SDK's ids are
 * UUIDv7 and rise with time, so a new one sorts above every id stored before the store
 * opened and above every id its sender wrote since: then it cannot be a repeat. Anything
 * else (ids that do not rise, or a store holding ids that sort above all new ones, such as
 * random UUIDs) falls back to the lookup, so the answer is always exact.
 */

/** The highest client id stored, through the end of the (client_msg_id, sender) index. */
export const HIGHEST_CLIENT_ID_SQL = "SELECT max(client_msg_id) AS top FROM messages WHERE client_msg_id IS NOT NULL";

/** Printable ASCII only: there JavaScript's string order and SQLite's byte order agree. */
const PLAIN = /^[\x21-\x7e]+$/;

export class RisingClientIds {
  readonly #storedTop: () => string | undefined;
  /** The highest id stored before, asked once on first use (after start-up applied its journal). */
  #top: string | undefined | null = null;
  /** Per sender, the highest id written since. */
  readonly #highest = new Map<string, string>();

  constructor(storedTop: () => string | undefined) {
    this.#storedTop = storedTop;
  }

  /** A message with this client id was written (committed or not: a higher mark only sends more to the lookup). */
  wrote(sender: string, clientMsgId: string | undefined): void {
    if (clientMsgId === undefined) return;
    const highest = this.#highest.get(sender);
    if (highest === undefined || clientMsgId > highest) this.#highest.set(sender, clientMsgId);
  }

  /** True when `sender` certainly never stored `clientMsgId`; false when only a lookup can say. */
  unseen(sender: string, clientMsgId: string): boolean {
    if (!PLAIN.test(clientMsgId)) return false;
    if (this.#top === null) this.#top = this.#storedTop();
    if (this.#top !== undefined && clientMsgId <= this.#top) return false;
    const highest = this.#highest.get(sender);
    return highest === undefined || clientMsgId > highest;
  }
}
