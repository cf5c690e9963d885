/**
 * How many commands one Redis Stream carries: `node --import tsx bench/stream.ts`.
 *
 * A closed loop (bench/streamDriver.ts): C clients, each alone in a room of its own,
 * keep N `send_message` requests in flight each, sending the next as each reply
 * comes back, against our single server (in-process log) and a cluster of
 * --cluster-nodes nodes + one redis-server (append-only, fsync always), in the same
 * run, each on a fresh server per in-flight level. Reported per level: acknowledged
 * commands/s, CPU of every server process (nodes and redis-server apart), redis-server
 * CPU-seconds per 100k commands, log entries appended per second (one entry carries
 * a node's commands of one event-loop turn) and commands per entry, ack latency,
 * and the command rate at which redis-server's main thread would be fully busy if its
 * cost per command stayed as measured (it falls as entries grow, so a floor). Then
 * "redis alone": closed loops of XADD straight to a fresh redis-server with the same
 * settings (--redis-alone CONNSxINFLIGHT items), with the smallest and the largest
 * mean entry size the cluster runs produced: entries/s one stream takes, and
 * redis-server's CPU per entry, without the nodes competing for the cores. Redis's
 * fsyncs also cost kernel block-I/O workers, which no process's CPU includes.
 * Writes bench/results/<time>-stream.json.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { SERVER_VARIANTS, redisServerMissing, type ServerVariant } from "./config.js";
import { CpuMeter, machineInfo } from "./proc.js";
import { waitQuiet } from "./quiet.js";
import { killAll, nodeCommand, startRedis, startServer, stopChild, track, type RunningServer } from "./servers.js";
import { oursSource } from "./source.js";
import { Histogram, summarize, type LatencySummary } from "./stats.js";
import type { DriverWindowReply, FromDriver, ToDriver } from "./streamDriver.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (msg: string): void => void process.stderr.write(`[stream] ${msg}\n`);

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: process.env.BENCH_STREAM_CLIENTS ?? "200" },
    inflight: { type: "string", default: process.env.BENCH_STREAM_INFLIGHT ?? "1,8" },
    warmup: { type: "string", default: process.env.BENCH_WARMUP ?? "3" },
    duration: { type: "string", default: process.env.BENCH_DURATION ?? "10" },
    drivers: { type: "string", default: process.env.BENCH_STREAM_DRIVERS ?? "1" },
    "msg-bytes": { type: "string", default: process.env.BENCH_MSG_BYTES ?? "100" },
    servers: { type: "string", default: process.env.BENCH_STREAM_SERVERS ?? "ours,ours-cluster" },
    "cluster-nodes": { type: "string", default: process.env.BENCH_CLUSTER_NODES ?? "2" },
    "redis-server": { type: "string", default: process.env.BENCH_REDIS_SERVER ?? "redis-server" },
    "redis-appendfsync": { type: "string", default: process.env.BENCH_REDIS_APPENDFSYNC ?? "always" },
    "quiet-wait": { type: "string", default: process.env.BENCH_QUIET_WAIT ?? "60" },
    "redis-alone": { type: "string", default: process.env.BENCH_STREAM_REDIS_ALONE ?? "2x1,2x16" },
    out: { type: "string", default: process.env.BENCH_OUT ?? "bench/results" },
    quick: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`node --import tsx bench/stream.ts [--clients 200] [--inflight 1,8] [--warmup 3] [--duration 10] [--drivers 1]
  [--msg-bytes 100] [--servers ours,ours-cluster] [--cluster-nodes 2] [--redis-server redis-server] [--redis-alone 2x1,2x16]
  [--redis-appendfsync always|everysec|no (diagnostic; the cluster runs with always)] [--quiet-wait 60] [--out bench/results] [--quick]`);
  process.exit(0);
}
const int = (name: string, raw: string, min: number): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    console.error(`stream: --${name} must be a number ≥ ${min}; received ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
};
const opts = {
  clients: int("clients", values.quick ? "50" : values.clients!, 1),
  inflight: values.inflight!.split(",").map((s) => int("inflight", s.trim(), 1)),
  warmup: int("warmup", values.quick ? "1" : values.warmup!, 0),
  duration: int("duration", values.quick ? "3" : values.duration!, 1),
  drivers: int("drivers", values.drivers!, 1),
  msgBytes: int("msg-bytes", values["msg-bytes"]!, 8),
  servers: values.servers!.split(",").map((s) => s.trim()),
  clusterNodes: int("cluster-nodes", values["cluster-nodes"]!, 1),
  redisServer: values["redis-server"]!,
  appendfsync: values["redis-appendfsync"] as "always" | "everysec" | "no",
  quietWait: int("quiet-wait", values.quick ? "5" : values["quiet-wait"]!, 0),
  /** Closed loops of XADD straight to a redis-server of its own: "CxP" = C connections, P in flight each; "" = none. */
  redisAlone: values["redis-alone"]!.split(",").map((s) => s.trim()).filter((s) => s !== "").map((s) => {
    const m = /^(\d+)x(\d+)$/.exec(s);
    if (!m) {
      console.error(`stream: --redis-alone takes CONNSxINFLIGHT items, e.g. 2x16; received ${JSON.stringify(s)}`);
      process.exit(2);
    }
    return { conns: Number(m[1]), inflight: Number(m[2]) };
  }),
  out: values.out!,
};

if (!["always", "everysec", "no"].includes(opts.appendfsync)) {
  console.error(`stream: --redis-appendfsync must be always, everysec or no; received ${JSON.stringify(opts.appendfsync)}`);
  process.exit(2);
}
const variants: ServerVariant[] = [];
for (const name of opts.servers) {
  const v = SERVER_VARIANTS.find((x) => x.name === name);
  if (!v || v.kind !== "ours") {
    console.error(`stream: --servers takes our variants (${SERVER_VARIANTS.filter((x) => x.kind === "ours").map((x) => x.name).join(", ")}); received ${name}`);
    process.exit(2);
  }
  if (v.cluster) {
    const missing = redisServerMissing(opts.redisServer);
    if (missing) {
      console.error(`stream: ${missing}`);
      process.exit(2);
    }
    variants.push({ ...v, cluster: { ...v.cluster, nodes: opts.clusterNodes, redisServer: opts.redisServer, appendfsync: opts.appendfsync }, label: v.label.replace(/\d+ nodes/, `${opts.clusterNodes} nodes`) });
  } else variants.push(v);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.on("exit", () => killAll());

interface StreamResult {
  variant: string;
  inflight: number;
  clients: number;
  connected: number;
  seconds: number;
  acked: number;
  commandsPerSec: number;
  /** Acknowledged commands per CPU-second of every server process. */
  commandsPerServerCpuSec: number;
  serverCpuPct: number;
  parts: Array<{ role: string; cpuPct: number; mainPct: number }>;
  nodesCpuPct: number;
  redisCpuPct: number | null;
  redisMainPct: number | null;
  redisCpuSecPer100k: number | null;
  nodesCpuSecPer100k: number;
  /** Log entries appended per second, and commands per entry (cluster only: read from Redis). */
  entriesPerSec: number | null;
  commandsPerEntry: number | null;
  /** Mean size of a log entry's payload in bytes (cluster only, sampled from the stream's tail). */
  entryBytes: number | null;
  /** Commands/s at which redis-server's main thread would be fully busy at the measured cost per command. */
  redisBoundCommandsPerSec: number | null;
  driverCpuPct: number;
  driverMainMaxPct: number;
  otherCpuPct: number;
  latency: LatencySummary;
  errors: Record<string, number>;
  outstandingAtStop: number;
  serverLogProblems: { count: number; samples: string[] };
}

function ask(child: ChildProcess, req: ToDriver, expect: FromDriver["type"], timeoutMs: number): Promise<FromDriver> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off("message", onMessage);
      reject(new Error(`driver: no ${expect} reply to ${req.type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (msg: FromDriver): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      if (msg.type === expect) resolve(msg);
      else reject(new Error(`driver: expected ${expect}, got ${msg.type === "failed" ? msg.error : msg.type}`));
    };
    child.on("message", onMessage);
    child.send(req);
  });
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const pct = (x: number): number => Math.round(x * 1000) / 10;

async function measure(variant: ServerVariant, inflight: number): Promise<StreamResult> {
  const fds = opts.clients + 256;
  const server: RunningServer = await startServer({ ...variant, cwd: source.dir }, { cwd: ROOT, fds });
  const drivers: ChildProcess[] = [];
  let redis: Redis | undefined;
  try {
    for (let i = 0; i < opts.drivers; i++) {
      const cmd = nodeCommand(["--import", "tsx", "bench/streamDriver.ts"], fds);
      drivers.push(track(spawn(cmd.file, cmd.args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] })));
    }
    const per = Array.from({ length: opts.drivers }, (_, i) => Math.floor(opts.clients / opts.drivers) + (i < opts.clients % opts.drivers ? 1 : 0));
    const ready = await Promise.all(
      drivers.map((d, i) => ask(d, { type: "setup", urls: server.urls, clients: per[i]!, msgBytes: opts.msgBytes, id: `${i}` }, "ready", 120_000)),
    );
    const connected = sum(ready.map((r) => (r.type === "ready" ? r.connected : 0)));
    for (const r of ready) if (r.type === "ready" && r.failed > 0) log(`${variant.name}: ${r.failed} clients failed to connect: ${r.errors.join("; ")}`);
    if (server.redisPort !== undefined) redis = new Redis({ port: server.redisPort, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis?.connect();
    const streamKey = `${server.redisPrefix ?? "chat:"}log`;

    await Promise.all(drivers.map((d) => ask(d, { type: "go", inflight }, "going", 10_000)));
    await sleep(opts.warmup * 1000);
    const k = server.pids.length;
    const meter = new CpuMeter([...server.pids, ...drivers.map((d) => d.pid ?? -1)]);
    await Promise.all(drivers.map((d) => ask(d, { type: "window" }, "window", 10_000)));
    const len0 = redis ? await redis.xlen(streamKey) : 0;
    meter.start();
    await sleep(opts.duration * 1000);
    const cpu = meter.read();
    const len1 = redis ? await redis.xlen(streamKey) : 0;
    const tail = redis ? ((await redis.xrevrange(streamKey, "+", "-", "COUNT", 200)) as Array<[string, string[]]>) : [];
    const sizes = tail.map(([, fields]) => Buffer.byteLength(fields[fields.indexOf("e") + 1] ?? ""));
    const windows = (await Promise.all(drivers.map((d) => ask(d, { type: "window" }, "window", 10_000)))) as DriverWindowReply[];
    const stopped = await Promise.all(drivers.map((d) => ask(d, { type: "stop" }, "stopped", 20_000)));

    const seconds = Math.max(...windows.map((w) => w.seconds));
    const acked = sum(windows.map((w) => w.acked));
    const hist = new Histogram();
    for (const w of windows) hist.merge(Histogram.fromData(w.latencyUs, w.maxUs));
    const errors: Record<string, number> = {};
    for (const w of windows) for (const [e, n] of Object.entries(w.errors)) errors[e] = (errors[e] ?? 0) + n;
    const serverCpu = sum(cpu.total.slice(0, k));
    const parts = server.roles.map((role, i) => ({ role, cpuPct: pct(cpu.total[i]! / cpu.wall), mainPct: pct(cpu.main[i]! / cpu.wall) }));
    const ri = server.roles.indexOf("redis-server");
    const redisCpu = ri >= 0 ? cpu.total[ri]! : null;
    const redisMain = ri >= 0 ? cpu.main[ri]! : null;
    const nodesCpu = serverCpu - (redisCpu ?? 0);
    // Commands acknowledged per second of the meter's wall time (the windows and the meter differ by an IPC round trip).
    const rate = acked / seconds;
    const commands = rate * cpu.wall;
    const entries = redis ? len1 - len0 : null;
    return {
      variant: variant.name,
      inflight,
      clients: opts.clients,
      connected,
      seconds,
      acked,
      commandsPerSec: rate,
      commandsPerServerCpuSec: commands / serverCpu,
      serverCpuPct: pct(serverCpu / cpu.wall),
      parts,
      nodesCpuPct: pct(nodesCpu / cpu.wall),
      redisCpuPct: redisCpu === null ? null : pct(redisCpu / cpu.wall),
      redisMainPct: redisMain === null ? null : pct(redisMain / cpu.wall),
      redisCpuSecPer100k: redisCpu === null ? null : (redisCpu / commands) * 1e5,
      nodesCpuSecPer100k: (nodesCpu / commands) * 1e5,
      entriesPerSec: entries === null ? null : entries / cpu.wall,
      commandsPerEntry: entries ? commands / entries : null,
      entryBytes: sizes.length > 0 ? sum(sizes) / sizes.length : null,
      redisBoundCommandsPerSec: redisMain ? rate / (redisMain / cpu.wall) : null,
      driverCpuPct: pct(sum(cpu.total.slice(k)) / cpu.wall),
      driverMainMaxPct: pct(Math.max(...cpu.main.slice(k)) / cpu.wall),
      otherCpuPct: pct(Math.max(0, cpu.machine - sum(cpu.total)) / cpu.wall),
      latency: summarize(hist),
      errors,
      outstandingAtStop: sum(stopped.map((s) => (s.type === "stopped" ? s.outstanding : 0))),
      serverLogProblems: server.logProblems(),
    };
  } finally {
    redis?.disconnect();
    await Promise.all(drivers.map((d) => stopChild(d, 3000)));
    await server.stop();
  }
}

function fmt(v: number | string | null | undefined, digits = 0): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  if (!Number.isFinite(v)) return "n/a";
  return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function render(results: StreamResult[]): string {
  const single = variants.find((v) => !v.cluster)?.name;
  const columns: Array<{ head: string; r: StreamResult | null; ratio?: [StreamResult, StreamResult] }> = [];
  for (const n of opts.inflight) {
    for (const v of variants) columns.push({ head: `${v.name} ×${n}`, r: results.find((r) => r.variant === v.name && r.inflight === n) ?? null });
    const s = results.find((r) => r.variant === single && r.inflight === n);
    for (const v of variants.filter((x) => x.cluster)) {
      const c = results.find((r) => r.variant === v.name && r.inflight === n);
      if (s && c) columns.push({ head: `${v.name}/${single} ×${n}`, r: null, ratio: [c, s] });
    }
  }
  const rows: Array<[string, (r: StreamResult) => number | string | null, number, boolean]> = [
    ["connections", (r) => r.connected, 0, false],
    ["acknowledged commands/s", (r) => r.commandsPerSec, 0, true],
    ["commands / server CPU-s", (r) => r.commandsPerServerCpuSec, 0, true],
    ["server CPU % (all processes)", (r) => r.serverCpuPct, 1, true],
    ["  nodes CPU %", (r) => (r.parts.length > 1 ? r.parts.filter((p) => p.role.startsWith("node")).map((p) => p.cpuPct.toFixed(1)).join(" + ") : r.nodesCpuPct), 1, false],
    ["  redis-server CPU %", (r) => r.redisCpuPct, 1, false],
    ["  redis-server main thread %", (r) => r.redisMainPct, 1, false],
    ["redis-server CPU-s / 100k commands", (r) => r.redisCpuSecPer100k, 3, false],
    ["node(s) CPU-s / 100k commands", (r) => r.nodesCpuSecPer100k, 3, true],
    ["log entries/s (XADD)", (r) => r.entriesPerSec, 0, false],
    ["commands per log entry", (r) => r.commandsPerEntry, 1, false],
    ["log entry payload bytes (mean)", (r) => r.entryBytes, 0, false],
    ["redis-bound commands/s (main at 100%)", (r) => r.redisBoundCommandsPerSec, 0, false],
    ["ack latency p50 ms", (r) => r.latency.p50, 2, true],
    ["ack latency p99 ms", (r) => r.latency.p99, 2, true],
    ["driver CPU % / main max %", (r) => `${fmt(r.driverCpuPct, 1)} / ${fmt(r.driverMainMaxPct, 1)}`, 0, false],
    ["other load on machine %", (r) => r.otherCpuPct, 1, false],
    ["errors", (r) => Object.entries(r.errors).map(([k, v]) => `${k}×${v}`).join(" ") || "0", 0, false],
    ["server log warn/error lines", (r) => r.serverLogProblems.count, 0, false],
  ];
  const header = ["", ...columns.map((c) => c.head)];
  const body = rows.map(([label, value, digits, ratio]) => [
    label,
    ...columns.map((c) => {
      if (c.r) return fmt(value(c.r), digits);
      if (!ratio || !c.ratio) return "";
      const [a, b] = c.ratio.map(value);
      return typeof a === "number" && typeof b === "number" && b !== 0 ? fmt(a / b, 2) : "—";
    }),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  const title = `stream capacity — closed loop: ${opts.clients} clients, each alone in its own room, ×N send_message in flight each (${opts.msgBytes}-char text); warm-up ${opts.warmup} s, measured ${opts.duration} s; cluster: ${opts.clusterNodes} nodes + redis-server (appendfsync ${opts.appendfsync})`;
  return [title, line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

interface RedisAloneResult {
  conns: number;
  inflight: number;
  payloadBytes: number;
  seconds: number;
  entriesPerSec: number;
  redisCpuPct: number;
  redisMainPct: number;
  redisCpuSecPer100k: number;
  /** Entries/s at which redis-server's main thread would be fully busy at the measured cost per entry. */
  redisBoundEntriesPerSec: number;
  clientCpuPct: number;
  otherCpuPct: number;
  latency: LatencySummary;
}

/**
 * Redis alone: XADD NOMKSTREAM of `payloadBytes` to one stream on a fresh redis-server
 * (the cluster's settings), from `conns` connections of this process with `inflight`
 * each outstanding: how many entries one stream takes, and redis-server's CPU per entry,
 * without the nodes competing for the cores.
 */
async function redisAlone(conns: number, inflight: number, payloadBytes: number): Promise<RedisAloneResult> {
  const server = await startRedis(opts.redisServer, opts.appendfsync);
  const clients = Array.from({ length: conns }, () => new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    await clients[0]!.xadd("chat:log", "*", "e", "genesis");
    const payload = "x".repeat(payloadBytes);
    let running = true;
    let done = 0;
    let measuring = false;
    const hist = new Histogram();
    const loops = clients.flatMap((c) =>
      Array.from({ length: inflight }, async () => {
        while (running) {
          const t0 = performance.now();
          await c.call("XADD", "chat:log", "NOMKSTREAM", "*", "e", payload);
          if (measuring) {
            done++;
            hist.record(Math.round((performance.now() - t0) * 1000));
          }
        }
      }),
    );
    await sleep(Math.min(2, opts.warmup) * 1000);
    const meter = new CpuMeter([server.pid, process.pid]);
    meter.start();
    measuring = true;
    await sleep(opts.duration * 1000);
    measuring = false;
    const cpu = meter.read();
    running = false;
    await Promise.all(loops);
    const rate = done / cpu.wall;
    return {
      conns,
      inflight,
      payloadBytes,
      seconds: cpu.wall,
      entriesPerSec: rate,
      redisCpuPct: pct(cpu.total[0]! / cpu.wall),
      redisMainPct: pct(cpu.main[0]! / cpu.wall),
      redisCpuSecPer100k: (cpu.total[0]! / done) * 1e5,
      redisBoundEntriesPerSec: rate / (cpu.main[0]! / cpu.wall),
      clientCpuPct: pct(cpu.total[1]! / cpu.wall),
      otherCpuPct: pct(Math.max(0, cpu.machine - sum(cpu.total)) / cpu.wall),
      latency: summarize(hist),
    };
  } finally {
    for (const c of clients) c.disconnect();
    await server.stop();
  }
}

function renderAlone(rs: RedisAloneResult[]): string {
  const head = ["connections × in flight", "payload B", "entries/s", "redis CPU %", "redis main %", "redis CPU-s / 100k entries", "redis-bound entries/s", "p50 ms", "p99 ms", "client CPU %", "other load %"];
  const rows = rs.map((r) => [
    `${r.conns} × ${r.inflight}`,
    fmt(r.payloadBytes),
    fmt(r.entriesPerSec),
    fmt(r.redisCpuPct, 1),
    fmt(r.redisMainPct, 1),
    fmt(r.redisCpuSecPer100k, 3),
    fmt(r.redisBoundEntriesPerSec),
    fmt(r.latency.p50, 2),
    fmt(r.latency.p99, 2),
    fmt(r.clientCpuPct, 1),
    fmt(r.otherCpuPct, 1),
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [
    `redis alone — closed loop of XADD NOMKSTREAM to one stream (appendfsync ${opts.appendfsync}) from this process; payload = the smallest and the largest mean log entry of the cluster runs above; warm-up ${Math.min(2, opts.warmup)} s, measured ${opts.duration} s`,
    line(head),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
}

const source = oursSource(ROOT, "");
const machine = machineInfo();
const startedAt = new Date();
console.log(`chat-server stream bench — ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}`);
console.log(`our server: ${source.ref} (commit ${source.commit.slice(0, 10)}${source.dirty ? ", with uncommitted changes in src/ or schemas/" : ""})`);
const results: StreamResult[] = [];
const failures: Record<string, string> = {};
const notes: string[] = [];
for (const inflight of opts.inflight) {
  for (const v of variants) {
    const what = `${v.name} ×${inflight}`;
    const busy = await waitQuiet(what, opts.quietWait, log);
    if (busy) notes.push(busy);
    log(`${what}: starting`);
    try {
      const r = await measure(v, inflight);
      results.push(r);
      log(`${what}: ${Math.round(r.commandsPerSec)} commands/s`);
    } catch (err) {
      failures[what] = (err as Error).message;
      log(`${what}: FAILED: ${(err as Error).message}`);
    }
  }
}
const clusterEntries = results.map((r) => r.entryBytes).filter((b): b is number => b !== null);
// The smallest and largest mean entry of the cluster runs: light load (few commands per entry) and heavy.
const payloads = clusterEntries.length > 0 ? [...new Set([Math.min(...clusterEntries), Math.max(...clusterEntries)].map(Math.round))] : [1000];
const alone: RedisAloneResult[] = [];
if (variants.some((v) => v.cluster)) {
  for (const payloadBytes of payloads) for (const { conns, inflight } of opts.redisAlone) {
    const what = `redis alone ${conns}x${inflight} ${payloadBytes} B`;
    const busy = await waitQuiet(what, opts.quietWait, log);
    if (busy) notes.push(busy);
    try {
      const r = await redisAlone(conns, inflight, payloadBytes);
      alone.push(r);
      log(`${what}: ${Math.round(r.entriesPerSec)} entries/s`);
    } catch (err) {
      failures[what] = (err as Error).message;
      log(`${what}: FAILED: ${(err as Error).message}`);
    }
  }
}
const text = [render(results), ...(alone.length > 0 ? [renderAlone(alone)] : [])].join("\n\n");
console.log(`\n${text}`);
for (const [what, why] of Object.entries(failures)) console.log(`  ${what} failed: ${why.split("\n")[0]}`);
for (const n of notes) console.log(`note: ${n}`);
for (const r of results) for (const s of r.serverLogProblems.samples) console.log(`  ${r.variant} ×${r.inflight} log: ${s}`);
const outDir = resolve(ROOT, opts.out);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}-stream.json`);
writeFileSync(
  file,
  `${JSON.stringify({ startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), machine, options: opts, oursSource: { ref: source.ref, commit: source.commit, dirty: source.dirty }, notes, results, redisAlone: alone, failures, table: text }, null, 2)}\n`,
);
console.log(`\nresults: ${file}`);
process.exit(Object.keys(failures).length > 0 ? 1 : 0);
