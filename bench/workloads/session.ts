/**
 * One server process plus its load generators, set up for one workload and torn
 * down afterwards: each workload gets a fresh server, so memory and history left
 * by the previous one cannot skew it.
 */
import type { BenchOptions, ServerVariant } from "../config.js";
import type { LoadMode, ReadyReply, SetupRequest } from "../ipc.js";
import { LoadgenPool } from "../loadgenPool.js";
import { startServer, type RunningServer } from "../servers.js";

export interface Session {
  server: RunningServer;
  pool: LoadgenPool;
  /** Clients each loadgen process opened (index = process). */
  clients: number[];
  ready: ReadyReply[];
  close(): Promise<void>;
}

export interface SessionPlan {
  mode: LoadMode;
  clients: number;
  /** Extra node flags for the server (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

const FD_MARGIN = 256;

/** Splits `n` items into `parts` contiguous shares, the first ones larger by at most one. */
export function split(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

export async function openSession(variant: ServerVariant, opts: BenchOptions, plan: SessionPlan, cwd: string): Promise<Session> {
  const fds = plan.clients + FD_MARGIN;
  const server = await startServer(variant, { cwd, fds, nodeFlags: plan.nodeFlags ?? [] });
  const procs = Math.max(1, Math.min(opts.loadgenProcs, plan.mode === "rooms" ? plan.clients / opts.roomSize : plan.clients));
  const pool = LoadgenPool.spawn(procs, cwd, fds);
  try {
    // Whole rooms per process, so a room's traffic never crosses processes.
    const shares = plan.mode === "rooms" ? split(plan.clients / opts.roomSize, procs).map((r) => r * opts.roomSize) : split(plan.clients, procs);
    let firstRoom = 0;
    const requests: SetupRequest[] = shares.map((clients, i) => {
      const rooms = plan.mode === "rooms" ? Array.from({ length: clients / opts.roomSize }, (_, k) => `bench-room-${firstRoom + k}`) : [];
      firstRoom += rooms.length;
      return {
        type: "setup",
        kind: variant.kind,
        urls: server.urls,
        mode: plan.mode,
        clients,
        rooms,
        roomSize: opts.roomSize,
        lobbySender: i === 0,
        lobbyAudience: plan.clients,
        msgBytes: opts.msgBytes,
        concurrency: Math.max(16, Math.floor(256 / procs)),
      };
    });
    const ready = await pool.setup(requests, 180_000);
    return {
      server,
      pool,
      clients: shares,
      ready,
      async close() {
        // Clients first: a server shutting down with 10,000 open sockets waits on each.
        await pool.close();
        await server.stop();
      },
    };
  } catch (err) {
    await pool.close();
    await server.stop();
    throw err;
  }
}
