/**
 * Fuzz: thousands of random frames over a real connection. The server never
 * crashes, answers each frame with exactly one reply or error, and other clients
 * keep chatting.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUEST_EVENTS } from "../src/protocol/events.js";
import { rawSocket, schemaProblem, startHarness, type Harness } from "./helpers/server.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const answers = new Set<string>([...REQUEST_EVENTS, "error"]);

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const event = fc.oneof(fc.constantFrom(...REQUEST_EVENTS), fc.string({ maxLength: 70 }), jsonValue);
const envelope = fc.record(
  { event, data: fc.oneof(jsonValue, fc.dictionary(fc.constantFrom("room_id", "user_id", "message", "room_name", "username", "token", "before", "limit"), jsonValue)), ref: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), jsonValue), extra: jsonValue },
  { requiredKeys: [] },
);
const frame = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ binary: true as const, payload: Buffer.from(b) })),
  fc.string({ maxLength: 200 }).map((s) => ({ binary: false as const, payload: s })),
  jsonValue.map((v) => ({ binary: false as const, payload: JSON.stringify(v) })),
  envelope.map((e) => ({ binary: false as const, payload: JSON.stringify(e) })),
);

describe("fuzz", () => {
  it("answers every random frame with exactly one reply or error and stays up for everyone", async () => {
    const sock = await rawSocket(h.url);
    await sock.next();
    const [a, b] = await h.clients(2);
    const { room } = await a.request("create_room", { room_name: "steady" });
    await b.request("choose_room", { room_id: room.id });
    let marker = 0;
    let sent = 0;

    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 10 }), async (frames) => {
        for (const f of frames) {
          sock.ws.send(f.payload, { binary: f.binary });
          // A ping with a unique ref after each frame: the frames before its reply answer the fuzz frame.
          const ref = `marker-${++marker}`;
          sock.ws.send(JSON.stringify({ event: "ping", ref }));
          let replies = 0;
          for (;;) {
            const got = await sock.next();
            expect(schemaProblem(got)).toBeUndefined();
            if (got.ref === ref) break;
            if (answers.has(got.event)) replies++;
          }
          expect(replies, f.binary ? "binary frame" : String(f.payload).slice(0, 200)).toBe(1);
          sent++;
        }
      }),
      { numRuns: 500 },
    );
    expect(sent).toBeGreaterThan(1000);
    const { message } = await a.request("send_message", { room_id: room.id, message: "after the storm" });
    await h.settle(a, b);
    expect(b.pushes.some((f) => f.event === "message" && (f.data as { id: string }).id === message.id)).toBe(true);
  });
});
