/** Property: the state a store rebuilds equals the durable part of the live state, after any command sequence. */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { createState, type ChatState } from "../src/core/model.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { SqliteStore } from "../src/store/sqliteStore.js";
import type { Store } from "../src/store/store.js";
import { drive, stepsArb } from "./helpers/commands.js";

/** What should survive a restart: everything but connections and the accounts nothing refers to. */
function durable(s: ChatState): ChatState {
  const users = new Map([...s.users].filter(([, u]) => u.touched));
  return { ...createState(), users, rooms: s.rooms, roomByName: s.roomByName, userByName: s.userByName, roomOrder: s.roomOrder, memberships: s.memberships, owned: s.owned, recent: s.recent, directPeers: s.directPeers };
}

const stores: Array<[string, () => Store]> = [
  ["SqliteStore", () => new SqliteStore(":memory:")],
  ["MemoryStore", () => new MemoryStore()],
];

describe.each(stores)("%s (property)", (_name, makeStore) => {
  it("rebuilds the live state's durable part from what it wrote, whatever the commands and commit points", () => {
    fc.assert(
      fc.property(stepsArb, fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }), (specs, commitAfter) => {
        const store = makeStore();
        const state = drive(specs, (_cmd, { changes }, seq) => {
          store.write(changes);
          if (commitAfter[seq % commitAfter.length]) store.commit();
        });
        store.commit();
        expect(store.load()).toEqual(durable(state));
        store.close();
      }),
      { numRuns: 150 },
    );
  });

  it("emits no changes for a failed request", () => {
    fc.assert(
      fc.property(stepsArb, (specs) => {
        drive(specs, (_cmd, { out, changes }) => {
          if (out[0]?.event === "error") expect(changes).toEqual([]);
        });
      }),
      { numRuns: 100 },
    );
  });
});

describe("SqliteStore on a file (property)", () => {
  const dir = mkdtempSync(join(tmpdir(), "chat-crash-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let runs = 0;

  it("keeps exactly what was committed through a crash, whatever the commands and commit points", () => {
    fc.assert(
      fc.property(stepsArb, fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }), (specs, commitAfter) => {
        const [path, copy] = [join(dir, `${++runs}.db`), join(dir, `${runs}-crashed.db`)];
        const store = new SqliteStore(path);
        const state = drive(specs, (_cmd, { changes }, seq) => {
          store.write(changes);
          if (commitAfter[seq % commitAfter.length]) store.commit();
        });
        store.commit();
        // The files as a kill -9 now leaves them: most commits only in the changes journal.
        store.quiesce();
        for (const suffix of ["", "-wal", "-changes"]) if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
        store.close();
        const crashed = new SqliteStore(copy);
        expect(crashed.load()).toEqual(durable(state));
        crashed.close();
      }),
      { numRuns: 30 },
    );
  });
});
