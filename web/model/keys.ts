/**
 * Which conversation something belongs to. A key is a plain string so that it can be
 * a record key, saved in localStorage and put in a `data-key` attribute as it is.
 */
import type { Message } from "../../src/client/index.js";

/** "lobby", "room:<id>" or "dm:<user id>". */
export type ConvKey = string;
export const LOBBY: ConvKey = "lobby";
export const roomKey = (id: string): ConvKey => `room:${id}`;
export const dmKey = (id: string): ConvKey => `dm:${id}`;

export type Target = { kind: "lobby" } | { kind: "room"; id: string } | { kind: "dm"; id: string };

export function parseKey(key: ConvKey): Target | null {
  if (key === LOBBY) return { kind: "lobby" };
  const at = key.indexOf(":");
  const kind = key.slice(0, at);
  const id = key.slice(at + 1);
  if (at < 0 || id === "") return null;
  if (kind === "room") return { kind: "room", id };
  if (kind === "dm") return { kind: "dm", id };
  return null;
}

/** The conversation a message belongs to, seen from the account `me`. */
export function keyOf(message: Message, me: string): ConvKey {
  if ("to_user_id" in message) return dmKey(message.from.id === me ? message.to_user_id : message.from.id);
  return message.room_id === "all" ? LOBBY : roomKey(message.room_id);
}

/** Message ids are UUIDv7: as strings they sort in the server's order. */
export const newerId = (a: string | null | undefined, b: string | null | undefined): string | null =>
  (b ?? null) !== null && (a === null || a === undefined || b! > a) ? b! : (a ?? null);
