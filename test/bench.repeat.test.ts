/** `npm run bench -- --repeat N`: the median run stands for a server, and the table shows the spread. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SERVER_VARIANTS } from "../bench/config.js";
import { table } from "../bench/report.js";
import { medianRun, type FixedLoadResult } from "../bench/workloads/load.js";

const saved = JSON.parse(readFileSync(new URL("../bench/results/2026-11-26T01-35-00-968Z.json", import.meta.url), "utf8")) as {
  results: { rooms: Record<string, { ok: true; result: FixedLoadResult }> };
};
const run = (perCpuS: number): FixedLoadResult => ({ ...saved.results.rooms.ours!.result, deliveriesPerServerCpuSec: perCpuS });
const ours = SERVER_VARIANTS.filter((v) => v.name === "ours");

describe("--repeat", () => {
  it("reports the run with the median deliveries per server CPU-second, keeping every run's figure in order", () => {
    const runs = [run(90_000), run(60_000), run(75_000)];
    const median = medianRun(runs);
    expect(median.deliveriesPerServerCpuSec).toBe(75_000);
    expect(median.repeats).toEqual([90_000, 60_000, 75_000]);
    // Of an even count, the lower middle: a slow host must not flatter the figure.
    expect(medianRun([run(2), run(4), run(1), run(3)]).deliveriesPerServerCpuSec).toBe(2);
    expect(medianRun([run(5)]).repeats).toBeUndefined();
  });

  it("shows the spread over the runs in the table, and no such row for a single run", () => {
    const repeated = table("rooms", "rooms", { ours: { ok: true, result: medianRun([run(90_000), run(60_000), run(75_000)]) } }, ours);
    expect(repeated).toMatch(/per CPU-s over runs \(min–max\)\s+60,000–90,000 \(3\)/);
    const single = table("rooms", "rooms", { ours: { ok: true, result: run(75_000) } }, ours);
    expect(single).not.toMatch(/over runs/);
  });
});
