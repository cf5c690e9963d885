/** Tells the others that the person is typing: at most every 4 s per conversation, as protocol.md asks (every 3–5 s). */
import { parseKey, type ConvKey } from "../model/keys.js";
import type { Ctx } from "./context.js";

const EVERY_MS = 4000;

export class TypingNotifier {
  readonly #ctx: Ctx;
  readonly #last = new Map<ConvKey, number>();

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  touch(key: ConvKey): void {
    const t = parseKey(key);
    const client = this.#ctx.client();
    if (!client || client.state !== "open" || !t || t.kind === "lobby") return;
    if (t.kind === "room" && !this.#ctx.store.state.rooms[t.id]?.joined) return;
    const now = Date.now();
    if (now - (this.#last.get(key) ?? 0) < EVERY_MS) return;
    this.#last.set(key, now);
    // Only a hint: a refusal (typing has its own small allowance) is not worth showing.
    client.request("typing", t.kind === "room" ? { room_id: t.id } : { user_id: t.id }).catch(() => undefined);
  }

  /** A message was sent: the next keystroke may say "typing" again at once. */
  sent(key: ConvKey): void {
    this.#last.delete(key);
  }
}
