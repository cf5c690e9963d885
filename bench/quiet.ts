/**
 * On a shared machine another job (a test suite, a compiler) skews latency and
 * throughput; waiting for it to finish is cheaper than re-running the bench.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { machineBusySeconds } from "./proc.js";

/** Below this share of one core used by others, the machine counts as quiet. */
export const QUIET_CORES = 0.25;

/**
 * Waits, at most `maxS` seconds, until the machine is quiet; call it while none
 * of the bench's own processes run. Returns a note when it never got quiet.
 */
export async function waitQuiet(what: string, maxS: number, log: (msg: string) => void): Promise<string | null> {
  if (maxS <= 0) return null;
  const until = Date.now() + maxS * 1000;
  let waited = false;
  for (;;) {
    const before = machineBusySeconds();
    await sleep(1000);
    const busy = machineBusySeconds() - before;
    if (busy < QUIET_CORES) return null;
    if (!waited) log(`${what}: other processes are using ${(busy * 100).toFixed(0)}% of a core; waiting up to ${maxS} s for quiet`);
    waited = true;
    if (Date.now() > until) return `${what}: started on a busy machine (${(busy * 100).toFixed(0)}% of a core used by other processes)`;
  }
}

/** Waits for the others' share to drop while our own processes keep running (`ownBusy` gives their CPU seconds). */
export async function waitQuietBesides(ownBusy: () => number, maxS: number): Promise<boolean> {
  const until = Date.now() + maxS * 1000;
  while (Date.now() < until) {
    const m0 = machineBusySeconds();
    const o0 = ownBusy();
    await sleep(1000);
    if (machineBusySeconds() - m0 - (ownBusy() - o0) < QUIET_CORES) return true;
  }
  return false;
}
