/**
 * A full disk, for real: a 16 MiB tmpfs filled to the last byte. Needs root (to mount);
 * skipped with the reason otherwise. (16 MiB rather than less: `probe` wants 4 MiB free.)
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Change } from "../src/core/changes.js";
import { SqliteStore, StoreError } from "../src/store/sqliteStore.js";
import { A, message, ROOM } from "./helpers/storeRows.js";

let mountPoint: string | undefined;
let skipReason = "";

beforeAll(() => {
  if (process.getuid?.() !== 0) {
    skipReason = "not root: cannot mount a small tmpfs to fill";
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "chat-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", dir], { stdio: "pipe" });
    mountPoint = dir;
  } catch (err) {
    rmdirSync(dir);
    skipReason = `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
});

const opened: SqliteStore[] = [];
afterAll(() => {
  for (const store of opened) store.close();
  if (!mountPoint) return;
  // Lazy, so that a failed test holding a file open cannot leave the mount behind.
  execFileSync("umount", ["-l", mountPoint]);
  rmdirSync(mountPoint);
});

function open(path: string): SqliteStore {
  const store = new SqliteStore(path);
  opened.push(store);
  return store;
}

/** Writes 64 KiB blocks, then single bytes, until the file system has no room left. */
function fill(path: string): void {
  const fd = openSync(path, "w");
  try {
    for (const size of [64 * 1024, 1]) {
      const block = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, block);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** `count` messages of about 2 KiB each, numbered from `from`. */
function messages(from: number, count: number): Change[] {
  return Array.from({ length: count }, (_, i) => {
    const m = message(from + i, ROOM);
    return { type: "message_added" as const, key: ROOM, message: { ...m, text: `${m.text} ${"x".repeat(2000)}` } };
  });
}

const texts = (store: SqliteStore) => store.page(ROOM, 10_000).messages.map((m) => m.text.split(" ")[0]);

describe("a full disk", () => {
  it("refuses the commit and drops it, fails the probe; once there is room, both work and nothing is lost", (ctx) => {
    if (!mountPoint) ctx.skip(skipReason);
    const path = join(mountPoint!, "chat.db");
    const filler = join(mountPoint!, "filler");
    const store = open(path);
    store.write([{ type: "user_put", id: A, username: "a", tokenHash: "ha" }, { type: "room_put", id: ROOM, name: "Tea", ownerId: A }, ...messages(1, 20)]);
    store.commit();
    store.probe();

    fill(filler);
    store.write(messages(100, 200));
    let failure: unknown;
    try {
      store.commit();
    } catch (err) {
      failure = err;
    }
    // Refused before it is journaled: what the journal held went to SQLite first, into the journal's spare space.
    expect(failure).toBeInstanceOf(StoreError);
    expect(String(failure)).toMatch(/the disk is full/);
    expect(() => store.probe()).toThrow(StoreError);
    expect(() => store.probe()).toThrow(/the disk is full/);
    // Reads still work, and show only what was committed.
    expect(texts(store)).toEqual(messages(1, 20).map((_, i) => `m${i + 1}`));

    rmSync(filler);
    store.probe();
    store.write(messages(300, 5));
    store.commit();
    const committed = [...messages(1, 20), ...messages(300, 5)].map((c) => (c.type === "message_added" ? c.message.text.split(" ")[0] : ""));
    expect(texts(store)).toEqual(committed);
    store.close();

    const reopened = open(path);
    expect(texts(reopened)).toEqual(committed);
    expect(reopened.load().rooms.get(ROOM)?.name).toBe("Tea");
    reopened.close();
  });
});
