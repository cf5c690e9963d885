/** Where the journal's syncs run: on the event loop while the disk is quick, on the pool for a while after it was not. */
import { describe, expect, it } from "vitest";
import { POOL_FOR_MS, SyncPlacement } from "../src/store/syncPlacement.js";

/** How many syncs of `ms` each, on the loop, until the placement sends syncs to the pool (or `max`). */
function syncsUntilPool(p: SyncPlacement, ms: number, max = 1000): number {
  let n = 0;
  while (p.onLoop && n < max) {
    p.tookOnLoop(ms);
    n++;
  }
  return n;
}

describe("SyncPlacement", () => {
  it("keeps syncs on the loop while they take at most the limit, and a lone slow one among them", () => {
    const p = new SyncPlacement(1, () => 0);
    expect(syncsUntilPool(p, 1)).toBe(1000);
    for (let i = 0; i < 100; i++) p.tookOnLoop(0.25);
    p.tookOnLoop(8);
    expect(p.onLoop).toBe(true);
  });

  it("sends syncs to the pool once their average passes the limit: at once for one over 16 times it, after a few for slower ones", () => {
    expect(syncsUntilPool(new SyncPlacement(1, () => 0), 17)).toBe(1);
    expect(syncsUntilPool(new SyncPlacement(1, () => 0), 5)).toBe(4);
    expect(syncsUntilPool(new SyncPlacement(1, () => 0), 2)).toBe(11);
  });

  it("keeps them on the pool for POOL_FOR_MS, then tries the loop again with the average started afresh", () => {
    let now = 1000;
    const p = new SyncPlacement(1, () => now);
    expect(syncsUntilPool(p, 5)).toBe(4);
    now += POOL_FOR_MS - 1;
    expect(p.onLoop).toBe(false);
    now += 1;
    expect(p.onLoop).toBe(true);
    // The disk still slow: as many syncs on the loop as the first time, no more.
    expect(syncsUntilPool(p, 5)).toBe(4);
  });

  it("with a limit of 0, never syncs on the loop", () => {
    expect(new SyncPlacement(0, () => 0).onLoop).toBe(false);
  });
});
