/**
 * Migration 6's work: account and room names that an older release let coexist but that
 * are the same name under today's comparison (`nameKey`). In each clash the oldest keeps
 * the name and the others get a distinguishing suffix; a renamed account keeps the name
 * it had in `renamed_from`, so that its next `auth` can say so. The store keeps no
 * creation time, so "oldest" is judged by the first message sent (or sent in the room),
 * then by id: the same on every replica holding the same rows.
 */
import type { Database } from "better-sqlite3";
import { distinguishedName, nameKey } from "../core/names.js";

interface Named {
  id: string;
  name: string;
  /** The id of its first message (UUIDv7, so its time), or null. */
  first: string | null;
}

function byAge(a: Named, b: Named): number {
  if (a.first !== b.first) return a.first === null ? 1 : b.first === null ? -1 : a.first < b.first ? -1 : 1;
  return a.id < b.id ? -1 : 1;
}

/** The names to change, id → new name: every holder but the oldest of each clash. */
function settle(rows: Array<{ id: string; name: string }>, firstOf: (id: string) => string | null, max: number): Map<string, string> {
  const groups = new Map<string, Array<{ id: string; name: string }>>();
  for (const r of rows) {
    const key = nameKey(r.name);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const taken = new Set(groups.keys());
  const renamed = new Map<string, string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const [, ...others] = group.map((r): Named => ({ ...r, first: firstOf(r.id) })).sort(byAge);
    for (const o of others) {
      const name = distinguishedName(o.name, max, (key) => taken.has(key));
      taken.add(nameKey(name));
      renamed.set(o.id, name);
    }
  }
  return renamed;
}

export function settleNames(db: Database): void {
  db.exec("ALTER TABLE users ADD COLUMN renamed_from TEXT");
  const users = db.prepare("SELECT id, username AS name FROM users WHERE username IS NOT NULL").all() as Array<{ id: string; name: string }>;
  // Rows written before migration 4 have no sender column: the sender is in the stored message.
  const firstBy = db.prepare("SELECT min(id) AS first FROM messages WHERE coalesce(sender, json_extract(body, '$.from.id')) = ?");
  const renameUser = db.prepare("UPDATE users SET username = ?, renamed_from = username WHERE id = ?");
  for (const [id, name] of settle(users, (id) => (firstBy.get(id) as { first: string | null }).first, 32)) renameUser.run(name, id);

  const rooms = db.prepare("SELECT id, name FROM rooms").all() as Array<{ id: string; name: string }>;
  const firstIn = db.prepare("SELECT min(id) AS first FROM messages WHERE conv = ?");
  const renameRoom = db.prepare("UPDATE rooms SET name = ? WHERE id = ?");
  for (const [id, name] of settle(rooms, (id) => (firstIn.get(id) as { first: string | null }).first, 64)) renameRoom.run(name, id);
}
