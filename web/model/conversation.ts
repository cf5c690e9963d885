/**
 * A conversation's lines, kept in the server's order. Each function returns a new
 * list (or the same one when nothing changed), never changing the one it was given.
 */
import type { Message } from "../../src/client/index.js";
import type { Entry } from "./state.js";

const has = (entries: readonly Entry[], id: string): boolean => entries.some((e) => e.kind === "message" && e.message.id === id);

/** Puts a message at its place by id; a message already there is replaced (it may carry a newer name or text). */
export function withMessage(entries: readonly Entry[], message: Message): readonly Entry[] {
  const at = entries.findIndex((e) => e.kind === "message" && e.message.id === message.id);
  if (at >= 0) {
    const next = [...entries];
    next[at] = { kind: "message", message };
    return next;
  }
  // From the end, since new messages nearly always go last. A note stays before a message
  // newer than it: it happened when it arrived, after what was shown then.
  let i = entries.length;
  while (i > 0) {
    const prev = entries[i - 1]!;
    if (prev.kind === "message" ? prev.message.id < message.id : prev.ts <= message.ts) break;
    i -= 1;
  }
  return [...entries.slice(0, i), { kind: "message", message }, ...entries.slice(i)];
}

/** Merges a page of messages (oldest first) into the list. */
export function withMessages(entries: readonly Entry[], messages: readonly Message[]): readonly Entry[] {
  let out = entries;
  for (const m of messages) out = withMessage(out, m);
  return out;
}

/** An older page goes in front of what is there. */
export function withOlderPage(entries: readonly Entry[], messages: readonly Message[]): readonly Entry[] {
  const fresh = messages.filter((m) => !has(entries, m.id));
  return [...fresh.map((message): Entry => ({ kind: "message", message })), ...entries];
}

/**
 * The newest page read again (after a reconnect): its messages replace what is there,
 * and a message the page should hold but does not was deleted meanwhile.
 */
export function withLatestPage(entries: readonly Entry[], messages: readonly Message[], hasMore: boolean): readonly Entry[] {
  const ids = new Set(messages.map((m) => m.id));
  const from = hasMore ? messages[0]?.id : undefined;
  const kept = entries.filter((e) => e.kind !== "message" || ids.has(e.message.id) || (from !== undefined && e.message.id < from));
  return withMessages(kept, messages);
}

/** An edit: the message as it is now, only where it is shown already. */
export function withEdit(entries: readonly Entry[], message: Message): readonly Entry[] {
  return has(entries, message.id) ? withMessage(entries, message) : entries;
}

export function without(entries: readonly Entry[], messageId: string): readonly Entry[] {
  return has(entries, messageId) ? entries.filter((e) => e.kind !== "message" || e.message.id !== messageId) : entries;
}

export function withNote(entries: readonly Entry[], note: Extract<Entry, { kind: "note" }>): readonly Entry[] {
  return [...entries, note];
}

export function oldestId(entries: readonly Entry[]): string | undefined {
  for (const e of entries) if (e.kind === "message") return e.message.id;
  return undefined;
}

export function newestId(messages: readonly Message[]): string | null {
  let best: string | null = null;
  for (const m of messages) if (best === null || m.id > best) best = m.id;
  return best;
}

export function findMessage(entries: readonly Entry[], id: string): Message | undefined {
  for (const e of entries) if (e.kind === "message" && e.message.id === id) return e.message;
  return undefined;
}
