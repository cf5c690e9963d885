/** Reading from the server: rooms, direct conversations, a conversation's pages, a room's members, what was missed. */
import { ChatError, type RequestDataMap, type RoomListing } from "../../src/client/index.js";
import { oldestId } from "../model/conversation.js";
import { LOBBY, parseKey, roomKey, type ConvKey } from "../model/keys.js";
import { describeError, isOffline } from "../text/errors.js";
import { ask } from "./ask.js";
import type { Ctx } from "./context.js";
import { run } from "./run.js";

/** Messages asked for at a time. */
export const PAGE = 50;
/** Messages read per conversation when counting what came while the page was closed. */
const MISSED_PAGE = 100;

function target(key: ConvKey): { room_id: string } | { user_id: string } | null {
  const t = parseKey(key);
  if (!t) return null;
  if (t.kind === "lobby") return { room_id: "all" };
  if (t.kind === "room") return { room_id: t.id };
  return { user_id: t.id };
}

/** Every page of the room list (the server sends at most 500 rooms a reply), with current member counts. */
export async function loadRooms(ctx: Ctx): Promise<void> {
  await run(ctx, "sidebar", "load the rooms", async () => {
    const rooms: RoomListing[] = [];
    for (;;) {
      const last = rooms[rooms.length - 1];
      const page = await ask(ctx.client(), "show_rooms", last ? { after: last.name } : {});
      rooms.push(...page.rooms);
      if (!page.has_more || page.rooms.length === 0) break;
    }
    ctx.store.dispatch({ type: "rooms", rooms, now: Date.now() });
  });
}

/** The direct conversations, from the server: the same on every device of the account. */
export async function loadConversations(ctx: Ctx): Promise<readonly { id: string; last: string | null }[]> {
  const reply = await run(ctx, "sidebar", "load your direct conversations", () => ask(ctx.client(), "conversations"));
  if (!reply) return [];
  ctx.store.dispatch({ type: "conversations", list: reply.conversations });
  return reply.conversations.map((c) => ({ id: c.user.id, last: c.last_message?.id ?? null }));
}

/** The person's account was deleted when the server says there is no such user. */
function goneIfNotFound(ctx: Ctx, key: ConvKey, err: unknown): boolean {
  const t = parseKey(key);
  if (t?.kind === "dm" && err instanceof ChatError && err.code === "not_found") {
    ctx.store.dispatch({ type: "accountGone", userId: t.id });
    return true;
  }
  return false;
}

/** The newest page of a conversation (again, after a reconnect: edits and deletions included). */
export async function loadLatest(ctx: Ctx, key: ConvKey): Promise<void> {
  const where = target(key);
  if (!where) return;
  ctx.store.dispatch({ type: "historyLoading", key, loading: true });
  const read = () => ask(ctx.client(), "history", { ...where, limit: PAGE } as RequestDataMap["history"]);
  try {
    // A read is safe to repeat: one that got no answer in time is asked once more.
    const reply = await read().catch((err: unknown) => {
      if (err instanceof ChatError && err.code === "timeout") return read();
      throw err;
    });
    ctx.store.dispatch({ type: "history", key, messages: reply.messages, hasMore: reply.has_more, mode: "latest" });
    clearConversationError(ctx);
  } catch (err) {
    ctx.store.dispatch({ type: "historyLoading", key, loading: false });
    if (goneIfNotFound(ctx, key, err)) return;
    if (err instanceof ChatError && err.code === "not_member") {
      await loadRooms(ctx);
      return;
    }
    ctx.store.dispatch({ type: "notice", area: "conversation", notice: { kind: "error", text: describeError("load the messages", err), offline: isOffline(err) } });
  }
}

function clearConversationError(ctx: Ctx): void {
  if (ctx.store.state.notices.conversation?.kind === "error") ctx.store.dispatch({ type: "notice", area: "conversation", notice: null });
}

export async function loadOlder(ctx: Ctx, key: ConvKey): Promise<void> {
  const where = target(key);
  const conv = ctx.store.state.convs[key];
  if (!where || !conv || conv.loading || !conv.hasMore) return;
  const before = oldestId(conv.entries);
  ctx.store.dispatch({ type: "historyLoading", key, loading: true });
  const reply = await run(ctx, "conversation", "load older messages", () =>
    ask(ctx.client(), "history", { ...where, limit: PAGE, ...(before === undefined ? {} : { before }) } as RequestDataMap["history"]),
  );
  if (reply) ctx.store.dispatch({ type: "history", key, messages: reply.messages, hasMore: reply.has_more, mode: "older" });
  else ctx.store.dispatch({ type: "historyLoading", key, loading: false });
}

/** Every member of a room one is in, with whether each is online. */
export async function loadMembers(ctx: Ctx, roomId: string): Promise<void> {
  try {
    const members: { id: string; username: string | null; online: boolean }[] = [];
    for (;;) {
      const last = members[members.length - 1];
      const page = await ask(ctx.client(), "room_members", { room_id: roomId, ...(last ? { after: last.id } : {}) });
      members.push(...page.members);
      if (!page.has_more || page.members.length === 0) break;
    }
    ctx.store.dispatch({ type: "members", roomId, members });
  } catch {
    // Not a member (any more), or offline: the list simply is not shown; the next open asks again.
  }
}

/**
 * After a reload (or a new connection that the SDK did not resume), what arrived while
 * the page was away: each conversation's messages newer than the saved cursor, counted
 * as unread. The SDK does this itself after a drop it resumes; this is for the page's
 * own fresh starts, where the SDK has no earlier cursor.
 */
export async function loadMissed(ctx: Ctx, cursor: string | null, dms: readonly { id: string; last: string | null }[]): Promise<void> {
  if (cursor === null) return;
  const { state } = ctx.store;
  const keys: ConvKey[] = [LOBBY, ...Object.values(state.rooms).filter((r) => r.joined).map((r) => roomKey(r.id))];
  for (const dm of dms) if (dm.last !== null && dm.last > cursor) keys.push(`dm:${dm.id}`);
  for (const key of keys) {
    const where = target(key);
    if (!where) continue;
    try {
      const reply = await ask(ctx.client(), "history", { ...where, after: cursor, limit: MISSED_PAGE } as RequestDataMap["history"]);
      if (reply.messages.length > 0) ctx.store.dispatch({ type: "missed", key, messages: reply.messages, hasMore: reply.has_more });
    } catch {
      // Left meanwhile, or offline again: nothing to count now.
    }
  }
}
