/**
 * The client's place in the server's message order: the newest message id it has
 * seen (message ids are UUIDv7 and sort, as strings, in the server's log order), or,
 * before it has seen one, the `since` of its last `welcome` or `auth`. Every message
 * the account can read that is not newer than the cursor has reached the app, so a
 * resume reads `history` with `after` set to it.
 */
import type { Message } from "../protocol/wire.generated.js";

const newer = (a: string | null, b: string | undefined): string | null => (b !== undefined && (a === null || b > a) ? b : a);

export class Cursor {
  #value: string | null = null;
  /** While a resume is under way: the newest id seen since it began, not yet part of `value`. */
  #held: string | null | undefined = undefined;

  /** The committed cursor (null before the first `welcome`). */
  get value(): string | null {
    return this.#value;
  }

  /** Takes in an id (or a `since`) the client has seen; held back while a resume is under way. */
  see(id: string | undefined): void {
    if (this.#held !== undefined) this.#held = newer(this.#held, id);
    else this.#value = newer(this.#value, id);
  }

  /** Starts over at `since`: a new account on a server that may not share the old one's order. */
  reset(since: string): void {
    this.#value = since;
    this.#held = undefined;
  }

  /** From now on, what `see` takes is held back until `commit` (the catch-up is not done yet). */
  hold(): void {
    this.#held ??= null;
  }

  /** The catch-up is complete: what was held, and `since`, count. */
  commit(since?: string): void {
    const held = this.#held ?? null;
    this.#held = undefined;
    this.see(held ?? undefined);
    this.see(since);
  }

  /** The catch-up was cut short: forget what was held (the next one reads it again). */
  drop(): void {
    if (this.#held !== undefined) this.#held = null;
  }
}

/** The newest message id (or `since`) a frame carries, if any: what the cursor takes from it. */
export function newestIdIn(event: string, data: unknown): string | undefined {
  if (data === null || typeof data !== "object") return undefined;
  const d = data as Record<string, unknown>;
  const idOf = (m: unknown): string | undefined =>
    m !== null && typeof m === "object" && typeof (m as Message).id === "string" ? (m as Message).id : undefined;
  const newest = (list: unknown, pick: (x: unknown) => string | undefined): string | undefined => {
    if (!Array.isArray(list)) return undefined;
    let best: string | null = null;
    for (const x of list) best = newer(best, pick(x));
    return best ?? undefined;
  };
  switch (event) {
    case "message":
      return idOf(d);
    case "message_edited":
    case "send_message":
    case "edit_message":
      return idOf(d.message);
    case "history":
      return newest(d.messages, idOf);
    case "choose_room":
      return newest(d.history, idOf);
    case "conversations":
      return newest(d.conversations, (c) => idOf((c as { last_message?: unknown } | null)?.last_message));
    case "welcome":
    case "auth":
      return typeof d.since === "string" ? d.since : undefined;
    default:
      return undefined;
  }
}
