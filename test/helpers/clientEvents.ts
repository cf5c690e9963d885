/** Waiting on what an SDK client reports, and reading a whole conversation through it. */
import type { ChatClient, Message, Reconnected, RequestDataMap, StateChange } from "../../src/client/index.js";

/** Resolves with the first `state` change (from now on) that satisfies `match`. */
export function stateWhere(c: ChatClient, match: (s: StateChange) => boolean): Promise<StateChange> {
  return new Promise((resolve) => {
    const off = c.on("state", (s) => {
      if (!match(s)) return;
      off();
      resolve(s);
    });
  });
}

/** Resolves with the next `reconnect` event. */
export function reconnected(c: ChatClient): Promise<Reconnected> {
  return new Promise((resolve) => {
    const off = c.on("reconnect", (info) => {
      off();
      resolve(info);
    });
  });
}

/** A whole conversation as the server keeps it, oldest first (paged backwards with `before`). */
export async function allHistory(reader: ChatClient, target: { room_id: string } | { user_id: string }): Promise<Message[]> {
  const all: Message[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await reader.request("history", { ...target, limit: 100, ...(before === undefined ? {} : { before }) } as RequestDataMap["history"]);
    all.unshift(...page.messages);
    if (!page.has_more || page.messages.length === 0) return all;
    before = page.messages[0]!.id;
  }
}
