/**
 * Readings of other processes from /proc: CPU time and memory of the servers and
 * load generators, and the machine facts the results are stamped with. Linux only,
 * as the bench is; every reader returns NaN/undefined instead of throwing so a
 * process that just exited cannot abort a run.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, release } from "node:os";

function clockTicks(): number {
  try {
    const n = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
const TICKS = clockTicks();

function statCpu(path: string): number {
  try {
    const stat = readFileSync(path, "utf8");
    // The command name may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** User + system CPU seconds of a process, all threads (GC, libuv pool) included. */
export function cpuSeconds(pid: number): number {
  return statCpu(`/proc/${pid}/stat`);
}

/**
 * CPU seconds of a process's main thread (its tid is its pid). A Node process is
 * saturated when this thread is busy all the time, whatever its other threads do.
 */
export function mainThreadCpuSeconds(pid: number): number {
  return statCpu(`/proc/${pid}/task/${pid}/stat`);
}

/** CPU seconds of each thread of a process, by thread id (the main thread's is the pid). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [tid, statCpu(`/proc/${pid}/task/${tid}/stat`)] as const));
}

/** CPU seconds the whole machine has spent busy (all cores; steal included), from /proc/stat. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes, from /proc/PID/status (VmRSS). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Soft and hard RLIMIT_NOFILE of this process, which children inherit. */
export function fdLimits(): { soft: number; hard: number } {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    const n = (s: string | undefined): number => (s === undefined || s === "unlimited" ? Number.POSITIVE_INFINITY : Number(s));
    return m ? { soft: n(m[1]), hard: n(m[2]) } : { soft: 1024, hard: 1024 };
  } catch {
    return { soft: 1024, hard: 1024 };
  }
}

/** How many ephemeral ports one client address can use towards one server port. */
export function ephemeralPorts(): number {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    return lo !== undefined && hi !== undefined ? hi - lo + 1 : 28_000;
  } catch {
    return 28_000;
  }
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  kernel: string;
  fdLimit: { soft: number; hard: number };
  clockTicks: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    node: process.version,
    kernel: release(),
    fdLimit: fdLimits(),
    clockTicks: TICKS,
  };
}

export interface CpuReading {
  wall: number;
  /** Per process: CPU seconds of all threads, and of the main thread, since start(). */
  total: number[];
  main: number[];
  /** Busy CPU seconds of the whole machine, ours and everyone else's. */
  machine: number;
}

/** CPU seconds of several processes at one moment, for deltas over a window. */
export class CpuMeter {
  readonly #pids: number[];
  #total: number[] = [];
  #main: number[] = [];
  #machine = 0;
  #t0 = 0;

  constructor(pids: number[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#t0 = performance.now();
    this.#total = this.#pids.map(cpuSeconds);
    this.#main = this.#pids.map(mainThreadCpuSeconds);
    this.#machine = machineBusySeconds();
  }

  read(): CpuReading {
    const wall = (performance.now() - this.#t0) / 1000;
    return {
      wall,
      total: this.#pids.map((pid, i) => cpuSeconds(pid) - (this.#total[i] ?? Number.NaN)),
      main: this.#pids.map((pid, i) => mainThreadCpuSeconds(pid) - (this.#main[i] ?? Number.NaN)),
      machine: machineBusySeconds() - this.#machine,
    };
  }
}
