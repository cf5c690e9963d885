import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { APPLICATION_ID, migrate, SCHEMA_VERSION } from "../src/store/migrations.js";
import { PAGE_SQL, SqliteStore, StoreError } from "../src/store/sqliteStore.js";
import { A, B, message, ROOM } from "./helpers/storeRows.js";

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

    const state = new SqliteStore(path).load();
    expect(state.users.get(A)?.username).toBe("a");
    expect(state.directPeers.get(A)).toEqual(new Set([B]));
    const db = new BetterSqlite3(path);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it("refuses a file written by a newer version, without changing it", () => {
    const path = join(tempDir(), "newer.db");
    new SqliteStore(path).close();
    const db = new BetterSqlite3(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteStore(path)).toThrow(StoreError);
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
    expect(() => new SqliteStore(path)).toThrow(/not a chat-server database/);
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
});
