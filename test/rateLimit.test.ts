import { describe, expect, it } from "vitest";
import { TokenBucket } from "../src/server/rateLimit.js";

describe("TokenBucket", () => {
  it("allows a burst, then refuses with the wait until the next token", () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 3, closeAfter: 5 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)].every((a) => a.ok)).toBe(true);
    expect(bucket.take(0)).toEqual({ ok: false, retryAfterMs: 100, flooding: false });
    expect(bucket.take(50)).toEqual({ ok: false, retryAfterMs: 50, flooding: false });
    expect(bucket.take(100).ok).toBe(true);
  });

  it("refills at the given rate up to the burst, never beyond", () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 3, closeAfter: 5 }, 0);
    for (let i = 0; i < 3; i++) bucket.take(0);
    const later = 10_000;
    const results = Array.from({ length: 4 }, () => bucket.take(later).ok);
    expect(results).toEqual([true, true, true, false]);
  });

  it("calls a client that keeps sending while refused a flooder, and forgives one that waits", () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 1, closeAfter: 3 }, 0);
    bucket.take(0);
    const refusals = Array.from({ length: 4 }, () => bucket.take(0));
    expect(refusals.map((r) => !r.ok && r.flooding)).toEqual([false, false, false, true]);
    expect(bucket.take(2000).ok).toBe(true);
    expect(bucket.take(2000)).toMatchObject({ ok: false, flooding: false });
  });
});
