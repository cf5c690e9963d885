/**
 * Starts and stops the servers under test as separate processes on loopback. Every
 * server (ours and the baselines) logs a JSON line with `"url"` once it listens;
 * that line gives the port. Output is drained for the process's whole life: a full
 * stdout pipe would block the server mid-benchmark.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import type { ServerVariant } from "./config.js";
import { fdLimits } from "./proc.js";

export interface RunningServer {
  variant: ServerVariant;
  pid: number;
  port: number;
  /** Base URL as the server printed it, e.g. ws://127.0.0.1:PORT/ws. */
  url: string;
  /** The last lines the server printed, for error reports. */
  tail(): string[];
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

/** Last resort on interruption or deadline: kills what we started, by pid, nothing else. */
export function killAll(): void {
  for (const child of live) child.kill("SIGKILL");
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
  // A fresh file per spawn keeps an on-disk variant from reading the previous workload's data.
  const files: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(variant.env)) {
    const value = v.replace("{spawn}", randomUUID());
    if (value !== v) files.push(value, `${value}-wal`, `${value}-shm`);
    env[k] = value;
  }
  const cmd = nodeCommand([...(opts.nodeFlags ?? []), ...variant.args], opts.fds);
  const child = track(spawn(cmd.file, cmd.args, { cwd: variant.cwd ?? opts.cwd, env, stdio: ["ignore", "pipe", "pipe"] }));
  const lines: string[] = [];
  const remember = (chunk: Buffer): void => {
    for (const line of chunk.toString("utf8").split("\n")) if (line.trim() !== "") lines.push(line);
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stderr?.on("data", remember);

  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
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
    tail: () => [...lines],
    async stop() {
      await stopChild(child, 8000);
      for (const f of files) rmSync(f, { force: true });
    },
  };
}
