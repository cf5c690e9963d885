import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { databaseFilesOf } from "../src/store/databaseFiles.js";
import { pidFileOf } from "../src/store/databaseLock.js";
import { permissionWarnings } from "../src/store/fileModes.js";
import { APPLICATION_ID, migrate, SCHEMA_VERSION } from "../src/store/migrations.js";
import { COUNT_NEWEST_SQL, DELETE_OLDEST_SQL, NEXT_CONVERSATION_SQL } from "../src/store/sqlitePrune.js";
import { PAGE_SQL, SENT_BY_SQL, SqliteStore, StoreError } from "../src/store/sqliteStore.js";
import { A, B, message, ROOM } from "./helpers/storeRows.js";

const modeOf = (path: string) => statSync(path).mode & 0o777;
/** Every file of a database, by name, as bytes: to show a refused open changed nothing. */
function snapshot(path: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of [...databaseFilesOf(path), `${path}-journal`, pidFileOf(path)]) {
    if (existsSync(f)) files[f] = readFileSync(f).toString("base64");
  }
  return files;
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "chat-store-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  dirs.length = 0;
});


describe("SqliteStore", () => {
  it("creates a new file with its directory, stamped with our application id and the current schema version", () => {
    const path = join(tempDir(), "nested", "deeper", "chat.db");
    new SqliteStore(path).close();
    const db = new BetterSqlite3(path);
    expect(db.pragma("application_id", { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("keeps what was committed across reopening, and drops what was not", () => {
    const path = join(tempDir(), "chat.db");
    const store = new SqliteStore(path);
    store.write([
      { type: "user_put", id: A, username: "a", tokenHash: "ha" },
      { type: "room_put", id: ROOM, name: "Tea", ownerId: A },
      { type: "member_added", roomId: ROOM, userId: A },
      { type: "message_added", key: ROOM, message: message(1, ROOM) },
    ]);
    store.commit();
    // Written but never committed, as when the process dies before the end of its turn.
    store.write([{ type: "user_put", id: B, username: "b", tokenHash: "hb" }]);
    store.close();
    const reopened = new SqliteStore(path).load();
    expect([...reopened.users.keys()]).toEqual([A]);
    expect(reopened.rooms.get(ROOM)).toEqual({ id: ROOM, name: "Tea", ownerId: A, members: new Set([A]) });
    expect(reopened.recent.get(ROOM)?.map((m) => m.text)).toEqual(["m1"]);
  });

  it("reads a page through the (conv, id) key rather than a scan", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db);
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${PAGE_SQL}`).all("all", "z", 10);
    const details = plan.map((row) => (row as { detail: string }).detail).join("; ");
    expect(details).toMatch(/SEARCH messages USING PRIMARY KEY \(conv=\? AND id<\?\)/);
    expect(details).not.toMatch(/TEMP B-TREE/);
    db.close();
  });

  it("finds a repeated client id through the index that leads with it (the SDK's ids rise with time, so inserts land at its end)", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db);
    const details = db.prepare(`EXPLAIN QUERY PLAN ${SENT_BY_SQL}`).all(A, "c-1").map((row) => (row as { detail: string }).detail).join("; ");
    expect(details).toMatch(/USING INDEX messages_by_client_id \(client_msg_id=\? AND sender=\?\)/);
    db.close();
  });

  it("answers client ids exactly whether or not they rise: the ones stored before it opened, since, only in its journal, and never stored", () => {
    const path = join(tempDir(), "chat.db");
    const sent = (n: number, cid: string, from = A) => ({ type: "message_added" as const, key: ROOM, message: { ...message(n, ROOM), from: { id: from, username: "x" }, client_msg_id: cid } });
    const first = new SqliteStore(path);
    first.write([sent(1, "c-0005"), sent(2, "c-0001")]);
    first.commit();
    first.close();

    const store = new SqliteStore(path);
    expect(store.sentBy(A, "c-0005")?.text).toBe("m1");
    expect(store.sentBy(A, "c-0001")?.text).toBe("m2");
    expect(store.sentBy(A, "c-0009")).toBeUndefined();
    store.write([sent(3, "c-0009")]);
    store.commit();
    expect(store.sentBy(A, "c-0009")?.text).toBe("m3");
    expect(store.sentBy(B, "c-0009")).toBeUndefined();
    expect(store.sentBy(A, "c-0007")).toBeUndefined();
    store.write([sent(4, "c-0010")]);
    expect(store.sentBy(A, "c-0010")).toBeUndefined();
    store.commit();
    expect(store.sentBy(A, "c-0010")?.text).toBe("m4");
    // Only in the journal when the store stops (a crash): found after the next start.
    store.write([sent(5, "c-0020")]);
    store.commit();
    const copy = join(tempDir(), "copy.db");
    store.quiesce();
    for (const suffix of ["", "-wal", "-changes"]) if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
    store.close();
    const restarted = new SqliteStore(copy);
    expect(restarted.sentBy(A, "c-0020")?.text).toBe("m5");
    expect(restarted.sentBy(A, "c-0021")).toBeUndefined();
    // Ids outside printable ASCII, whose order JavaScript and SQLite may disagree on, are always looked up.
    restarted.write([sent(6, "ü-1")]);
    restarted.commit();
    expect(restarted.sentBy(A, "ü-1")?.text).toBe("m6");
    restarted.close();
  });

  it("looks up client ids whose order JavaScript and SQLite disagree on (UTF-16 against UTF-8)", () => {
    const path = join(tempDir(), "chat.db");
    const first = new SqliteStore(path);
    // SQLite sorts the emoji (F0 9F …) above U+FFFD (EF BF BD); JavaScript's UTF-16 (D83D … against FFFD) the other way.
    for (const [n, cid] of [[1, "\u{1F600}"], [2, "\uFFFD"]] as const) {
      first.write([{ type: "message_added", key: ROOM, message: { ...message(n, ROOM), client_msg_id: cid } }]);
    }
    first.commit();
    first.close();
    const store = new SqliteStore(path);
    expect(store.sentBy(A, "\uFFFD")?.text).toBe("m2");
    store.close();
  });

  it("upgrades a file from an older schema version, keeping its data", () => {
    const path = join(tempDir(), "old.db");
    const old = new BetterSqlite3(path);
    migrate(old, 1);
    const key = A < B ? `dm:${A}:${B}` : `dm:${B}:${A}`;
    old.prepare("INSERT INTO users VALUES (?, ?, ?)").run(A, "a", "ha");
    old.prepare("INSERT INTO users VALUES (?, ?, ?)").run(B, "b", "hb");
    old.prepare("INSERT INTO messages VALUES (?, ?, ?)").run(key, message(1, key).id, JSON.stringify(message(1, key)));
    expect(old.pragma("user_version", { simple: true })).toBe(1);
    old.close();

    const store = new SqliteStore(path);
    const state = store.load();
    store.close();
    expect(state.users.get(A)?.username).toBe("a");
    expect(state.directPeers.get(A)).toEqual(new Set([B]));
    const db = new BetterSqlite3(path);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("settles stored names that collide under today's comparison: the first to write keeps the name, the others get a suffix and remember theirs", () => {
    const path = join(tempDir(), "clash.db");
    const old = new BetterSqlite3(path);
    migrate(old, 5);
    const [C, D] = ["00000000-0000-4000-8000-00000000000c", "00000000-0000-4000-8000-00000000000d"];
    const user = old.prepare("INSERT INTO users (id, username, token_hash) VALUES (?, ?, ?)");
    user.run(A, "ＡＬＩＣＥ", "ha");
    user.run(B, "alice", "hb");
    user.run(C, "Alice (2)", "hc");
    user.run(D, "bob", "hd");
    // B wrote first, then A; C never did: B keeps "alice", A becomes "ＡＬＩＣＥ (3)" since "alice (2)" is taken by C.
    const add = old.prepare("INSERT INTO messages (conv, id, body, sender) VALUES (?, ?, ?, ?)");
    const m1 = { ...message(1, "all"), from: { id: B, username: "alice" } };
    const m2 = message(2, "all");
    add.run("all", m1.id, JSON.stringify(m1), null);
    add.run("all", m2.id, JSON.stringify(m2), A);
    old.prepare("INSERT INTO rooms VALUES (?, ?, ?)").run("r1", "Tea", A);
    old.prepare("INSERT INTO rooms VALUES (?, ?, ?)").run("r2", "ＴＥＡ", A);
    old.close();

    const store = new SqliteStore(path);
    const state = store.load();
    store.close();
    const names = Object.fromEntries([...state.users.values()].map((u) => [u.id, [u.username, u.renamedFrom]]));
    expect(names).toEqual({ [A]: ["ＡＬＩＣＥ (3)", "ＡＬＩＣＥ"], [B]: ["alice", undefined], [C]: ["Alice (2)", undefined], [D]: ["bob", undefined] });
    expect([...state.rooms.values()].map((r) => r.name).sort()).toEqual(["Tea", "ＴＥＡ (2)"]);
    expect(state.userByName.size).toBe(4);
  });

  it("refuses a file written by a newer version, without changing it", () => {
    const path = join(tempDir(), "newer.db");
    new SqliteStore(path).close();
    const db = new BetterSqlite3(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = snapshot(path);
    expect(() => new SqliteStore(path)).toThrow(StoreError);
    expect(snapshot(path)).toEqual(before);
    expect(() => new SqliteStore(path)).toThrow(/written by a newer chat-server \(schema version \d+; this one knows up to \d+\)/);
    const after = new BetterSqlite3(path);
    expect(after.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION + 1);
    after.close();
  });

  it("refuses another program's SQLite file", () => {
    const path = join(tempDir(), "foreign.db");
    const db = new BetterSqlite3(path);
    db.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY)");
    db.close();
    const before = snapshot(path);
    expect(() => new SqliteStore(path)).toThrow(/not a chat-server database/);
    expect(snapshot(path)).toEqual(before);
    const after = new BetterSqlite3(path);
    expect(after.pragma("journal_mode", { simple: true })).toBe("delete");
    after.close();
  });

  it("gives a clear error for a damaged file and for a path it cannot write", () => {
    const dir = tempDir();
    const damaged = join(dir, "damaged.db");
    writeFileSync(damaged, "this is not a database, just some text that is long enough ".repeat(100));
    expect(() => new SqliteStore(damaged)).toThrow(/cannot open the database .*damaged\.db: file is not a database/);

    const blocked = join(dir, "blocked");
    writeFileSync(blocked, "a file where a folder should be");
    expect(() => new SqliteStore(join(blocked, "chat.db"))).toThrow(/cannot open the database .*blocked\/chat\.db/);

    if (process.getuid?.() !== 0) {
      const readOnly = join(dir, "ro");
      mkdirSync(readOnly);
      chmodSync(readOnly, 0o500);
      expect(() => new SqliteStore(join(readOnly, "chat.db"))).toThrow(StoreError);
    }
  });

  it("lets one store at a time use a file, names the holder by its pid file, and changes nothing when refused", () => {
    const path = join(tempDir(), "chat.db");
    const first = new SqliteStore(path);
    first.write([{ type: "message_added", key: "all", message: message(1, "all") }]);
    first.commit();
    const pidFile = `${path}.pid`;
    expect(readFileSync(pidFile, "utf8")).toBe(`${process.pid}\n`);
    expect(modeOf(pidFile)).toBe(0o600);

    const before = snapshot(path);
    expect(() => new SqliteStore(path)).toThrow(new StoreError(`cannot use the database ${path}: another chat-server (pid ${process.pid}) holds it`));
    expect(snapshot(path)).toEqual(before);

    rmSync(pidFile);
    expect(() => new SqliteStore(path)).toThrow(`cannot use the database ${path}: another process holds it (its pid could not be read from ${pidFile})`);

    first.close();
    expect(existsSync(pidFile)).toBe(false);
    const second = new SqliteStore(path);
    expect(second.page("all", 10).messages.map((m) => m.text)).toEqual(["m1"]);
    second.close();
  });

  it("holds a file by what it is, not by the name it was given: a link to a held file is refused", () => {
    const dir = tempDir();
    const path = join(dir, "chat.db");
    const first = new SqliteStore(path);
    symlinkSync(path, join(dir, "link.db"));
    expect(() => new SqliteStore(join(dir, "link.db"))).toThrow(/another chat-server \(pid \d+\) holds it/);
    first.close();
  });

  it("closing twice leaves the next holder's pid file alone", () => {
    const path = join(tempDir(), "chat.db");
    const first = new SqliteStore(path);
    first.close();
    const second = new SqliteStore(path);
    first.close();
    expect(existsSync(pidFileOf(path))).toBe(true);
    expect(() => new SqliteStore(path)).toThrow(/holds it/);
    second.close();
  });

  it("refuses a database that a server from before the lock file holds (its lock is on the database itself)", () => {
    const path = join(tempDir(), "chat.db");
    new SqliteStore(path).close();
    const older = new BetterSqlite3(path);
    older.pragma("locking_mode = EXCLUSIVE");
    older.exec("BEGIN EXCLUSIVE; COMMIT");
    writeFileSync(pidFileOf(path), "4242\n");
    expect(() => new SqliteStore(path)).toThrow(new StoreError(`cannot use the database ${path}: another chat-server (pid 4242) holds it`));
    older.close();
    rmSync(pidFileOf(path));
    const store = new SqliteStore(path);
    store.close();
  });

  it("creates its folders 0700 and its file 0600 (its -wal too), and keeps quiet about them", () => {
    const top = join(tempDir(), "nested");
    const path = join(top, "deeper", "chat.db");
    const store = new SqliteStore(path);
    store.write([{ type: "message_added", key: "all", message: message(1, "all") }]);
    store.commit();
    expect(modeOf(top)).toBe(0o700);
    expect(modeOf(join(top, "deeper"))).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(`${path}-wal`)).toBe(0o600);
    expect(permissionWarnings(path)).toEqual([]);
    store.close();
  });

  it("leaves the modes of existing files alone, and warns when others can read them", () => {
    const dir = tempDir();
    const path = join(dir, "chat.db");
    new SqliteStore(path).close();
    chmodSync(path, 0o644);
    chmodSync(dir, 0o755);
    const store = new SqliteStore(path);
    store.write([{ type: "message_added", key: "all", message: message(1, "all") }]);
    store.commit();
    expect(modeOf(path)).toBe(0o644);
    expect(permissionWarnings(path)).toEqual([
      `database files other accounts on this machine can read or change: ${path} (0644), ${path}-wal (0644), ${path}-shm (0644); chmod 600 them`,
      `the database folder ${dir} (0755) is open to other accounts on this machine; chmod 700 it`,
    ]);
    store.close();
    expect(permissionWarnings(":memory:")).toEqual([]);
  });

  it("probes with a real write, and passes when the disk has room", () => {
    const path = join(tempDir(), "chat.db");
    const store = new SqliteStore(path);
    const walSize = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);
    const before = walSize();
    store.probe();
    expect(walSize()).toBeGreaterThan(before);
    store.close();
    const db = new BetterSqlite3(path);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("prunes through the (conv, id) key: no statement scans the table", () => {
    const db = new BetterSqlite3(":memory:");
    migrate(db);
    const plan = (sql: string, params: unknown) =>
      db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never).map((row) => (row as { detail: string }).detail).join("; ");
    expect(plan(NEXT_CONVERSATION_SQL, ["all"])).toMatch(/^SEARCH messages USING PRIMARY KEY \(conv>\?\)$/);
    const counting = plan(COUNT_NEWEST_SQL, { conv: "all", floor: "z", n: 10 });
    expect(counting).toMatch(/SEARCH messages USING PRIMARY KEY \(conv=\? AND id<\?\)/);
    const deleting = plan(DELETE_OLDEST_SQL, { conv: "all", below: "z", n: 10 });
    expect(deleting).toMatch(/SEARCH messages USING PRIMARY KEY \(conv=\? AND id=\?\)/);
    expect(deleting).toMatch(/SEARCH messages USING PRIMARY KEY \(conv=\? AND id<\?\)/);
    for (const p of [counting, deleting]) {
      expect(p).not.toMatch(/SCAN messages/);
      expect(p).not.toMatch(/TEMP B-TREE/);
    }
    db.close();
  });
});
