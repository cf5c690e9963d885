import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareEntryIds, messageIdAt, msOfUuidv7, parseEntryId } from "../src/log/positions.js";

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const place = fc.record({ ms: fc.integer({ min: 0, max: 2 ** 47 }), seq: fc.integer({ min: 0, max: 2 ** 42 - 1 }), index: fc.integer({ min: 0, max: 2 ** 32 - 1 }) });

describe("message ids from log positions", () => {
  it("are UUIDv7s carrying the entry's millisecond", () => {
    fc.assert(
      fc.property(place, ({ ms, seq, index }) => {
        const id = messageIdAt({ ms, seq }, index);
        expect(id).toMatch(UUIDV7);
        expect(msOfUuidv7(id)).toBe(ms);
      }),
    );
  });

  it("sort as their commands stand in the log: by entry, then by place within it", () => {
    fc.assert(
      fc.property(place, place, (a, b) => {
        const byLog = a.ms - b.ms || a.seq - b.seq || a.index - b.index;
        const x = messageIdAt(a, a.index);
        const y = messageIdAt(b, b.index);
        expect(Math.sign(x < y ? -1 : x > y ? 1 : 0)).toBe(Math.sign(byLog));
      }),
    );
  });

  it("compares stream ids by number, not as text", () => {
    expect(compareEntryIds("9-0", "10-0")).toBeLessThan(0);
    expect(compareEntryIds("10-2", "10-10")).toBeLessThan(0);
    expect(compareEntryIds(undefined, "0-1")).toBeLessThan(0);
    expect(compareEntryIds("5-5", "5-5")).toBe(0);
    expect(() => parseEntryId("nope")).toThrow(/not a log position/);
  });
});
