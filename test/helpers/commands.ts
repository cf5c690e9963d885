/** Random command sequences for property tests of the core, built the way the shell builds them. */
import fc from "fast-check";
import type { Command } from "../../src/core/commands.js";
import { DEFAULT_LIMITS } from "../../src/core/limits.js";
import { createState, LOBBY, nodeOf, type ChatState } from "../../src/core/model.js";
import { reduce, type Step } from "../../src/core/reduce.js";

const OPS = [
  "connect", "disconnect", "auth", "auth_wrong", "change_name", "del_user", "send_room", "send_lobby",
  "send_user", "create_room", "rename_room", "choose_room", "show_rooms", "del_room", "exit_room",
  "ping", "show_rooms_page", "sign_out", "replace_token", "node_gone", "typing_room", "typing_user", "room_members", "edit", "delete",
] as const;
type Op = (typeof OPS)[number];
export interface StepSpec { op: Op; a: number; b: number; name: string }

/** Common operations drawn more often, so that sequences build rooms and memberships. */
const WEIGHT: Partial<Record<Op, number>> = { connect: 3, create_room: 4, choose_room: 5, send_room: 4, change_name: 2, auth: 2 };

export const stepArb: fc.Arbitrary<StepSpec> = fc.record({
  op: fc.oneof(...OPS.map((op) => ({ arbitrary: fc.constant(op), weight: WEIGHT[op] ?? 1 }))),
  a: fc.nat(20),
  b: fc.nat(20),
  // Look-alikes under nameKey: case, full width, a joiner, ß and SS.
  name: fc.constantFrom("Tea", "tea", "Ｔｅａ", "Te\u200da", "Coffee", "Straße", "STRASSE", "x"),
});

/** Deterministic stand-ins for the shell's random ids, shaped like UUIDs. */
export function idMaker(series = 0): () => string {
  let n = 0;
  return () => `00000000-0000-7000-800${series}-${(++n).toString(16).padStart(12, "0")}`;
}

function pick<T>(items: T[], i: number): T | undefined {
  return items.length === 0 ? undefined : items[i % items.length];
}

/** Short texts mostly, and some of up to 4,000 characters, so that the recent-text bound is reached. */
function textOf(spec: StepSpec): string {
  return spec.b % 2 === 0 ? "hi" : "x".repeat(spec.b * 200);
}

/** Turns random step specs into commands against the state as it stands, the way the shell would. */
export function commandFor(state: ChatState, spec: StepSpec, nextId: () => string, seq: number): Command | undefined {
  const ts = new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
  const conns = [...state.connections.keys()];
  const users = [...state.users.keys()];
  const rooms = [...state.rooms.keys()];
  const conn = pick(conns, spec.a);
  const ref = seq;
  const account = () => {
    const id = nextId();
    return { id, tokenHash: `hash-of-${id}` };
  };
  // Connections of two nodes, as in a cluster: guests for a moved account come only for the requester's node.
  if (spec.op === "connect") return { type: "connect", conn: `n${spec.a % 2}/${seq}`, ts, guest: account() };
  if (spec.op === "node_gone") return { type: "node_gone", conn: "", node: `n${spec.a % 2}`, ts };
  if (conn === undefined) return undefined;
  const sameNode = (c: string) => nodeOf(c) === nodeOf(conn);
  const base = { conn, ts, ref };
  // b = 20 names an id that does not exist, to exercise not_found.
  const room = (spec.b < 20 && pick(rooms, spec.b)) || nextId();
  const user = (spec.b < 20 && pick(users, spec.b)) || nextId();
  switch (spec.op) {
    case "disconnect":
      return { type: "disconnect", conn, ts };
    case "auth":
      return { type: "auth", ...base, user_id: user, tokenHash: state.users.get(user)?.tokenHash ?? "none", openAuth: false };
    case "auth_wrong":
      return { type: "auth", ...base, user_id: user, tokenHash: "wrong", openAuth: false };
    case "change_name":
      return { type: "change_name", ...base, username: spec.name };
    case "del_user": {
      const current = state.connections.get(conn)!.userId;
      const guests = [...(state.sessions.get(current) ?? [])].filter(sameNode).map((c) => ({ conn: c, ...account() }));
      return { type: "del_user", ...base, guests };
    }
    case "send_room":
      return { type: "send_message", ...base, target: { room_id: room }, text: textOf(spec), messageId: nextId() };
    case "send_lobby":
      return { type: "send_message", ...base, target: { room_id: LOBBY }, text: textOf(spec), messageId: nextId() };
    case "send_user":
      return { type: "send_message", ...base, target: { user_id: user }, text: "hi", messageId: nextId() };
    case "create_room":
      return { type: "create_room", ...base, room_name: spec.name, roomId: nextId() };
    case "rename_room":
      return { type: "rename_room", ...base, room_id: room, room_name: spec.name };
    case "choose_room":
      return { type: "choose_room", ...base, room_id: room };
    case "show_rooms":
      return { type: "show_rooms", ...base, limit: 500 };
    case "show_rooms_page":
      return { type: "show_rooms", ...base, limit: 1 + (spec.b % 3), after: spec.name };
    case "sign_out":
      return { type: "sign_out", ...base, guest: account() };
    case "replace_token": {
      const current = state.connections.get(conn)!.userId;
      const guests = [...(state.sessions.get(current) ?? [])].filter((c) => c !== conn && sameNode(c)).map((c) => ({ conn: c, ...account() }));
      return { type: "replace_token", ...base, tokenHash: `hash-of-${nextId()}`, guests };
    }
    case "del_room":
      return { type: "del_room", ...base, room_id: room };
    case "exit_room":
      return { type: "exit_room", ...base, room_id: room };
    case "ping":
      return { type: "ping", ...base };
    case "typing_room":
      return { type: "typing", ...base, target: { room_id: room } };
    case "typing_user":
      return { type: "typing", ...base, target: { user_id: user } };
    case "edit":
    case "delete": {
      // As the shell does: the message looked up where it is kept (here, among the recent ones).
      const kept = [...state.recent].flatMap(([key, messages]) => messages.map((message) => ({ key, message })));
      const found = pick(kept, spec.b);
      const ids = { message_id: found?.message.id ?? nextId(), ...(found && { found }) };
      return spec.op === "edit" ? { type: "edit_message", ...base, ...ids, text: `edited ${spec.name}` } : { type: "delete_message", ...base, ...ids };
    }
    case "room_members":
      return { type: "room_members", ...base, room_id: room, limit: 1 + (spec.b % 3), ...(spec.a % 2 === 0 ? {} : { after: user }) };
  }
}

const CONNECT: StepSpec = { op: "connect", a: 0, b: 0, name: "x" };
/** A few connections first, then a random mix. */
export const stepsArb = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.array(stepArb, { minLength: 5, maxLength: 150, size: "max" }))
  .map(([n, rest]) => [...Array.from({ length: n }, () => CONNECT), ...rest]);


/**
 * Applies random steps from an empty state under the default limits, the way the shell
 * would, calling `after` with each command, what `reduce` made of it, its position and
 * the state it left.
 */
export function drive(specs: StepSpec[], after: (cmd: Command, step: Step, seq: number, state: ChatState) => void = () => {}): ChatState {
  const state = createState();
  const nextId = idMaker();
  specs.forEach((spec, seq) => {
    const cmd = commandFor(state, spec, nextId, seq);
    if (cmd) after(cmd, reduce(state, cmd, DEFAULT_LIMITS), seq, state);
  });
  return state;
}
