/**
 * Starts and stops the servers under test as separate processes on loopback. Every
 * server (ours and the baselines) logs a JSON line with `"url"` once it listens;
 * that line gives the port. Output is drained for the process's whole life: a full
 * stdout pipe would block the server mid-benchmark.
 *
 * A cluster variant is one redis-server of its own (free port, temp folder,
 * append-only with fsync always) plus N node processes pointed at it; each node is
 * used only once `/readyz` answers 200 (it has caught up with the log).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServerVariant } from "./config.js";
import { fdLimits } from "./proc.js";
import { databaseFilesOf } from "../src/store/databaseFiles.js";
import { pidFileOf } from "../src/store/databaseLock.js";

export interface RunningServer {
  variant: ServerVariant;
  /** The first (for a cluster: node 1's) process. */
  pid: number;
  port: number;
  /** Base URL as the server printed it, e.g. ws://127.0.0.1:PORT/ws (for a cluster: node 1's). */
  url: string;
  /** Every process whose CPU and memory count as the server's: one, or the nodes and redis-server. */
  pids: number[];
  /** What each of `pids` is ("server", "node 1", "redis-server"). */
  roles: string[];
  /** The URLs clients connect to, spread round-robin: one, or one per node. */
  urls: string[];
  /** The cluster's Redis port, when there is one. */
  redisPort?: number;
  /** Redis key prefix of the cluster. */
  redisPrefix?: string;
  /** The last lines the server printed, for error reports (a cluster: every process's, labelled). */
  tail(): string[];
  /** Log lines at level warn or above (pino's JSON `"level":40` and up) since start: how many, and the first few. */
  logProblems(): { count: number; samples: string[] };
  stop(): Promise<void>;
}

export interface SpawnOptions {
  cwd: string;
  /** Open files the process needs; raised through `ulimit -n` when above the inherited soft limit. */
  fds: number;
  /** Extra node flags placed before the variant's own (e.g. --cpu-prof). */
  nodeFlags?: string[];
  timeoutMs?: number;
}

/**
 * `node ARGS`, or `sh -c 'ulimit -n N; exec node ARGS'` when more descriptors are
 * needed: `exec` keeps the PID, so /proc readings still see the node process.
 */
export function nodeCommand(args: string[], fds: number): { file: string; args: string[] } {
  const { soft, hard } = fdLimits();
  if (fds <= soft) return { file: process.execPath, args };
  const want = Math.min(fds, hard);
  return { file: "/bin/sh", args: ["-c", `ulimit -n ${want} && exec "$0" "$@"`, process.execPath, ...args] };
}

/** Every child this process started and has not yet seen exit, for cleanup if the run is interrupted. */
const live = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** Files and folders to remove if the run is interrupted (a cluster's Redis folder, a node's database). */
const leftovers = new Set<string>();

/** Last resort on interruption or deadline: kills what we started, by pid, nothing else, and removes its temp files. */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
  for (const path of leftovers) rmSync(path, { recursive: true, force: true });
  leftovers.clear();
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await waitExit(child, graceMs))) {
    child.kill("SIGKILL");
    await waitExit(child, 2000);
  }
}

export async function startServer(variant: ServerVariant, opts: SpawnOptions): Promise<RunningServer> {
  return variant.cluster ? startCluster(variant, opts) : startProcess(variant, opts, {});
}

async function startProcess(variant: ServerVariant, opts: SpawnOptions, extraEnv: Record<string, string>, role = "server"): Promise<RunningServer> {
  // A fresh file per spawn keeps an on-disk variant from reading the previous workload's data.
  const files: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries({ ...variant.env, ...extraEnv })) {
    const value = v.replace("{spawn}", randomUUID());
    if (value !== v) files.push(...databaseFilesOf(value), pidFileOf(value));
    env[k] = value;
  }
  for (const f of files) leftovers.add(f);
  const cmd = nodeCommand([...(opts.nodeFlags ?? []), ...variant.args], opts.fds);
  const child = track(spawn(cmd.file, cmd.args, { cwd: variant.cwd ?? opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] }));
  const lines: string[] = [];
  const problems = { count: 0, samples: [] as string[] };
  // One reader per stream, so that a line split across chunks is joined with its own start.
  const reader = (): ((chunk: Buffer) => void) => {
    let partial = "";
    return (chunk: Buffer): void => {
      const text = partial + chunk.toString("utf8");
      const all = text.split("\n");
      partial = all.pop() ?? "";
      for (const line of all) {
        if (line.trim() === "") continue;
        lines.push(line);
        if (/"level":\s*(4|5|6)0\b/.test(line)) {
          problems.count++;
          if (problems.samples.length < 5) problems.samples.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
        }
      }
      if (lines.length > 50) lines.splice(0, lines.length - 50);
    };
  };
  const remember = reader();
  child.stderr?.on("data", reader());

  const removeFiles = (): void => {
    for (const f of files) {
      rmSync(f, { force: true });
      leftovers.delete(f);
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      removeFiles();
      reject(new Error(`${variant.name}: ${why}\n${lines.join("\n")}`));
    };
    const timer = setTimeout(() => fail("no listening line within the timeout"), opts.timeoutMs ?? 20_000);
    child.once("exit", (code, signal) => fail(`exited before listening (code ${code}, signal ${signal})`));
    child.once("error", (err) => fail(`could not start: ${err.message}`));
    child.stdout?.on("data", (chunk: Buffer) => {
      remember(chunk);
      buffered += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.includes('"url"')) continue;
        try {
          const parsed: unknown = JSON.parse(line);
          const u = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>).url : undefined;
          if (typeof u === "string") {
            clearTimeout(timer);
            child.removeAllListeners("exit");
            resolve(u);
            return;
          }
        } catch {
          // Not JSON after all: keep waiting for the real line.
        }
      }
    });
  });
  const port = Number(new URL(url).port);
  const pid = child.pid;
  if (pid === undefined || !Number.isInteger(port) || port <= 0) throw new Error(`${variant.name}: bad listening line ${url}`);

  return {
    variant,
    pid,
    port,
    url,
    pids: [pid],
    roles: [role],
    urls: [url],
    tail: () => [...lines],
    logProblems: () => ({ count: problems.count, samples: [...problems.samples] }),
    async stop() {
      await stopChild(child, 8000);
      removeFiles();
    },
  };
}

/** A port nobody listens on right now (the kernel's pick, released again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

export interface RunningRedis {
  pid: number;
  port: number;
  dir: string;
  tail(): string[];
  stop(): Promise<void>;
}

/**
 * A redis-server of the bench's own: loopback, a free port, a fresh temp folder,
 * the append-only file fsynced on every write (`--appendfsync always`), no RDB
 * snapshots. Stopped and its folder removed by stop(), or by killAll() on interruption.
 */
export async function startRedis(bin: string, appendfsync: "always" | "everysec" | "no" = "always", timeoutMs = 15_000): Promise<RunningRedis> {
  const dir = mkdtempSync(join(tmpdir(), "chat-bench-redis-"));
  leftovers.add(dir);
  const cleanup = (): void => {
    rmSync(dir, { recursive: true, force: true });
    leftovers.delete(dir);
  };
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "", "--daemonize", "no"];
    const started = track(spawn(bin, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }));
    child = started;
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        started.kill("SIGKILL");
        reject(new Error(`redis-server: ${why}\n${lines.join("\n")}`));
      };
      const timer = setTimeout(() => fail("not ready within the timeout"), timeoutMs);
      started.once("exit", (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
      started.once("error", (err) => fail(`could not start: ${err.message}`));
      const read = (chunk: Buffer): void => {
        for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(line);
        if (lines.length > 50) lines.splice(0, lines.length - 50);
        if (lines.some((l) => l.includes("Ready to accept connections"))) {
          clearTimeout(timer);
          started.removeAllListeners("exit");
          resolve();
        }
      };
      started.stdout?.on("data", read);
      started.stderr?.on("data", read);
    });
    const pid = started.pid!;
    return {
      pid,
      port,
      dir,
      tail: () => [...lines],
      async stop() {
        await stopChild(started, 8000);
        cleanup();
      },
    };
  } catch (err) {
    if (child) await stopChild(child, 2000);
    cleanup();
    throw err;
  }
}

/** GET http://host:port/readyz until it answers 200 (a cluster node has caught up with the log). */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const u = new URL(url);
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    const status = await new Promise<string>((resolve) => {
      const req = request({ host: u.hostname, port: u.port, path: "/readyz", method: "GET", timeout: 2000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve(`${res.statusCode} ${body.trim()}`));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (err) => resolve(`error ${err.message}`));
      req.end();
    });
    if (status.startsWith("200")) return;
    last = status;
    await sleep(50);
  }
  throw new Error(`${url}: /readyz did not answer 200 within ${timeoutMs} ms (last: ${last})`);
}

export const CLUSTER_PREFIX = "chat:";

/** One redis-server, then the nodes (in parallel), each ready before the cluster is returned. */
async function startCluster(variant: ServerVariant, opts: SpawnOptions): Promise<RunningServer> {
  const spec = variant.cluster!;
  const redis = await startRedis(spec.redisServer, spec.appendfsync);
  const nodes: RunningServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.stop();
  };
  try {
    const env = { CHAT_REDIS_URL: `redis://127.0.0.1:${redis.port}`, CHAT_REDIS_PREFIX: CLUSTER_PREFIX };
    const started = await Promise.allSettled(
      Array.from({ length: spec.nodes }, (_, i) => startProcess({ ...variant, name: `${variant.name} node ${i + 1}` }, opts, env, `node ${i + 1}`)),
    );
    for (const s of started) if (s.status === "fulfilled") nodes.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    await Promise.all(nodes.map((n) => waitReady(n.url)));
  } catch (err) {
    const tails = [...nodes.flatMap((n) => n.tail()), ...redis.tail().map((l) => `redis: ${l}`)].slice(-40).join("\n");
    await stopAll();
    throw new Error(`${(err as Error).message}${tails ? `\n${tails}` : ""}`);
  }
  return {
    variant,
    pid: nodes[0]!.pid,
    port: nodes[0]!.port,
    url: nodes[0]!.url,
    pids: [...nodes.map((n) => n.pid), redis.pid],
    roles: [...nodes.map((n) => n.roles[0]!), "redis-server"],
    urls: nodes.map((n) => n.url),
    redisPort: redis.port,
    redisPrefix: CLUSTER_PREFIX,
    tail: () => [...nodes.flatMap((n) => n.tail().map((l) => `${n.roles[0]}: ${l}`)), ...redis.tail().map((l) => `redis-server: ${l}`)],
    logProblems: () => {
      const all = nodes.map((n) => ({ role: n.roles[0]!, p: n.logProblems() }));
      return { count: all.reduce((a, x) => a + x.p.count, 0), samples: all.flatMap((x) => x.p.samples.map((l) => `${x.role}: ${l}`)).slice(0, 5) };
    },
    stop: stopAll,
  };
}
