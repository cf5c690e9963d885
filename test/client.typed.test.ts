/**
 * The SDK is typed end to end: every request resolves to data that matches its reply
 * schema (checked at run time here) and has its reply's type (checked by `tsc`, which
 * `npm test` runs first: the type assertions below fail the build, not the run).
 * The types themselves are generated from schemas/; protocol.docs.test.ts fails when
 * the generated file is stale.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  ChatClient,
  ChatError,
  type ChooseRoomReply,
  type CreateRoomReply,
  type ErrorPush,
  type HistoryReply,
  type MessagePush,
  type PingReply,
  type ReplyDataMap,
  type RequestEvent,
  type PresencePush,
  type RoomCreatedPush,
  type RoomMembersReply,
  type ShowRoomsReply,
  type StateChange,
  type WelcomePush,
} from "../src/client/index.js";
import { REQUEST_EVENTS } from "../src/protocol/events.js";
import { compileValidators } from "../src/protocol/schemas.js";
import { rejection, useHarness } from "./helpers/server.js";

const validators = compileValidators();

const harness = useHarness();


/** Compiled, never called: each line is a claim about the SDK's types that `tsc` checks. */
export function typeClaims(c: ChatClient): void {
  expectTypeOf(c.request("create_room", { room_name: "x" })).resolves.toEqualTypeOf<CreateRoomReply>();
  expectTypeOf(c.request("choose_room", { room_id: "x" })).resolves.toEqualTypeOf<ChooseRoomReply>();
  expectTypeOf(c.request("history", { user_id: "x", limit: 5 })).resolves.toEqualTypeOf<HistoryReply>();
  expectTypeOf(c.request("show_rooms")).resolves.toEqualTypeOf<ShowRoomsReply>();
  expectTypeOf(c.request("ping")).resolves.toEqualTypeOf<PingReply>();
  // @ts-expect-error create_room needs its data
  void c.request("create_room");
  // @ts-expect-error the field is room_name
  void c.request("create_room", { name: "x" });
  // @ts-expect-error send_message takes room_id or user_id, not both kinds of field at random
  void c.request("send_message", { room: "all", message: "x" });
  // @ts-expect-error there is no such request
  void c.request("join", {});
  c.on("message", (m, frame) => {
    expectTypeOf(m).toEqualTypeOf<MessagePush>();
    expectTypeOf(frame.event).toEqualTypeOf<string>();
  });
  c.on("room_created", (d) => expectTypeOf(d).toEqualTypeOf<RoomCreatedPush>());
  c.on("presence", (d) => expectTypeOf(d).toEqualTypeOf<PresencePush>());
  expectTypeOf(c.request("room_members", { room_id: "x" })).resolves.toEqualTypeOf<RoomMembersReply>();
  c.on("welcome", (d) => expectTypeOf(d).toEqualTypeOf<WelcomePush>());
  c.on("state", (s) => expectTypeOf(s).toEqualTypeOf<StateChange>());
  // @ts-expect-error there is no such push
  c.on("room_exploded", () => {});
  expectTypeOf<ChatError["code"]>().toEqualTypeOf<ErrorPush["code"] | "disconnected" | "timeout">();
}

describe("client types", () => {
  it("every request event resolves to data that matches its reply schema", async () => {
    const h = harness();
    const seen = new Set<RequestEvent>();
    const check = <E extends RequestEvent>(event: E, reply: ReplyDataMap[E]): ReplyDataMap[E] => {
      const validate = validators.reply[event];
      expect(validate(reply), `${event}: ${JSON.stringify(validate.errors)}`).toBe(true);
      seen.add(event);
      return reply;
    };
    const a = await h.client();
    const b = await h.client();

    check("ping", await a.request("ping"));
    check("change_name", await a.request("change_name", { username: "ann" }));
    const { room } = check("create_room", await a.request("create_room", { room_name: "Typed" }));
    check("rename_room", await a.request("rename_room", { room_id: room.id, room_name: "Typed too" }));
    check("choose_room", await b.request("choose_room", { room_id: room.id }));
    check("send_message", await b.request("send_message", { room_id: room.id, message: "hi" }));
    check("send_message", await b.request("send_message", { user_id: a.user.id, message: "psst" }));
    const page = check("history", await a.request("history", { room_id: room.id, limit: 1 }));
    expect(page.messages.map((m) => m.text)).toEqual(["hi"]);
    check("history", await a.request("history", { user_id: b.user.id }));
    check("show_rooms", await b.request("show_rooms"));
    const members = check("room_members", await b.request("room_members", { room_id: room.id }));
    expect(members.members.map((m) => m.online)).toEqual([true, true]);
    check("typing", await b.request("typing", { room_id: room.id }));
    check("conversations", await b.request("conversations"));
    const { message: said } = await b.request("send_message", { room_id: room.id, message: "typo" });
    check("edit_message", await b.request("edit_message", { message_id: said.id, message: "fixed" }));
    check("delete_message", await b.request("delete_message", { message_id: said.id }));
    check("exit_room", await b.request("exit_room", { room_id: room.id }));
    check("del_room", await a.request("del_room", { room_id: room.id }));
    const c = await h.client();
    check("auth", await c.request("auth", { user_id: a.user.id, token: a.token! }));
    const welcome = b.next("welcome");
    check("del_user", await b.request("del_user"));
    await welcome;
    check("replace_token", await a.request("replace_token"));
    const guest = a.next("welcome");
    check("sign_out", await a.request("sign_out"));
    await guest;

    expect([...seen].sort()).toEqual([...REQUEST_EVENTS].sort());
  });

  it("rejects with a ChatError carrying the protocol's code, the request's name and the details", async () => {
    const h = harness();
    const a = await h.client();
    const b = await h.client();
    const { room } = await a.request("create_room", { room_name: "Mine" });
    const unknownRoom = "00000000-0000-4000-8000-000000000000";

    const cases: [Promise<unknown>, string, string][] = [
      [b.request("rename_room", { room_id: room.id, room_name: "Theirs" }), "forbidden", "rename_room"],
      [b.request("del_room", { room_id: unknownRoom }), "not_found", "del_room"],
      [b.request("create_room", { room_name: "MINE" }), "name_taken", "create_room"],
      [b.request("send_message", { room_id: room.id, message: "let me in" }), "not_member", "send_message"],
      [b.request("auth", { user_id: a.user.id, token: "wrong" }), "auth_failed", "auth"],
      [b.request("change_name", { username: " " }), "bad_request", "change_name"],
    ];
    for (const [promise, code, request] of cases) {
      const err = await rejection(promise);
      expect([err.code, err.request]).toEqual([code, request]);
      expect(err.message.length).toBeGreaterThan(0);
    }
    const bad = await rejection(b.request("change_name", { username: "x".repeat(33) }));
    expect(bad.details?.fields?.[0]?.pointer).toBe("/data/username");
  });

  it("gives each push to its listeners with its data, and stops at unsubscribe", async () => {
    const h = harness();
    const a = await h.client();
    const b = await h.client();
    const created: RoomCreatedPush[] = [];
    const off = b.on("room_created", (d) => created.push(d));
    await a.request("create_room", { room_name: "One" });
    await h.settle(b);
    off();
    await a.request("create_room", { room_name: "Two" });
    await h.settle(b);
    expect(created.map((d) => [d.room.name, d.by.id])).toEqual([["One", a.user.id]]);
  });
});
