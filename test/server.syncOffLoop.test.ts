/**
 * A server on a database file waits for the disk off the event loop: while one commit's
 * fdatasync is under way it goes on reading and applying requests, holds everything they
 * cause for the next commit, and answers nothing before the commit that holds it is durable.
 * When that sync fails, the commit under way and everything applied after it are answered
 * `unavailable`, none of it pushed or stored. The disk's sync is held by the test (holdSyncs).
 * These servers run with `loopSyncMs: 0`, as after a sync found slow; by default a quick disk
 * is waited for on the event loop, as in the last test (store.journal.test.ts covers the switch).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { holdSyncs, patchFs, restoreFs } from "./helpers/patchFs.js";
import { rejection, startHarness, type Harness } from "./helpers/server.js";

let harness: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  restoreFs();
  await harness?.close();
  harness = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** `loopSyncMs` 0: the journal syncs on libuv's pool; 1000: on the event loop, however slow the machine. */
async function onFile(loopSyncMs = 0): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "chat-sync-"));
  dirs.push(dir);
  harness = await startHarness({ db: join(dir, "chat.db"), commitWindowMs: 0, loopSyncMs, metricsPort: 0 });
  return harness;
}

/** A counter or a histogram's count from the /metrics listener. */
async function metric(h: Harness, name: string): Promise<number> {
  const text = await (await fetch(h.server.metricsUrl!)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.slice(name.length + 1));
}

const EIO = () => Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });

const settled = <T>(p: Promise<T>) => {
  const state = { done: false };
  void p.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  return state;
};

describe("a commit waiting for the disk", () => {
  it("does not stop the server applying later requests, which wait for the next commit; nothing is answered before its sync", async () => {
    const h = await onFile();
    const [a, listener] = await h.clients(2);
    const disk = holdSyncs();
    const recent = () => (h.server.hub.state.recent.get("all") ?? []).map((m) => m.text);
    const first = a.request("send_message", { room_id: "all", message: "m1" });
    const firstDone = settled(first);
    await expect.poll(() => disk.waiting).toBe(1);
    const second = a.request("send_message", { room_id: "all", message: "m2" });
    const secondDone = settled(second);
    // Applied while the first sync waits: the event loop was free.
    await expect.poll(recent).toEqual(["m1", "m2"]);
    expect(disk.waiting).toBe(1);
    expect([firstDone.done, secondDone.done, listener.pushes.length]).toEqual([false, false, 0]);
    await disk.release();
    expect((await first).message.text).toBe("m1");
    // The second commit starts once the first is done; its reply waits for it.
    await expect.poll(() => disk.waiting).toBe(1);
    expect(secondDone.done).toBe(false);
    await disk.release();
    expect((await second).message.text).toBe("m2");
    await h.settle(listener);
    expect(listener.pushes.filter((f) => f.event === "message").map((f) => (f.data as { text: string }).text)).toEqual(["m1", "m2"]);
  });

  it("answers a send repeated while its original's commit waits for the disk with the original", async () => {
    const h = await onFile();
    const [a] = await h.clients(1);
    const disk = holdSyncs();
    const original = a.request("send_message", { room_id: "all", message: "once", client_msg_id: "c-1" });
    await expect.poll(() => disk.waiting).toBe(1);
    const again = a.request("send_message", { room_id: "all", message: "once", client_msg_id: "c-1" });
    await expect.poll(() => h.server.hub.state.recent.get("all")?.length).toBe(1);
    while (disk.waiting > 0) await disk.release();
    const [first, second] = [await original, await again];
    expect(second.message.id).toBe(first.message.id);
    expect((await a.request("history", { room_id: "all" })).messages).toHaveLength(1);
  });

  it("when that sync fails, answers unavailable to a repeat of a send in it and to a read answered meanwhile, which saw what is gone", async () => {
    const h = await onFile();
    const [a, b] = await h.clients(2);
    const disk = holdSyncs();
    const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: { code?: string }) => e.code);
    const original = outcome(a.request("send_message", { room_id: "all", message: "once", client_msg_id: "c-1" }));
    await expect.poll(() => disk.waiting).toBe(1);
    const created = outcome(a.request("create_room", { room_name: "ghost" }));
    // Judged on the state the failing commit holds: the original as sent, the room as made.
    const repeat = outcome(a.request("send_message", { room_id: "all", message: "once", client_msg_id: "c-1" }));
    await expect.poll(() => h.server.hub.state.rooms.size).toBe(1);
    const rooms = outcome(b.request("show_rooms", {}));
    // Answered (and held for the commit): counted when answered.
    await expect.poll(() => metric(h, 'chat_requests_total{event="show_rooms",outcome="ok"}')).toBe(1);
    await disk.release(EIO());
    expect([await original, await created, await repeat, await rooms]).toEqual(["unavailable", "unavailable", "unavailable", "unavailable"]);
    restoreFs();
    expect((await b.request("history", { room_id: "all" })).messages).toEqual([]);
    expect(b.pushes.filter((f) => f.event === "message" || f.event === "room_created")).toEqual([]);
  });

  it("when the sync fails, answers unavailable to the commit under way and to what was applied after it, pushes and stores none of it", async () => {
    const h = await onFile();
    const [a, b, listener] = await h.clients(3);
    await a.request("send_message", { room_id: "all", message: "stored" });
    const disk = holdSyncs();
    const first = rejection(a.request("send_message", { room_id: "all", message: "lost 1" }));
    await expect.poll(() => disk.waiting).toBe(1);
    const second = rejection(b.request("send_message", { room_id: "all", message: "lost 2" }));
    await expect.poll(() => h.server.hub.state.recent.get("all")?.length).toBe(2 + 1);
    const before = await metric(h, "chat_store_commit_seconds_count");
    await disk.release(EIO());
    expect([(await first).code, (await second).code]).toEqual(["unavailable", "unavailable"]);
    expect(await metric(h, "chat_store_commit_failures_total")).toBe(1);
    expect(await metric(h, "chat_store_commit_seconds_count")).toBe(before);
    restoreFs();
    const history = await listener.request("history", { room_id: "all" });
    expect(history.messages.map((m) => m.text)).toEqual(["stored"]);
    expect(listener.pushes.filter((f) => f.event === "message").map((f) => (f.data as { text: string }).text)).toEqual(["stored"]);
    // Takes writes again once the store does.
    await expect.poll(() => h.server.hub.unavailable, { timeout: 10_000 }).toBeUndefined();
    expect((await b.request("send_message", { room_id: "all", message: "after" })).message.text).toBe("after");
  });
});

describe("a commit whose sync runs on the event loop", () => {
  it("when the sync fails, answers unavailable, pushes and stores nothing, and takes the next send", async () => {
    const h = await onFile(1000);
    const [a, listener] = await h.clients(2);
    await a.request("send_message", { room_id: "all", message: "stored" });
    let fail = true;
    patchFs("fdatasyncSync", (real) => (fd) => {
      if (!fail) return real(fd);
      fail = false;
      throw EIO();
    });
    expect((await rejection(a.request("send_message", { room_id: "all", message: "lost" }))).code).toBe("unavailable");
    expect(await metric(h, "chat_store_commit_failures_total")).toBe(1);
    await expect.poll(() => h.server.hub.unavailable, { timeout: 10_000 }).toBeUndefined();
    expect((await a.request("send_message", { room_id: "all", message: "after" })).message.text).toBe("after");
    expect((await listener.request("history", { room_id: "all" })).messages.map((m) => m.text)).toEqual(["stored", "after"]);
    expect(listener.pushes.filter((f) => f.event === "message").map((f) => (f.data as { text: string }).text)).toEqual(["stored", "after"]);
  });
});
