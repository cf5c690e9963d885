/**
 * The SDK's resume: after a dropped connection (cut by a TCP proxy between the SDK and
 * the real server) the app's `message` listener has seen every message of the lobby,
 * its rooms and its direct conversations exactly once, in order; `send_message`
 * requests unanswered at the drop, or made while it lasts, are sent again with their
 * `client_msg_id` and resolve with the stored message, stored once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { ChatClient, ChatError, MAX_QUEUED, type ConnectOptions, type Message, type Reconnected } from "../src/client/index.js";
import { allHistory, reconnected, stateWhere } from "./helpers/clientEvents.js";
import { startProxy, type Proxy } from "./helpers/proxy.js";
import { rejection, useHarness, type Harness } from "./helpers/server.js";

/** Fast timing so that tests do not wait; the values themselves are not asserted. */
const FAST: ConnectOptions = { WebSocket, reconnect: { initialDelayMs: 10, maxDelayMs: 100 } };

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function proxyTo(h: Harness): Promise<Proxy> {
  const proxy = await startProxy(h.server.port);
  cleanups.push(() => proxy.close());
  return proxy;
}

/** The SDK client under test: through the proxy, reconnecting. */
async function sdk(proxy: Proxy, options: ConnectOptions = {}): Promise<ChatClient> {
  const c = await ChatClient.connect(proxy.url, { ...FAST, ...options });
  cleanups.push(() => c.close());
  return c;
}

/** The conversation of a message as `me` sees it: a room id, "all", or `dm:<the other account>`. */
function conversationOf(m: Message, me: string): string {
  if ("room_id" in m) return m.room_id;
  return `dm:${m.from.id === me ? m.to_user_id : m.from.id}`;
}

/** Every `message` event the app gets from now on, by conversation, in the order given. */
function inbox(c: ChatClient): Map<string, Message[]> {
  const seen = new Map<string, Message[]>();
  c.on("message", (m) => {
    const key = conversationOf(m, c.user.id);
    seen.set(key, [...(seen.get(key) ?? []), m]);
  });
  return seen;
}

const ids = (ms: readonly Message[] | undefined): string[] => (ms ?? []).map((m) => m.id);




/** Cuts the connection and keeps it down until the returned function is called; resolves once the client is reconnecting. */
async function down(c: ChatClient, proxy: Proxy): Promise<() => Promise<Reconnected>> {
  const reconnecting = stateWhere(c, (s) => s.state === "reconnecting");
  proxy.refuse(true);
  proxy.cut();
  await reconnecting;
  return () => {
    const back = reconnected(c);
    proxy.refuse(false);
    return back;
  };
}

/** Settles to true once `p` has settled either way, for checking that it has not yet. */
function settledFlag(p: Promise<unknown>): { readonly settled: boolean } {
  const flag = { settled: false };
  p.then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

const lobby = { room_id: "all" } as const;

describe("client resume", () => {
  const harness = useHarness();

  it("hands the app every message of the lobby, a room and a direct conversation exactly once, in order, through repeated drops", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const [b, d] = await h.clients(2);
    const c = await sdk(proxy);
    const got = inbox(c);
    const { room } = await c.request("create_room", { room_name: "Busy" });
    await b.request("choose_room", { room_id: room.id });

    // Others keep writing, in all three conversations, for the whole test.
    let running = true;
    let sent = 0;
    const keepSending = async (send: (i: number) => Promise<unknown>): Promise<void> => {
      for (let i = 0; running; i++) {
        await send(i);
        sent += 1;
        await sleep(1);
      }
    };
    const senders = [
      keepSending((i) => b.request("send_message", { room_id: "all", message: `lobby ${i}` })),
      keepSending((i) => b.request("send_message", { room_id: room.id, message: `room ${i}` })),
      keepSending((i) => d.request("send_message", { user_id: c.user.id, message: `dm ${i}` })),
    ];
    const traffic = async (n: number): Promise<void> => {
      const until = sent + n;
      while (sent < until) await sleep(2);
    };
    /** More than a page of the lobby, and some of the others, while the client is away. */
    const burst = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await b.request("send_message", { room_id: "all", message: `burst ${i}` });
      for (let i = 0; i < 5; i++) {
        await b.request("send_message", { room_id: room.id, message: `room burst ${i}` });
        await d.request("send_message", { user_id: c.user.id, message: `dm burst ${i}` });
      }
    };

    // Cut while messages flow.
    for (let round = 0; round < 3; round++) {
      await traffic(15);
      const back = reconnected(c);
      proxy.cut();
      expect((await back).resumed).toBe(true);
    }

    // Down for a while: more than one page of the lobby is missed.
    let up = await down(c, proxy);
    await burst(150);
    let info = await up();
    expect(info.resumed).toBe(true);
    expect(info.caughtUp?.complete).toBe(true);
    expect(info.caughtUp?.messages).toBeGreaterThanOrEqual(160);

    // Cut again in the middle of a catch-up: the next one goes on from where it stopped.
    up = await down(c, proxy);
    await burst(150);
    let cutMidway = 0;
    const off = c.on("message", () => {
      if (c.state === "reconnecting" && cutMidway++ === 0) proxy.cut();
    });
    info = await up();
    off();
    expect(cutMidway).toBeGreaterThan(0);
    expect(info.resumed).toBe(true);

    await traffic(15);
    running = false;
    await Promise.all(senders);
    const ends = [
      c.next("message", (m) => m.text === "end lobby"),
      c.next("message", (m) => m.text === "end room"),
      c.next("message", (m) => m.text === "end dm"),
    ];
    await b.request("send_message", { room_id: "all", message: "end lobby" });
    await b.request("send_message", { room_id: room.id, message: "end room" });
    await d.request("send_message", { user_id: c.user.id, message: "end dm" });
    await Promise.all(ends);

    const expected: [string, Message[]][] = [
      ["all", await allHistory(b, lobby)],
      [room.id, await allHistory(b, { room_id: room.id })],
      [`dm:${d.user.id}`, await allHistory(d, { user_id: c.user.id })],
    ];
    for (const [key, messages] of expected) {
      expect(messages.length).toBeGreaterThan(20);
      expect(ids(got.get(key)), key).toEqual(ids(messages));
    }
    expect([...got.keys()].sort()).toEqual(expected.map(([k]) => k).sort());
  }, 60_000);

  it("a client that had seen no message before the drop misses nothing: it reads after the since of its welcome", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const [b, d] = await h.clients(2);
    const c = await sdk(proxy);
    const got = inbox(c);
    const { room } = await c.request("create_room", { room_name: "Quiet" });
    await b.request("choose_room", { room_id: room.id });
    expect(got.size).toBe(0);
    const since = c.cursor;
    expect(since).toMatch(/^[0-9a-f-]{36}$/);

    const up = await down(c, proxy);
    for (let i = 0; i < 3; i++) {
      await b.request("send_message", { room_id: "all", message: `lobby ${i}` });
      await b.request("send_message", { room_id: room.id, message: `room ${i}` });
      await d.request("send_message", { user_id: c.user.id, message: `dm ${i}` });
    }
    const info = await up();
    expect(info).toMatchObject({ resumed: true, caughtUp: { messages: 9, complete: true } });
    expect(ids(got.get("all"))).toEqual(ids(await allHistory(b, lobby)));
    expect(ids(got.get(room.id))).toEqual(ids(await allHistory(b, { room_id: room.id })));
    expect(ids(got.get(`dm:${d.user.id}`))).toEqual(ids(await allHistory(d, { user_id: c.user.id })));
    expect(got.get("all")?.map((m) => m.text)).toEqual(["lobby 0", "lobby 1", "lobby 2"]);
    expect(c.cursor! > since!).toBe(true);
  });

  it("a send whose reply was lost resolves after the reconnect with the original message, stored once", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const b = await h.client();
    const c = await sdk(proxy);
    const got = inbox(c);

    proxy.holdReplies();
    const stored = b.next("message", (m) => m.text === "reply lost");
    const sending = c.request("send_message", { room_id: "all", message: "reply lost" });
    const original = await stored;
    const back = reconnected(c);
    proxy.cut();

    const { message } = await sending;
    expect(message.id).toBe(original.id);
    expect(message.client_msg_id).toBeTruthy();
    expect(message.client_msg_id).toBe(original.client_msg_id);
    expect((await back).resumed).toBe(true);
    const inLobby = (await allHistory(b, lobby)).filter((m) => m.text === "reply lost");
    expect(ids(inLobby)).toEqual([original.id]);
    // Its push to the client was lost with the reply: the catch-up handed it over, once.
    expect(ids(got.get("all"))).toEqual([original.id]);
  });

  it("a direct message whose reply was lost resolves with the original, and reaches the app only through its promise", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const b = await h.client();
    const c = await sdk(proxy);
    const got = inbox(c);

    proxy.holdReplies();
    const stored = b.next("message", (m) => m.text === "psst");
    const sending = c.request("send_message", { user_id: b.user.id, message: "psst", client_msg_id: "mine-1" });
    const original = await stored;
    const back = reconnected(c);
    proxy.cut();

    const { message } = await sending;
    expect(message).toEqual(original);
    expect(message.client_msg_id).toBe("mine-1");
    expect((await back).resumed).toBe(true);
    expect(ids(await allHistory(b, { user_id: c.user.id }))).toEqual([original.id]);
    // The sending connection never gets a push of its own direct message, nor does the catch-up hand it over.
    await h.settle(c);
    expect(got.size).toBe(0);
  });

  it("sends made while the connection is down wait, in order, and go out once it is back; beyond the bound they reject", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const b = await h.client();
    const c = await sdk(proxy);
    await c.request("change_name", { username: "offline writer" });
    const got = inbox(c);

    const up = await down(c, proxy);
    const texts = Array.from({ length: MAX_QUEUED }, (_, i) => `offline ${i}`);
    const queued = texts.map((message) => c.request("send_message", { room_id: "all", message }));
    const flags = queued.map(settledFlag);
    const over = await rejection(c.request("send_message", { room_id: "all", message: "one too many" }));
    expect(over.code).toBe("disconnected");
    expect(over.message).toMatch(/already wait/);
    // Other requests still reject at once while reconnecting.
    expect((await rejection(c.request("ping"))).code).toBe("disconnected");
    await h.settle(b);
    expect(flags.filter((f) => f.settled)).toEqual([]);
    expect(c.state).toBe("reconnecting");

    const back = up();
    const replies = await Promise.all(queued);
    expect(replies.map((r) => r.message.text)).toEqual(texts);
    const sentIds = replies.map((r) => r.message.id);
    expect([...sentIds].sort()).toEqual(sentIds);
    expect((await back).resumed).toBe(true);
    expect(ids(await allHistory(b, lobby))).toEqual(sentIds);
    await h.settle(c);
    expect(ids(got.get("all"))).toEqual(sentIds);
  });

  it("does not count the time spent disconnected against a send's timeout", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const b = await h.client();
    const c = await sdk(proxy, { requestTimeoutMs: 300 });
    await c.request("change_name", { username: "patient" });

    proxy.holdReplies();
    const stored = b.next("message", (m) => m.text === "in flight");
    const inFlight = c.request("send_message", { room_id: "all", message: "in flight" });
    const original = await stored;
    const up = await down(c, proxy);
    const queued = c.request("send_message", { room_id: "all", message: "queued" });
    const flags = [settledFlag(inFlight), settledFlag(queued)];
    // Three timeouts' worth of time, all of it disconnected.
    await sleep(900);
    expect(flags.map((f) => f.settled)).toEqual([false, false]);

    await up();
    const [a, q] = await Promise.all([inFlight, queued]);
    expect(a.message.id).toBe(original.id);
    expect(q.message.text).toBe("queued");
    expect((await allHistory(b, lobby)).map((m) => m.text)).toEqual(["in flight", "queued"]);
  });

  it("rejects waiting sends with disconnected when the client comes back as another account, or closes for good", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const b = await h.client();

    // A guest that never did anything is forgotten when its connection drops: it comes back as a new guest.
    const guest = await sdk(proxy);
    const up = await down(guest, proxy);
    const lost = guest.request("send_message", { room_id: "all", message: "never sent" });
    const info = await up();
    expect(info.resumed).toBe(false);
    const other = await rejection(lost);
    expect(other.code).toBe("disconnected");
    expect(other.message).toMatch(/new guest/);

    const c = await sdk(proxy);
    await c.request("change_name", { username: "quitter" });
    proxy.holdReplies();
    const stored = b.next("message", (m) => m.text === "in flight at close");
    const inFlight = c.request("send_message", { room_id: "all", message: "in flight at close" });
    await stored;
    await down(c, proxy);
    const waiting = c.request("send_message", { room_id: "all", message: "waiting at close" });
    c.close();
    for (const p of [inFlight, waiting]) {
      const err = await rejection(p);
      expect(err).toBeInstanceOf(ChatError);
      expect(err.code).toBe("disconnected");
    }
    expect((await allHistory(b, lobby)).map((m) => m.text)).toEqual(["in flight at close"]);
  });
});

describe("client resume under a tight rate limit", () => {
  const harness = useHarness({ ratePerSecond: 20, rateBurst: 3 });

  /** A request tried again after `retry_after_ms` for as long as it is rate limited. */
  async function paced<T>(fn: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ChatError) || err.code !== "rate_limited") throw err;
        await sleep(err.details?.retry_after_ms ?? 100);
      }
    }
  }

  it("waits out rate_limited while catching up and resending, and still misses nothing", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const b = await h.client();
    const c = await sdk(proxy);
    const got = inbox(c);
    await paced(() => c.request("change_name", { username: "throttled" }));
    const rooms: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { room } = await paced(() => c.request("create_room", { room_name: `Slow ${i}` }));
      await paced(() => b.request("choose_room", { room_id: room.id }));
      rooms.push(room.id);
    }
    let refused = 0;
    c.on("frame", (f) => {
      if (f.event === "error" && (f.data as { code?: string }).code === "rate_limited") refused += 1;
    });

    const up = await down(c, proxy);
    for (const id of ["all", ...rooms]) {
      for (let i = 0; i < 2; i++) await paced(() => b.request("send_message", { room_id: id, message: `while away ${i}` }));
    }
    const queued = [0, 1, 2, 3].map((i) => c.request("send_message", { room_id: "all", message: `queued ${i}` }));
    const info = await up();
    const replies = await Promise.all(queued);

    expect(refused).toBeGreaterThan(0);
    expect(info.caughtUp?.complete).toBe(true);
    expect(replies.map((r) => r.message.text)).toEqual(["queued 0", "queued 1", "queued 2", "queued 3"]);
    await paced(() => c.request("ping"));
    for (const id of ["all", ...rooms]) {
      expect(ids(got.get(id)), id).toEqual(ids(await paced(() => allHistory(b, { room_id: id }))));
    }
  }, 30_000);
});

describe("client resume under a small reply budget", () => {
  const harness = useHarness({ maxReplyBytes: 16 * 1024 });

  it("pages history cut short by the budget, and says so when the conversations list was cut while all of it was new", async () => {
    const h = harness();
    const proxy = await proxyTo(h);
    const others = await h.clients(6);
    const c = await sdk(proxy);
    await c.request("change_name", { username: "popular" });
    const got = inbox(c);
    const long = (i: number): string => `${i} ${"x".repeat(3990)}`;

    const up = await down(c, proxy);
    // A lobby page holds only a few such messages; the conversations list only a few such conversations.
    for (let i = 0; i < 12; i++) await others[0].request("send_message", { room_id: "all", message: long(i) });
    for (const [i, o] of others.entries()) await o.request("send_message", { user_id: c.user.id, message: long(i) });
    const info = await up();

    expect(info.caughtUp?.complete).toBe(false);
    expect(ids(got.get("all"))).toEqual(ids(await allHistory(others[0], lobby)));
    expect(got.get("all")).toHaveLength(12);
    // The conversations the server did list were read to the end.
    const { conversations, has_more } = await c.request("conversations");
    expect(has_more).toBe(true);
    expect(conversations.length).toBeGreaterThan(0);
    for (const { user } of conversations) {
      const other = others.find((o) => o.user.id === user.id)!;
      expect(ids(got.get(`dm:${user.id}`))).toEqual(ids(await allHistory(other, { user_id: c.user.id })));
    }
  });
});
