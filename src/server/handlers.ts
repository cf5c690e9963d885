/**
 * The handler table: each request event becomes a Command carrying everything
 * non-deterministic it needs (ids, token hashes); its time and a message's id come
 * from its place in the log, stamped when it is applied. Handlers read state only
 * to learn which fresh accounts to mint; all rules are checked in `reduce`.
 */
import type { Command, NewAccount, Target } from "../core/commands.js";
import { nodeOf, type ChatState, type ConnId } from "../core/model.js";
import type { RequestEvent } from "../protocol/events.js";
import type { Ref, RequestDataMap } from "../protocol/wire.generated.js";
import type { Minter } from "./identities.js";
import { hashToken } from "./tokens.js";

export interface HandlerContext {
  state: ChatState;
  conn: ConnId;
  ref?: Ref;
  openAuth: boolean;
  /** The request's own minter: it keeps the plain tokens for the reply that hands them out. */
  mint: Minter;
}

/** A request that reads the store rather than changing state; the hub answers it directly. */
export type Query =
  | { type: "history"; conn: ConnId; ref?: Ref; target: Target; limit: number; before?: string; after?: string }
  | { type: "conversations"; conn: ConnId; ref?: Ref };

/** What a request becomes: a command for `reduce`, or a query. */
export type Action = Command | Query;

type Handler<E extends RequestEvent> = (data: RequestDataMap[E], ctx: HandlerContext) => Action;

/** Stamped with the entry's time when applied. */
const UNSTAMPED = "";

function base(ctx: HandlerContext) {
  return ctx.ref === undefined ? { conn: ctx.conn, ts: UNSTAMPED } : { conn: ctx.conn, ts: UNSTAMPED, ref: ctx.ref };
}

/**
 * The requester's connection and the others of its account that this node serves: only
 * these can be handed a guest's token (others end). The account is as this node last saw it.
 */
function sessionsOf(ctx: HandlerContext): ConnId[] {
  const current = ctx.state.connections.get(ctx.conn)?.userId;
  const here = nodeOf(ctx.conn);
  const others = [...(current === undefined ? [] : (ctx.state.sessions.get(current) ?? []))].filter((c) => c !== ctx.conn && nodeOf(c) === here);
  return [ctx.conn, ...others];
}

function guestsFor(ctx: HandlerContext, conns: readonly ConnId[]): Array<NewAccount & { conn: ConnId }> {
  return conns.map((conn) => ({ conn, ...ctx.mint.account() }));
}

function targetOf(data: { room_id: string } | { user_id: string }): Target {
  return "room_id" in data ? { room_id: data.room_id } : { user_id: data.user_id };
}

export const handlers = {
  auth: (d, ctx) => ({
    type: "auth",
    ...base(ctx),
    user_id: d.user_id,
    tokenHash: d.token === undefined ? null : hashToken(d.token),
    openAuth: ctx.openAuth,
  }),
  change_name: (d, ctx) => ({ type: "change_name", ...base(ctx), username: d.username }),
  del_user: (_d, ctx) => ({ type: "del_user", ...base(ctx), guests: guestsFor(ctx, sessionsOf(ctx)) }),
  sign_out: (_d, ctx) => ({ type: "sign_out", ...base(ctx), guest: ctx.mint.account() }),
  replace_token: (_d, ctx) => {
    const others = sessionsOf(ctx).filter((conn) => conn !== ctx.conn);
    return { type: "replace_token", ...base(ctx), tokenHash: ctx.mint.token(), guests: guestsFor(ctx, others) };
  },
  send_message: (d, ctx) => ({
    type: "send_message",
    ...base(ctx),
    target: targetOf(d),
    text: d.message,
    messageId: UNSTAMPED,
    ...(d.client_msg_id === undefined ? {} : { clientMsgId: d.client_msg_id }),
  }),
  create_room: (d, ctx) => ({ type: "create_room", ...base(ctx), room_name: d.room_name, roomId: ctx.mint.roomId() }),
  rename_room: (d, ctx) => ({ type: "rename_room", ...base(ctx), room_id: d.room_id, room_name: d.room_name }),
  choose_room: (d, ctx) => ({ type: "choose_room", ...base(ctx), room_id: d.room_id }),
  show_rooms: (d, ctx) => {
    const page = typeof d === "object" && d !== null && !Array.isArray(d) ? d : {};
    const cmd: Command = { type: "show_rooms", ...base(ctx), limit: page.limit ?? 500 };
    if (page.after !== undefined) cmd.after = page.after;
    return cmd;
  },
  del_room: (d, ctx) => ({ type: "del_room", ...base(ctx), room_id: d.room_id }),
  typing: (d, ctx) => ({ type: "typing", ...base(ctx), target: targetOf(d) }),
  edit_message: (d, ctx) => ({ type: "edit_message", ...base(ctx), message_id: d.message_id, text: d.message }),
  delete_message: (d, ctx) => ({ type: "delete_message", ...base(ctx), message_id: d.message_id }),
  room_members: (d, ctx) => {
    const cmd: Command = { type: "room_members", ...base(ctx), room_id: d.room_id, limit: d.limit ?? 1000 };
    if (d.after !== undefined) cmd.after = d.after;
    return cmd;
  },
  exit_room: (d, ctx) => ({ type: "exit_room", ...base(ctx), room_id: d.room_id }),
  history: (d, ctx) => {
    const query: Extract<Query, { type: "history" }> = { type: "history", ...base(ctx), target: targetOf(d), limit: d.limit ?? 50 };
    if (d.before !== undefined) query.before = d.before;
    if (d.after !== undefined) query.after = d.after;
    return query;
  },
  ping: (_d, ctx) => ({ type: "ping", ...base(ctx) }),
  conversations: (_d, ctx) => (ctx.ref === undefined ? { type: "conversations", conn: ctx.conn } : { type: "conversations", conn: ctx.conn, ref: ctx.ref }),
} satisfies { [E in RequestEvent]: Handler<E> };

/** Builds the command or query for a validated request. */
export function toAction<E extends RequestEvent>(event: E, data: RequestDataMap[E], ctx: HandlerContext): Action {
  return (handlers[event] as Handler<E>)(data, ctx);
}
