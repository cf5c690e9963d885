/** Where the journal's syncs run: on the event loop while the disk is quick, on the pool for a while after it was not. */
import { describe, expect, it } from "vitest";
import { POOL_FOR_MS, SyncPlacement } from "../src/store/syncPlacement.js";

describe("SyncPlacement", () => {
  it("keeps syncs on the loop while each takes at most the limit", () => {
    const p = new SyncPlacement(1, () => 0);
    expect(p.onLoop).toBe(true);
    p.tookOnLoop(0.2);
    p.tookOnLoop(1);
    expect(p.onLoop).toBe(true);
  });

  it("after a slower one, sends them to the pool for POOL_FOR_MS, then tries the loop again", () => {
    let now = 1000;
    const p = new SyncPlacement(1, () => now);
    p.tookOnLoop(1.5);
    expect(p.onLoop).toBe(false);
    now += POOL_FOR_MS - 1;
    expect(p.onLoop).toBe(false);
    now += 1;
    expect(p.onLoop).toBe(true);
    // Slow again: the loop waited for one sync, and the pool takes the next POOL_FOR_MS.
    p.tookOnLoop(40);
    expect(p.onLoop).toBe(false);
  });

  it("with a limit of 0, never syncs on the loop", () => {
    const p = new SyncPlacement(0, () => 0);
    expect(p.onLoop).toBe(false);
  });
});
