/**
 * The request pipeline on its own, with a fake peer and no server: the rate gates refuse
 * with `rate_limited` echoing the request's ref (and close a flooder), typing pays from its
 * own allowance, a write refused by the store is answered `unavailable` unapplied, and a
 * read or error that follows a write is answered only after that write.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULTS } from "../src/config.js";
import type { Command } from "../src/core/commands.js";
import { createState } from "../src/core/model.js";
import { compileValidators } from "../src/protocol/schemas.js";
import { AddressQuotas } from "../src/server/addressQuotas.js";
import { Connection, type Peer, type Ticket } from "../src/server/connection.js";
import { envelope } from "../src/server/envelope.js";
import type { RateLimitOptions } from "../src/server/rateLimit.js";
import type { Read } from "../src/server/reads.js";
import { RequestPipeline, type Refusal } from "../src/server/requestPipeline.js";

type Frame = { event: string; data: { code?: string; request?: string; details?: { retry_after_ms?: number } }; ref?: number };
type FakePeer = Peer & { frames: Frame[]; closed: number[] };

function fakePeer(): FakePeer {
  const frames: Frame[] = [];
  const closed: number[] = [];
  return { frames, closed, send: (text) => frames.push(JSON.parse(text) as Frame), close: (code) => closed.push(code) };
}

const logger = pino({ level: "silent" });
const validators = compileValidators();
const ROOM = "0190a0a0-0000-7000-8000-000000000001";

/** A pipeline whose reads answer `<event>` with an empty object, and a connection on it with the given allowance. */
function setUp(rate: RateLimitOptions, refusal?: Refusal) {
  const submitted: Array<{ cmd: Command; ticket: Ticket }> = [];
  const reads: Read[] = [];
  const pipeline = new RequestPipeline({
    validators,
    limits: DEFAULTS,
    openAuth: false,
    quotas: new AddressQuotas({ accountsPerMinute: 1e6, roomsPerMinute: 1e6, bytesPerSecond: 1e9 }),
    observer: { request() {} },
    logger,
    state: createState,
    refusal: () => refusal,
    read: (c, read) => {
      reads.push(read);
      c.peer.send(envelope(read.type, {}, read.ref));
    },
    submit: (cmd, ticket) => submitted.push({ cmd, ticket }),
    send: (peers, text) => peers.forEach((p) => p.send(text)),
  });
  const peer = fakePeer();
  const c = new Connection("node/1", peer, "local", rate, performance.now());
  const receive = (frame: object | string) => pipeline.receive(c, typeof frame === "string" ? frame : JSON.stringify(frame), false);
  return { c, peer, receive, submitted, reads };
}

const PLENTY: RateLimitOptions = { perSecond: 1e6, burst: 1e6, closeAfter: 1e6 };
/** One request, then none for a long while. */
const ONE: RateLimitOptions = { perSecond: 0.001, burst: 1, closeAfter: 2 };

describe("the request pipeline", () => {
  it("refuses a request over the connection's allowance with rate_limited, echoing its ref, and submits nothing", () => {
    const { peer, receive, submitted } = setUp(ONE);
    receive({ event: "ping", ref: 1 });
    receive({ event: "send_message", data: { room_id: "all", message: "hi" }, ref: 2 });
    expect(submitted).toEqual([]);
    expect(peer.frames).toEqual([
      { event: "ping", data: {}, ref: 1 },
      { event: "error", data: expect.objectContaining({ code: "rate_limited", request: "send_message" }), ref: 2 },
    ]);
    expect(peer.frames[1]!.data.details!.retry_after_ms).toBeGreaterThan(0);
    expect(peer.closed).toEqual([]);
  });

  it("closes a connection that keeps sending while refused with 1008", () => {
    const { peer, receive } = setUp(ONE);
    for (let ref = 1; ref <= 4; ref++) receive({ event: "ping", ref });
    // One answered, two refused, and the third refusal in a row is a flood.
    expect(peer.frames.map((f) => f.data.code ?? f.event)).toEqual(["ping", "rate_limited", "rate_limited"]);
    expect(peer.closed).toEqual([1008]);
  });

  it("lets typing notices pay from their own allowance, so that they never crowd out other requests", () => {
    const { c, peer, receive, submitted } = setUp({ perSecond: 0.001, burst: 1, closeAfter: 100 });
    for (let ref = 1; ref <= 4; ref++) receive({ event: "typing", data: { room_id: ROOM }, ref });
    receive({ event: "ping", ref: 5 });
    expect(submitted.map((s) => s.cmd.type)).toEqual(["typing", "typing", "typing"]);
    // Typing notices have no reply: once applied, what waited behind them goes.
    for (const { ticket } of submitted) ticket.done = true;
    c.drain(logger);
    // The fourth notice is over typing's own burst of three; the ping still has the connection's token.
    expect(peer.frames).toEqual([
      { event: "error", data: expect.objectContaining({ code: "rate_limited", request: "typing" }), ref: 4 },
      { event: "ping", data: {}, ref: 5 },
    ]);
  });

  it("answers a write the store cannot take unavailable, unapplied, with the request's ref and when to retry", () => {
    const { peer, receive, submitted } = setUp(PLENTY, { why: "read-only: the disk is full", retryAfterMs: 1500 });
    receive({ event: "create_room", data: { room_name: "Tea" }, ref: "r1" });
    expect(submitted).toEqual([]);
    expect(peer.frames).toEqual([
      {
        event: "error",
        data: expect.objectContaining({ code: "unavailable", request: "create_room", details: { retry_after_ms: 1500 } }),
        ref: "r1",
      },
    ]);
  });

  it("answers a read and a bad frame that follow a write only once the write is answered, in the order asked", () => {
    const { c, peer, receive, submitted, reads } = setUp(PLENTY);
    receive({ event: "send_message", data: { room_id: "all", message: "first" }, ref: 1 });
    receive({ event: "ping", ref: 2 });
    receive({ event: "fly", ref: 3 });
    expect(submitted.map((s) => s.cmd.type)).toEqual(["send_message"]);
    expect(reads).toEqual([]);
    expect(peer.frames).toEqual([]);
    // What the hub does once the log delivered the write and it was applied.
    const { ticket } = submitted[0]!;
    expect(ticket).toMatchObject({ request: "send_message", ref: 1, done: false });
    ticket.run = () => peer.send(envelope("send_message", {}, 1));
    ticket.done = true;
    c.drain(logger);
    expect(peer.frames.map((f) => [f.event, f.ref])).toEqual([
      ["send_message", 1],
      ["ping", 2],
      ["error", 3],
    ]);
    // Nothing ahead of it now: a read is answered at once.
    receive({ event: "ping", ref: 4 });
    expect(peer.frames.at(-1)).toEqual({ event: "ping", data: {}, ref: 4 });
  });
});
