/** The fixed-rate workloads: rooms (every client sends to its room) and lobby fan-out (one sender, everyone receives). */
import type { BenchOptions, ServerVariant } from "../config.js";
import { measureLoad, type LoadResult } from "./measure.js";
import { openSession } from "./session.js";

export interface FixedLoadResult extends LoadResult {
  connected: number;
  connectFailures: number;
}

export async function roomsWorkload(variant: ServerVariant, opts: BenchOptions, cwd: string, nodeFlags: string[] = []): Promise<FixedLoadResult> {
  const session = await openSession(variant, opts, { mode: "rooms", clients: opts.clients, nodeFlags }, cwd);
  try {
    const rates = session.clients.map((n) => n * opts.rate);
    const result = await measureLoad(session, rates, opts.warmup, opts.duration);
    return { ...result, connected: sumReady(session.ready), connectFailures: failures(session.ready) };
  } finally {
    await session.close();
  }
}

export async function lobbyWorkload(variant: ServerVariant, opts: BenchOptions, cwd: string): Promise<FixedLoadResult> {
  const session = await openSession(variant, opts, { mode: "lobby", clients: opts.lobbyClients }, cwd);
  try {
    // Only process 0 hosts the sender; the others just receive.
    const rates = session.clients.map((_, i) => (i === 0 ? opts.lobbyRate : 0));
    const result = await measureLoad(session, rates, opts.warmup, opts.duration);
    return { ...result, connected: sumReady(session.ready), connectFailures: failures(session.ready) };
  } finally {
    await session.close();
  }
}

function sumReady(ready: Array<{ connected: number }>): number {
  return ready.reduce((a, r) => a + r.connected, 0);
}

function failures(ready: Array<{ failed: number }>): number {
  return ready.reduce((a, r) => a + r.failed, 0);
}
