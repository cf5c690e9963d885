/**
 * The SDK's client_msg_id: a UUID version 7, so that the server's (client_msg_id, sender)
 * index grows at its end. Ids rise with the clock and differ within one millisecond.
 */
import { describe, expect, it } from "vitest";
import { newClientMsgId } from "../src/client/outbox.js";

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("newClientMsgId", () => {
  it("is a UUID version 7 carrying the time, rising with it, and different within one millisecond", () => {
    const t = Date.UTC(2026, 10, 26, 4, 20);
    const [a, b, c] = [newClientMsgId(t), newClientMsgId(t), newClientMsgId(t + 1)];
    for (const id of [a, b, c]) expect(id).toMatch(UUID_V7);
    expect(parseInt(a.replace(/-/g, "").slice(0, 12), 16)).toBe(t);
    expect(a).not.toBe(b);
    expect([a, b].every((x) => x < c)).toBe(true);
    expect(newClientMsgId().length).toBeLessThanOrEqual(64);
  });
});
