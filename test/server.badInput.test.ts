import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clientFrame, rawSocket, startHarness, type Harness } from "./helpers/server.js";

let h: Harness;
beforeEach(async () => {
  h = await startHarness({ maxFrameBytes: 4096 });
});
afterEach(async () => {
  expect(h.problems).toEqual([]);
  await h.close();
});

/** Sends one frame on a fresh raw connection and returns the first frame after the welcome. */
async function answerTo(frame: string | Buffer): Promise<{ event: string; data: any; ref?: unknown }> {
  const sock = await rawSocket(h.url);
  expect((await sock.next()).event).toBe("welcome");
  sock.ws.send(frame, { binary: Buffer.isBuffer(frame) });
  const answer = await sock.next();
  // The connection stays usable after bad input.
  sock.ws.send(JSON.stringify({ event: "ping", ref: "after" }));
  expect(await sock.next()).toMatchObject({ event: "ping", ref: "after" });
  sock.ws.close();
  return answer as { event: string; data: any; ref?: unknown };
}

describe("bad input", () => {
  it.each([
    ["not JSON", "{nope", /not valid JSON/],
    ["a JSON array", "[1,2]", /received an array/],
    ["JSON null", "null", /received null/],
    ["a JSON number", "42", /received a number/],
    ["a JSON string", '"hello"', /received a string/],
  ])("answers %s with bad_json", async (_name, frame, message) => {
    const answer = await answerTo(frame);
    expect(answer.event).toBe("error");
    expect(answer.data.code).toBe("bad_json");
    expect(answer.data.message).toMatch(message);
    expect(answer.ref).toBeUndefined();
  });

  it("answers bad frames in their place among the replies: after the requests sent before them", async () => {
    const sock = await rawSocket(h.url);
    expect((await sock.next()).event).toBe("welcome");
    const frames = [
      JSON.stringify({ event: "send_message", data: { room_id: "all", message: "first" }, ref: 1 }),
      "{nope",
      JSON.stringify({ event: "no_such_event", ref: 3 }),
      JSON.stringify({ event: "change_name", data: { username: "x" }, ref: 4 }),
      JSON.stringify({ event: "send_message", data: { room_id: "all" }, ref: 5 }),
    ];
    // One TCP write: every frame arrives before any is answered.
    (sock.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.concat(frames.map((f) => clientFrame(f))));
    const answers = [];
    while (answers.length < 6) answers.push(await sock.next());
    const replies = answers.filter((f) => !(f.event === "message" && f.ref === undefined));
    expect(replies.map((f) => [f.event, f.ref ?? null])).toEqual([
      ["send_message", 1],
      ["error", null],
      ["error", 3],
      ["change_name", 4],
      ["error", 5],
    ]);
    sock.ws.close();
  });

  it("answers a binary frame with bad_json", async () => {
    const answer = await answerTo(Buffer.from('{"event":"ping"}'));
    expect(answer.data).toMatchObject({ code: "bad_json", message: expect.stringMatching(/Binary/) });
  });

  it("answers an unknown event with unknown_event, echoing ref", async () => {
    const answer = await answerTo(JSON.stringify({ event: "fly", data: {}, ref: 7 }));
    expect(answer).toMatchObject({ event: "error", ref: 7, data: { code: "unknown_event", request: "fly" } });
  });

  it("answers an envelope without event, or with extra fields or a bad ref, with bad_request naming the field", async () => {
    expect((await answerTo(JSON.stringify({ data: {}, ref: "r1" }))).data.details.fields).toEqual([
      { pointer: "/event", reason: "is required" },
    ]);
    const extra = await answerTo(JSON.stringify({ event: "ping", extra: 1, ref: "r2" }));
    expect(extra).toMatchObject({ ref: "r2", data: { code: "bad_request", details: { fields: [{ pointer: "/extra" }] } } });
    const badRef = await answerTo(JSON.stringify({ event: "ping", ref: { nested: true } }));
    expect(badRef.ref).toBeUndefined();
    expect(badRef.data.details.fields).toEqual([{ pointer: "/ref", reason: expect.stringMatching(/string of 1-64/) }]);
    // A ref must survive a round trip through JSON numbers: integers up to 2^53-1.
    const huge = await answerTo(`{"event":"ping","ref":9007199254740993}`);
    expect(huge).toMatchObject({ event: "error", data: { code: "bad_request", details: { fields: [{ pointer: "/ref" }] } } });
    expect(huge.ref).toBeUndefined();
    expect(await answerTo(JSON.stringify({ event: "ping", ref: Number.MAX_SAFE_INTEGER }))).toMatchObject({ ref: Number.MAX_SAFE_INTEGER });
    const typed = await answerTo(JSON.stringify({ event: 5 }));
    expect(typed.data.details.fields[0].pointer).toBe("/event");
  });

  it.each([
    ["a wrong type", { event: "create_room", data: { room_name: 5 } }, [{ pointer: "/data/room_name" }]],
    ["a missing field", { event: "choose_room", data: {} }, [{ pointer: "/data/room_id", reason: "is required" }]],
    ["data that is not an object", { event: "choose_room", data: "x" }, [{ pointer: "/data", reason: "must be object" }]],
    ["a malformed id", { event: "choose_room", data: { room_id: "42" } }, [{ pointer: "/data/room_id", reason: "must be a lower-case UUID" }]],
    ["an unknown field", { event: "exit_room", data: { room_id: "00000000-0000-4000-8000-000000000000", x: 1 } }, [{ pointer: "/data/x", reason: "is not allowed here" }]],
    ["both room_id and user_id", { event: "send_message", data: { room_id: "all", user_id: "00000000-0000-4000-8000-000000000000", message: "x" } }, [{ pointer: "/data", reason: "needs exactly one of room_id or user_id" }]],
    ["neither room_id nor user_id", { event: "history", data: {} }, [{ pointer: "/data", reason: "needs exactly one of room_id or user_id" }]],
    ["a bad room target", { event: "send_message", data: { room_id: "lobby", message: "x" } }, [{ pointer: "/data/room_id", reason: 'must be a room id (a UUID) or "all"' }]],
    ["a blank message", { event: "send_message", data: { room_id: "all", message: " \n " } }, [{ pointer: "/data/message", reason: "must not be only white space" }]],
    ["a message too long", { event: "send_message", data: { room_id: "all", message: "x".repeat(4001) } }, [{ pointer: "/data/message" }]],
    ["a limit out of range", { event: "history", data: { room_id: "all", limit: 0 } }, [{ pointer: "/data/limit" }]],
  ])("answers %s with bad_request naming each failing field", async (_name, frame, fields) => {
    const answer = await answerTo(JSON.stringify({ ...frame, ref: "x" }));
    expect(answer).toMatchObject({ event: "error", ref: "x", data: { code: "bad_request", request: frame.event } });
    expect(answer.data.details.fields).toEqual(fields.map((f) => expect.objectContaining(f)));
    expect(answer.data.message).toContain(fields[0]!.pointer);
  });

  it("counts a ref's length in code points, as the schema does: 64 astral characters are echoed, 65 are refused", async () => {
    const long = "😀".repeat(64);
    expect(await answerTo(JSON.stringify({ event: "ping", ref: long }))).toMatchObject({ event: "ping", ref: long });
    const refused = await answerTo(JSON.stringify({ event: "ping", ref: long + "😀" }));
    expect(refused).toMatchObject({ event: "error", data: { code: "bad_request" } });
  });

  it("accepts any data, or none, for show_rooms, conversations, ping and del_user", async () => {
    for (const data of [undefined, null, 3, "x", [1], { a: 1 }]) {
      for (const event of ["show_rooms", "conversations", "ping"]) {
        const answer = await answerTo(JSON.stringify({ event, data, ref: 1 }));
        expect(answer, `${event} ${JSON.stringify(data)}`).toMatchObject({ event, ref: 1 });
      }
      const c = await h.client();
      const reply = await c.request("del_user", data as never);
      expect(reply.deleted_user_id).toBeTypeOf("string");
    }
  });

  it("closes a connection that sends an oversized frame with 1009, and no other", async () => {
    const victim = await h.client();
    const bystander = await h.client();
    const { room } = await bystander.request("create_room", { room_name: "still here" });
    const closed = new Promise<number>((resolve) => victim.on("close", (ev) => resolve(ev.code)));
    victim.sendRaw(JSON.stringify({ event: "send_message", data: { room_id: "all", message: "x".repeat(5000) } }));
    expect(await closed).toBe(1009);
    const { message } = await bystander.request("send_message", { room_id: room.id, message: "fine" });
    expect(message.text).toBe("fine");
  });
});
