import { validate, version } from "uuid";
import { describe, expect, it } from "vitest";
import { MessageIds } from "../src/server/messageIds.js";

describe("MessageIds", () => {
  it("makes valid lower-case UUIDv7s carrying the time", () => {
    const id = new MessageIds().next(Date.UTC(2026, 10, 25, 12, 0, 0, 123));
    expect(validate(id)).toBe(true);
    expect(version(id)).toBe(7);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(Date.UTC(2026, 10, 25, 12, 0, 0, 123));
  });

  it("starts above a given id, even when the clock is behind it", () => {
    const stored = new MessageIds().next(5_000);
    const ids = new MessageIds(stored);
    const next = [ids.next(1_000), ids.next(1_000), ids.next(9_000)];
    expect(next[0]! > stored).toBe(true);
    expect(next[1]! > next[0]!).toBe(true);
    expect(next[2]! > next[1]!).toBe(true);
  });

  it("keeps ids strictly increasing within a millisecond, past 4096 of them, and when the clock steps back", () => {
    const ids = new MessageIds();
    const made = [
      ...Array.from({ length: 5000 }, () => ids.next(1_000)),
      ids.next(999),
      ids.next(1_001),
      ...Array.from({ length: 3000 }, (_, i) => ids.next(2_000 + Math.floor(i / 7))),
    ];
    for (let i = 1; i < made.length; i++) expect(made[i]! > made[i - 1]!, `${made[i - 1]} < ${made[i]}`).toBe(true);
    expect(new Set(made).size).toBe(made.length);
  });
});
