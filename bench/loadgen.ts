/**
 * A load generator process, driven over IPC by run.ts: opens the clients, sends
 * benchmark messages at an open-loop rate (never waiting for replies, so a slow
 * server cannot slow the offered load), and measures every delivery's latency from
 * the send time carried in the message text. Times are CLOCK_MONOTONIC
 * (process.hrtime), which all processes on the machine share.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { ServerKind } from "./config.js";
import { oursProtocol } from "./clients/ours.js";
import { rawProtocol } from "./clients/raw.js";
import { socketioProtocol } from "./clients/socketio.js";
import { LOBBY, MARKER, type BenchConn, type ClientProtocol, type Sink } from "./clients/types.js";
import type { FromLoadgen, SetupRequest, TagStats, ToLoadgen, WindowStats } from "./ipc.js";
import { Histogram } from "./stats.js";

const TICK_MS = 5;

const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);

function protocolFor(kind: ServerKind, url: string): ClientProtocol {
  switch (kind) {
    case "ours":
      return oursProtocol(url);
    case "raw":
      return rawProtocol(url);
    case "socketio":
      return socketioProtocol(url);
    default: {
      const unknown: never = kind;
      throw new Error(`no client for server kind ${String(unknown)}`);
    }
  }
}

interface Tag {
  sent: number;
  expected: number;
  received: number;
  latency: Histogram;
}

const tags = new Map<number, Tag>();
const errors: Record<string, number> = {};
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

function tagOf(tag: number): Tag {
  let t = tags.get(tag);
  if (!t) tags.set(tag, (t = { sent: 0, expected: 0, received: 0, latency: new Histogram() }));
  return t;
}

const sink: Sink = {
  delivery(frame, at) {
    const now = nowUs();
    const a = at + MARKER.length;
    const b = frame.indexOf("|", a);
    const c = frame.indexOf("|", b + 1);
    const tag = tagOf(Number(frame.slice(a, b)));
    tag.received++;
    tag.latency.record(now - Number(frame.slice(b + 1, c)));
    window.arrived++;
  },
  problem(what) {
    errors[what] = (errors[what] ?? 0) + 1;
  },
};

/** The current window; sending happens only while rate > 0. */
const window = { tag: 0, rate: 0, startUs: nowUs(), sent: 0, expected: 0, arrived: 0 };
let senders: BenchConn[] = [];
let fanout = 0;
let padding = "";
let msgBytes = 100;
let next = 0;
let ticker: NodeJS.Timeout | null = null;

function text(tag: number): string {
  const head = `${MARKER}${tag}|${nowUs()}|`;
  return head + padding.slice(0, Math.max(1, msgBytes - head.length));
}

function tick(): void {
  const due = Math.floor((window.rate * (nowUs() - window.startUs)) / 1e6) - window.sent;
  if (due > 0 && senders.length > 0) {
    const tag = tagOf(window.tag);
    for (let i = 0; i < due; i++) {
      senders[next]!.send(text(window.tag));
      next = (next + 1) % senders.length;
    }
    window.sent += due;
    window.expected += due * fanout;
    tag.sent += due;
    tag.expected += due * fanout;
  }
  ticker = setTimeout(tick, TICK_MS);
}

function closeWindow(): WindowStats {
  const seconds = (nowUs() - window.startUs) / 1e6;
  // The monitor's samples include its own sampling interval; only the excess is delay.
  const excess = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
  const p99 = loopDelay.count > 0 ? excess(loopDelay.percentile(99)) : 0;
  const max = loopDelay.count > 0 ? excess(loopDelay.max) : 0;
  return { tag: window.tag, seconds, sent: window.sent, expected: window.expected, arrived: window.arrived, loopDelayP99Ms: p99, loopDelayMaxMs: max };
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let i = 0;
  const lane = async (): Promise<void> => {
    while (i < items.length) {
      const k = i++;
      await work(items[k]!, k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

let conns: BenchConn[] = [];

async function setup(req: SetupRequest): Promise<FromLoadgen> {
  // Round-robin over the server's URLs (a cluster's nodes), so a room's members sit on every node.
  const protocols = req.urls.map((url) => protocolFor(req.kind, url));
  const protocol = protocols[0]!;
  msgBytes = req.msgBytes;
  padding = "x".repeat(req.msgBytes);
  const handles = req.mode === "rooms" ? await protocol.prepareRooms(req.rooms) : [];
  const roomOf = (i: number): string => (req.mode === "rooms" ? handles[Math.floor(i / req.roomSize)]! : LOBBY);
  const problems: string[] = [];
  let failed = 0;
  const started = performance.now();
  const slots: Array<BenchConn | null> = Array.from({ length: req.clients }, () => null);
  await pool(slots, req.concurrency, async (_, i) => {
    try {
      slots[i] = await protocols[i % protocols.length]!.connect(roomOf(i), sink);
    } catch (err) {
      failed++;
      if (problems.length < 5) problems.push((err as Error).message);
    }
  });
  const connectSeconds = (performance.now() - started) / 1000;
  conns = slots.filter((c): c is BenchConn => c !== null);
  if (req.mode === "rooms") {
    senders = conns;
    fanout = req.roomSize - (protocol.echoes ? 0 : 1);
  } else if (req.mode === "lobby" && req.lobbySender && conns[0]) {
    senders = [conns[0]];
    fanout = req.lobbyAudience - (protocol.echoes ? 0 : 1);
  }
  loopDelay.enable();
  tick();
  return { type: "ready", connected: conns.length, failed, connectSeconds, errors: problems };
}

async function handle(msg: ToLoadgen): Promise<FromLoadgen> {
  switch (msg.type) {
    case "setup":
      return setup(msg);
    case "window": {
      const closed = window.tag === 0 && window.sent === 0 && window.arrived === 0 ? null : closeWindow();
      Object.assign(window, { tag: msg.tag, rate: msg.rate, startUs: nowUs(), sent: 0, expected: 0, arrived: 0 });
      loopDelay.reset();
      return { type: "window", closed };
    }
    case "query": {
      const out: TagStats[] = msg.tags.map((tag) => {
        const t = tagOf(tag);
        return { tag, sent: t.sent, expected: t.expected, received: t.received, latencyUs: t.latency.toData(), maxUs: t.latency.max };
      });
      return { type: "query", tags: out, errors: { ...errors } };
    }
    case "close":
      if (ticker) clearTimeout(ticker);
      loopDelay.disable();
      for (const c of conns) c.close();
      conns = [];
      return { type: "closed" };
    default: {
      const unknown: never = msg;
      throw new Error(`unknown request ${JSON.stringify(unknown)}`);
    }
  }
}

if (!process.send) {
  console.error("loadgen.ts is started by bench/run.ts over IPC, not by hand.");
  process.exit(2);
}
// Requests arrive one at a time (the orchestrator waits for each reply), so no queue is needed.
process.on("message", (msg: ToLoadgen) => {
  handle(msg).then(
    (reply) => {
      process.send?.(reply);
      if (reply.type === "closed") setTimeout(() => process.exit(0), 200);
    },
    (err: unknown) => process.send?.({ type: "failed", error: err instanceof Error ? err.message : String(err) }),
  );
});
// Orphaned (orchestrator died): exit rather than keep load on a server nobody measures.
process.on("disconnect", () => process.exit(0));
