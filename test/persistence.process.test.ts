/** Restart and crash of a real server process on one SQLite file. */
import { mkdtempSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import type { Message } from "../src/protocol/wire.generated.js";
import { killChildren, startChild } from "./helpers/process.js";

afterEach(killChildren);

const connect = (url: string) => ChatClient.connect(url, { WebSocket: WebSocket as never });

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), "chat-persist-")), "chat.db");
}

/** Every message of a conversation, paging back with `before`. */
async function allHistory(c: ChatClient, target: { room_id: string } | { user_id: string }): Promise<Message[]> {
  const pages: Message[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await c.request("history", { ...target, limit: 100, ...(before ? { before } : {}) } as never);
    pages.unshift(page.messages);
    if (!page.has_more) return pages.flat();
    before = page.messages[0]!.id;
  }
}

describe("persistence", () => {
  it("keeps accounts, tokens, rooms, memberships and every kind of message across a restart", async () => {
    const CHAT_DB = dbPath();
    const first = await startChild([], { CHAT_DB });
    const alice = await connect(first.url);
    const bob = await connect(first.url);
    await alice.request("change_name", { username: "alice" });
    await bob.request("change_name", { username: "bob" });
    const { room } = await alice.request("create_room", { room_name: "Tea" });
    const { room: left } = await alice.request("create_room", { room_name: "Left" });
    await alice.request("exit_room", { room_id: left.id });
    await bob.request("choose_room", { room_id: room.id });
    const inRoom = (await alice.request("send_message", { room_id: room.id, message: "hello room" })).message;
    const inLobby = (await bob.request("send_message", { room_id: "all", message: "hello lobby" })).message;
    bob.close();
    const direct = (await alice.request("send_message", { user_id: bob.user.id, message: "for offline bob" })).message;
    const accounts = { alice: [alice.user.id, alice.token!], bob: [bob.user.id, bob.token!] } as const;

    first.child.kill("SIGTERM");
    expect((await once(first.child, "exit"))[0]).toBe(0);

    const second = await startChild([], { CHAT_DB });
    const bob2 = await connect(second.url);
    const signedIn = await bob2.request("auth", { user_id: accounts.bob[0], token: accounts.bob[1] });
    expect(signedIn.user).toEqual({ id: accounts.bob[0], username: "bob" });
    expect(signedIn.rooms).toEqual([{ ...room, member_count: 2 }]);
    expect(await allHistory(bob2, { room_id: room.id })).toEqual([inRoom]);
    expect(await allHistory(bob2, { room_id: "all" })).toEqual([inLobby]);
    expect(await allHistory(bob2, { user_id: accounts.alice[0] })).toEqual([direct]);
    const joined = await bob2.request("choose_room", { room_id: room.id });
    expect(joined.history).toEqual([inRoom]);

    const alice2 = await connect(second.url);
    await alice2.request("auth", { user_id: accounts.alice[0], token: accounts.alice[1] });
    const rooms = (await alice2.request("show_rooms")).rooms;
    expect(rooms.map((r) => [r.name, r.joined, r.member_count])).toEqual([["Left", false, 0], ["Tea", true, 2]]);
    // Ownership survived: alice may still rename and delete her rooms.
    await alice2.request("rename_room", { room_id: left.id, room_name: "Right" });
    await alice2.request("del_room", { room_id: left.id });
    second.child.kill("SIGTERM");
    await once(second.child, "exit");
  });

  it("loses no acknowledged message when killed with SIGKILL mid-stream", async () => {
    const CHAT_DB = dbPath();
    const server = await startChild([], { CHAT_DB });
    const senders = await Promise.all([1, 2, 3, 4].map(() => connect(server.url)));
    const { room } = await senders[0]!.request("create_room", { room_name: "stream" });
    for (const s of senders.slice(1)) await s.request("choose_room", { room_id: room.id });

    // Each sender keeps a few requests in flight and records, in order, what the server acknowledged.
    const acked: string[][] = senders.map(() => []);
    let total = 0;
    let kill!: () => void;
    const killed = new Promise<void>((resolve) => (kill = resolve));
    const streams = senders.map(async (s, i) => {
      for (let n = 0; ; n += 4) {
        const batch = [0, 1, 2, 3].map((k) =>
          s.request("send_message", { room_id: room.id, message: `s${i}-${n + k}` }).then((r) => r.message.id, () => undefined),
        );
        for (const reply of batch) {
          const result = await reply;
          if (result === undefined) return;
          acked[i]!.push(result);
          if (++total === 400) kill();
        }
      }
    });
    await killed;
    server.child.kill("SIGKILL");
    await Promise.all(streams);
    expect(total).toBeGreaterThanOrEqual(400);

    const restarted = await startChild([], { CHAT_DB });
    const reader = await connect(restarted.url);
    await reader.request("auth", { user_id: senders[0]!.user.id, token: senders[0]!.token! });
    const stored = (await allHistory(reader, { room_id: room.id })).map((m) => m.id);
    expect(new Set(stored).size).toBe(stored.length);
    const position = new Map(stored.map((id, i) => [id, i]));
    for (const ids of acked) {
      const positions = ids.map((id) => position.get(id));
      expect(positions.every((p) => p !== undefined)).toBe(true);
      expect(positions).toEqual([...positions].sort((a, b) => a! - b!));
    }
  });

  it("refuses to start on a damaged database with a one-line message", async () => {
    const { writeFileSync } = await import("node:fs");
    const CHAT_DB = dbPath();
    writeFileSync(CHAT_DB, "not a database ".repeat(200));
    await expect(startChild([], { CHAT_DB })).rejects.toThrow(/exited with 1: chat-server: cannot open the database .*chat\.db: file is not a database\n$/);
  });
});
