/** A state as plain sorted data, for comparing replicas: everything a node keeps, in a canonical order. */
import type { ChatState } from "../../src/core/model.js";

const sorted = <T>(items: Iterable<T>): T[] => [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
const sets = (index: Map<string, Set<string>>) => sorted([...index].map(([k, v]) => [k, sorted(v)] as const));

export function stateView(s: ChatState) {
  return {
    users: sorted([...s.users.values()].map((u) => ({ ...u }))),
    rooms: sorted([...s.rooms.values()].map((r) => ({ id: r.id, name: r.name, ownerId: r.ownerId, members: sorted(r.members) }))),
    roomOrder: [...s.roomOrder],
    memberships: sets(s.memberships),
    owned: sets(s.owned),
    connections: sorted([...s.connections].map(([conn, c]) => [conn, c.userId] as const)),
    sessions: sets(s.sessions),
    directPeers: sets(s.directPeers),
    recent: sorted([...s.recent].map(([k, v]) => [k, v.map((m) => m.id)] as const)),
  };
}
