/**
 * One measured stretch of load: warm up, measure CPU and deliveries over a window,
 * stop sending, wait for stragglers, and judge whether the figure describes the
 * server or the load generator.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { TagStats, WindowStats } from "../ipc.js";
import { CpuMeter, rssBytes } from "../proc.js";
import { Histogram, summarize, type LatencySummary } from "../stats.js";
import type { Session } from "./session.js";

/** A process whose main thread is busy this share of the time cannot keep up. */
export const BUSY = 0.9;
/** Event-loop delay (p99) beyond which the load generator's own timing is unreliable. */
export const LOOP_DELAY_LIMIT_MS = 50;
/** Other processes using this share of a core make a window noisy. */
export const NOISY_SHARE = 0.25;

export interface LoadResult {
  /** Messages/s the load generators were asked to send. */
  offeredMsgsPerSec: number;
  seconds: number;
  sent: number;
  /** Deliveries/s that arrived during the window. */
  deliveriesPerSec: number;
  /** Deliveries/s the window's sends should have caused. */
  expectedPerSec: number;
  /** The headline: deliveries per CPU-second of the server process (all threads; a cluster: every node and redis-server). */
  deliveriesPerServerCpuSec: number;
  /** CPU use as % of one core: all threads (of all server processes), and the busiest server process's main thread alone. */
  serverCpuPct: number;
  serverMainPct: number;
  /** Per server process (one, or each node and redis-server): CPU % of one core, all threads and main thread. */
  serverParts: Array<{ role: string; cpuPct: number; mainPct: number }>;
  /** A cluster's log: entries appended per second over the window (each is one node's commands of one turn). */
  logEntriesPerSec?: number;
  /** Server log lines at warn level or above since the server started (setup included), and the first few. */
  serverLogProblems: { count: number; samples: string[] };
  loadgenCpuPct: number;
  loadgenMainMaxPct: number;
  loadgenLoopDelayP99Ms: number;
  /** CPU used by processes other than this server and its load generators, % of one core: noise. */
  otherCpuPct: number;
  serverRssMB: number;
  latency: LatencySummary;
  expected: number;
  received: number;
  lost: number;
  errors: Record<string, number>;
  /** Which side was CPU-bound in this window, if any. */
  bound: "none" | "server" | "loadgen" | "both";
  /** Other processes took enough CPU to make this window's latency and throughput unreliable. */
  noisy: boolean;
  /** Deliveries kept pace with sends (≥95%). */
  keptUp: boolean;
}

let nextTag = 1;

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Waits until every delivery of `tag` has arrived, progress stops, or the deadline passes. */
async function drain(session: Session, tag: number, maxMs: number): Promise<{ stats: TagStats[]; errors: Record<string, number> }> {
  const deadline = Date.now() + maxMs;
  let last = -1;
  let stalledSince = Date.now();
  for (;;) {
    const replies = await session.pool.all("query", { type: "query", tags: [tag] }, 10_000);
    const stats = replies.map((r) => r.tags[0]!);
    const received = sum(stats.map((s) => s.received));
    const expected = sum(stats.map((s) => s.expected));
    if (received !== last) stalledSince = Date.now();
    last = received;
    if (received >= expected || Date.now() > deadline || Date.now() - stalledSince > 1500) {
      const errors: Record<string, number> = {};
      for (const r of replies) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
      return { stats, errors };
    }
    await sleep(100);
  }
}

/** `rates[i]` is the messages/s loadgen process i sends. */
export async function measureLoad(session: Session, rates: number[], warmupS: number, durationS: number, drainMs = 3000): Promise<LoadResult> {
  const { pool, server } = session;
  const warmTag = nextTag++;
  const measureTag = nextTag++;
  const restTag = nextTag++;
  const window = (tag: number, r: number[]): Promise<WindowStats[]> =>
    pool.each("window", r.map((rate) => ({ type: "window", tag, rate })), 10_000).then((rs) => rs.map((x) => x.closed).filter((c): c is WindowStats => c !== null));

  await window(warmTag, rates);
  await sleep(warmupS * 1000);
  // A cluster's stream length before and after the window: how many log entries the commands took.
  const redis = server.redisPort === undefined ? undefined : new Redis({ host: "127.0.0.1", port: server.redisPort, lazyConnect: true, maxRetriesPerRequest: 1 });
  const streamKey = `${server.redisPrefix ?? "chat:"}log`;
  const xlen = async (): Promise<number> => (redis ? redis.xlen(streamKey).catch(() => Number.NaN) : Number.NaN);
  await redis?.connect().catch(() => undefined);
  const len0 = await xlen();
  const k = server.pids.length;
  const meter = new CpuMeter([...server.pids, ...pool.pids]);
  meter.start();
  await window(measureTag, rates);
  await sleep(durationS * 1000);
  const cpu = meter.read();
  const len1 = await xlen();
  redis?.disconnect();
  const closed = await window(restTag, rates.map(() => 0));
  const serverRssMB = sum(server.pids.map(rssBytes)) / 2 ** 20;
  const { stats, errors } = await drain(session, measureTag, drainMs);

  const hist = new Histogram();
  for (const s of stats) hist.merge(Histogram.fromData(s.latencyUs, s.maxUs));
  const seconds = Math.max(...closed.map((c) => c.seconds));
  const arrived = sum(closed.map((c) => c.arrived));
  const windowExpected = sum(closed.map((c) => c.expected));
  const expected = sum(stats.map((s) => s.expected));
  const received = sum(stats.map((s) => s.received));
  const serverCpu = sum(cpu.total.slice(0, k));
  const serverMain = Math.max(...cpu.main.slice(0, k)) / cpu.wall;
  const loadgenMains = cpu.main.slice(k).map((c) => c / cpu.wall);
  const loopDelay = Math.max(...closed.map((c) => c.loopDelayP99Ms));
  const other = Math.max(0, cpu.machine - sum(cpu.total)) / cpu.wall;
  const noisy = other >= NOISY_SHARE;
  const serverBusy = serverMain >= BUSY;
  // A stalled event loop means a busy load generator only when nothing else took the CPUs from it.
  const loadgenBusy = Math.max(...loadgenMains) >= BUSY || (loopDelay >= LOOP_DELAY_LIMIT_MS && !noisy);
  const pct = (x: number): number => Math.round(x * 1000) / 10;

  return {
    offeredMsgsPerSec: sum(rates),
    seconds,
    sent: sum(closed.map((c) => c.sent)),
    deliveriesPerSec: arrived / seconds,
    expectedPerSec: windowExpected / seconds,
    deliveriesPerServerCpuSec: serverCpu > 0 ? (arrived / seconds) * (cpu.wall / serverCpu) : Number.NaN,
    serverCpuPct: pct(serverCpu / cpu.wall),
    serverMainPct: pct(serverMain),
    serverParts: server.roles.map((role, i) => ({ role, cpuPct: pct(cpu.total[i]! / cpu.wall), mainPct: pct(cpu.main[i]! / cpu.wall) })),
    serverLogProblems: server.logProblems(),
    ...(redis ? { logEntriesPerSec: (len1 - len0) / cpu.wall } : {}),
    loadgenCpuPct: pct(sum(cpu.total.slice(k)) / cpu.wall),
    loadgenMainMaxPct: pct(Math.max(...loadgenMains)),
    loadgenLoopDelayP99Ms: Math.round(loopDelay * 10) / 10,
    otherCpuPct: pct(other),
    serverRssMB: Math.round(serverRssMB),
    latency: summarize(hist),
    expected,
    received,
    lost: Math.max(0, expected - received),
    errors,
    bound: serverBusy && loadgenBusy ? "both" : serverBusy ? "server" : loadgenBusy ? "loadgen" : "none",
    noisy,
    keptUp: arrived >= 0.95 * windowExpected,
  };
}
