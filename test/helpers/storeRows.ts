/** Fixed ids and messages for store tests. */
export const A = "00000000-0000-4000-8000-00000000000a";
export const B = "00000000-0000-4000-8000-00000000000b";
export const ROOM = "00000000-0000-4000-8000-0000000000f1";

export function message(n: number, key: string) {
  const id = `019a0000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;
  return key.startsWith("dm:")
    ? { id, from: { id: A, username: "a" }, text: `m${n}`, ts: "2026-01-01T00:00:00.000Z", to_user_id: B }
    : { id, from: { id: A, username: "a" }, text: `m${n}`, ts: "2026-01-01T00:00:00.000Z", room_id: key };
}

/** A message whose UUIDv7 id carries millisecond `ms` (so that age rules apply to it), `n` telling it apart. */
export function messageAt(ms: number, n: number, key: string) {
  const hex = ms.toString(16).padStart(12, "0");
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${n.toString(16).padStart(12, "0")}`;
  return { ...message(n, key), id, ts: new Date(ms).toISOString() };
}
