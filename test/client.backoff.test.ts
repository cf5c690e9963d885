import { describe, expect, it } from "vitest";
import { backoffDelay, backoffOptions, BACKOFF_DEFAULTS } from "../src/client/index.js";

describe("client backoff", () => {
  it("doubles the ceiling per attempt up to the cap, with the wait between half the ceiling and the ceiling", () => {
    const low = backoffOptions({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    const high = backoffOptions({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000];
    ceilings.forEach((ceiling, i) => {
      expect(backoffDelay(i + 1, low)).toBe(ceiling / 2);
      expect(backoffDelay(i + 1, high)).toBe(ceiling);
    });
  });

  it("spreads clients that dropped together (jitter), and never exceeds the cap however many attempts", () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const o = backoffOptions({ initialDelayMs: 100, maxDelayMs: 1000, random });
    const waits = Array.from({ length: 50 }, () => backoffDelay(6, o));
    expect(new Set(waits).size).toBeGreaterThan(10);
    for (const w of waits) {
      expect(w).toBeGreaterThanOrEqual(500);
      expect(w).toBeLessThanOrEqual(1000);
    }
    expect(backoffDelay(10_000, o)).toBeLessThanOrEqual(1000);
  });

  it("has defaults that retry forever, capped at 10 s", () => {
    expect(BACKOFF_DEFAULTS).toMatchObject({ initialDelayMs: 500, maxDelayMs: 10_000, maxAttempts: Number.POSITIVE_INFINITY });
    expect(backoffOptions()).toMatchObject({ initialDelayMs: 500, maxDelayMs: 10_000 });
  });

  it("rejects contradictory or impossible settings with a TypeError that names them", () => {
    expect(() => backoffOptions({ initialDelayMs: 5000, maxDelayMs: 100 })).toThrow(/maxDelayMs \(100\) must not be below reconnect.initialDelayMs \(5000\)/);
    expect(() => backoffOptions({ initialDelayMs: -1 })).toThrow(TypeError);
    expect(() => backoffOptions({ maxDelayMs: Number.NaN })).toThrow(/reconnect.maxDelayMs/);
    expect(() => backoffOptions({ maxAttempts: 0 })).toThrow(/reconnect.maxAttempts must be an integer of at least 1/);
    expect(() => backoffOptions({ maxAttempts: 1.5 })).toThrow(TypeError);
  });
});
