/**
 * The hub in-process with fake peers, where "the same event-loop turn" can be made
 * certain: what a failed commit takes back must not be shown by any reply, and the
 * state rebuilt after it must hold nothing that was not stored.
 */
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { DEFAULTS } from "../src/config.js";
import { compileValidators } from "../src/protocol/schemas.js";
import { Hub, type Peer } from "../src/server/hub.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { FailingStore, UnreadableStore } from "./helpers/failingStore.js";


type Frame = { event: string; data: Record<string, unknown>; ref?: number };

function fakePeer(): Peer & { frames: Frame[] } {
  const frames: Frame[] = [];
  return { frames, send: (text) => frames.push(JSON.parse(text) as Frame), close() {} };
}

function hubOn(store: MemoryStore, fatal: unknown[] = []): Hub {
  return new Hub({
    validators: compileValidators(),
    store,
    logger: pino({ level: "silent" }),
    openAuth: false,
    // Committed every turn, so that "the same turn" is what the commit holds.
    limits: { ...DEFAULTS, commitWindowMs: 0 },
    rate: { perSecond: 1e6, burst: 1e6, closeAfter: 1e6 },
    retryMs: 1,
    onFatal: (err) => fatal.push(err),
  });
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
const send = (hub: Hub, conn: string, frame: object) => hub.receive(conn, JSON.stringify(frame), false);

describe("a failed commit, in one event-loop turn", () => {
  it("answers the writes unavailable and lets no read of the same turn show them", async () => {
    const store = new FailingStore();
    const hub = hubOn(store);
    const [pa, pb, pc] = [fakePeer(), fakePeer(), fakePeer()];
    const [a, b, c] = [hub.open(pa), hub.open(pb), hub.open(pc)];
    send(hub, a, { event: "create_room", data: { room_name: "base" }, ref: 1 });
    await turn();
    pb.frames.length = 0;
    store.failing = true;
    // c's account is pristine: this name would be its first stored fact.
    send(hub, c, { event: "change_name", data: { username: "mallory" }, ref: 2 });
    send(hub, a, { event: "create_room", data: { room_name: "ghost" }, ref: 3 });
    send(hub, b, { event: "show_rooms", ref: 4 });
    send(hub, b, { event: "ping", ref: 5 });
    await turn();
    const byRef = (peer: { frames: Frame[] }, ref: number) => peer.frames.find((f) => f.ref === ref);
    expect(byRef(pc, 2)).toMatchObject({ event: "error", data: { code: "unavailable", request: "change_name" } });
    expect(byRef(pa, 3)).toMatchObject({ event: "error", data: { code: "unavailable", request: "create_room" } });
    expect(pb.frames.map((f) => f.event)).not.toContain("room_created");
    // The read was answered from what is stored: no ghost.
    const listing = byRef(pb, 4)!;
    expect(listing.event).toBe("show_rooms");
    expect((listing.data.rooms as { name: string }[]).map((r) => r.name)).toEqual(["base"]);
    expect(byRef(pb, 5)?.event).toBe("ping");
    // Memory holds nothing the store does not: the name was never stored.
    const user = hub.state.users.get(hub.state.connections.get(c)!.userId)!;
    expect(user).toMatchObject({ username: null, touched: false });
    expect([...hub.state.rooms.values()].map((r) => r.name)).toEqual(["base"]);
    expect(store.load().rooms.size).toBe(1);
  });
});

describe("a failed commit whose state cannot be rebuilt", () => {
  it("calls onFatal and sends nothing more, even once the store works again", async () => {
    const store = new UnreadableStore();
    const fatal: unknown[] = [];
    const hub = hubOn(store, fatal);
    const peer = fakePeer();
    const a = hub.open(peer);
    // The welcome follows the connection's start through the log.
    await turn();
    store.failing = true;
    send(hub, a, { event: "create_room", data: { room_name: "lost" }, ref: 1 });
    await turn();
    expect(fatal).toHaveLength(1);
    expect(peer.frames.map((f) => f.event)).toEqual(["welcome"]);
    store.failing = false;
    send(hub, a, { event: "ping", ref: 2 });
    hub.flush();
    await turn();
    expect(peer.frames.map((f) => f.event)).toEqual(["welcome"]);
  });
});

describe("a command whose messages cannot be serialised", () => {
  it("sends none of them: the requester hears only internal, the others nothing, and its changes stand", async () => {
    const store = new MemoryStore();
    const hub = hubOn(store);
    const [pa, pb] = [fakePeer(), fakePeer()];
    const [a] = [hub.open(pa), hub.open(pb)];
    await turn();
    pa.frames.length = 0;
    pb.frames.length = 0;
    const stringify = JSON.stringify;
    const spy = vi.spyOn(JSON, "stringify").mockImplementation((value: unknown, ...rest: unknown[]) => {
      if ((value as { event?: unknown } | null)?.event === "message") throw new Error("cannot serialise");
      return (stringify as (...args: unknown[]) => string)(value, ...rest);
    });
    try {
      send(hub, a, { event: "send_message", data: { room_id: "all", message: "hello" }, ref: 1 });
      await turn();
    } finally {
      spy.mockRestore();
    }
    expect(pa.frames).toEqual([{ event: "error", data: expect.objectContaining({ code: "internal", request: "send_message" }), ref: 1 }]);
    expect(pb.frames).toEqual([]);
    expect(store.page("all", 10).messages.map((m) => m.text)).toEqual(["hello"]);
  });
});
