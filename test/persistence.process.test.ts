/** Restart and crash of a real server process on one SQLite file. */
import { chmodSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient } from "../src/client/index.js";
import { allHistory } from "./helpers/clientEvents.js";
import { killChildren, startChild } from "./helpers/process.js";

afterEach(killChildren);

const connect = (url: string) => ChatClient.connect(url, { WebSocket: WebSocket as never });

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), "chat-persist-")), "chat.db");
}


/** The bytes of the database's files, to show that a refused start changed nothing. */
function snapshot(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}.pid`].map((f) => (existsSync(f) ? `${f}: ${readFileSync(f).toString("base64")}` : `${f}: none`));
}

/** The start-up log lines at warn level, as messages. */
const warnings = (lines: string[]) => lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40).map((l) => l.msg);

// Each test starts real processes (about a second each, more on a loaded machine).
describe("persistence", { timeout: 60_000 }, () => {
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

  it.each([0, 20])("loses no acknowledged message when killed with SIGKILL mid-stream (commit window %i ms)", async (window) => {
    const CHAT_DB = dbPath();
    const server = await startChild([], { CHAT_DB, CHAT_COMMIT_WINDOW_MS: String(window) });
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

  it("lets one server at a time use a file: a second is refused in one line naming the first's pid, a third starts once the first is killed", async () => {
    const CHAT_DB = dbPath();
    const first = await startChild([], { CHAT_DB });
    const client = await connect(first.url);
    await client.request("create_room", { room_name: "Tea" });
    client.close();
    expect(readFileSync(`${CHAT_DB}.pid`, "utf8")).toBe(`${first.child.pid}\n`);

    const before = snapshot(CHAT_DB);
    const refused = startChild([], { CHAT_DB });
    await expect(refused).rejects.toThrow(`exited with 1: chat-server: cannot use the database ${CHAT_DB}: another chat-server (pid ${first.child.pid}) holds it\n`);
    expect(snapshot(CHAT_DB)).toEqual(before);

    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    const third = await startChild([], { CHAT_DB });
    // The stale pid file was taken over.
    expect(readFileSync(`${CHAT_DB}.pid`, "utf8")).toBe(`${third.child.pid}\n`);
    const again = await connect(third.url);
    // The third serves the one state on the file: the room's name is still taken.
    await expect(again.request("create_room", { room_name: "Tea" })).rejects.toMatchObject({ code: "name_taken" });
    third.child.kill("SIGTERM");
    expect((await once(third.child, "exit"))[0]).toBe(0);
    expect(existsSync(`${CHAT_DB}.pid`)).toBe(false);
  });

  it("warns at start-up about database files others can read, and about open-auth mode", async () => {
    const CHAT_DB = dbPath();
    const quiet = await startChild([], { CHAT_DB });
    expect(warnings(quiet.lines)).toEqual([]);
    quiet.child.kill("SIGTERM");
    await once(quiet.child, "exit");

    chmodSync(CHAT_DB, 0o644);
    chmodSync(dirname(CHAT_DB), 0o755);
    const loud = await startChild(["--open-auth"], { CHAT_DB });
    expect(warnings(loud.lines)).toEqual([
      expect.stringMatching(new RegExp(`^database files other accounts on this machine can read or change: ${CHAT_DB} \\(0644\\)`)),
      `the database folder ${dirname(CHAT_DB)} (0755) is open to other accounts on this machine; chmod 700 it`,
      "open-auth mode: anyone can sign into any account by its id alone; never use it on a public server",
    ]);
    loud.child.kill("SIGTERM");
    await once(loud.child, "exit");
  });
});
