/**
 * A cluster node's replica: what a store was given (every change, sessions and guests
 * included, committed batch by batch) loads back as the very state `reduce` built,
 * so that a node restarted from its database goes on exactly as the others do.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Change } from "../src/core/changes.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { SqliteStore } from "../src/store/sqliteStore.js";
import type { Store } from "../src/store/store.js";
import { drive, stepsArb } from "./helpers/commands.js";
import { stateView } from "./helpers/stateView.js";

describe.each([
  ["MemoryStore", () => new MemoryStore()],
  ["SqliteStore", () => new SqliteStore(":memory:")],
] as const)("a replica in a %s", (_name, open: () => Store) => {
  it("loads with its sessions the state reduce built, at the position committed with it", () => {
    fc.assert(
      fc.property(stepsArb, fc.integer({ min: 1, max: 7 }), (specs, every) => {
        const store = open();
        let pending: Change[] = [];
        let position = 0;
        const state = drive(specs, (_cmd, step, seq) => {
          pending.push(...step.changes);
          // Commands committed in batches of `every`, as a node commits what one delivery brought.
          if (seq % every === 0) {
            store.write(pending);
            pending = [];
            store.commit({ epoch: "e", entry: `${++position}-0` });
          }
        });
        store.write(pending);
        store.commit({ epoch: "e", entry: `${++position}-0` });
        expect(stateView(store.load(true))).toEqual(stateView(state));
        expect(store.position()).toEqual({ epoch: "e", entry: `${position}-0` });
        // A single server starts with no sessions: none are loaded unless asked for.
        expect(store.load().connections.size).toBe(0);
        store.close();
      }),
      { numRuns: 150 },
    );
  });
});
