/**
 * Saturation: the rooms workload with the send rate raised step by step on one
 * connected set of clients, until p99 passes the limit, deliveries fall behind,
 * messages are lost, or the load generator becomes the bottleneck. The answer is
 * the highest step that passed, and which side stopped the climb.
 */
import type { BenchOptions, ServerVariant } from "../config.js";
import { cpuSeconds } from "../proc.js";
import { waitQuietBesides } from "../quiet.js";
import { measureLoad, type LoadResult } from "./measure.js";
import { openSession } from "./session.js";

export interface SaturationStep {
  offeredMsgsPerSec: number;
  passed: boolean;
  /** This attempt failed on a noisy machine and the step was run again. */
  retried: boolean;
  /** Why the step failed, or why the climb stopped after it. */
  why: string;
  result: LoadResult;
}

export interface SaturationResult {
  steps: SaturationStep[];
  /** Highest deliveries/s of a passing step (the load generator not saturated). */
  bestDeliveriesPerSec: number | null;
  bestP99Ms: number | null;
  /** What ended the climb; "not reached" when every step passed. */
  limitedBy: "server" | "loadgen" | "both" | "latency" | "noise" | "not reached";
}

function judge(r: LoadResult, p99Limit: number): string {
  const problems: string[] = [];
  if (r.latency.p99 > p99Limit) problems.push(`p99 ${r.latency.p99} ms > ${p99Limit} ms`);
  if (!r.keptUp) problems.push(`deliveries ${Math.round(r.deliveriesPerSec)}/s < 95% of ${Math.round(r.expectedPerSec)}/s`);
  if (r.lost > 0.001 * r.expected) problems.push(`${r.lost} lost`);
  const errors = Object.entries(r.errors);
  if (errors.length > 0) problems.push(`errors ${errors.map(([k, v]) => `${k}×${v}`).join(" ")}`);
  return problems.join("; ");
}

export async function saturationWorkload(variant: ServerVariant, opts: BenchOptions, cwd: string, log: (msg: string) => void): Promise<SaturationResult> {
  const session = await openSession(variant, opts, { mode: "rooms", clients: opts.clients }, cwd);
  const steps: SaturationStep[] = [];
  let limitedBy: SaturationResult["limitedBy"] = "not reached";
  const ownCpu = (): number => [...session.server.pids, ...session.pool.pids].reduce((a, pid) => a + cpuSeconds(pid), 0);
  try {
    // The same messages/s for every server; deliveries differ by whether the sender gets its own copy.
    let perClient = opts.satStart / (opts.clients * opts.roomSize);
    for (let i = 0; i < opts.satSteps; i++) {
      const rates = session.clients.map((n) => n * perClient);
      let result = await measureLoad(session, rates, opts.satWarmup, opts.satDuration, 2000);
      let failure = judge(result, opts.satP99Ms);
      if (failure !== "" && result.noisy) {
        // Another job took the CPUs: judge the server on a quiet retry, not on the noise.
        steps.push({ offeredMsgsPerSec: result.offeredMsgsPerSec, passed: false, retried: true, why: failure, result });
        log(`${variant.name}: step ${i + 1} failed on a busy machine (${failure}); retrying when quiet`);
        await waitQuietBesides(ownCpu, opts.quietWait);
        result = await measureLoad(session, rates, opts.satWarmup, opts.satDuration, 2000);
        failure = judge(result, opts.satP99Ms);
      }
      const loadgenBound = result.bound === "loadgen" || result.bound === "both";
      const passed = failure === "" && !loadgenBound;
      const why = failure !== "" ? failure : loadgenBound ? "load generator saturated" : "";
      steps.push({ offeredMsgsPerSec: result.offeredMsgsPerSec, passed, retried: false, why, result });
      if (!passed) {
        limitedBy = result.bound !== "none" ? result.bound : result.noisy ? "noise" : "latency";
        break;
      }
      perClient *= opts.satFactor;
    }
  } finally {
    await session.close();
  }
  const best = steps.filter((s) => s.passed).at(-1);
  return {
    steps,
    bestDeliveriesPerSec: best ? best.result.deliveriesPerSec : null,
    bestP99Ms: best ? best.result.latency.p99 : null,
    limitedBy,
  };
}
