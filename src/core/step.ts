/** Helpers the command handlers share to build their outbound messages. */
import { errorData, type ErrorCode } from "../protocol/errors.js";
import type { RequestEvent } from "../protocol/events.js";
import type { Command } from "./commands.js";
import type { ChatState, ConnId, UserRecord } from "./model.js";
import type { Outbound, Reply, ReplyData } from "./outbound.js";

export type RequestCommand = Exclude<Command, { type: "connect" | "disconnect" | "node_gone" }>;

/** The error reply to a request, echoing its ref. */
export function fail(cmd: RequestCommand, code: ErrorCode, message?: string): Outbound[] {
  const out: Outbound = { to: { kind: "conn", conn: cmd.conn }, event: "error", data: errorData(code, cmd.type, message) };
  if (cmd.ref !== undefined) out.ref = cmd.ref;
  return [out];
}

/** The success reply to a request, echoing its ref. */
export function reply<E extends Exclude<RequestEvent, "replace_token">>(cmd: RequestCommand, event: E, data: ReplyData<E>): Outbound {
  const out = { to: { kind: "conn", conn: cmd.conn }, event, data } as Reply;
  if (cmd.ref !== undefined) out.ref = cmd.ref;
  return out;
}

/** The account a connection is signed into. Throws when the connection is unknown: a shell bug. */
export function accountOf(state: ChatState, conn: ConnId): UserRecord {
  const c = state.connections.get(conn);
  const user = c && state.users.get(c.userId);
  if (!user) throw new Error(`connection ${conn} has no account`);
  return user;
}
