/**
 * Properties of the pure core: random command sequences from several users keep
 * the state's invariants, every request gets exactly one reply, and replaying the
 * same commands gives the same state and the same outbound messages.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Command } from "../src/core/commands.js";
import { DEFAULT_LIMITS } from "../src/core/limits.js";
import { createState, LOBBY, RECENT_MESSAGES, RECENT_TEXT, type ChatState } from "../src/core/model.js";
import { nameKey } from "../src/core/names.js";
import type { Outbound } from "../src/core/outbound.js";
import { isSessionChange } from "../src/core/changes.js";
import { reduce } from "../src/core/reduce.js";
import { accountsMadePermanent, mayWrite } from "../src/core/writes.js";
import { stateView } from "./helpers/stateView.js";
import { commandFor, drive, idMaker, stepArb, stepsArb, type StepSpec } from "./helpers/commands.js";

/** Runs specs from an empty state; returns the commands applied and everything they sent. */
function run(specs: StepSpec[]): { state: ChatState; commands: Command[]; outs: Outbound[][] } {
  const commands: Command[] = [];
  const outs: Outbound[][] = [];
  const state = drive(specs, (cmd, step) => {
    commands.push(cmd);
    outs.push(step.out);
  });
  return { state, commands, outs };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`invariant broken: ${what}`);
}

/** Plain checks rather than expect(): this runs after every step of every sequence. */
function checkInvariants(s: ChatState): void {
  for (const [id, room] of s.rooms) {
    check(s.users.has(room.ownerId), `owner of room ${id} exists`);
    check(s.owned.get(room.ownerId)?.has(id) === true, `owned index has room ${id}`);
    check(s.roomByName.get(nameKey(room.name)) === id, `name index has room ${id}`);
    for (const m of room.members) {
      check(s.users.has(m), `member ${m} of room ${id} exists`);
      check(s.memberships.get(m)?.has(id) === true, `membership index has ${m} in ${id}`);
    }
  }
  check(s.roomByName.size === s.rooms.size, "name index has no stale names");
  const named = [...s.users.values()].filter((u) => u.username !== null);
  for (const u of named) check(s.userByName.get(nameKey(u.username!)) === u.id, `account name index has ${u.id}: no two accounts share a name`);
  check(s.userByName.size === named.length, "account name index has no stale names");
  check(s.roomOrder.length === s.rooms.size && s.roomOrder.every((k, i) => i === 0 || s.roomOrder[i - 1]! < k), "sorted names index every room once");
  check(s.roomOrder.every((k) => s.roomByName.has(k)), "sorted names are the rooms' names");
  for (const [user, rooms] of s.memberships) {
    check(s.users.has(user), `member ${user} exists`);
    for (const r of rooms) check(s.rooms.get(r)?.members.has(user) === true, `room ${r} lists member ${user}`);
  }
  for (const [user, rooms] of s.owned) {
    for (const r of rooms) check(s.rooms.get(r)?.ownerId === user, `room ${r} is owned by ${user}`);
  }
  for (const [conn, c] of s.connections) {
    check(s.users.has(c.userId), `account of ${conn} exists`);
    check(s.sessions.get(c.userId)?.has(conn) === true, `session index has ${conn}`);
  }
  for (const [user, conns] of s.sessions) {
    for (const conn of conns) check(s.connections.get(conn)?.userId === user, `${conn} is signed into ${user}`);
  }
  for (const [user, peers] of s.directPeers) {
    check(s.users.has(user), `direct peer ${user} exists`);
    for (const p of peers) {
      check(s.users.has(p), `direct peer ${p} exists`);
      check(s.directPeers.get(p)?.has(user) === true, `${p} has ${user} as a direct peer too`);
    }
  }
  for (const [key, conversation] of s.recent) {
    if (key !== LOBBY) check(s.rooms.has(key), `recent messages of deleted room ${key} are gone`);
    check(conversation.length <= RECENT_MESSAGES, `${key} keeps at most ${RECENT_MESSAGES} recent messages`);
    const text = conversation.reduce((n, m) => n + m.text.length, 0);
    check(conversation.length <= 1 || text <= RECENT_TEXT, `${key} keeps at most ${RECENT_TEXT} characters of recent text`);
    for (let i = 1; i < conversation.length; i++) check(conversation[i - 1]!.id < conversation[i]!.id, `${key} is sorted by id`);
  }
}

/** A property of one more command after a random sequence: `check` gets the state and the command, not yet applied. */
function forOneMoreCommand(check: (state: ChatState, cmd: Command) => void): void {
  fc.assert(
    fc.property(stepsArb, stepArb, (specs, last) => {
      const { state } = run(specs);
      const cmd = commandFor(state, last, idMaker(1), specs.length);
      if (cmd) check(state, cmd);
    }),
    { numRuns: 300 },
  );
}

describe("reduce (property)", () => {
  it("keeps every index consistent: no membership, ownership or session refers to a deleted user or room", () => {
    fc.assert(
      fc.property(stepsArb, (specs) => {
        drive(specs, (_cmd, _step, _seq, state) => checkInvariants(state));
      }),
      { numRuns: 300 },
    );
  });

  it("answers every request with exactly one reply or error, first, to the requesting connection, echoing ref", () => {
    fc.assert(
      fc.property(stepsArb, (specs) => {
        const { commands, outs } = run(specs);
        commands.forEach((cmd, i) => {
          const out = outs[i]!;
          if (cmd.type === "connect") {
            expect(out).toEqual([expect.objectContaining({ event: "welcome", to: { kind: "conn", conn: cmd.conn } })]);
            return;
          }
          // A connection's end tells only of presence.
          if (cmd.type === "disconnect" || cmd.type === "node_gone") return expect(out.filter((o) => o.event !== "presence")).toEqual([]);
          const replies = out.filter((o) => "ref" in o && o.ref === cmd.ref);
          expect(replies).toHaveLength(1);
          expect(out[0]).toBe(replies[0]);
          expect(out[0]!.to).toEqual({ kind: "conn", conn: cmd.conn });
          expect([cmd.type, "error"]).toContain(out[0]!.event);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("tells of presence exactly when an account goes online or offline, with the truth, to those who share a room or a direct conversation with it", () => {
    fc.assert(
      fc.property(stepsArb, (specs) => {
        let online = new Set<string>();
        const shared = (s: ChatState, user: string): boolean =>
          [...(s.directPeers.get(user) ?? [])].some((p) => p !== user) || [...(s.memberships.get(user) ?? [])].some((r) => (s.rooms.get(r)?.members.size ?? 0) > 1);
        drive(specs, (_cmd, step, _seq, state) => {
          const now = new Set(state.sessions.keys());
          const pushes = step.out.filter((o) => o.event === "presence");
          const told = new Map(pushes.map((o) => [o.data.user.id, o.data.online] as const));
          expect(told.size).toBe(pushes.length);
          for (const [user, isOnline] of told) {
            expect(isOnline).toBe(now.has(user));
            expect(online.has(user)).toBe(!isOnline);
            expect(pushes.find((o) => o.data.user.id === user)!.to).toMatchObject({ kind: "users", users: expect.not.arrayContaining([user]) });
          }
          for (const user of new Set([...online, ...now])) {
            const changed = online.has(user) !== now.has(user);
            if (changed && state.users.has(user) && shared(state, user)) expect(told.has(user)).toBe(true);
            if (!changed) expect(told.has(user)).toBe(false);
          }
          online = now;
        });
      }),
      { numRuns: 300 },
    );
  });

  it("replays the same commands to the same state and the same outbound messages", () => {
    fc.assert(
      fc.property(stepsArb, (specs) => {
        const first = run(specs);
        const replayed = createState();
        const outs = first.commands.map((cmd) => reduce(replayed, cmd, DEFAULT_LIMITS).out);
        expect(replayed).toEqual(first.state);
        expect(outs).toEqual(first.outs);
      }),
      { numRuns: 200 },
    );
  });

  it("leaves the state untouched when a request fails", () => {
    forOneMoreCommand((state, cmd) => {
      if (cmd.type === "connect" || cmd.type === "disconnect") return;
      const before = structuredClone(state);
      const { out } = reduce(state, cmd, DEFAULT_LIMITS);
      if (out[0]?.event === "error") expect(state).toEqual(before);
    });
  });
});

describe("reduce (property): reads and pages", () => {
  it("never records a lasting change (beyond sessions and guests) for a command mayWrite calls read-only", () => {
    forOneMoreCommand((state, cmd) => {
      const readOnly = !mayWrite(state, cmd);
      const { changes } = reduce(state, cmd, DEFAULT_LIMITS);
      if (readOnly) expect(changes.filter((c) => !isSessionChange(c))).toEqual([]);
    });
  });

  it("lets only a message's author edit it, and only its author or its room's owner delete it", () => {
    forOneMoreCommand((state, cmd) => {
      if ((cmd.type !== "edit_message" && cmd.type !== "delete_message") || !cmd.found) return;
      const user = state.connections.get(cmd.conn)!.userId;
      const { key, message } = cmd.found;
      const { out, changes } = reduce(state, cmd, DEFAULT_LIMITS);
      const allowed = message.from.id === user || (cmd.type === "delete_message" && state.rooms.get(key)?.ownerId === user);
      expect(out[0]!.event).toBe(allowed ? cmd.type : "error");
      expect(changes.length > 0).toBe(allowed);
      if (cmd.type === "delete_message" && allowed) expect(state.recent.get(key)?.some((m) => m.id === message.id) ?? false).toBe(false);
    });
  });

  it("changes nothing for reads and typing: show_rooms, room_members, ping, typing", () => {
    forOneMoreCommand((state, cmd) => {
      if (!["show_rooms", "room_members", "ping", "typing"].includes(cmd.type)) return;
      const before = stateView(state);
      const { changes } = reduce(state, cmd, DEFAULT_LIMITS);
      expect(changes).toEqual([]);
      expect(stateView(state)).toEqual(before);
    });
  });

  it("makes permanent only accounts accountsMadePermanent named beforehand", () => {
    forOneMoreCommand((state, cmd) => {
      const predicted = accountsMadePermanent(state, cmd);
      const pristine = [...state.users.values()].filter((u) => !u.touched).map((u) => u.id);
      reduce(state, cmd, DEFAULT_LIMITS);
      const madePermanent = pristine.filter((id) => state.users.get(id)?.touched === true);
      for (const id of madePermanent) expect(predicted).toContain(id);
    });
  });

  it("lists every room exactly once, in name order, however show_rooms is paged", () => {
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 1, max: 4 }), (specs, limit) => {
        const { state } = run(specs);
        const conn = [...state.connections.keys()][0];
        if (conn === undefined) return;
        const listed: string[] = [];
        let after: string | undefined;
        for (let guard = 0; guard <= state.rooms.size; guard++) {
          const cmd: Command = { type: "show_rooms", conn, ts: "2026-01-01T00:00:00.000Z", ref: guard, limit };
          if (after !== undefined) cmd.after = after;
          const [reply] = reduce(state, cmd, DEFAULT_LIMITS).out;
          if (reply?.event !== "show_rooms") throw new Error(`expected a show_rooms reply, got ${reply?.event}`);
          expect(reply.data.rooms.length).toBeLessThanOrEqual(limit);
          listed.push(...reply.data.rooms.map((r) => r.id));
          after = reply.data.rooms.at(-1)?.name;
          if (!reply.data.has_more) break;
        }
        const expected = [...state.rooms.values()].sort((a, b) => (nameKey(a.name) < nameKey(b.name) ? -1 : 1)).map((r) => r.id);
        expect(listed).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
