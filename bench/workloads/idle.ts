/**
 * Idle connections: server memory per connection (RSS delta / connections) and the
 * cost of accepting them. A short warm-up round of connections first, so that
 * code loading and JIT are in the baseline and not charged to the connections.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchOptions, ServerVariant } from "../config.js";
import { LoadgenPool } from "../loadgenPool.js";
import { cpuSeconds, ephemeralPorts, fdLimits, rssBytes } from "../proc.js";
import { startServer } from "../servers.js";
import { split } from "./session.js";

export interface IdleResult {
  requested: number;
  connected: number;
  failed: number;
  connectSeconds: number;
  connectsPerSec: number;
  serverCpuUsPerConnect: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  bytesPerConnection: number;
  errors: string[];
}

const MARGIN = 256;

/** The idle connection count this machine allows, and why it is lower than asked, if it is. */
export function idleCapacity(wanted: number): { clients: number; note: string | null } {
  const { hard } = fdLimits();
  const byFds = hard - MARGIN;
  const byPorts = ephemeralPorts() - 1000;
  const clients = Math.max(10, Math.min(wanted, byFds, byPorts));
  if (clients === wanted) return { clients, note: null };
  const reason = byFds < byPorts ? `hard open-files limit ${hard}` : `ephemeral port range (${ephemeralPorts()} ports)`;
  return { clients, note: `idle connections scaled down from ${wanted} to ${clients} by the ${reason}` };
}

async function connectIdle(urls: string[], kind: ServerVariant["kind"], clients: number, procs: number, cwd: string): Promise<{ pool: LoadgenPool; connected: number; failed: number; seconds: number; errors: string[] }> {
  const shares = split(clients, Math.max(1, Math.min(procs, clients)));
  const pool = LoadgenPool.spawn(shares.length, cwd, Math.max(...shares) + MARGIN);
  const ready = await pool.setup(
    shares.map((n) => ({ type: "setup", kind, urls, mode: "idle", clients: n, rooms: [], roomSize: 1, lobbySender: false, lobbyAudience: clients, msgBytes: 100, concurrency: Math.max(16, Math.floor(256 / shares.length)) })),
    300_000,
  );
  return {
    pool,
    connected: ready.reduce((a, r) => a + r.connected, 0),
    failed: ready.reduce((a, r) => a + r.failed, 0),
    seconds: Math.max(...ready.map((r) => r.connectSeconds)),
    errors: ready.flatMap((r) => r.errors),
  };
}

export async function idleWorkload(variant: ServerVariant, opts: BenchOptions, cwd: string, clients: number): Promise<IdleResult> {
  const server = await startServer(variant, { cwd, fds: clients + MARGIN });
  try {
    const warm = await connectIdle(server.urls, variant.kind, Math.min(200, clients), 1, cwd);
    await warm.pool.close();
    await sleep(1500);
    // A cluster's figures are the sums over its nodes and redis-server.
    const rss = (): number => server.pids.reduce((a, pid) => a + rssBytes(pid), 0);
    const cpu = (): number => server.pids.reduce((a, pid) => a + cpuSeconds(pid), 0);
    const rssBefore = rss();
    const cpuBefore = cpu();
    const run = await connectIdle(server.urls, variant.kind, clients, opts.loadgenProcs, cwd);
    try {
      const cpuUsed = cpu() - cpuBefore;
      // Let the server finish any per-connection work and the allocator settle.
      await sleep(3000);
      const rssAfter = rss();
      return {
        requested: clients,
        connected: run.connected,
        failed: run.failed,
        connectSeconds: run.seconds,
        connectsPerSec: run.connected / run.seconds,
        serverCpuUsPerConnect: (cpuUsed * 1e6) / Math.max(1, run.connected),
        rssBeforeMB: Math.round(rssBefore / 2 ** 20),
        rssAfterMB: Math.round(rssAfter / 2 ** 20),
        bytesPerConnection: Math.round((rssAfter - rssBefore) / Math.max(1, run.connected)),
        errors: run.errors,
      };
    } finally {
      await run.pool.close();
    }
  } finally {
    await server.stop();
  }
}
