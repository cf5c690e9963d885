import { describe, expect, it } from "vitest";
import { encodeTextFrame, FrameCache } from "../src/server/wsFrame.js";
import { useHarness } from "./helpers/server.js";

describe("encodeTextFrame", () => {
  it.each([
    [0, [0x81, 0]],
    [125, [0x81, 125]],
    [126, [0x81, 126, 0, 126]],
    [65535, [0x81, 126, 0xff, 0xff]],
    [65536, [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]],
  ])("frames a %i-byte payload with the RFC 6455 length form", (length, header) => {
    const frame = encodeTextFrame("a".repeat(length));
    expect([...frame.subarray(0, header.length)]).toEqual(header);
    expect(frame.length).toBe(header.length + length);
  });

  it("counts UTF-8 bytes, not characters", () => {
    const frame = encodeTextFrame("ü€😀");
    expect(frame[1]).toBe(2 + 3 + 4);
    expect(frame.subarray(2).toString("utf8")).toBe("ü€😀");
  });

  it("reuses the bytes for the same string and encodes a new one", () => {
    const cache = new FrameCache();
    const first = cache.frameOf("hello");
    expect(cache.frameOf("hello")).toBe(first);
    expect(cache.frameOf("world").subarray(2).toString()).toBe("world");
  });
});

describe("frames on the wire", () => {
  const harness = useHarness();

  it("delivers frames of every length form intact to ws clients", async () => {
    const h = harness();
    const [a, b] = await h.clients(2);
    const texts = ["x", "y".repeat(125), "z".repeat(126), "é".repeat(4000)];
    for (const message of texts) await a.request("send_message", { room_id: "all", message });
    for (let i = 0; i < 20; i++) await a.request("send_message", { room_id: "all", message: "w".repeat(4000) });
    // 24 messages of up to 8000 bytes each: a reply well over 65535 bytes.
    const { messages } = await b.request("history", { room_id: "all", limit: 100 });
    expect(messages.map((m) => m.text.length)).toEqual([1, 125, 126, 4000, ...Array(20).fill(4000)]);
    expect(Buffer.byteLength(JSON.stringify(messages))).toBeGreaterThan(65536);
    await h.settle(b);
    expect(b.pushes.filter((f) => f.event === "message")).toHaveLength(24);
  });
});
