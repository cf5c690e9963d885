/**
 * The changes journal in front of a SQLite file. A crash of the process is a copy of the
 * database's files taken while the store is open: what the copy shows after opening is
 * what a restart after `kill -9` at that moment would show (fsync matters only for the
 * machine losing power, which the SIGKILL process tests cannot show either).
 */
import fs, { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Change } from "../src/core/changes.js";
import BetterSqlite3 from "better-sqlite3";
import { ChangeJournal, GROW_BYTES, journalPathOf } from "../src/store/changeJournal.js";
import { migrate, SCHEMA_VERSION } from "../src/store/migrations.js";
import { SqliteStore, StoreError } from "../src/store/sqliteStore.js";
import { patchFs, restoreFs } from "./helpers/patchFs.js";
import { A, message, ROOM } from "./helpers/storeRows.js";

const dirs: string[] = [];
const open: SqliteStore[] = [];
const storeAt = new Map<string, SqliteStore>();
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "chat-journal-"));
  dirs.push(dir);
  return join(dir, "chat.db");
}
function openStore(path: string, options?: { loopSyncMs?: number }): SqliteStore {
  const store = new SqliteStore(path, options);
  open.push(store);
  storeAt.set(path, store);
  return store;
}
afterAll(() => {
  for (const s of open) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FILES = ["", "-wal", "-shm", "-changes"];
/** The files as a crash at this moment leaves them, at a new path; `without` leaves some out. */
function crashCopy(path: string, without: string[] = []): string {
  // A kill -9 leaves the files as they are at one instant; copied one by one, they must not change meanwhile.
  const store = storeAt.get(path);
  store?.quiesce();
  const to = tempDb();
  for (const suffix of FILES) if (!without.includes(suffix) && existsSync(path + suffix)) copyFileSync(path + suffix, to + suffix);
  return to;
}

const added = (from: number, count: number, text = ""): Change[] =>
  Array.from({ length: count }, (_, i) => {
    const m = message(from + i, ROOM);
    return { type: "message_added" as const, key: ROOM, message: { ...m, text: m.text + text } };
  });
const texts = (store: SqliteStore) => store.page(ROOM, 100_000).messages.map((m) => m.text.split(" ")[0]);
const numbered = (from: number, count: number) => Array.from({ length: count }, (_, i) => `m${from + i}`);

/** A store on a new file holding an account and its room, ROOM. */
function seeded(options?: { loopSyncMs?: number }): { path: string; store: SqliteStore } {
  const path = tempDb();
  const store = openStore(path, options);
  store.write([{ type: "user_put", id: A, username: "a", tokenHash: "ha" }, { type: "room_put", id: ROOM, name: "Tea", ownerId: A }]);
  store.commit();
  return { path, store };
}

describe("the changes journal", () => {
  it("holds commits that SQLite does not have yet, and a crash loses none of them", () => {
    const { path, store } = seeded();
    for (let i = 0; i < 10; i++) {
      store.write(added(i * 3 + 1, 3));
      store.commit();
    }
    // The database alone lacks the last commits: they are in the journal only.
    const dbOnly = openStore(crashCopy(path, ["-changes"]));
    expect(texts(dbOnly).length).toBeLessThan(30);
    const crashed = openStore(crashCopy(path));
    expect(texts(crashed)).toEqual(numbered(1, 30));
    expect(crashed.load().rooms.get(ROOM)?.name).toBe("Tea");
    // Opening applied the journal to SQLite: the database alone now has everything.
    expect(texts(store)).toEqual(numbered(1, 30));
  });

  it("ignores a torn last record: the commit it belonged to never returned", () => {
    const { path, store } = seeded();
    store.write(added(1, 2));
    store.commit();
    store.write(added(3, 2));
    store.commit();
    const copy = crashCopy(path);
    // Tear the second record: flip a byte in its middle.
    const journal = readFileSync(journalPathOf(copy));
    let end = journal.length;
    while (end > 0 && journal[end - 1] === 0) end--;
    const middle = end - 20;
    journal[middle] = journal[middle]! ^ 0xff;
    writeFileSync(journalPathOf(copy), journal);
    expect(texts(openStore(copy))).toEqual(numbered(1, 2));
  });

  it("starts the journal again once it is long, without applying the last round's records twice", () => {
    const { path, store } = seeded();
    // About 10.5 MB of records: past the point where SQLite is synced and the journal starts
    // again (4 MiB, on the side), and past where a commit waits for that (8 MiB).
    const long = ` ${"x".repeat(900)}`;
    let past: number | undefined;
    for (let i = 0; i < 1100; i++) {
      store.write(added(i * 10 + 1, 10, long));
      store.commit();
      // The journal's file grows past 4 MiB with the record that crosses it: over the next
      // commits, which start it again, a crash must find every commit so far.
      past ??= statSync(journalPathOf(path)).size > 4 * 1024 * 1024 ? i : undefined;
      if (past !== undefined && i - past <= 12) {
        const copy = new SqliteStore(crashCopy(path));
        expect(copy.page(ROOM, 100_000).messages.length).toBe((i + 1) * 10);
        copy.close();
      }
    }
    expect(past).toBeDefined();
    const crashed = openStore(crashCopy(path));
    expect(texts(crashed)).toEqual(numbered(1, 11_000));
    expect(statSync(journalPathOf(path)).size).toBeLessThanOrEqual(8 * 1024 * 1024 + GROW_BYTES);
  });

  it("keeps edits, deletes and repeated client ids right while they are only in the journal", () => {
    const { store } = seeded();
    const [m1, m2] = [{ ...message(1, ROOM), client_msg_id: "c1" }, { ...message(2, ROOM), client_msg_id: "c2" }];
    store.write([
      { type: "message_added", key: ROOM, message: m1 },
      { type: "message_added", key: ROOM, message: m2 },
    ]);
    store.commit();
    store.write([{ type: "message_edited", key: ROOM, message: { ...m1, text: "edited" } }]);
    store.commit();
    store.write([{ type: "message_deleted", key: ROOM, id: m2.id }]);
    store.commit();
    expect(store.message(m1.id)?.message.text).toBe("edited");
    expect(store.sentBy(A, "c1")?.text).toBe("edited");
    expect(store.message(m2.id)).toBeUndefined();
    expect(store.sentBy(A, "c2")).toBeUndefined();
    // And once SQLite has them (a read applies the journal), the same answers.
    expect(texts(store)).toEqual(["edited"]);
    expect(store.sentBy(A, "c1")?.text).toBe("edited");
    expect(store.message(m2.id)).toBeUndefined();
  });

  it("refuses a journal left by another database (the database file deleted without it), and leaves it as it was", () => {
    const { path, store } = seeded();
    store.write(added(1, 2));
    store.commit();
    // A crash, then the database files deleted and the journal forgotten beside them.
    const crashed = crashCopy(path);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(crashed + suffix, { force: true });
    const journal = readFileSync(journalPathOf(crashed));
    expect(() => new SqliteStore(crashed)).toThrow(/belongs to another database/);
    expect(readFileSync(journalPathOf(crashed)).equals(journal)).toBe(true);
  });

  it("applies the records an older server (schema 7, no database id in its records) left in its journal when it died", () => {
    const path = tempDb();
    const old = new BetterSqlite3(path);
    migrate(old, 7);
    old.close();
    const journal = new ChangeJournal(journalPathOf(path));
    journal.append({ seq: 1, changes: [{ type: "user_put", id: A, username: "a", tokenHash: "ha" }, { type: "room_put", id: ROOM, name: "Tea", ownerId: A }] });
    journal.append({ seq: 2, changes: added(1, 2) });
    journal.close();
    const store = new SqliteStore(path);
    expect(texts(store)).toEqual(numbered(1, 2));
    store.close();
    const db = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("refuses a journal that does not continue the database, and leaves it as it was", () => {
    const path = tempDb();
    new SqliteStore(path).close();
    rmSync(journalPathOf(path));
    const foreign = new ChangeJournal(journalPathOf(path));
    foreign.append({ seq: 7, changes: added(1, 1) });
    foreign.close();
    const journal = readFileSync(journalPathOf(path));
    expect(() => new SqliteStore(path)).toThrow(StoreError);
    expect(() => new SqliteStore(path)).toThrow(/does not continue this database/);
    // Buffer.equals: a deep comparison of the 1 MiB file byte by byte takes seconds.
    expect(readFileSync(journalPathOf(path)).equals(journal)).toBe(true);
  });
});

afterEach(restoreFs);

describe("the writer thread", () => {
  it("while another connection holds SQLite's write lock, answers lookups from what it could not apply yet, and applies it once free", () => {
    const { path, store } = seeded();
    const other = new BetterSqlite3(path);
    other.exec("BEGIN IMMEDIATE");
    const sent = Array.from({ length: 300 }, (_, i) => ({ ...message(i + 1, ROOM), client_msg_id: `c${i + 1}` }));
    // More changes than the store keeps to itself: handed to the writer, which cannot write them.
    store.write(sent.map((m) => ({ type: "message_added" as const, key: ROOM, message: m })));
    store.commit();
    // Handed over too, after the first: its edit and delete must win over the first's messages.
    store.write([
      { type: "message_edited", key: ROOM, message: { ...sent[0]!, text: "edited" } },
      { type: "message_deleted", key: ROOM, id: sent[1]!.id },
      ...added(301, 260),
    ]);
    store.commit();
    store.write(added(561, 1));
    store.commit();
    expect(store.message(sent[0]!.id)?.message.text).toBe("edited");
    expect(store.sentBy(A, "c1")?.text).toBe("edited");
    expect(store.message(sent[1]!.id)).toBeUndefined();
    expect(store.sentBy(A, "c2")).toBeUndefined();
    expect(store.sentBy(A, "c300")?.id).toBe(sent[299]!.id);
    expect(store.message(sent[150]!.id)?.message.text).toBe("m151");
    other.exec("ROLLBACK");
    other.close();
    expect(texts(store)).toEqual(["edited", ...numbered(3, 559)]);
    expect(store.sentBy(A, "c1")?.text).toBe("edited");
    expect(store.sentBy(A, "c300")?.id).toBe(sent[299]!.id);
  });
});

describe("the writer thread and the journal's restart", () => {
  it("when SQLite cannot take the sync that would start the journal again, commits go on into the journal", () => {
    const { path, store } = seeded();
    const long = ` ${"x".repeat(900)}`;
    let i = 0;
    const commit = () => {
      store.write(added(i * 10 + 1, 10, long));
      store.commit();
      i++;
    };
    while (statSync(journalPathOf(path)).size <= 4 * 1024 * 1024) commit();
    // This commit asks the thread for its sync on the side; quiesce waits until that is done.
    commit();
    store.quiesce();
    const other = new BetterSqlite3(path);
    other.exec("BEGIN IMMEDIATE");
    for (let k = 0; k < 3; k++) expect(commit).not.toThrow();
    other.exec("ROLLBACK");
    other.close();
    commit();
    expect(texts(openStore(crashCopy(path)))).toEqual(numbered(1, i * 10));
  });
});

describe("the writer thread at start-up", () => {
  it("when SQLite cannot take the journal's records, refuses with one line and lets go of the file", () => {
    const { path, store } = seeded();
    store.write(added(1, 3));
    store.commit();
    const copy = crashCopy(path);
    const other = new BetterSqlite3(copy);
    other.exec("BEGIN IMMEDIATE");
    let refusal: unknown;
    try {
      new SqliteStore(copy);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(StoreError);
    expect(String(refusal)).toMatch(/cannot use the changes journal .*: database is locked/);
    expect(existsSync(`${copy}.pid`)).toBe(false);
    other.exec("ROLLBACK");
    other.close();
    expect(texts(openStore(copy))).toEqual(numbered(1, 3));
  });
});

/** The journal's syncs on libuv's pool whatever the disk (as on one found slow). */
const ON_POOL = { loopSyncMs: 0 };

describe("the changes journal with the sync off the event loop (commitAsync)", () => {
  it("makes a batch findable and durable only once its sync is done, and takes writes meanwhile", async () => {
    const { path, store } = seeded(ON_POOL);
    store.write(added(1, 1));
    const done = store.commitAsync();
    expect(done).toBeInstanceOf(Promise);
    const id = message(1, ROOM).id;
    expect(store.message(id)).toBeUndefined();
    store.write(added(2, 1));
    expect(() => store.commit()).toThrow(/waiting for the disk/);
    await done;
    expect(store.message(id)?.message.text).toBe("m1");
    expect(texts(openStore(crashCopy(path)))).toEqual(["m1"]);
    await store.commitAsync();
    expect(texts(openStore(crashCopy(path)))).toEqual(["m1", "m2"]);
    expect(store.commitAsync()).toBeUndefined();
  });

  it("when the sync fails, drops that batch and what was written after it, and takes the next commit", async () => {
    const { path, store } = seeded(ON_POOL);
    let fail = true;
    patchFs("fdatasync", (real) => ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      if (!fail) return real(fd, cb);
      fail = false;
      setImmediate(() => cb(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })));
    }) as typeof fs.fdatasync);
    store.write(added(1, 1));
    const refused = store.commitAsync();
    store.write(added(2, 1));
    await expect(refused).rejects.toThrow(/EIO/);
    expect(texts(openStore(crashCopy(path)))).toEqual([]);
    store.write(added(3, 1));
    await store.commitAsync();
    expect(texts(store)).toEqual(["m3"]);
    store.close();
    expect(texts(openStore(path))).toEqual(["m3"]);
  });

  it("syncs at close a batch still waiting for its sync, and its commitAsync resolves", async () => {
    const { path, store } = seeded(ON_POOL);
    store.write(added(1, 1));
    const done = store.commitAsync();
    store.close();
    await done;
    expect(texts(openStore(path))).toEqual(["m1"]);
  });
});

describe("the changes journal with the sync on the event loop while the disk is quick", () => {
  /** Counts the syncs made on the event loop and on libuv's pool. */
  function countSyncs(): { loop: number; pool: number } {
    const seen = { loop: 0, pool: 0 };
    patchFs("fdatasync", (real) => ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      seen.pool++;
      real(fd, cb);
    }) as typeof fs.fdatasync);
    patchFs("fdatasyncSync", (real) => (fd) => {
      seen.loop++;
      real(fd);
    });
    return seen;
  }

  it("commits as `commit` does: the batch synced and findable when commitAsync returns, with no promise", () => {
    const { path, store } = seeded();
    const syncs = countSyncs();
    store.write(added(1, 1));
    expect(store.commitAsync()).toBeUndefined();
    expect(syncs).toEqual({ loop: 1, pool: 0 });
    expect(store.message(message(1, ROOM).id)?.message.text).toBe("m1");
    expect(texts(openStore(crashCopy(path)))).toEqual(["m1"]);
  });

  it("after a sync far slower than the limit, syncs on the pool, and each batch is still durable once its commitAsync resolves", async () => {
    const { path, store } = seeded({ loopSyncMs: 1 });
    const syncs = countSyncs();
    patchFs("fdatasyncSync", (real) => (fd) => {
      // Over 16 times the limit, which moves the average past it at once: a wait the limit cannot miss.
      const until = performance.now() + 20;
      while (performance.now() < until);
      real(fd);
    });
    store.write(added(1, 1));
    expect(store.commitAsync()).toBeUndefined();
    store.write(added(2, 1));
    const second = store.commitAsync();
    expect(second).toBeInstanceOf(Promise);
    expect(store.message(message(2, ROOM).id)).toBeUndefined();
    await second;
    expect(syncs.pool).toBe(1);
    expect(texts(openStore(crashCopy(path)))).toEqual(["m1", "m2"]);
  });

  it("when the sync fails, throws and drops that batch; what is written after it goes in the next commit", () => {
    const { path, store } = seeded();
    let fail = true;
    patchFs("fdatasyncSync", (real) => (fd) => {
      if (!fail) return real(fd);
      fail = false;
      throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
    });
    store.write(added(1, 1));
    expect(() => store.commitAsync()).toThrow(/EIO/);
    expect(texts(openStore(crashCopy(path)))).toEqual([]);
    store.write(added(2, 1));
    expect(store.commitAsync()).toBeUndefined();
    store.close();
    expect(texts(openStore(path))).toEqual(["m2"]);
  });
});

describe("the changes journal when the disk misbehaves", () => {
  it("does not bring back a commit whose sync failed, after a crash or a clean restart", () => {
    const { path, store } = seeded();
    store.write(added(1, 1));
    store.commit();
    let fail = true;
    patchFs("fdatasyncSync", (real) => (fd) => {
      if (fail) {
        fail = false;
        throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
      }
      real(fd);
    });
    store.write(added(2, 1));
    expect(() => store.commit()).toThrow(/EIO/);
    expect(openStore(crashCopy(path)).page(ROOM, 10).messages.map((m) => m.text)).toEqual(["m1"]);
    store.close();
    expect(openStore(path).page(ROOM, 10).messages.map((m) => m.text)).toEqual(["m1"]);
  });

  it("writes a whole record when the system writes only part of it at first", () => {
    const { path, store } = seeded();
    let short = true;
    patchFs("writeSync", (real) => ((fd: number, buffer: Buffer, offset: number, length: number, position: number) => {
      if (short && length > 100) {
        short = false;
        return real(fd, buffer, offset, Math.floor(length / 2), position);
      }
      return real(fd, buffer, offset, length, position);
    }) as typeof fs.writeSync);
    store.write(added(1, 2));
    store.commit();
    expect(short).toBe(false);
    expect(texts(openStore(crashCopy(path)))).toEqual(numbered(1, 2));
  });
});
